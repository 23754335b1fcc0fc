"""An app written for st.login, with ``[auth] expose_tokens = "access"``, calling an API with
``st.user.tokens["access"]`` after its first access token expired: it reads a fresh one without
a line of refresh code (issue 24's done criterion, an hour compressed into 2 seconds).

One real ``streamlit run`` of that app (an entry file and a plain st.login script; the page's
cookie reaches ``st.user`` only through a real websocket, which ``AppTest`` has none of), and
the development provider in this process as its real provider, issuing 2-second access tokens:
its journal counts the refresh grants, its introspection says which token is still good. The
page is rerun over Streamlit's websocket with the browser's session cookie (``page_texts``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
from login_harness import cookie_value, set_cookies, st_login_token, with_params

import devidp
from benchmarks.streamlit_process import free_port, streamlit_run
from devidp import Client, ProviderConfig
from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.sessions import SessionManager
from streamlit_authlib_login._core.store import SQLiteStore
from tests.streamlit_process import page_texts

COOKIE_SECRET = "an-st-login-apps-cookie-secret-for-fresh-tokens-0123"
CLIENT_ID, CLIENT_SECRET = "api-app", "api-app-secret"
TOKEN_TTL = 2  # seconds: the provider's access tokens
ENTRY = """import streamlit as st

from streamlit_authlib_login import with_login

app = st.App("your_app.py", **with_login())
"""
# An st.login app that calls an API with the user's access token: no refresh code anywhere.
SCRIPT = """import streamlit as st

if not st.user.is_logged_in:
    st.text("logged out")
    if st.button("Log in"):
        st.login()
    st.stop()
st.text("calling the API with " + st.user.tokens["access"])
"""


@dataclass(frozen=True)
class Deployed:
    url: str
    idp: devidp.RunningProvider
    sessions: SessionManager  # the app's own store, opened as the app opens it


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    cwd = tmp_path_factory.mktemp("st-login-api-app")
    port = free_port()
    callback = f"http://localhost:{port}/oauth2callback"
    with devidp.serve(ProviderConfig(access_token_ttl=TOKEN_TTL)) as idp:
        idp.server.register_client(
            Client(
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                name="API app",
                redirect_uris=(callback,),
                skip_consent=True,
            )
        )
        (cwd / "entry.py").write_text(ENTRY)
        (cwd / "your_app.py").write_text(SCRIPT)
        (cwd / ".streamlit").mkdir()
        (cwd / ".streamlit" / "secrets.toml").write_text(
            f'[auth]\nredirect_uri = "{callback}"\ncookie_secret = "{COOKIE_SECRET}"\n'
            'expose_tokens = "access"\n'
            f'client_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{idp.url}/.well-known/openid-configuration"\n'
        )
        env = {**os.environ, "HOME": str(cwd)}  # no ~/.streamlit/secrets.toml of the developer's
        with streamlit_run("entry.py", cwd=cwd, log=cwd / "streamlit.log", port=port, env=env) as url:
            store = SQLiteStore(cwd / ".local" / "sessions.sqlite3")
            yield Deployed(url, idp, SessionManager(store, COOKIE_SECRET, SessionSettings()))


def log_in(deployed: Deployed) -> str:
    """st.login() as the button does it, through the provider as alice: the session cookie."""
    with httpx2.Client(timeout=10) as browser:
        start = browser.get(
            f"{deployed.url}/auth/login",
            params={"provider": st_login_token("default", COOKIE_SECRET)},
            headers={"referer": f"{deployed.url}/"},
        )
        assert start.status_code == 302, start.text
        at_provider = browser.get(with_params(start.headers["location"], login_hint="alice"))
        assert at_provider.status_code == 302, at_provider.text
        back = browser.get(at_provider.headers["location"])
        assert back.status_code == 302, back.text
        return cookie_value(set_cookies(back)["auth_session"])


def rerun(deployed: Deployed, session_id: str) -> list[str]:
    """The page as this browser sees it: the texts of one run of the script."""
    return page_texts(deployed.url, f"auth_session={session_id}")


def token_shown(deployed: Deployed, session_id: str) -> str:
    [line] = [t for t in rerun(deployed, session_id) if t.startswith("calling the API with ")]
    return line.removeprefix("calling the API with ")


def active(deployed: Deployed, token: str) -> bool:
    answer = httpx2.post(
        f"{deployed.idp.url}/introspect", data={"token": token}, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["active"])


def wait_until_expired(deployed: Deployed, token: str) -> None:
    deadline = time.monotonic() + 2 * TOKEN_TTL
    while active(deployed, token):
        assert time.monotonic() < deadline, "the provider's token did not expire"
        time.sleep(0.1)


def refresh_grants(deployed: Deployed, since: int) -> int:
    return sum(
        e.path == "/token" and e.params.get("grant_type") == "refresh_token"
        for e in deployed.idp.server.journal.entries(since=since)
    )


def newest(deployed: Deployed) -> int:
    return max((e.id for e in deployed.idp.server.journal.entries()), default=0)


def test_an_st_login_app_reads_a_fresh_token_after_the_first_expired(deployed: Deployed) -> None:
    """The token st.user showed has expired at the provider: the next rerun shows another, from
    one refresh grant, which the provider accepts."""
    session_id = log_in(deployed)
    first = token_shown(deployed, session_id)
    wait_until_expired(deployed, first)
    mark = newest(deployed)
    second = token_shown(deployed, session_id)
    assert second != first and refresh_grants(deployed, mark) == 1
    assert active(deployed, second)


def test_an_st_login_app_whose_refresh_token_is_revoked_says_the_session_ended(deployed: Deployed) -> None:
    """The provider revoked the refresh token: once the access token is due, the page says the
    session has ended and why, instead of handing the app a token the API would refuse; the
    session is gone, and the next rerun is logged out."""
    session_id = log_in(deployed)
    token = token_shown(deployed, session_id)
    session = deployed.sessions.load(session_id)
    assert session is not None and session.tokens.refresh_token
    revoked = httpx2.post(
        f"{deployed.idp.url}/revoke",
        data={"token": session.tokens.refresh_token, "token_type_hint": "refresh_token"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert revoked.status_code == 200
    # The provider revoked the access token with it (RFC 7009 §2.1 allows that), which only the
    # API would tell: the app learns of it when the token is due, at its expiry by the app's record.
    assert session.tokens.expires_at is not None and session.tokens.access_token == token
    time.sleep(max(0.0, session.tokens.expires_at - time.time()))
    shown = rerun(deployed, session_id)
    assert not [t for t in shown if t.startswith("calling the API")]
    [ended] = [t for t in shown if t.startswith("**Your session has ended.**")]
    assert "no longer accepts this login's refresh token" in ended
    assert deployed.sessions.load(session_id) is None
    assert rerun(deployed, session_id) == ["logged out"]
