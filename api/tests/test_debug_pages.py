"""Even in development mode, no page shows a password or a secret: Django's
debug pages list the settings and the request's environment, and its own
filter only hides names it recognises (not DATABASE_URL or REDIS_URL)."""

import json

import pytest
from django.views.debug import SafeExceptionReporterFilter

from api.error_reports import SecretHidingReporterFilter
from testing.environments import development_env
from testing.processes import run_python

DATABASE_PASSWORD = "db-pass-9f2c1e"
REDIS_PASSWORD = "redis-pass-4b7d0a"
AUTH_SECRET = "better-auth-secret-3e8a6c5d2f1b0a9e8d7c6b5a"
SECRETS = (DATABASE_PASSWORD, REDIS_PASSWORD, AUTH_SECRET)
DEBUG_ENV = {
    "DJANGO_DEBUG": "true",
    "DATABASE_URL": f"postgres://todo:{DATABASE_PASSWORD}@db.internal:5432/todo",
    "REDIS_URL": f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0",
    "BETTER_AUTH_SECRET": AUTH_SECRET,
}

# A request with a Host the service does not serve: Django answers with its
# debug page, settings and request environment included, before any view or
# database access.
BAD_HOST_PAGE = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "todo_project.settings"
import django
django.setup()
from django.test import Client
response = Client().get("/api/tasks", HTTP_HOST="evil.example", HTTP_AUTHORIZATION="Bearer not-a-token")
print(json.dumps({"status": response.status_code, "body": response.content.decode()}))
"""


def test_the_bad_host_debug_page_shows_settings_but_no_password() -> None:
    result = run_python(["-c", BAD_HOST_PAGE], development_env(**DEBUG_ENV))
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout.strip().splitlines()[-1])

    assert page["status"] == 400
    assert "DisallowedHost" in page["body"]
    assert "DATABASE_URL" in page["body"]  # the settings are on the page...
    for secret in SECRETS:  # ...with their values hidden
        assert secret not in page["body"]
        assert secret not in result.stdout.replace(page["body"], "") + result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", DEBUG_ENV["DATABASE_URL"]),
        ("REDIS_URL", DEBUG_ENV["REDIS_URL"]),
        ("CACHES", {"default": {"LOCATION": DEBUG_ENV["REDIS_URL"]}}),
        ("DATABASES", {"default": {"NAME": "todo", "OPTIONS": {"passfile": DATABASE_PASSWORD}}}),
        ("BETTER_AUTH_SECRET", AUTH_SECRET),
        ("BETTER_AUTH_JWKS_URL", f"https://user:{AUTH_SECRET}@app.example.com/api/auth/jwks"),
    ],
)
def test_settings_that_can_hold_a_password_are_hidden(name: str, value: object) -> None:
    shown = repr(SecretHidingReporterFilter().cleanse_setting(name, value))

    assert not any(secret in shown for secret in SECRETS)


def test_djangos_own_filter_would_show_the_database_url() -> None:
    """Why the filter is ours: Django's default leaves URLs alone."""
    shown = SafeExceptionReporterFilter().cleanse_setting("DATABASE_URL", DEBUG_ENV["DATABASE_URL"])

    assert DATABASE_PASSWORD in shown


def test_the_request_environment_hides_urls_too(rf) -> None:
    request = rf.get("/", HTTP_AUTHORIZATION="Bearer abc.def.ghi")
    request.META["DATABASE_URL"] = DEBUG_ENV["DATABASE_URL"]

    meta = SecretHidingReporterFilter().get_safe_request_meta(request)

    assert DATABASE_PASSWORD not in repr(meta)
    assert "abc.def.ghi" not in repr(meta)
