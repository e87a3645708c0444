"""Token attacks: every forged, malformed, misplaced or unusable credential is a
401 JSON answer with `WWW-Authenticate`, refused before any database query, and
no write gets through — not a create, and not a change, toggle or delete of a
task that exists.

test_authentication.py pins each of its cases' detail on create and list; here
those cases, and the attacks added below, are tried against every write.
What only a real server shows (two Authorization headers, a 100 KB header) is
in e2e/test_attacks_over_http.py.
"""

import json
import time
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import RSAAlgorithm

from tasks.models import Task
from testing import LONG_AGO
from testing.assertions import database_state
from testing.credentials import (
    AUDIENCE,
    EXPIRED,
    INVALID_TOKENS,
    ISSUER,
    MALFORMED_HEADERS,
    NOT_PROVIDED_HEADERS,
    OTHER_SECRET,
    UNUSABLE_USER_IDS,
    assert_unauthorized,
    better_auth_session_payload,
    forge,
    fresh_claims,
    sign,
    signed_text,
)
from testing.tokens import b64url

# The HS384/HS512 rows sign with the real secret on purpose (see test_authentication).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]

HeaderBuilder = Callable[..., str | None]
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HUNDRED_KB = 100 * 1024
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED25519_KEY = ed25519.Ed25519PrivateKey.generate()


def signed_claims(**claims: object) -> str:
    """A genuine HS256 token for alice with these claims, whatever their JSON
    type (PyJWT itself refuses to encode some of them)."""
    payload = {name: value for name, value in fresh_claims(sub="alice", **claims).items() if value is not None}
    return signed_text('{"alg": "HS256", "typ": "JWT"}', json.dumps(payload))


def with_time_claim(claim: str, raw_value: str) -> str:
    """A genuine token whose `claim` is `raw_value`, written as raw JSON."""
    now = int(time.time())
    claims = {"exp": str(now + 300), claim: raw_value}
    body = ", ".join(f'"{name}": {value}' for name, value in claims.items())
    return signed_text('{"alg": "HS256", "typ": "JWT"}', f'{{"sub": "alice", {body}}}')


def respell_signature(token: str, spelling: Callable[[str], str]) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{spelling(signature)}"


def flip_unused_bits(signature: str) -> str:
    """The same 32 signature bytes, spelled differently: a 43-character
    base64url HMAC-SHA256 leaves two low bits of its last character unused.
    PyJWT refuses non-canonical spellings itself; padding is ours to refuse."""
    last = BASE64URL.index(signature[-1])
    return signature[:-1] + BASE64URL[last ^ 0b01]


def truncate_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload[:-4]}.{signature}"


def in_standard_alphabet(make_token: Callable[..., str]) -> str:
    """A genuine token respelled with `+` and `/` for base64url's `-` and `_`,
    which Python's decoder treats as the same digits."""
    for nonce in range(500):
        token = make_token("alice", nonce=nonce)
        if "-" in token.rsplit(".", 1)[1] or "_" in token.rsplit(".", 1)[1]:
            return respell_signature(token, lambda s: s.replace("-", "+").replace("_", "/"))
    raise AssertionError("no token with '-' or '_' in 500 tries")


def with_embedded_jwk() -> str:
    """RS256 signed with the attacker's key, carrying that key in its header
    (CVE-2018-0114): a verifier that trusts the header's key accepts anything."""
    jwk = RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True)
    return jwt.encode(fresh_claims(sub="alice"), RSA_KEY, algorithm="RS256", headers={"jwk": jwk})


