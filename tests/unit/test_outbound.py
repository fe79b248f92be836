"""The outbound policy: which addresses a user's URL may lead the server to."""

from __future__ import annotations

import socket
from ipaddress import ip_address, ip_network

import pytest

from lading import errors
from lading.outbound import OutboundPolicy, resolve
from lading.settings import OutboundSettings


def policy(**settings: object) -> OutboundPolicy:
    return OutboundPolicy.from_settings(OutboundSettings.model_validate(settings))


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("169.254.169.254", "169.254.0.0/16"),  # the cloud metadata service
        ("0.0.0.0", "0.0.0.0/8"),
        ("224.0.0.251", "224.0.0.0/4"),
        ("fe80::1", "fe80::/10"),
        ("::", "::/128"),
        ("ff02::1", "ff00::/8"),
        ("::ffff:169.254.169.254", "169.254.0.0/16"),  # IPv4-mapped: judged as IPv4
    ],
)
def test_the_default_policy_denies_link_local_unspecified_and_multicast(
    address: str, network: str
) -> None:
    assert policy().denied_by(ip_address(address)) == ip_network(network)
    with pytest.raises(errors.DestinationNotAllowed) as caught:
        policy().check_url(f"http://{address}/" if ":" not in address else f"http://[{address}]/")
    assert network in caught.value.message


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "fd00::1", "93.184.216.34"],
)
def test_loopback_and_private_networks_are_allowed_by_default(address: str) -> None:
    assert policy().denied_by(ip_address(address)) is None


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("127.0.0.1", "127.0.0.0/8"),
        ("::1", "::1/128"),
        ("10.1.2.3", "10.0.0.0/8"),
        ("172.31.255.255", "172.16.0.0/12"),
        ("192.168.1.1", "192.168.0.0/16"),
        ("fd12::1", "fc00::/7"),
        ("::ffff:10.0.0.1", "10.0.0.0/8"),
    ],
)
def test_deny_private_denies_loopback_and_private_networks(address: str, network: str) -> None:
    assert policy(deny_private=True).denied_by(ip_address(address)) == ip_network(network)


def test_deny_private_leaves_public_addresses_alone() -> None:
    assert policy(deny_private=True).denied_by(ip_address("93.184.216.34")) is None
    assert policy(deny_private=True).denied_by(ip_address("2606:4700::1")) is None


def test_an_allowed_network_overrides_the_deny_list() -> None:
    allowing = policy(deny_private=True, allow_networks=["127.0.0.0/8", "fe80::1/128"])
    assert allowing.denied_by(ip_address("127.0.0.1")) is None
    assert allowing.denied_by(ip_address("fe80::1")) is None
    assert allowing.denied_by(ip_address("fe80::2")) == ip_network("fe80::/10")
    assert allowing.denied_by(ip_address("10.0.0.1")) == ip_network("10.0.0.0/8")


def test_the_deny_list_is_configurable() -> None:
    custom = policy(deny_networks=["203.0.113.0/24"])
    assert custom.denied_by(ip_address("203.0.113.9")) == ip_network("203.0.113.0/24")
    assert custom.denied_by(ip_address("169.254.169.254")) is None  # the defaults replaced


def test_localhost_is_resolved_before_it_is_judged() -> None:
    assert "127.0.0.1" in resolve("localhost")
    policy().check_url("http://localhost:9000/")
    with pytest.raises(errors.DestinationNotAllowed) as caught:
        policy(deny_private=True).check_url("http://localhost:9000/")
    assert caught.value.host == "localhost"
    assert caught.value.address in ("127.0.0.1", "::1")
    # an IPv4 address written another way is the same address
    with pytest.raises(errors.DestinationNotAllowed):
        policy(deny_private=True).check_url("http://127.1/")


def test_one_denied_address_among_several_refuses_the_host() -> None:
    addresses = {"mixed.example": ["93.184.216.34", "2606:4700::1", "169.254.169.254"]}
    several = OutboundPolicy(policy().deny, resolver=lambda host: addresses.get(host, []))
    with pytest.raises(errors.DestinationNotAllowed) as caught:
        several.check_url("https://mixed.example/bucket")
    assert (caught.value.address, caught.value.network) == ("169.254.169.254", "169.254.0.0/16")
    several.check_url("https://elsewhere.example/")  # resolves to nothing: nothing to refuse


def test_a_link_local_address_with_a_zone_is_denied() -> None:
    zoned = OutboundPolicy(policy().deny, resolver=lambda host: ["fe80::1%eth0"])
    with pytest.raises(errors.DestinationNotAllowed):
        zoned.check_host("router.local")


def test_checked_addresses_resolve_once_and_are_what_to_connect_to() -> None:
    asked: list[str] = []

    def resolver(host: str) -> list[str]:
        asked.append(host)
        return {"two.example": ["93.184.216.34", "2606:4700::1"]}.get(host, [])

    pinned = OutboundPolicy(policy().deny, resolver=resolver)
    assert pinned.checked_addresses("two.example") == ["93.184.216.34", "2606:4700::1"]
    assert asked == ["two.example"]
    assert pinned.checked_addresses("nowhere.example") == []  # nothing to connect to
    rebound = OutboundPolicy(policy().deny, resolver=lambda host: ["169.254.169.254"])
    with pytest.raises(errors.DestinationNotAllowed, match="169.254.0.0/16"):
        rebound.checked_addresses("two.example")


def test_connect_goes_to_a_checked_address_and_tries_the_next() -> None:
    with socket.create_server(("127.0.0.2", 0)) as listening:
        port = listening.getsockname()[1]
        # nothing listens on 127.0.0.3: refused, then the next address is tried
        answers = {"svc.example": ["127.0.0.3", "127.0.0.2"], "bad.example": ["169.254.1.1"]}
        pinned = OutboundPolicy(policy().deny, resolver=lambda host: answers.get(host, []))
        with pinned.connect("svc.example", port, 5) as connected:
            assert connected.getpeername() == ("127.0.0.2", port)
        with pytest.raises(errors.DestinationNotAllowed, match="169.254.0.0/16"):
            pinned.connect("bad.example", port, 5)
        with pytest.raises(OSError, match="does not resolve"):
            pinned.connect("nowhere.example", port, 5)


def test_a_url_without_a_host_is_refused() -> None:
    with pytest.raises(errors.DestinationNotAllowed, match="no host"):
        policy().check_url("http:///path")


def test_credentials_in_a_url_stay_out_of_the_message() -> None:
    with pytest.raises(errors.DestinationNotAllowed) as caught:
        policy().check_url("amqp://guest:s3cret@169.254.1.1:5672/vhost")
    assert "s3cret" not in caught.value.message and "169.254.1.1" in caught.value.message


def test_settings_take_networks_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from lading.settings import Settings

    monkeypatch.setenv("LADING_OUTBOUND__DENY_PRIVATE", "true")
    monkeypatch.setenv("LADING_OUTBOUND__ALLOW_NETWORKS", '["127.0.0.1/32"]')
    outbound = Settings().outbound
    assert outbound.deny_private is True
    assert outbound.allow_networks == [ip_network("127.0.0.1/32")]
    assert ip_network("169.254.0.0/16") in outbound.deny_networks
