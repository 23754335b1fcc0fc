"""Session lifetimes as the secrets configure them (streamlit_authlib_login/_core/lifetime.py
through load_config): durations, where they hold, how a provider's table replaces [auth]'s,
"refresh", and a clear start-up error for each value that cannot work."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from login_harness import (
    COOKIE_SECRET,
    DEV_CLIENT_SECRET,
    BuildApp,
    cookie_value,
    dev_config,
    set_cookies,
    through_the_provider,
)

from devidp import DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.config import AuthConfig, SessionSettings, load_config
from streamlit_authlib_login._core.errors import ConfigError
from streamlit_authlib_login._core.lifetime import GRANT_CEILING, Lifetime, format_duration
from streamlit_authlib_login._core.sessions import SessionManager, Tokens
from streamlit_authlib_login._devmode import DEV_MODE, emulated_providers, throwaway_apple_key
from streamlit_authlib_login._routes import csrf_token

SECRET = "a-cookie-secret-of-at-least-32-characters"
OIDC = {
    "client_id": "id",
    "client_secret": "s",
    "server_metadata_url": "https://sso.example/.well-known/openid-configuration",
}
HOUR = 3600


def load(auth: dict[str, object], tmp_path: Path) -> AuthConfig:
    return load_config({"auth": {"cookie_secret": SECRET, **auth}}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)


def test_unset_a_session_lives_8_hours_idle_and_7_days_in_all(tmp_path: Path) -> None:
    """Without the keys, every provider (the development one too) has the defaults."""
    config = load({}, tmp_path)
    assert config.session.lifetime("dev") == Lifetime(idle=8 * HOUR, max_age=7 * 24 * HOUR)


@pytest.mark.parametrize(
    ("written", "seconds", "shown"),
    [("90s", 90, "1m30s"), ("30m", 1800, "30m"), ("8h", 8 * HOUR, "8h"), ("7d", 7 * 24 * HOUR, "7d"),
     ("1h30m", 5400, "1h30m"), (" 2h ", 7200, "2h"), ("1d12h", 36 * HOUR, "1d12h"),
     ("400d", 400 * 24 * HOUR, "400d")],
)  # fmt: skip
def test_durations_are_numbers_with_units(tmp_path: Path, written: str, seconds: int, shown: str) -> None:
    """Units d, h, m, s, largest first, any combination; messages write them back the same way."""
    config = load({"session_max_age": written, "corp": OIDC}, tmp_path)
    assert config.session.lifetime("corp").max_age == seconds
    assert format_duration(seconds) == shown


def test_a_max_age_shorter_than_the_default_idle_timeout_cuts_it(tmp_path: Path) -> None:
    """session_max_age = "2h" alone is enough: the 8 h idle default cannot outlast it."""
    config = load({"session_max_age": "2h", "corp": OIDC}, tmp_path)
    assert config.session.lifetime("corp") == Lifetime(idle=2 * HOUR, max_age=2 * HOUR)
    assert (config.session.idle_timeout, config.session.absolute_timeout) == (2 * HOUR, 2 * HOUR)


def test_a_providers_table_replaces_the_keys_of_auth_key_by_key(tmp_path: Path) -> None:
    """[auth]'s keys hold for every provider; a table's own key replaces that key only, and an
    idle timeout it inherits is cut to its shorter max age."""
    config = load(
        {
            "session_idle_timeout": "30m",
            "session_max_age": "12h",
            "corp": {**OIDC, "session_max_age": "2h"},
            "partner": {**OIDC, "session_max_age": "10m"},
            "other": OIDC,
        },
        tmp_path,
    )
    lifetime = config.session.lifetime
    assert lifetime("other") == Lifetime(idle=1800, max_age=12 * HOUR)
    assert lifetime("corp") == Lifetime(idle=1800, max_age=2 * HOUR)
    assert lifetime("partner") == Lifetime(idle=600, max_age=600)
    assert lifetime("dev") == lifetime("other")  # a provider no table names: [auth]'s


def test_st_logins_single_provider_form_takes_the_keys_of_auth(tmp_path: Path) -> None:
    """In st.login's single-provider form the keys are [auth]'s, and the default provider's."""
    config = load({**OIDC, "session_max_age": "1h"}, tmp_path)
    (default,) = config.providers
    assert config.session.lifetime(default.name) == Lifetime(idle=HOUR, max_age=HOUR)


