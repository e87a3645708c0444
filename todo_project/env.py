"""Typed readers for environment variables, used once each at the top of settings.

A value that cannot be parsed stops the process with one line naming the
variable: configuration mistakes should fail loudly at start-up, not at the
first request.
"""

import ipaddress
import os
import re
import sys
from typing import NoReturn, overload
from urllib.parse import urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def refuse_to_start(message: str) -> NoReturn:
    """Stop the process with one clear line on stderr and no traceback."""
    sys.exit(f"configuration error: {message}")


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: str | None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    refuse_to_start(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        refuse_to_start(f"{name} must be an integer >= {minimum}, got {value!r}")
    return number


def env_ip_address(name: str, default: str) -> str:
    """An IPv4 or IPv6 address, written without brackets."""
    value = env_str(name, default)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        refuse_to_start(f"{name} must be an IP address such as 127.0.0.1 or 10.0.0.5, got {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or list(default)


def is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def env_url(name: str, default: str | None = None) -> str | None:
    """An absolute http(s) URL with a host."""
    value = env_str(name, default)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        refuse_to_start(f"{name} must be an http:// or https:// URL, got {value!r}")
    return value


def env_origin(name: str) -> str | None:
    """An http(s) origin — scheme, host and optional port, nothing else —
    without a trailing slash."""
    value = env_url(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        refuse_to_start(f"{name} must be an origin like https://app.example.com (no path or query), got {value!r}")
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        refuse_to_start(f"{name} has an invalid port, got {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


_RATE = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str) -> str:
    """A rate like `600/min` (per s, min, hour or day, as DRF writes them), or
    `off` in any letter case, returned as `off`."""
    value = env_str(name, default)
    if value.lower() == "off":
        return "off"
    if not _RATE.fullmatch(value):
        refuse_to_start(f"{name} must be a rate like 600/min (per s, min, hour, day) or off: {value!r}")
    return value


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDR networks (`10.0.0.0/8`, `::1`),
    each returned as a network (`10.0.0.0/8`, `::1/128`). A network with host
    bits set (`10.0.0.1/8`) is refused: it is ambiguous."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item)))
        except ValueError:
            refuse_to_start(f"{name} must be comma-separated IP addresses or networks like 10.0.0.0/8, got {item!r}")
    return networks
