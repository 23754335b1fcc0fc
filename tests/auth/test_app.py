"""``streamlit run app.py`` as a subprocess: our routes answer beside Streamlit's own st.login routes.

The app runs from a scratch directory that links to the code, so its `.local/`
(cookie secret, session store) and the absence of secrets.toml are the test's
own, and the developer's checkout is left alone.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest
from blog_post import BLOG_POST_TOML
from login_harness import with_params

from benchmarks.streamlit_process import streamlit_run
from streamlit_authlib_login._core.config import AuthConfig, SessionSettings
from streamlit_authlib_login._core.errors import SessionEnded
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.sealing import Sealing
from streamlit_authlib_login._core.sessions import SessionManager
from streamlit_authlib_login._core.store import SQLiteStore
from streamlit_authlib_login._routes import SESSION_COOKIE
from tests.streamlit_process import page_texts, scratch_checkout, streamlit_app


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scratch_checkout(tmp_path_factory.mktemp("app"))


@pytest.fixture(scope="module")
def app_url(app_dir: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free port, with no configuration: the dev provider only."""
    cwd = app_dir
    env = {**os.environ, "HOME": str(cwd)}  # no ~/.streamlit/secrets.toml of the developer's
    with streamlit_app(cwd, cwd / "streamlit.log", env=env) as url:
        yield url
    assert (cwd / ".local" / "cookie_secret").exists()  # generated in the app's own local dir


@pytest.fixture
def browser(app_url: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=app_url, timeout=10) as client:
        yield client


def test_our_login_route_sends_the_browser_to_the_provider(app_url: str, browser: httpx2.Client) -> None:
    """GET /auth/login/dev is ours: a 302 to the embedded provider's authorize endpoint."""
    response = browser.get("/auth/login/dev", params={"next": "/home"})
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{app_url}/idp/authorize?")


def test_st_login_route_is_ours_and_refuses_a_link_without_its_token(browser: httpx2.Client) -> None:
    """GET /auth/login (where st.login() navigates) is answered by the login module: without a
    signed provider token it starts nothing and says why on the login page."""
    response = browser.get("/auth/login")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?refused=provider_token_invalid&request_id=")


def test_st_login_callback_is_ours_and_refuses_a_bare_return(browser: httpx2.Client) -> None:
    """GET /oauth2callback is the login module's: with no code and no known state, it is refused
    without a 404 or a 500."""
    response = browser.get("/oauth2callback")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?refused=state_mismatch&request_id=")


def test_our_logout_answers_posts(browser: httpx2.Client) -> None:
    """POST /auth/logout without a session is ours: 401 JSON."""
    response = browser.post("/auth/logout")
    assert response.status_code == 401
    assert response.json()["error"] == "not_logged_in"


def test_streamlit_logout_answers_gets(browser: httpx2.Client) -> None:
    """GET /auth/logout is still Streamlit's st.logout: a redirect, not our 405."""
    response = browser.get("/auth/logout")
    assert 300 <= response.status_code < 400


def test_a_person_logs_in_as_a_dev_persona_and_me_shows_them(app_url: str, browser: httpx2.Client) -> None:
    """With no configuration, a full login through the real app ends with /auth/me showing the persona."""
    start = browser.get("/auth/login/dev", params={"next": "/home"})
    at_provider = browser.get(with_params(start.headers["location"], login_hint="jiwoo"))
    assert at_provider.status_code == 302
    back = browser.get(at_provider.headers["location"])
    assert back.status_code == 302, back.headers.get("location")
    assert back.headers["location"] == "/home"  # relative: a forged Host cannot redirect elsewhere
    me = browser.get("/auth/me")
    assert me.status_code == 200
    assert me.json()["profile"]["username"] == "jiwoo"
    assert browser.get("/home").status_code == 200  # the page itself is Streamlit's


def login(browser: httpx2.Client, persona: str) -> None:
    start = browser.get("/auth/login/dev", params={"next": "/home"})
    at_provider = browser.get(with_params(start.headers["location"], login_hint=persona))
    back = browser.get(at_provider.headers["location"])
    assert back.status_code == 302 and browser.get("/auth/me").status_code == 200


def stored_details(app_dir: Path, session_id: str) -> dict[str, object] | None:
    """The login details the app's SQLite store holds for ``session_id``, opened with its secret."""
    sealing = Sealing((app_dir / ".local" / "cookie_secret").read_text().strip())
    key = sealing.key("session-details", session_id)
    with sqlite3.connect(app_dir / ".local" / "sessions.sqlite3") as db:
        row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return sealing.open(key, row[0] if row else None)


def test_the_dashboard_keeps_each_logins_report_and_trace(app_dir: Path, browser: httpx2.Client) -> None:
    """app.py asks for login details: its ID token and trace pages find them in the store."""
    login(browser, "jiwoo")
    details = stored_details(app_dir, browser.cookies[SESSION_COOKIE])
    assert details is not None
    report, trace = details["report"], details["trace"]
    assert isinstance(report, dict) and any(c["name"] == "iss" and c["passed"] for c in report["checks"])
    assert isinstance(trace, dict) and len(trace["steps"]) >= 4


