"""Settings for the TODO API.

Every environment variable the service reads is declared in the first block
below, with its type and default. Unset means the safe choice: production
mode, which refuses to start without real secrets. Development mode
(DJANGO_DEBUG=true, as `make run` and the tests set it) runs with no other
configuration at all: SQLite, development secrets, a warning for each.
"""

import ipaddress
import re
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers

from todo_project import __version__
from todo_project.env import (
    env_bool,
    env_int,
    env_ip_address,
    env_list,
    env_networks,
    env_origin,
    env_rate,
    env_str,
    env_url,
    is_set,
    refuse_to_start,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Public on purpose: development only, and refused in production.
DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"  # noqa: S105
DEV_BETTER_AUTH_SECRET = "development-better-auth-secret-do-not-use-in-production"  # noqa: S105
# Placeholders shipped in .env.example: refused like the development defaults.
KNOWN_PLACEHOLDER_SECRETS = {
    DEV_SECRET_KEY,
    DEV_BETTER_AUTH_SECRET,
    "change-me-to-a-long-random-string",
    "change-me-to-the-better-auth-secret",
}
MIN_SECRET_LENGTH = 32
# Old names that must not be silently ignored.
RENAMED_VARIABLES = {
    "BETTER_AUTH_JWT_ISSUER": "BETTER_AUTH_JWKS_ISSUER",
    "BETTER_AUTH_JWT_AUDIENCE": "BETTER_AUTH_JWKS_AUDIENCE",
}

# --- Environment ---------------------------------------------------------------
DEBUG: bool = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY: str = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS: list[str] = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
DATABASE_URL: str = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASE_CONNECT_TIMEOUT: int = env_int("DATABASE_CONNECT_TIMEOUT", default=5, minimum=1)
# JWKS mode: tokens signed by Better Auth's jwt() plugin (EdDSA, ES256, ES512,
# PS256, RS256), verified with the public keys it publishes. Off when unset.
BETTER_AUTH_URL: str | None = env_origin("BETTER_AUTH_URL")
# HS256 tokens, signed with Better Auth's shared secret. Unset in JWKS mode:
# HS256 tokens are then refused. Development without JWKS uses a public one.
BETTER_AUTH_SECRET: str | None = env_str(
    "BETTER_AUTH_SECRET", DEV_BETTER_AUTH_SECRET if DEBUG and not BETTER_AUTH_URL else None
)
BETTER_AUTH_JWKS_URL: str | None = env_url(
    "BETTER_AUTH_JWKS_URL", f"{BETTER_AUTH_URL}/api/auth/jwks" if BETTER_AUTH_URL else None
)
# The iss and aud every JWKS-verified token must carry: Better Auth's jwt()
# plugin uses its base URL for both unless its jwt.issuer / jwt.audience are set.
BETTER_AUTH_JWKS_ISSUER: str | None = env_str("BETTER_AUTH_JWKS_ISSUER", BETTER_AUTH_URL)
BETTER_AUTH_JWKS_AUDIENCE: str | None = env_str("BETTER_AUTH_JWKS_AUDIENCE", BETTER_AUTH_URL)
# How long fetched keys count as current; an unknown key id refetches at most
# once per BETTER_AUTH_JWKS_REFRESH_SECONDS; each fetch gives up after the timeout.
BETTER_AUTH_JWKS_CACHE_SECONDS: int = env_int("BETTER_AUTH_JWKS_CACHE_SECONDS", default=300, minimum=1)
BETTER_AUTH_JWKS_REFRESH_SECONDS: int = env_int("BETTER_AUTH_JWKS_REFRESH_SECONDS", default=10, minimum=1)
BETTER_AUTH_JWKS_TIMEOUT_SECONDS: int = env_int("BETTER_AUTH_JWKS_TIMEOUT_SECONDS", default=5, minimum=1)
JWT_USER_ID_CLAIMS: list[str] = env_list("JWT_USER_ID_CLAIMS", ["sub", "session.userId"])
# Clock leeway for exp, nbf and iat, in both modes.
JWT_LEEWAY_SECONDS: int = env_int("JWT_LEEWAY_SECONDS", default=30)
# The iss and aud every HS256 token must carry, when set.
JWT_ISSUER: str | None = env_str("JWT_ISSUER")
JWT_AUDIENCE: str | None = env_str("JWT_AUDIENCE")
# The longest lifetime a token may claim, in both modes: exp - iat, or exp -
# now without iat. Better Auth's jwt() tokens last 15 minutes, mint_token's 60.
JWT_MAX_AGE_SECONDS: int = env_int("JWT_MAX_AGE_SECONDS", default=3600, minimum=1)
CORS_ALLOWED_ORIGINS: list[str] = env_list("CORS_ALLOWED_ORIGINS", ["http://localhost:3000", "http://127.0.0.1:3000"])
API_MAX_BODY_BYTES: int = env_int("API_MAX_BODY_BYTES", default=1024 * 1024, minimum=1)
SECURE_SSL: bool = env_bool("DJANGO_SECURE_SSL", default=False)
TRUST_X_FORWARDED_PROTO: bool = env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False)
LOG_LEVEL: str = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT: str = env_str("LOG_FORMAT", "plain").lower()
# Requests per user per period ("600/min"), or "off". Counted in the cache below.
API_RATE_LIMIT: str = env_rate("API_RATE_LIMIT", "600/min")
# Live tasks (the trash aside) one user may hold; a create beyond it is a 409.
TASKS_MAX_PER_USER: int = env_int("TASKS_MAX_PER_USER", default=10_000, minimum=1)
# How long a deleted task stays in the trash before `manage.py purge_trash`
# removes it; also how long a sync token stays valid.
TRASH_RETENTION_DAYS: int = env_int("TRASH_RETENTION_DAYS", default=30, minimum=1)
# How long an Idempotency-Key's first answer is replayed to its retries (a day);
# `manage.py purge_idempotency_keys` deletes the older ones.
IDEMPOTENCY_TTL_SECONDS: int = env_int("IDEMPOTENCY_TTL_SECONDS", default=24 * 60 * 60, minimum=1)
# Per client address, counted in the same cache: requests that fail
# authentication (generous to an office behind one NAT address, a trickle for a
# flood: docs/decisions/client-address-limits.md), and requests for the
# schema and the documentation pages. Either can be "off".
API_AUTH_FAILURE_RATE_LIMIT: str = env_rate("API_AUTH_FAILURE_RATE_LIMIT", "300/min")
API_DOCS_RATE_LIMIT: str = env_rate("API_DOCS_RATE_LIMIT", "120/min")
# Proxies (addresses or CIDR networks) whose X-Forwarded-For names the client
# address; unset, none is trusted and X-Forwarded-For is ignored.
TRUSTED_PROXIES: list[str] = env_networks("TRUSTED_PROXIES")
# redis://host:6379/0 shares throttle counts between gunicorn workers and hosts;
# unset, each worker process counts on its own.
REDIS_URL: str | None = env_str("REDIS_URL")
CACHE_KEY_PREFIX: str = env_str("CACHE_KEY_PREFIX", "todo-api")
# The admin's path prefix ("admin/", "staff/console/"), or "off": no admin
# routes, and no sessions or login bookkeeping on any request.
DJANGO_ADMIN_URL: str = env_str("DJANGO_ADMIN_URL", "admin/")
# Read by gunicorn.conf.py; declared here so every variable lives in one place.
# Loopback unless told otherwise: sync workers are held by a slow client, so
# only the buffering nginx on the same host (deploy/nginx) may reach them.
BIND_ADDRESS: str = env_ip_address("BIND_ADDRESS", "127.0.0.1")
PORT: int = env_int("PORT", default=8000, minimum=1)
WEB_CONCURRENCY: int = env_int("WEB_CONCURRENCY", default=2, minimum=1)

