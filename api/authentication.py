"""Better Auth tokens, verified with djangorestframework-simplejwt's stateless
machinery: no user rows, the token is the user.

Each token is checked by the one mode its header's `alg` names, never both:
HS256 with `BETTER_AUTH_SECRET`, or — when `BETTER_AUTH_URL` is set — EdDSA,
ES256, ES512, PS256 or RS256 with a public key from Better Auth's JWKS (see
`api.jwks`), `iss` and `aud` enforced. Any other `alg` goes to the HS256
backend, which refuses it.

The user id is read from the first of `settings.JWT_USER_ID_CLAIMS` present in
the token: `sub` for tokens a frontend mints, `session.userId` for Better
Auth's own session JWT (its cookie cache with strategy "jwt").
"""

from datetime import timedelta
from functools import cache
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.tokens import Token

from api.exceptions import SigningKeysUnavailable
from api.jwks import ASYMMETRIC_ALGORITHMS, JWKSCache, JWKSUnavailable, UnknownSigningKey
from api.users import is_valid_user_id

_MISSING = object()
_TIME_CLAIMS = ("exp", "nbf", "iat")
# PyJWT's own wording for each failure is clear and never echoes the token or
# the key; these are the ones worth a sharper name.
_FAILURE_DETAILS: list[tuple[type[Exception], str]] = [
    (jwt.ImmatureSignatureError, "Token is not yet valid"),
    (jwt.InvalidSignatureError, "Invalid token: signature verification failed"),
    (jwt.InvalidAlgorithmError, "Invalid token: algorithm not allowed"),
    (jwt.InvalidAudienceError, "Invalid token: wrong audience"),
    (jwt.InvalidIssuerError, "Invalid token: wrong issuer"),
    (UnknownSigningKey, "Invalid token: unknown signing key"),
    (jwt.MissingRequiredClaimError, "Invalid token: missing a required claim"),
    (jwt.DecodeError, "Invalid token: malformed"),
]


@cache
def _token_backend(algorithm: str, key: str, audience: str | None, issuer: str | None, leeway: int) -> TokenBackend:
    return TokenBackend(algorithm, key, audience=audience, issuer=issuer, leeway=leeway)


def token_backend() -> TokenBackend:
    """The HS256 backend for the current SIMPLE_JWT settings (tests override
    them; simplejwt reloads its api_settings when they do). TokenError when
    no BETTER_AUTH_SECRET is configured (JWKS mode): HS256 tokens are refused."""
    conf = simplejwt_settings.api_settings
    if not conf.SIGNING_KEY:
        raise TokenError("Invalid token: algorithm not allowed")
    return _token_backend(conf.ALGORITHM, conf.SIGNING_KEY, conf.AUDIENCE, conf.ISSUER, conf.LEEWAY)


@cache
def jwks_cache(url: str, lifetime: int, min_refresh: int, timeout: int) -> JWKSCache:
    """One key cache per process (and per configuration, for tests)."""
    return JWKSCache(url, lifetime_seconds=lifetime, min_refresh_seconds=min_refresh, timeout_seconds=timeout)


class JWKSTokenBackend(TokenBackend):
    """simplejwt's decoding with the verifying key taken from the JWKS by `kid`;
    verify only, never sign."""

    def __init__(
        self, algorithm: str, keys: JWKSCache, *, kid: Any, audience: str | None, issuer: str | None, leeway: int
    ) -> None:
        super().__init__(algorithm, audience=audience, issuer=issuer, leeway=leeway)
        self.keys = keys
        self.kid = kid  # from the token's header, which backend_for has already read

    # simplejwt annotates its token parameters as Token; they hold the encoded token.
    def get_verifying_key(self, token: bytes | str) -> Any:  # type: ignore[override]
        kid = self.kid
        if not isinstance(kid, str):
            raise UnknownSigningKey("the token names no key id")
        try:
            return self.keys.get(kid).verifying_key_for(self.algorithm)
        except JWKSUnavailable:
            # Not a token problem: the token may be valid, so not a 401.
            raise SigningKeysUnavailable() from None

    def encode(self, payload: dict[str, Any]) -> str:
        raise NotImplementedError("Better Auth signs JWKS tokens; this service only verifies them")


def jwks_token_backend(algorithm: str, kid: Any) -> JWKSTokenBackend:
    keys = jwks_cache(
        settings.BETTER_AUTH_JWKS_URL,
        settings.BETTER_AUTH_JWKS_CACHE_SECONDS,
        settings.BETTER_AUTH_JWKS_REFRESH_SECONDS,
        settings.BETTER_AUTH_JWKS_TIMEOUT_SECONDS,
    )
    return JWKSTokenBackend(
        algorithm,
        keys,
        kid=kid,
        audience=settings.BETTER_AUTH_JWKS_AUDIENCE,
        issuer=settings.BETTER_AUTH_JWKS_ISSUER,
        leeway=simplejwt_settings.api_settings.LEEWAY,
    )


def backend_for(raw_token: bytes | str) -> TokenBackend:
    """The backend the token's header asks for, if that mode is enabled;
    otherwise the HS256 one, which refuses any other algorithm."""
    if not settings.BETTER_AUTH_URL:
        return token_backend()  # HS256 only: no header to read before PyJWT's own
    try:
        header = jwt.get_unverified_header(raw_token)
    except jwt.PyJWTError as error:
        raise TokenError("Invalid token: malformed") from error
    algorithm = header.get("alg")
    # `alg` is attacker-controlled JSON: it may be a list or an object.
    if isinstance(algorithm, str) and algorithm in ASYMMETRIC_ALGORITHMS:
        return jwks_token_backend(algorithm, header.get("kid"))
    return token_backend()


