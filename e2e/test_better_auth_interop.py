"""Interop with the real Better Auth (interop/better-auth, `npm ci` there first):
two people sign up with it, and the tokens it hands out — the jwt() plugin's
token from /api/auth/token (EdDSA, verified with its JWKS) and the cookie
cache's `better-auth.session_data` JWT (HS256 with the shared secret) — drive
this service under gunicorn. A second Better Auth instance with other keys
and another secret is refused, and a rotated key is picked up live."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator

import jwt
import pytest
import requests

from e2e.better_auth import BetterAuthServer, BetterAuthUser, installed_version, interop_installed
from e2e.live import LiveService
from testing.environments import deployment_env

if not interop_installed():
    if os.environ.get("CI"):
        pytest.fail("interop tests need Node and `npm ci` in interop/better-auth", pytrace=False)
    pytest.skip("run `npm ci --prefix interop/better-auth` for the Better Auth interop tests", allow_module_level=True)

REFRESH_SECONDS = 1


@pytest.fixture(scope="module")
def better_auth(better_auth_secret: str) -> Iterator[BetterAuthServer]:
    """The app's Better Auth: shares BETTER_AUTH_SECRET with the service."""
    with BetterAuthServer(better_auth_secret, name="better-auth") as server:
        yield server


@pytest.fixture(scope="module")
def impostor(better_auth: BetterAuthServer) -> Iterator[BetterAuthServer]:
    """Another Better Auth claiming the same origin, with its own keys and secret."""
    with BetterAuthServer(secrets.token_urlsafe(40), name="impostor", base_url=better_auth.base_url) as server:
        yield server


@pytest.fixture(scope="module")
def service(e2e_database: str, better_auth_secret: str, better_auth: BetterAuthServer) -> Iterator[LiveService]:
    env = deployment_env(
        e2e_database,
        better_auth_secret,
        BETTER_AUTH_URL=better_auth.base_url,
        BETTER_AUTH_JWKS_REFRESH_SECONDS=str(REFRESH_SECONDS),
    )
    with LiveService(env, name="interop") as live:
        yield live


@pytest.fixture(scope="module")
def alice(better_auth: BetterAuthServer) -> BetterAuthUser:
    return better_auth.sign_up("Alice")


@pytest.fixture(scope="module")
def bob(better_auth: BetterAuthServer) -> BetterAuthUser:
    return better_auth.sign_up("Bob")


def call(service: LiveService, method: str, path: str, token: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, service.url(path), headers=headers, timeout=10, **kwargs)


def create_task(service: LiveService, token: str, title: str) -> dict:
    response = call(service, "POST", "/api/tasks", token, json={"title": title})
    assert response.status_code == 201, response.text
    return response.json()


def test_better_auth_version_is_the_pinned_one():
    assert installed_version() == "1.7.25"


def test_token_from_api_auth_token_is_an_eddsa_jwt_for_the_better_auth_origin(better_auth, alice):
    token = alice.jwt()
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})

    assert header["alg"] == "EdDSA"
    assert header["kid"] in {key["kid"] for key in better_auth.jwks()["keys"]}
    assert claims["sub"] == alice.id
    assert claims["iss"] == claims["aud"] == better_auth.base_url


def test_session_data_cookie_is_an_hs256_jwt_with_the_user_id_at_session_user_id(alice):
    cookie = alice.session_data_cookie()

    assert jwt.get_unverified_header(cookie)["alg"] == "HS256"
    assert jwt.decode(cookie, options={"verify_signature": False})["session"]["userId"] == alice.id


def test_jwks_token_creates_a_task_owned_by_the_better_auth_user(service, alice, pg):
    task = create_task(service, alice.jwt(), "from the jwt() plugin")

    assert task["user_id"] == alice.id
    stored = pg.execute("SELECT user_id FROM tasks_task WHERE id = %s", [task["id"]]).fetchone()
    assert stored == (alice.id,)


def test_session_cookie_jwt_is_the_same_user_as_the_jwks_token(service, alice):
    task = create_task(service, alice.jwt(), "seen through both tokens")

    listed = call(service, "GET", "/api/tasks", alice.session_data_cookie())

    assert listed.status_code == 200, listed.text
    assert task["id"] in [item["id"] for item in listed.json()["items"]]
    assert {item["user_id"] for item in listed.json()["items"]} == {alice.id}


@pytest.mark.parametrize("kind", ["jwt", "session_data_cookie"])
def test_users_never_see_or_touch_each_others_tasks(service, alice, bob, kind):
    alices = create_task(service, alice.jwt(), "alice only")
    bobs_token = getattr(bob, kind)()

    listed = call(service, "GET", "/api/tasks", bobs_token).json()
    assert alices["id"] not in [item["id"] for item in listed["items"]]
    for method, kwargs in [("GET", {}), ("PATCH", {"json": {"title": "mine"}}), ("DELETE", {})]:
        assert call(service, method, f"/api/tasks/{alices['id']}", bobs_token, **kwargs).status_code == 404
    assert call(service, "PATCH", f"/api/tasks/{alices['id']}/complete", bobs_token).status_code == 404

    still_there = call(service, "GET", f"/api/tasks/{alices['id']}", alice.jwt())
    assert still_there.json()["title"] == "alice only"
    assert still_there.json()["completed"] is False


def test_tokens_from_another_better_auth_instance_are_refused(service, impostor):
    mallory = impostor.sign_up("Mallory")
    for token, detail in [
        (mallory.jwt(), "Invalid token: unknown signing key"),
        (mallory.session_data_cookie(), "Invalid token: signature verification failed"),
    ]:
        response = call(service, "POST", "/api/tasks", token, json={"title": "intrusion"})
        assert response.status_code == 401, response.text
        assert response.json()["detail"] == detail


def test_rotated_key_is_picked_up_without_restarting_the_service(service, better_auth, alice):
    pid = service.process.pid
    old_token = alice.jwt()
    assert call(service, "GET", "/api/tasks", old_token).status_code == 200

    better_auth.rotate_keys()
    new_token = alice.jwt()
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]

    # Each gunicorn worker refetches the JWKS for the new kid at most once per
    # REFRESH_SECONDS; poll a bounded number of times until they have.
    statuses = []
    for _ in range(40):
        statuses.append(call(service, "GET", "/api/tasks", new_token).status_code)
        if statuses[-4:] == [200] * 4:
            break
        time.sleep(0.25)
    assert statuses[-4:] == [200] * 4, statuses
    assert set(statuses) <= {200, 401}

    # The old key stays published for Better Auth's grace period.
    assert call(service, "GET", "/api/tasks", old_token).status_code == 200
    assert service.process.pid == pid and service.process.poll() is None
