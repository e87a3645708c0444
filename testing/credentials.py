"""Tokens signed with the test settings' shared secret (SIMPLE_JWT's signing
key, read when called), and the catalogue of bad credentials that
api/tests/test_authentication.py pins on create and list and
api/tests/test_token_attacks.py tries against every write."""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

import jwt
from django.conf import settings

from testing.tokens import hs256_signed

if TYPE_CHECKING:
    from testing.assertions import TestResponse

NOT_PROVIDED = "Authentication credentials were not provided."
EXPIRED = "Token has expired"
OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-signing"
ISSUER = "https://issuer.example"
AUDIENCE = "https://todo-api.example"


def signing_key() -> str:
    return settings.SIMPLE_JWT["SIGNING_KEY"]


def sign(payload: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
    """A token with exactly this payload (no claims added or dropped)."""
    return jwt.encode(payload, key or signing_key(), algorithm=algorithm)


def forge(header: dict[str, Any], payload: dict[str, Any], *, key: str | None = None) -> str:
    """A token with an arbitrary header, HMAC-SHA256-signed with the shared
    secret: what an attacker sends to try algorithm confusion."""
    return hs256_signed(json.dumps(header), json.dumps(payload), key or signing_key())


def signed_text(header_json: str, payload_json: str) -> str:
    """HS256-signed with the real secret over hand-written JSON: what only the
    secret's holder could send, and still must not get past the checks."""
    return hs256_signed(header_json, payload_json, signing_key())


def tamper(token: str, **claims: Any) -> str:
    """A genuine token whose payload was swapped for another one, signature kept."""
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(fresh_claims(**claims)).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def fresh_claims(**claims: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iat": now, "exp": now + 300, **claims}


def better_auth_session_payload(user_id: Any, **claims: Any) -> dict[str, Any]:
    """The shape of Better Auth's session-cookie JWT: the id lives in session.userId."""
    now = int(time.time())
    return {
        "session": {
            "id": "sess_01",
            "userId": user_id,
            "token": "opaque-session-token",
            "expiresAt": "2099-01-01T00:00:00.000Z",
        },
        "user": {"id": "ignored-by-the-api", "email": "alice@example.com", "name": "Alice"},
        "iat": now,
        "exp": now + 300,
        **claims,
    }


def assert_unauthorized(response: TestResponse) -> str:
    """A 401 JSON answer asking for a Bearer token; returns its detail."""
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    return detail


# --- Every kind of failure ----------------------------------------------------------

# Each case builds the Authorization header value (None: no header) from the
# make_token fixture.
NOT_PROVIDED_HEADERS = {
    "no-header": lambda make_token: None,
    "empty-header": lambda make_token: "",
    "basic-scheme": lambda make_token: "Basic YWxpY2U6c2VjcmV0",
    "token-scheme": lambda make_token: f"Token {make_token('alice')}",
    "jwt-scheme": lambda make_token: f"JWT {make_token('alice')}",
    "token-without-scheme": lambda make_token: make_token("alice"),
}

MALFORMED_HEADERS = {
    "bearer-without-token": lambda make_token: "Bearer",
    "bearer-with-only-spaces": lambda make_token: "Bearer   ",
    "three-parts": lambda make_token: f"Bearer {make_token('alice')} extra",
    "three-parts-split-token": lambda make_token: "Bearer abc def",
    "non-latin-1-value": lambda make_token: "Bearer tok€n",
}

INVALID_TOKENS = {
    "not-a-jwt": lambda make_token: "not-a-jwt",
    "garbage-three-segments": lambda make_token: "a.b.c",
    "empty-segments": lambda make_token: "..",
    "two-segments": lambda make_token: ".".join(make_token("alice").split(".")[:2]),
    "latin-1-garbage": lambda make_token: "tökén",
    "truncated-signature": lambda make_token: make_token("alice")[:-5],
    "bad-signature-other-secret": lambda make_token: make_token("alice", key=OTHER_SECRET),
    "tampered-payload": lambda make_token: tamper(make_token("alice"), sub="bob"),
    # "" is PyJWT's other spelling of no key, the one its annotations accept.
    "alg-none": lambda make_token: jwt.encode(fresh_claims(sub="alice"), "", algorithm="none"),
    "alg-none-uppercase": lambda make_token: forge({"alg": "None", "typ": "JWT"}, fresh_claims(sub="alice")),
    "hs384": lambda make_token: make_token("alice", algorithm="HS384"),
    "hs512": lambda make_token: make_token("alice", algorithm="HS512"),
    "rs256-header-hmac-signed": lambda make_token: forge({"alg": "RS256", "typ": "JWT"}, fresh_claims(sub="alice")),
    "es256-header-hmac-signed": lambda make_token: forge({"alg": "ES256", "typ": "JWT"}, fresh_claims(sub="alice")),
    "missing-exp": lambda make_token: make_token("alice", exp=None),
    "no-user-claim": lambda make_token: make_token(None),
    "sub-null": lambda make_token: sign(fresh_claims(sub=None)),
}

UNUSABLE_USER_IDS = {
    "integer": 12345,
    "float": 1.5,
    "true": True,
    "false": False,
    "list": ["alice"],
    "empty-list": [],
    "object": {"id": "alice"},
    "empty-string": "",
    "256-chars": "x" * 256,
    "nul": "ali\x00ce",
    "leading-nul": "\x00",
    "control-char": "ali\x01ce",
    "escape-char": "ali\x1bce",
    "newline": "alice\n",
    "tab": "ali\tce",
    "delete-char": "ali\x7fce",
    "c1-control": "ali\x85ce",
    "unpaired-surrogate": "ali\ud800ce",
}
