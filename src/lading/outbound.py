"""Whether the server may connect to a URL a user gave it (S3 endpoints, push endpoints, webhooks).

A URL's host is resolved and every address it resolves to is checked: one address in a denied
network (and in no allowed one) refuses the URL, so a name with a public and a link-local
address is refused too. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
A host that does not resolve is let through: there is nothing to connect to, and the
connection fails by itself. Callers check when a URL is stored and again right before they
connect, since what a name resolves to can change in between.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

from lading import errors
from lading.settings import PRIVATE_NETWORKS, OutboundSettings

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (an address resolves to itself); [] if none."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class OutboundPolicy:
    """Denied and allowed networks, and the resolver the checks use."""

    deny: Sequence[Network]
    allow: Sequence[Network] = ()
    resolver: Callable[[str], list[str]] = field(default=resolve, compare=False)

    @classmethod
    def from_settings(cls, settings: OutboundSettings) -> OutboundPolicy:
        deny = list(settings.deny_networks)
        if settings.deny_private:
            deny.extend(ip_network(n) for n in PRIVATE_NETWORKS)
        return cls(tuple(deny), tuple(settings.allow_networks))

    def denied_by(self, address: Address) -> Network | None:
        """The denied network that holds `address`, or None when it may be contacted."""
        judged = address
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            judged = address.ipv4_mapped
        if _holds(self.allow, judged):
            return None
        for network in self.deny:
            if network.version == judged.version and judged in network:
                return network
        return None

    def check_host(self, host: str) -> None:
        """DestinationNotAllowed when `host` resolves to any denied address."""
        if not host:
            raise errors.DestinationNotAllowed("")
        for text in self.resolver(host):
            address = ip_address(text.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0)
            network = self.denied_by(address)
            if network is not None:
                raise errors.DestinationNotAllowed(host, str(address), str(network))

    def check_url(self, url: str) -> None:
        """DestinationNotAllowed when the URL's host resolves to any denied address."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:  # a malformed authority (an unclosed IPv6 bracket)
            host = ""
        self.check_host(host)


def _holds(networks: Iterable[Network], address: Address) -> bool:
    return any(n.version == address.version and address in n for n in networks)
