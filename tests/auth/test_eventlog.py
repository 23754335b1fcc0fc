"""``[auth] log_format = "json"`` (streamlit_authlib_login/_core/eventlog.py): each line the
module logs is one JSON object with the event's fields, from real logins, refusals and logouts
against the development provider; never a `sub`, an email or a token. And the console logger
``with_login`` sets up prints those lines alone, not Streamlit's text beside them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from login_harness import BuildApp, LoginApp, cookie_value, set_cookies

from devidp import DevAuthorizationServer
from streamlit_authlib_login._core.eventlog import JsonFormatter
from streamlit_authlib_login._core.trace import fingerprint
from streamlit_authlib_login._routes import csrf_token
from streamlit_authlib_login._streamlit import console_log

PACKAGE = "streamlit_authlib_login"


@pytest.fixture
def package_logger() -> Iterator[logging.Logger]:
    """The package's logger as it was, given back after the test: its handlers, level and
    propagation (caplog, in later tests, reads what propagates)."""
    logger = logging.getLogger(PACKAGE)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.__dict__.pop("streamlit_console_handler", None)
    handlers, logger.level, logger.propagate = saved
    for handler in handlers:
        logger.addHandler(handler)


@pytest.fixture
def json_lines(package_logger: logging.Logger) -> Iterator[io.StringIO]:
    """What the package logs, formatted as ``log_format = "json"`` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    yield stream


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    text = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return [json.loads(line) for line in text.splitlines()]


async def test_json_lines_hold_the_events_fields_and_no_secret(
    build_app: BuildApp, idp: DevAuthorizationServer, json_lines: io.StringIO
) -> None:
    """A login, a refused login and a logout: one JSON object each, with event, provider, check,
    request id and a fingerprint of `sub`; the `sub`, email, tokens and session id appear nowhere."""
    app: LoginApp = build_app(idp)
    browser = app.browser()
    response = await app.login(browser)
    session_id = cookie_value(set_cookies(response)[app.session_cookie])
    session = app.auth.sessions.load(session_id)
    assert session is not None
    sub, email = str(session.claims["sub"]), str(session.profile["email"])
    [login] = parsed(json_lines)
    assert login["event"] == "login" and login["provider"] == "dev"
    assert login["sub_fingerprint"] == fingerprint(sub)
    assert login["level"] == "INFO" and str(login["logger"]).startswith(PACKAGE)
    assert str(login["time"]).endswith("+00:00")

    await app.set_faults("wrong_aud")
    refused_browser = app.browser()
    refused = await app.login(refused_browser)
    record = app.refusal(refused.headers["location"], refused_browser)
    assert record is not None
    await app.set_faults()
    await browser.post(
        "/auth/logout", headers={"X-CSRF-Token": csrf_token(app.auth.config.cookie_secret, session_id)}
    )
    refusal, logout = parsed(json_lines)
    assert {k: refusal[k] for k in ("event", "provider", "check", "request_id")} == {
        "event": "login_refused",
        "provider": "dev",
        "check": "id_token_invalid/aud",
        "request_id": record["request_id"],
    }
    assert refusal["level"] == "WARNING" and "sub_fingerprint" not in refusal
    assert logout["event"] == "logout" and logout["sub_fingerprint"] == fingerprint(sub)
    tokens = session.tokens
    everything = json.dumps([login, refusal, logout])
    for secret in (sub, email, session_id, tokens.access_token, tokens.refresh_token, tokens.id_token):
        assert secret and secret not in everything


async def test_what_a_stranger_sends_stays_inside_its_json_string(
    login_app: LoginApp, json_lines: io.StringIO
) -> None:
    """A line break in a provider name forges no second line: JSON escapes it."""
    await login_app.browser().get('/auth/login/x%0A{"event": "login", "provider": "dev"}')
    [line] = parsed(json_lines)
    assert line["event"] == "login_refused" and line["check"] == "unknown_provider"
    assert "\n" not in str(line["provider"])


def test_console_log_json_prints_only_json_lines(
    package_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """``console_log("json")`` after Streamlit's text logger: one handler, printing JSON to stderr."""
    console_log("text")
    assert package_logger.handlers  # Streamlit's text handler
    logger = console_log("json")
    assert logger is package_logger and len(logger.handlers) == 1
    assert console_log("json") is logger and len(logger.handlers) == 1  # however often
    logging.getLogger(f"{PACKAGE}._routes.common").warning("a line with no event")
    [line] = [json.loads(text) for text in capsys.readouterr().err.splitlines()]
    assert line["message"] == "a line with no event" and "event" not in line
