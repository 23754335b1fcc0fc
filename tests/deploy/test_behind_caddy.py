"""Behind Caddy with TLS: ``deploy/Caddyfile`` itself (the file the README quotes) run by a real
Caddy with a self-signed certificate in front of ``streamlit run app.py``, with one table at a
stand-alone development provider and, as the file's comment says for a proxy on the same host::

    [auth] trusted_proxies = ["127.0.0.1"]

The app at ``/app/`` (``--server.baseUrlPath app``), the file as written. No browser here: the
nginx test drives Chromium through the same app; this one proves Caddy's part of the bargain, as
a script: the forwarding headers it sets and the ones of a client it drops, the websocket it
passes on, and the login and logout they carry.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
from websockets.sync.client import connect

from benchmarks.streamlit_process import free_port, streamlit_run
from streamlit_authlib_login._routes import csrf_token
from tests.auth.login_harness import query_of, set_cookies, with_params
from tests.browser.test_who_may_come_in import start_provider, wait_for_provider
from tests.streamlit_process import scratch_checkout
from tests.tls_proxies import caddy

CLIENT_ID, CLIENT_SECRET = "rules-app", "rules-app-secret"  # start_provider's client
COOKIE_SECRET = "behind-caddy-cookie-secret-0123456789abcdefghij"
SESSION = "__Host-auth_session-app"  # the sub-path in the name, __Host- and Path=/ kept


@dataclass(frozen=True)
class Site:
    origin: str  # https://localhost:PORT, through Caddy

    @property
    def public(self) -> str:
        return f"{self.origin}/app"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    scratch = tmp_path_factory.mktemp("behind-caddy")
    idp_port, app_port, public_port = free_port(), free_port(), free_port()
    public = f"https://localhost:{public_port}/app"
    provider = start_provider(idp_port, [f"{public}/auth/callback/corp"], scratch / "devidp.log")
    metadata = f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration"
    try:
        secrets = scratch / "secrets.toml"
        secrets.write_text(
            f'[auth]\ncookie_secret = "{COOKIE_SECRET}"\ntrusted_proxies = ["127.0.0.1"]\n\n'
            f'[auth.corp]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{metadata}"\n'
        )
        checkout = scratch_checkout(tmp_path_factory.mktemp("checkout"))
        args = (
            "--secrets.files",
            str(secrets),
            "--server.address",
            "127.0.0.1",
            "--server.baseUrlPath",
            "app",
        )
        log = scratch / "streamlit.log"
        with (
            streamlit_run("app.py", cwd=checkout, log=log, port=app_port, args=args, base_path="/app"),
            caddy(scratch, port=public_port, upstream_port=app_port) as proxy,
        ):
            wait_for_provider(provider, metadata, scratch / "devidp.log")
            yield Site(proxy.url)
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def browser() -> httpx2.Client:
    return httpx2.Client(verify=False, timeout=10)


def test_a_login_and_logout_through_caddy_are_https_with_host_cookies(site: Site) -> None:
    """The redirect URI is the public https one, the session cookie __Host-, Secure and
    HttpOnly, a session id under the bare name is no session, and the logout ends it."""
    with browser() as client:
        start = client.get(f"{site.public}/auth/login/corp", params={"next": "/"})
        assert query_of(start.headers["location"])["redirect_uri"] == f"{site.public}/auth/callback/corp"
        at_provider = client.get(with_params(start.headers["location"], login_hint="alice"))
        done = client.get(at_provider.headers["location"])
        session = set_cookies(done)[SESSION]
        assert "Secure" in session and "HttpOnly" in session and "Path=/" in session
        session_id = client.cookies[SESSION]
        assert client.get(f"{site.public}/auth/me").json()["profile"]["username"] == "alice"
        with browser() as tossed:
            names = ("auth_session-app", "auth_session")
            cookie = "; ".join(f"{name}={session_id}" for name in names)
            bare = tossed.get(f"{site.public}/auth/me", headers={"Cookie": cookie})
            assert bare.status_code == 401
        logout = client.post(
            f"{site.public}/auth/logout",
            headers={
                "Accept": "application/json",
                "Origin": site.origin,
                "X-CSRF-Token": csrf_token(COOKIE_SECRET, session_id),
            },
        )
        assert logout.json()["logged_out"] is True
        assert client.get(f"{site.public}/auth/me").status_code == 401


def test_caddy_replaces_a_clients_own_forwarding_headers(site: Site) -> None:
    """A client's X-Forwarded-Host, -Proto and Forwarded get nowhere through Caddy."""
    headers = {
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-For": "127.0.0.1",
        "Forwarded": "host=evil.example;proto=http",
    }
    with browser() as client:
        start = client.get(f"{site.public}/auth/login/corp", params={"next": "/"}, headers=headers)
    assert query_of(start.headers["location"])["redirect_uri"] == f"{site.public}/auth/callback/corp"
    assert "__Host-auth_login-app" in set_cookies(start)


def test_caddy_passes_streamlits_websocket_on(site: Site) -> None:
    """Streamlit's websocket opens through Caddy, under the sub-path."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    url = site.public.replace("https://", "wss://") + "/_stcore/stream"
    with connect(url, ssl=context, subprotocols=["streamlit"], open_timeout=10) as websocket:  # type: ignore[list-item]
        assert websocket.response is not None and websocket.response.status_code == 101
