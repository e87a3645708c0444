"""The Django admin in Chromium, under gunicorn with DEBUG off: a superuser logs
in (styles load), searches, filters by completed and marks tasks completed."""

from __future__ import annotations

import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Locator, Page, Response, expect

from e2e.live import LiveService
from tasks.positions import key_between
from testing.environments import deployment_env
from testing.processes import REPO

Credentials = tuple[str, str]


@pytest.fixture(scope="module")
def superuser(e2e_database: str, better_auth_secret: str) -> Credentials:
    """A superuser made the way the README says: `manage.py createsuperuser --noinput`."""
    username, password = f"admin-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
    subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput"],
        cwd=REPO,
        env=deployment_env(
            e2e_database,
            better_auth_secret,
            DJANGO_SUPERUSER_USERNAME=username,
            DJANGO_SUPERUSER_PASSWORD=password,
            DJANGO_SUPERUSER_EMAIL=f"{username}@example.com",
        ),
        check=True,
        capture_output=True,
        timeout=60,
    )
    return username, password


def seed(pg: psycopg.Connection[Any], user_id: str, title: str, *, completed: bool) -> int:
    """A task stored as the service stores one: first in the user's manual order."""
    first = pg.execute("SELECT min(position) FROM tasks_task WHERE user_id = %s", [user_id]).fetchone()
    row = pg.execute(
        "INSERT INTO tasks_task (user_id, title, description, completed, completed_at, priority, position, "
        "created_at, updated_at) "
        "VALUES (%s, %s, NULL, %s, CASE WHEN %s THEN now() END, 0, %s, now(), now()) RETURNING id",
        [user_id, title, completed, completed, key_between(None, first[0] if first else None)],
    ).fetchone()
    assert row is not None
    return row[0]


def completed_by_id(pg: psycopg.Connection[Any], ids: list[int]) -> dict[int, bool]:
    rows = pg.execute("SELECT id, completed FROM tasks_task WHERE id = ANY(%s)", [ids]).fetchall()
    return dict(rows)


def log_in(page: Page, service: LiveService, credentials: Credentials) -> list[Response]:
    """Log in through the login form; returns the responses the browser received."""
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(service.url("/admin/"))
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_have_text("TODO administration")
    return responses


def result_rows(page: Page) -> Locator:
    return page.locator("#result_list tbody tr")


def test_superuser_searches_filters_and_marks_tasks_completed(
    page: Page,
    live_service: LiveService,
    superuser: Credentials,
    pg: psycopg.Connection[Any],
    screenshot: Callable[..., Path],
) -> None:
    marker = f"errand-{uuid.uuid4().hex[:6]}"
    water = seed(pg, "alice", f"Water the plants {marker}", completed=False)
    rent = seed(pg, "bob", f"Pay the rent {marker}", completed=False)
    taxes = seed(pg, "alice", f"File taxes {marker}", completed=True)
    unrelated = seed(pg, "alice", "Something else entirely", completed=False)

    responses = log_in(page, live_service, superuser)
    # Loaded by the login page and again by the index.
    stylesheet = [r.status for r in responses if r.url.endswith("/static/admin/css/base.css")]
    assert stylesheet and set(stylesheet) == {200}
    # Unstyled, the header would have no background at all.
    header_background = page.locator("#header").evaluate("element => getComputedStyle(element).backgroundColor")
    assert header_background not in {"rgba(0, 0, 0, 0)", "transparent"}

    page.locator("#tasks-task").get_by_role("link", name="Tasks").click()
    page.fill("#searchbar", marker)
    page.get_by_role("button", name="Search").click()
    expect(result_rows(page)).to_have_count(3)

    page.locator('#changelist-filter details[data-filter-title="completed"]').get_by_role(
        "link", name="No", exact=True
    ).click()
    expect(result_rows(page)).to_have_count(2)
    page.locator("#action-toggle").check()
    page.select_option("select[name=action]", "mark_completed")
    screenshot(page, "selected-pending")
    page.get_by_role("button", name="Go").click()

    expect(page.locator(".messagelist .success")).to_have_text("2 task(s) marked as completed.")
    expect(result_rows(page)).to_have_count(0)
    screenshot(page, "marked")
    page.locator('#changelist-filter details[data-filter-title="completed"]').get_by_role(
        "link", name="Yes", exact=True
    ).click()
    expect(result_rows(page)).to_have_count(3)
    screenshot(page, "all-completed")

    assert completed_by_id(pg, [water, rent, taxes, unrelated]) == {
        water: True,
        rent: True,
        taxes: True,
        unrelated: False,
    }
