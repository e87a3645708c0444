"""CORS: the configured origins (by default the local Next.js frontend) may
call the API from a browser; no other origin gets CORS headers."""

import pytest

DEFAULT_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]
DISALLOWED_ORIGINS = [
    "http://evil.example",
    "https://localhost:3000",
    "http://localhost:3001",
    "http://localhost:3000.evil.example",
    "http://evil.localhost:3000",
    "null",
]
API_PATHS = ["/api/tasks", "/api/tasks/1", "/api/tasks/1/complete"]
# docs/api.md#cors: what a browser may send beyond Authorization and
# Content-Type (conditional and idempotent writes, its own request id), and
# the response headers its scripts may read.
SYNC_REQUEST_HEADERS = ["If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"]
READABLE_RESPONSE_HEADERS = ["ETag", "Idempotent-Replayed", "Link", "Location", "Retry-After", "X-Request-ID"]


def preflight(client, path, origin, method, headers="authorization,content-type"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def listed(header_value):
    return {item.strip().lower() for item in header_value.split(",")}


def cors_headers(response):
    return {name for name in response.headers if name.lower().startswith("access-control-")}


class TestPreflightFromAnAllowedOrigin:
    @pytest.mark.parametrize("origin", DEFAULT_ORIGINS)
    @pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
    @pytest.mark.parametrize("path", API_PATHS)
    def test_preflight_allows_the_method_and_the_auth_headers(self, api_client, origin, method, path):
        response = preflight(api_client, path, origin, method)

        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == origin
        assert method in {item.upper() for item in listed(response["Access-Control-Allow-Methods"])}
        assert {"authorization", "content-type"} <= listed(response["Access-Control-Allow-Headers"])

    def test_preflight_needs_no_token(self, api_client):
        response = preflight(api_client, "/api/tasks", "http://localhost:3000", "POST", headers="Authorization")

        assert response.status_code == 200
        assert "WWW-Authenticate" not in response

    @pytest.mark.parametrize("headers", ["Authorization", "Content-Type", "Authorization, Content-Type"])
    def test_preflight_header_names_are_case_insensitive(self, api_client, headers):
        response = preflight(api_client, "/api/tasks", "http://localhost:3000", "PATCH", headers=headers)

        assert response.status_code == 200
        assert {"authorization", "content-type"} <= listed(response["Access-Control-Allow-Headers"])

    @pytest.mark.parametrize("header", SYNC_REQUEST_HEADERS)
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/tasks/1"),
            ("POST", "/api/tasks"),
            ("PATCH", "/api/tasks/1/complete"),
            ("DELETE", "/api/tasks/1"),
        ],
    )
    def test_preflight_allows_the_conditional_and_idempotency_headers(self, api_client, header, method, path):
        response = preflight(
            api_client, path, "http://localhost:3000", method, headers=f"authorization,{header.lower()}"
        )

        assert response.status_code == 200
        assert header.lower() in listed(response["Access-Control-Allow-Headers"])

    def test_preflight_allows_every_header_a_sync_client_sends_at_once(self, api_client):
        sent = ["Authorization", "Content-Type", *SYNC_REQUEST_HEADERS]

        response = preflight(api_client, "/api/tasks", "http://127.0.0.1:3000", "POST", headers=", ".join(sent))

        assert response.status_code == 200
        assert {name.lower() for name in sent} <= listed(response["Access-Control-Allow-Headers"])


