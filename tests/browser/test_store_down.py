"""A logged-in page while the Redis session store hangs, or is full, in a real Chromium.

``streamlit run app.py`` keeps its sessions in a real redis-server that it reaches through
``tests/latency_proxy.py`` (no delay): holding the proxy makes Redis accept connections and
answer nothing, which is what a stuck or overloaded Redis does (a stopped one refuses at once).
The app's provider is the development provider on a port of its own, as in
``test_real_provider_setup.py`` (the embedded one refuses a store shared by replicas); Alice's
session is made in Redis directly, as her login would have made it, and her browser given its
cookie: logins themselves are ``tests/auth/test_replicas.py``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, Page, expect

import devidp
from benchmarks.redis_process import RedisServer, redis_server
from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.redis_store import BACKOFF, RedisStore
from streamlit_authlib_login._core.sessions import SessionManager, Tokens
from tests.browser.warmup import warm_up
from tests.latency_proxy import LatencyProxy
from tests.redis_fixtures import require_redis_server
from tests.streamlit_process import scratch_checkout, streamlit_app

CLIENT_ID, CLIENT_SECRET = "store-app", "store-app-secret-for-tests"  # never used: no login here
COOKIE_SECRET = "store-down-tests-cookie-secret-0123456789abcdef"
STORE_DOWN = "The session store (Redis) is not answering"
ANSWER_BOUND_MS = 2_000  # the bound on the store-down answer, from the page's start


@dataclass(frozen=True)
class Deployment:
    app_url: str
    log: Path  # the console of `streamlit run`
    redis: RedisServer  # the app reaches it through `proxy`
    proxy: LatencyProxy


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Deployment]:
    require_redis_server()
    scratch = tmp_path_factory.mktemp("store-down")
    with (
        redis_server(scratch) as server,
        LatencyProxy(server.port, delay=0.0) as proxy,
        devidp.serve() as idp,
    ):
        cwd = scratch_checkout(tmp_path_factory.mktemp("app"))
        secrets = cwd / "secrets.toml"
        secrets.write_text(
            f'[auth]\ncookie_secret = "{COOKIE_SECRET}"\n'
            f'session_store = "redis://127.0.0.1:{proxy.port}/0"\n\n'
            f'[auth.corp]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{idp.url}/.well-known/openid-configuration"\n'
            'display_name = "Corp SSO"\n'
        )
        log = cwd / "streamlit.log"
        with streamlit_app(cwd, log, args=("--secrets.files", str(secrets))) as url:
            warm_up(browser, url)
            yield Deployment(url, log, server, proxy)


@contextmanager
def sessions(deployment: Deployment) -> Iterator[SessionManager]:
    """The app's sessions, in its Redis reached directly (not through the proxy)."""
    with closing(RedisStore(deployment.redis.url)) as store:
        yield SessionManager(store, COOKIE_SECRET, SessionSettings())


def alice_logged_in(page: Page, deployment: Deployment) -> str:
    """Alice's session, made in Redis as her login would have, and her page showing it; its id."""
    with sessions(deployment) as manager:
        session = manager.create(
            provider="corp",
            profile={"sub": "alice", "name": "Alice"},
            claims={},
            tokens=Tokens(access_token="at"),
        )
    page.context.add_cookies([{"name": "auth_session", "value": session.id, "url": deployment.app_url}])
    page.goto(deployment.app_url)
    expect(page.get_by_role("heading", name="Hello, Alice")).to_be_visible()
    return session.id


def test_a_logged_in_page_says_the_store_is_down_within_2_s_while_redis_hangs(
    page: Page, deployment: Deployment
) -> None:
    """Alice reloads her page while Redis answers nothing: within 2 s of the page's start it
    says the session store is not answering (one store timeout); once Redis answers, her page
    is back, without a restart."""
    alice_logged_in(page, deployment)
    deployment.proxy.hold()
    try:
        page.reload()  # returns at the page's load event; the script runs after it
        expect(page.get_by_text(STORE_DOWN)).to_be_visible(timeout=ANSWER_BOUND_MS)
        expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_have_count(0)
    finally:
        deployment.proxy.release()
    page.wait_for_timeout(BACKOFF * 1000)  # the store's back-off after the failure
    page.reload()
    expect(page.get_by_role("heading", name="Hello, Alice")).to_be_visible()
    expect(page.get_by_text(STORE_DOWN)).to_have_count(0)


def test_a_full_redis_still_shows_a_logged_in_page(page: Page, deployment: Deployment) -> None:
    """Redis full (maxmemory, noeviction) refuses writes, not reads: Alice's page, due for its
    last-seen update (a write, which Redis refuses), still shows her session, and no store-down
    message."""
    session_id = alice_logged_in(page, deployment)
    with sessions(deployment) as manager:  # last seen 2 minutes ago: her next page updates it
        manager.update(session_id, lambda s: replace(s, last_seen=s.last_seen - 120))
    with closing(redis.Redis(port=deployment.redis.port)) as admin:
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)  # full now, whatever it holds
        try:
            page.reload()
            expect(page.get_by_role("heading", name="Hello, Alice")).to_be_visible()
            expect(page.get_by_text("Logged in with Corp SSO since", exact=False)).to_be_visible()
            expect(page.get_by_text(STORE_DOWN)).to_have_count(0)
        finally:
            admin.config_set("maxmemory", 0)
    assert "session store refused a write" in deployment.log.read_text()  # the update was tried
