"""Streamlit's st.login / st.user / st.logout, answered by the login module
(streamlit_authlib_login/_core/stlogin.py).

The login itself through st.login's one ``/oauth2callback`` is exercised by every test of
``test_flow.py`` (it runs each of them in both callback modes); here: the provider token,
what st.user holds, the secrets st.login's own check needs, and the GET logout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from login_harness import (
    COOKIE_SECRET,
    DEV_CLIENT_SECRET,
    BuildApp,
    LoginApp,
    dev_config,
    forms,
    query_of,
    set_cookies,
    st_login_token,
    with_params,
)
from streamlit.auth_util import validate_auth_credentials
from streamlit.runtime.secrets import secrets_singleton

from devidp import PERSONAS, Client, DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.config import load_config
from streamlit_authlib_login._core.errors import ProviderTokenError
from streamlit_authlib_login._core.presets import PRESETS
from streamlit_authlib_login._core.sessions import Session, Tokens
from streamlit_authlib_login._core.stlogin import (
    provider_from_token,
    same_origin_navigation,
    st_login_secrets,
    st_user,
)
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._devmode import DEV_MODE, emulated_providers, throwaway_apple_key
from streamlit_authlib_login._routes import csrf_token

ST_LOGIN = "http://localhost/oauth2callback"


@pytest.fixture
def st_app(build_app: BuildApp) -> LoginApp:
    """The login module configured as an st.login app's secrets configure it."""
    return build_app(config=dev_config(redirect_uri=ST_LOGIN))


# --- st.login's provider token -------------------------------------------------------------
def test_a_token_streamlit_signed_names_its_provider() -> None:
    """Streamlit's own encoder (keyed with [auth] cookie_secret) is what we verify."""
    assert provider_from_token(st_login_token("github", COOKIE_SECRET), COOKIE_SECRET) == "github"


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (None, "has no `provider` token"),
        (st_login_token("dev", "another-apps-cookie-secret-0123456789abcdef"), "not signed with this app's"),
        (st_login_token("dev", COOKIE_SECRET, expires_in=-1), "expired"),
        (jwt.encode({"alg": "HS512"}, {"provider": "dev", "exp": 2**40}, OctKey.import_key(COOKIE_SECRET),
                    algorithms=["HS512"]), "not signed"),
        (jwt.encode({"alg": "HS256"}, {"provider": "dev"}, OctKey.import_key(COOKIE_SECRET)), "no expiry"),
        (jwt.encode({"alg": "HS256"}, {"provider": "", "exp": 2**40}, OctKey.import_key(COOKIE_SECRET)),
         "names no"),
        (jwt.encode({"alg": "RS256"}, {"provider": "dev", "exp": 2**40}, RSAKey.generate_key(2048),
                    algorithms=["RS256"]), "not signed"),
        ("eyJhbGciOiJub25lIn0.eyJwcm92aWRlciI6ImRldiIsImV4cCI6OTk5OTk5OTk5OX0.", "not signed"),
    ],
    ids=["missing", "other-secret", "expired", "hs512", "no-exp", "empty-provider", "rs256", "alg-none"],
)  # fmt: skip
def test_a_forged_or_expired_token_is_refused(token: str | None, words: str) -> None:
    """Only HS256 under our cookie secret, with a provider and a future exp, as Streamlit checks."""
    with pytest.raises(ProviderTokenError, match=words):
        provider_from_token(token, COOKIE_SECRET)


def signed_exp(exp: object) -> str:
    """A token signed with our cookie secret (so the exp is what is judged), exp as given."""
    return jwt.encode({"alg": "HS256"}, {"provider": "dev", "exp": exp}, OctKey.import_key(COOKIE_SECRET))


@pytest.mark.parametrize(
    "exp",
    [
        float("nan"),
        float("inf"),
        1e308,
        2**40,
        10**400,
        int(time.time()) + 3600,
        time.time() + 60,
        "9999999999",
    ],
    ids=["nan", "inf", "1e308", "2**40", "10**400", "an-hour", "a-float", "a-string"],
)
def test_a_token_that_would_outlive_streamlits_two_minutes_is_refused(exp: object) -> None:
    """Streamlit signs exp = int(now + 2 min): a NaN, infinite, float or far-off exp is refused."""
    with pytest.raises(ProviderTokenError):
        provider_from_token(signed_exp(exp), COOKIE_SECRET)


