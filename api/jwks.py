"""Better Auth's public signing keys (its JWKS), fetched and cached per process.

PyJWT's `PyJWKClient` was not enough on its own: it drops its whole cache when
the lifetime ends (a JWKS outage then refuses tokens signed with keys it knew a
second earlier), and while the endpoint is down every request for an unknown
key tries a fetch of its own, each waiting out the timeout behind a lock.

`JWKSCache` keeps the rule simple: at most one fetch attempt — successful or
not — per `min_refresh_seconds`, made by one thread while the others wait for
its result. A key id that is still unknown afterwards is refused (401) without
another fetch, so forged ids cannot multiply requests to Better Auth. When the
endpoint cannot be reached and no key is known for the token, the answer is
`JWKSUnavailable` (503): the token may well be valid. Keys already fetched stay
usable through an outage, past their cache lifetime, until a fetch succeeds.
"""

import json
import logging
import threading
import urllib.request
from http.client import HTTPException
from time import monotonic
from typing import Any
from urllib.error import URLError

import jwt

# What Better Auth's jwt() plugin can sign with, and the key each needs.
ALGORITHMS_BY_KEY_TYPE: dict[tuple[str, str | None], frozenset[str]] = {
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("RSA", None): frozenset({"RS256", "PS256"}),
}
ASYMMETRIC_ALGORITHMS: frozenset[str] = frozenset().union(*ALGORITHMS_BY_KEY_TYPE.values())
MAX_JWKS_BYTES = 256 * 1024

logger = logging.getLogger(__name__)


class JWKSUnavailable(Exception):
    """The JWKS endpoint could not be reached or answered with something unusable."""


class UnknownSigningKey(jwt.InvalidTokenError):
    """The token names a key the (freshly fetched) JWKS does not hold."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch_jwks(url: str, timeout: float) -> dict[str, Any]:
    """GET the JWKS document at `url`; JWKSUnavailable on any failure."""
    opener = urllib.request.build_opener(_NoRedirects())
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (http(s) checked at start-up)
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_JWKS_BYTES + 1)
    except (URLError, HTTPException, OSError) as error:
        raise JWKSUnavailable(type(error).__name__) from error
    if len(body) > MAX_JWKS_BYTES:
        raise JWKSUnavailable("document too large")
    try:
        document = json.loads(body)
    except ValueError as error:
        raise JWKSUnavailable("not JSON") from error
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JWKSUnavailable("no 'keys' list")
    return document


class SigningKey:
    """One public key from the JWKS and the algorithms it may verify."""

    def __init__(self, jwk: dict[str, Any]) -> None:
        # Untrusted JSON: a kty of another type is simply not found below.
        kty: Any = jwk.get("kty")
        crv = jwk.get("crv")
        allowed = ALGORITHMS_BY_KEY_TYPE.get((kty, None if kty == "RSA" else crv), frozenset())
        if "alg" in jwk:
            allowed = allowed & {jwk["alg"]}
        if not allowed:
            raise jwt.InvalidKeyError("key type and algorithm are not accepted")
        self.algorithms = allowed
        self.key = jwt.PyJWK(jwk, algorithm=next(iter(allowed))).key

    def verifying_key_for(self, algorithm: str) -> Any:
        if algorithm not in self.algorithms:
            raise jwt.InvalidAlgorithmError("the signing key does not allow this algorithm")
        return self.key


def parse_keys(document: dict[str, Any]) -> dict[str, SigningKey]:
    """Usable signing keys by `kid`; keys this service cannot use are skipped."""
    keys: dict[str, SigningKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
            continue
        try:
            keys[jwk["kid"]] = SigningKey(jwk)
        except (jwt.PyJWTError, ValueError, TypeError):
            continue
    return keys


class JWKSCache:
    """Keys by `kid` from one JWKS URL, refreshed at most once per interval."""

    def __init__(
        self,
        url: str,
        *,
        lifetime_seconds: float,
        min_refresh_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self.url = url
        self.lifetime = lifetime_seconds
        self.min_refresh = min_refresh_seconds
        self.timeout = timeout_seconds
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_attempt_failed = False

    def get(self, kid: str) -> SigningKey:
        """The key for `kid`: UnknownSigningKey (401) or JWKSUnavailable (503)."""
        key = self._keys.get(kid)
        if key is not None and self._is_fresh():
            return key
        with self._lock:
            # Another thread may have refreshed while this one waited.
            key = self._keys.get(kid)
            if key is not None and self._is_fresh():
                return key
            if self._may_refresh():
                self._refresh()
            key = self._keys.get(kid)
            if key is not None:
                return key
            if self._last_attempt_failed:
                raise JWKSUnavailable("no signing key available: the JWKS endpoint is unreachable")
            raise UnknownSigningKey("the token's key id is not in the JWKS")

    def _is_fresh(self) -> bool:
        return self._fetched_at is not None and monotonic() - self._fetched_at < self.lifetime

    def _may_refresh(self) -> bool:
        return self._attempted_at is None or monotonic() - self._attempted_at >= self.min_refresh

    def _refresh(self) -> None:
        self._attempted_at = monotonic()
        try:
            self._keys = parse_keys(fetch_jwks(self.url, self.timeout))
        except JWKSUnavailable as error:
            logger.warning("JWKS fetch from %s failed: %s", self.url, error)
            self._last_attempt_failed = True
            return
        self._fetched_at = monotonic()
        self._last_attempt_failed = False
