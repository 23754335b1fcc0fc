"""streamlit_authlib_login/_core/proxies.py: forwarding headers count only from the proxies
``[auth] trusted_proxies`` names (nobody by default, loopback included), ``base_url`` wins over
them, and the uvicorn Streamlit runs cannot make the module believe them from 127.0.0.1."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
import uvicorn
import uvicorn.config
from login_harness import BuildApp, LoginApp, cookie_value, dev_config, free_port, query_of, set_cookies
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from streamlit_authlib_login._core.config import load_config
from streamlit_authlib_login._core.errors import ConfigError
from streamlit_authlib_login._core.proxies import (
    CONNECTION_SCOPE_KEY,
    Connection,
    TrustedProxies,
    parse_trusted_proxies,
    public,
)
from streamlit_authlib_login._devmode import DEV_MODE
from streamlit_authlib_login._streamlit.internals import keep_connection

PROXY = "10.0.0.5"  # the operator's proxy, in every test that names one
FORWARDED = {
    "x-forwarded-proto": "https",
    "x-forwarded-host": "localhost:8443",
    "x-forwarded-for": "203.0.113.7",
}
EVIL = {"x-forwarded-proto": "https", "x-forwarded-host": "evil.example", "x-forwarded-for": PROXY}
BEHIND = Connection(peer=PROXY, scheme="http", host="127.0.0.1:8501")


# --- the configuration -------------------------------------------------------------------
def test_trusted_proxies_default_to_nobody_not_even_loopback(tmp_path: Path) -> None:
    """Without the key no peer is trusted: not 127.0.0.1, not ::1."""
    config = load_config({}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)
    assert not config.trusted_proxies
    assert "127.0.0.1" not in config.trusted_proxies and "::1" not in config.trusted_proxies


def test_trusted_proxies_take_addresses_and_networks(tmp_path: Path) -> None:
    """Addresses and CIDR networks, v4 and v6; the environment's comma list replaces the file's."""
    auth = {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]}
    trusted = load_config({"auth": auth}, {}, local_dir=tmp_path).trusted_proxies
    assert all(ip in trusted for ip in ("127.0.0.1", "10.200.3.4", "fd00::1", "::ffff:10.0.0.9"))
    assert not any(ip in trusted for ip in ("127.0.0.2", "11.0.0.1", "::1", "not-an-ip", None))
    environ = {"AUTH_TRUSTED_PROXIES": "192.0.2.1, 198.51.100.0/24"}
    from_env = load_config({"auth": auth}, environ, local_dir=tmp_path).trusted_proxies
    assert "198.51.100.9" in from_env and "127.0.0.1" not in from_env


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (["10.0.0.0/33"], "'10.0.0.0/33' is no IP address or network"),
        (["10.0.0.1/8"], "host bits zero"),
        (["proxy.internal"], "'proxy.internal' is no IP address"),
        ([""], "must be a list of IP addresses"),
        (True, "must be a list of IP addresses"),
        ({"ip": "10.0.0.1"}, "must be a list of IP addresses"),
    ],
)
def test_a_bad_trusted_proxies_is_named_with_the_other_problems(
    tmp_path: Path, value: object, words: str
) -> None:
    """A mistake here is one line of the start's list, beside another table's mistake."""
    auth = {"trusted_proxies": value, "base_url": "ftp://x"}
    with pytest.raises(ConfigError) as raised:
        load_config({"auth": auth}, {}, local_dir=tmp_path)
    lines = {(p.table, p.key): p.line for p in raised.value.problems}
    assert words in lines[("[auth]", "trusted_proxies")]
    assert ("[auth]", "base_url") in lines


# --- what a request says, and who is believed --------------------------------------------
def test_an_untrusted_peers_headers_change_nothing_and_are_noted() -> None:
    """Loopback, the default's nobody: the connection's own values, and a note that headers came."""
    local = Connection(peer="127.0.0.1", scheme="http", host="localhost:8501")
    seen = public(local, EVIL, TrustedProxies())
    assert (seen.origin, seen.client, seen.ignored) == ("http://localhost:8501", "127.0.0.1", True)
    assert not public(local, {}, TrustedProxies()).ignored
    assert public(local, {"forwarded": "proto=https"}, TrustedProxies()).ignored  # noted, never read


def test_a_trusted_proxy_says_the_scheme_host_and_client() -> None:
    """From the named proxy, X-Forwarded-Proto, -Host and -For make the public request."""
    seen = public(BEHIND, FORWARDED, parse_trusted_proxies([PROXY]))
    assert (seen.origin, seen.client, seen.ignored) == ("https://localhost:8443", "203.0.113.7", False)


def test_forwarded_is_never_read_even_from_a_trusted_proxy() -> None:
    """RFC 7239's header is the family nginx passes through from the client untouched."""
    seen = public(
        BEHIND, {"forwarded": "for=1.2.3.4;proto=https;host=evil.example"}, parse_trusted_proxies([PROXY])
    )
    assert (seen.origin, seen.client) == ("http://127.0.0.1:8501", PROXY)


