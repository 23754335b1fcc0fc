"""What a stranger without a session can make the login routes do: nothing that lasts, grows or
points elsewhere (framing, forged Host headers, large bodies, failure records, locks)."""

from __future__ import annotations

import gc
import time

import pytest
from login_harness import (
    DEV_CLIENT_SECRET,
    BuildApp,
    LoginApp,
    cookie_value,
    dev_config,
    query_of,
    set_cookies,
)

from devidp import DevAuthorizationServer
from streamlit_authlib_login._core.notices import FAILURE_TTL
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._devmode import MAX_DEV_ORIGINS, emulated_providers, throwaway_apple_key
from streamlit_authlib_login._routes import CALLBACK_BODY_LIMIT, csrf_token

MEGABYTE = b"x=" + b"a" * 1_000_000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/login/dev"),
        ("GET", "/auth/callback/dev?code=x&state=y"),
        ("GET", "/auth/me"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/refresh"),
    ],
)
async def test_no_auth_route_may_be_framed(login_app: LoginApp, method: str, path: str) -> None:
    """A page of another origin cannot frame a login step under a click (clickjacking)."""
    response = await login_app.browser().request(method, path)
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"


async def test_a_forged_host_never_becomes_a_location(login_app: LoginApp) -> None:
    """Without base_url, redirects back into the app are relative: `Host: evil.example` goes nowhere."""
    browser = login_app.browser()
    for path in ("/auth/callback/dev?code=x&state=y", "/auth/login/dev", "/auth/login/nobody"):
        response = await browser.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?refused="), response.headers["location"]


async def test_with_a_base_url_redirects_go_there(build_app: BuildApp) -> None:
    app = build_app(config=dev_config(base_url="http://localhost"))
    response = await app.browser().get("/auth/callback/dev?code=x&state=y", headers={"Host": "127.0.0.1"})
    assert response.headers["location"].startswith("http://localhost/login?refused=")


