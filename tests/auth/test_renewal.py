"""Fresh access tokens for the app (streamlit_authlib_login/_core/renewal.py): renewed ahead of
their expiry through the single-flight refresh, against the real development provider (its
journal counts the refresh grants); one defined outcome when they cannot be (the session ends,
with a reason for the login page); an outage ends nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

import pytest
from login_harness import DEV_CLIENT_SECRET, BuildApp, LoginApp, dev_config

from devidp import DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.config import HttpSettings
from streamlit_authlib_login._core.errors import ProviderUnreachable, SessionEnded
from streamlit_authlib_login._core.sessions import MIN_VALID, Session, Tokens
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._streamlit import attach_loop, install


async def logged_in(app: LoginApp) -> str:
    return await app.logged_in(app.browser())


def grants(app: LoginApp, since: int) -> int:
    return len(app.requests_since(since, "/token", grant_type="refresh_token"))


def expiring(app: LoginApp, session_id: str, seconds_left: float, **tokens: object) -> Session:
    """The session as if its access token had ``seconds_left`` to live (our record of it; the
    provider's token is unchanged), with ``tokens`` fields replaced."""
    expires_at = int(time.time() + seconds_left)
    updated = app.auth.sessions.update(
        session_id, lambda s: replace(s, tokens=replace(s.tokens, expires_at=expires_at, **tokens))
    )
    assert updated is not None
    return updated


def stored(app: LoginApp, session_id: str) -> Session:
    session = app.auth.sessions.load(session_id)
    assert session is not None
    return session


@pytest.mark.parametrize(("seconds_left", "renewed"), [(MIN_VALID + 2, False), (MIN_VALID - 2, True)])
async def test_a_token_is_renewed_when_less_than_a_minute_is_left_and_not_before(
    login_app: LoginApp, seconds_left: float, renewed: bool
) -> None:
    """More than a minute left: the session's own token, with no provider call and no store write;
    less: one refresh grant, and a new token the provider says is active."""
    session_id = await logged_in(login_app)
    before = expiring(login_app, session_id, seconds_left)
    mark = login_app.mark()
    fresh = await login_app.auth.fresh(session_id)
    assert grants(login_app, mark) == (1 if renewed else 0)
    assert (fresh.tokens.access_token != before.tokens.access_token) is renewed
    if renewed:
        assert fresh.tokens.expires_at is not None and fresh.tokens.expires_at - time.time() > MIN_VALID
        assert (await login_app.introspect(fresh.tokens.access_token))["active"] is True
    else:
        assert stored(login_app, session_id).version == before.version  # nothing written
    again = await login_app.auth.fresh(session_id)  # fresh now, either way: nothing more
    assert grants(login_app, mark) == (1 if renewed else 0)
    assert again.tokens == fresh.tokens


async def test_short_lived_tokens_are_renewed_once_the_first_has_expired(build_app: BuildApp) -> None:
    """The provider issues 2-second access tokens: once the first has expired there, the app's
    next ask gets a new one that the provider accepts."""
    app = build_app(DevAuthorizationServer(ProviderConfig(access_token_ttl=2)))
    session_id = await logged_in(app)
    first = stored(app, session_id).tokens.access_token
    deadline = time.monotonic() + 4
    while (await app.introspect(first))["active"]:
        assert time.monotonic() < deadline, "the 2-second token did not expire"
        await asyncio.sleep(0.1)
    mark = app.mark()
    fresh = await app.auth.fresh(session_id)
    assert fresh.tokens.access_token != first and grants(app, mark) == 1
    assert (await app.introspect(fresh.tokens.access_token))["active"] is True


async def test_concurrent_asks_of_one_session_refresh_once(build_app: BuildApp) -> None:
    """Eight reruns ask at once while the provider is 50 ms away: one refresh grant, one token."""
    app = build_app(latency=0.05)
    session_id = await logged_in(app)
    expiring(app, session_id, 30)
    mark = app.mark()
    answers = await asyncio.gather(*(app.auth.fresh(session_id) for _ in range(8)))
    assert grants(app, mark) == 1
    assert len({a.tokens.access_token for a in answers}) == 1


@pytest.fixture
def page_glue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Streamlit glue's globals (installed Authenticator, attached loop) put back after the test."""
    import streamlit_authlib_login._streamlit as glue

    for name in ("_authenticator", "_local", "_loop"):
        monkeypatch.setattr(glue, name, getattr(glue, name))


@pytest.mark.usefixtures("page_glue")
async def test_reruns_in_page_threads_renew_once_through_session_access_token(build_app: BuildApp) -> None:
    """Eight page threads read the session and call ``access_token()`` at once: the glue runs the
    renewal on the server's loop, and all get the one token of one refresh grant. Outside a page,
    a session that cannot renew raises ``SessionEnded``."""
    app = build_app(latency=0.05)
    session_id = await logged_in(app)
    expiring(app, session_id, 30)
    install(app.auth)
    attach_loop(asyncio.get_running_loop())
    mark = app.mark()

    def page() -> str:
        return stored(app, session_id).access_token()  # as a page reads it (current_session)

    tokens = await asyncio.gather(*(asyncio.to_thread(page) for _ in range(8)))
    assert grants(app, mark) == 1 and len(set(tokens)) == 1
    assert tokens[0] == stored(app, session_id).tokens.access_token
    expiring(app, session_id, 30, refresh_token=None)
    with pytest.raises(SessionEnded):
        await asyncio.to_thread(page)


async def test_a_token_without_a_lifetime_is_returned_as_it_is(login_app: LoginApp) -> None:
    """No ``expires_in`` (RFC 6749 §5.1 only recommends it): nothing is known to be due."""
    session_id = await logged_in(login_app)
    login_app.auth.sessions.update(
        session_id, lambda s: replace(s, tokens=replace(s.tokens, expires_at=None, expires_in=None))
    )
    mark = login_app.mark()
    fresh = await login_app.auth.fresh(session_id, min_valid=10**9)
    assert grants(login_app, mark) == 0 and fresh.tokens.expires_at is None


def test_a_token_that_lives_less_than_two_minutes_is_due_at_half_its_lifetime() -> None:
    """A 60 s token is renewed with 30 s left, not on every ask; a 3600 s one with 60 s left."""
    now = 1_000_000.0
    short = Tokens(access_token="a", expires_at=int(now) + 31, expires_in=60)
    assert not short.due(MIN_VALID, now) and short.due(MIN_VALID, now + 2)
    hour = Tokens(access_token="a", expires_at=int(now) + 61, expires_in=3600)
    assert not hour.due(MIN_VALID, now) and hour.due(MIN_VALID, now + 2)


async def ended(app: LoginApp, session_id: str, caplog: pytest.LogCaptureFixture) -> SessionEnded:
    with (
        caplog.at_level(logging.WARNING, logger="streamlit_authlib_login"),
        pytest.raises(SessionEnded) as raised,
    ):
        await app.auth.fresh(session_id)
    assert app.auth.sessions.load(session_id) is None
    record = app.auth.sessions.notices.ended(session_id)
    assert record is not None and record["kind"] == "session"
    assert record["check"] == f"session_ended/{raised.value.reason}"
    assert record["description"] == raised.value.description
    (line,) = [r.getMessage() for r in caplog.records if r.name.startswith("streamlit_authlib_login")]
    assert raised.value.request_id and raised.value.request_id == record["request_id"]
    assert raised.value.request_id in line and raised.value.reason in line
    return raised.value


async def revoke_refresh_token(app: LoginApp, session: Session) -> None:
    revoked = await app.browser().post(
        "/idp/revoke",
        data={"token": session.tokens.refresh_token, "token_type_hint": "refresh_token"},
        auth=("streamlit-app", DEV_CLIENT_SECRET),
    )
    assert revoked.status_code == 200


async def test_a_refresh_token_the_provider_revoked_ends_the_session_with_a_reason(
    login_app: LoginApp, caplog: pytest.LogCaptureFixture
) -> None:
    """invalid_grant: the session is deleted, and the login page has a note saying why."""
    session_id = await logged_in(login_app)
    await revoke_refresh_token(login_app, expiring(login_app, session_id, 30))
    error = await ended(login_app, session_id, caplog)
    assert error.reason == "refresh_refused" and "no longer accepts" in error.description


async def test_concurrent_asks_meeting_a_revoked_refresh_token_ask_the_provider_once(
    build_app: BuildApp,
) -> None:
    """Eight reruns ask at once, the provider 50 ms away: one refresh grant, refused; one ask
    ends the session, the others find it ended (``NotLoggedIn``; a page shows the note)."""
    app = build_app(latency=0.05)
    session_id = await logged_in(app)
    await revoke_refresh_token(app, expiring(app, session_id, 30))
    mark = app.mark()
    answers = await asyncio.gather(*(app.auth.fresh(session_id) for _ in range(8)), return_exceptions=True)
    assert grants(app, mark) == 1
    assert sorted(type(a).__name__ for a in answers) == ["NotLoggedIn"] * 7 + ["SessionEnded"]
    assert app.auth.sessions.notices.ended(session_id) is not None


async def test_a_login_without_a_refresh_token_ends_when_its_token_is_due(
    login_app: LoginApp, caplog: pytest.LogCaptureFixture
) -> None:
    """No refresh token, and less than a minute left: the session ends before the token does."""
    session_id = await logged_in(login_app)
    expiring(login_app, session_id, 30, refresh_token=None)
    mark = login_app.mark()
    error = await ended(login_app, session_id, caplog)
    assert error.reason == "no_refresh_token" and grants(login_app, mark) == 0


async def test_a_provider_that_does_not_answer_ends_nothing(
    build_app: BuildApp, caplog: pytest.LogCaptureFixture
) -> None:
    """The provider 0.4 s away, a refresh given 0.3 s: the app gets its still-valid token, is not
    kept waiting on the provider again for ``RETRY_AFTER`` seconds (10: this test takes one), and
    the session stays; once the token has expired, the error says the provider did not answer."""
    config = dev_config(http=HttpSettings(timeout=0.1))
    store = MemoryStore()
    first = build_app(config=config, store=store)
    session_id = await logged_in(first)
    before = expiring(first, session_id, 30)
    slow = build_app(config=config, store=store, latency=0.4)
    with caplog.at_level(logging.WARNING, logger="streamlit_authlib_login"):
        assert (await slow.auth.fresh(session_id)).tokens == before.tokens
    assert "session kept" in caplog.text
    started = time.monotonic()
    assert (await slow.auth.fresh(session_id)).tokens == before.tokens
    assert time.monotonic() - started < 0.3  # before another try could have run out its budget
    assert stored(slow, session_id).tokens == before.tokens
    expiring(first, session_id, -1)
    with pytest.raises(ProviderUnreachable, match=r"longer than 0\.3 s"):
        await slow.auth.fresh(session_id)
    assert slow.auth.sessions.load(session_id) is not None


async def test_userinfo_asks_the_provider_again_and_keeps_the_answer(login_app: LoginApp) -> None:
    """``userinfo`` is a new call of the userinfo endpoint with the session's (fresh) token, and
    the session keeps what it said."""
    session_id = await logged_in(login_app)
    login_app.auth.sessions.update(session_id, lambda s: replace(s, userinfo={"sub": s.claims["sub"]}))
    mark = login_app.mark()
    userinfo = await login_app.auth.userinfo(session_id)
    assert len(login_app.requests_since(mark, "/userinfo")) == 1
    assert userinfo["sub"] == stored(login_app, session_id).claims["sub"] and userinfo.get("email")
    assert stored(login_app, session_id).userinfo == userinfo
