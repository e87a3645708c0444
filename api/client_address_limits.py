"""Limits per client address (api/client_address.py), for traffic that carries
no usable token, checked in front of DRF:

- API_AUTH_FAILURE_RATE_LIMIT: every `401` the service answers counts against
  the client's address. Once an address has used its allowance, each of its
  `/api/` requests is answered `429` until the window ends, before any token
  is read: no verification, no query. That includes valid tokens sent from
  the address meanwhile (docs/decisions/client-address-limits.md says why).
- API_DOCS_RATE_LIMIT: each request for `/openapi.json`, `/docs` or `/redoc`
  counts; beyond the allowance, `429`. Their static assets (WhiteNoise) and
  `/health` are not limited.

Counted like the per-user limit (api/throttling.py): fixed windows, one
atomic counter per address and window, in Redis when REDIS_URL is set, and
let through uncounted, with a warning, when the cache cannot be reached.
Counter keys hold a keyed hash of the address, never the address itself.
An IPv6 client counts per /64 network, the block one subscriber is usually
given: counting single IPv6 addresses would give each client 2^64 allowances.
"""

import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError
from rest_framework.exceptions import Throttled

from api.client_address import client_address, parse_address
from api.error_handlers import JSON_CONTENT_TYPE
from api.throttling import current_count, increment, parse_rate

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
DOCS_URL_NAMES = frozenset({"openapi", "docs", "redoc"})

# Module-level so tests can hold time still.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class AddressLimit:
    scope: str
    setting: str  # the setting that holds the rate, or "off"
    reason: str


AUTH_FAILURES = AddressLimit("authfail", "API_AUTH_FAILURE_RATE_LIMIT", "too many failed authentications")
DOCS = AddressLimit("docs", "API_DOCS_RATE_LIMIT", "too many requests for the documentation")


@dataclass(frozen=True)
class Window:
    """The current fixed window of one limit for one address."""

    limit: AddressLimit
    address: str
    allowance: int
    duration: int
    counter: str
    now: float

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends."""
        return max(1, math.ceil((self.now // self.duration + 1) * self.duration - self.now))


def current_window(limit: AddressLimit, request: HttpRequest) -> Window | None:
    """None when the limit is off."""
    rate = getattr(settings, limit.setting)
    if rate == "off":
        return None
    allowance, duration = parse_rate(rate)
    address = client_address(request)
    now = clock()
    counter = f"throttle_{limit.scope}_{address_key(address)}_{int(now // duration)}"
    return Window(limit, address, allowance, duration, counter, now)


def address_key(address: str) -> str:
    """A keyed hash of the address (of its /64 for IPv6): the cache never holds
    client addresses, and a hash without the key cannot be reversed by trying
    every IPv4 address."""
    return _address_key(address, settings.SECRET_KEY)


# Remembered per process for the addresses seen last: the same clients come back.
@lru_cache(maxsize=4096)
def _address_key(address: str, secret: str) -> str:
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        address = str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return salted_hmac("api.client_address_limits", address, secret=secret).hexdigest()[:32]


def too_many_requests(window: Window) -> JsonResponse:
    """The per-user throttle's 429, with the reason in the detail."""
    wait = window.retry_after
    detail = Throttled(wait=wait, detail=f"Request was throttled: {window.limit.reason} from this address.").detail
    return JsonResponse(
        {"detail": str(detail)}, status=429, content_type=JSON_CONTENT_TYPE, headers={"Retry-After": str(wait)}
    )


def _cache_unavailable(error: RedisError) -> None:
    logger.warning("client address limit not applied: throttle cache unavailable (%s)", type(error).__name__)


def _reached(window: Window, count: int) -> None:
    """Logged once per address and window: the request that used up the allowance."""
    if count == window.allowance:
        logger.warning(
            "client address %s reached %s (%s a window); %s for %ss",
            window.address,
            window.limit.setting,
            window.allowance,
            "its /api/ requests are refused" if window.limit is AUTH_FAILURES else "further requests are refused",
            window.retry_after,
        )


class ClientAddressLimitMiddleware:
    """Applies AUTH_FAILURES and DOCS (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 401:
            self.count_failed_authentication(request)
        return response

    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and match.url_name in DOCS_URL_NAMES:
            return self.count_docs_request(request)
        if request.path_info.startswith(API_PREFIX):
            return self.refuse_if_over_failure_allowance(request)
        return None

    def refuse_if_over_failure_allowance(self, request: HttpRequest) -> HttpResponse | None:
        window = current_window(AUTH_FAILURES, request)
        if window is None:
            return None
        try:
            failures = current_count(window.counter)
        except RedisError as error:
            _cache_unavailable(error)
            return None
        return too_many_requests(window) if failures >= window.allowance else None

    def count_failed_authentication(self, request: HttpRequest) -> None:
        window = current_window(AUTH_FAILURES, request)
        if window is None:
            return
        try:
            failures = increment(window.counter, ttl=window.duration + 1)
        except RedisError as error:
            _cache_unavailable(error)
            return
        _reached(window, failures)

    def count_docs_request(self, request: HttpRequest) -> HttpResponse | None:
        window = current_window(DOCS, request)
        if window is None:
            return None
        try:
            requests = increment(window.counter, ttl=window.duration + 1)
        except RedisError as error:
            _cache_unavailable(error)
            return None
        _reached(window, requests)
        return too_many_requests(window) if requests > window.allowance else None
