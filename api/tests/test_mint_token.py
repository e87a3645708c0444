"""`manage.py mint_token USER_ID [--minutes N]`: prints a token the service accepts."""

import io
import time
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

ISSUER = "https://issuer.example"
AUDIENCE = "https://todo-api.example"


def mint(*args):
    out = io.StringIO()
    call_command("mint_token", *args, stdout=out)
    return out.getvalue().strip()


def decode(token: str) -> dict[str, Any]:
    conf = settings.SIMPLE_JWT
    return jwt.decode(
        token,
        conf["SIGNING_KEY"],
        algorithms=["HS256"],
        issuer=conf["ISSUER"],
        audience=conf["AUDIENCE"],
        options={"verify_aud": conf["AUDIENCE"] is not None},
    )


def list_tasks(api_client, token):
    return api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.django_db
class TestMintedToken:
    def test_printed_token_is_a_single_hs256_jwt(self):
        token = mint("alice")

        assert len(token.splitlines()) == 1
        assert jwt.get_unverified_header(token)["alg"] == "HS256"

    def test_printed_token_authenticates_as_the_user(self, api_client, make_task):
        own = make_task(user_id="alice", title="Alice's")
        make_task(user_id="bob", title="Bob's")

        response = list_tasks(api_client, mint("alice"))

        assert response.status_code == 200
        assert [item["id"] for item in response.json()["items"]] == [own.id]

    def test_task_created_with_the_printed_token_belongs_to_the_user(self, api_client):
        token = mint("Qm9iJ3MgdXNlciBpZA")

        response = api_client.post(
            "/api/tasks", {"title": "Buy milk"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

        assert response.status_code == 201
        assert response.json()["user_id"] == "Qm9iJ3MgdXNlciBpZA"

    def test_255_character_user_id_is_accepted(self, api_client):
        user_id = "u" * 255

        token = mint(user_id)

        assert decode(token)["sub"] == user_id
        assert list_tasks(api_client, token).status_code == 200


class TestLifetime:
    def test_minutes_sets_the_expiry(self):
        before = time.time()

        payload = decode(mint("alice", "--minutes", "5"))

        assert before + 300 - 2 <= payload["exp"] <= time.time() + 300 + 2

    def test_default_lifetime_is_an_hour(self):
        before = time.time()

        payload = decode(mint("alice"))

        assert before + 3600 - 2 <= payload["exp"] <= time.time() + 3600 + 2

    def test_token_is_issued_now(self):
        before = time.time()

        payload = decode(mint("alice", "--minutes", "1"))

        assert before - 2 <= payload["iat"] <= time.time() + 2


class TestInvalidArguments:
    @pytest.mark.parametrize(
        "user_id", ["", "x" * 256, "ali\x00ce", "alice\n"], ids=["empty", "256-chars", "nul", "newline"]
    )
    def test_unusable_user_id_is_refused(self, user_id):
        out = io.StringIO()

        with pytest.raises(CommandError):
            call_command("mint_token", user_id, stdout=out)

        assert out.getvalue() == ""

    @pytest.mark.parametrize("minutes", ["0", "-5"])
    def test_lifetime_below_one_minute_is_refused(self, minutes):
        out = io.StringIO()

        with pytest.raises(CommandError):
            call_command("mint_token", "alice", "--minutes", minutes, stdout=out)

        assert out.getvalue() == ""

    def test_lifetime_longer_than_the_service_accepts_is_refused(self, settings):
        settings.JWT_MAX_AGE_SECONDS = 30 * 60
        out = io.StringIO()

        with pytest.raises(CommandError, match="JWT_MAX_AGE_SECONDS"):
            call_command("mint_token", "alice", "--minutes", "31", stdout=out)

        assert out.getvalue() == ""

    def test_non_numeric_minutes_is_refused(self):
        with pytest.raises(CommandError):
            call_command("mint_token", "alice", "--minutes", "soon", stdout=io.StringIO())

    def test_missing_user_id_is_refused(self):
        with pytest.raises(CommandError):
            call_command("mint_token", stdout=io.StringIO())


@pytest.mark.django_db
class TestConfiguration:
    def test_session_user_id_claim_carries_the_id_when_configured(self, api_client, settings):
        settings.JWT_USER_ID_CLAIMS = ["session.userId"]

        token = mint("u1")

        payload = decode(token)
        assert payload["session"]["userId"] == "u1"
        assert "sub" not in payload
        response = api_client.post(
            "/api/tasks", {"title": "Buy milk"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 201
        assert response.json()["user_id"] == "u1"

    def test_issuer_and_audience_are_carried_when_configured(self, api_client, settings):
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ISSUER": ISSUER, "AUDIENCE": AUDIENCE}

        token = mint("alice")

        payload = decode(token)
        assert payload["iss"] == ISSUER
        assert payload["aud"] == AUDIENCE
        assert list_tasks(api_client, token).status_code == 200

    def test_issuer_alone_is_carried_when_only_it_is_configured(self, api_client, settings):
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ISSUER": ISSUER, "AUDIENCE": None}

        token = mint("alice")

        payload = decode(token)
        assert payload["iss"] == ISSUER
        assert "aud" not in payload
        assert list_tasks(api_client, token).status_code == 200

    def test_no_issuer_or_audience_when_none_is_configured(self):
        payload = decode(mint("alice"))

        assert "iss" not in payload
        assert "aud" not in payload

    def test_token_is_signed_with_the_configured_secret(self, api_client, settings):
        secret = "a-freshly-configured-better-auth-secret-0123456789"
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": secret}

        token = mint("alice")

        assert jwt.decode(token, secret, algorithms=["HS256"])["sub"] == "alice"
        assert list_tasks(api_client, token).status_code == 200


def test_without_the_shared_secret_no_token_is_minted(settings):
    """JWKS mode with no BETTER_AUTH_SECRET: the service accepts no HS256 token."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": None}

    with pytest.raises(CommandError, match="BETTER_AUTH_SECRET is not set"):
        call_command("mint_token", "alice", stdout=io.StringIO())