@pytest.mark.parametrize(
    ("headers", "origin"),
    [
        ({"x-forwarded-proto": "javascript"}, "http://127.0.0.1:8501"),
        ({"x-forwarded-proto": "HTTPS"}, "https://127.0.0.1:8501"),
        ({"x-forwarded-proto": "http, https"}, "https://127.0.0.1:8501"),  # the proxy's own, last
        ({"x-forwarded-host": "evil.example/path?"}, "http://127.0.0.1:8501"),
        ({"x-forwarded-host": "user@evil.example"}, "http://127.0.0.1:8501"),
        ({"x-forwarded-host": "a b"}, "http://127.0.0.1:8501"),
        ({"x-forwarded-host": "evil.example, app.example"}, "http://app.example"),
        ({"x-forwarded-host": "[::1]:8443"}, "http://[::1]:8443"),
    ],
)
def test_a_value_that_is_none_is_passed_over(headers: dict[str, str], origin: str) -> None:
    """A scheme that is no http(s) or a host with more than host and port leaves the connection's."""
    assert public(BEHIND, headers, parse_trusted_proxies([PROXY])).origin == origin


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the client may write the left part itself
        ("203.0.113.7, 10.0.0.9", "203.0.113.7"),  # past a second trusted proxy of the chain
        ("10.0.0.8, 10.0.0.9", "10.0.0.8"),  # all trusted: the farthest
        ("nonsense, 10.0.0.9", "10.0.0.9"),  # the last hop believed
        ("", PROXY),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(forwarded_for: str, client: str) -> None:
    seen = public(BEHIND, {"x-forwarded-for": forwarded_for}, parse_trusted_proxies(["10.0.0.0/8"]))
    assert seen.client == client


# --- the routes ------------------------------------------------------------------------------
def behind(app: LoginApp, peer: str) -> httpx2.AsyncClient:
    """A browser whose requests reach the app from ``peer``."""
    transport = httpx2.ASGITransport(app=app.app, client=(peer, 40000))
    client = httpx2.AsyncClient(transport=transport, base_url="http://localhost")
    app._browsers.append(client)
    return client


def trusting(build_app: BuildApp, *proxies: str, base_url: str | None = None) -> LoginApp:
    return build_app(
        config=replace(dev_config(base_url=base_url), trusted_proxies=parse_trusted_proxies(list(proxies)))
    )


async def test_from_an_untrusted_peer_the_headers_change_no_uri_and_no_cookie(
    build_app: BuildApp, caplog: pytest.LogCaptureFixture
) -> None:
    """From loopback, with nobody named: the redirect URI and the cookies are plain http's, and
    the console says once what to set."""
    app = build_app()
    browser = behind(app, "127.0.0.1")
    with caplog.at_level(logging.WARNING, logger="streamlit_authlib_login"):
        for _ in range(2):
            start = await browser.get("/auth/login/dev", params={"next": "/x"}, headers=EVIL)
    assert query_of(start.headers["location"])["redirect_uri"] == "http://localhost/auth/callback/dev"
    assert "auth_login" in set_cookies(start) and "Secure" not in set_cookies(start)["auth_login"]
    said = [r.getMessage() for r in caplog.records if "forwarding headers" in r.getMessage()]
    assert len(said) == 1 and "from 127.0.0.1 ignored" in said[0] and "http://localhost" in said[0]


