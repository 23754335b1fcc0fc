"""Integration over real loopback sockets: the composed app under uvicorn, a real client with a cookie jar.

Unlike the in-process tests, the app's calls to the provider go over TCP too,
so timeouts, pooling and concurrency are the real ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from login_harness import COOKIE_SECRET, INTROSPECTOR, compose, dev_config, query_of, serve_asgi, with_params
from starlette.applications import Starlette

from devidp import DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.sessions import SessionManager
from streamlit_authlib_login._core.store import SQLiteStore
from streamlit_authlib_login._routes import csrf_token


@dataclass(frozen=True)
class Served:
    url: str
    idp: DevAuthorizationServer
    auth: Authenticator
    store_path: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """app.py's composition (SQLite store) served by uvicorn on a free loopback port."""
    idp = DevAuthorizationServer(ProviderConfig())
    store_path = tmp_path_factory.mktemp("loopback") / "sessions.sqlite3"
    authenticator, routes = compose(idp, dev_config(), SQLiteStore(store_path), transport=None)

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        await authenticator.aclose()

    with serve_asgi(Starlette(routes=routes, lifespan=lifespan), lifespan="on") as url:
        yield Served(url, idp, authenticator, store_path)


@pytest.fixture
def browser(served: Served) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=served.url, timeout=10) as client:
        yield client


def log_in(browser: httpx2.Client, next_path: str = "/x", persona: str = "alice") -> httpx2.Response:
    start = browser.get("/auth/login/dev", params={"next": next_path})
    assert start.status_code == 302, start.text
    at_provider = browser.get(with_params(start.headers["location"], login_hint=persona))
    assert at_provider.status_code == 302, at_provider.text
    return browser.get(at_provider.headers["location"])


def csrf(browser: httpx2.Client) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_token(COOKIE_SECRET, browser.cookies["auth_session"])}


def test_full_login_over_loopback(served: Served, browser: httpx2.Client) -> None:
    """Login → provider → callback → next, over real sockets; /auth/me then shows alice."""
    response = log_in(browser)
    assert response.status_code == 302
    assert response.headers["location"] == "/x"
    me = browser.get("/auth/me")
    assert me.status_code == 200
    assert me.json()["profile"]["username"] == "alice"
    assert me.json()["claims"]["iss"] == f"{served.url}/idp"


def test_failed_login_over_loopback_creates_no_session(served: Served, browser: httpx2.Client) -> None:
    """With an ID-token fault on, the callback is a 303 to the login page, no cookie, no traceback."""
    served.idp.faults.set({"bad_signature"})
    try:
        response = log_in(browser)
    finally:
        served.idp.faults.set(set())
    assert response.status_code == 303
    assert "/login?failure=" in response.headers["location"]
    assert "auth_session" not in browser.cookies
    assert "Traceback" not in response.text
    assert browser.get("/auth/me").status_code == 401


async def test_concurrent_refreshes_over_loopback_refresh_once(served: Served) -> None:
    """Six truly concurrent POST /auth/refresh (real sockets, another event loop) make one refresh grant."""
    with httpx2.Client(base_url=served.url, timeout=10) as sync_browser:
        assert log_in(sync_browser).status_code == 302
        cookies = dict(sync_browser.cookies)
        headers = csrf(sync_browser)
    mark = max((e.id for e in served.idp.journal.entries()), default=0)
    async with httpx2.AsyncClient(base_url=served.url, cookies=cookies, timeout=10) as client:
        responses = await asyncio.gather(*(client.post("/auth/refresh", headers=headers) for _ in range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    grants = [
        e
        for e in served.idp.journal.entries(since=mark)
        if e.path == "/idp/token" and e.params.get("grant_type") == "refresh_token"
    ]
    assert len(grants) == 1


def test_logout_over_loopback(served: Served, browser: httpx2.Client) -> None:
    """Logout revokes at the provider, returns the end_session URL, and the old cookie is dead."""
    assert log_in(browser).status_code == 302
    session_id = browser.cookies["auth_session"]
    session = served.auth.sessions.load(session_id)
    assert session is not None
    response = browser.post("/auth/logout", headers={**csrf(browser), "Accept": "application/json"})
    assert response.status_code == 200
    end_session = response.json()["end_session_url"]
    assert query_of(end_session)["id_token_hint"] == session.tokens.id_token
    back = browser.get(end_session)
    assert back.status_code in (302, 303)
    state = query_of(end_session)["state"]
    assert back.headers["location"] == f"{served.auth.post_logout_uri('dev', served.url)}?state={state}"
    home = browser.get(back.headers["location"])
    assert home.status_code == 303 and "/login?logged_out=1" in home.headers["location"]
    introspection = httpx2.post(
        f"{served.url}/idp/introspect", data={"token": session.tokens.access_token}, auth=INTROSPECTOR
    )
    assert introspection.json()["active"] is False
    replay = httpx2.get(f"{served.url}/auth/me", cookies={"auth_session": session_id})
    assert replay.status_code == 401


def test_sessions_survive_an_app_restart(served: Served, browser: httpx2.Client) -> None:
    """A new process with the same cookie_secret and SQLite file still knows the session."""
    assert log_in(browser).status_code == 302
    restarted = SessionManager(SQLiteStore(served.store_path), COOKIE_SECRET, SessionSettings())
    session = restarted.load(browser.cookies["auth_session"])
    assert session is not None and session.profile["username"] == "alice"
