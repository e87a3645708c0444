"""Production mode under gunicorn: security headers on every answer, and, with
DJANGO_SECURE_SSL=true behind a TLS-terminating proxy, HSTS, HTTPS redirects,
Secure cookies and a working admin login. X-Forwarded-Proto is believed only
when DJANGO_TRUST_X_FORWARDED_PROTO=true."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable

import pytest
import requests

from e2e.live import LiveService
from testing.processes import REPO

HSTS = "max-age=31536000; includeSubDomains"
HTTPS = {"X-Forwarded-Proto": "https"}


def assert_security_headers(response: requests.Response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def tls_service(start_service: Callable[..., LiveService]) -> LiveService:
    return start_service(name="tls", DJANGO_SECURE_SSL="true", DJANGO_TRUST_X_FORWARDED_PROTO="true")


@pytest.mark.parametrize(
    ("path", "authenticated", "expected"),
    [
        ("/api/tasks", True, 200),
        ("/api/tasks", False, 401),
        ("/api/tasks/0", True, 404),
        ("/health", False, 200),
        ("/no/such/path", False, 404),
        ("/docs", False, 200),
        ("/admin/login/", False, 200),
    ],
)
def test_every_answer_carries_the_security_headers_without_debug(
    live_service: LiveService, token_for: Callable[..., str], path: str, authenticated: bool, expected: int
) -> None:
    headers = {"Authorization": f"Bearer {token_for('headers-user')}"} if authenticated else {}

    response = requests.get(live_service.url(path), headers=headers, timeout=15, allow_redirects=False)

    assert response.status_code == expected
    assert_security_headers(response)
    # Plain HTTP by configuration (DJANGO_SECURE_SSL unset): no HSTS to pin a browser to HTTPS.
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_tls_proxy_https_answers_carry_hsts(tls_service: LiveService, token_for: Callable[..., str]) -> None:
    headers = {"Authorization": f"Bearer {token_for('tls-user')}", **HTTPS}

    response = requests.get(tls_service.url("/api/tasks"), headers=headers, timeout=15, allow_redirects=False)

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert_security_headers(response)


def test_behind_a_tls_proxy_plain_http_is_redirected_except_the_health_check(tls_service: LiveService) -> None:
    api = requests.get(tls_service.url("/api/tasks?status=all"), timeout=15, allow_redirects=False)
    health = requests.get(tls_service.url("/health"), timeout=15, allow_redirects=False)

    assert api.status_code == 301
    assert api.headers["Location"] == f"https://127.0.0.1:{tls_service.port}/api/tasks?status=all"
    assert health.status_code == 200  # load balancers probe over plain HTTP


def test_x_forwarded_proto_is_ignored_unless_trusted(start_service: Callable[..., LiveService]) -> None:
    service = start_service(name="tls-untrusted", DJANGO_SECURE_SSL="true")

    response = requests.get(service.url("/api/tasks"), headers=HTTPS, timeout=15, allow_redirects=False)

    # A client's claim to have come over HTTPS changes nothing: still redirected.
    assert response.status_code == 301
    assert "Strict-Transport-Security" not in response.headers


def create_superuser(database_url: str) -> tuple[str, str]:
    username, password = f"admin-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            username,
            "--email",
            "admin@example.com",
        ],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "true", "DJANGO_SUPERUSER_PASSWORD": password},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return username, password


def set_cookies(response: requests.Response) -> dict[str, requests.cookies.Cookie]:
    return {cookie.name: cookie for cookie in response.cookies}


def test_admin_login_works_behind_the_tls_proxy_with_secure_cookies(
    tls_service: LiveService, e2e_database: str
) -> None:
    username, password = create_superuser(e2e_database)
    login_url = tls_service.url("/admin/login/")
    https_origin = f"https://127.0.0.1:{tls_service.port}"

    form = requests.get(login_url, headers=HTTPS, timeout=15, allow_redirects=False)
    assert form.status_code == 200
    csrf_cookie = set_cookies(form)["csrftoken"]
    assert csrf_cookie.secure
    csrf_match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert csrf_match, form.text
    csrf_field = csrf_match.group(1)

    # The browser's view: HTTPS to the proxy, which forwards plain HTTP with X-Forwarded-Proto.
    # (requests would not send a Secure cookie over http://, so the Cookie header is written out.)
    login = requests.post(
        login_url + "?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf_field},
        headers={**HTTPS, "Cookie": f"csrftoken={csrf_cookie.value}", "Referer": f"{https_origin}/admin/login/"},
        timeout=15,
        allow_redirects=False,
    )
    assert login.status_code == 302, login.text[:500]
    assert login.headers["Location"] == "/admin/"
    session_cookie = set_cookies(login)["sessionid"]
    assert session_cookie.secure
    assert session_cookie.has_nonstandard_attr("HttpOnly")
    assert login.headers["Strict-Transport-Security"] == HSTS

    index = requests.get(
        tls_service.url("/admin/"),
        headers={**HTTPS, "Cookie": f"sessionid={session_cookie.value}"},
        timeout=15,
        allow_redirects=False,
    )
    assert index.status_code == 200
    assert username in index.text  # "Welcome, <username>"
    assert_security_headers(index)


def test_admin_login_over_plain_http_is_refused_behind_the_tls_proxy(tls_service: LiveService) -> None:
    response = requests.get(tls_service.url("/admin/login/"), timeout=15, allow_redirects=False)

    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")
