"""An app served under a sub-path (Streamlit's ``server.baseUrlPath``, here ``/app``), in-process:
the configuration, the URLs the module builds, its routes and cookies there, and two apps on two
sub-paths of one host. ``tests/auth/test_sub_path_app.py`` runs the same under ``streamlit run``.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from login_harness import (
    DEV_CLIENT_SECRET,
    BuildApp,
    LoginApp,
    compose,
    cookie_value,
    dev_config,
    forms,
    query_of,
    set_cookies,
    st_login_token,
    through_the_provider,
)
from starlette.applications import Starlette

from devidp import DevAuthorizationServer
from streamlit_authlib_login._core.config import load_config
from streamlit_authlib_login._core.config_keys import url_base_path
from streamlit_authlib_login._core.errors import ConfigError
from streamlit_authlib_login._core.flow import page_next, safe_next
from streamlit_authlib_login._core.stlogin import st_login_secrets
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._devmode import DEV_MODE, emulated_providers, throwaway_apple_key
from streamlit_authlib_login._routes import SESSION_COOKIE, cookie_name, cookie_path, csrf_token

SECRET = "s" * 40


@pytest.fixture
async def sub_app(build_app: BuildApp) -> LoginApp:
    """The app at http://localhost/app/: routes, dev provider and links all under /app."""
    return build_app(config=dev_config(base_path="/app"), base_url="http://localhost/app")


# --- configuration ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "expected"), [("", ""), (None, ""), ("app", "/app"), ("/app/", "/app"), ("a/b", "/a/b")]
)
def test_streamlits_base_url_path_becomes_one_spelling(option: object, expected: str) -> None:
    """server.baseUrlPath as Streamlit joins it: one leading slash, none trailing, "" at the root."""
    assert url_base_path(option) == expected


@pytest.mark.parametrize(
    "base_url",
    ["https://app.example", "https://app.example/", "https://app.example/app", "https://app.example/app/"],
)
def test_a_base_url_is_the_apps_root_under_its_sub_path(tmp_path: Path, base_url: str) -> None:
    """base_url names the origin (the sub-path is added) or the sub-path itself."""
    auth = {"cookie_secret": SECRET, "base_url": base_url, "dev_provider": False}
    config = load_config({"auth": auth}, {}, local_dir=tmp_path, base_path="/app")
    assert (config.base_url, config.base_path) == ("https://app.example/app", "/app")


@pytest.mark.parametrize(
    ("base_url", "base_path", "words"),
    [
        ("https://app.example/other", "/app", 'Write base_url = "https://app.example/app"'),
        ("https://app.example/app", "", "Write --server.baseUrlPath app"),
    ],
)
def test_a_base_url_on_another_path_than_streamlits_is_refused(
    tmp_path: Path, base_url: str, base_path: str, words: str
) -> None:
    """A base_url whose path is not where Streamlit serves the app would send every login to
    routes this server does not answer there: the start stops, saying how to make them agree."""
    auth = {"cookie_secret": SECRET, "base_url": base_url, "dev_provider": False}
    with pytest.raises(ConfigError) as refused:
        load_config({"auth": auth}, {}, local_dir=tmp_path, base_path=base_path)
    assert "server.baseUrlPath" in refused.value.description and words in refused.value.description


def test_st_logins_redirect_uri_is_under_the_sub_path_and_names_the_base_url(tmp_path: Path) -> None:
    """Streamlit mounts /oauth2callback under baseUrlPath: redirect_uri must say /app/oauth2callback,
    and the app's base URL is read from it, sub-path included."""
    auth = {"cookie_secret": SECRET, "redirect_uri": "http://localhost:8501/app/oauth2callback"}
    config = load_config({"auth": auth}, {}, local_dir=tmp_path, dev_mode=DEV_MODE, base_path="/app")
    assert config.base_url == "http://localhost:8501/app"
    auth["redirect_uri"] = "http://localhost:8501/oauth2callback"
    with pytest.raises(ConfigError, match="with the path /app/oauth2callback"):
        load_config({"auth": auth}, {}, local_dir=tmp_path, dev_mode=DEV_MODE, base_path="/app")


