"""The HTTP contract of streamlit_authlib_login/_routes/: cookies, /auth/me, next, logout,
refresh and CSRF."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
from login_harness import (
    COOKIE_SECRET,
    DEV_CLIENT_SECRET,
    BuildApp,
    LoginApp,
    cookie_value,
    dev_config,
    query_of,
    second_provider,
    set_cookies,
    with_params,
)
from starlette.applications import Starlette

from devidp import DevAuthorizationServer
from streamlit_authlib_login._core.config import load_config
from streamlit_authlib_login._core.flow import safe_next
from streamlit_authlib_login._core.refresh import RECENT
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._routes import auth_routes, csrf_token


def csrf(app: LoginApp, session_id: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_token(app.auth.config.cookie_secret, session_id)}


# --- the session cookie ---------------------------------------------------------------------
async def test_session_cookie_is_httponly_lax_and_host_wide(login_app: LoginApp) -> None:
    """Over http the session cookie is HttpOnly, SameSite=Lax, Path=/, and not Secure."""
    response = await login_app.login(login_app.browser())
    header = set_cookies(response)["auth_session"]
    assert "HttpOnly" in header
    assert "samesite=lax" in header.lower()
    assert "Path=/" in header
    assert "Secure" not in header
    assert len(cookie_value(header)) >= 43  # 32 random bytes


@pytest.mark.parametrize("st_login", [False, True], ids=["ours", "st.login"])
async def test_session_max_age_in_the_secrets_bounds_the_session_cookie(
    build_app: BuildApp, shared_idp: DevAuthorizationServer, tmp_path: Path, st_login: bool
) -> None:
    """[auth] session_max_age = "2h": the session cookie says Max-Age=7200 (not 7 days, nor
    st.login's 30), for st.login's callback too; a provider's own "30m" gives its cookie 1800."""
    second = second_provider(shared_idp)
    own = {
        "client_id": second.client_id,
        "client_secret": "s",
        "server_metadata_url": second.server_metadata_url,
    }
    secrets = {
        "cookie_secret": COOKIE_SECRET,
        "session_max_age": "2h",
        "second": {**own, "session_max_age": "30m"},
    }
    session = load_config({"auth": secrets}, {}, local_dir=tmp_path).session
    redirect_uri = "http://localhost/oauth2callback" if st_login else None
    app = build_app(config=dev_config(providers=[second], session=session, redirect_uri=redirect_uri))
    response = await app.login(app.browser())
    assert response.status_code == 302
    assert "Max-Age=7200" in set_cookies(response)["auth_session"]
    if not st_login:  # st.login's one callback is registered for the development provider only
        response = await app.login(app.browser(), provider="second")
        assert response.status_code == 302
        assert "Max-Age=1800" in set_cookies(response)["auth_session"]


async def test_under_https_cookies_are_secure_and_host_prefixed(build_app: BuildApp) -> None:
    """Served over https, both cookies are __Host- prefixed, Secure, Path=/ and without Domain."""
    app = build_app(base_url="https://localhost")
    browser = app.browser()
    start = await browser.get("/auth/login/dev", params={"next": "/x"})
    binding = set_cookies(start)["__Host-auth_login"]
    callback = await app.authorize(browser, start.headers["location"])
    response = await browser.get(callback)
    assert response.headers["location"] == "/x"
    session = set_cookies(response)["__Host-auth_session"]
    for header in (binding, session):
        assert "Secure" in header and "Path=/" in header and "HttpOnly" in header
        assert "Domain" not in header
        assert "samesite=lax" in header.lower()
    assert (await browser.get("/auth/me")).status_code == 200


async def test_configured_https_base_url_makes_cookies_secure(build_app: BuildApp) -> None:
    """Behind a TLS proxy (base_url https://...), cookies are Secure even though the hop is http."""
    app = build_app(config=dev_config(base_url="https://localhost"), base_url="https://localhost")
    response = await app.browser().get("/auth/login/dev")
    assert "__Host-auth_login" in set_cookies(response)


async def test_login_started_on_another_host_moves_to_the_public_base_url(build_app: BuildApp) -> None:
    """With base_url set, a login started on another host name is first sent to the public host."""
    app = build_app(config=dev_config(base_url="http://127.0.0.1"))
    response = await app.browser().get("/auth/login/dev", params={"next": "/x"})
    assert response.status_code == 302
    assert response.headers["location"] == "http://127.0.0.1/auth/login/dev?next=%2Fx"
    assert not set_cookies(response)


async def test_two_logins_started_in_two_tabs_both_finish(login_app: LoginApp) -> None:
    """One browser, two tabs: the second login reuses the browser's binding, so the first still
    finishes. Its next cookie was overwritten by the second's: it lands on /, the second on its next."""
    for order in ("older first", "newer first"):
        browser = login_app.browser()
        older = await login_app.authorize(browser, await login_app.start(browser, "/one"))
        newer = await login_app.authorize(browser, await login_app.start(browser, "/two"))
        callbacks = [older, newer] if order == "older first" else [newer, older]
        landed = {}
        for callback in callbacks:
            response = await browser.get(callback)
            assert response.status_code == 302 and login_app.session_cookie in set_cookies(response), order
            landed[callback] = response.headers["location"]
        assert (landed[older], landed[newer]) == ("/", "/two"), order
    other_browser = login_app.browser()  # and the binding still ties each state to its browser
    third = await login_app.authorize(browser, await login_app.start(browser, "/three"))
    assert (await other_browser.get(third)).status_code == 303


# --- /auth/me --------------------------------------------------------------------------------
async def test_me_without_a_session_is_401_json(login_app: LoginApp) -> None:
    """/auth/me answers 401 JSON without a cookie and with a cookie that names no session."""
    browser = login_app.browser()
    response = await browser.get("/auth/me")
    assert response.status_code == 401
    assert response.json()["error"] == "not_logged_in"
    browser.cookies.set("auth_session", "no-such-session")
    assert (await browser.get("/auth/me")).status_code == 401


async def test_me_shows_the_session_but_never_the_raw_tokens(login_app: LoginApp) -> None:
    """/auth/me has provider, profile, claims and expiry times, and no token string."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    session = login_app.auth.sessions.load(session_id)
    assert session is not None
    response = await browser.get("/auth/me")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["provider"] == "dev"
    assert body["claims"]["sub"] == body["profile"]["id"]
    assert body["tokens"]["access_token_expires_at"] > body["created_at"]
    assert body["tokens"]["id_token_expires_at"] == body["claims"]["exp"]
    assert body["tokens"]["has_refresh_token"] is True
    text = response.text
    tokens = session.tokens
    for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token, session_id):
        assert secret and secret not in text
    assert "access_token" not in json.dumps(body).replace("access_token_expires_at", "")


# --- next ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "next_path",
    ["//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "evil.com", "", "javascript:alert(1)"],
)
async def test_next_outside_this_origin_falls_back_to_root(login_app: LoginApp, next_path: str) -> None:
    """After login, a next that could leave this origin lands on / instead."""
    response = await login_app.login(login_app.browser(), next_path=next_path)
    assert response.status_code == 302
    assert response.headers["location"] == "/"


async def test_same_origin_next_with_a_query_is_kept(login_app: LoginApp) -> None:
    """A same-origin path with a query survives the round trip to the provider."""
    response = await login_app.login(login_app.browser(), next_path="/reports?year=2026")
    assert response.headers["location"] == "/reports?year=2026"


# The next of a login travels in a cookie tied to its state, so the store keeps nothing the
# client chose (tests/auth/test_store_growth.py measures it).
@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_next_rides_in_an_httponly_cookie_cleared_by_its_callback(
    build_app: BuildApp, scheme: str
) -> None:
    """The login start sets a next cookie with the binding cookie's attributes (__Host- and
    Secure over https), whose value is no plain path; its callback lands there and clears it."""
    app = build_app(base_url=f"{scheme}://localhost")
    name = "__Host-auth_next" if scheme == "https" else "auth_next"
    browser = app.browser()
    start = await browser.get("/auth/login/dev", params={"next": "/reports?year=2026"})
    header = set_cookies(start)[name]
    assert "HttpOnly" in header and "Path=/" in header and "Max-Age=600" in header
    assert "samesite=lax" in header.lower() and "Domain" not in header
    assert ("Secure" in header) == (scheme == "https")
    assert "reports" not in cookie_value(header)  # base64url after its tag: no cookie syntax to break
    response = await browser.get(await app.authorize(browser, start.headers["location"]))
    assert response.headers["location"] == "/reports?year=2026"
    assert 'auth_next=""' in set_cookies(response)[name] and name not in browser.cookies


async def test_a_form_post_login_sends_its_next_cookie_cross_site_over_https(build_app: BuildApp) -> None:
    """A provider answering with form_post (Apple) POSTs the callback cross-site: over https the
    next cookie is SameSite=None, like the binding cookie, or it would not come back."""
    from streamlit_authlib_login._devmode import emulated_providers, throwaway_apple_key

    config = dev_config(
        base_url="https://localhost", providers=emulated_providers(DEV_CLIENT_SECRET, throwaway_apple_key())
    )
    app = build_app(config=config, base_url="https://localhost")
    start = await app.browser().get("/auth/login/emulated-apple", params={"next": "/x"})
    assert start.status_code == 302
    cookies = set_cookies(start)
    for name in ("__Host-auth_login", "__Host-auth_next"):
        assert "samesite=none" in cookies[name].lower() and "Secure" in cookies[name]


async def test_a_next_cookie_not_made_for_this_login_is_ignored(login_app: LoginApp) -> None:
    """A next cookie tossed in with a forged tag, or the genuine one of another browser's login,
    lends this login no path: it still logs in, and lands on /."""
    mallory = login_app.browser()
    await login_app.start(mallory, "/mallorys-page")
    genuine_elsewhere = mallory.cookies["auth_next"]
    forged_tag = "A" * 22 + "." + genuine_elsewhere.partition(".")[2]
    for tossed in (genuine_elsewhere, forged_tag, "no-dot-at-all", ""):
        alice = login_app.browser()
        callback = await login_app.authorize(alice, await login_app.start(alice, "/x"))
        alice.cookies.set("auth_next", tossed, domain="localhost.local", path="/")  # replaces hers
        assert alice.cookies["auth_next"] == tossed
        response = await alice.get(callback)
        assert response.status_code == 302 and response.headers["location"] == "/", tossed
        assert login_app.session_cookie in set_cookies(response)
        assert "auth_next" not in set_cookies(response)  # not this login's: left as it was
    alice = login_app.browser()  # bytes no cookie of ours holds (a header is read as latin-1)
    callback = await login_app.authorize(alice, await login_app.start(alice, "/x"))
    raw = f"auth_login={alice.cookies['auth_login']}; auth_next=".encode() + b"\xe9.\xe9"
    response = await alice.get(callback, headers={"cookie": raw})
    assert response.status_code == 302 and response.headers["location"] == "/"


async def test_a_refused_login_still_knows_its_next(login_app: LoginApp) -> None:
    """A login the provider refuses goes to the login page with its next, and its record has it."""
    browser = login_app.browser()
    state = query_of(await login_app.start(browser, "/reports?year=2026"))["state"]
    response = await browser.get(
        "/auth/callback/dev", params={"state": state, "iss": login_app.issuer, "error": "access_denied"}
    )
    location = response.headers["location"]
    assert query_of(location)["next"] == "/reports?year=2026"
    record = login_app.refusal(location, browser)
    assert record is not None and record["next"] == "/reports?year=2026"
    assert "auth_next" not in browser.cookies  # cleared: the login is over


@pytest.mark.parametrize(
    ("given", "expected"),
    [("/a/b", "/a/b"), ("//evil.com", "/"), ("/\\evil.com", "/"), (None, "/"), ("https://x", "/")],
)
def test_safe_next_keeps_only_same_origin_paths(given: str | None, expected: str) -> None:
    """safe_next is the one gate for every next parameter."""
    assert safe_next(given) == expected


# WHATWG URL §4.4 (basic URL parser) strips leading/trailing C0 controls and spaces and removes
# every tab, LF and CR before parsing, and reads "\\" as "/": each of these is "//host" to a browser.
@pytest.mark.parametrize(
    "given",
    [
        "/\r/host",
        "/\n/host",
        "/\t/host",
        "/\r\n\t/host",
        " //host",
        "/ /host",
        "/\x00/host",
        "/\x7f/host",
        "/\u2028/host",
        "/\u00a0/host",
        "/\u200b/host",
        "/a\x0cb",
    ],
)
def test_safe_next_refuses_controls_and_whitespace_a_browser_may_drop(given: str) -> None:
    """A next with a control character or whitespace is refused: a browser may drop them and see //host."""
    assert safe_next(given) == "/"