# The service's own version, as /, /health and the OpenAPI schema report it.
SERVICE_VERSION: str = __version__

# --- Start-up guard rails ------------------------------------------------------
for _old, _new in RENAMED_VARIABLES.items():
    if is_set(_old):
        refuse_to_start(f"{_old} was renamed {_new}")

if not DEBUG:
    _missing = []
    if not SECRET_KEY:
        _missing.append("DJANGO_SECRET_KEY")
    if not BETTER_AUTH_SECRET and not BETTER_AUTH_URL:
        _missing.append("BETTER_AUTH_SECRET (HS256 tokens) or BETTER_AUTH_URL (Better Auth's JWKS)")
    if _missing:
        refuse_to_start(
            f"production mode (DJANGO_DEBUG is not true) needs {' and '.join(_missing)}; "
            "for development set DJANGO_DEBUG=true"
        )
    for _name, _value in (("DJANGO_SECRET_KEY", SECRET_KEY), ("BETTER_AUTH_SECRET", BETTER_AUTH_SECRET)):
        if _value is None:
            continue
        if _value in KNOWN_PLACEHOLDER_SECRETS:
            refuse_to_start(f"{_name} is a known development or example value; generate a real secret")
        if len(_value) < MIN_SECRET_LENGTH:
            refuse_to_start(f"{_name} must be at least {MIN_SECRET_LENGTH} characters long")