def test_the_uris_to_register_carry_the_sub_path(build_app: BuildApp) -> None:
    """Without base_url: the origin the browser used, then the sub-path; with it: base_url's."""
    app = build_app(config=dev_config(base_path="/app"), base_url="http://localhost/app")
    assert (
        app.auth.redirect_uri("dev", "http://localhost:8501") == "http://localhost:8501/app/auth/callback/dev"
    )
    assert app.auth.public_origin("http://localhost:8501") == "http://localhost:8501"
    public = build_app(config=dev_config(base_path="/app", base_url="https://localhost/app"))
    registration = public.auth.registration("dev", "http://127.0.0.1:8501")
    assert registration.redirect_uri == "https://localhost/app/auth/callback/dev"
    assert registration.post_logout_redirect_uri == "https://localhost/app/auth/callback/dev"
    assert public.auth.public_origin("http://127.0.0.1:8501") == "https://localhost"


def test_st_logins_own_secrets_check_finds_the_callback_under_the_sub_path() -> None:
    """What st.App(secrets=...) gets for st.login's own check: /app/oauth2callback by default."""
    config = dev_config(base_path="/app")
    assert (
        st_login_secrets({}, config, port=8501)["redirect_uri"] == "http://localhost:8501/app/oauth2callback"
    )


async def test_a_sub_path_of_two_segments_logs_in(build_app: BuildApp) -> None:
    """/apps/one: routes there, and a cookie name with the path percent-encoded that Starlette
    sets and a browser sends back."""
    app = build_app(config=dev_config(base_path="/apps/one"), base_url="http://localhost/apps/one")
    browser = app.browser()
    landed = await app.login(browser, next_path="/x")
    assert landed.headers["location"] == "/apps/one/x"
    assert "Path=/apps/one;" in set_cookies(landed)["auth_session-apps%2Fone"]
    assert (await browser.get("/auth/me")).status_code == 200


# --- next ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "given", ["/../other", "/x/../../other", "/%2e%2e/other", "/.%2E/other", "/./x", "/x/."]
)
def test_a_next_with_a_dot_segment_is_refused(given: str) -> None:
    """Prefixed with /app, "/../other" is /other to a browser (RFC 3986 §5.2.4): out of the app."""
    assert safe_next(given) == "/"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/app/profile?x=1", "/profile?x=1"),
        ("/app", "/"),
        ("/app/", "/"),
        ("/app?x=1", "/?x=1"),
        ("/other/page", "/"),
        ("/application", "/"),
        ("/app/auth/logout", "/"),
    ],
)
def test_a_page_of_the_browser_is_a_next_from_the_apps_root(path: str, expected: str) -> None:
    """What a Referer or the page's URL names, as a next: outside the sub-path, the home page."""
    assert page_next(path, "/app") == expected


# --- the routes under /app ---------------------------------------------------------------------
async def test_a_login_under_the_sub_path_stays_under_it(sub_app: LoginApp) -> None:
    """Start, provider, callback, session, me: every URL is under /app, and so are the cookies."""
    browser = sub_app.browser()
    start = await browser.get("/auth/login/dev", params={"next": "/reports?year=2026"})
    assert start.url.path == "/app/auth/login/dev" and start.status_code == 302
    authorize = start.headers["location"]
    assert authorize.startswith("http://localhost/app/idp/authorize?")
    assert query_of(authorize)["redirect_uri"] == "http://localhost/app/auth/callback/dev"
    for name in ("auth_login-app", "auth_next-app"):
        header = set_cookies(start)[name]
        assert "Path=/app;" in header and "HttpOnly" in header and "Secure" not in header
    discovery = await browser.get("/idp/.well-known/openid-configuration")
    assert discovery.json()["issuer"] == "http://localhost/app/idp"
    callback = await sub_app.authorize(browser, authorize)
    assert callback.startswith("http://localhost/app/auth/callback/dev?")
    landed = await browser.get(callback)
    assert landed.status_code == 302 and landed.headers["location"] == "/app/reports?year=2026"
    assert "Path=/app;" in set_cookies(landed)["auth_session-app"]
    me = await browser.get("/auth/me")
    assert me.status_code == 200 and me.json()["profile"]["username"] == "alice"