@pytest.mark.parametrize(
    "given",
    [
        "/auth/logout",
        "/auth/logout?x=1",
        "/auth",
        "/auth/",
        "/auth/login/dev",
        "/auth/me#x",
        "/oauth2callback",
        "/oauth2callback?code=x",
        "/AUTH/logout",
        "/%61uth/logout",
        "/./auth/logout",
        "/x/../auth/logout",
        "/%2e/auth/logout",
        "/x/%2E%2E/oauth2callback",
    ],
)
def test_safe_next_refuses_the_modules_own_routes(given: str) -> None:
    """A next naming one of this module's routes is refused: next=/auth/logout would be a one-click logout."""
    assert safe_next(given) == "/"


@pytest.mark.parametrize(
    "given", ["/authors", "/oauth2callbacks", "/reports/auth/logout", "/a?next=/auth/logout"]
)
def test_safe_next_keeps_app_pages_that_only_resemble_its_routes(given: str) -> None:
    """Pages of the app whose path merely starts like a module route are kept."""
    assert safe_next(given) == given


@pytest.mark.parametrize("next_path", ["/\r/evil.example", "/\t/evil.example", "/auth/logout"])
async def test_failure_page_back_link_never_leaves_or_logs_out(login_app: LoginApp, next_path: str) -> None:
    """/auth/failed?next=/%0d/host links back to /, not to a path a browser reads as //host."""
    page = await login_app.browser().get("/auth/failed", params={"failure": "nope", "next": next_path})
    assert page.status_code == 200
    assert 'href="/"' in page.text and "evil.example" not in page.text and "logout" not in page.text


