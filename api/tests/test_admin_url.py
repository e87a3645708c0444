"""DJANGO_ADMIN_URL: the admin under the prefix it names, or, with `off`, no
admin at all: its paths are the JSON 404 of any unknown path, and no request
pays for sessions or login bookkeeping. Each configuration is a fresh process,
since settings and routes are read once at start-up."""

import json
from pathlib import Path
from typing import Any

import pytest

from testing.assertions import assert_refused_with_one_line
from testing.environments import development_env, production_env
from testing.processes import manage, run_python

# GETs each path given on the command line with Django's test client and
# prints what came back, with the middleware and apps the settings chose.
PROGRAM = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "todo_project.settings"
import django
django.setup()
from django.conf import settings
from django.test import Client
answers = {}
for path in sys.argv[1:]:
    response = Client().get(path)
    answers[path] = {
        "status": response.status_code,
        "type": response.get("Content-Type"),
        "location": response.get("Location"),
        "body": response.content.decode(),
    }
print(json.dumps({"answers": answers, "middleware": settings.MIDDLEWARE, "apps": settings.INSTALLED_APPS}))
"""

SESSION_AND_LOGIN_PARTS = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.contrib.admin",
    "django.contrib.sessions",
    "axes",
]


def serve(tmp_path: Path, *paths: str, **env: str) -> dict[str, Any]:
    environment = development_env(
        DJANGO_ALLOWED_HOSTS="testserver", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **env
    )
    result = run_python(["-c", PROGRAM, *paths], environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_admin_is_served_under_the_configured_prefix(tmp_path: Path) -> None:
    served = serve(tmp_path, "/staff/console/login/", "/staff/console", "/admin/", DJANGO_ADMIN_URL="staff/console/")
    answers = served["answers"]

    login = answers["/staff/console/login/"]
    assert login["status"] == 200
    assert login["type"].startswith("text/html")
    assert "<form" in login["body"]
    assert (answers["/staff/console"]["status"], answers["/staff/console"]["location"]) == (302, "/staff/console/")
    assert answers["/admin/"]["status"] == 404
    assert answers["/admin/"]["type"].startswith("application/json")


@pytest.mark.parametrize("spelling", ["staff", "/staff", "staff/", "/staff/"])
def test_the_prefix_is_read_with_or_without_slashes(tmp_path: Path, spelling: str) -> None:
    answers = serve(tmp_path, "/staff/login/", DJANGO_ADMIN_URL=spelling)["answers"]

    assert answers["/staff/login/"]["status"] == 200


@pytest.mark.parametrize("spelling", ["off", "OFF", "Off"])
def test_admin_off_leaves_no_admin_route_only_the_json_404(tmp_path: Path, spelling: str) -> None:
    paths = ["/admin/", "/admin/login/", "/admin", "/admin/tasks/task/", "/no-such-page/"]
    answers = serve(tmp_path, *paths, DJANGO_ADMIN_URL=spelling)["answers"]

    for path in paths:
        assert answers[path] == answers["/no-such-page/"], path
    assert answers["/admin/"]["status"] == 404
    assert json.loads(answers["/admin/"]["body"]) == {"detail": "Not found."}


def test_admin_off_runs_no_session_or_login_machinery(tmp_path: Path) -> None:
    served = serve(tmp_path, "/health", DJANGO_ADMIN_URL="off")

    assert set(SESSION_AND_LOGIN_PARTS).isdisjoint(served["middleware"] + served["apps"])
    assert "django.middleware.csrf.CsrfViewMiddleware" in served["middleware"]


def test_admin_on_has_the_lockout_in_front_of_the_login(tmp_path: Path) -> None:
    served = serve(tmp_path, "/health")

    assert set(SESSION_AND_LOGIN_PARTS) <= set(served["middleware"] + served["apps"])


BAD_ADMIN_URLS = {
    "root": "/",
    "empty-segment": "staff//console/",
    "space": "staff console/",
    "dot-dot": "../admin/",
    "percent-encoded": "%61dmin/",
    "markup": "admin/<script>/",
    "query": "admin/?x=1",
    "the-api": "api/",
    "the-docs": "docs/",
    "static-files": "static/admin/",
    "health": "health",
}


@pytest.mark.parametrize("value", list(BAD_ADMIN_URLS.values()), ids=list(BAD_ADMIN_URLS))
def test_a_bad_admin_url_is_refused_with_one_line(value: str) -> None:
    assert_refused_with_one_line(manage("check", env=production_env(DJANGO_ADMIN_URL=value)), "DJANGO_ADMIN_URL")


@pytest.mark.parametrize("value", ["off", "staff/console/"])
def test_production_passes_check_deploy_with_the_admin_off_or_moved(value: str) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(DJANGO_ADMIN_URL=value))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