async def test_logout_under_the_sub_path_goes_to_the_provider_and_back_to_the_login_page(
    sub_app: LoginApp,
) -> None:
    """RP-initiated logout sends /app's callback as post_logout_redirect_uri and lands on /app/login."""
    browser = sub_app.browser()
    session_id = await sub_app.logged_in(browser)
    logout = await browser.post(
        "/auth/logout", data={"csrf": csrf_token(sub_app.auth.config.cookie_secret, session_id)}
    )
    assert logout.status_code == 303
    assert "Max-Age=0" in set_cookies(logout)["auth_session-app"]
    end_session = logout.headers["location"]
    assert end_session.startswith("http://localhost/app/idp/")
    assert query_of(end_session)["post_logout_redirect_uri"] == "http://localhost/app/auth/callback/dev"
    back = (await browser.get(end_session)).headers["location"]
    landed = await browser.get(back)
    assert landed.status_code == 303 and landed.headers["location"] == "/app/login?logged_out=1&at=dev"
    assert (await browser.get("/auth/me")).status_code == 401


async def test_a_refused_login_is_explained_on_the_sub_paths_login_page(sub_app: LoginApp) -> None:
    """A provider's refusal: 303 to /app/login?failure=…, readable with the /app binding cookie."""
    browser = sub_app.browser()
    state = query_of(await sub_app.start(browser, "/x"))["state"]
    response = await browser.get(
        "/auth/callback/dev", params={"state": state, "iss": sub_app.issuer, "error": "access_denied"}
    )
    location = response.headers["location"]
    assert response.status_code == 303 and location.startswith("/app/login?failure=")
    assert sub_app.refusal(location, browser) is not None


async def test_st_login_comes_back_to_the_page_it_was_called_on_under_the_sub_path(sub_app: LoginApp) -> None:
    """st.login navigates to /app/auth/login?provider=…: the login lands on the referring page,
    and a Referer outside the sub-path counts as no page of the app."""
    token = st_login_token("dev", sub_app.auth.config.cookie_secret)
    for referer, expected in (
        ("http://localhost/app/profile", "/app/profile"),
        ("http://localhost/other/x", "/app/"),
    ):
        browser = sub_app.browser()
        start = await browser.get("/auth/login", params={"provider": token}, headers={"referer": referer})
        assert query_of(start.headers["location"])["redirect_uri"] == "http://localhost/app/auth/callback/dev"
        landed = await browser.get(await sub_app.authorize(browser, start.headers["location"]))
        assert landed.status_code == 302 and landed.headers["location"] == expected


async def test_st_logins_one_callback_is_answered_under_the_sub_path(build_app: BuildApp) -> None:
    """With [auth] redirect_uri = …/app/oauth2callback the login comes back there and finishes."""
    redirect_uri = "http://localhost/app/oauth2callback"
    app = build_app(
        config=dev_config(base_path="/app", redirect_uri=redirect_uri), base_url="http://localhost/app"
    )
    browser = app.browser()
    authorize = await app.start(browser, "/profile")
    assert query_of(authorize)["redirect_uri"] == redirect_uri
    callback = await app.authorize(browser, authorize)
    assert callback.startswith(redirect_uri + "?")
    landed = await browser.get(callback)
    assert landed.status_code == 302 and landed.headers["location"] == "/app/profile"


async def test_the_pages_the_module_draws_link_under_the_sub_path(sub_app: LoginApp) -> None:
    """The "Log out?" page posts to /app/auth/logout and offers /app/; the failure page's back
    link is the next under /app; a next that would climb out of /app lands on /app/."""
    browser = sub_app.browser()
    session_id = await sub_app.logged_in(browser)
    asked = await browser.get("/auth/logout", headers={"sec-fetch-site": "cross-site"})
    assert asked.status_code == 403
    assert forms(asked.text)[0]["action"] == "/app/auth/logout" and 'href="/app/"' in asked.text
    failed = await browser.get("/auth/failed", params={"failure": "gone", "next": "/reports"})
    assert 'href="/app/reports"' in failed.text
    refresh = await browser.post(
        "/auth/refresh",
        data={"csrf": csrf_token(sub_app.auth.config.cookie_secret, session_id), "next": "/tokens"},
    )
    assert refresh.status_code == 303 and refresh.headers["location"] == "/app/tokens"
    for climbing in ("/../other", "/%2e%2e/other"):
        landed = await sub_app.login(sub_app.browser(), next_path=climbing)
        assert landed.headers["location"] == "/app/", climbing


