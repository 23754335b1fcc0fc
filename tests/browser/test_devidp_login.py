"""A person logs in through the development provider's pages in a real browser."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import Page, Route, expect

from devidp import PERSONAS, RunningProvider

CLIENT_ID = "demo-web"
CLIENT_SECRET = "demo-web-secret"
# Registered for demo-web. Nothing listens there: the test stands in for the app (app_page).
REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True, kw_only=True)
class AuthorizationRequest:
    """What the app remembers between sending the user away and the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def authorization_request(issuer: str, scope: str = "openid profile email") -> AuthorizationRequest:
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        # RFC 7636 §4.2, and RFC 9700 §2.1.1: PKCE even for a confidential client.
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    return AuthorizationRequest(
        url=f"{issuer}/authorize?{urlencode(query)}", state=state, nonce=nonce, code_verifier=verifier
    )


@pytest.fixture
def app_page(page: Page) -> Page:
    """A page on which the app's redirect URI answers with a small stand-in page."""

    def callback(route: Route) -> None:
        query = escape(urlsplit(route.request.url).query.replace("&", "\n"))
        route.fulfill(content_type="text/html", body=f"<h1>Back at the app</h1><pre>{query}</pre>")

    page.route(f"{REDIRECT_URI}?**", callback)
    return page


def sign_in_as(page: Page, request: AuthorizationRequest, name: str) -> None:
    page.goto(request.url)
    expect(page.get_by_role("alert")).to_contain_text("Development provider")
    page.get_by_role("button", name=name).click()


def back_at_the_app(page: Page, button: str) -> dict[str, str]:
    """Click ``button`` on the provider's page; return the query it sends the browser back with.

    Playwright never routes a redirect (see ``Page.route``), and nothing listens on the
    redirect URI: catch the browser's redirected request as it leaves, let the refused
    connection's error page settle, then open the routed callback with that URL.
    """
    leaving = page.url
    with page.expect_request(f"{REDIRECT_URI}?**") as redirected:
        page.get_by_role("button", name=button).click()
    page.wait_for_url(lambda url: url != leaving)
    page.goto(redirected.value.url)
    expect(page.get_by_role("heading", name="Back at the app")).to_be_visible()
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def test_alice_logs_in_and_the_app_gets_her_id_token(app_page: Page, idp: RunningProvider) -> None:
    """Alice picks her persona, allows access, and the app's code exchange yields her ID token."""
    request = authorization_request(idp.url)
    sign_in_as(app_page, request, "Alice Anderson")

    expect(app_page.get_by_role("heading", name="Allow access?")).to_be_visible()
    scopes = app_page.get_by_role("listitem")
    expect(scopes.filter(has_text="Confirm who you are")).to_be_visible()
    expect(scopes.filter(has_text="See your name")).to_be_visible()
    expect(scopes.filter(has_text="See your email address")).to_be_visible()
    callback = back_at_the_app(app_page, "Allow")

    assert callback["state"] == request.state
    assert callback["iss"] == idp.url  # RFC 9207 §2
    tokens = (
        httpx2.post(
            f"{idp.url}/token",
            auth=(CLIENT_ID, CLIENT_SECRET),
            data={
                "grant_type": "authorization_code",
                "code": callback["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": request.code_verifier,
            },
        )
        .raise_for_status()
        .json()
    )
    jwks = KeySet.import_key_set(httpx2.get(f"{idp.url}/jwks.json").raise_for_status().json())
    claims = jwt.decode(tokens["id_token"], jwks).claims
    assert (claims["iss"], claims["aud"], claims["nonce"]) == (idp.url, CLIENT_ID, request.nonce)
    assert (claims["name"], claims["email"]) == ("Alice Anderson", "alice@example.com")


def test_denying_access_sends_access_denied_back(app_page: Page, idp: RunningProvider) -> None:
    """Alice picks her persona but denies access; the app gets error=access_denied and no code."""
    request = authorization_request(idp.url)
    sign_in_as(app_page, request, "Alice Anderson")
    callback = back_at_the_app(app_page, "Deny")

    assert callback["error"] == "access_denied"  # RFC 6749 §4.1.2.1
    assert (callback["state"], callback["iss"]) == (request.state, idp.url)
    assert "code" not in callback


def test_streamlit_app_serves_login_page_and_mounted_provider(page: Page, app_url: str) -> None:
    """`streamlit run app.py` offers the development provider to log in, and /idp lists every persona."""
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("link", name="Development provider")).to_be_visible()

    page.goto(authorization_request(f"{app_url}/idp").url)
    expect(page.get_by_role("alert")).to_contain_text("Development provider")
    for persona in PERSONAS:
        expect(page.get_by_role("button", name=persona.name)).to_be_visible()


@contextmanager
def page_on_another_port(html: str) -> Iterator[str]:
    """A real loopback server with one page (a routed page would not count as same-site)."""

    class OnePage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OnePage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_page_on_another_port_cannot_frame_the_login_page(page: Page, idp: RunningProvider) -> None:
    """Same site, another port: the provider answers the framed request, but the frame shows nothing."""
    request = authorization_request(idp.url)
    framer = f'<h1>Win a prize</h1><iframe src="{escape(request.url)}" width="600" height="600"></iframe>'
    with (
        page_on_another_port(framer) as url,
        page.expect_response(lambda response: response.url.startswith(f"{idp.url}/authorize")) as framed,
    ):
        page.goto(url)
        page.wait_for_load_state("load")  # the frame's own load (or its error page) included
    assert framed.value.status == 200
    expect(page.get_by_role("heading", name="Win a prize")).to_be_visible()
    expect(page.frame_locator("iframe").get_by_role("button", name="Alice Anderson")).to_have_count(0)
    assert "Alice Anderson" not in page.frames[1].content()
