"""The admin's login under gunicorn in production mode, two workers, on
PostgreSQL: repeated failures get the HTML lockout page from whichever worker
answers, gunicorn's output names each failure but never the password; and
with DJANGO_ADMIN_URL=off there is no admin, while the API still serves."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests

from e2e.live import LiveService

FAILURE_LIMIT = 5  # AXES_FAILURE_LIMIT
COOLOFF_SECONDS = 15 * 60  # AXES_COOLOFF_TIME
WRONG_PASSWORD = "e2e-Wr0ng-pa55word-never-logged"


@pytest.fixture
def clear_lockouts(pg: psycopg.Connection[Any]) -> Iterator[None]:
    """The e2e database is shared by the session: leave no lockout of the
    loopback address behind for the other tests' admin logins."""
    yield
    pg.execute("DELETE FROM axes_accessattempt")


def attempt_login(service: LiveService, username: str) -> requests.Response:
    """A browser's attempt: the form (for its CSRF token), then the POST, on a
    new connection each time, so gunicorn's workers share the attempts."""
    with requests.Session() as browser:
        form = browser.get(service.url("/admin/login/"), timeout=15)
        assert form.status_code == 200
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert match, form.text[:500]
        return browser.post(
            service.url("/admin/login/?next=/admin/"),
            data={"username": username, "password": WRONG_PASSWORD, "csrfmiddlewaretoken": match.group(1)},
            headers={"Referer": service.url("/admin/login/")},
            timeout=15,
            allow_redirects=False,
        )


@pytest.mark.usefixtures("clear_lockouts")
def test_repeated_failed_logins_get_the_lockout_page_and_are_logged_without_the_password(
    start_service: Callable[..., LiveService],
) -> None:
    service = start_service(name="admin-lockout")

    statuses = [attempt_login(service, f"nobody-{n}").status_code for n in range(FAILURE_LIMIT)]
    locked = [attempt_login(service, "admin") for _ in range(3)]

    assert statuses == [200] * (FAILURE_LIMIT - 1) + [429]
    for response in locked:
        assert response.status_code == 429
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.headers["Retry-After"] == str(COOLOFF_SECONDS)
        assert "Too many failed logins" in response.text
        assert "Traceback" not in response.text
    service.stop()
    log = service.log()
    assert 'admin login failed: username="nobody-0" client="127.0.0.1" locked_out=false' in log
    assert 'admin login failed: username="admin" client="127.0.0.1" locked_out=true' in log
    assert WRONG_PASSWORD not in log


def test_with_the_admin_off_its_paths_are_the_json_404_and_the_api_serves(
    start_service: Callable[..., LiveService], token_for: Callable[..., str]
) -> None:
    service = start_service(name="admin-off", DJANGO_ADMIN_URL="off")

    for path in ("/admin/", "/admin/login/", "/admin"):
        response = requests.get(service.url(path), timeout=15, allow_redirects=False)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found."}
        assert "Set-Cookie" not in response.headers
    tasks = requests.get(
        service.url("/api/tasks"), headers={"Authorization": f"Bearer {token_for('alice')}"}, timeout=15
    )
    assert tasks.status_code == 200
