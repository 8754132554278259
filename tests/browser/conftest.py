"""Browser-test fixtures: the real app under gunicorn, one headless Chromium, fresh pages per test.

Each pytest-xdist worker starts its own gunicorn on its own free port and its own browser, once per
session. The server's stdout and stderr go to files so a test can read everything it logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_flow import NewContext
from gunicorn_server import AppServer
from gunicorn_server import start_server
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import Page
from playwright.sync_api import Playwright
from playwright.sync_api import sync_playwright

from tests.browser.browser_flow import CHROMIUM
from tests.browser.browser_flow import CHROMIUM_ARGS


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The real app under gunicorn (2 workers) on a free loopback port, for this xdist worker."""
    log_dir = tmp_path_factory.mktemp("gunicorn")
    server = None
    problem = ""
    for attempt in range(3):  # a free port can be taken between our probe and gunicorn's bind
        try:
            server = start_server(log_dir, attempt)
            break
        except RuntimeError as exc:
            problem = str(exc)
            if "Address already in use" not in problem:
                break
    if server is None:
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_url(app_server: AppServer) -> str:
    """The base URL of the app under test, without a trailing slash."""
    return app_server.base_url


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """One Playwright driver per xdist worker."""
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; never `playwright install` (downloads are blocked here)."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """A factory for fresh browser contexts (own cookies); all are closed after the test."""
    made: list[BrowserContext] = []

    def make(**kwargs: Any) -> BrowserContext:
        kwargs.setdefault("accept_downloads", True)
        context = browser.new_context(**kwargs)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def context(new_context: NewContext) -> BrowserContext:
    """A fresh context with JavaScript on and the app's CSP enforced."""
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page in a fresh context."""
    return context.new_page()


@pytest.fixture
def axe_page(new_context: NewContext) -> Page:
    """A page whose context bypasses CSP, so the injected axe-core script can run."""
    return new_context(bypass_csp=True).new_page()
