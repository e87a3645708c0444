"""HS256 tokens as Better Auth's cookie cache signs them (here: with PyJWT), and
raw signing for hand-built tokens. No Django: bench/ uses this too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any

import jwt


def mint(
    secret: str,
    user_id: Any,
    *,
    expires_in: timedelta = timedelta(minutes=10),
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """A token for `user_id` (its `sub`), issued now, expiring after `expires_in`.
    `claims` are added or override these; a claim given as None is left out."""
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + int(expires_in.total_seconds()), **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, secret, algorithm=algorithm)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as in a JWT."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_signed(header_json: str, payload_json: str, secret: str | bytes) -> str:
    """A token over exactly this header and payload JSON text, HMAC-SHA256-signed
    with `secret`, whatever the header claims: what an attacker (or the holder
    of the secret) can send that PyJWT would refuse to build."""
    key = secret.encode() if isinstance(secret, str) else secret
    signing_input = f"{b64url(header_json.encode())}.{b64url(payload_json.encode())}"
    return f"{signing_input}.{b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"