async def test_from_a_trusted_proxy_the_public_url_is_https_with_host_cookies(build_app: BuildApp) -> None:
    """Behind the named proxy: the redirect URI is the browser's https one, the cookies __Host-
    and Secure, and a session id tossed under the bare name is no session."""
    app = trusting(build_app, PROXY)
    browser = behind(app, PROXY)
    start = await browser.get("/auth/login/dev", params={"next": "/x"}, headers=FORWARDED)
    assert query_of(start.headers["location"])["redirect_uri"] == "https://localhost:8443/auth/callback/dev"
    binding = set_cookies(start)["__Host-auth_login"]
    assert "Secure" in binding and "HttpOnly" in binding and "Path=/" in binding
    # At the provider directly: it refuses whatever a proxy forwards (the last test here).
    callback = await app.authorize(app.browser(), start.headers["location"])
    done = await browser.get(callback, headers=FORWARDED)
    session_id = cookie_value(set_cookies(done)["__Host-auth_session"])
    # The cookies as the browser sends them to https://localhost:8443 (this client is on http).
    me = {**FORWARDED, "cookie": f"__Host-auth_session={session_id}"}
    assert (await behind(app, PROXY).get("/auth/me", headers=me)).status_code == 200
    tossed = {**FORWARDED, "cookie": f"auth_session={session_id}"}
    assert (await behind(app, PROXY).get("/auth/me", headers=tossed)).status_code == 401


async def test_base_url_wins_over_a_trusted_proxys_headers(build_app: BuildApp) -> None:
    """The configured public URL, whatever the trusted proxy says."""
    app = trusting(build_app, PROXY, base_url="https://localhost:9443")
    browser = behind(app, PROXY)
    start = await browser.get("/auth/login/dev", params={"next": "/x"}, headers=EVIL)
    # Started on another host than the public one: sent there first, on base_url.
    assert start.headers["location"].startswith("https://localhost:9443/auth/login/dev?")


async def test_the_development_provider_refuses_what_a_trusted_proxy_forwards(build_app: BuildApp) -> None:
    """Trusting the proxy for URLs never makes a forwarded request local to the provider, which
    logs anyone in: it judges the connection and refuses any forwarded request."""
    app = trusting(build_app, "127.0.0.1")
    browser = behind(app, "127.0.0.1")
    local = {"x-forwarded-proto": "http", "x-forwarded-host": "localhost", "x-forwarded-for": "127.0.0.1"}
    start = await browser.get("/auth/login/dev", params={"next": "/x"}, headers=local)
    assert start.status_code == 302
    authorize = await browser.get(start.headers["location"], headers=local)
    assert authorize.status_code == 403 and "not through a proxy" in authorize.text
    assert (await browser.get("/idp/.well-known/openid-configuration", headers=local)).status_code == 403


# --- uvicorn, as Streamlit runs it ---------------------------------------------------------
@contextmanager
def uvicorn_defaults(app: Starlette) -> Iterator[str]:
    """``app`` under uvicorn with Streamlit's settings for proxies: none, so uvicorn's defaults
    (proxy_headers on, X-Forwarded-* believed from 127.0.0.1 and ::1)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """``keep_connection`` as ``with_login`` calls it, undone after the test."""
    monkeypatch.setattr(uvicorn.config, "ProxyHeadersMiddleware", uvicorn.config.ProxyHeadersMiddleware)
    assert keep_connection(CONNECTION_SCOPE_KEY) and keep_connection(CONNECTION_SCOPE_KEY)


def test_uvicorn_believes_x_forwarded_proto_from_loopback_by_default() -> None:
    """What Streamlit 1.67 runs: a local process saying https is served as https."""

    async def scheme(request: Request) -> JSONResponse:
        return JSONResponse({"scheme": request.url.scheme, "client": request.client and request.client.host})

    app = Starlette(routes=[Route("/scheme", scheme)])
    with uvicorn_defaults(app) as url:
        seen = httpx2.get(f"{url}/scheme", headers=EVIL).json()
    assert seen == {"scheme": "https", "client": PROXY}


async def test_with_the_connection_kept_uvicorns_rewrite_fools_nothing(
    build_app: BuildApp, kept: None
) -> None:
    """Under uvicorn's defaults, from 127.0.0.1 (which uvicorn believes) naming a trusted proxy
    in X-Forwarded-For: the module judges the connection, so the redirect URI and the cookies
    stay plain http's."""
    app = trusting(build_app, PROXY)
    with uvicorn_defaults(app.app) as url:
        async with httpx2.AsyncClient(base_url=url) as client:
            start = await client.get("/auth/login/dev", params={"next": "/x"}, headers=EVIL)
    assert query_of(start.headers["location"])["redirect_uri"] == f"{url}/auth/callback/dev"
    assert "auth_login" in set_cookies(start)
