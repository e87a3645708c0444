"""JWKS mode: with BETTER_AUTH_URL set, asymmetric Better Auth tokens are
verified with public keys fetched from a JWKS endpoint (a real HTTP server on
loopback here), refreshed at most once per interval, and a JWKS outage is a
503, never a 401. HS256 keeps working beside it, each token checked only by
the mode its header names."""

import base64
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

import api.jwks
from api.authentication import jwks_cache
from api.jwks import JWKSCache, JWKSUnavailable, UnknownSigningKey
from tasks.models import Task
from testing.tokens import hs256_signed

ORIGIN = "http://localhost:3000"
REFRESH_SECONDS = 10
CACHE_SECONDS = 300


def _private_keys():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "EdDSA": (ed25519.Ed25519PrivateKey.generate(), OKPAlgorithm),
        "ES256": (ec.generate_private_key(ec.SECP256R1()), ECAlgorithm),
        "ES512": (ec.generate_private_key(ec.SECP521R1()), ECAlgorithm),
        "RS256": (rsa_key, RSAAlgorithm),
        "PS256": (rsa_key, RSAAlgorithm),
    }


KEYS = _private_keys()
ALGORITHMS = list(KEYS)


def public_jwk(algorithm, kid, *, with_alg=True):
    private_key, kind = KEYS[algorithm]
    jwk = kind.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig")
    if with_alg:
        jwk["alg"] = algorithm
    return jwk


def claims(**overrides):
    now = int(time.time())
    payload = {"sub": "alice", "iat": now, "exp": now + 900, "iss": ORIGIN, "aud": ORIGIN, **overrides}
    return {name: value for name, value in payload.items() if value is not None}


def sign(algorithm="EdDSA", kid="key-eddsa", *, key=None, **overrides):
    private_key = key or KEYS[algorithm][0]
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), private_key, algorithm=algorithm, headers=headers)


def hmac_forge(header, payload, secret: bytes):
    return hs256_signed(json.dumps(header), json.dumps(payload), secret)


