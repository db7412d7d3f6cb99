"""Fixtures of the browser tests: live servers and Debian's Chromium, headless.

* `live_server_factory(app)`: serves an ASGI app with uvicorn in a background
  thread on 127.0.0.1 (a port of its own) and returns its base URL; stopped
  after the test.
* `live_api`: the API app (`create_app`) on an SQLite database, served live:
  `.url`, `.app`, `.context` (to make keys and data directly).
* `browser`: /usr/bin/chromium driven by Playwright, one for the session.
  Never `playwright install` (it downloads browsers): scripts/install-servers.sh
  installs Debian's package.
* `new_context(locale=..., **options)`: a fresh browser context, with its own
  cookies and storage, so two users (a supplier and a customer) can be signed
  in at once; `options` go to `Browser.new_context` (e.g. `base_url`).
  `page`: a page in a fresh context.
* `screenshot(page, name)`: writes build/screenshots/<name>.png, returns the path.

Pages reach only loopback: a request to any other host (a CDN script, a web
font) is aborted (net::ERR_BLOCKED_BY_CLIENT), so no test depends on the
network, and a page that would need it looks broken here too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from starlette.types import ASGIApp

from cloud.api import create_app
from cloud.api.background import BackgroundServer
from cloud.api.context import ApiContext
from tests.cloud.api.conftest import api_settings_for

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")

HOST = "127.0.0.1"
LAUNCH_TIMEOUT_MS = 30_000
DEFAULT_TIMEOUT_MS = 5_000  # every wait of a page: a click, an expect(), a navigation
DEFAULT_LOCALE = "en-US"
DEFAULT_TIMEZONE = "UTC"

# Any http(s) URL whose host is not loopback (evaluated by Playwright itself,
# so requests to loopback never make a round trip through Python).
_NOT_LOOPBACK = re.compile(r"^(?!https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:[/?#]|$))")
_SCREENSHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# -- live servers -----------------------------------------------------------


LiveServerFactory = Callable[[ASGIApp], str]


@pytest.fixture
def live_server_factory() -> Iterator[LiveServerFactory]:
    """`start(app) -> base URL` (no trailing slash); every server stops after the test."""
    servers: list[BackgroundServer] = []

    def start(app: ASGIApp) -> str:
        server = BackgroundServer(app)
        server.start()
        servers.append(server)
        return server.url

    yield start
    for server in reversed(servers):
        assert server.stop(), f"the live server at {server.url} did not stop"


@dataclass(frozen=True)
class LiveApi:
    """The API app being served at `url`."""

    url: str
    app: FastAPI

    @property
    def context(self) -> ApiContext:
        """The app's stores, keys and clock (the one its lifespan opened)."""
        context: ApiContext = self.app.state.context
        return context


@pytest.fixture
def live_api(live_server_factory: LiveServerFactory, sqlite_url: str, tmp_path: Path) -> LiveApi:
    """The API on an SQLite database of this test, served on 127.0.0.1."""
    app = create_app(api_settings_for(sqlite_url, tmp_path))
    return LiveApi(url=live_server_factory(app), app=app)


# -- the browser ------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/install-servers.sh (or `make test`), "
            "which installs Debian's chromium package. Not `playwright install`: "
            "the tests download nothing at run time.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Chromium's sandbox needs unprivileged user namespaces or the
            # setuid helper (package chromium-sandbox), which containers lack,
            # and it will not run as root ("Chromium sandboxing failed!"), so:
            # no sandbox, i.e. Playwright passes --no-sandbox. The pages are
            # our own app on loopback. Playwright's default switches already
            # include --disable-dev-shm-usage (shared memory in /tmp, not in
            # Docker's 64 MB /dev/shm, where tabs would crash); no `args` needed.
            chromium_sandbox=False,
            timeout=LAUNCH_TIMEOUT_MS,
        )
        try:
            yield browser
        finally:
            browser.close()


def _abort(route: Route) -> None:
    route.abort("blockedbyclient")


class NewContext(Protocol):
    """Makes a fresh browser context; `options` go to `Browser.new_context`."""

    def __call__(self, *, locale: str = DEFAULT_LOCALE, **options: Any) -> BrowserContext: ...


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """Fresh browser contexts (own cookies and storage), closed after the test.

    Each has a default timeout of DEFAULT_TIMEOUT_MS, the time zone UTC unless
    `timezone_id` is given, and reaches only loopback.
    """
    contexts: list[BrowserContext] = []

    def make(*, locale: str = DEFAULT_LOCALE, **options: Any) -> BrowserContext:
        options.setdefault("timezone_id", DEFAULT_TIMEZONE)
        context = browser.new_context(locale=locale, **options)
        contexts.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        context.route(_NOT_LOOPBACK, _abort)
        return context

    yield make
    for context in reversed(contexts):
        context.close()


@pytest.fixture
def page(new_context: NewContext) -> Page:
    """A page in a fresh context (English, UTC)."""
    return new_context().new_page()


# -- artefacts ----------------------------------------------------------------


Screenshot = Callable[[Page, str], Path]


def take_screenshot(page: Page, name: str) -> Path:
    """Save the whole page as build/screenshots/<name>.png; return the path."""
    if not _SCREENSHOT_NAME.fullmatch(name):
        raise ValueError(f"screenshot name {name!r}: use letters, digits, '.', '_', '-'")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture
def screenshot() -> Screenshot:
    """`screenshot(page, name) -> Path`: build/screenshots/<name>.png."""
    return take_screenshot