def hundred_kb_token() -> str:
    return ".".join(b64url(bytes([n]) * (HUNDRED_KB // 4)) for n in (1, 2, 3))


# Attacks test_authentication.py does not pin. Each builds the whole
# Authorization header value from the make_token fixture.
ATTACKS: dict[str, HeaderBuilder] = {
    # Algorithms other than HS256, and asymmetric signatures
    "alg-none-keeping-a-signature": lambda t: "Bearer " + forge({"alg": "none"}, fresh_claims(sub="alice")),
    "alg-hs256-lowercase": lambda t: "Bearer " + forge({"alg": "hs256"}, fresh_claims(sub="alice")),
    "eddsa-header-hmac-signed": lambda t: "Bearer " + forge({"alg": "EdDSA"}, fresh_claims(sub="alice")),
    "rs256-signed-with-an-rsa-key": lambda t: (
        "Bearer " + jwt.encode(fresh_claims(sub="alice"), RSA_KEY, algorithm="RS256")
    ),
    "eddsa-signed-with-an-ed25519-key": lambda t: (
        "Bearer " + jwt.encode(fresh_claims(sub="alice"), ED25519_KEY, algorithm="EdDSA")
    ),
    "rs256-with-its-own-key-embedded": lambda t: "Bearer " + with_embedded_jwk(),
    "header-without-alg": lambda t: "Bearer " + signed_text('{"typ": "JWT"}', '{"sub": "alice"}'),
    "header-alg-null": lambda t: "Bearer " + signed_text('{"alg": null}', '{"sub": "alice"}'),
    "header-alg-list": lambda t: "Bearer " + signed_text('{"alg": ["HS256"]}', '{"sub": "alice"}'),
    "header-is-an-array": lambda t: "Bearer " + signed_text('["HS256"]', '{"sub": "alice"}'),
    "unknown-critical-extension": lambda t: (
        "Bearer " + signed_text('{"alg": "HS256", "crit": ["b64"], "b64": false}', '{"sub": "alice"}')
    ),
    # Time claims
    "expired-a-year-ago": lambda t: "Bearer " + t("alice", expires_in=timedelta(days=-365)),
    "nbf-a-year-ahead": lambda t: "Bearer " + t("alice", nbf=int(time.time()) + 86400 * 365),
    "iat-a-year-ahead": lambda t: "Bearer " + t("alice", iat=int(time.time()) + 86400 * 365),
    "exp-as-a-string": lambda t: "Bearer " + with_time_claim("exp", f'"{int(time.time()) + 300}"'),
    "nbf-as-a-string": lambda t: "Bearer " + with_time_claim("nbf", f'"{int(time.time())}"'),
    "iat-as-a-string": lambda t: "Bearer " + with_time_claim("iat", f'"{int(time.time())}"'),
    "exp-infinity": lambda t: "Bearer " + with_time_claim("exp", "Infinity"),
    "exp-nan": lambda t: "Bearer " + with_time_claim("exp", "NaN"),
    "exp-overflowing-float": lambda t: "Bearer " + with_time_claim("exp", "1e400"),
    "exp-5000-digits": lambda t: "Bearer " + with_time_claim("exp", "9" * 5000),
    "exp-object": lambda t: "Bearer " + with_time_claim("exp", "{}"),
    "iat-infinity": lambda t: "Bearer " + with_time_claim("iat", "Infinity"),
    "nbf-minus-infinity": lambda t: "Bearer " + with_time_claim("nbf", "-Infinity"),
    # Lifetimes beyond JWT_MAX_AGE_SECONDS (an hour by default)
    "lifetime-three-years": lambda t: "Bearer " + t("alice", expires_in=timedelta(days=3 * 365)),
    "lifetime-an-hour-and-a-minute": lambda t: "Bearer " + t("alice", expires_in=timedelta(minutes=61)),
    "lifetime-three-years-without-iat": lambda t: "Bearer " + t("alice", iat=None, expires_in=timedelta(days=1095)),
    "issued-long-ago-expiring-soon": lambda t: (
        "Bearer " + t("alice", iat=int(time.time()) - 86400 * 365, expires_in=timedelta(minutes=5))
    ),
    # Payloads that are not a claims object
    "payload-is-an-array": lambda t: "Bearer " + signed_text('{"alg": "HS256"}', '["alice"]'),
    "payload-is-a-string": lambda t: "Bearer " + signed_text('{"alg": "HS256"}', '"alice"'),
    "sub-nested-5000-deep": lambda t: (
        "Bearer " + signed_text('{"alg": "HS256"}', '{"exp": 9999999999, "sub": ' + "[" * 5000 + "]" * 5000 + "}")
    ),
    # Spellings of the segments
    "padded-signature": lambda t: "Bearer " + respell_signature(t("alice"), lambda s: s + "="),
    "padded-header": lambda t: "Bearer " + t("alice").replace(".", "=.", 1),
    "signature-unused-bits-changed": lambda t: "Bearer " + respell_signature(t("alice"), flip_unused_bits),
    "non-base64-in-signature": lambda t: "Bearer " + respell_signature(t("alice"), lambda s: s[:8] + "!!!!" + s[8:]),
    "non-base64-in-payload": lambda t: "Bearer " + t("alice").replace(".", ".*", 1),
    "standard-base64-alphabet": lambda t: "Bearer " + in_standard_alphabet(t),
    "truncated-payload": lambda t: "Bearer " + truncate_payload(t("alice")),
    "header-only": lambda t: "Bearer " + t("alice").split(".")[0],
    "double-dotted": lambda t: "Bearer " + t("alice").replace(".", "..", 1),
    "four-segments": lambda t: "Bearer " + t("alice") + ".e30",
    "leading-dot": lambda t: "Bearer ." + t("alice"),
    "trailing-dot": lambda t: "Bearer " + t("alice") + ".",
    "nul-inside-the-token": lambda t: "Bearer " + t("alice").replace(".", "\x00.", 1),
    "hundred-kb-garbage": lambda t: "Bearer " + hundred_kb_token(),
    "hundred-kb-other-secret": lambda t: "Bearer " + t("alice", key=OTHER_SECRET, pad="x" * HUNDRED_KB),
    # The header around the token
    "lowercase-bearer-bad-signature": lambda t: "bearer " + t("alice", key=OTHER_SECRET),
    "lowercase-bearer-expired": lambda t: "bearer " + t("alice", expires_in=timedelta(hours=-1)),
    "extra-spaces-bad-signature": lambda t: "Bearer    " + t("alice", key=OTHER_SECRET),
    "extra-spaces-expired": lambda t: "  Bearer   " + t("alice", expires_in=timedelta(hours=-1)) + "  ",
    "bearer-twice": lambda t: "Bearer Bearer " + t("alice"),
    "scheme-glued-to-token": lambda t: "Bearer" + t("alice"),
    "scheme-with-a-colon": lambda t: "Bearer: " + t("alice"),
    # How a WSGI server hands over two Authorization headers: joined by a comma.
    "two-headers-joined": lambda t: f"Bearer {t('alice')},Bearer {t('alice')}",
    "two-tokens-comma-joined": lambda t: f"Bearer {t('alice')},{t('alice')}",
}

# test_authentication.py's cases, pinned there on create and list only.
KNOWN_CASES: dict[str, HeaderBuilder] = {
    **NOT_PROVIDED_HEADERS,
    **MALFORMED_HEADERS,
    **{name: (lambda t, b=build: f"Bearer {b(t)}") for name, build in INVALID_TOKENS.items()},
    **{
        f"sub-{name}": (lambda t, u=user_id: f"Bearer {sign(fresh_claims(sub=u))}")
        for name, user_id in UNUSABLE_USER_IDS.items()
    },
    **{
        f"session-user-id-{name}": (lambda t, u=user_id: f"Bearer {sign(better_auth_session_payload(u))}")
        for name, user_id in UNUSABLE_USER_IDS.items()
    },
}

# With JWT_ISSUER and JWT_AUDIENCE configured: claims that must not pass.
ISSUER_AUDIENCE_ATTACKS = {
    "wrong-issuer": {"iss": "https://evil.example", "aud": AUDIENCE},
    "issuer-differing-in-case": {"iss": ISSUER.upper(), "aud": AUDIENCE},
    "issuer-as-a-list": {"iss": [ISSUER], "aud": AUDIENCE},
    "issuer-as-a-number": {"iss": 1, "aud": AUDIENCE},
    "wrong-audience": {"iss": ISSUER, "aud": "https://evil.example"},
    "audience-as-a-number": {"iss": ISSUER, "aud": 1},
    "audience-empty-list": {"iss": ISSUER, "aud": []},
    "audience-prefix-only": {"iss": ISSUER, "aud": AUDIENCE[:-1]},
    "neither": {"iss": None, "aud": None},
}

# Every write a stolen-looking token could attempt: (method, path, body).
WRITES = {
    "create": ("post", "/api/tasks", {"title": "Pwned", "completed": True}),
    "put": ("put", "/api/tasks/{id}", {"title": "Pwned", "completed": True}),
    "patch": ("patch", "/api/tasks/{id}", {"description": "Pwned"}),
    "complete": ("patch", "/api/tasks/{id}/complete", None),
    "delete": ("delete", "/api/tasks/{id}", None),
}
WRITES_ON_A_TASK = {name: write for name, write in WRITES.items() if name != "create"}


@pytest.fixture
def victim(make_task) -> Task:
    """Alice's task, aged so that any write would show in `updated_at`."""
    task = make_task(user_id="alice", title="Original", description="Untouched")
    Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO)
    return task


def attempt(client, write: tuple, task: Task, header: str | None):
    method, template, body = write
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    path = template.format(id=task.id)
    if body is None:
        return getattr(client, method)(path, **extra)
    return getattr(client, method)(path, body, format="json", **extra)


def assert_refused_without_touching_the_database(
    api_client, make_token, victim, write, build_header, django_assert_num_queries
) -> None:
    header = build_header(make_token)
    before = database_state()

    with django_assert_num_queries(0):
        response = attempt(api_client, write, victim, header)

    assert_unauthorized(response)
    for part in (header or "").split():
        if len(part) > 16:
            assert part not in response.content.decode()
    assert database_state() == before


def _credential_cases():
    """The new attacks against every write; the known cases against the
    writes test_authentication.py does not try (all but create)."""
    for name, build in ATTACKS.items():
        for write_name, write in WRITES.items():
            yield pytest.param(build, write, id=f"{name}-{write_name}")
    for name, build in KNOWN_CASES.items():
        for write_name, write in WRITES_ON_A_TASK.items():
            yield pytest.param(build, write, id=f"known-{name}-{write_name}")


@pytest.mark.parametrize(("build_header", "write"), list(_credential_cases()))
def test_bad_credential_is_a_401_before_any_query_and_writes_nothing(
    api_client, make_token, victim, write, build_header, django_assert_num_queries
):
    assert_refused_without_touching_the_database(
        api_client, make_token, victim, write, build_header, django_assert_num_queries
    )


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("claims", ISSUER_AUDIENCE_ATTACKS.values(), ids=ISSUER_AUDIENCE_ATTACKS.keys())
def test_wrong_issuer_or_audience_is_a_401_and_writes_nothing(
    api_client, make_token, victim, write, claims, settings, django_assert_num_queries
):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ISSUER": ISSUER, "AUDIENCE": AUDIENCE}

    assert_refused_without_touching_the_database(
        api_client, make_token, victim, write, lambda t: f"Bearer {signed_claims(**claims)}", django_assert_num_queries
    )


@pytest.mark.parametrize(
    "name",
    ["exp-as-a-string", "nbf-as-a-string", "iat-as-a-string"],
)
def test_time_claim_that_is_not_a_number_is_named_in_the_detail(api_client, make_token, name):
    response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=ATTACKS[name](make_token))

    detail = assert_unauthorized(response)
    assert detail.startswith("Invalid token")
    assert name.split("-")[0] in detail


@pytest.mark.parametrize("name", [name for name in ATTACKS if name.startswith(("padded", "signature", "non-base64"))])
def test_respelled_genuine_token_is_refused_as_malformed(api_client, make_token, name):
    response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=ATTACKS[name](make_token))

    assert assert_unauthorized(response) == "Invalid token: malformed"