else:
    print("warning: DJANGO_DEBUG=true: development mode, never for production", file=sys.stderr)
    _DEV_DEFAULTS = {
        "DJANGO_SECRET_KEY": "using an insecure development key",
        "BETTER_AUTH_SECRET": "using a development secret to verify tokens"
        if not BETTER_AUTH_URL
        else "HS256 tokens are refused (JWKS mode)",
        "DATABASE_URL": f"using SQLite at {BASE_DIR / 'db.sqlite3'}",
    }
    for _name, _what in _DEV_DEFAULTS.items():
        if not is_set(_name):
            print(f"warning: {_name} is not set: {_what}", file=sys.stderr)

if BETTER_AUTH_JWKS_URL and not BETTER_AUTH_URL:
    refuse_to_start("BETTER_AUTH_JWKS_URL needs BETTER_AUTH_URL (the issuer and audience of the tokens)")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Keys fetched over plain HTTP from another host could be swapped on the way,
# and whoever swaps them signs tokens for any user.
if not DEBUG and BETTER_AUTH_JWKS_URL:
    _jwks_parts = urlsplit(BETTER_AUTH_JWKS_URL)
    if _jwks_parts.scheme == "http" and not _is_loopback(_jwks_parts.hostname or ""):
        _origin = "" if is_set("BETTER_AUTH_JWKS_URL") else " (from BETTER_AUTH_URL)"
        refuse_to_start(
            f"BETTER_AUTH_JWKS_URL{_origin} must be https:// in production; "
            "http:// is allowed only to a loopback host (localhost, 127.0.0.0/8, ::1)"
        )