def test_refresh_ties_a_session_to_its_providers_grant(tmp_path: Path) -> None:
    """session_max_age = "refresh": within the 30-day ceiling, the grant decides."""
    config = load({"session_idle_timeout": "1h", "corp": {**OIDC, "session_max_age": "refresh"}}, tmp_path)
    assert config.session.lifetime("corp") == Lifetime(idle=HOUR, max_age=GRANT_CEILING, ends_with_grant=True)
    assert not config.session.lifetime("dev").ends_with_grant


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ({"session_max_age": 7200},
         '[auth] `session_max_age` is 7200: write a duration as a string with its unit, like "2h" if you '
         "meant 7200 seconds"),
        ({"session_idle_timeout": "8 hours"},
         '[auth] `session_idle_timeout` is "8 hours", not a duration: write one like "30m", "8h"'),
        ({"session_max_age": "2H"}, "not a duration"),
        ({"session_max_age": "30m1h"}, "largest first"),
        ({"session_max_age": ""}, "not a duration"),
        ({"session_max_age": "Refresh"}, 'or "refresh" to end with the provider\'s refresh token'),
        ({"session_max_age": True}, "write a duration as a string with its unit"),
        ({"session_idle_timeout": "30s"}, '`session_idle_timeout` is "30s", under a minute'),
        ({"session_max_age": "401d"}, "over 400 days: browsers drop a cookie after 400 days"),
        ({"session_idle_timeout": "refresh"}, '`session_idle_timeout` cannot be "refresh"'),
        ({"session_idle_timeout": "8h", "session_max_age": "2h"},
         '[auth] `session_idle_timeout` "8h" is longer than `session_max_age` "2h": a session ends at '
         'its max age, so it is never idle that long. Write `session_idle_timeout` = "2h" or less'),
        ({"corp": {**OIDC, "session_idle_timeout": "40d", "session_max_age": "refresh"}},
         '[auth.corp] `session_idle_timeout` "40d" is longer than the 30 days a session tied to the '
         "refresh token lasts at most"),
        ({"corp": {**OIDC, "session_max_age": "1x"}}, '[auth.corp] `session_max_age` is "1x"'),
        ({"session_max_ag": "2h"}, "did you mean `session_max_age`?"),
        ({"corp": {**OIDC, "session_timeout": "2h"}}, "[auth.corp] `session_timeout` is not a setting"),
    ],
    ids=["bare-number", "words", "upper-case", "units-out-of-order", "empty", "refresh-spelt", "bool",
         "under-a-minute", "over-400-days", "idle-refresh", "idle-over-max", "idle-over-ceiling",
         "provider-table", "near-miss", "unknown-in-provider"],
)  # fmt: skip
def test_a_lifetime_that_cannot_work_stops_the_start(
    tmp_path: Path, auth: dict[str, object], words: str
) -> None:
    """Each names the table, the key, what is wrong and what to write instead."""
    with pytest.raises(ConfigError) as raised:
        load(auth, tmp_path)
    assert words in raised.value.description


# --- what a token response says of the grant ---------------------------------------------------
@pytest.mark.parametrize(
    ("response", "stated"),
    [
        ({"refresh_expires_in": 1800}, 1800),  # Keycloak
        ({"refresh_token_expires_in": "15811200"}, 15811200),  # GitHub Apps (older docs: a string)
        ({"refresh_token_expires_in": 86400}, 86400),  # Microsoft, single-page apps
        ({"refresh_expires_in": 0}, None),  # Keycloak's offline token: no fixed lifetime
        ({"refresh_token_expires_in": "soon"}, None),
        ({}, None),
    ],
    ids=["keycloak", "github-app", "microsoft-spa", "offline", "garbage", "unstated"],
)
def test_the_refresh_tokens_stated_lifetime_is_read_where_providers_put_it(
    response: dict[str, object], stated: int | None
) -> None:
    """Stated lifetimes become an absolute expiry; anything else is unstated, never an error."""
    tokens = Tokens.from_response({"access_token": "a", "refresh_token": "r", "expires_in": 300, **response})
    assert tokens.expires_at is not None
    assert tokens.refresh_expires_at == (None if stated is None else tokens.expires_at - 300 + stated)
    assert tokens.grant_ends_at == tokens.refresh_expires_at


def test_without_a_refresh_token_the_grant_ends_with_the_access_token() -> None:
    """Nothing can renew an access token alone: its expiry is the grant's end (unknown without one)."""
    assert Tokens.from_response({"access_token": "a", "expires_in": 300}).grant_ends_at is not None
    assert Tokens.from_response({"access_token": "a"}).grant_ends_at is None


