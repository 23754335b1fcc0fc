"""What an operator reads on the console: one line per refused login, per login, per logout,
naming the provider, the failed check and the request id the failure page shows; never a token."""

from __future__ import annotations

import logging

import pytest
from login_harness import BuildApp, LoginApp, cookie_value, query_of, set_cookies

from devidp import DevAuthorizationServer
from streamlit_authlib_login._core.trace import fingerprint
from streamlit_authlib_login._routes import csrf_token


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("streamlit_authlib_login")]


def secrets_of(app: LoginApp, session_id: str) -> list[str]:
    session = app.auth.sessions.load(session_id)
    assert session is not None
    tokens = session.tokens
    return [v for v in (session_id, tokens.access_token, tokens.refresh_token, tokens.id_token) if v]


async def test_a_refused_login_leaves_one_warning_with_its_check_and_request_id(
    build_app: BuildApp, idp: DevAuthorizationServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong `aud` is one WARNING: provider, failed check, the failure page's request id; no token."""
    app = build_app(idp)
    await app.set_faults("wrong_aud")
    browser = app.browser()
    callback = await app.authorize(browser, await app.start(browser))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        response = await browser.get(callback)
    assert response.status_code == 303
    record = app.refusal(response.headers["location"], browser)
    assert record is not None
    [line] = lines(caplog)
    assert line.levelno == logging.WARNING
    message = line.getMessage()
    assert "login refused: provider=dev check=id_token_invalid/aud" in message
    assert f"request_id={record['request_id']}" in message
    params = query_of(callback)
    assert params["code"] not in message and params["state"] not in message
    assert app.auth.config.cookie_secret not in message


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"code": "abc", "state": "never-issued"}, "state_mismatch"),
        ({"error": "access_denied"}, "state_mismatch"),
    ],
)
async def test_forged_callbacks_are_logged_too(
    login_app: LoginApp, caplog: pytest.LogCaptureFixture, params: dict[str, str], check: str
) -> None:
    """Bogus callbacks (a replayed or forged state) are refused logins like any other."""
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        response = await login_app.browser().get("/auth/callback/dev", params=params)
    assert response.status_code == 303
    [line] = lines(caplog)
    assert line.levelno == logging.WARNING and f"check={check}" in line.getMessage()


async def test_a_login_and_a_logout_leave_one_info_line_each(
    login_app: LoginApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Login: provider and a fingerprint of `sub`. Logout: provider, revocations, provider logout."""
    browser = login_app.browser()
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        response = await login_app.login(browser)
    session_id = cookie_value(set_cookies(response)["auth_session"])
    session = login_app.auth.sessions.load(session_id)
    assert session is not None
    sub = str(session.claims["sub"])
    [login] = lines(caplog)
    assert login.levelno == logging.INFO
    assert login.getMessage() == f"login: provider=dev sub={fingerprint(sub)}"
    hidden = secrets_of(login_app, session_id)

    caplog.clear()
    token = csrf_token(login_app.auth.config.cookie_secret, session_id)
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        await browser.post("/auth/logout", data={"csrf": token})
    [logout] = lines(caplog)
    assert logout.getMessage() == f"logout: provider=dev sub={fingerprint(sub)} revoked=2 provider_logout=yes"
    for secret in hidden:
        assert secret not in login.getMessage() + logout.getMessage()


async def test_a_log_line_cannot_be_split_by_what_a_stranger_sends(
    login_app: LoginApp, caplog: pytest.LogCaptureFixture
) -> None:
    """A line break in the provider name or the provider's error text does not forge a second line."""
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        await login_app.browser().get("/auth/login/x%0A2026-12-02 login: provider=dev sub=forged")
    [line] = lines(caplog)
    assert "\n" not in line.getMessage()
