"""A frontend on another origin, in Chromium: fetch() with a Bearer token goes
through CORS preflight from an allowed origin and is blocked from any other."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from playwright.sync_api import Locator, Page, expect

from e2e.browser.static_site import serve_static
from e2e.live import LiveService
from testing.processes import free_port

# The Next.js dev server's origin. /etc/hosts maps localhost to 127.0.0.1 only
# and Chromium connects there, so the page server binds 127.0.0.1.
FRONTEND_HOST, FRONTEND_PORT = "127.0.0.1", 3000
ALLOWED_ORIGIN = "http://localhost:3000"


def open_frontend(page: Page, origin: str, service: LiveService, token: str) -> None:
    page.add_init_script(f"window.FRONTEND_CONFIG = {json.dumps({'api': service.base_url, 'token': token})};")
    page.goto(f"{origin}/frontend.html")
    wait_for_actions(page, 1)


def wait_for_actions(page: Page, count: int) -> None:
    """Wait until the page has finished `count` actions (each: a change, then a reload of the list)."""
    expect(page.locator("body")).to_have_attribute("data-done", str(count))


def task_row(page: Page, task_id: int) -> Locator:
    return page.locator(f'#tasks li[data-id="{task_id}"]')


def tasks_of(pg: psycopg.Connection[Any], user_id: str) -> dict[str, tuple[int, bool]]:
    # Live tasks: a delete moves a task to the trash.
    rows = pg.execute(
        "SELECT title, id, completed FROM tasks_task WHERE user_id = %s AND deleted_at IS NULL", [user_id]
    ).fetchall()
    return {title: (task_id, completed) for title, task_id, completed in rows}


def request_log_lines(service: LiveService, wanted: set[str], *, timeout: float = 10) -> list[str]:
    """The service's request log (one line per request, written after the
    response) as "METHOD path status", once every `wanted` line is there."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [
            f"{method} {path} {status}"
            for method, path, status in re.findall(r'method="([A-Z]+)" path="([^"]*)" status=(\d{3})', service.log())
        ]
        if wanted <= set(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_frontend_on_an_allowed_origin_manages_tasks_through_cors_preflight(
    page: Page,
    start_service: Callable[..., LiveService],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    screenshot: Callable[..., Path],
) -> None:
    service = start_service(name="browser-frontend", CORS_ALLOWED_ORIGINS=ALLOWED_ORIGIN)
    user = f"browser-{uuid.uuid4().hex[:8]}"

    with serve_static(FRONTEND_HOST, FRONTEND_PORT):
        open_frontend(page, ALLOWED_ORIGIN, service, token_for(user))
        expect(page.locator("#status")).to_have_text("GET /api/tasks → 200")

        for done, title in enumerate(["Buy milk", "Write report"], start=2):
            page.fill("#new-title", title)
            page.click("#new-task button")
            wait_for_actions(page, done)
        expect(page.locator("#tasks li")).to_have_count(2)
        milk, _ = tasks_of(pg, user)["Buy milk"]
        report, _ = tasks_of(pg, user)["Write report"]

        task_row(page, milk).locator(".toggle").check()
        wait_for_actions(page, 4)
        task_row(page, report).locator(".title").fill("Write the report")
        task_row(page, report).locator(".save").click()
        wait_for_actions(page, 5)
        expect(task_row(page, milk)).to_have_class("done")
        expect(task_row(page, report).locator(".title")).to_have_value("Write the report")
        assert tasks_of(pg, user) == {"Buy milk": (milk, True), "Write the report": (report, False)}
        screenshot(page, "toggled-and-edited")

        task_row(page, milk).locator(".delete").click()
        wait_for_actions(page, 6)
        expect(page.locator("#tasks li")).to_have_count(1)
        expect(page.locator("#count")).to_have_text("1")
        assert tasks_of(pg, user) == {"Write the report": (report, False)}
        api_log = page.evaluate("window.apiLog")

    assert [entry for entry in api_log if "error" in entry] == []
    assert {(entry["method"], entry["status"]) for entry in api_log} == {
        ("GET", 200),
        ("POST", 201),
        ("PATCH", 200),
        ("PUT", 200),
        ("DELETE", 204),
    }
    # Authorization is not a CORS-safelisted header: every URL the page called
    # was preflighted, and each preflight was answered.
    preflights = {f"OPTIONS {entry['path']} 200" for entry in api_log}
    lines = request_log_lines(service, preflights)
    assert preflights <= set(lines)


def test_frontend_on_another_origin_is_blocked_by_the_browser(
    page: Page,
    start_service: Callable[..., LiveService],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    screenshot: Callable[..., Path],
) -> None:
    service = start_service(name="browser-blocked", CORS_ALLOWED_ORIGINS=ALLOWED_ORIGIN)
    user = f"browser-{uuid.uuid4().hex[:8]}"
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    with serve_static("127.0.0.1", free_port()) as other_origin:
        open_frontend(page, other_origin, service, token_for(user))
        page.fill("#new-title", "Sneaky task")
        page.click("#new-task button")
        wait_for_actions(page, 2)
        expect(page.locator("#status")).to_have_attribute("data-state", "error")
        expect(page.locator("#status")).to_contain_text("POST /api/tasks failed: TypeError: Failed to fetch")
        screenshot(page, "blocked")
        api_log = page.evaluate("window.apiLog")

    assert [entry["method"] for entry in api_log] == ["GET", "POST"]
    assert all("status" not in entry and "Failed to fetch" in entry["error"] for entry in api_log)
    assert any("blocked by CORS policy" in text for text in console), console
    assert tasks_of(pg, user) == {}
    # The browser stopped at the preflight: the requests themselves never left it.
    lines = request_log_lines(service, {"OPTIONS /api/tasks 200"})
    assert "OPTIONS /api/tasks 200" in lines
    assert [line for line in lines if " /api/" in line and not line.startswith("OPTIONS ")] == []
