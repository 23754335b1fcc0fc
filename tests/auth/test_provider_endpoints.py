"""Authlib's registration keys in a provider table (streamlit_authlib_login/_core/endpoints.py):
the blog post's own ``[auth.google]`` table, each key, and an OAuth 2.0 provider known only by
its endpoints, logged in end to end against the development provider's Strava twin."""

from __future__ import annotations

import ast
import logging
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from blog_post import BLOG_POST_REGISTER, BLOG_POST_TOML
from login_harness import (
    DEV_CLIENT_SECRET,
    BuildApp,
    LoginApp,
    cookie_value,
    dev_config,
    query_of,
    set_cookies,
    through_the_provider,
)

from devidp import PERSONAS, Client, DevAuthorizationServer
from devidp.flavors.strava import Strava
from streamlit_authlib_login._core.config import AuthConfig, ProviderSettings, load_config
from streamlit_authlib_login._core.endpoints import with_endpoints
from streamlit_authlib_login._core.errors import ConfigError
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.presets import PRESETS
from streamlit_authlib_login._core.profile import normalize
from streamlit_authlib_login._core.sessions import Session, SessionManager
from streamlit_authlib_login._core.stlogin import st_user
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._devmode import (
    DEV_MODE,
    STRAVA_TABLE,
    emulated_generic,
    emulated_preset,
    twin_endpoints,
)

ALICE = next(p for p in PERSONAS if p.username == "alice")


def blog_post_google(tmp_path: Path) -> ProviderSettings:
    (google,) = load_config(
        tomllib.loads(BLOG_POST_TOML), {}, local_dir=tmp_path, dev_mode=DEV_MODE
    ).providers
    return google


def params_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def twinned(settings: ProviderSettings, flavor: str) -> ProviderSettings:
    """A real table's provider pointed at the development provider's twin of it (with its client)."""
    endpoints = twin_endpoints(settings.endpoints, flavor)
    preset = with_endpoints(emulated_preset(PRESETS[flavor]), endpoints, {})
    return replace(
        settings,
        client_id="streamlit-app",
        client_secret=DEV_CLIENT_SECRET,
        server_metadata_url=preset.server_metadata_url or "",
        preset=preset,
        endpoints=endpoints,
    )


def paths_since(app: LoginApp, mark: int) -> list[str]:
    return [entry.path for entry in app.idp.journal.entries(since=mark)]


# --- the blog post's table -------------------------------------------------------------------------
def test_the_toml_table_is_the_blog_posts_registration_key_for_key() -> None:
    """Every keyword of the post's oauth.register call, and nothing else, with its value."""
    call = ast.parse(BLOG_POST_REGISTER).body[0].value  # type: ignore[attr-defined]
    registered = {ast.literal_eval(call.args[0]): {k.arg: ast.literal_eval(k.value) for k in call.keywords}}
    assert tomllib.loads(BLOG_POST_TOML)["auth"] == registered


def test_the_blog_posts_table_is_google_with_its_old_endpoints_named_at_start_up(tmp_path: Path) -> None:
    """token_url is read as access_token_url; the start-up lines name it, and each endpoint that
    differs from Google's current one, and say api_base_url has nothing to do."""
    google = blog_post_google(tmp_path)
    assert google.preset.name == "google" and google.is_oidc and google.scope == "openid email profile"
    assert google.endpoints.authorize_url == "https://accounts.google.com/o/oauth2/auth"
    assert google.endpoints.access_token_url == "https://accounts.google.com/o/oauth2/token"
    assert google.server_metadata_url == PRESETS["google"].server_metadata_url  # issuer and keys
    alias, endpoints, api_base = google.notes
    assert alias.startswith("settings: [auth.google] `token_url` is read as `access_token_url`")
    assert endpoints == (
        "endpoints: [auth.google] replaces Google's current endpoints: `authorize_url` "
        "https://accounts.google.com/o/oauth2/auth (current: https://accounts.google.com/o/oauth2/v2/auth); "
        "`access_token_url` https://accounts.google.com/o/oauth2/token (current: "
        "https://oauth2.googleapis.com/token); ID tokens are still checked against the discovery "
        "document's issuer and keys"
    )
    assert api_base.startswith("settings: [auth.google] `api_base_url` is not used")


