"""Limits per client address: requests that fail authentication
(API_AUTH_FAILURE_RATE_LIMIT) and requests for the schema and the docs pages
(API_DOCS_RATE_LIMIT). On the process-local cache here; across workers through
Redis, and behind nginx, in e2e/test_client_address_limits.py."""

from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from api import client_address_limits
from api.authentication import BetterAuthJWTAuthentication
from tasks.models import Task
from testing.assertions import assert_json_error
from testing.processes import free_port

TASKS = "/api/tasks"
BAD: dict[str, Any] = {"HTTP_AUTHORIZATION": "Bearer not-a-token"}
LIMIT = 3


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # 10 seconds into a one-minute window, held still so no test straddles its edge.
    frozen = Clock(1_000_030.0)
    monkeypatch.setattr(client_address_limits, "clock", frozen)
    return frozen


@pytest.fixture(autouse=True)
def limits(settings: Any) -> Any:
    settings.API_AUTH_FAILURE_RATE_LIMIT = f"{LIMIT}/min"
    settings.API_DOCS_RATE_LIMIT = f"{LIMIT}/min"
    settings.TRUSTED_PROXIES = []
    cache.clear()
    return settings


def cache_keys() -> list[str]:
    return list(cache._cache)  # type: ignore[attr-defined]


def fail(client: APIClient, times: int = LIMIT, **extra: Any) -> list[int]:
    return [client.get(TASKS, **BAD, **extra).status_code for _ in range(times)]


# --- Requests that fail authentication ---------------------------------------------


def test_failures_up_to_the_limit_are_the_usual_401s_then_429_json_with_retry_after(api_client: APIClient) -> None:
    under = [api_client.get(TASKS, **BAD) for _ in range(LIMIT)]
    over = api_client.get(TASKS, **BAD)

    for response in under:
        assert_json_error(response, 401)
        assert response.json() == {"detail": "Invalid token: malformed"}
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    body = assert_json_error(over, 429)
    assert body == {
        "detail": "Request was throttled: too many failed authentications from this address. "
        "Expected available in 50 seconds."
    }
    assert over["Retry-After"] == "50"
    assert "WWW-Authenticate" not in over


def test_requests_without_any_token_count_as_failures(api_client: APIClient) -> None:
    statuses = [api_client.get(TASKS).status_code for _ in range(LIMIT + 1)]

    assert statuses == [401] * LIMIT + [429]