@pytest.mark.parametrize("name", [name for name in ATTACKS if name.startswith(("lifetime", "issued-long-ago"))])
def test_token_living_longer_than_the_maximum_age_is_named_in_the_detail(api_client, make_token, name):
    response = api_client.get("/api/tasks", HTTP_AUTHORIZATION=ATTACKS[name](make_token))

    assert assert_unauthorized(response) == "Invalid token: lifetime longer than the maximum allowed"


# --- What is accepted, and stays accepted ----------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "iat_offset"),
    [(3600, 0), (3600, -3000), (3600 + 25, None)],
    ids=["exactly-the-maximum", "issued-earlier-within-the-maximum", "no-iat-within-the-leeway"],
)
def test_token_within_the_maximum_age_authenticates(api_client, make_token, settings, lifetime, iat_offset):
    settings.JWT_MAX_AGE_SECONDS = 3600
    now = int(time.time())
    issued = None if iat_offset is None else now + iat_offset
    token = make_token("alice", iat=issued, exp=(issued or now) + lifetime)

    assert api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_maximum_age_follows_the_setting(api_client, make_token, settings):
    settings.JWT_MAX_AGE_SECONDS = 60
    refused = make_token("alice", expires_in=timedelta(seconds=61))
    accepted = make_token("alice", expires_in=timedelta(seconds=60))

    assert_unauthorized(api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {refused}"))
    assert api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {accepted}").status_code == 200


@pytest.mark.parametrize(
    "spelling",
    ["bearer {token}", "BEARER {token}", "Bearer   {token}", "  Bearer {token}  "],
    ids=["lowercase", "uppercase", "several-spaces", "surrounding-spaces"],
)
def test_scheme_in_any_case_and_spaces_around_the_token_still_authenticate(api_client, make_token, spelling):
    """RFC 6750: `Bearer 1*SP b64token`; the scheme name is case-insensitive (API.md)."""
    header = spelling.format(token=make_token("alice"))

    response = api_client.post("/api/tasks", {"title": "Mine"}, format="json", HTTP_AUTHORIZATION=header)

    assert response.status_code == 201
    assert Task.objects.get().user_id == "alice"


def test_expired_token_detail_is_the_same_whatever_the_scheme_spelling(api_client, make_token):
    token = make_token("alice", expires_in=timedelta(hours=-1))

    details = {
        assert_unauthorized(api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"{scheme} {token}"))
        for scheme in ("Bearer", "bearer", "BEARER")
    }

    assert details == {EXPIRED}