async def test_the_blog_posts_table_sends_the_browser_to_its_authorize_url_with_pkce_and_state(
    build_app: BuildApp, tmp_path: Path
) -> None:
    """The post's table, as is: the login starts without fetching anything (the app's transport
    answers 404 for Google's hosts) and goes to the post's authorize URL with S256 and state."""
    app = build_app(config=dev_config(providers=[blog_post_google(tmp_path)], dev=False))
    url = await app.start(app.browser(), provider="google")
    assert url.split("?")[0] == "https://accounts.google.com/o/oauth2/auth"
    params = params_of(url)
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43 and len(params["state"]) >= 43 and params["nonce"]
    assert params["client_id"] == "your_client_id" and params["scope"] == "openid email profile"
    assert params["redirect_uri"] == "http://localhost/auth/callback/google"
    assert params["access_type"] == "offline" and params["prompt"] == "consent"  # the preset's


async def test_the_blog_posts_endpoints_log_in_and_the_id_token_is_checked_against_discovery(
    build_app: BuildApp, tmp_path: Path
) -> None:
    """Against Google's twin: the browser and the code go to the post's old endpoints, and the
    ID token is validated with the discovery document's issuer and keys."""
    app = build_app(config=dev_config(providers=[twinned(blog_post_google(tmp_path), "google")]))
    mark = app.mark()
    browser = app.browser()
    response = await through_the_provider(app, browser, await app.start(browser, provider="google"), "alice")
    assert response.status_code == 302, query_of(response.headers.get("location", ""))
    me = (await browser.get("/auth/me")).json()
    assert me["claims"]["iss"] == f"{app.base_url}/idp/flavors/google/accounts.google.com"
    assert me["profile"]["email"] == ALICE.email and me["profile"]["email_verified"] is True
    google = "/idp/flavors/google"
    paths = paths_since(app, mark)
    assert {
        f"{google}/accounts.google.com/o/oauth2/auth",
        f"{google}/accounts.google.com/o/oauth2/token",
    } <= set(paths)
    assert f"{google}/www.googleapis.com/oauth2/v3/certs" in paths  # discovery's jwks_uri
    assert not [p for p in paths if p.endswith(("/o/oauth2/v2/auth", "oauth2.googleapis.com/token"))]


async def test_overridden_endpoints_never_relax_the_issuer_check(
    build_app: BuildApp, idp: DevAuthorizationServer, tmp_path: Path
) -> None:
    """An ID token with another `iss` is refused, old endpoints or not."""
    app = build_app(idp, config=dev_config(providers=[twinned(blog_post_google(tmp_path), "google")]))
    await app.set_faults("wrong_iss")
    browser = app.browser()
    response = await through_the_provider(app, browser, await app.start(browser, provider="google"), "alice")
    assert response.status_code == 303 and (await browser.get("/auth/me")).status_code == 401
    record = app.refusal(response.headers["location"], browser)
    assert record is not None and "`iss` is not the issuer" in str(record["description"])


# --- each of Authlib's keys ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"authorize_url": "https://sso.example/authorize"}, {"authorization_endpoint": "https://sso.example/authorize"}),
        ({"access_token_url": "https://sso.example/token"}, {"token_endpoint": "https://sso.example/token"}),
        ({"token_url": "https://sso.example/token"}, {"token_endpoint": "https://sso.example/token"}),
        ({"userinfo_endpoint": "https://api.sso.example/me"}, {"userinfo_endpoint": "https://api.sso.example/me"}),
        ({"api_base_url": "https://api.sso.example/v2/", "userinfo_endpoint": "me"},
         {"userinfo_endpoint": "https://api.sso.example/v2/me"}),
        ({"api_base_url": "https://api.sso.example/v2", "userinfo_endpoint": "me"},  # urljoin, as Authlib
         {"userinfo_endpoint": "https://api.sso.example/me"}),
        ({"jwks_uri": "https://sso.example/keys"}, {"jwks_uri": "https://sso.example/keys"}),
    ],
    ids=["authorize_url", "access_token_url", "token_url", "userinfo_endpoint", "api_base_url",
         "api_base_url-no-slash", "jwks_uri"],
)  # fmt: skip
def test_each_authlib_key_replaces_that_endpoint_of_the_discovery_document(
    tmp_path: Path, table: dict[str, str], expected: dict[str, str]
) -> None:
    """On an OpenID Connect provider, each key takes the place of its discovery document's."""
    auth = {"corp": {"client_id": "i", "client_secret": "s", "server_metadata_url": CORP_DISCOVERY, **table}}
    (corp,) = load_config({"auth": auth}, {}, local_dir=tmp_path, dev_mode=DEV_MODE).providers
    assert corp.endpoints.as_metadata() == expected
    assert corp.is_oidc and corp.label == "Corp"


