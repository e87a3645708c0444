"""client_address(request): the peer's address, or the right-most untrusted
address of X-Forwarded-For when the peer is a configured proxy (TRUSTED_PROXIES)."""

from typing import Any

import pytest
from django.test import RequestFactory

from api.client_address import client_address

PROXY = "10.0.0.2"


def address(remote_addr: str, forwarded_for: str | None = None) -> str:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client_address(RequestFactory().get("/api/tasks", **extra))


@pytest.fixture
def trusted(settings: Any) -> Any:
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8:ffff::/48"]
    return settings


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []

    assert address(PROXY, "203.0.113.7") == PROXY


def test_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(trusted: Any) -> None:
    assert address("198.51.100.1", "203.0.113.7") == "198.51.100.1"


def test_from_a_trusted_proxy_the_address_it_received_the_request_from_is_the_client(trusted: Any) -> None:
    assert address(PROXY, "203.0.113.7") == "203.0.113.7"


def test_addresses_a_client_wrote_left_of_the_proxys_entry_are_ignored(trusted: Any) -> None:
    assert address(PROXY, "192.0.2.66, 198.51.100.9, 203.0.113.7") == "203.0.113.7"


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_address(trusted: Any) -> None:
    assert address(PROXY, "192.0.2.66, 203.0.113.7, 10.0.0.9, 10.0.0.3") == "203.0.113.7"


def test_a_client_cannot_pass_as_a_trusted_proxy_by_writing_its_address(trusted: Any) -> None:
    # The client wrote "10.0.0.9"; our proxy appended the address it really came from.
    assert address(PROXY, "10.0.0.9, 203.0.113.7") == "203.0.113.7"


def test_repeated_x_forwarded_for_headers_joined_by_the_server_read_as_one_list(trusted: Any) -> None:
    assert address(PROXY, "192.0.2.66,203.0.113.7") == "203.0.113.7"


def test_when_every_forwarded_address_is_a_trusted_proxy_the_left_most_is_the_client(trusted: Any) -> None:
    assert address(PROXY, "10.0.0.7, 10.0.0.3") == "10.0.0.7"


def test_a_trusted_proxy_without_x_forwarded_for_is_the_client(trusted: Any) -> None:
    assert address(PROXY) == PROXY
    assert address(PROXY, "") == PROXY


@pytest.mark.parametrize("garbage", ["unknown", "not-an-address", "_hidden", "999.1.1.1", "1.2.3.4\r\nX: y"])
def test_an_entry_that_is_not_an_address_stops_the_walk_at_the_proxy_that_passed_it(trusted: Any, garbage: str) -> None:
    assert address(PROXY, f"203.0.113.7, {garbage}, 10.0.0.3") == "10.0.0.3"
    assert address(PROXY, garbage) == PROXY


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:DB8:0:0::7", "2001:db8::7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("  203.0.113.7  ", "203.0.113.7"),
    ],
)
def test_forwarded_addresses_are_normalised(trusted: Any, entry: str, expected: str) -> None:
    assert address(PROXY, entry) == expected


def test_ipv6_proxies_and_clients(trusted: Any) -> None:
    assert address("2001:db8:ffff::1", "2001:db8:1::5") == "2001:db8:1::5"
    assert address("2001:db8:1::1", "203.0.113.7") == "2001:db8:1::1"


def test_an_ipv4_mapped_peer_address_is_matched_as_ipv4(trusted: Any) -> None:
    assert address("::ffff:10.0.0.2", "203.0.113.7") == "203.0.113.7"


def test_a_peer_that_is_not_an_ip_address_is_returned_as_given(trusted: Any) -> None:
    assert address("", "203.0.113.7") == ""
