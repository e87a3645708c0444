"""Per-user rate limiting for `/api/`, counted in Django's default cache
(Redis when REDIS_URL is set, so every gunicorn worker shares one count). The
counters here also count per client address (api/client_address_limits.py).

DRF's stock throttle keeps a list of timestamps per user and writes it back
after reading it: two workers answering the same user at once both read the
old list and one write is lost. Here each request is one atomic increment of a
counter per user and fixed window, so counts are exact across workers. On
Redis that is one command (a script that increments and, on the window's
first request, sets the expiry): through Django's cache API it would be three
round trips (add, then incr's EXISTS and INCR), and the throttle cost more
than the rest of a request.

Each worker takes its user's requests from the shared count a few at a time
(a lease, `lease_size`): one increment by n, then n requests answered from
memory, so most requests cost no round trip. The shared count never lets
more than the limit through in a window, whichever workers and instances
the requests reach; what a lease costs is that a user whose requests are
spread over several workers may be refused up to (workers - 1) x (n - 1)
requests before the limit, while other workers hold unused requests of the
user's window. Below 200 requests a window a lease is one request: every
request is counted as it comes, exactly.

A throttle protects the service; it must not take it down. When the cache
cannot be reached, requests are let through uncounted and a warning is logged.
"""

import hashlib
import logging
import math
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, UserRateThrottle
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

# The most requests one lease takes from the shared count.
LEASE_MAX = 10


def lease_size(allowance: int) -> int:
    """Requests a worker takes from the shared count at once: one for limits
    under 200 a window (exact), a hundredth of the allowance above, at most LEASE_MAX."""
    return max(1, min(LEASE_MAX, allowance // 100))


class Leases:
    """This process's unused requests, per counter (a user and a window).
    Only the current window's are kept."""

    def __init__(self) -> None:
        self.window: int | None = None
        self.remaining: dict[str, int] = {}

    def take(self, counter: str, window: int) -> bool:
        """Use one leased request of `counter`, if this process holds one."""
        if window != self.window:
            self.window, self.remaining = window, {}
        left = self.remaining.get(counter, 0)
        if left <= 0:
            return False
        self.remaining[counter] = left - 1
        return True

    def hold(self, counter: str, count: int) -> None:
        self.remaining[counter] = count


leases = Leases()


class UserIdRateThrottle(UserRateThrottle):
    """`settings.API_RATE_LIMIT` requests per user id (from the token) per
    window. Unauthenticated requests are never counted here: the API refuses
    them before throttles run (their count is per client address)."""

    scope = "user"
    # Set by SimpleRateThrottle.__init__ from get_rate(), which always gives a rate.
    num_requests: int
    duration: int
    window_ends_at: float

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        # Hashed: user ids are up to 255 arbitrary characters, and need not
        # be readable by whoever can read the cache.
        ident = hashlib.sha256(str(request.user.id).encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        counter = f"{key}_{window}"
        if leases.take(counter, window):
            return True
        size = lease_size(self.num_requests)
        try:
            count = self.increment(counter, size)
        except RedisError as error:
            logger.warning("rate limit not applied: throttle cache unavailable (%s)", type(error).__name__)
            return True
        # The requests of this lease still within the allowance; this request takes the first.
        granted = min(size, self.num_requests - (count - size))
        if granted <= 0:
            return False
        leases.hold(counter, granted - 1)
        return True

    def increment(self, counter: str, by: int = 1) -> int:
        """Add `by` to `counter` and return its new value. The counter outlives
        its window by a second, then expires."""
        return increment(counter, ttl=self.duration + 1, by=by)

    def wait(self) -> int:
        """Whole seconds until the current window ends (Retry-After)."""
        return max(1, math.ceil(self.window_ends_at - self.now))


def parse_rate(rate: str) -> tuple[int, int]:
    """`600/min` as (600, 60): DRF's reading of a rate (the settings validated it)."""
    number, period = rate.split("/")
    return int(number), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


def increment(counter: str, *, ttl: int, by: int = 1) -> int:
    """Add `by` to `counter` in the default cache, atomically, and return its
    new value. A new counter expires after `ttl` seconds."""
    counters = caches["default"]
    if client := redis_client_of_default_cache():
        return _increment_script(client)(keys=[counters.make_and_validate_key(counter)], args=[ttl, by])
    counters.add(counter, 0, ttl)
    try:
        return counters.incr(counter, by)
    except ValueError:  # expired between add and incr: a fresh window
        return by


def current_count(counter: str) -> int:
    """The value of `counter` (0 when it does not exist), without changing it."""
    counters = caches["default"]
    if client := redis_client_of_default_cache():
        value = client.get(counters.make_and_validate_key(counter))
        return int(value) if value is not None else 0
    return counters.get(counter, 0)


def redis_client_of_default_cache() -> redis.Redis | None:
    """A redis-py client for the default cache's server, when that cache is
    Redis. Django's RedisCache has no increment-with-expiry, and builds a new
    client object for every command (more work than the command itself)."""
    conf = settings.CACHES["default"]
    if conf["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return None
    location = conf["LOCATION"]
    # Like Django's, writes go to the first server when several are listed.
    first = location[0] if isinstance(location, (list, tuple)) else location.split(",")[0]
    return _redis_client(first, tuple(sorted(conf.get("OPTIONS", {}).items())))


# Atomic in Redis: the counter can never be left without its expiry.
_INCREMENT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@cache
def _increment_script(client: redis.Redis) -> Any:
    """EVALSHA of _INCREMENT, loaded into Redis on first use (and again after
    a Redis restart). One reply to read instead of MULTI/EXEC's four."""
    return client.register_script(_INCREMENT)


@cache
def _redis_client(location: str, options: tuple[tuple[str, object], ...]) -> redis.Redis:
    return redis.Redis.from_url(location, **dict(options))


def api_throttles() -> list[BaseThrottle]:
    """The throttles for `/api/` views; none when API_RATE_LIMIT is off."""
    if settings.API_RATE_LIMIT == "off":
        return []
    return [UserIdRateThrottle()]