async def test_an_emulated_provider_logs_in_under_the_sub_path(build_app: BuildApp) -> None:
    """The dev provider's twins live under /app/idp/flavors/…: an OIDC one and an OAuth 2.0 one."""
    twins = emulated_providers(DEV_CLIENT_SECRET, throwaway_apple_key())
    app = build_app(config=dev_config(base_path="/app", providers=twins), base_url="http://localhost/app")
    for provider in ("emulated-google", "emulated-github"):
        browser = app.browser()
        authorize = await app.start(browser, "/x", provider)
        assert authorize.startswith("http://localhost/app/idp/flavors/")
        landed = await through_the_provider(app, browser, authorize, "alice")
        assert landed.status_code == 302 and landed.headers["location"] == "/app/x", provider
        assert (await browser.get("/auth/me")).status_code == 200


# --- cookies -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("secure", "base_path", "name", "path"),
    [
        (True, "", "__Host-auth_session", "/"),
        (False, "", "auth_session", "/"),
        (True, "/app", "__Host-auth_session-app", "/"),
        (False, "/app", "auth_session-app", "/app"),
        (True, "/apps/one", "__Host-auth_session-apps%2Fone", "/"),
    ],
)
def test_cookie_names_carry_the_sub_path_and_only_http_cookies_its_path(
    secure: bool, base_path: str, name: str, path: str
) -> None:
    """__Host- needs Path=/ (RFC 6265bis §4.1.3.2): over https the sub-path is in the name only."""
    assert cookie_name(SESSION_COOKIE, secure, base_path) == name
    assert cookie_path(secure, base_path) == path


async def test_over_https_under_a_sub_path_the_session_is_a_host_cookie_of_its_own(
    build_app: BuildApp,
) -> None:
    """https://localhost/app: __Host-auth_session-app, Secure, Path=/, absolute redirects on the
    base URL; the root app's __Host-auth_session is no session here."""
    config = dev_config(base_path="/app", base_url="https://localhost/app")
    app = build_app(config=config, base_url="https://localhost/app")
    browser = app.browser()
    landed = await app.login(browser, next_path="/x")
    assert landed.headers["location"] == "https://localhost/app/x"
    header = set_cookies(landed)["__Host-auth_session-app"]
    assert "Secure" in header and "HttpOnly" in header and "Path=/;" in header and "Domain" not in header
    session_id = cookie_value(header)
    other = app.browser()
    other.cookies.set("__Host-auth_session", session_id, domain="localhost.local", path="/")
    other.cookies.set("auth_session-app", session_id, domain="localhost.local", path="/")
    assert (await other.get("/auth/me")).status_code == 401


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_two_apps_on_two_sub_paths_of_one_host_keep_their_sessions_apart(
    shared_idp: DevAuthorizationServer, scheme: str
) -> None:
    """One browser, one host, /a and /b: Alice in one, Bob in the other, each app sees only its
    own, and a logout in one leaves the other logged in."""
    host = f"{scheme}://localhost"
    server = Starlette()
    apps = {}
    for path in ("/a", "/b"):
        config = dev_config(base_path=path, base_url=f"{host}{path}" if scheme == "https" else None)
        auth, routes = compose(shared_idp, config, MemoryStore(), transport=httpx2.ASGITransport(app=server))
        server.router.routes.extend(routes)
        apps[path] = auth
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=server), base_url=host) as browser:
        for path, persona in (("/a", "alice"), ("/b", "bob")):
            start = await browser.get(f"{path}/auth/login/dev", params={"next": "/"})
            authorize = start.headers["location"] + f"&login_hint={persona}"
            landed = await browser.get((await browser.get(authorize)).headers["location"])
            assert landed.status_code == 302
        assert (await browser.get("/a/auth/me")).json()["profile"]["username"] == "alice"
        assert (await browser.get("/b/auth/me")).json()["profile"]["username"] == "bob"
        names = {c.name for c in browser.cookies.jar if "auth_session" in c.name}
        expected = {cookie_name(SESSION_COOKIE, scheme == "https", p) for p in ("/a", "/b")}
        assert names == expected
        a_session = browser.cookies[cookie_name(SESSION_COOKIE, scheme == "https", "/a")]
        token = csrf_token(apps["/a"].config.cookie_secret, a_session)
        logout = await browser.post(
            "/a/auth/logout", data={"csrf": token}, headers={"accept": "application/json"}
        )
        assert logout.json()["logged_out"] is True
        assert (await browser.get("/a/auth/me")).status_code == 401
        assert (await browser.get("/b/auth/me")).json()["profile"]["username"] == "bob"
    for auth in apps.values():
        await auth.aclose()
