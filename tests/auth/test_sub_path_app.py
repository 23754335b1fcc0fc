"""``streamlit run app.py --server.baseUrlPath app``: the dashboard and its login, all under /app/.

Streamlit serves its pages, its websocket and its own st.login routes under ``/app``; the
login module's routes and the development provider must be there too, and nothing of them at
the server's root, outside what a reverse proxy forwards for ``/app/``. Driven over HTTP and
the page's own websocket, as a browser would; ``tests/auth/test_sub_path.py`` has the same
in-process, and the same app at the root stays covered by ``tests/auth/test_app.py``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from login_harness import cookie_value, query_of, set_cookies, st_login_token, with_params

from streamlit_authlib_login._routes import csrf_token
from tests.streamlit_process import page_texts, scratch_checkout, streamlit_app

SESSION = "auth_session-app"  # over http: the sub-path in the name, and Path=/app


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scratch_checkout(tmp_path_factory.mktemp("sub-path"))


@pytest.fixture(scope="module")
def origin(app_dir: Path) -> Iterator[str]:
    """The server's origin; the app is at ``{origin}/app/`` (development provider only)."""
    env = {**os.environ, "HOME": str(app_dir)}  # no ~/.streamlit/secrets.toml of the developer's
    args = ("--server.baseUrlPath", "app")
    with streamlit_app(app_dir, app_dir / "streamlit.log", args=args, env=env, base_path="/app") as url:
        yield url


@pytest.fixture
def browser(origin: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=origin, timeout=10) as client:
        yield client


def cookie_secret(app_dir: Path) -> str:
    return (app_dir / ".local" / "cookie_secret").read_text().strip()


def through_the_provider(browser: httpx2.Client, authorize: str, persona: str = "jiwoo") -> httpx2.Response:
    """The provider (login_hint skips its page), then our callback: the callback's response."""
    at_provider = browser.get(with_params(authorize, login_hint=persona))
    assert at_provider.status_code == 302, at_provider.text[:300]
    return browser.get(at_provider.headers["location"])


def test_a_login_and_logout_happen_entirely_under_the_sub_path(
    app_dir: Path, origin: str, browser: httpx2.Client
) -> None:
    """Start, provider, callback, session, page, logout and the provider's return: every URL is
    under /app/, the redirect URI is /app's, and the session cookie is scoped to /app."""
    start = browser.get("/app/auth/login/dev", params={"next": "/profile"})
    assert start.status_code == 302
    authorize = start.headers["location"]
    assert authorize.startswith(f"{origin}/app/idp/authorize?")
    assert query_of(authorize)["redirect_uri"] == f"{origin}/app/auth/callback/dev"
    back = through_the_provider(browser, authorize)
    assert str(back.request.url).startswith(f"{origin}/app/auth/callback/dev?")
    assert back.status_code == 302 and back.headers["location"] == "/app/profile"
    header = set_cookies(back)[SESSION]
    assert "Path=/app;" in header and "HttpOnly" in header and "samesite=lax" in header.lower()
    session_id = cookie_value(header)
    me = browser.get("/app/auth/me")
    assert me.status_code == 200 and me.json()["profile"]["username"] == "jiwoo"
    home = page_texts(f"{origin}/app", f"{SESSION}={session_id}", page="home")
    assert any(t.startswith("Logged in with **Development provider** since") for t in home), home

    logout = browser.post("/app/auth/logout", data={"csrf": csrf_token(cookie_secret(app_dir), session_id)})
    assert logout.status_code == 303 and "Max-Age=0" in set_cookies(logout)[SESSION]
    end_session = logout.headers["location"]
    assert end_session.startswith(f"{origin}/app/idp/")
    assert query_of(end_session)["post_logout_redirect_uri"] == f"{origin}/app/auth/callback/dev"
    returned = browser.get(browser.get(end_session).headers["location"])
    assert returned.status_code == 303 and returned.headers["location"] == "/app/login?logged_out=1&at=dev"
    assert browser.get("/app/auth/me").status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/auth/me",
        "/auth/login/dev",
        "/auth/callback/dev",
        "/auth/login",
        "/auth/logout",
        "/auth/failed",
        "/auth/health",
        "/oauth2callback",
        "/idp/",
        "/idp/.well-known/openid-configuration",
    ],
)
def test_nothing_of_the_login_answers_at_the_servers_root(browser: httpx2.Client, path: str) -> None:
    """Outside /app/ (what a proxy forwards) the login module serves nothing: Streamlit's 404."""
    assert browser.get(path).status_code == 404
    assert browser.get("/app" + path).status_code != 404


def test_the_login_page_links_and_the_home_pages_forms_are_under_the_sub_path(
    app_dir: Path, origin: str, browser: httpx2.Client
) -> None:
    """The dashboard's login buttons link to /app/auth/login/…, and a logged-in page's logout and
    refresh forms post to /app/auth/…; the link, followed, starts a login."""
    login_page = " ".join(page_texts(f"{origin}/app", "", page="login", kinds=("html",)))
    hrefs = re.findall(r'href="([^"]+)"', login_page)
    assert hrefs and all(h.startswith("/app/auth/login/") for h in hrefs), hrefs
    dev = next(h for h in hrefs if h.startswith("/app/auth/login/dev?"))
    start = browser.get(dev.replace("&amp;", "&"))
    assert start.status_code == 302 and start.headers["location"].startswith(f"{origin}/app/idp/authorize?")
    session_id = cookie_value(set_cookies(through_the_provider(browser, start.headers["location"]))[SESSION])
    home = " ".join(page_texts(f"{origin}/app", f"{SESSION}={session_id}", page="home", kinds=("html",)))
    assert set(re.findall(r'<form method="post" action="([^"]+)"', home)) == {
        "/app/auth/logout",
        "/app/auth/refresh",
    }
    refresh = browser.post(
        "/app/auth/refresh", data={"csrf": csrf_token(cookie_secret(app_dir), session_id), "next": "/"}
    )
    assert refresh.status_code == 303 and refresh.headers["location"] == "/app/"


def test_st_login_and_st_logout_are_answered_under_the_sub_path(
    app_dir: Path, origin: str, browser: httpx2.Client
) -> None:
    """Where Streamlit's st.login() and st.logout() navigate under baseUrlPath
    (streamlit/user_info.py: make_url_path(baseUrlPath, "/auth/login") and "/auth/logout"): the
    login comes back to the page it was called on, and the logout ends the session."""
    token = st_login_token("default", cookie_secret(app_dir))  # st.login(): the development provider
    start = browser.get(
        "/app/auth/login", params={"provider": token}, headers={"referer": f"{origin}/app/tokens"}
    )
    assert start.status_code == 302
    assert query_of(start.headers["location"])["redirect_uri"] == f"{origin}/app/auth/callback/dev"
    back = through_the_provider(browser, start.headers["location"])
    assert back.status_code == 302 and back.headers["location"] == "/app/tokens"
    logout = browser.get("/app/auth/logout", headers={"sec-fetch-site": "same-origin"})
    assert logout.status_code == 303
    assert browser.get("/app/auth/me").status_code == 401
    refused = browser.get("/app/oauth2callback", params={"code": "x", "state": "forged"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/app/login?refused=")