CORP_DISCOVERY = "https://sso.example/.well-known/openid-configuration"


async def test_a_given_jwks_uri_is_where_the_keys_are_fetched(
    build_app: BuildApp, idp: DevAuthorizationServer, tmp_path: Path
) -> None:
    """An OpenID Connect provider with `jwks_uri` in its table: the ID token is checked with the
    keys fetched there, not at the discovery document's."""
    idp.register_client(
        Client(client_id="corp-app", client_secret="corp-secret", name="corp",
               redirect_uris=("http://localhost/auth/callback/corp",))
    )  # fmt: skip
    table = {
        "client_id": "corp-app",
        "client_secret": "corp-secret",
        "server_metadata_url": "http://localhost/idp/.well-known/openid-configuration",
        "jwks_uri": "http://localhost/idp/flavors/google/www.googleapis.com/oauth2/v3/certs",  # same keys
    }
    (corp,) = load_config({"auth": {"corp": table}}, {}, local_dir=tmp_path, dev_mode=DEV_MODE).providers
    app = build_app(idp, config=dev_config(providers=[corp]))
    mark = app.mark()
    browser = app.browser()
    response = await app.login(browser, provider="corp")
    assert response.status_code == 302, query_of(response.headers.get("location", ""))
    paths = paths_since(app, mark)
    assert "/idp/flavors/google/www.googleapis.com/oauth2/v3/certs" in paths
    assert "/idp/jwks.json" not in paths


# --- any OAuth 2.0 provider, by its endpoints: the Strava twin ------------------------------------
STRAVA_TWIN = "/idp/flavors/strava/www.strava.com"


def strava(**changes: object) -> ProviderSettings:
    """The documented Strava table (``_devmode.STRAVA_TABLE``) with ``changes`` (None: key removed),
    read as load_config reads a table, pointed at the twin."""
    table = {key: value for key, value in {**STRAVA_TABLE, **changes}.items() if value is not None}
    return emulated_generic(DEV_CLIENT_SECRET, table)


async def log_in(
    app: LoginApp, provider: str, persona: str = "alice"
) -> tuple[str, httpx2.Response, Session | None]:
    """A whole login through the twin: (the authorization URL, the callback's answer, the session)."""
    browser = app.browser()
    url = await app.start(browser, provider=provider)
    response = await through_the_provider(app, browser, url, persona)
    cookie = set_cookies(response).get(app.session_cookie)
    return url, response, app.auth.sessions.load(cookie_value(cookie)) if cookie else None