def test_a_token_made_a_moment_ago_is_accepted() -> None:
    """An exp up to Streamlit's two minutes ahead (and a little clock skew) is fine."""
    assert provider_from_token(signed_exp(int(time.time()) + 120), COOKIE_SECRET) == "dev"
    assert provider_from_token(signed_exp(int(time.time()) + 1), COOKIE_SECRET) == "dev"


@pytest.mark.parametrize("forged", ["other-secret", "expired", "unknown-provider"])
async def test_a_refused_st_login_link_starts_nothing(build_app: BuildApp, forged: str) -> None:
    """GET /auth/login with a bad token: the login page says why; no pending login, no cookie."""
    store = MemoryStore()
    app = build_app(config=dev_config(redirect_uri=ST_LOGIN), store=store)
    token = {
        "other-secret": st_login_token("dev", "another-apps-cookie-secret-0123456789abcdef"),
        "expired": st_login_token("dev", COOKIE_SECRET, expires_in=-5),
        "unknown-provider": st_login_token("okta", COOKIE_SECRET),
    }[forged]
    browser = app.browser()
    response = await browser.get("/auth/login", params={"provider": token})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?refused=")  # and nothing stored
    assert set_cookies(response) == {}
    record = app.refusal(response.headers["location"], browser)
    assert record is not None
    assert record["error"] == (
        "unknown_provider" if forged == "unknown-provider" else "provider_token_invalid"
    )
    assert not [k for k in store._data if k.startswith("state:")]


async def test_st_login_comes_back_to_the_page_it_was_called_on(st_app: LoginApp) -> None:
    """st.login() on /reports returns there after the login (the Referer names the page)."""
    browser = st_app.browser()
    callback = await st_app.authorize(browser, await st_app.start(browser, next_path="/reports?x=1"))
    assert callback.startswith(ST_LOGIN + "?")
    response = await browser.get(callback)
    assert response.status_code == 302 and response.headers["location"] == "/reports?x=1"


async def test_a_login_link_from_another_site_returns_home(st_app: LoginApp) -> None:
    """A Referer of another origin is not a place to come back to."""
    browser = st_app.browser()
    response = await browser.get(
        "/auth/login",
        params={"provider": st_login_token("dev", COOKIE_SECRET)},
        headers={"referer": "https://evil.example/phish"},
    )
    callback = await st_app.authorize(browser, response.headers["location"])
    assert (await browser.get(callback)).headers["location"] == "/"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["code", "state", "iss", "error", "error_description", "session_state", "x"]),
        st.text(max_size=40),
        max_size=5,
    ),
    post=st.booleans(),
)
async def test_any_callback_is_refused_without_a_session_or_a_5xx(
    st_app: LoginApp, params: dict[str, str], post: bool
) -> None:
    """Arbitrary parameters at /oauth2callback (query or form post): a refusal page, no session."""
    browser = st_app.browser()
    if post:
        response = await browser.post("/oauth2callback", data=params)
    else:
        response = await browser.get("/oauth2callback", params=params)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/login?refused=")  # nothing stored
    assert st_app.session_cookie not in set_cookies(response)


async def test_a_stolen_callback_replayed_at_oauth2callback_is_refused(st_app: LoginApp) -> None:
    """The code and state of a finished login, sent again: the state is spent."""
    browser = st_app.browser()
    callback = await st_app.authorize(browser, await st_app.start(browser))
    assert (await browser.get(callback)).status_code == 302
    again = await browser.get(callback)
    assert again.status_code == 303 and again.headers["location"].startswith("/login?refused=state_mismatch")


