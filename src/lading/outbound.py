"""Whether the server may connect to a URL a user gave it (S3 endpoints, push endpoints, webhooks).

A URL's host is resolved and every address it resolves to is checked: one address in a denied
network (and in no allowed one) refuses the URL, so a name with a public and a link-local
address is refused too. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
A host that does not resolve is let through: there is nothing to connect to, and the
connection fails by itself. Callers check when a URL is stored and again right before they
connect, since what a name resolves to can change in between.

A check alone leaves a gap: a client that resolves the name again when it connects can get
another answer (DNS rebinding: a public address for the check, then 169.254.169.254 or
127.0.0.1). The two HTTP(S) deliveries close it by connecting only to an address their own
check returned (`checked_addresses`, `connect`), never to a fresh resolution; the request
keeps the name in its Host header and, for https, in TLS SNI and certificate verification.
Pinned: transfer task webhooks, their redirects included (services/transfer_notices.py),
and HTTP(S) topic push endpoints (delivery.py); neither goes through a proxy, since a proxy
would resolve the name itself. Only checked right before connecting, with the client
resolving the name again: AMQP push endpoints (aio-pika) and S3 transfer endpoints
(botocore). Kafka push endpoints are refused when a topic is given one (not supported).
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

    def checked_addresses(self, host: str) -> list[str]:
        """The addresses `host` resolves to, each checked: the ones to connect to.

        One resolution: a caller that connects to these (and not to the name) reaches an
        address that was checked, whatever the name resolves to later. DestinationNotAllowed
        when any is denied; [] when the host does not resolve.
        """
        if not host:
            raise errors.DestinationNotAllowed("")
        found = self.resolver(host)
        for text in found:
            address = ip_address(text.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0)
            network = self.denied_by(address)
            if network is not None:
                raise errors.DestinationNotAllowed(host, str(address), str(network))
        return found

    def check_host(self, host: str) -> None:
        """DestinationNotAllowed when `host` resolves to any denied address."""
        self.checked_addresses(host)

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        """A TCP socket connected to a checked address of `host` (the first that answers).

        DestinationNotAllowed when any address is denied; OSError when none connects or the
        host does not resolve.
        """
        addresses = self.checked_addresses(host)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} does not resolve")
        for address in addresses[:-1]:
            try:
                return socket.create_connection((address, port), timeout, source_address)
            except OSError:
                continue  # the next address, as socket.create_connection does for a name
        return socket.create_connection((addresses[-1], port), timeout, source_address)

    def check_url(self, url: str) -> None:
        """DestinationNotAllowed when the URL's host resolves to any denied address."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:  # a malformed authority (an unclosed IPv6 bracket)
            host = ""
        self.check_host(host)


def _holds(networks: Iterable[Network], address: Address) -> bool:
    return any(n.version == address.version and address in n for n in networks)