async def test_a_provider_known_only_by_its_endpoints_logs_in_and_fills_st_user(build_app: BuildApp) -> None:
    """Strava's table: code + PKCE S256 + state at its authorize URL, the code at its token URL,
    the profile from api_base_url + "athlete", mapped by profile_map; st.user under OIDC names."""
    app = build_app(config=dev_config(providers=[strava()]))
    mark = app.mark()
    url, response, session = await log_in(app, "emulated-strava")
    assert response.status_code == 302 and response.headers["location"] == "/x", query_of(
        response.headers.get("location", "")
    )
    assert urlsplit(url).path == f"{STRAVA_TWIN}/oauth/authorize"
    params = params_of(url)
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert params["code_challenge"] and params["state"] and params["scope"] == "read"
    assert "nonce" not in params  # OAuth 2.0: no ID token to bind
    athlete_id = Strava().account_id(ALICE)
    picture = f"{app.base_url}{STRAVA_TWIN.replace('www.strava.com', 'dgalywyr863hv.cloudfront.net')}"
    assert session is not None and session.claims == {}
    assert session.profile == {
        "id": athlete_id,
        "name": ALICE.given_name,
        "username": "alice_rides",
        "email": None,  # Strava releases none
        "email_verified": False,
        "avatar": f"{picture}/pictures/athletes/{athlete_id}/large.jpg",
        "locale": None,
        "groups": [],
    }
    assert session.userinfo["id"] == int(athlete_id) and session.userinfo["lastname"] == ALICE.family_name
    user = st_user(session, origin="http://localhost")
    assert user == {
        "sub": athlete_id,
        "name": ALICE.given_name,
        "preferred_username": "alice_rides",
        "email_verified": False,
        "picture": session.profile["avatar"],
        "is_logged_in": True,
        "provider": "emulated-strava",
        "origin": "http://localhost",
    }
    assert session.tokens.refresh_token and session.tokens.expires_at  # Strava's expires_at, six hours
    token_calls = app.requests_since(mark, "/flavors/strava/www.strava.com/oauth/token")
    assert len(token_calls) == 1 and "code_verifier" in token_calls[0].params  # type: ignore[attr-defined]
    assert f"{STRAVA_TWIN}/api/v3/athlete" in paths_since(app, mark)
    # The trace names the profile call as such, whatever its path (the Profile page shows it).
    profile_steps = [step.url for step in session.trace.steps if step.title == "Userinfo / profile"]
    assert profile_steps == [f"{app.base_url}{STRAVA_TWIN}/api/v3/athlete"]


async def test_a_generic_providers_session_refreshes_at_its_token_url(build_app: BuildApp) -> None:
    """A refresh goes to access_token_url too (with client_secret_post); Strava's answer has no
    athlete, and the profile API, asked again, still names the same person."""
    app = build_app(config=dev_config(providers=[strava()]))
    _, _, session = await log_in(app, "emulated-strava")
    assert session is not None and session.tokens.refresh_token
    mark = app.mark()
    refreshed = await app.auth.refresh(session.id)
    assert refreshed.tokens.access_token != session.tokens.access_token
    assert refreshed.tokens.refresh_token == session.tokens.refresh_token  # Strava's does not rotate
    assert refreshed.profile == session.profile
    assert app.requests_since(mark, "/flavors/strava/www.strava.com/oauth/token", grant_type="refresh_token")


async def test_an_absolute_userinfo_endpoint_needs_no_api_base_url(build_app: BuildApp) -> None:
    """`userinfo_endpoint` as a whole URL, without api_base_url: the same profile."""
    provider = strava(api_base_url=None, userinfo_endpoint="https://www.strava.com/api/v3/athlete")
    assert provider.preset.profile_url == f"{STRAVA_TWIN}/api/v3/athlete"
    app = build_app(config=dev_config(providers=[provider]))
    _, response, session = await log_in(app, "emulated-strava", "jiwoo")
    assert response.status_code == 302 and session is not None
    jiwoo = next(p for p in PERSONAS if p.username == "jiwoo")
    assert session.profile["id"] == Strava().account_id(jiwoo) and session.profile["name"] == jiwoo.given_name


async def test_the_profile_can_come_from_the_token_response(build_app: BuildApp) -> None:
    """No profile API: profile_map reads the token response (Strava's `athlete`), which is kept
    without its tokens; no API call is made."""
    profile_map = {"id": "athlete.id", "name": "athlete.firstname", "avatar": "athlete.profile"}
    provider = strava(api_base_url=None, userinfo_endpoint=None, profile_map=profile_map)
    assert provider.profile_in_token_response
    app = build_app(config=dev_config(providers=[provider]))
    mark = app.mark()
    _, response, session = await log_in(app, "emulated-strava", "noemail")
    assert response.status_code == 302 and session is not None
    casey = next(p for p in PERSONAS if p.username == "noemail")
    assert session.profile["id"] == Strava().account_id(casey) and session.profile["name"] == casey.given_name
    assert session.profile["avatar"] == "avatar/athlete/large.png"  # Strava's, for no picture: kept as sent
    assert set(session.userinfo) == {"athlete"}  # no access_token, refresh_token, expires_at...
    assert f"{STRAVA_TWIN}/api/v3/athlete" not in paths_since(app, mark)