@pytest.mark.django_db
def test_over_the_limit_no_token_is_verified_and_no_query_runs(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    fail(api_client)

    with (
        mock.patch.object(BetterAuthJWTAuthentication, "authenticate") as authenticate,
        django_assert_num_queries(0),
    ):
        statuses = [api_client.post(TASKS, {"title": "x"}, format="json", **BAD).status_code for _ in range(5)]

    assert statuses == [429] * 5
    authenticate.assert_not_called()


@pytest.mark.django_db
def test_a_valid_token_from_an_address_over_the_limit_is_refused_and_writes_nothing(
    api_client: APIClient, alice: APIClient
) -> None:
    fail(api_client)

    listing = alice.get(TASKS)
    create = alice.post(TASKS, {"title": "from a blocked address"}, format="json")

    assert_json_error(listing, 429)
    assert_json_error(create, 429)
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_the_allowance_comes_back_when_the_window_ends(api_client: APIClient, alice: APIClient, clock: Clock) -> None:
    fail(api_client, LIMIT + 1)

    clock.now += 50

    assert alice.get(TASKS).status_code == 200
    assert fail(api_client, LIMIT + 1) == [401] * LIMIT + [429]


@pytest.mark.django_db
def test_successful_requests_are_never_counted(alice: APIClient) -> None:
    statuses = {alice.get(TASKS).status_code for _ in range(LIMIT * 3)}

    assert statuses == {200}
    assert cache_keys() == []


@pytest.mark.django_db
def test_each_address_has_its_own_allowance(api_client: APIClient, alice: APIClient) -> None:
    fail(api_client, LIMIT, REMOTE_ADDR="198.51.100.1")

    assert api_client.get(TASKS, **BAD, REMOTE_ADDR="198.51.100.1").status_code == 429
    assert api_client.get(TASKS, **BAD, REMOTE_ADDR="198.51.100.2").status_code == 401
    assert alice.get(TASKS, REMOTE_ADDR="198.51.100.2").status_code == 200


def test_an_ipv6_client_counts_per_64_network(api_client: APIClient) -> None:
    fail(api_client, LIMIT, REMOTE_ADDR="2001:db8:1:2::1")

    assert api_client.get(TASKS, **BAD, REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert api_client.get(TASKS, **BAD, REMOTE_ADDR="2001:db8:1:3::1").status_code == 401


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_buys_no_new_allowance(
    api_client: APIClient, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    statuses = [
        api_client.get(TASKS, **BAD, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(LIMIT + 1)
    ]

    assert statuses == [401] * LIMIT + [429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(
    api_client: APIClient, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    via_proxy: dict[str, Any] = {"REMOTE_ADDR": "10.0.0.2"}

    first = fail(api_client, LIMIT + 1, **via_proxy, HTTP_X_FORWARDED_FOR="203.0.113.1")
    second = api_client.get(TASKS, **BAD, **via_proxy, HTTP_X_FORWARDED_FOR="203.0.113.2")
    # What the client wrote to the left of the proxy's entry changes nothing.
    spoofed = api_client.get(TASKS, **BAD, **via_proxy, HTTP_X_FORWARDED_FOR="203.0.113.9, 203.0.113.1")

    assert first == [401] * LIMIT + [429]
    assert second.status_code == 401
    assert spoofed.status_code == 429


def test_cache_keys_do_not_reveal_the_address(api_client: APIClient) -> None:
    fail(api_client, 1, REMOTE_ADDR="198.51.100.77")

    keys = cache_keys()
    assert len(keys) == 1
    assert "198.51.100.77" not in keys[0]
    assert "authfail" in keys[0]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/", "/openapi.json", "/docs", "/redoc"])
def test_an_address_over_the_failure_limit_still_reaches_the_service_endpoints(
    api_client: APIClient, path: str
) -> None:
    fail(api_client)

    assert api_client.get(path).status_code == 200


def test_the_429_carries_cors_headers_so_the_frontend_can_read_retry_after(api_client: APIClient) -> None:
    origin: dict[str, Any] = {"HTTP_ORIGIN": "http://localhost:3000"}
    fail(api_client, LIMIT, **origin)

    response = api_client.get(TASKS, **BAD, **origin)

    assert response.status_code == 429
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


def test_off_disables_the_failure_limit_and_its_bookkeeping(api_client: APIClient, settings: Any) -> None:
    settings.API_AUTH_FAILURE_RATE_LIMIT = "off"

    assert set(fail(api_client, LIMIT * 3)) == {401}
    assert cache_keys() == []


@pytest.mark.django_db
def test_unreachable_redis_lets_requests_through_and_logs_a_warning(
    api_client: APIClient, alice: APIClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    failures = fail(api_client, LIMIT + 1)
    success = alice.get(TASKS)

    assert failures == [401] * (LIMIT + 1)
    assert success.status_code == 200
    warnings = [record.getMessage() for record in caplog.records if record.name == "api.client_address_limits"]
    assert warnings
    assert set(warnings) == {"client address limit not applied: throttle cache unavailable (ConnectionError)"}


def test_reaching_the_limit_is_logged_once_per_window_with_the_address(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    fail(api_client, LIMIT + 5, REMOTE_ADDR="198.51.100.5")

    lines = [record.getMessage() for record in caplog.records if record.name == "api.client_address_limits"]
    assert len(lines) == 1
    assert "198.51.100.5 reached API_AUTH_FAILURE_RATE_LIMIT" in lines[0]


# --- The schema and the documentation pages ------------------------------------------

DOCS_PATHS = ["/openapi.json", "/docs", "/docs/", "/redoc", "/redoc/"]


@pytest.mark.parametrize("path", DOCS_PATHS)
def test_docs_requests_beyond_the_limit_get_429_json_with_retry_after(client: Client, path: str) -> None:
    statuses = [client.get(path).status_code for _ in range(LIMIT)]
    over = client.get(path)

    assert statuses == [200] * LIMIT
    body = assert_json_error(over, 429)
    assert body["detail"].startswith("Request was throttled: too many requests for the documentation")
    assert over["Retry-After"] == "50"


def test_the_schema_and_both_pages_share_one_docs_allowance(client: Client) -> None:
    statuses = [client.get(path).status_code for path in ["/docs", "/openapi.json", "/redoc", "/openapi.json"]]

    assert statuses == [200, 200, 200, 429]


def test_docs_allowance_is_per_address(client: Client) -> None:
    for _ in range(LIMIT + 1):
        client.get("/openapi.json", REMOTE_ADDR="198.51.100.1")

    assert client.get("/openapi.json", REMOTE_ADDR="198.51.100.1").status_code == 429
    assert client.get("/openapi.json", REMOTE_ADDR="198.51.100.2").status_code == 200


@pytest.mark.django_db
def test_health_and_the_docs_static_assets_are_never_limited(client: Client) -> None:
    for _ in range(LIMIT + 1):
        client.get("/docs")
    asset = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"

    statuses = {client.get(path).status_code for path in ["/health", asset, "/"] * (LIMIT + 2)}

    assert statuses == {200}


def test_docs_requests_do_not_use_up_the_failure_allowance(api_client: APIClient) -> None:
    for _ in range(LIMIT + 1):
        api_client.get("/openapi.json")

    assert api_client.get(TASKS, **BAD).status_code == 401


def test_off_disables_the_docs_limit(client: Client, settings: Any) -> None:
    settings.API_DOCS_RATE_LIMIT = "off"

    assert {client.get("/openapi.json").status_code for _ in range(LIMIT * 3)} == {200}
    assert cache_keys() == []