def test_the_login_page_says_why_the_login_module_ended_a_session(
    app_dir: Path, app_url: str, browser: httpx2.Client
) -> None:
    """A session whose access token is due with no refresh token to renew it is ended by the
    renewal (``streamlit_authlib_login/_core/renewal.py``, run here on the app's own store): the
    browser that held it, opening a page, lands on the login page, which says why."""
    login(browser, "jiwoo")
    session_id = browser.cookies[SESSION_COOKIE]
    secret = (app_dir / ".local" / "cookie_secret").read_text().strip()
    sessions = SessionManager(SQLiteStore(app_dir / ".local" / "sessions.sqlite3"), secret, SessionSettings())
    expires_at = int(time.time()) + 30
    sessions.update(
        session_id, lambda s: replace(s, tokens=replace(s.tokens, refresh_token=None, expires_at=expires_at))
    )

    async def renew() -> None:
        auth = Authenticator(AuthConfig(cookie_secret=secret, providers=()), sessions)
        try:
            await auth.fresh(session_id)
        finally:
            await auth.aclose()

    with pytest.raises(SessionEnded):
        asyncio.run(renew())
    shown = page_texts(app_url, f"{SESSION_COOKIE}={session_id}", page="home")
    [said] = [t for t in shown if t.startswith("**Your session has ended.**")]
    assert "gave no refresh token" in said


def test_an_app_that_did_not_ask_stores_no_login_details(tmp_path: Path) -> None:
    """``with_login()`` by default: a login stores the session, and no report or trace beside it."""
    cwd = scratch_checkout(tmp_path)
    (cwd / "plain.py").write_text(
        "import streamlit as st\n\nfrom streamlit_authlib_login import with_login\n\n"
        'app = st.App("streamlit_app.py", **with_login())\n'
    )
    env = {**os.environ, "HOME": str(cwd)}
    with (
        streamlit_run("plain.py", cwd=cwd, log=cwd / "streamlit.log", env=env) as url,
        httpx2.Client(base_url=url, timeout=10) as browser,
    ):
        login(browser, "jiwoo")
        assert stored_details(cwd, browser.cookies[SESSION_COOKIE]) is None
        with sqlite3.connect(cwd / ".local" / "sessions.sqlite3") as db:
            kinds = {key.split(":")[0] for (key,) in db.execute("SELECT key FROM kv")}
        assert "session" in kinds and "session-details" not in kinds


