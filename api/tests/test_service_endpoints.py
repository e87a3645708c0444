"""The endpoints that need no token: the service index and the health check."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.db.utils import load_backend
from django.urls import reverse
from rest_framework.test import APIClient

from testing.processes import free_port

HEALTH_PATHS = ["/health", "/health/"]


@contextmanager
def unreachable_database() -> Iterator[None]:
    """Swap the default connection for a real one that cannot connect: a
    PostgreSQL server on a closed port, or an SQLite file in a directory that
    does not exist. The real connection is put back afterwards, untouched."""
    real = connections["default"]
    settings_dict = {**real.settings_dict}
    if real.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
        settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "connect_timeout": 1}
    else:
        settings_dict["NAME"] = "/nonexistent-directory-for-health-test/db.sqlite3"
    broken = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="default")
    connections["default"] = broken
    try:
        yield
    finally:
        connections["default"] = real
        broken.close()


class TestServiceInfo:
    def test_index_describes_the_service_and_links_its_documentation(self, api_client: APIClient) -> None:
        response = api_client.get("/")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert set(body) == {"title", "description", "version", "docs_url", "redoc_url", "openapi_url"}
        assert body["docs_url"] == "/docs"
        assert body["redoc_url"] == "/redoc"
        assert body["openapi_url"] == "/openapi.json"
        assert body["version"] == settings.SERVICE_VERSION
        assert isinstance(body["title"], str) and body["title"]
        assert isinstance(body["description"], str) and body["description"]

    def test_index_links_lead_to_pages_that_exist(self, api_client: APIClient) -> None:
        body = api_client.get("/").json()

        for url in (body["docs_url"], body["redoc_url"], body["openapi_url"]):
            assert api_client.get(url).status_code == 200, url

    def test_index_version_matches_the_openapi_document(self, api_client: APIClient) -> None:
        version = api_client.get("/").json()["version"]

        assert api_client.get("/openapi.json").json()["info"]["version"] == version

    def test_index_answers_304_to_its_own_etag(self, api_client: APIClient) -> None:
        etag = api_client.get("/")["ETag"]

        response = api_client.get("/", HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304
        assert response["ETag"] == etag

    def test_index_ignores_a_bad_authorization_header(self, api_client: APIClient) -> None:
        response = api_client.get("/", HTTP_AUTHORIZATION="Bearer not-a-token")

        assert response.status_code == 200


@pytest.mark.django_db
class TestHealthWhenTheDatabaseIsUp:
    @pytest.mark.parametrize("path", HEALTH_PATHS)
    def test_health_reports_ok_with_the_service_version(self, api_client: APIClient, path: str) -> None:
        response = api_client.get(path)

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"status": "ok", "version": settings.SERVICE_VERSION, "database": "ok"}

    def test_health_version_is_the_one_the_index_reports(self, api_client: APIClient) -> None:
        assert api_client.get("/health").json()["version"] == api_client.get("/").json()["version"]

    def test_health_is_never_kept_by_a_cache(self, api_client: APIClient) -> None:
        response = api_client.get("/health")

        assert "no-store" in response["Cache-Control"]
        assert not response.has_header("ETag")

    def test_health_runs_its_check_whatever_if_none_match_says(self, api_client: APIClient) -> None:
        response = api_client.get("/health", HTTP_IF_NONE_MATCH="*")

        assert response.status_code == 200
        assert response.json()["database"] == "ok"

    def test_health_is_the_named_route(self, api_client: APIClient) -> None:
        assert api_client.get(reverse("health")).status_code == 200

    @pytest.mark.parametrize(
        "authorization",
        [
            pytest.param("Bearer not-a-token", id="malformed-token"),
            pytest.param("Bearer", id="scheme-without-token"),
            pytest.param("Basic YWxpY2U6c2VjcmV0", id="other-scheme"),
            pytest.param("Bearer a b c", id="too-many-parts"),
        ],
    )
    def test_health_ignores_a_bad_authorization_header(self, api_client: APIClient, authorization: str) -> None:
        response = api_client.get("/health", HTTP_AUTHORIZATION=authorization)

        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert "WWW-Authenticate" not in response

    def test_health_ignores_an_expired_token(self, api_client: APIClient, make_token) -> None:
        token = make_token("alice", expires_in=timedelta(hours=-1))

        response = api_client.get("/health", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200
        assert response.json()["status"] == "ok"

    def test_health_ignores_a_token_signed_with_the_wrong_key(self, api_client: APIClient, make_token) -> None:
        token = make_token("alice", key="some-other-secret-that-is-long-enough-to-sign")

        response = api_client.get("/health", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200


@pytest.mark.django_db
class TestHealthWhenTheDatabaseIsUnreachable:
    @pytest.mark.parametrize("path", HEALTH_PATHS)
    def test_health_answers_503_unavailable(self, api_client: APIClient, path: str) -> None:
        with unreachable_database():
            response = api_client.get(path)

        assert response.status_code == 503
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["database"] == "unavailable"
        assert body["version"] == settings.SERVICE_VERSION
        assert isinstance(body["detail"], str) and body["detail"]

    def test_health_asks_clients_to_retry_later(self, api_client: APIClient) -> None:
        with unreachable_database():
            response = api_client.get("/health")

        assert response.status_code == 503
        assert response["Retry-After"].isdigit()
        assert int(response["Retry-After"]) > 0

    def test_health_does_not_leak_the_database_error(self, api_client: APIClient) -> None:
        with unreachable_database():
            response = api_client.get("/health")

        text = response.content.decode().lower()
        for leak in ("traceback", "operationalerror", "connection refused", "unable to open", "127.0.0.1", "sqlite"):
            assert leak not in text

    def test_health_recovers_once_the_database_is_back(self, api_client: APIClient) -> None:
        with unreachable_database():
            assert api_client.get("/health").status_code == 503

        response = api_client.get("/health")

        assert response.status_code == 200
        assert response.json()["database"] == "ok"
