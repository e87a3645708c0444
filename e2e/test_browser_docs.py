"""Swagger UI and ReDoc in Chromium: rendered from the service alone, and
Swagger's Authorize and "Try it out" work against the live API."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from playwright.sync_api import Locator, Page, Request, expect

from e2e.live import LiveService
from testing.environments import deployment_env
from testing.processes import REPO


class RequestLog:
    """Every URL a page asks for (scripts, styles, fonts, images, XHRs), and
    those the page's Content-Security-Policy stopped before they left the browser."""

    def __init__(self, page: Page) -> None:
        self.requested: list[str] = []
        self.blocked_by_csp: list[str] = []
        page.on("request", lambda request: self.requested.append(request.url))
        page.on("requestfailed", self._failed)

    def _failed(self, request: Request) -> None:
        if request.failure in {"csp", "net::ERR_BLOCKED_BY_CSP"}:
            self.blocked_by_csp.append(request.url)

    def sent(self) -> list[str]:
        """What went out on the network: data: and blob: URLs and blocked requests excluded."""
        return [
            url
            for url in self.requested
            if urlsplit(url).scheme not in {"data", "blob"} and url not in self.blocked_by_csp
        ]


@pytest.fixture
def request_log(page: Page) -> RequestLog:
    return RequestLog(page)


def assert_only_the_service_was_contacted(log: RequestLog, service: LiveService) -> None:
    sent = log.sent()
    assert sent, "the page made no request at all"
    assert [url for url in sent if not url.startswith(service.base_url + "/")] == []


def mint_token_command(database: str, secret: str, user_id: str) -> str:
    """A token the way an operator gets one: `manage.py mint_token`, with the service's secret."""
    result = subprocess.run(
        [sys.executable, "manage.py", "mint_token", user_id, "--minutes", "5"],
        cwd=REPO,
        env=deployment_env(database, secret),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def operation(page: Page, operation_id: str) -> Locator:
    return page.locator(f"#operations-tasks-{operation_id}")


def try_it_out(block: Locator, body: dict[str, Any] | None = None) -> Locator:
    """Open an operation, press "Try it out" and "Execute"; returns the live response's status cell."""
    block.locator(".opblock-summary").first.click()
    block.get_by_role("button", name="Try it out").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    block.get_by_role("button", name="Execute").click()
    return block.locator(".live-responses-table tbody .response-col_status")


def test_swagger_ui_authorizes_with_a_minted_token_and_tries_out_list_and_create(
    page: Page,
    request_log: RequestLog,
    live_service: LiveService,
    e2e_database: str,
    better_auth_secret: str,
    pg: psycopg.Connection[Any],
    screenshot: Callable[..., Path],
) -> None:
    user = f"swagger-{uuid.uuid4().hex[:8]}"
    token = mint_token_command(e2e_database, better_auth_secret, user)

    page.goto(live_service.url("/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("TODO API")
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("#auth-bearer-value").fill(token)
    dialog.locator("button.authorize").click()
    expect(dialog.get_by_role("heading", name="Authorized")).to_be_visible()
    dialog.locator("button.btn-done").click()

    list_status = try_it_out(operation(page, "listTasks"))
    expect(list_status).to_have_text("200")
    create = operation(page, "createTask")
    create_status = try_it_out(create, {"title": "Tried out in Swagger UI"})
    expect(create_status).to_have_text("201")
    create.locator(".live-responses-table").scroll_into_view_if_needed()
    screenshot(page, "created", full_page=False)

    rows = pg.execute("SELECT title FROM tasks_task WHERE user_id = %s", [user]).fetchall()
    assert rows == [("Tried out in Swagger UI",)]
    assert_only_the_service_was_contacted(request_log, live_service)


def test_redoc_lists_every_operation_with_no_other_host_contacted(
    page: Page,
    request_log: RequestLog,
    live_service: LiveService,
    screenshot: Callable[..., Path],
) -> None:
    schema = requests.get(live_service.url("/openapi.json"), timeout=10).json()
    operations = [op for methods in schema["paths"].values() for op in methods.values()]
    tags = sorted({tag for op in operations for tag in op["tags"]})

    page.goto(live_service.url("/redoc"))
    menu = page.locator(".menu-content")
    # ReDoc's menu shows one tag's operations at a time.
    for tag in tags:
        menu.get_by_role("menuitem", name=tag, exact=True).click()
        for op in operations:
            if tag in op["tags"]:
                expect(menu.get_by_role("menuitem", name=op["summary"], exact=True)).to_be_visible()
    for op in operations:
        expect(page.locator("h2", has_text=op["summary"])).to_be_attached()
    screenshot(page, "operations", full_page=False)

    assert_only_the_service_was_contacted(request_log, live_service)