def test_a_refused_login_is_one_line_on_the_console(app_dir: Path, browser: httpx2.Client) -> None:
    """With Streamlit's default logging, a forged callback prints one line naming the check and the
    request id that the failure page shows (a library logger alone would print nothing at INFO)."""
    response = browser.get("/auth/callback/dev", params={"code": "stolen-code", "state": "forged-state"})
    assert response.status_code == 303
    request_id = dict(parse_qsl(urlsplit(response.headers["location"]).query))["request_id"]
    deadline = time.monotonic() + 5
    while (
        "login refused: provider=dev" not in (log := (app_dir / "streamlit.log").read_text())
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    [line] = [entry for entry in log.splitlines() if "login refused: provider=dev" in entry]
    assert f"provider=dev check=state_mismatch request_id={request_id}" in line
    assert "stolen-code" not in log and "forged-state" not in log


# --- the development provider stays on loopback ------------------------------------------------------


def scratch_env(cwd: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVIDP_ALLOW_NON_LOOPBACK"}
    return {**env, "HOME": str(cwd), **extra}


@pytest.mark.parametrize(
    ("address", "named"), [("0.0.0.0", "0.0.0.0"), ("::", "::"), ("", "every interface")]
)
def test_on_every_interface_the_dev_provider_refuses_to_start(
    tmp_path: Path, address: str, named: str
) -> None:
    """`--server.address 0.0.0.0` with no real provider stops start-up with one line saying why."""
    cwd = scratch_checkout(tmp_path)
    log = cwd / "streamlit.log"
    with (
        pytest.raises(RuntimeError, match="streamlit exited"),
        streamlit_app(cwd, log, args=("--server.address", address), env=scratch_env(cwd)),
    ):
        pass
    refusal = [line for line in log.read_text().splitlines() if "Development provider refused" in line]
    assert len(refusal) == 1, log.read_text()
    assert f"listens on {named} (server.address)" in refusal[0]
    assert "DEVIDP_ALLOW_NON_LOOPBACK=1" in refusal[0]
    assert "Traceback" not in log.read_text()


def test_on_every_interface_the_dev_provider_starts_when_explicitly_allowed(tmp_path: Path) -> None:
    """DEVIDP_ALLOW_NON_LOOPBACK=1 is the explicit yes: the app starts and /idp answers (on loopback)."""
    cwd = scratch_checkout(tmp_path)
    env = scratch_env(cwd, DEVIDP_ALLOW_NON_LOOPBACK="1")
    args = ("--server.address", "0.0.0.0")
    with streamlit_app(cwd, cwd / "streamlit.log", args=args, env=env) as url:
        discovery = httpx2.get(f"{url}/idp/.well-known/openid-configuration", timeout=10)
    assert discovery.status_code == 200
    assert discovery.json()["issuer"] == f"{url}/idp"


def test_embedded_provider_believes_no_forwarded_header(browser: httpx2.Client) -> None:
    """Streamlit's uvicorn takes X-Forwarded-Proto and -For from 127.0.0.1 as the truth; the
    provider does not: a request saying it was forwarded is not a loopback request."""
    assert browser.get("/idp/.well-known/openid-configuration").status_code == 200
    for forwarded in ({"x-forwarded-proto": "https"}, {"x-forwarded-for": "127.0.0.1"}):
        response = browser.get(
            "/idp/.well-known/openid-configuration", headers={"host": "192.0.2.1", **forwarded}
        )
        assert response.status_code == 403 and "only answers on loopback" in response.text


def test_app_turns_nagle_off_on_its_listener(app_dir: Path, browser: httpx2.Client) -> None:
    """app.py's lifespan finds Streamlit's listening socket and sets TCP_NODELAY on it (the
    accepted connections inheriting it is tests/auth/test_nodelay.py's)."""
    assert browser.get("/auth/me").status_code == 401  # the lifespan has run
    log = (app_dir / "streamlit.log").read_text()
    port = browser.base_url.port
    assert re.search(rf"TCP_NODELAY set on [12] listening socket\(s\) of port {port}\b", log), log


def test_a_table_with_three_mistakes_names_all_three_in_one_start_up_message(tmp_path: Path) -> None:
    """An st.login secrets file with a misspelt key, another, and Authlib's `client_kwargs.timeout`
    (a key we cannot honour): one message names all three, one line each; no traceback, no server.
    Streamlit 1.67 prints its "You can now view" banner before it imports the entry file (its
    UvicornRunner.run prints, then uvicorn imports app.py), so the message comes after it."""
    cwd = scratch_checkout(tmp_path)
    secrets = cwd / "secrets.toml"
    secrets.write_text(
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'
        'cookie_secret = "a-cookie-secret-of-at-least-32-characters"\n'
        '[auth.google]\nclient_id = "i"\nclient_secrte = "s"\n'
        'server_metdata_url = "https://accounts.google.com/.well-known/openid-configuration"\n'
        'client_kwargs = { scope = "openid email profile", timeout = 3 }\n'
    )
    log = cwd / "streamlit.log"
    with (
        pytest.raises(RuntimeError, match="streamlit exited"),
        streamlit_app(cwd, log, args=("--secrets.files", str(secrets)), env=scratch_env(cwd)),
    ):
        pass
    output = log.read_text()
    lines = output.splitlines()
    start = lines.index("Login configuration errors (3); the app did not start. Fix each:")
    unknown = "is not a setting this login module knows; did you mean"
    assert lines[start + 1 : start + 4] == [
        f"  - [auth.google] `client_secrte` {unknown} `client_secret`?",
        f"  - [auth.google] `server_metdata_url` {unknown} `server_metadata_url`?",
        "  - [auth.google] client_kwargs `timeout` is not supported by this login module: HTTP "
        "timeouts are the login module's own (5 s).",
    ]
    assert output.index("You can now view your Streamlit app") < output.index("Login configuration errors")
    assert "Traceback" not in output


def test_the_blog_posts_google_table_starts_and_sends_the_browser_to_google(tmp_path: Path) -> None:
    """The blog post's oauth.register(...) as its [auth.google] table (tests/auth/blog_post.py):
    the app starts, its console says once that `token_url` is read as `access_token_url`, and
    /auth/login/google sends the browser to the post's authorize URL with PKCE S256 and state."""
    cwd = scratch_checkout(tmp_path)
    secrets = cwd / "secrets.toml"
    secrets.write_text(BLOG_POST_TOML)
    log = cwd / "streamlit.log"
    with (
        streamlit_app(cwd, log, args=("--secrets.files", str(secrets)), env=scratch_env(cwd)) as url,
        httpx2.Client(base_url=url, timeout=10) as browser,
    ):
        response = browser.get("/auth/login/google", params={"next": "/"})
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("https://accounts.google.com/o/oauth2/auth?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert params["code_challenge_method"] == "S256" and params["code_challenge"] and params["state"]
    said = [line for line in log.read_text().splitlines() if "`token_url`" in line]
    assert len(said) == 1 and "[auth.google] `token_url` is read as `access_token_url`" in said[0]
    assert "Traceback" not in log.read_text()