async def test_the_dev_provider_registers_callbacks_for_a_few_addresses_only(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """Each loopback Host used to add a redirect URI and a client forever; now a few, then a refusal."""
    app = build_app(idp)
    browser = app.browser()
    answers = [
        await browser.get("/auth/login/dev", headers={"Host": f"127.0.0.{i}"})
        for i in range(1, 3 * MAX_DEV_ORIGINS)
    ]
    assert [a.status_code for a in answers[:MAX_DEV_ORIGINS]] == [302] * MAX_DEV_ORIGINS
    assert {a.status_code for a in answers[MAX_DEV_ORIGINS:]} == {303}
    record = app.refusal(answers[-1].headers["location"], browser)
    assert record is not None and record["error"] == "config_error"
    client = idp.query_client("streamlit-app")
    assert client is not None and len(client.redirect_uris) == MAX_DEV_ORIGINS
    assert len(app.auth.providers._clients) <= MAX_DEV_ORIGINS
    again = await browser.get("/auth/login/dev", headers={"Host": "127.0.0.1"})  # a known one still works
    assert again.status_code == 302


# Spellings of two addresses: case (RFC 3986 §6.2.2.1), the default port (§6.2.3), IPv6's many texts.
SAME_ADDRESSES = [
    *(f"{''.join(c.upper() if n >> i & 1 else c for i, c in enumerate('localhost'))}" for n in range(24)),
    "localhost:80",
    "LOCALHOST:80",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[0::1]",
    "[::0:1]",
    "[::1]:80",
]


async def test_spellings_of_one_address_count_once(build_app: BuildApp, idp: DevAuthorizationServer) -> None:
    """LOCALHOST, LocalHost, localhost:80 are localhost; [0::1] is [::1]: they fill none of the
    dev provider's few addresses, and register no callback of their own."""
    app = build_app(idp)
    browser = app.browser()
    for host in SAME_ADDRESSES:
        answer = await browser.get("/auth/login/dev", headers={"Host": host})
        assert answer.status_code == 302, (host, answer.headers.get("location"))
    client = idp.query_client("streamlit-app")
    assert client is not None
    assert sorted(client.redirect_uris) == [
        "http://[::1]/auth/callback/dev",
        "http://localhost/auth/callback/dev",
    ]
    assert len(app.auth.providers._clients) <= 2
    for i in range(2, MAX_DEV_ORIGINS):  # room is left for as many other addresses as before
        assert (await browser.get("/auth/login/dev", headers={"Host": f"127.0.0.{i}"})).status_code == 302


async def test_every_emulated_provider_starts_on_one_address(build_app: BuildApp) -> None:
    """The bound counts addresses, not providers: the dev provider and its nine twins on one host."""
    twins = emulated_providers(DEV_CLIENT_SECRET, throwaway_apple_key())
    app = build_app(config=dev_config(providers=twins))
    browser = app.browser()
    for provider in ("dev", *(p.name for p in twins)):
        assert (await browser.get(f"/auth/login/{provider}")).status_code == 302, provider


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=zzz"]
)
async def test_a_large_callback_body_is_refused_and_writes_nothing(
    build_app: BuildApp, content_type: str
) -> None:
    """A 1 MB form post to the callback: 413 at once, nothing stored (it used to be spooled to disk)."""
    store = MemoryStore()
    app = build_app(store=store)
    before = len(store._data)
    response = await app.browser().post(
        "/auth/callback/dev", content=MEGABYTE, headers={"Content-Type": content_type}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert len(store._data) == before


async def test_a_body_without_a_length_is_cut_off_at_the_limit(login_app: LoginApp) -> None:
    """A chunked body (no Content-Length) is read only up to the limit."""
    read = []

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            read.append(1)
            yield b"a" * 1024

    response = await login_app.browser().post(
        "/auth/callback/dev",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert len(read) <= CALLBACK_BODY_LIMIT // 1024 + 2


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/refresh"])
async def test_posts_check_the_session_before_reading_the_body(login_app: LoginApp, path: str) -> None:
    """Without a session a 1 MB body is not read: 401. With one: 413, and the session lives on."""
    stranger = await login_app.browser().post(
        path, content=MEGABYTE, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert stranger.status_code == 401
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    browser.cookies.set("auth_session", session_id)
    response = await browser.post(
        path,
        content=MEGABYTE,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRF-Token": csrf_token(login_app.auth.config.cookie_secret, session_id),
        },
    )
    assert response.status_code == 413
    assert login_app.auth.sessions.load(session_id) is not None


async def test_failure_records_are_small_and_short_lived(build_app: BuildApp) -> None:
    """A refused callback with a 30 KB error text leaves a record under 6 KiB, for 5 minutes."""
    store = MemoryStore()
    app = build_app(store=store)
    browser = app.browser()
    state = query_of(await app.start(browser))["state"]
    response = await browser.get(
        "/auth/callback/dev",
        params={
            "state": state,
            "iss": app.issuer,
            "error": "access_denied",
            "error_description": "z" * 30_000,
        },
    )
    record = app.refusal(response.headers["location"], browser)
    assert record is not None and len(str(record["description"])) <= 1000
    [(blob, expires)] = [v for k, v in store._data.items() if k.startswith("failure:")]
    assert len(blob) < 6 * 1024  # the callback step of its trace keeps 500 characters of it too
    assert expires - time.time() <= FAILURE_TTL


async def test_refresh_locks_do_not_outlive_their_refresh(login_app: LoginApp) -> None:
    """One lock per session that ever refreshed used to stay in memory for good."""
    for _ in range(5):
        browser = login_app.browser()
        response = await login_app.login(browser)
        session_id = cookie_value(set_cookies(response)["auth_session"])
        browser.cookies.set("auth_session", session_id)
        refreshed = await browser.post(
            "/auth/refresh",
            headers={"X-CSRF-Token": csrf_token(login_app.auth.config.cookie_secret, session_id)},
        )
        assert refreshed.status_code == 200, refreshed.text
    gc.collect()
    assert len(login_app.auth.refreshes._locks) == 0


@pytest.mark.parametrize("length", ["²".encode("latin-1"), b"1" * 5000, b"-1", b"+5", b"0x10"])
async def test_a_content_length_that_is_no_number_is_refused(login_app: LoginApp, length: bytes) -> None:
    """A Content-Length of other than ASCII digits ("²" passed str.isdigit(), then int() failed: a
    500), or of more digits than int() takes, is a 400; nothing is read."""
    response = await login_app.browser().post(
        "/auth/callback/dev",
        content=b"code=x&state=y",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": length},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


async def test_a_client_gone_before_its_body_is_answered_quietly(build_app: BuildApp) -> None:
    """A form post whose client leaves mid-body: nothing stored, and no exception escapes to the
    server (it used to, as a traceback in the log for every such client)."""
    store = MemoryStore()
    app = build_app(store=store)
    before = len(store._data)
    messages = [{"type": "http.request", "body": b"code=x&", "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/auth/callback/dev",
        "raw_path": b"/auth/callback/dev",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("localhost", 80),
    }
    await app.app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 400
    assert len(store._data) == before


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/refresh"])
async def test_a_csrf_token_with_non_ascii_characters_is_refused_not_a_500(
    login_app: LoginApp, path: str
) -> None:
    """`csrf=é` (a form value is decoded as UTF-8) is a wrong token: 403, and the session lives on."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    browser.cookies.set("auth_session", session_id)
    response = await browser.post(
        path, content="csrf=%C3%A9", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 403
    assert login_app.auth.sessions.load(session_id) is not None
