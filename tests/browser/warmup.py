"""Shared by the browser suites: a new server's first page, paid for once."""

from __future__ import annotations

from playwright.sync_api import Browser


def warm_up(browser: Browser, url: str) -> None:
    """The first page of a new server imports pandas and Altair: seconds on a busy machine.
    Pay that once here, so the tests' own five-second expectations measure the app, not it."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("heading", name="Log in").wait_for(timeout=60_000)
    finally:
        context.close()
