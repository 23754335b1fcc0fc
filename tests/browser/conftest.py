"""Fixtures for the browser suite: a real Chromium driven by Playwright, and the servers it visits.

Chromium is the system's where there is one (``CHROMIUM_PATH``, ``/usr/bin/chromium``,
``chromium`` or ``chromium-browser`` on ``PATH``), else the one ``playwright install
chromium`` downloaded. Without either, every browser test fails with a message saying
how to get one: a browser suite that skips itself proves nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

import devidp
from tests.browser.warmup import warm_up
from tests.streamlit_process import streamlit_app

HERE = Path(__file__).parent

# Headless as root in a container: no sandbox, no GPU, and nothing phoning home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_GET_A_BROWSER = (
    "The browser tests need Chromium and found none. On Debian or Ubuntu: "
    "`apt-get install chromium`; elsewhere: `python -m playwright install chromium`; "
    "or point CHROMIUM_PATH at a Chromium or Chrome binary. "
    "To run everything else: `python -m pytest -m 'not browser'`."
)


def system_chromium() -> str | None:
    """The system's Chromium, or None."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise pytest.UsageError(f"CHROMIUM_PATH={explicit!r} is not an executable file.")
        return explicit
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def find_chromium(playwright: Playwright) -> str | None:
    """The Chromium to launch: the system's, else None for Playwright's own download, else fail."""
    found = system_chromium()
    if found:
        return found
    if os.access(playwright.chromium.executable_path, os.X_OK):
        return None
    pytest.fail(HOW_TO_GET_A_BROWSER, pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything under tests/browser with ``browser`` (before ``-m`` selects), and run it last.

    While Playwright's sync API is open it leaves its asyncio loop marked as running in the
    main thread, which breaks pytest-asyncio tests and ``asyncio.run`` in any test after it;
    so the session's browser opens only once every other test is done.
    """
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.path.is_relative_to(HERE))  # stable: order kept otherwise


def pytest_report_header(config: pytest.Config) -> str:
    return f"chromium: {system_chromium() or 'Playwright download (`playwright install chromium`)'}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=find_chromium(playwright), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page in its own context (no cookies shared between tests), screenshotted at the end."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    screenshots = request.config.rootpath / "test-artifacts" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    try:
        opened.screenshot(path=screenshots / f"{name}.png", full_page=True)
    except PlaywrightError as error:  # a crashed page must not hide the test's own outcome
        print(f"no screenshot for {request.node.name}: {error}", file=sys.stderr)
    finally:
        context.close()


@pytest.fixture
def idp() -> Iterator[devidp.RunningProvider]:
    """The development provider on a loopback port of its own."""
    with devidp.serve() as running:
        yield running


@pytest.fixture(scope="module")
def app_url(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Iterator[str]:
    """``streamlit run app.py`` on a free port with no provider configured, for one test module."""
    scratch = tmp_path_factory.mktemp("streamlit")
    secrets = scratch / "secrets.toml"
    secrets.write_text("# empty: the embedded development provider is the only provider\n")
    with streamlit_app(
        pytestconfig.rootpath,
        scratch / "streamlit.log",
        args=("--secrets.files", str(secrets)),  # not the developer's .streamlit/secrets.toml
    ) as url:
        warm_up(browser, url)
        yield url
