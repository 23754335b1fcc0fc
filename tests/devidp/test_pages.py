"""The provider's pages: login, consent, the teaching aids on them, CSRF, the error page
for an untrusted redirect, and the loopback guard (devidp/routes.py).

Not test_routes.py: test modules share one namespace, and tests/auth has that name.
"""

from __future__ import annotations

import html
import json
import re

import httpx2
import pytest
from relying_party import REDIRECT_URI, authorization_params, hidden_field, pkce_pair, query_of, without_query
from starlette.applications import Starlette

import devidp
from devidp import PERSONAS, DevAuthorizationServer, ProviderConfig
from devidp.personas import BY_USERNAME


def login_page(browser: httpx2.Client, idp_url: str, **overrides: str | None) -> tuple[httpx2.Response, dict]:
    """Open /authorize without login_hint, as a browser sent there by demo-web."""
    params = authorization_params("demo-web", login_hint=None, **overrides)
    return browser.get(f"{idp_url}/authorize", params=params), params


def text_of(page: httpx2.Response) -> str:
    return html.unescape(page.text)


# --- the login page and its teaching aids ---------------------------------------------------


def test_login_page_offers_every_persona(idp, browser):
    """Without login_hint the person picks who to be, from every persona, names in any script."""
    page, _ = login_page(browser, idp.url)
    assert page.status_code == 200
    assert "<h1>Sign in</h1>" in page.text
    for persona in PERSONAS:
        assert persona.name in text_of(page)
        assert f'name="persona" value="{persona.username}"' in page.text


def test_login_page_warns_that_this_is_a_development_provider(idp, browser):
    """A banner says it logs anyone in without a password."""
    page, _ = login_page(browser, idp.url)
    assert "Development provider." in page.text
    assert "logs anyone in without a password" in page.text


def test_login_page_shows_the_request_parameters(idp, browser):
    """A collapsible panel lists what the app asked for, parameter by parameter."""
    page, params = login_page(browser, idp.url)
    panel = page.text[page.text.index("<details>") : page.text.index("</details>")]
    assert "<summary>What the app asked for (the request's parameters)</summary>" in panel
    for name in ("client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge_method"):
        assert f"<code>{name}</code>" in panel
    assert f"<code>{params['state']}</code>" in panel


def test_login_page_warns_about_missing_state_and_nonce(idp, browser):
    """A request without state and nonce is shown the spec recommendations it breaks."""
    page, _ = login_page(browser, idp.url, state=None, nonce=None)
    assert "This request breaks a spec recommendation" in page.text
    assert "No `state`" in page.text
    assert "No `nonce`" in page.text


def test_a_complete_request_gets_no_warnings(idp, browser):
    """The control: state, nonce and PKCE S256 leave nothing to warn about."""
    page, _ = login_page(browser, idp.url)
    assert "breaks a spec recommendation" not in page.text


# --- the interactive flow: persona, consent, decision -----------------------------------------


def choose_persona(browser: httpx2.Client, page: httpx2.Response, persona: str) -> httpx2.Response:
    form = {"csrf": hidden_field(page.text, "csrf"), "persona": persona}
    return browser.post(str(page.url), data=form)


def decide(browser: httpx2.Client, consent: httpx2.Response, decision: str) -> httpx2.Response:
    form = {
        "csrf": hidden_field(consent.text, "csrf"),
        "persona": hidden_field(consent.text, "persona"),
        "consent": decision,
    }
    return browser.post(str(consent.url), data=form)


def test_picking_a_persona_leads_to_consent(idp, browser):
    """After the person picks jiwoo, the consent page names the app, the person and each scope."""
    page, _ = login_page(browser, idp.url, scope="openid profile email")
    consent = choose_persona(browser, page, "jiwoo")
    assert consent.status_code == 200
    assert "<h1>Allow access?</h1>" in consent.text
    assert "Demo web app (confidential)" in consent.text
    assert "김지우" in consent.text
    assert "See your email address and whether it is verified" in consent.text


def test_allow_returns_a_code_the_app_can_redeem(idp, browser):
    """Allow sends the browser back with a code, the state and iss; the code buys a token for jiwoo."""
    verifier, challenge = pkce_pair()
    page, params = login_page(browser, idp.url, code_challenge=challenge)
    redirect = decide(browser, choose_persona(browser, page, "jiwoo"), "allow")

    assert redirect.status_code == 302
    assert without_query(redirect.headers["location"]) == REDIRECT_URI
    answer = query_of(redirect.headers["location"])
    assert answer["state"] == params["state"]
    assert answer["iss"] == idp.url
    token = httpx2.post(
        f"{idp.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=("demo-web", "demo-web-secret"),
    )
    assert token.status_code == 200
    assert "devidp_session" in browser.cookies