# --- logout ----------------------------------------------------------------------------------
async def test_logout_ends_the_session_server_side(login_app: LoginApp) -> None:
    """After logout, the old cookie replayed by anyone is not logged in."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    response = await browser.post("/auth/logout", headers=csrf(login_app, session_id))
    assert response.status_code == 303
    assert "Max-Age=0" in set_cookies(response)["auth_session"]
    replay = login_app.browser()
    replay.cookies.set("auth_session", session_id)
    assert (await replay.get("/auth/me")).status_code == 401
    assert login_app.auth.sessions.load(session_id) is None


async def test_logout_revokes_the_tokens_at_the_provider(login_app: LoginApp) -> None:
    """The provider's introspection calls both tokens inactive after logout (RFC 7009)."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    session = login_app.auth.sessions.load(session_id)
    assert session is not None and session.tokens.refresh_token
    assert (await login_app.introspect(session.tokens.access_token))["active"] is True
    mark = login_app.mark()
    await browser.post("/auth/logout", headers=csrf(login_app, session_id))
    assert login_app.requests_since(mark, "/revoke")
    assert (await login_app.introspect(session.tokens.access_token))["active"] is False
    assert (await login_app.introspect(session.tokens.refresh_token))["active"] is False


async def test_logout_offers_rp_initiated_logout_with_id_token_hint(login_app: LoginApp) -> None:
    """JSON logout answers the provider's end_session URL with id_token_hint and where to come back."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    session = login_app.auth.sessions.load(session_id)
    assert session is not None
    response = await browser.post(
        "/auth/logout", headers={**csrf(login_app, session_id), "Accept": "application/json"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["logged_out"] is True
    url = body["end_session_url"]
    assert url.startswith("http://localhost/idp/logout?")
    params = query_of(url)
    assert params["id_token_hint"] == session.tokens.id_token
    assert params["post_logout_redirect_uri"] == login_app.auth.post_logout_uri("dev", "http://localhost")
    assert params["client_id"] == "streamlit-app"
    at_provider = await browser.get(url)
    assert at_provider.status_code in (302, 303)
    assert at_provider.headers["location"] == with_params(
        params["post_logout_redirect_uri"], state=params["state"]
    )


async def test_form_logout_redirects_to_the_providers_logout(login_app: LoginApp) -> None:
    """A logout form post (the Streamlit button) is sent on to the provider's end_session URL."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    token = csrf_token(login_app.auth.config.cookie_secret, session_id)
    response = await browser.post("/auth/logout", data={"csrf": token})
    assert response.status_code == 303
    assert response.headers["location"].startswith("http://localhost/idp/logout?id_token_hint=")