@pytest.mark.django_db
class TestActualRequestFromAnAllowedOrigin:
    @pytest.mark.parametrize("header", READABLE_RESPONSE_HEADERS)
    def test_the_sync_response_headers_are_readable_by_the_browser(self, alice, header):
        response = alice.post("/api/tasks", {"title": "Buy milk"}, format="json", HTTP_ORIGIN="http://localhost:3000")

        assert response.status_code == 201
        assert header.lower() in listed(response["Access-Control-Expose-Headers"])

    def test_an_error_answer_exposes_the_same_headers(self, alice):
        response = alice.get("/api/tasks/999999", HTTP_ORIGIN="http://localhost:3000")

        assert response.status_code == 404
        assert {name.lower() for name in READABLE_RESPONSE_HEADERS} <= listed(response["Access-Control-Expose-Headers"])

    @pytest.mark.parametrize("origin", DEFAULT_ORIGINS)
    def test_authenticated_list_carries_allow_origin(self, alice, origin):
        response = alice.get("/api/tasks", HTTP_ORIGIN=origin)

        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == origin

    def test_created_task_location_is_readable_by_the_browser(self, alice):
        response = alice.post("/api/tasks", {"title": "Buy milk"}, format="json", HTTP_ORIGIN="http://localhost:3000")

        assert response.status_code == 201
        assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert "location" in listed(response["Access-Control-Expose-Headers"])

    def test_the_next_page_link_is_readable_by_the_browser(self, alice, make_task):
        make_task()
        make_task()

        response = alice.get("/api/tasks", {"limit": 1}, HTTP_ORIGIN="http://localhost:3000")

        assert response["Link"].endswith('rel="next"')
        assert "link" in listed(response["Access-Control-Expose-Headers"])

    def test_401_carries_allow_origin_so_the_frontend_can_read_it(self, api_client):
        response = api_client.get("/api/tasks", HTTP_ORIGIN="http://localhost:3000")

        assert response.status_code == 401
        assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"

    def test_404_carries_allow_origin(self, alice):
        response = alice.get("/api/tasks/999999", HTTP_ORIGIN="http://127.0.0.1:3000")

        assert response.status_code == 404
        assert response["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"


class TestDisallowedOrigin:
    @pytest.mark.parametrize("origin", DISALLOWED_ORIGINS)
    @pytest.mark.parametrize("path", API_PATHS)
    def test_preflight_gets_no_cors_headers(self, api_client, origin, path):
        response = preflight(api_client, path, origin, "PATCH")

        assert cors_headers(response) == set()

    @pytest.mark.django_db
    @pytest.mark.parametrize("origin", DISALLOWED_ORIGINS)
    def test_authenticated_list_gets_no_cors_headers(self, alice, origin):
        response = alice.get("/api/tasks", HTTP_ORIGIN=origin)

        assert response.status_code == 200
        assert cors_headers(response) == set()

    @pytest.mark.django_db
    def test_create_from_a_disallowed_origin_gets_no_cors_headers(self, alice):
        response = alice.post("/api/tasks", {"title": "Buy milk"}, format="json", HTTP_ORIGIN="http://evil.example")

        assert cors_headers(response) == set()

    def test_request_without_origin_gets_no_cors_headers(self, api_client):
        response = api_client.get("/api/tasks")

        assert cors_headers(response) == set()


class TestConfiguredOrigins:
    @pytest.fixture(autouse=True)
    def _configure(self, settings):
        settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]

    def test_configured_origin_is_allowed(self, api_client):
        response = preflight(api_client, "/api/tasks", "https://app.example", "POST")

        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "https://app.example"

    @pytest.mark.parametrize("origin", DEFAULT_ORIGINS)
    def test_development_defaults_are_no_longer_allowed(self, api_client, origin):
        response = preflight(api_client, "/api/tasks", origin, "POST")

        assert cors_headers(response) == set()


@pytest.mark.django_db
class TestIdempotencyKeyFromTheBrowser:
    def test_preflight_allows_the_idempotency_key(self, api_client):
        headers = "authorization,content-type,idempotency-key"

        response = preflight(api_client, "/api/tasks", "http://localhost:3000", "POST", headers=headers)

        assert response.status_code == 200
        assert {"authorization", "content-type", "idempotency-key"} <= listed(response["Access-Control-Allow-Headers"])

    def test_the_replay_marker_is_readable_by_the_browser(self, alice):
        def create():
            return alice.post(
                "/api/tasks",
                {"title": "Buy milk"},
                format="json",
                HTTP_ORIGIN="http://localhost:3000",
                HTTP_IDEMPOTENCY_KEY="browser-key",
            )

        create()
        replay = create()

        assert replay["Idempotent-Replayed"] == "true"
        assert "idempotent-replayed" in listed(replay["Access-Control-Expose-Headers"])