async def test_pkce_off_sends_no_challenge_and_no_verifier(build_app: BuildApp) -> None:
    """client_kwargs code_challenge_method = "none": the authorization request carries no
    challenge, the token request no verifier, and the login still completes (state still on)."""
    kwargs = {**STRAVA_TABLE["client_kwargs"], "code_challenge_method": "none"}  # type: ignore[dict-item]
    provider = strava(client_kwargs=kwargs)
    assert not provider.pkce
    app = build_app(config=dev_config(providers=[provider]))
    mark = app.mark()
    url, response, session = await log_in(app, "emulated-strava")
    assert response.status_code == 302 and session is not None
    params = params_of(url)
    assert "code_challenge" not in params and "code_challenge_method" not in params and params["state"]
    [token_call] = app.requests_since(mark, "/flavors/strava/www.strava.com/oauth/token")
    assert "code_verifier" not in token_call.params  # type: ignore[attr-defined]


async def test_a_refusal_that_is_not_oauths_is_shown_in_the_providers_words(build_app: BuildApp) -> None:
    """Without client_secret_post, Strava finds no credentials in the form: its 400 Fault is
    named on the failure page, not "no access_token"."""
    app = build_app(config=dev_config(providers=[strava(client_kwargs={"scope": "read"})]))
    _, response, session = await log_in(app, "emulated-strava")
    assert response.status_code == 303 and session is None
    record = app.refusal(response.headers["location"], app._browsers[-1])
    description = str(record and record["description"])
    assert "token endpoint answered HTTP 400" in description
    assert '"resource": "Application", "field": "client_id"' in description


async def test_a_profile_without_the_mapped_id_refuses_the_login(build_app: BuildApp) -> None:
    """A profile_map id that finds nothing would make everyone the same nobody: refused, naming it."""
    provider = strava(profile_map={"id": "athlete_id", "name": "firstname"})
    app = build_app(config=dev_config(providers=[provider]))
    _, response, session = await log_in(app, "emulated-strava")
    assert response.status_code == 303 and session is None
    record = app.refusal(response.headers["location"], app._browsers[-1])
    assert "has no user id at 'athlete_id'" in str(record and record["description"])


