"""Authentication: Better Auth HS256 bearer tokens, read from the Authorization
header only, checked before anything else on every /api/ route."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from tasks.models import Task
from testing.credentials import (
    AUDIENCE,
    EXPIRED,
    INVALID_TOKENS,
    ISSUER,
    MALFORMED_HEADERS,
    NOT_PROVIDED,
    NOT_PROVIDED_HEADERS,
    OTHER_SECRET,
    UNUSABLE_USER_IDS,
    assert_unauthorized,
    better_auth_session_payload,
    fresh_claims,
    sign,
)

# HS512 is signed with the real (56-byte) secret on purpose: the algorithm, not
# the key, is what must be refused.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def create_task(client, **extra):
    return client.post("/api/tasks", {"title": "Buy milk"}, format="json", **extra)


# --- Tokens that are accepted ---------------------------------------------------


@pytest.mark.django_db
class TestValidToken:
    def test_valid_token_lists_tasks(self, api_client, make_token):
        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {make_token('alice')}")

        assert response.status_code == 200
        assert response.json() == {"items": [], "count": 0, "next_cursor": None}

    def test_task_created_with_a_sub_token_belongs_to_sub(self, api_client, make_token):
        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {make_token('user_sub_1')}")

        assert response.status_code == 201
        assert response.json()["user_id"] == "user_sub_1"
        assert Task.objects.get().user_id == "user_sub_1"

    def test_better_auth_session_token_authenticates_as_session_user_id(self, api_client):
        token = sign(better_auth_session_payload("u1"))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 201
        assert response.json()["user_id"] == "u1"

    def test_session_token_sees_the_same_tasks_as_a_sub_token_for_that_user(self, api_client, make_token, make_task):
        task = make_task(user_id="u1")
        session_token = sign(better_auth_session_payload("u1"))

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {session_token}")

        assert response.status_code == 200
        assert [item["id"] for item in response.json()["items"]] == [task.id]

    def test_sub_wins_over_session_user_id_with_the_default_claim_order(self, api_client):
        token = sign(better_auth_session_payload("from-session", sub="from-sub"))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 201
        assert response.json()["user_id"] == "from-sub"

    @pytest.mark.parametrize(
        "user_id",
        ["Qm9iJ3MgdXNlciBpZA", "alice@example.com", "ユーザー١", "a", "x" * 255],
        ids=["better-auth-id", "email", "non-latin", "one-char", "255-chars"],
    )
    def test_usable_user_ids_are_accepted_and_stored_exactly(self, api_client, make_token, user_id):
        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {make_token(user_id)}")

        assert response.status_code == 201
        assert response.json()["user_id"] == user_id
        assert Task.objects.get().user_id == user_id

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
    def test_scheme_name_is_case_insensitive(self, api_client, make_token, scheme):
        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"{scheme} {make_token('alice')}")

        assert response.status_code == 200

    def test_token_with_is_staff_claims_is_still_an_ordinary_api_user(self, api_client, make_token):
        token = make_token("alice", is_staff=True, is_superuser=True)

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200


# --- Configured user id claims --------------------------------------------------


@pytest.mark.django_db
class TestConfiguredUserIdClaims:
    def test_configured_order_is_honoured_when_both_claims_are_present(self, api_client, settings):
        settings.JWT_USER_ID_CLAIMS = ["session.userId", "sub"]
        token = sign(better_auth_session_payload("from-session", sub="from-sub"))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 201
        assert response.json()["user_id"] == "from-session"

    def test_configured_claim_replaces_the_defaults(self, api_client, make_token, settings):
        settings.JWT_USER_ID_CLAIMS = ["uid"]

        accepted = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {make_token(None, uid='custom-1')}")
        refused = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {make_token('alice')}")

        assert accepted.status_code == 201
        assert accepted.json()["user_id"] == "custom-1"
        assert assert_unauthorized(refused).startswith("Invalid token")
        assert Task.objects.count() == 1

    def test_configured_nested_claim_path_is_followed(self, api_client, make_token, settings):
        settings.JWT_USER_ID_CLAIMS = ["user.id"]
        token = make_token(None, user={"id": "nested-7", "email": "n@example.com"})

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 201
        assert response.json()["user_id"] == "nested-7"

    def test_session_only_configuration_refuses_a_sub_only_token(self, api_client, make_token, settings):
        settings.JWT_USER_ID_CLAIMS = ["session.userId"]

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {make_token('alice')}")

        assert assert_unauthorized(response).startswith("Invalid token")
        assert not Task.objects.exists()

    def test_first_present_claim_decides_even_when_it_is_unusable(self, api_client):
        token = sign(better_auth_session_payload("u1", sub=""))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert assert_unauthorized(response).startswith("Invalid token")
        assert not Task.objects.exists()


# --- Time claims and leeway ------------------------------------------------------


@pytest.mark.django_db
class TestTimeClaims:
    def test_token_expired_within_the_leeway_is_accepted(self, api_client, make_token):
        token = make_token("alice", expires_in=timedelta(seconds=-10), iat=int(time.time()) - 600)

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200

    def test_expired_token_is_rejected_with_token_has_expired(self, api_client, make_token):
        token = make_token("alice", expires_in=timedelta(seconds=-60), iat=int(time.time()) - 600)

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert assert_unauthorized(response) == EXPIRED
        assert not Task.objects.exists()

    def test_long_expired_token_is_rejected_with_token_has_expired(self, api_client, make_token):
        token = make_token("alice", expires_in=timedelta(days=-1), iat=int(time.time()) - 2 * 86400)

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert assert_unauthorized(response) == EXPIRED

    def test_configured_leeway_is_honoured(self, api_client, make_token, settings):
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 0}
        token = make_token("alice", expires_in=timedelta(seconds=-10), iat=int(time.time()) - 600)

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert assert_unauthorized(response) == EXPIRED

    def test_wider_configured_leeway_accepts_a_token_expired_a_minute_ago(self, api_client, make_token, settings):
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 120}
        token = make_token("alice", expires_in=timedelta(seconds=-60), iat=int(time.time()) - 600)

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200

    def test_nbf_within_the_leeway_is_accepted(self, api_client, make_token):
        token = make_token("alice", nbf=int(time.time()) + 10)

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200

    def test_token_not_yet_valid_is_rejected(self, api_client, make_token):
        token = make_token("alice", nbf=int(time.time()) + 3600, expires_in=timedelta(hours=2))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert "not yet valid" in assert_unauthorized(response)
        assert not Task.objects.exists()

    def test_token_issued_far_in_the_future_is_rejected(self, api_client, make_token):
        token = make_token("alice", iat=int(time.time()) + 3600, expires_in=timedelta(hours=2))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert "not yet valid" in assert_unauthorized(response)
        assert not Task.objects.exists()

    def test_token_without_exp_is_rejected(self, api_client, make_token):
        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {make_token('alice', exp=None)}")

        detail = assert_unauthorized(response)
        assert detail.startswith("Invalid token")
        assert "exp" in detail
        assert not Task.objects.exists()


# --- Issuer and audience -----------------------------------------------------------


@pytest.mark.django_db
class TestIssuerAndAudience:
    @pytest.fixture(autouse=True)
    def _configure(self, settings):
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ISSUER": ISSUER, "AUDIENCE": AUDIENCE}

    def test_token_with_matching_issuer_and_audience_is_accepted(self, api_client, make_token):
        token = make_token("alice", iss=ISSUER, aud=AUDIENCE)

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 201
        assert response.json()["user_id"] == "alice"

    def test_audience_list_containing_the_configured_audience_is_accepted(self, api_client, make_token):
        token = make_token("alice", iss=ISSUER, aud=["https://other.example", AUDIENCE])

        response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200

    @pytest.mark.parametrize(
        "claims",
        [
            {"iss": "https://evil.example", "aud": AUDIENCE},
            {"iss": None, "aud": AUDIENCE},
            {"iss": ISSUER, "aud": "https://other.example"},
            {"iss": ISSUER, "aud": None},
            {"iss": ISSUER, "aud": ["https://other.example"]},
        ],
        ids=["wrong-issuer", "missing-issuer", "wrong-audience", "missing-audience", "audience-list-without-ours"],
    )
    def test_token_not_matching_issuer_or_audience_is_rejected(self, api_client, make_token, claims):
        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {make_token('alice', **claims)}")

        assert assert_unauthorized(response).startswith("Invalid token")
        assert not Task.objects.exists()

    def test_issuer_alone_is_enforced_when_only_it_is_set(self, api_client, make_token, settings):
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ISSUER": ISSUER, "AUDIENCE": None}

        accepted = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {make_token('alice', iss=ISSUER)}")
        refused = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {make_token('alice')}")

        assert accepted.status_code == 200
        assert assert_unauthorized(refused).startswith("Invalid token")


# --- Every kind of failure ----------------------------------------------------------


# The cases of testing.credentials, each with a check that the detail names the
# kind of failure.
def _header_cases():
    for name, build in NOT_PROVIDED_HEADERS.items():
        yield pytest.param(build, lambda detail: detail == NOT_PROVIDED, id=name)
    for name, build in MALFORMED_HEADERS.items():
        yield pytest.param(build, lambda detail: detail.startswith("Invalid"), id=name)
    for name, build in INVALID_TOKENS.items():
        yield pytest.param(
            lambda make_token, build=build: f"Bearer {build(make_token)}",
            lambda detail: detail.startswith("Invalid token"),
            id=name,
        )
    yield pytest.param(
        lambda make_token: f"Bearer {make_token('alice', expires_in=timedelta(seconds=-60))}",
        lambda detail: detail == EXPIRED,
        id="expired",
    )
    yield pytest.param(
        lambda make_token: f"Bearer {make_token('alice', nbf=int(time.time()) + 3600, expires_in=timedelta(hours=2))}",
        lambda detail: "not yet valid" in detail,
        id="not-yet-valid",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("build_header", "detail_is_right"), list(_header_cases()))
class TestRejectedCredentials:
    def _headers(self, build_header, make_token):
        value = build_header(make_token)
        return {} if value is None else {"HTTP_AUTHORIZATION": value}

    def test_create_is_refused_with_401_and_writes_nothing(self, api_client, make_token, build_header, detail_is_right):
        response = create_task(api_client, **self._headers(build_header, make_token))

        detail = assert_unauthorized(response)
        assert detail_is_right(detail), detail
        assert not Task.objects.exists()

    def test_list_is_refused_with_401(self, api_client, make_token, make_task, build_header, detail_is_right):
        make_task(user_id="alice")

        response = api_client.get("/api/tasks", **self._headers(build_header, make_token))

        detail = assert_unauthorized(response)
        assert detail_is_right(detail), detail
        assert "items" not in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", list(UNUSABLE_USER_IDS.values()), ids=list(UNUSABLE_USER_IDS))
class TestUnusableUserId:
    def test_unusable_sub_is_rejected_as_invalid_token(self, api_client, user_id):
        token = sign(fresh_claims(sub=user_id))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert assert_unauthorized(response).startswith("Invalid token")
        assert not Task.objects.exists()

    def test_unusable_session_user_id_is_rejected_as_invalid_token(self, api_client, user_id):
        token = sign(better_auth_session_payload(user_id))

        response = create_task(api_client, HTTP_AUTHORIZATION=f"Bearer {token}")

        assert assert_unauthorized(response).startswith("Invalid token")
        assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("token_name", "named_in_detail"),
    [
        ("bad-signature-other-secret", "signature"),
        ("tampered-payload", "signature"),
        ("alg-none", "algorithm"),
        ("hs384", "algorithm"),
        ("hs512", "algorithm"),
        ("rs256-header-hmac-signed", "algorithm"),
        ("missing-exp", "exp"),
        ("no-user-claim", "user id"),
        ("not-a-jwt", "malformed"),
    ],
)
def test_detail_names_the_kind_of_invalid_token(api_client, make_token, token_name, named_in_detail):
    token = INVALID_TOKENS[token_name](make_token)

    response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

    detail = assert_unauthorized(response)
    assert detail.startswith("Invalid token")
    assert named_in_detail in detail


def test_detail_never_echoes_the_token_or_the_secret(api_client, make_token):
    token = make_token("alice", key=OTHER_SECRET)

    response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert token not in response.content.decode()
    assert settings.SIMPLE_JWT["SIGNING_KEY"] not in response.content.decode()
    assert OTHER_SECRET not in response.content.decode()


# --- Only the Authorization header counts ----------------------------------------------


@pytest.mark.django_db
class TestTokenOutsideTheAuthorizationHeader:
    @pytest.mark.parametrize("parameter", ["token", "access_token", "jwt", "auth", "Authorization"])
    def test_token_in_query_string_does_not_authenticate(self, api_client, make_token, parameter):
        response = api_client.get(f"/api/tasks?{parameter}={make_token('alice')}")

        assert assert_unauthorized(response) == NOT_PROVIDED

    @pytest.mark.parametrize(
        "cookie",
        ["token", "access_token", "jwt", "Authorization", "better-auth.session_token", "better-auth.session_data"],
    )
    def test_token_in_cookie_does_not_authenticate(self, api_client, make_token, cookie):
        api_client.cookies[cookie] = make_token("alice")

        response = api_client.get("/api/tasks")

        assert assert_unauthorized(response) == NOT_PROVIDED

    def test_bearer_value_in_cookie_does_not_authenticate(self, api_client, make_token):
        api_client.cookies["Authorization"] = f"Bearer {make_token('alice')}"

        response = create_task(api_client)

        assert assert_unauthorized(response) == NOT_PROVIDED
        assert not Task.objects.exists()

    def test_token_in_json_body_does_not_authenticate(self, api_client, make_token):
        body = {"title": "Buy milk", "token": make_token("alice"), "access_token": make_token("alice")}

        response = api_client.post("/api/tasks", body, format="json")

        assert assert_unauthorized(response) == NOT_PROVIDED
        assert not Task.objects.exists()

    def test_token_in_query_string_of_a_post_does_not_authenticate(self, api_client, make_token):
        response = api_client.post(f"/api/tasks?access_token={make_token('alice')}", {"title": "x"}, format="json")

        assert assert_unauthorized(response) == NOT_PROVIDED
        assert not Task.objects.exists()


# --- Authentication comes first ----------------------------------------------------------

# (method, path, body, content type) that would get 400/404/405/413/415/422
# if the caller were authenticated.
BAD_REQUESTS = {
    "malformed-json": ("post", "/api/tasks", b'{"title": ', "application/json"),
    "invalid-body": ("post", "/api/tasks", b'{"title": ""}', "application/json"),
    "not-json": ("post", "/api/tasks", b"title=x", "application/x-www-form-urlencoded"),
    "body-too-large": ("post", "/api/tasks", b'{"title": "' + b"x" * (1024 * 1024 + 10) + b'"}', "application/json"),
    "bad-status-filter": ("get", "/api/tasks?status=bogus", None, None),
    "empty-status-filter": ("get", "/api/tasks?status=", None, None),
    "unknown-id": ("get", "/api/tasks/999999", None, None),
    "non-numeric-id": ("get", "/api/tasks/abc", None, None),
    "out-of-range-id": ("get", "/api/tasks/99999999999999999999999", None, None),
    "put-unknown-id": ("put", "/api/tasks/999999", b'{"title": "x"}', "application/json"),
    "patch-malformed-json": ("patch", "/api/tasks/999999", b"{", "application/json"),
    "delete-unknown-id": ("delete", "/api/tasks/999999", None, None),
    "complete-unknown-id": ("patch", "/api/tasks/999999/complete", None, None),
    "delete-on-collection": ("delete", "/api/tasks", None, None),
    "put-on-collection": ("put", "/api/tasks", b'{"title": "x"}', "application/json"),
    "patch-on-collection": ("patch", "/api/tasks", b'{"title": "x"}', "application/json"),
    "post-on-item": ("post", "/api/tasks/1", b'{"title": "x"}', "application/json"),
    "get-on-complete": ("get", "/api/tasks/1/complete", None, None),
    "trailing-slash-collection": ("get", "/api/tasks/?status=bogus", None, None),
    "trailing-slash-item": ("get", "/api/tasks/999999/", None, None),
}


@pytest.mark.django_db
@pytest.mark.parametrize("request_spec", list(BAD_REQUESTS.values()), ids=list(BAD_REQUESTS))
@pytest.mark.parametrize(
    "build_header",
    [
        pytest.param(lambda make_token: None, id="no-token"),
        pytest.param(lambda make_token: f"Bearer {make_token('alice', expires_in=timedelta(hours=-1))}", id="expired"),
        pytest.param(lambda make_token: "Bearer not-a-jwt", id="malformed-token"),
    ],
)
def test_unauthenticated_request_gets_401_before_any_parsing_validation_or_lookup(
    api_client, make_token, request_spec, build_header
):
    method, path, body, content_type = request_spec
    header = build_header(make_token)
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    if body is not None:
        extra["data"] = body
        extra["content_type"] = content_type

    response = getattr(api_client, method)(path, **extra)

    assert_unauthorized(response)
    assert not Task.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_unauthenticated_request_for_an_existing_task_gets_401_not_its_data(api_client, make_task, method):
    task = make_task(user_id="alice", title="Secret plans")

    body = {} if method == "get" else {"data": b'{"title": "Changed"}', "content_type": "application/json"}

    response = getattr(api_client, method)(f"/api/tasks/{task.id}", **body)

    assert assert_unauthorized(response) == NOT_PROVIDED
    assert "Secret plans" not in response.content.decode()
    task.refresh_from_db()
    assert task.title == "Secret plans"


@pytest.mark.django_db
def test_unauthenticated_toggle_of_an_existing_task_changes_nothing(api_client, make_task):
    task = make_task(user_id="alice")

    response = api_client.patch(f"/api/tasks/{task.id}/complete")

    assert assert_unauthorized(response) == NOT_PROVIDED
    task.refresh_from_db()
    assert task.completed is False


# --- Tokens never reach the admin ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/tasks/task/"])
def test_token_claiming_staff_does_not_log_into_the_admin(make_token, path):
    token = make_token("alice", is_staff=True, is_superuser=True, is_active=True, role="admin")

    response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