async def test_logout_without_a_session_is_401(login_app: LoginApp) -> None:
    """POST /auth/logout without a session answers 401 JSON."""
    response = await login_app.browser().post("/auth/logout")
    assert response.status_code == 401
    assert response.json()["error"] == "not_logged_in"


# --- cross-site requests ----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/auth/logout", "/auth/refresh"])
async def test_cross_site_posts_are_refused(login_app: LoginApp, path: str) -> None:
    """Wrong Origin, no token, a wrong token, or another session's token: 403, session intact."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    other_id = await login_app.logged_in(login_app.browser(), persona="bob")
    attempts = [
        {"Origin": "https://evil.example.com", **csrf(login_app, session_id)},
        {},
        {"X-CSRF-Token": "0" * 64},
        csrf(login_app, other_id),
    ]
    for headers in attempts:
        response = await browser.post(path, headers=headers)
        assert response.status_code == 403, headers
        assert response.json()["error"] == "csrf"
    assert (await browser.get("/auth/me")).status_code == 200


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/refresh"])
async def test_same_origin_posts_with_the_token_are_accepted(login_app: LoginApp, path: str) -> None:
    """The csrf token of this session, from this origin, is accepted."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    headers = {"Origin": "http://localhost", "Accept": "application/json", **csrf(login_app, session_id)}
    assert (await browser.post(path, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a client that says nothing about where the request came from
        {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"},
        {"sec-fetch-site": "same-site", "sec-fetch-mode": "navigate"},  # a sibling subdomain
        {"origin": "https://evil.example"},
        {"referer": "https://evil.example/page"},
    ],
    ids=["no-metadata", "cross-site-image", "same-site-link", "foreign-origin", "foreign-referer"],
)
async def test_get_is_not_a_way_to_log_out_from_another_site(
    login_app: LoginApp, headers: dict[str, str]
) -> None:
    """GET /auth/logout (st.logout's) from a link, an image or a form elsewhere logs nobody out:
    403 with a page that asks, carrying the CSRF token for a real POST."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    response = await browser.get("/auth/logout", headers=headers)
    assert response.status_code == 403
    assert (
        "Log out?" in response.text
        and csrf_token(login_app.auth.config.cookie_secret, session_id) in response.text
    )
    assert response.headers["x-frame-options"] == "DENY"
    assert (await browser.get("/auth/me")).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate"},  # st.logout() in the page
        {"sec-fetch-site": "none", "sec-fetch-mode": "navigate"},  # typed into the address bar
        {"referer": "http://localhost/home"},  # an older browser: no Fetch Metadata
    ],
    ids=["same-origin", "typed", "same-origin-referer"],
)
async def test_st_logout_from_the_apps_own_page_ends_the_session(
    login_app: LoginApp, headers: dict[str, str]
) -> None:
    """GET /auth/logout from the app's own page ends the session server-side, like POST: the
    old cookie, replayed, is not logged in."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    response = await browser.get("/auth/logout", headers=headers)
    assert response.status_code == 303
    assert login_app.auth.sessions.load(session_id) is None
    replayed = login_app.browser()
    replayed.cookies.set("auth_session", session_id)
    assert (await replayed.get("/auth/me")).status_code == 401


# --- refresh ---------------------------------------------------------------------------------
async def test_refresh_rotates_the_tokens(login_app: LoginApp) -> None:
    """POST /auth/refresh gets a new access token and a rotated refresh token from the provider."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    before = login_app.auth.sessions.load(session_id)
    response = await browser.post("/auth/refresh", headers=csrf(login_app, session_id))
    assert response.status_code == 200
    assert response.json()["tokens"]["refresh_count"] == 1
    after = login_app.auth.sessions.load(session_id)
    assert before is not None and after is not None
    assert after.tokens.access_token != before.tokens.access_token
    assert after.tokens.refresh_token != before.tokens.refresh_token
    assert after.tokens.refreshed_at is not None
    assert (await login_app.introspect(after.tokens.access_token))["active"] is True
    assert (await browser.get("/auth/me")).json()["tokens"]["refresh_count"] == 1


async def test_a_refresh_right_after_another_answers_with_its_tokens_and_a_later_one_refreshes(
    login_app: LoginApp,
) -> None:
    """A refresh within RECENT seconds of the last one gets its tokens (a burst of tabs rotates
    once); once that refresh is RECENT seconds old, the next one reaches the provider again."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    mark = login_app.mark()
    for expected in (1, 1):
        response = await browser.post("/auth/refresh", headers=csrf(login_app, session_id))
        assert response.json()["tokens"]["refresh_count"] == expected
    assert len(login_app.requests_since(mark, "/token", grant_type="refresh_token")) == 1
    login_app.auth.sessions.update(
        session_id, lambda s: replace(s, tokens=replace(s.tokens, refreshed_at=int(time.time()) - RECENT))
    )
    response = await browser.post("/auth/refresh", headers=csrf(login_app, session_id))
    assert response.json()["tokens"]["refresh_count"] == 2
    assert len(login_app.requests_since(mark, "/token", grant_type="refresh_token")) == 2


async def test_concurrent_refreshes_reach_the_provider_once(build_app: BuildApp) -> None:
    """Eight concurrent POST /auth/refresh for one session make exactly one refresh grant, all 200."""
    login_app = build_app(latency=0.02)  # so the eight overlap while the first is at the provider
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    mark = login_app.mark()
    responses = await asyncio.gather(
        *(browser.post("/auth/refresh", headers=csrf(login_app, session_id)) for _ in range(8))
    )
    assert [r.status_code for r in responses] == [200] * 8
    assert len(login_app.requests_since(mark, "/token", grant_type="refresh_token")) == 1
    assert {r.json()["tokens"]["refresh_count"] for r in responses} == {1}


async def test_refresh_form_post_returns_to_a_safe_next(login_app: LoginApp) -> None:
    """The refresh button's form post redirects to its next, same-origin only."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    token = csrf_token(login_app.auth.config.cookie_secret, session_id)
    response = await browser.post("/auth/refresh", data={"csrf": token, "next": "//evil.com"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_refresh_refused_by_the_provider_is_a_clean_400(login_app: LoginApp) -> None:
    """A refresh token the provider has revoked gives a JSON error naming invalid_grant, not a 500."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    session = login_app.auth.sessions.load(session_id)
    assert session is not None and session.tokens.refresh_token
    revoked = await login_app.browser().post(
        "/idp/revoke",
        data={"token": session.tokens.refresh_token, "token_type_hint": "refresh_token"},
        auth=("streamlit-app", DEV_CLIENT_SECRET),
    )
    assert revoked.status_code == 200
    response = await browser.post("/auth/refresh", headers=csrf(login_app, session_id))
    assert response.status_code == 400
    assert response.json()["error"] == "provider_error"
    assert "invalid_grant" in response.json()["description"]
    assert (await browser.get("/auth/me")).status_code == 200  # still logged in; just not refreshed


async def test_logout_of_a_provider_removed_from_the_config_still_ends_the_session(
    build_app: BuildApp, shared_idp: DevAuthorizationServer
) -> None:
    """After a restart without the session's provider, logout still deletes the session (no 500)."""
    second = second_provider(shared_idp)
    store = MemoryStore()
    before = build_app(config=dev_config(providers=[second]), store=store)
    browser = before.browser()
    response = await before.login(browser, provider="second")
    session_id = cookie_value(set_cookies(response)["auth_session"])
    after = build_app(store=store)  # restarted with the dev provider only
    restarted = after.browser()
    restarted.cookies.set("auth_session", session_id)
    response = await restarted.post("/auth/logout", headers=csrf(after, session_id))
    assert response.status_code == 303
    assert after.auth.sessions.load(session_id) is None


async def test_a_new_login_ends_the_browsers_previous_session(login_app: LoginApp) -> None:
    """Logging in again replaces the old session: its id no longer works, even replayed."""
    browser = login_app.browser()
    old = await login_app.logged_in(browser, persona="alice")
    new = await login_app.logged_in(browser, persona="bob")
    assert old != new
    assert login_app.auth.sessions.load(old) is None
    assert login_app.auth.sessions.load(new) is not None


# --- the library's defaults ---------------------------------------------------------------------
async def test_without_a_login_page_given_the_module_explains_refusals_itself(login_app: LoginApp) -> None:
    """``auth_routes`` assumes no login page of the app's (the dashboard's ``/login`` is passed
    by ``app.py``): a refused login is explained at /auth/failed."""
    app = Starlette(routes=auth_routes(login_app.auth))
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url=login_app.base_url
    ) as browser:
        response = await browser.get("/auth/login/nosuch")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/auth/failed?")
        page = await browser.get(response.headers["location"])
    assert page.status_code == 200 and "The login was refused." in page.text