# --- the start-up console ------------------------------------------------------------------------
def test_token_url_is_said_once_on_the_console_naming_its_table(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """with_login's start-up log (log_access): one line for `token_url`, naming [auth.google]."""
    from streamlit_authlib_login._streamlit import log_access

    config: AuthConfig = load_config(tomllib.loads(BLOG_POST_TOML), {}, local_dir=tmp_path, dev_mode=DEV_MODE)
    authenticator = Authenticator(config, SessionManager(MemoryStore(), config.cookie_secret, config.session))
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        log_access(authenticator)
    said = [r.getMessage() for r in caplog.records if "`token_url`" in r.getMessage()]
    assert len(said) == 1 and "[auth.google] `token_url` is read as `access_token_url`" in said[0]
    assert any(r.getMessage().startswith("endpoints: [auth.google] replaces") for r in caplog.records)


# --- the configuration: what each key takes, and each mistake named --------------------------------
STRAVA_REAL = {"client_id": "1234", "client_secret": "strava-secret", **STRAVA_TABLE}


def load(auth: dict[str, object], tmp_path: Path) -> AuthConfig:
    return load_config({"auth": auth}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)


def strava_table(**changes: object) -> dict[str, object]:
    return {key: value for key, value in {**STRAVA_REAL, **changes}.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"authorize_url": None}, "[auth.strava] needs `authorize_url` too, like"),
        ({"access_token_url": None}, "[auth.strava] needs `access_token_url` too, like"),
        ({"userinfo_endpoint": None, "profile_map": None}, "[auth.strava] needs `userinfo_endpoint` (the"),
        ({"api_base_url": None}, "[auth.strava] `userinfo_endpoint` 'athlete' is relative: set `api_base"),
        ({"authorize_url": "http://www.strava.com/oauth/authorize"}, "`authorize_url` must be https://"),
        ({"api_base_url": "www.strava.com/api/v3/"}, "`api_base_url` must be an absolute https:// URL, like"),
        ({"token_url": "https://www.strava.com/oauth/token"}, "has both `token_url` and `access_token_url`"),
        ({"jwks_uri": "https://www.strava.com/jwks"}, "`jwks_uri` checks ID tokens"),
        ({"client_kwargs": {"scope": "openid read"}}, "asks for the `openid` scope"),
        ({"profile_map": {"idd": "id"}}, "profile_map `idd` is not a profile field; did you mean `id`?"),
        ({"profile_map": {"picture": "profile"}}, "profile_map `picture` is not a profile field; the fields"),
        ({"profile_map": {"id": "athlete..id"}}, 'profile_map `id` must be a dotted path into the provider'),
        ({"profile_map": {"id": 7}}, "profile_map `id` must be a dotted path"),
        ({"profile_map": "id"}, "`profile_map` must be a table, like"),
        ({"client_kwargs": {"code_challenge_method": "plain"}}, '`code_challenge_method` must be "S256" ('),
        ({"client_kwargs": {"code_challenge_method": ""}}, 'or "none" to switch PKCE off'),
        ({"client_secret": None, "client_kwargs": {"code_challenge_method": "none"}},
         "needs a `client_secret`: a public client must use PKCE (RFC 9700 §2.1.1)"),
        ({"refresh_token_url": "https://www.strava.com/oauth/token"}, "`refresh_token_url` is not supported"),
    ],
    ids=["no-authorize", "no-token", "no-profile", "relative-without-base", "http", "not-absolute",
         "token-url-twice", "jwks-without-discovery", "openid-without-discovery", "near-miss-field",
         "unknown-field", "empty-segment", "not-a-path", "not-a-table", "plain-pkce", "empty-pkce",
         "public-without-pkce", "refresh-token-url"],
)  # fmt: skip
def test_each_mistake_in_a_providers_endpoints_is_named_with_what_to_write(
    tmp_path: Path, changes: dict[str, object], words: str
) -> None:
    """One ConfigError each, naming the table and the key."""
    with pytest.raises(ConfigError) as raised:
        load({"strava": strava_table(**changes)}, tmp_path)
    assert words in raised.value.description


def test_every_endpoint_mistake_of_a_table_is_named_at_once(tmp_path: Path) -> None:
    """With the collector (config_problems.py): each wrong key one line, in the table's order; a
    relative userinfo_endpoint is not blamed for an api_base_url that is itself wrong."""
    table = strava_table(
        authorize_url="http://www.strava.com/oauth/authorize",
        api_base_url="www.strava.com/api/v3/",
        token_url="https://www.strava.com/oauth/token",
        profile_map={"id": "id", "nmae": "firstname", "avatar": "profile."},
    )
    with pytest.raises(ConfigError) as raised:
        load({"strava": table}, tmp_path)
    said = [(problem.key, problem.line) for problem in raised.value.problems]
    expected = [
        ("authorize_url", "[auth.strava] `authorize_url` must be https:// (got 'http://www.strava.com/"),
        ("api_base_url", "[auth.strava] `api_base_url` must be an absolute https:// URL, like"),
        ("profile_map", "[auth.strava] profile_map `nmae` is not a profile field; did you mean `name`?"),
        ("profile_map", "[auth.strava] profile_map `avatar` must be a dotted path into the provider's JSON"),
        ("token_url", "[auth.strava] has both `token_url` and `access_token_url`, one setting twice"),
    ]
    assert [key for key, _ in said] == [key for key, _ in expected]
    assert all(line.startswith(start) for (_, line), (_, start) in zip(said, expected, strict=True)), said


