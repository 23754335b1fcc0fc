"""Setting up a real provider for the first time, in a real Chromium, and logging out through it.

The "real provider" is the development provider served on a port of its own with a client
registered once, by hand, like at a real provider's console: it enforces its redirect and
post-logout URIs exactly. The app runs with that provider configured, so its own embedded
provider is off, as in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

import devidp
from devidp import Client
from tests.browser.warmup import warm_up
from tests.streamlit_process import scratch_checkout, streamlit_app

CLIENT_ID, CLIENT_SECRET = "corp-app", "corp-secret-for-tests"


@dataclass(frozen=True)
class Deployment:
    app_url: str
    idp: devidp.RunningProvider
    log: Path

    @property
    def callback(self) -> str:
        return f"{self.app_url}/auth/callback/corp"

    def register(self, *, post_logout: tuple[str, ...]) -> None:
        """What the developer types into the provider's console."""
        self.idp.server.register_client(
            Client(
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                name="Corp intranet dashboard",
                redirect_uris=(self.callback,),
                post_logout_redirect_uris=post_logout,
            )
        )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Deployment]:
    with devidp.serve() as idp:
        cwd = scratch_checkout(tmp_path_factory.mktemp("corp"))
        secrets = cwd / "secrets.toml"
        secrets.write_text(
            "[auth.corp]\n"
            f'client_id = "{CLIENT_ID}"\n'
            f'client_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{idp.url}/.well-known/openid-configuration"\n'
            'display_name = "Corp SSO"\n'
        )
        log = cwd / "streamlit.log"
        with streamlit_app(cwd, log, args=("--secrets.files", str(secrets))) as url:
            warm_up(browser, url)
            yield Deployment(url, idp, log)


def log_in_as_alice(page: Page, deployment: Deployment) -> None:
    page.get_by_role("link", name="Log in with Corp SSO").click()
    page.get_by_role("button", name=re.compile("^Alice")).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(re.escape(deployment.app_url)))
    expect(page.get_by_role("heading", name=re.compile("^Hello, Alice"))).to_be_visible()


def test_first_set_up_shows_the_uris_then_logs_in_and_out(page: Page, deployment: Deployment) -> None:
    """Before any login the login page names the URIs to register; once registered, login works,
    the panel is gone, and logout comes back through the provider, logged out."""
    page.goto(deployment.app_url)
    panel = page.get_by_text("Set-up: Corp SSO has not completed a login here yet")
    expect(panel).to_be_visible()
    expect(page.get_by_text(deployment.callback).first).to_be_visible()
    assert f"register redirect URI {deployment.callback}" in deployment.log.read_text()

    deployment.register(post_logout=(deployment.callback,))
    log_in_as_alice(page, deployment)
    page.goto(f"{deployment.app_url}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("You are already logged in.")).to_be_visible()
    expect(panel).to_have_count(0)

    page.goto(deployment.app_url)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("Corp SSO signed you out too", exact=False)).to_be_visible()
    assert page.context.request.get(f"{deployment.app_url}/auth/me").status == 401
    console = deployment.log.read_text()
    assert re.search(r"login: provider=corp sub=[0-9a-f]{16}", console)
    assert "logout: provider=corp" in console and "confirmed by the provider" in console


def test_a_logout_the_provider_refuses_is_explained_back_in_the_app(
    page: Page, deployment: Deployment
) -> None:
    """With the post-logout URI not registered the provider refuses; the app says why, and what to do."""
    deployment.register(post_logout=())
    page.goto(deployment.app_url)
    log_in_as_alice(page, deployment)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("post_logout_redirect_uri not registered", exact=False)).to_be_visible()

    page.goto(deployment.app_url)
    expect(page.get_by_text("your logout at Corp SSO did not come back", exact=False)).to_be_visible()
    expect(page.get_by_text(deployment.callback).first).to_be_visible()
    assert page.context.request.get(f"{deployment.app_url}/auth/me").status == 401


def test_a_refused_login_shows_the_request_id_the_console_has(page: Page, deployment: Deployment) -> None:
    """The failure page's request id is the one in the operator's log line."""
    page.goto(f"{deployment.app_url}/auth/callback/corp?code=x&state=forged")
    expect(page.get_by_text("The login was refused.", exact=False)).to_be_visible()
    shown = page.get_by_text(re.compile(r"^Request id")).inner_text()
    request_id = re.search(r"[0-9a-f]{12}", shown)
    assert request_id, shown
    assert f"check=state_mismatch request_id={request_id.group()}" in deployment.log.read_text()