# --- st.user -------------------------------------------------------------------------------
def _session(**fields: object) -> Session:
    return Session(
        id="s",
        provider=str(fields.pop("provider", "google")),
        profile=fields.pop("profile", {}),  # type: ignore[arg-type]
        claims=fields.pop("claims", {}),  # type: ignore[arg-type]
        tokens=Tokens(access_token="at-1", id_token="it-1"),
        created_at=0,
        last_seen=0,
    )


def test_st_user_holds_the_id_token_claims_as_st_login_does() -> None:
    """The claims, plus is_logged_in, provider and origin, like st.login's identity cookie."""
    claims = {"sub": "u1", "name": "Alice", "email": "a@example.com", "iss": "https://idp"}
    user = st_user(_session(claims=claims), origin="http://localhost:8501")
    assert user == {**claims, "is_logged_in": True, "provider": "google", "origin": "http://localhost:8501"}
    assert "tokens" not in user  # only when [auth] expose_tokens asks


def test_st_user_of_an_oauth2_only_provider_is_its_normalized_profile() -> None:
    """GitHub has no ID token: st.user gets the profile under the OIDC names apps read."""
    profile = {"id": "583231", "name": "The Octocat", "username": "octocat", "email": "o@github.com",
               "email_verified": True, "avatar": "https://avatars/u/583231", "locale": None}  # fmt: skip
    user = st_user(_session(provider="github", profile=profile), origin="o")
    assert user["sub"] == "583231" and user["name"] == "The Octocat"
    assert user["preferred_username"] == "octocat" and user["picture"] == "https://avatars/u/583231"
    assert user["email_verified"] is True and "locale" not in user


def test_st_user_exposes_tokens_only_as_asked_and_none_when_logged_out() -> None:
    """[auth] expose_tokens = ["id"] gives st.user.tokens the ID token only."""
    assert st_user(_session(claims={"sub": "u"}), origin="o", expose_tokens=("id",))["tokens"] == {
        "id": "it-1"
    }
    assert st_user(None, origin="o") == {"is_logged_in": False}


# --- st.login's own check, run on what with_login gives st.App(secrets=...) ----------------
@pytest.fixture
def streamlit_secrets() -> Iterator[None]:
    yield
    secrets_singleton._reset()
    secrets_singleton._programmatic_secrets = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("secrets", "names"),
    [
        ({}, ["default", "github", "kakao", "naver", "apple"]),  # development mode, offline twins
        ({"auth": {"github": {"client_id": "i", "client_secret": "s"}}}, ["github"]),
        ({"auth": {"client_id": "i", "client_secret": "s",
                   "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
                   "redirect_uri": "https://app.example/oauth2callback"}}, ["default"]),
        ({"auth": {"my-corp": {"client_id": "i", "client_secret": "s",
                               "server_metadata_url": "https://sso.example/.well-known/openid-configuration"},
                   "naver": {"client_id": "i", "client_secret": "s"}}}, ["my-corp", "naver"]),
        ({"auth": {"client_id": "i", "client_secret": "s", "session_max_age": "2h",
                   "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
                   "github": {"client_id": "i", "client_secret": "s", "session_max_age": "refresh"}}},
         ["default", "github"]),  # our session lifetimes stay out of st.login's way
    ],
    ids=["dev-mode", "github-preset", "single-provider", "dash-name-and-naver", "lifetimes"],
)  # fmt: skip
def test_st_logins_own_check_passes_for_every_provider_we_log_in_with(
    tmp_path: object, secrets: dict[str, dict[str, object]], names: list[str], streamlit_secrets: None
) -> None:
    """Streamlit's validate_auth_credentials, on the table with_login hands to st.App, accepts
    st.login(name) for each provider: OAuth 2.0 presets and the dev provider included."""
    auth = secrets.get("auth", {})
    config = load_config(secrets, {}, local_dir=tmp_path, dev_mode=DEV_MODE)  # type: ignore[arg-type]
    table = st_login_secrets(auth, config, port=8501)
    assert table["cookie_secret"] == config.cookie_secret  # what st.login signs its token with
    secrets_singleton.merge_programmatic_secrets({"auth": table})
    for name in names:
        validate_auth_credentials(name)
        assert config.st_login_provider(name) is not None