def _is_numeric_date(value: Any) -> bool:
    # PyJWT passes each time claim through int(), which also accepts "1700000000".
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lifetime_exceeds_the_maximum(payload: dict[str, Any]) -> bool:
    """Whether the token claims to live longer than JWT_MAX_AGE_SECONDS: `exp`
    after `iat`, both the issuer's own clock; without `iat`, `exp` after now,
    with the leeway for the clocks' skew. A stolen long-lived token would
    otherwise work for as long as its issuer wrote."""
    if "iat" in payload:
        return payload["exp"] - payload["iat"] > settings.JWT_MAX_AGE_SECONDS
    leeway = simplejwt_settings.api_settings.LEEWAY
    return payload["exp"] - timezone.now().timestamp() > settings.JWT_MAX_AGE_SECONDS + leeway


def _claim_at(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def user_id_from_claims(payload: dict[str, Any]) -> str:
    """The user id at the first configured claim path present in `payload`."""
    for path in settings.JWT_USER_ID_CLAIMS:
        value = _claim_at(payload, path)
        if value is _MISSING:
            continue
        if not is_valid_user_id(value):
            raise TokenError(f"Invalid token: the '{path}' claim is not a usable user id")
        return value
    raise TokenError("Invalid token: no user id claim")


def claims_for_user_id(user_id: str, lifetime: timedelta) -> dict[str, Any]:
    """A payload that `BetterAuthToken` accepts for `user_id`, for `mint_token`."""
    now = timezone.now()
    payload: dict[str, Any] = {"iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp())}
    target = payload
    *parents, leaf = settings.JWT_USER_ID_CLAIMS[0].split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = user_id
    conf = simplejwt_settings.api_settings
    if conf.ISSUER:
        payload["iss"] = conf.ISSUER
    if conf.AUDIENCE:
        payload["aud"] = conf.AUDIENCE
    return payload


def mint_token(user_id: str, lifetime: timedelta) -> str:
    return token_backend().encode(claims_for_user_id(user_id, lifetime))


class BetterAuthToken(Token):
    """A verified Better Auth access token. Decoding (signature, algorithm,
    exp/nbf/iat with leeway, iss/aud when configured) is simplejwt's; this
    class adds the rules simplejwt leaves optional."""

    token_type = "access"  # noqa: S105 (a token kind, not a secret)
    # The encoded token as given (simplejwt annotates it as a Token), and the
    # id verify() reads from the payload.
    token: bytes | str | None  # type: ignore[assignment]
    user_id: str
    lifetime = timedelta(minutes=15)

    def get_token_backend(self) -> TokenBackend:
        return backend_for(self.token) if self.token is not None else token_backend()

    def verify(self) -> None:
        # PyJWT has already checked `exp` when present; a token without one
        # would never expire.
        if "exp" not in self.payload:
            raise TokenError("Invalid token: missing 'exp' claim")
        for claim in _TIME_CLAIMS:
            if claim in self.payload and not _is_numeric_date(self.payload[claim]):
                raise TokenError(f"Invalid token: the '{claim}' claim is not a number")
        if _lifetime_exceeds_the_maximum(self.payload):
            raise TokenError("Invalid token: lifetime longer than the maximum allowed")
        self.user_id = user_id_from_claims(self.payload)


class BetterAuthUser(TokenUser):
    """The caller, as the token describes them. Never staff: admin access is
    only through Django's own login."""

    is_staff = False
    is_superuser = False
    token: BetterAuthToken  # what BetterAuthJWTAuthentication.get_user builds it from

    @cached_property
    def id(self) -> str:
        return self.token.user_id

    @cached_property
    def username(self) -> str:
        return self.id


class BetterAuthJWTAuthentication(JWTStatelessUserAuthentication):
    """`Authorization: Bearer <token>` (scheme case-insensitive), nothing else:
    never a query string or cookie. Every failure is a 401 whose detail names it."""

    # None without the header, as simplejwt's own does; its annotation says bytes.
    def get_header(self, request: Request) -> bytes | None:  # type: ignore[override]
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        try:
            return header.encode(HTTP_HEADER_ENCODING)
        except UnicodeEncodeError:
            raise AuthenticationFailed("Invalid Authorization header") from None

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'")
        # PyJWT accepts '='-padded segments (some issuers send them); RFC 7515
        # forbids padding, and accepting it lets one token travel in several spellings.
        if b"=" in parts[1]:
            raise AuthenticationFailed("Invalid token: malformed", code="token_not_valid")
        return parts[1]

    def get_validated_token(self, raw_token: bytes) -> BetterAuthToken:
        try:
            # simplejwt annotates the encoded token as a Token.
            return BetterAuthToken(raw_token)  # type: ignore[arg-type]
        except ExpiredTokenError:
            raise AuthenticationFailed("Token has expired", code="token_expired") from None
        except TokenError as error:
            raise AuthenticationFailed(_describe(error), code="token_not_valid") from None

    # Takes the BetterAuthToken get_validated_token returns; simplejwt types the
    # result as a TypeVar bound to nothing in its signature.
    def get_user(self, validated_token: BetterAuthToken) -> BetterAuthUser:  # type: ignore[override]
        return BetterAuthUser(validated_token)


def _describe(error: TokenError) -> str:
    """The client-facing detail for a rejected token."""
    cause = error.__cause__
    while cause is not None:
        for kind, detail in _FAILURE_DETAILS:
            if isinstance(cause, kind):
                return detail
        cause = cause.__cause__
    message = str(error)
    return message if message.startswith("Invalid token") else "Invalid token"