def test_deny_returns_access_denied(idp, browser):
    """Deny sends the browser back with error=access_denied and the state, and no code."""
    page, params = login_page(browser, idp.url)
    redirect = decide(browser, choose_persona(browser, page, "bob"), "deny")
    answer = query_of(redirect.headers["location"])
    assert answer["error"] == "access_denied"
    assert answer["state"] == params["state"]
    assert "code" not in answer


@pytest.mark.parametrize("tamper", ["no cookie", "no field", "other value"])
def test_form_posts_without_the_csrf_pair_are_refused(idp, browser, tamper):
    """A POST to /authorize needs the devidp_csrf cookie and the same value in the form."""
    page, _ = login_page(browser, idp.url)
    form = {"csrf": hidden_field(page.text, "csrf"), "persona": "alice", "consent": "allow"}
    if tamper == "no cookie":
        browser.cookies.clear()
    elif tamper == "no field":
        del form["csrf"]
    else:
        form["csrf"] = "forged"
    response = browser.post(str(page.url), data=form)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "<h1>Form expired</h1>" in response.text


def test_a_remembered_browser_goes_to_consent_and_prompt_login_asks_again(idp, browser):
    """The provider remembers who logged in; prompt=login makes it ask anyway (OIDC Core §3.1.2.1)."""
    page, _ = login_page(browser, idp.url)
    decide(browser, choose_persona(browser, page, "alice"), "allow")

    remembered, _ = login_page(browser, idp.url)
    assert "<h1>Allow access?</h1>" in remembered.text
    forced, _ = login_page(browser, idp.url, prompt="login")
    assert "<h1>Sign in</h1>" in forced.text


def test_prompt_select_account_offers_every_persona_to_a_remembered_browser(idp, browser):
    """Signed in as alice, prompt=select_account shows the persona list, alice marked (OIDC Core §3.1.2.1)."""
    page, _ = login_page(browser, idp.url)
    decide(browser, choose_persona(browser, page, "alice"), "allow")

    chooser, _ = login_page(browser, idp.url, prompt="select_account")
    assert "<h1>Choose an account</h1>" in chooser.text
    assert "signed in now · alice" in chooser.text
    for persona in PERSONAS:
        assert f'value="{persona.username}"' in chooser.text
    consent = choose_persona(browser, chooser, "bob")
    assert "<h1>Allow access?</h1>" in consent.text and "Bob Brown" in consent.text