# --- st.logout -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "ours"),
    [
        ({"sec-fetch-site": "same-origin"}, True),
        ({"sec-fetch-site": "none"}, True),
        ({"sec-fetch-site": "same-site"}, False),
        ({"sec-fetch-site": "cross-site", "referer": "http://app/x"}, False),  # metadata wins
        ({"origin": "http://app"}, True),
        ({"referer": "http://app/page"}, True),
        ({"referer": "http://app.evil.example/page"}, False),
        ({}, False),
    ],
)
def test_a_get_logout_is_the_apps_own_only_when_the_browser_says_so(
    headers: dict[str, str], ours: bool
) -> None:
    assert same_origin_navigation(headers, ("http://app",)) is ours


async def test_st_logout_ends_the_provider_session_and_comes_back_to_oauth2callback(st_app: LoginApp) -> None:
    """RP-initiated logout returns to st.login's redirect_uri with its state, and lands home."""
    browser = st_app.browser()
    session_id = await st_app.logged_in(browser)
    response = await browser.get("/auth/logout", headers={"sec-fetch-site": "same-origin"})
    assert response.status_code == 303
    end_session = response.headers["location"]
    assert query_of(end_session)["post_logout_redirect_uri"] == ST_LOGIN
    at_provider = await browser.get(end_session)
    back = at_provider.headers["location"]
    assert back.startswith(ST_LOGIN + "?state=")
    landed = await browser.get(back)
    assert landed.status_code == 303 and landed.headers["location"] == "/login?logged_out=1&at=dev"
    assert st_app.auth.sessions.load(session_id) is None


async def test_without_a_login_page_refusals_are_explained_by_the_module_itself(build_app: BuildApp) -> None:
    """An st.login app has no /login page: the refusal is drawn at /auth/failed, escaped."""
    app = build_app(config=dev_config(redirect_uri=ST_LOGIN), login_page=None)
    browser = app.browser()
    response = await browser.get("/oauth2callback", params={"code": "<b>x</b>", "state": "<script>"})
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/failed?refused=")
    page = await browser.get(response.headers["location"])
    assert page.status_code == 200 and "The login was refused." in page.text
    assert "state_mismatch" in page.text and "<script>" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    expired = await browser.get("/auth/failed", params={"failure": "nope", "next": "//evil.example"})
    assert "has expired" in expired.text and 'href="/"' in expired.text


async def test_st_user_shows_the_refreshed_id_tokens_claims(build_app: BuildApp) -> None:
    """After POST /auth/refresh, the provider's new ID token (validated, OIDC Core §12.2) is what
    st.user shows: a newer iat, the new token in st.user.tokens."""
    app = build_app(config=dev_config(redirect_uri=ST_LOGIN))
    browser = app.browser()
    session_id = await app.logged_in(browser)
    before = app.auth.sessions.load(session_id)
    assert before is not None
    await asyncio.sleep(1.1)  # iat has a resolution of one second
    csrf = csrf_token(app.auth.config.cookie_secret, session_id)
    assert (await browser.post("/auth/refresh", headers={"X-CSRF-Token": csrf})).status_code == 200
    after = app.auth.sessions.load(session_id)
    assert after is not None and after.tokens.id_token != before.tokens.id_token
    user = st_user(after, origin="o", expose_tokens=("id",))
    assert int(user["iat"]) > int(before.claims["iat"])  # type: ignore[call-overload]
    assert user["sub"] == before.claims["sub"] and user["tokens"] == {"id": after.tokens.id_token}
    assert after.report is not None and any(c.name == "sub" and c.passed for c in after.report.checks)