# --- "refresh" through a login and its refreshes, against the development provider --------------
GRANT = Lifetime(idle=8 * HOUR, max_age=GRANT_CEILING, ends_with_grant=True)


def tied_to_the_grant(*, provider: str = "dev") -> SessionSettings:
    return SessionSettings(by_provider={provider: GRANT})


async def test_a_session_tied_to_the_grant_ends_when_the_provider_refuses_its_refresh(
    build_app: BuildApp,
) -> None:
    """The refresh token revoked at the provider: the next refresh gets invalid_grant, and the
    session ends there (401, not_logged_in, saying why). A fixed lifetime keeps the session
    (tests/auth/test_routes.py: a refused refresh is a 400 there)."""
    app = build_app(config=dev_config(session=tied_to_the_grant()))
    browser = app.browser()
    session_id = await app.logged_in(browser)
    session = app.auth.sessions.load(session_id)
    assert session is not None and session.tokens.refresh_token
    revoked = await app.browser().post(
        "/idp/revoke",
        data={"token": session.tokens.refresh_token, "token_type_hint": "refresh_token"},
        auth=("streamlit-app", DEV_CLIENT_SECRET),
    )
    assert revoked.status_code == 200
    token = csrf_token(app.auth.config.cookie_secret, session_id)
    response = await browser.post("/auth/refresh", headers={"X-CSRF-Token": token})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "not_logged_in"
    assert "has ended (it refused to renew it)" in response.json()["description"]
    assert app.auth.sessions.load(session_id) is None
    assert (await browser.get("/auth/me")).status_code == 401


async def test_each_refresh_moves_the_end_of_a_session_tied_to_a_stated_grant(build_app: BuildApp) -> None:
    """A provider that states its refresh tokens' lifetime (Keycloak's refresh_expires_in, here
    an hour) and rotates them: the session ends with the refresh token it holds, so a refresh
    gives it another hour from then."""
    idp = DevAuthorizationServer(ProviderConfig(refresh_token_ttl=HOUR, refresh_expires_in=True))
    app = build_app(idp, config=dev_config(session=tied_to_the_grant()))
    session_id = await app.logged_in(app.browser())
    sessions = app.auth.sessions
    session = sessions.load(session_id)
    assert session is not None and session.tokens.refresh_expires_at is not None
    assert abs(sessions.ends_at(session) - (time.time() + HOUR)) <= 2
    # As if the login were 59 minutes old: its refresh token has a minute left.
    almost = int(time.time()) + 60
    sessions.update(session_id, lambda s: replace(s, tokens=replace(s.tokens, refresh_expires_at=almost)))
    later = SessionManager(sessions.store, COOKIE_SECRET, sessions.settings, clock=lambda: time.time() + 120)
    stale = sessions.load(session_id)
    assert stale is not None and later.ends_at(stale) == almost  # two minutes on, it would be gone
    refreshed = await app.auth.refresh(session_id)
    assert refreshed.tokens.refresh_expires_at is not None
    assert refreshed.tokens.refresh_expires_at >= almost + HOUR - 62
    assert later.load(session_id) is not None  # two minutes on, alive: the refresh moved its end


async def test_a_refresh_token_kept_at_a_refresh_keeps_its_stated_end(build_app: BuildApp) -> None:
    """Kakao states refresh_token_expires_in and does not rotate: a refresh answers no refresh
    token, and the session keeps the one it has with the end Kakao gave it."""
    kakao = next(
        p for p in emulated_providers(DEV_CLIENT_SECRET, throwaway_apple_key()) if p.name == "emulated-kakao"
    )
    app = build_app(config=dev_config(providers=[kakao], session=tied_to_the_grant(provider=kakao.name)))
    browser = app.browser()
    response = await through_the_provider(
        app, browser, await app.start(browser, provider=kakao.name), "alice"
    )
    session_id = cookie_value(set_cookies(response)[app.session_cookie])
    before = app.auth.sessions.load(session_id)
    assert before is not None and before.tokens.refresh_expires_at is not None
    after = await app.auth.refresh(session_id)
    assert after.tokens.refresh_count == 1 and after.tokens.refresh_token == before.tokens.refresh_token
    assert after.tokens.refresh_expires_at == before.tokens.refresh_expires_at