# The admin's prefix, normalised to "segment/.../", or None when it is off.
ADMIN_URL: str | None = None
# First path segments the service itself answers; the admin must not shadow them.
_RESERVED_PREFIXES = {"api", "docs", "redoc", "health", "openapi.json", "static"}
if DJANGO_ADMIN_URL.lower() != "off":
    _segments = DJANGO_ADMIN_URL.strip("/").split("/")
    if not all(re.fullmatch(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*", segment) for segment in _segments):
        refuse_to_start(
            f"DJANGO_ADMIN_URL must be a path like admin/ or staff/console/ (letters, digits, . _ ~ -), "
            f"or off: {DJANGO_ADMIN_URL!r}"
        )
    if _segments[0].lower() in _RESERVED_PREFIXES:
        refuse_to_start(f"DJANGO_ADMIN_URL must not start with /{_segments[0]}/, which the service itself serves")
    ADMIN_URL = "/".join(_segments) + "/"

if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    refuse_to_start(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}")
if LOG_FORMAT not in {"plain", "json"}:
    refuse_to_start(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    refuse_to_start("REDIS_URL must start with redis://, rediss:// or unix://")

# --- Applications --------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "api",
    "tasks",
]

MIDDLEWARE = [
    # First, so it sees every response, including errors from the middleware below.
    "api.request_logging.RequestLoggingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETags for GET answers, If-None-Match -> 304, Cache-Control for /api/.
    "api.conditional.ConditionalGetAndCachingMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Its 429s pass out through every middleware above (CORS, security
    # headers, the log line), and it sees the view's 401s first.
    "api.client_address_limits.ClientAddressLimitMiddleware",
    # Last, as django-axes asks: turns a login refused by the lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# Only the admin logs in with a password and keeps a session: with it off, the
# API serves without them (a token is the only credential).
_ADMIN_ONLY_APPS = ["django.contrib.admin", "django.contrib.sessions", "django.contrib.messages", "axes"]
_ADMIN_ONLY_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]
if ADMIN_URL is None:
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in _ADMIN_ONLY_APPS]
    MIDDLEWARE = [middleware for middleware in MIDDLEWARE if middleware not in _ADMIN_ONLY_MIDDLEWARE]

ROOT_URLCONF = "todo_project.urls"
WSGI_APPLICATION = "todo_project.wsgi.application"
# Routes accept both forms themselves; a redirect would drop a POST body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Writers queue for the lock instead of failing with "database is locked"
        # when two gunicorn workers write at once.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that asks the socket before it
    # sends `SELECT 1` (api/postgres_backend/base.py).
    DATABASES["default"]["ENGINE"] = "api.postgres_backend"
    # Bound every wait on the database by DATABASE_CONNECT_TIMEOUT, so an
    # outage is a quick 503 rather than a worker hung until gunicorn kills it:
    # connect_timeout covers a server that refuses or never answers the
    # connection; on an open connection whose peer vanished (a partition: no
    # RST, no ACK), tcp_user_timeout aborts a send left unacknowledged and
    # keepalives notice the loss while the connection idles between requests.
    # (libpq parameters; tcp_user_timeout is in milliseconds.)
    for _option, _default in {
        "connect_timeout": DATABASE_CONNECT_TIMEOUT,
        "tcp_user_timeout": DATABASE_CONNECT_TIMEOUT * 1000,
        "keepalives": 1,
        "keepalives_idle": DATABASE_CONNECT_TIMEOUT,
        "keepalives_interval": DATABASE_CONNECT_TIMEOUT,
        "keepalives_count": 3,
    }.items():
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(_option, _default)
    # Safe behind a transaction-pooling PgBouncer (a Neon pooled URL), where a
    # server connection is ours for one transaction only. QuerySet.iterator()
    # would otherwise DECLARE a server-side cursor WITH HOLD and FETCH from it
    # in later transactions, on whichever server connection the pooler lends.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Named prepared statements, the other casualty, stay off (Django leaves
    # psycopg's prepare_threshold at None): behind such a pooler a statement
    # prepared on one server connection is missing, or another query, on the next.
    if "prepare_threshold" in DATABASES["default"].get("OPTIONS", {}):
        refuse_to_start(
            "DATABASE_URL must not set prepare_threshold: prepared statements break behind "
            "a transaction-pooling PgBouncer (a Neon pooled URL)"
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- The admin's login -------------------------------------------------------------
# Staff passwords: Django's four validators (createsuperuser, password changes).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: a locked-out client is refused before ModelBackend hashes
# anything, for unknown usernames too (docs/decisions/admin-login-lockout.md).
AUTHENTICATION_BACKENDS = [
    *(["axes.backends.AxesStandaloneBackend"] if ADMIN_URL else []),
    "django.contrib.auth.backends.ModelBackend",
]
# Failures are counted per client address, in the database, so every worker
# and host shares one count: AXES_FAILURE_LIMIT failures lock the address out
# for AXES_COOLOFF_TIME, and each attempt while locked out starts it again.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "api.admin_login.client_address"
AXES_LOCKOUT_CALLABLE = "api.admin_login.lockout_response"
# No start-up banner: it would land on stdout before a command's own output.
AXES_VERBOSE = False

# --- Cache: throttle counters ----------------------------------------------------
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # An unreachable Redis must cost a request milliseconds, not a
            # worker timeout: the throttle then lets the request through.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# --- Internationalisation and time -----------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (admin, Swagger UI and ReDoc assets) ---------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve app static files straight from the installed packages, so admin and
# docs pages work under gunicorn whether or not collectstatic has been run.
WHITENOISE_USE_FINDERS = True
# WhiteNoise warns when STATIC_ROOT does not exist yet; the warning is attributed
# to whichever module builds the middleware chain, so match on the message only.
warnings.filterwarnings("ignore", message=r"No directory at: .*staticfiles", category=UserWarning)

# --- Security --------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if SECURE_SSL:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Preloading is a commitment the domain's owner makes, not this service.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
else:
    # TLS is off by configuration (local HTTP, or a proxy that terminates TLS
    # and is not declared): HTTPS redirects, HSTS and secure-only cookies would
    # break plain-HTTP clients. DJANGO_SECURE_SSL=true turns all of them on.
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"]

# Debug pages and error reports hide every setting that can hold a password.
DEFAULT_EXCEPTION_REPORTER_FILTER = "api.error_reports.SecretHidingReporterFilter"

# What a browser on an allowed origin may send beyond django-cors-headers'
# defaults (Authorization, Content-Type, ...): the conditional and idempotent
# writes and its own request id (docs/api.md#cors). Headers it may read back.
CORS_ALLOW_HEADERS = [*default_cors_headers, "if-match", "if-none-match", "idempotency-key", "x-request-id"]
CORS_EXPOSE_HEADERS = ["ETag", "Idempotent-Replayed", "Link", "Location", "Retry-After", "X-Request-ID"]

# --- Django REST framework and JWT -----------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BetterAuthJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.UTF8JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.AlwaysJSONNegotiation",
    # drf-spectacular's, plus the Idempotency-Key of the views that take one.
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.error_handlers.api_exception_handler",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
}

# simplejwt verifies HS256 tokens with these (api/authentication.py); the
# JWKS mode takes its keys, issuer and audience from BETTER_AUTH_* above.
SIMPLE_JWT: dict[str, Any] = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": BETTER_AUTH_SECRET,
    "ISSUER": JWT_ISSUER,
    "AUDIENCE": JWT_AUDIENCE,
    "LEEWAY": JWT_LEEWAY_SECONDS,  # both modes
    "AUTH_HEADER_TYPES": ("Bearer",),  # the WWW-Authenticate challenge
}

SPECTACULAR_SETTINGS = {
    "TITLE": "TODO API",
    "DESCRIPTION": "Per-user tasks for the TODO app. Authenticate with a Better Auth JWT: "
    "`Authorization: Bearer <token>`.",
    "VERSION": SERVICE_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs pages are public: a stale token must not lock them.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI would otherwise load a validator badge from swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["api.schema.strip_trailing_slash_from_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tasks.schema.require_every_task_field",
        "tasks.schema.describe_task_text",
        "api.schema.document_response_headers",
        "api.schema.document_server_limits",
    ],
    "ENUM_NAME_OVERRIDES": {"HealthStateEnum": ["ok", "unavailable"]},
}

# --- Logging: everything to stdout -------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "api.request_logging.PlainFormatter"},
        "json": {"()": "api.request_logging.JsonFormatter"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # One warning line per 4xx answer is noise for an API that rejects bad
        # tokens all day; server errors are still logged.
        "django.request": {"level": "ERROR"},
    },
}
