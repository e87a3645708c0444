"""Per-user rate limiting on /api/ (API_RATE_LIMIT), counted in the cache.

The cross-worker count through Redis is proven against gunicorn in
e2e/test_throttling.py; here the rules, on the process-local cache."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api import throttling
from api.throttling import UserIdRateThrottle, lease_size
from tasks.models import Task
from testing.processes import free_port

TASKS = "/api/tasks"


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    settings.API_RATE_LIMIT = "3/min"
    cache.clear()


class Clock:
    """The throttle's clock, held still so no test straddles a window edge."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # 10 seconds into a one-minute window (1_000_020 is a multiple of 60).
    frozen = Clock(1_000_030.0)
    monkeypatch.setattr(UserIdRateThrottle, "timer", staticmethod(frozen))
    return frozen


def cache_keys() -> list[str]:
    # LocMemCache's store, every key written: private, so not in the stubs.
    return list(cache._cache)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_requests_beyond_the_rate_get_429_json_with_retry_after(alice: APIClient) -> None:
    statuses = [alice.get(TASKS).status_code for _ in range(3)]
    response = alice.get(TASKS)

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["detail"].startswith("Request was throttled")
    assert response["Retry-After"] == "50"


@pytest.mark.django_db
def test_the_allowance_comes_back_when_the_window_ends(alice: APIClient, clock: Clock) -> None:
    for _ in range(4):
        alice.get(TASKS)

    clock.now += 50

    assert alice.get(TASKS).status_code == 200


@pytest.mark.django_db
def test_each_user_has_their_own_allowance(alice: APIClient, bob: APIClient) -> None:
    for _ in range(3):
        alice.get(TASKS)

    assert alice.get(TASKS).status_code == 429
    assert bob.get(TASKS).status_code == 200


@pytest.mark.django_db
def test_every_method_counts_against_the_same_allowance(alice: APIClient) -> None:
    created = alice.post(TASKS, {"title": "one"}, format="json")
    alice.patch(f"{TASKS}/{created.json()['id']}/complete")
    alice.delete(f"{TASKS}/{created.json()['id']}")

    assert alice.post(TASKS, {"title": "two"}, format="json").status_code == 429


@pytest.mark.django_db
def test_a_throttled_request_writes_nothing(alice: APIClient) -> None:
    for _ in range(3):
        alice.get(TASKS)

    response = alice.post(TASKS, {"title": "over the limit"}, format="json")

    assert response.status_code == 429
    assert not Task.objects.exists()


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YWxpY2U6cHc="])
def test_unauthenticated_request_is_rejected_before_any_throttle_bookkeeping(
    api_client: APIClient, authorization: str | None
) -> None:
    if authorization:
        api_client.credentials(HTTP_AUTHORIZATION=authorization)

    with mock.patch.object(UserIdRateThrottle, "allow_request") as allow_request:
        responses = [api_client.get(TASKS) for _ in range(5)]

    assert [response.status_code for response in responses] == [401] * 5
    allow_request.assert_not_called()
    assert cache_keys() == []


@pytest.mark.django_db
def test_expired_token_is_never_counted(api_client: APIClient, make_token: Callable[..., str]) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token('alice', expires_in=timedelta(minutes=-5))}")

    assert api_client.get(TASKS).status_code == 401
    assert cache_keys() == []


@pytest.mark.django_db
def test_cache_key_does_not_reveal_the_user_id(client_for: Callable[[str], APIClient]) -> None:
    client_for("alice-secret-identity").get(TASKS)

    keys = cache_keys()
    assert len(keys) == 1
    assert "alice-secret-identity" not in keys[0]


@pytest.mark.django_db
def test_a_255_character_user_id_is_throttled_without_cache_key_warnings(
    client_for: Callable[[str], APIClient], recwarn: pytest.WarningsRecorder
) -> None:
    client = client_for("u" * 255)

    statuses = [client.get(TASKS).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert not [warning for warning in recwarn if "CacheKeyWarning" in type(warning.message).__name__]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/", "/openapi.json"])
def test_service_endpoints_are_not_throttled(client_for: Callable[[str], APIClient], path: str) -> None:
    client = client_for("alice")

    statuses = {client.get(path).status_code for _ in range(5)}

    assert statuses == {200}
    assert cache_keys() == []


@pytest.mark.django_db
def test_off_disables_throttling_and_its_bookkeeping(alice: APIClient, settings: Any) -> None:
    settings.API_RATE_LIMIT = "off"

    statuses = {alice.get(TASKS).status_code for _ in range(10)}

    assert statuses == {200}
    assert cache_keys() == []


@pytest.mark.django_db
def test_unreachable_redis_lets_requests_through_and_logs_a_warning(
    alice: APIClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    statuses = [alice.get(TASKS).status_code for _ in range(5)]

    assert statuses == [200] * 5
    warnings = [record for record in caplog.records if record.name == "api.throttling"]
    assert len(warnings) == 5
    assert warnings[0].levelname == "WARNING"
    assert "throttle cache unavailable (ConnectionError)" in warnings[0].getMessage()


@pytest.mark.parametrize(("allowance", "size"), [(3, 1), (199, 1), (200, 2), (600, 6), (1_000_000, 10)])
def test_a_lease_is_one_request_under_200_a_window_and_a_hundredth_of_the_allowance_above(
    allowance: int, size: int
) -> None:
    assert lease_size(allowance) == size


@pytest.mark.django_db
def test_a_worker_leases_requests_from_the_count_and_never_lets_more_than_the_limit_through(
    alice: APIClient, settings: Any
) -> None:
    settings.API_RATE_LIMIT = "250/min"  # leases of 2

    statuses = [alice.get(TASKS).status_code for _ in range(251)]

    assert statuses == [200] * 250 + [429]
    # 125 leases of 2 within the limit, then one refused: 126 increments, not 251.
    (key,) = cache_keys()
    assert cache.get(key.split(":", 2)[-1]) == 252


@pytest.mark.django_db
def test_requests_leased_by_one_worker_are_never_granted_to_another(
    alice: APIClient, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.API_RATE_LIMIT = "251/min"  # leases of 2: the last one only half within the limit
    workers = [throttling.Leases(), throttling.Leases()]

    statuses = []
    for n in range(300):
        monkeypatch.setattr(throttling, "leases", workers[n % 2])  # the requests alternate between two workers
        statuses.append(alice.get(TASKS).status_code)

    # Never more than the limit; short of it by at most what the other worker still holds.
    assert 251 - (lease_size(251) - 1) <= statuses.count(200) <= 251
    assert set(statuses[-20:]) == {429}
