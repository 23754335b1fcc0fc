"""Which cookie names carry a session, a logout marker or a login binding: over https only the
``__Host-`` ones, over http only the bare ones. A bare cookie over https can be set by a sibling
host or by anyone on plain http (cookie tossing, RFC 6265bis §8.5), so it must never count."""

from __future__ import annotations

import httpx2
import pytest
from login_harness import BuildApp, LoginApp, cookie_value, set_cookies

from streamlit_authlib_login._routes import LOGOUT_COOKIE, SESSION_COOKIE, csrf_token


def csrf(app: LoginApp, session_id: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_token(app.auth.config.cookie_secret, session_id)}


def toss(browser: httpx2.AsyncClient, name: str, value: str) -> None:
    """What a sibling host or a plain-http page can do: set a cookie without the __Host- prefix
    (``localhost.local``: how http.cookiejar names a host without a dot, RFC 2965 §1)."""
    browser.cookies.set(name, value, domain="localhost.local", path="/")


@pytest.fixture
async def https_app(build_app: BuildApp) -> LoginApp:
    return build_app(base_url="https://localhost")


async def test_over_https_a_tossed_bare_session_cookie_beside_the_real_one_never_counts(
    https_app: LoginApp,
) -> None:
    """Mallory tosses her bare session cookie at Alice: Alice stays Alice, and after her logout she
    is logged out, not logged in as Mallory."""
    alice, mallory = https_app.browser(), https_app.browser()
    alice_id = await https_app.logged_in(alice, "alice")
    mallory_id = await https_app.logged_in(mallory, "bob")
    toss(alice, SESSION_COOKIE, mallory_id)
    me = await alice.get("/auth/me")
    assert me.status_code == 200 and me.json()["profile"]["username"] == "alice"
    json = {"Accept": "application/json"}
    logout = await alice.post("/auth/logout", headers={**csrf(https_app, alice_id), **json})
    assert logout.json()["logged_out"] is True
    assert f"__Host-{SESSION_COOKIE}" in set_cookies(logout)
    assert alice.cookies.get(SESSION_COOKIE) == mallory_id  # still there: only __Host- was cleared
    assert (await alice.get("/auth/me")).status_code == 401


async def test_over_https_a_bare_session_cookie_alone_is_ignored(https_app: LoginApp) -> None:
    """A valid session id in a bare cookie over https is no session: every route ignores it."""
    session_id = await https_app.logged_in(https_app.browser())
    victim = https_app.browser()
    toss(victim, SESSION_COOKIE, session_id)
    assert (await victim.get("/auth/me")).status_code == 401
    refresh = await victim.post("/auth/refresh", headers=csrf(https_app, session_id))
    assert refresh.status_code == 401
    logout = await victim.post("/auth/logout", headers=csrf(https_app, session_id))
    assert logout.status_code == 401
    assert https_app.auth.sessions.load(session_id) is not None  # its owner is still logged in


async def test_over_https_a_new_login_ends_only_the_host_cookies_session(https_app: LoginApp) -> None:
    """A login replaces the browser's old session: the __Host- one, never one named by a tossed cookie."""
    mallory_id = await https_app.logged_in(https_app.browser(), "bob")
    alice = https_app.browser()
    toss(alice, SESSION_COOKIE, mallory_id)
    await https_app.logged_in(alice)
    assert https_app.auth.sessions.load(mallory_id) is not None


async def test_over_https_a_tossed_bare_binding_cookie_binds_no_login(https_app: LoginApp) -> None:
    """A login started with only a bare binding cookie gets a __Host- one of its own, and the
    tossed value cannot finish it."""
    browser = https_app.browser()
    toss(browser, "auth_login", "m" * 43)
    start = await browser.get("/auth/login/dev", params={"next": "/x"})
    binding = cookie_value(set_cookies(start)["__Host-auth_login"])
    assert binding != "m" * 43
    callback = await https_app.authorize(browser, start.headers["location"])
    victim = https_app.browser()
    toss(victim, "auth_login", binding)
    response = await victim.get(callback)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")
    assert not any("auth_session" in name for name in set_cookies(response))


async def test_over_https_a_next_cookie_counts_only_under_its_host_name(https_app: LoginApp) -> None:
    """Over https a login's next is read from __Host-auth_next only: even a value made for this
    very login, tossed under the bare name, sends the browser nowhere but /."""
    browser = https_app.browser()
    start = await browser.get("/auth/login/dev", params={"next": "/x"})
    made_for_it = cookie_value(set_cookies(start)["__Host-auth_next"])
    callback = await https_app.authorize(browser, start.headers["location"])
    browser.cookies.delete("__Host-auth_next")
    toss(browser, "auth_next", made_for_it)
    response = await browser.get(callback)
    assert response.status_code == 302 and response.headers["location"] == "/"


async def test_over_http_only_the_bare_names_count(login_app: LoginApp) -> None:
    """Over http a __Host- cookie is no session (a browser would not even store one there)."""
    session_id = await login_app.logged_in(login_app.browser())
    other = login_app.browser()
    other.cookies.set(f"__Host-{SESSION_COOKIE}", session_id, domain="localhost.local", path="/")
    assert (await other.get("/auth/me")).status_code == 401
    other.cookies.set(SESSION_COOKIE, session_id, domain="localhost.local", path="/")
    assert (await other.get("/auth/me")).status_code == 200


@pytest.mark.parametrize(
    ("cookies", "secure", "expected"),
    [
        ({"__Host-auth_session": "real", "auth_session": "tossed"}, True, "real"),
        ({"auth_session": "tossed"}, True, None),
        ({"__Host-auth_session": "odd", "auth_session": "plain"}, False, "plain"),
        ({"__Host-auth_session": "odd"}, False, None),
    ],
)
def test_session_id_from_reads_the_schemes_name_only(
    cookies: dict[str, str], secure: bool, expected: str | None
) -> None:
    """The one rule the routes and the Streamlit helpers (st.context.cookies) share."""
    from streamlit_authlib_login._routes import session_id_from

    assert session_id_from(cookies, secure=secure) == expected


def test_the_logout_marker_follows_the_same_rule() -> None:
    """The Streamlit login page's "your logout did not come back" reads the marker by the same rule."""
    from streamlit_authlib_login._routes import scheme_cookie

    tossed = {LOGOUT_COOKIE: "mallory-state"}
    assert scheme_cookie(tossed, LOGOUT_COOKIE, secure=True) is None
    assert scheme_cookie(tossed, LOGOUT_COOKIE, secure=False) == "mallory-state"
    both = {f"__Host-{LOGOUT_COOKIE}": "real", LOGOUT_COOKIE: "tossed"}
    assert scheme_cookie(both, LOGOUT_COOKIE, secure=True) == "real"