def test_a_generic_table_is_an_oauth2_provider_named_at_start_up(tmp_path: Path) -> None:
    """No discovery document, no preset: the generic OAuth 2.0 preset with the table's endpoints;
    a public client may use it (with PKCE); PKCE off is said at start-up."""
    (strava,) = load({"strava": strava_table()}, tmp_path).providers
    assert strava.preset.name == "oauth2" and not strava.is_oidc and strava.label == "Strava"
    assert strava.preset.profile_url == "https://www.strava.com/api/v3/athlete"
    assert strava.token_auth_method == "client_secret_post" and strava.pkce
    assert strava.notes == (
        "endpoints: [auth.strava] is an OAuth 2.0 provider known by its endpoints: authorize "
        "https://www.strava.com/oauth/authorize, token https://www.strava.com/oauth/token, profile "
        "https://www.strava.com/api/v3/athlete",
    )
    (public,) = load({"strava": strava_table(client_secret=None)}, tmp_path).providers
    assert public.client_secret is None and public.pkce
    kwargs = {"scope": "read", "code_challenge_method": "none"}
    (off,) = load({"strava": strava_table(client_kwargs=kwargs)}, tmp_path).providers
    assert not off.pkce and off.notes[-1].startswith("settings: [auth.strava] PKCE is off (client_kwargs")


def test_the_single_provider_form_takes_the_endpoints_and_profile_map_too(tmp_path: Path) -> None:
    """st.login's [auth] with client_id: profile_map there is the provider's, not a provider table."""
    (default,) = load({"cookie_secret": "c" * 40, **strava_table()}, tmp_path).providers
    assert default.name == "default" and default.preset.profile["name"] == "firstname"


def test_a_presets_endpoints_are_replaced_one_by_one_and_only_differences_are_named(tmp_path: Path) -> None:
    """GitHub with its profile API elsewhere; Google with its own current authorize URL: nothing to say."""
    github_table = {
        "client_id": "i",
        "client_secret": "s",
        "userinfo_endpoint": "https://ghe.example/api/v3/user",
    }
    google_table = {"client_id": "i", "client_secret": "s", "authorize_url": PRESETS["google"].authorize_url}
    github, google = load({"github": github_table, "google": google_table}, tmp_path).providers
    assert github.preset.profile_url == "https://ghe.example/api/v3/user"
    assert github.preset.emails_url == PRESETS["github"].emails_url  # the rest stays the preset's
    assert github.notes == (
        "endpoints: [auth.github] replaces GitHub's current endpoints: `userinfo_endpoint` "
        "https://ghe.example/api/v3/user (current: https://api.github.com/user)",
    )
    assert google.notes == () and google.preset is not PRESETS["google"]


def test_an_email_from_a_generic_provider_is_unverified_unless_profile_map_maps_it(tmp_path: Path) -> None:
    """The provider's JSON says email_verified, but only a profile_map naming it makes it count."""
    answer = {"id": 7, "email": "a@example.com", "email_verified": True}
    (plain,) = load({"strava": strava_table(profile_map=None)}, tmp_path).providers
    assert normalize({}, answer, plain.preset)["email_verified"] is False
    mapped = strava_table(profile_map={"id": "id", "email_verified": "email_verified"})
    (trusted,) = load({"strava": mapped}, tmp_path).providers
    assert normalize({}, answer, trusted.preset)["email_verified"] is True
    assert normalize({}, {**answer, "email_verified": False}, trusted.preset)["email_verified"] is False


# --- the docs show the tables the tests use --------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def toml_block(doc: str, table: str) -> dict[str, object]:
    """The ```toml block of ``doc`` that starts with ``[auth.<table>]`` and has its endpoints."""
    blocks = re.findall(r"```toml\n(.*?)```", (ROOT / doc).read_text(), re.S)
    found = [tomllib.loads(b)["auth"][table] for b in blocks if b.startswith(f"[auth.{table}]\n")]
    [with_endpoints_given] = [t for t in found if "authorize_url" in t]
    return with_endpoints_given


@pytest.mark.parametrize("doc", ["README.md", "docs/providers.md"])
def test_the_documented_strava_table_is_the_one_its_twin_is_made_from(doc: str) -> None:
    """What the docs tell a reader to write is what "Strava (emulated)" runs (_devmode.STRAVA_TABLE)."""
    shown = toml_block(doc, "strava")
    assert {k: v for k, v in shown.items() if k not in ("client_id", "client_secret")} == STRAVA_TABLE


def test_the_documented_blog_post_table_is_the_tested_one() -> None:
    assert toml_block("docs/providers.md", "google") == tomllib.loads(BLOG_POST_TOML)["auth"]["google"]