class JWKSServer:
    """A JWKS endpoint on loopback that counts what it is asked."""

    def __init__(self):
        self.document = {"keys": [public_jwk(alg, f"key-{alg.lower()}") for alg in ALGORITHMS]}
        self.status = 200
        self.delay = 0.0
        self.redirect_to = None
        self.trailing_whitespace = b""
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server._lock:
                    server.requests += 1
                time.sleep(server.delay)
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(server.document).encode() + server.trailing_whitespace
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/auth/jwks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Clock:
    """Stands in for time.monotonic inside api.jwks, so intervals pass on demand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(api.jwks, "monotonic", fake)
    return fake


@pytest.fixture
def jwks_server():
    server = JWKSServer()
    yield server
    server.close()


def configure(settings, jwks_url):
    settings.BETTER_AUTH_URL = ORIGIN
    settings.BETTER_AUTH_JWKS_URL = jwks_url
    settings.BETTER_AUTH_JWKS_ISSUER = ORIGIN
    settings.BETTER_AUTH_JWKS_AUDIENCE = ORIGIN
    settings.BETTER_AUTH_JWKS_CACHE_SECONDS = CACHE_SECONDS
    settings.BETTER_AUTH_JWKS_REFRESH_SECONDS = REFRESH_SECONDS
    settings.BETTER_AUTH_JWKS_TIMEOUT_SECONDS = 1


@pytest.fixture(autouse=True)
def fresh_key_cache():
    jwks_cache.cache_clear()
    yield
    jwks_cache.cache_clear()


@pytest.fixture
def jwks_mode(settings, jwks_server, clock):
    configure(settings, jwks_server.url)
    return jwks_server


def list_with(api_client, token):
    return api_client.get("/api/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")


def create_with(api_client, token):
    return api_client.post("/api/tasks", {"title": "Buy milk"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_unauthorized(response, detail=None):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    if detail is not None:
        assert response.json()["detail"] == detail


def assert_keys_unavailable(response):
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"].isdigit()
    assert "signing keys" in response.json()["detail"]


pytestmark = pytest.mark.django_db


# --- Accepted ------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_token_signed_with_each_better_auth_algorithm_is_accepted(api_client, jwks_mode, algorithm):
    response = create_with(api_client, sign(algorithm, f"key-{algorithm.lower()}", sub="user-42"))

    assert response.status_code == 201, response.content
    assert Task.objects.get().user_id == "user-42"
    assert jwks_mode.requests == 1


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "ES512", "RS256"])
def test_key_published_without_alg_is_used_for_the_algorithm_its_type_implies(api_client, jwks_mode, algorithm):
    jwks_mode.document = {"keys": [public_jwk(algorithm, "bare", with_alg=False)]}
    assert list_with(api_client, sign(algorithm, "bare")).status_code == 200


def test_isolation_holds_between_users_of_jwks_tokens(api_client, jwks_mode):
    task_id = create_with(api_client, sign(sub="alice")).json()["id"]

    bob = sign("ES256", "key-es256", sub="bob")
    assert list_with(api_client, bob).json()["count"] == 0
    assert api_client.get(f"/api/tasks/{task_id}", HTTP_AUTHORIZATION=f"Bearer {bob}").status_code == 404


def test_keys_are_fetched_once_for_many_requests(api_client, jwks_mode):
    for algorithm in ALGORITHMS * 3:
        assert list_with(api_client, sign(algorithm, f"key-{algorithm.lower()}")).status_code == 200
    assert jwks_mode.requests == 1


def test_hs256_tokens_still_work_beside_jwks_and_never_fetch_keys(api_client, jwks_mode, make_token):
    assert list_with(api_client, make_token("alice")).status_code == 200
    assert jwks_mode.requests == 0


def test_jwks_authentication_costs_no_queries(api_client, jwks_mode, django_assert_num_queries):
    token = sign()
    list_with(api_client, token)  # warms the key cache
    with django_assert_num_queries(1):
        assert list_with(api_client, token).status_code == 200


# --- Refused -------------------------------------------------------------------------


def test_asymmetric_token_is_refused_when_jwks_mode_is_off(api_client, settings, jwks_server):
    settings.BETTER_AUTH_URL = None
    assert_unauthorized(list_with(api_client, sign()), "Invalid token: algorithm not allowed")
    assert jwks_server.requests == 0


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"iss": "http://evil.example"}, "Invalid token: wrong issuer"),
        ({"aud": "http://evil.example"}, "Invalid token: wrong audience"),
        ({"iss": None}, "Invalid token: missing a required claim"),
        ({"aud": None}, "Invalid token: missing a required claim"),
        ({"aud": "better-auth:session-cache"}, "Invalid token: wrong audience"),
    ],
    ids=["wrong-iss", "wrong-aud", "no-iss", "no-aud", "session-cache-aud"],
)
def test_issuer_and_audience_are_enforced(api_client, jwks_mode, overrides, detail):
    assert_unauthorized(list_with(api_client, sign(**overrides)), detail)


def test_configured_issuer_and_audience_replace_the_origin(api_client, jwks_mode, settings):
    settings.BETTER_AUTH_JWKS_ISSUER = "https://auth.example.com"
    settings.BETTER_AUTH_JWKS_AUDIENCE = "todo-api"
    assert_unauthorized(list_with(api_client, sign()), "Invalid token: wrong issuer")
    assert list_with(api_client, sign(iss="https://auth.example.com", aud="todo-api")).status_code == 200


def test_expired_jwks_token_is_refused_as_expired(api_client, jwks_mode):
    assert_unauthorized(list_with(api_client, sign(exp=int(time.time()) - 120)), "Token has expired")


@pytest.mark.parametrize(
    "lifetime",
    [{"exp_after_iat": 3 * 365 * 86400}, {"exp_after_iat": 3601}, {"exp_after_now_without_iat": 86400}],
    ids=["three-years", "an-hour-and-a-second", "a-day-without-iat"],
)
def test_jwks_token_living_longer_than_the_maximum_age_is_refused(api_client, jwks_mode, settings, lifetime):
    settings.JWT_MAX_AGE_SECONDS = 3600
    now = int(time.time())
    if "exp_after_iat" in lifetime:
        token = sign(iat=now, exp=now + lifetime["exp_after_iat"])
    else:
        token = sign(iat=None, exp=now + lifetime["exp_after_now_without_iat"])

    assert_unauthorized(list_with(api_client, token), "Invalid token: lifetime longer than the maximum allowed")


def test_better_auth_default_fifteen_minute_token_fits_the_default_maximum_age(api_client, jwks_mode):
    now = int(time.time())

    assert list_with(api_client, sign(iat=now, exp=now + 15 * 60)).status_code == 200


def test_token_signed_by_a_key_not_in_the_jwks_is_refused(api_client, jwks_mode):
    stranger = ed25519.Ed25519PrivateKey.generate()
    response = list_with(api_client, sign("EdDSA", "key-eddsa", key=stranger))
    assert_unauthorized(response, "Invalid token: signature verification failed")


def test_token_without_kid_is_refused(api_client, jwks_mode):
    assert_unauthorized(list_with(api_client, sign(kid=None)), "Invalid token: unknown signing key")


def test_header_alg_other_than_the_published_key_alg_is_refused(api_client, jwks_mode):
    # The RSA key is published twice, once as RS256 and once as PS256.
    response = list_with(api_client, sign("PS256", "key-rs256"))
    assert_unauthorized(response, "Invalid token: algorithm not allowed")


def test_header_alg_that_does_not_fit_the_curve_is_refused(api_client, jwks_mode):
    jwks_mode.document = {"keys": [public_jwk("ES256", "p256", with_alg=False)]}
    response = list_with(api_client, sign("ES512", "p256"))
    assert_unauthorized(response, "Invalid token: algorithm not allowed")


def test_symmetric_key_in_the_jwks_is_never_used(api_client, jwks_mode):
    secret = b"a-symmetric-key-someone-published-by-mistake-0123456789"
    oct_key = {"kty": "oct", "kid": "oct", "alg": "HS256", "k": base64.urlsafe_b64encode(secret).decode().rstrip("=")}
    jwks_mode.document = {"keys": [oct_key]}
    token = hmac_forge({"alg": "HS256", "kid": "oct"}, claims(), secret)
    assert_unauthorized(list_with(api_client, token))


def test_hs256_token_signed_with_a_public_key_is_refused(api_client, jwks_mode):
    """Algorithm confusion: HMAC keyed with a public key the attacker can read."""
    public_pem = (
        KEYS["RS256"][0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for header in ({"alg": "HS256", "kid": "key-rs256"}, {"alg": "RS256", "kid": "key-rs256"}):
        token = hmac_forge(header, claims(), public_pem)
        assert_unauthorized(list_with(api_client, token))
    assert not Task.objects.exists()


def test_key_published_for_encryption_is_never_used_to_verify(api_client, jwks_mode):
    jwk = public_jwk("EdDSA", "enc-key")
    jwk["use"] = "enc"
    jwks_mode.document = {"keys": [jwk]}

    assert_unauthorized(list_with(api_client, sign("EdDSA", "enc-key")), "Invalid token: unknown signing key")


def test_hs256_token_signed_with_the_jwks_document_is_refused(api_client, jwks_mode):
    secret = json.dumps(jwks_mode.document).encode()
    assert_unauthorized(list_with(api_client, hmac_forge({"alg": "HS256", "kid": "key-eddsa"}, claims(), secret)))


# --- Rotation and refresh ------------------------------------------------------------------


def test_rotated_key_is_picked_up_without_a_restart(api_client, jwks_mode, clock):
    assert list_with(api_client, sign("EdDSA", "key-eddsa")).status_code == 200

    rotated = ed25519.Ed25519PrivateKey.generate()
    new_jwk = OKPAlgorithm.to_jwk(rotated.public_key(), as_dict=True) | {"kid": "rotated", "alg": "EdDSA"}
    jwks_mode.document["keys"].append(new_jwk)
    clock.advance(REFRESH_SECONDS)

    assert list_with(api_client, sign("EdDSA", "rotated", key=rotated)).status_code == 200
    assert jwks_mode.requests == 2


def test_keys_are_refetched_after_the_cache_lifetime(api_client, jwks_mode, clock):
    list_with(api_client, sign())
    clock.advance(CACHE_SECONDS)
    assert list_with(api_client, sign()).status_code == 200
    assert jwks_mode.requests == 2


def test_key_removed_from_the_jwks_stops_working_after_a_refresh(api_client, jwks_mode, clock):
    assert list_with(api_client, sign()).status_code == 200
    jwks_mode.document = {"keys": [public_jwk("ES256", "key-es256")]}
    clock.advance(CACHE_SECONDS)
    assert_unauthorized(list_with(api_client, sign()), "Invalid token: unknown signing key")


def test_forged_kids_cause_at_most_one_refresh_per_interval(api_client, jwks_mode, clock):
    assert list_with(api_client, sign()).status_code == 200  # first fetch

    for _ in range(50):
        assert_unauthorized(list_with(api_client, sign(kid=uuid.uuid4().hex)), "Invalid token: unknown signing key")
    assert jwks_mode.requests == 1

    clock.advance(REFRESH_SECONDS)
    for _ in range(50):
        assert_unauthorized(list_with(api_client, sign(kid=uuid.uuid4().hex)))
    assert jwks_mode.requests == 2


def test_concurrent_requests_share_one_fetch(jwks_server):
    """Twenty threads, an empty cache and a slow endpoint: one fetch, whether
    they ask for a real key or a forged one."""
    jwks_server.delay = 0.2
    cache = JWKSCache(jwks_server.url, lifetime_seconds=300, min_refresh_seconds=60, timeout_seconds=5)
    kids = ["key-eddsa", "key-es256"] * 5 + [uuid.uuid4().hex for _ in range(10)]
    barrier = threading.Barrier(len(kids))
    outcomes: list[str] = []

    def ask(kid):
        barrier.wait()
        try:
            cache.get(kid)
            outcomes.append("found")
        except UnknownSigningKey:
            outcomes.append("unknown")

    threads = [threading.Thread(target=ask, args=(kid,)) for kid in kids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["found"] * 10 + ["unknown"] * 10
    assert jwks_server.requests == 1


# --- JWKS endpoint unavailable -----------------------------------------------------------


def test_unreachable_jwks_endpoint_is_503_not_401(api_client, settings, clock, jwks_server):
    configure(settings, jwks_server.url)
    jwks_server.close()  # nothing listens on that port any more

    assert_keys_unavailable(list_with(api_client, sign()))


def test_jwks_endpoint_that_never_answers_times_out_with_503(api_client, settings, clock):
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        configure(settings, f"http://127.0.0.1:{silent.getsockname()[1]}/api/auth/jwks")

        assert_keys_unavailable(list_with(api_client, sign()))


@pytest.mark.parametrize("status", [500, 404])
def test_jwks_endpoint_answering_an_error_is_503(api_client, jwks_mode, status):
    jwks_mode.status = status
    assert_keys_unavailable(list_with(api_client, sign()))


def test_outage_is_retried_at_most_once_per_interval(api_client, jwks_mode, clock):
    jwks_mode.status = 500
    for _ in range(20):
        assert_keys_unavailable(list_with(api_client, sign()))
    assert jwks_mode.requests == 1

    jwks_mode.status = 200
    clock.advance(REFRESH_SECONDS)
    assert list_with(api_client, sign()).status_code == 200
    assert jwks_mode.requests == 2


def test_known_keys_keep_working_through_an_outage(api_client, jwks_mode, clock):
    assert list_with(api_client, sign()).status_code == 200
    jwks_mode.status = 500
    clock.advance(CACHE_SECONDS * 2)

    assert list_with(api_client, sign()).status_code == 200
    assert_keys_unavailable(list_with(api_client, sign(kid="not-yet-known")))


def test_hs256_tokens_work_while_the_jwks_endpoint_is_down(api_client, jwks_mode, make_token):
    jwks_mode.status = 500
    assert list_with(api_client, make_token("alice")).status_code == 200


def test_outage_detail_names_neither_the_url_nor_the_token(api_client, jwks_mode):
    jwks_mode.status = 500
    token = sign()
    body = list_with(api_client, token).content.decode()
    assert jwks_mode.url not in body
    assert token not in body


def test_a_redirecting_key_endpoint_is_not_followed(api_client, jwks_mode):
    """Keys come from the configured URL only, never from wherever it points."""
    elsewhere = JWKSServer()
    try:
        jwks_mode.redirect_to = elsewhere.url

        assert_keys_unavailable(list_with(api_client, sign()))
        assert elsewhere.requests == 0
    finally:
        elsewhere.close()


def test_an_oversized_key_document_is_refused(api_client, jwks_mode):
    """A key endpoint cannot make a worker read an unbounded body."""
    # Valid JSON however much of it is read, so only the size limit refuses it.
    jwks_mode.trailing_whitespace = b" " * api.jwks.MAX_JWKS_BYTES

    assert_keys_unavailable(list_with(api_client, sign()))


def test_a_key_document_just_under_the_limit_is_read(api_client, jwks_mode):
    size = len(json.dumps(jwks_mode.document))
    jwks_mode.document = {**jwks_mode.document, "padding": "x" * (api.jwks.MAX_JWKS_BYTES - size - 20)}

    assert list_with(api_client, sign()).status_code == 200


# --- JWKS mode without a shared secret --------------------------------------------------


def test_without_the_shared_secret_hs256_tokens_are_refused(api_client, jwks_mode, settings, make_token):
    secret = settings.SIMPLE_JWT["SIGNING_KEY"]
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": None}

    assert_unauthorized(list_with(api_client, make_token("alice", key=secret)), "Invalid token: algorithm not allowed")
    assert list_with(api_client, sign()).status_code == 200


def test_without_the_shared_secret_a_malformed_token_is_still_named_malformed(api_client, jwks_mode, settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": None}

    assert_unauthorized(list_with(api_client, "not-a-jwt"), "Invalid token: malformed")


def test_fetch_refuses_a_document_without_keys(jwks_server):
    jwks_server.document = {"not": "a jwks"}
    with pytest.raises(JWKSUnavailable):
        api.jwks.fetch_jwks(jwks_server.url, 5)
