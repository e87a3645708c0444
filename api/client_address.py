"""Who is on the other end of the connection: the client's IP address, taken
from `X-Forwarded-For` only when the request arrives from a proxy listed in
TRUSTED_PROXIES.

Each proxy appends the address it received the request from, so the header
reads left to right from the first hop to the last. Everything to the left of
what our own proxies wrote is whatever the client chose to send; hence the
walk from the right, past our proxies, to the first address they did not
vouch for.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: HttpRequest) -> str:
    """The client's IP address, normalised (`::ffff:10.0.0.1` is `10.0.0.1`).

    The peer's address (REMOTE_ADDR) unless the peer is a trusted proxy; then
    the right-most address in X-Forwarded-For that is not a trusted proxy. If
    every address there is a trusted proxy, the left-most one; if the walk
    meets an entry that is not an address, the trusted proxy that passed it
    on. A peer that is not an IP address (a Unix socket) is returned as given."""
    peer = request.META.get("REMOTE_ADDR", "")
    address = parse_address(peer)
    if address is None:
        return peer
    trusted = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not is_trusted(address, trusted):
        return str(address)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed(forwarded.split(",")):
        hop = parse_address(entry)
        if hop is None:
            break
        address = hop
        if not is_trusted(address, trusted):
            break
    return str(address)


def parse_address(text: str) -> IPAddress | None:
    """An IP address, with or without a port (`10.0.0.1:443`, `[::1]:443`),
    IPv4-mapped IPv6 addresses as IPv4; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


@cache
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES, parsed once per value (the settings validated it)."""
    return tuple(ipaddress.ip_network(proxy) for proxy in proxies)