async def test_a_refreshed_id_token_that_fails_a_check_is_refused_and_changes_nothing(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """A refresh whose new ID token is for another client: 400 naming the check; the session
    keeps the claims it had."""
    app = build_app(idp)
    browser = app.browser()
    session_id = await app.logged_in(browser)
    before = app.auth.sessions.load(session_id)
    await app.set_faults("wrong_aud")
    csrf = csrf_token(app.auth.config.cookie_secret, session_id)
    response = await browser.post("/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 400
    assert response.json()["error"] == "id_token_invalid" and "§3.1.3.7" in response.json()["description"]
    assert app.auth.sessions.load(session_id) == before


@pytest.mark.parametrize("preset", ["github", "facebook", "kakao", "naver"])
async def test_st_login_of_an_oauth2_only_preset_logs_in_and_fills_st_user(
    build_app: BuildApp, preset: str
) -> None:
    """st.login("github") (or facebook, kakao, naver), which st.login itself cannot do: through
    the shared /oauth2callback to the preset's twin; st.user holds the normalized profile (the
    ID token's claims for Kakao, which has OIDC too)."""
    idp = DevAuthorizationServer(ProviderConfig())
    apple = throwaway_apple_key()
    app = build_app(
        idp, config=dev_config(providers=emulated_providers(DEV_CLIENT_SECRET, apple), redirect_uri=ST_LOGIN)
    )
    browser = app.browser()
    response = await browser.get(with_params(await app.start(browser, provider=preset), login_hint="alice"))
    for _ in range(5):  # the twin's redirects and consent page, as a browser follows them
        if response.status_code in (302, 303):
            location = urljoin(str(response.url), response.headers["location"])
            response = await browser.get(location)
            if urlsplit(location).path == "/oauth2callback":
                break
            continue
        consent = next(f for f in forms(response.text) if "consent" in f["fields"])  # type: ignore[operator]
        response = await browser.post(str(response.url), data={**consent["fields"], "consent": "allow"})  # type: ignore[dict-item]
    assert response.status_code == 302 and response.headers["location"] == "/x", response.headers.get(
        "location"
    )
    session = app.auth.sessions.load(response.cookies.get("auth_session") or browser.cookies["auth_session"])
    assert session is not None and session.provider == f"emulated-{preset}"
    assert bool(session.claims) is (PRESETS[preset].kind == "oidc")  # Kakao also speaks OIDC
    user = st_user(session, origin="o")
    alice = next(p for p in PERSONAS if p.username == "alice")
    assert user["is_logged_in"] is True and user["sub"] and user["provider"] == f"emulated-{preset}"
    if PRESETS[preset].kind == "oauth2":
        assert user["email"] == alice.email and user["name"] == alice.name
    else:  # the ID token's claims, as st.login shows them: Kakao's name is its `nickname`
        assert user["nickname"] == alice.given_name


async def test_an_st_login_apps_allowed_emails_list_is_enforced_at_the_door(
    build_app: BuildApp, idp: DevAuthorizationServer, tmp_path: Path
) -> None:
    """An st.login app's [auth], unchanged, with the allowed_emails list it kept for its own check
    (and another list of its own): it starts, alice (on the list) gets in, and jiwoo (verified,
    not on it) gets no session and a page that names the rule, through /oauth2callback."""
    idp.register_client(
        Client(client_id="st-app", client_secret="st-secret", name="st.login app", redirect_uris=(ST_LOGIN,))
    )
    auth = {
        "redirect_uri": ST_LOGIN,
        "cookie_secret": COOKIE_SECRET,
        "client_id": "st-app",
        "client_secret": "st-secret",
        "server_metadata_url": "http://localhost/idp/.well-known/openid-configuration",
        "allowed_emails": ["alice@example.com"],
        "admins": ["alice@example.com"],
    }
    config = load_config({"auth": auth}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)
    assert config.app_keys == ("admins",)
    app = build_app(idp, config=config)
    assert (await app.login(app.browser(), persona="alice", provider="default")).status_code == 302
    browser = app.browser()
    response = await app.login(browser, persona="jiwoo", provider="default")
    assert response.status_code == 303 and "auth_session" not in set_cookies(response)
    record = app.refusal(response.headers["location"], browser)
    assert record is not None and record["check"] == "not_allowed/allowed_emails"
    assert "allowed emails" in str(record["description"]) and "alice" not in str(record["description"])
