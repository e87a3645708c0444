"""Playwright fixtures: one headless Chromium per session, a fresh context per test.

Playwright's own browser download is not available here, so the tests drive
Debian's Chromium. Without it they skip, except under CI where that fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from e2e.live import ARTIFACTS

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ARTIFACTS / "screenshots"
# No update checks, sync or metrics pings: the only traffic is what a test causes.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous for a shared 2-core machine; a bound on waiting, not an assertion on speed.
TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required under CI for browser tests: {CHROMIUM} is missing")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """screenshot(page, "step") -> e2e/artifacts/screenshots/<test>-<step>.png (git-ignored);
    full_page=False keeps to the viewport, for pages too long to read whole."""

    def _shoot(page: Page, step: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return _shoot