def test_consent_offers_another_persona_and_the_code_is_for_the_one_chosen(idp, browser):
    """A second login goes to consent as alice; "Use another persona" leads to bob, and the code is bob's."""
    page, _ = login_page(browser, idp.url)
    decide(browser, choose_persona(browser, page, "alice"), "allow")
    verifier, challenge = pkce_pair()
    remembered, _ = login_page(browser, idp.url, code_challenge=challenge)
    assert "<h1>Allow access?</h1>" in remembered.text and "Alice Anderson" in remembered.text

    link = re.search(r'<a href="([^"]+)">Use another persona</a>', remembered.text)
    assert link, "no way to another persona on the consent page"
    chooser = browser.get(html.unescape(link.group(1)))
    assert "<h1>Choose an account</h1>" in chooser.text
    redirect = decide(browser, choose_persona(browser, chooser, "bob"), "allow")
    token = httpx2.post(
        f"{idp.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": query_of(redirect.headers["location"])["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=("demo-web", "demo-web-secret"),
    ).json()
    userinfo = httpx2.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.json()["sub"] == BY_USERNAME["bob"].sub


def test_prompt_none_without_a_session_is_login_required(idp, browser):
    """prompt=none from a browser nobody logged in with comes back as login_required."""
    page, params = login_page(browser, idp.url, prompt="none")
    assert page.status_code == 302
    answer = query_of(page.headers["location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == params["state"]


# --- requests the provider must not redirect ----------------------------------------------------


def test_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(idp):
    """An unregistered redirect_uri is a 400 page; nothing goes to that URI (RFC 6749 §4.1.2.1)."""
    params = authorization_params("demo-spa", redirect_uri="https://evil.example/callback")
    response = httpx2.get(f"{idp.url}/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "<h1>The app&#39;s login request is invalid</h1>" in response.text
    assert "invalid_request" in response.text


def test_unknown_client_gets_an_error_page(idp):
    """A client_id nobody registered is a 400 page, not a redirect."""
    response = httpx2.get(f"{idp.url}/authorize", params=authorization_params("nobody"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_client" in response.text


# --- never framed ----------------------------------------------------------------------------------

FRAME_DENY = {"content-security-policy": "frame-ancestors 'none'", "x-frame-options": "DENY"}


def framing_headers(response: httpx2.Response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in FRAME_DENY}


def test_login_and_consent_pages_refuse_to_be_framed(idp, browser):
    """A framed login or consent page invites a click from another page (RFC 6749 §10.13): both forbid it."""
    page, _ = login_page(browser, idp.url)
    consent = choose_persona(browser, page, "alice")
    assert "<h1>Allow access?</h1>" in consent.text
    assert framing_headers(page) == FRAME_DENY
    assert framing_headers(consent) == FRAME_DENY


@pytest.mark.parametrize(
    "path", ["/", "/.well-known/openid-configuration", "/jwks.json", "/log", "/avatars/alice.svg", "/device"]
)
def test_every_other_answer_refuses_to_be_framed_too(idp, path):
    """Pages, JSON and images alike carry the same two headers."""
    assert framing_headers(httpx2.get(f"{idp.url}{path}")) == FRAME_DENY


def test_error_pages_refuse_to_be_framed(idp):
    """An error page (unknown client) carries them too."""
    response = httpx2.get(f"{idp.url}/authorize", params=authorization_params("nobody"))
    assert response.status_code == 400
    assert framing_headers(response) == FRAME_DENY


async def test_the_loopback_guard_and_the_mounted_routes_refuse_to_be_framed(in_process_server):
    """The 403 for a LAN peer, and the routes mounted into a host app, carry them as well."""
    lan = httpx2.ASGITransport(app=devidp.create_app(in_process_server), client=("192.0.2.7", 1234))
    async with httpx2.AsyncClient(transport=lan, base_url="http://192.0.2.1:9000") as client:
        refused = await client.get("/authorize")
    assert refused.status_code == 403
    assert framing_headers(refused) == FRAME_DENY
    host = httpx2.ASGITransport(app=Starlette(routes=devidp.mount(in_process_server, "/idp")))
    async with httpx2.AsyncClient(transport=host, base_url="http://localhost") as app:
        for path in ("/idp/", "/.well-known/oauth-authorization-server/idp"):
            response = await app.get(path)
            assert response.status_code == 200
            assert framing_headers(response) == FRAME_DENY


# --- small pages -----------------------------------------------------------------------------------


def test_index_lists_personas_and_clients(idp):
    """The home page introduces the personas and the demo clients with their redirect URIs."""
    page = text_of(httpx2.get(f"{idp.url}/"))
    for persona in PERSONAS:
        assert persona.username in page
    for client in devidp.demo_clients():
        assert client.client_id in page
    assert REDIRECT_URI in page


def test_avatars_are_drawn_locally(idp):
    """Each persona has an SVG avatar; an unknown one is 404."""
    avatar = httpx2.get(f"{idp.url}/avatars/alice.svg")
    assert avatar.headers["content-type"] == "image/svg+xml"
    assert avatar.text.startswith("<svg")
    assert httpx2.get(f"{idp.url}/avatars/nobody.svg").status_code == 404


# --- loopback only ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/jwks.json"),
        ("GET", "/authorize?client_id=demo-web&login_hint=alice"),
        ("POST", "/token"),
        ("GET", "/log"),
        ("POST", "/faults"),
        ("POST", "/keys/rotate"),
    ],
)
async def test_non_loopback_peers_get_403(in_process_server, method, path):
    """A request from 192.0.2.7 is refused on every route, and changes nothing."""
    kids = [key["kid"] for key in in_process_server.keys.jwks()["keys"]]
    transport = httpx2.ASGITransport(app=devidp.create_app(in_process_server), client=("192.0.2.7", 1234))
    async with httpx2.AsyncClient(transport=transport, base_url="http://192.0.2.1:9000") as lan:
        response = await lan.request(
            method, path, json={"faults": ["wrong_aud"]} if method == "POST" else None
        )
    assert response.status_code == 403
    assert "only answers on loopback" in response.text
    assert in_process_server.faults.active() == frozenset()
    assert [key["kid"] for key in in_process_server.keys.jwks()["keys"]] == kids


async def test_loopback_peer_is_served(asgi):
    """The control: the same request from 127.0.0.1 is answered."""
    assert (await asgi.get("/.well-known/openid-configuration")).status_code == 200


async def test_allow_non_loopback_serves_other_peers():
    """allow_non_loopback=True lifts the guard, for a provider someone deliberately shares."""
    server = DevAuthorizationServer(ProviderConfig(allow_non_loopback=True))
    transport = httpx2.ASGITransport(app=devidp.create_app(server), client=("192.0.2.7", 1234))
    async with httpx2.AsyncClient(transport=transport, base_url="https://192.0.2.1:9000") as lan:
        assert (await lan.get("/.well-known/openid-configuration")).status_code == 200


async def test_beyond_loopback_plain_http_is_refused_in_words():
    """Shared beyond loopback over plain http, every route says to put TLS in front, never 500."""
    server = DevAuthorizationServer(ProviderConfig(allow_non_loopback=True))
    transport = httpx2.ASGITransport(app=devidp.create_app(server), client=("192.0.2.7", 1234))
    async with httpx2.AsyncClient(transport=transport, base_url="http://192.0.2.1:9000") as lan:
        for response in (await lan.get("/authorize"), await lan.post("/token", data={"grant_type": "x"})):
            assert response.status_code == 400
            assert "must be served over https" in response.text


def test_beyond_loopback_a_forwarded_https_is_not_believed():
    """Over a real socket, X-Forwarded-Proto: https from 127.0.0.1 does not stand in for TLS:
    the provider judges the connection it has, plain http, addressed beyond loopback."""
    with devidp.serve(ProviderConfig(allow_non_loopback=True)) as provider:
        url = f"{provider.url}/.well-known/openid-configuration"
        for forwarded in ({}, {"x-forwarded-proto": "https"}, {"x-forwarded-for": "203.0.113.9"}):
            response = httpx2.get(url, headers={"host": "192.0.2.1", **forwarded})
            assert response.status_code == 400 and "must be served over https" in response.text


# --- what a request may cost ------------------------------------------------------------------


async def drive(
    app: Starlette,
    path: str,
    chunks: list[bytes],
    *,
    client: str = "127.0.0.1",
    headers: dict[str, str],
    method: str = "POST",
    query: bytes = b"",
) -> tuple[int, int]:
    """Send ``chunks`` to ``app`` over raw ASGI from ``client`` (no client library bounds the URL
    or the body): (status, body bytes the app pulled)."""
    pulled = 0
    sent: list[dict] = []
    pending = list(chunks)

    async def receive() -> dict:
        nonlocal pulled
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (client, 1234),
        "server": ("127.0.0.1", 9000),
    }
    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start"), pulled


FORM = "application/x-www-form-urlencoded"
MEBIBYTE_OF_FIELDS = [b"a=" + b"x" * 65_534 + b"&" for _ in range(16)]  # 1 MiB in 64 KiB chunks


async def test_non_loopback_peer_is_refused_before_its_body_is_read():
    """From 192.0.2.7, a 1 MiB form is refused with 403 before one byte of it is read."""
    app = devidp.create_app(DevAuthorizationServer(ProviderConfig()))
    status, pulled = await drive(
        app, "/token", MEBIBYTE_OF_FIELDS, client="192.0.2.7", headers={"content-type": FORM}
    )
    assert (status, pulled) == (403, 0)


@pytest.mark.parametrize("declared", [True, False])
async def test_a_form_over_the_endpoints_limit_is_refused_unread(declared):
    """A 1 MiB form to /token is 413, read at most one chunk past the limit (none if it says its size)."""
    app = devidp.create_app(DevAuthorizationServer(ProviderConfig()))
    headers = {"content-type": FORM} | ({"content-length": str(1 << 20)} if declared else {})
    status, pulled = await drive(app, "/token", MEBIBYTE_OF_FIELDS, headers=headers)
    assert status == 413
    assert pulled == 0 if declared else pulled <= 16_384 + 65_536


async def test_a_json_body_over_the_limit_is_refused_unread():
    """POST /faults with 1 MiB of JSON is 413, and switches nothing on."""
    server = DevAuthorizationServer(ProviderConfig())
    app = devidp.create_app(server)
    body = [b'{"faults": ["wrong_aud"' + b" " * 65_000] + [b" " * 65_536] * 15 + [b"]}"]
    status, pulled = await drive(app, "/faults", body, headers={"content-type": "application/json"})
    assert status == 413 and pulled <= 16_384 + 65_536
    assert server.faults.active() == frozenset()


async def test_a_login_form_fits_under_the_limits(asgi):
    """The largest token the provider issues (longname's ID token) still fits a logout form."""
    too_long = {"id_token_hint": "x" * 2_200, "post_logout_redirect_uri": REDIRECT_URI, "state": "s" * 64}
    assert (await asgi.post("/logout", data=too_long)).status_code != 413


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_the_journal_keeps_a_bounded_entry_for_a_huge_request(method):
    """A request with 1,000 long parameters (query or form) costs the journal a few KB at most."""
    server = DevAuthorizationServer(ProviderConfig())
    app = devidp.create_app(server)
    fields = "&".join(f"p{n}={'v' * 1_000}" for n in range(1_000)) + f"&state={'s' * 5_000}"
    if method == "GET":
        await drive(app, "/authorize", [b""], headers={}, method="GET", query=fields.encode())
    else:  # as much as the endpoint reads
        await drive(app, "/authorize", [fields.encode()[:16_384]], headers={"content-type": FORM})
    entry = server.journal.entries()[-1]
    assert entry.path == "/authorize"
    assert len(json.dumps(entry.as_dict())) < 12_288
