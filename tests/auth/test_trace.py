"""The login trace: every exchange of a login, timed, joinable with the provider's journal, secrets masked."""

from __future__ import annotations

import base64
import json

from login_harness import DEV_CLIENT_SECRET, BuildApp, LoginApp, query_of
from starlette.datastructures import Headers

from devidp import DevAuthorizationServer, embed
from streamlit_authlib_login._core.trace import (
    fingerprint,
    mask,
    masked_body,
    masked_headers,
    masked_params,
    masked_url,
    shown_params,
)
from streamlit_authlib_login._devmode import LocalProviders

TOKEN = "eyJhbGciOiJSUzI1NiJ9.payload-of-a-long-token.signature-part"


def test_tokens_are_shown_as_prefix_and_suffix() -> None:
    """A token becomes prefix…suffix: recognisable, not usable."""
    assert mask(TOKEN) == "eyJhbG…part"
    assert mask("short") == "short"


def test_parameters_mask_secrets_fully_and_tokens_partly() -> None:
    """client_secret is hidden entirely; codes and tokens keep only their ends, nested ones too."""
    masked = masked_params(
        {"client_secret": "s3cret", "code": TOKEN, "state": "st", "nested": {"refresh_token": TOKEN}}
    )
    assert masked == {
        "client_secret": "••••••",
        "code": "eyJhbG…part",
        "state": "st",
        "nested": {"refresh_token": "eyJhbG…part"},
    }


def test_urls_and_bodies_are_masked() -> None:
    """Query strings, form bodies and JSON bodies all go through the same masking."""
    assert TOKEN not in masked_url(f"https://op/cb?code={TOKEN}&state=s")
    form = masked_body(
        f"grant_type=x&client_secret=abc&code_verifier={TOKEN}".encode(), "application/x-www-form-urlencoded"
    )
    assert form == {"grant_type": "x", "client_secret": "••••••", "code_verifier": "eyJhbG…part"}
    body = masked_body(json.dumps({"access_token": TOKEN, "expires_in": 3600}).encode(), "application/json")
    assert body == {"access_token": "eyJhbG…part", "expires_in": 3600}


def test_credentials_in_headers_are_masked() -> None:
    """Bearer tokens keep their ends; Basic credentials (the client secret) and cookies show nothing."""
    basic = base64.b64encode(b"client:" + DEV_CLIENT_SECRET.encode()).decode()
    headers = masked_headers(
        Headers({"authorization": f"Basic {basic}", "cookie": "a=b", "accept": "application/json"})  # type: ignore[arg-type]
    )
    assert basic[:6] not in headers["authorization"] and basic[-4:] not in headers["authorization"]
    assert headers["authorization"].startswith("Basic ")
    assert headers["cookie"] != "a=b"
    assert headers["accept"] == "application/json"
    bearer = masked_headers(Headers({"authorization": f"Bearer {TOKEN}"}))  # type: ignore[arg-type]
    assert bearer["authorization"] == "Bearer eyJhbG…part"


async def test_login_trace_holds_every_exchange_and_check(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """A first login's trace has redirect, callback, discovery, JWKS, token, userinfo and check steps."""
    app = build_app(idp)
    browser = app.browser()
    session_id = await app.logged_in(browser)
    session = app.auth.sessions.load(session_id)
    assert session is not None
    steps = session.trace.steps
    titles = [s.title for s in steps]
    for title in (
        "Discovery document",
        "Provider's signing keys (JWKS)",
        "Token request",
        "Userinfo / profile",
    ):
        assert title in titles
    kinds = [s.kind for s in steps]
    assert kinds[:2] == ["http", "redirect"]  # discovery, then the browser is sent to the provider
    assert "callback" in kinds
    http = [s for s in steps if s.kind == "http"]
    assert all(s.duration_ms is not None and s.status == 200 for s in http)
    checks = {s.title: s for s in steps if s.kind == "check"}
    assert checks["state matched, in the browser that started the login"].passed is True
    assert checks["iss in the callback is the provider's issuer"].passed is True
    pkce = checks["PKCE verifier checked by the provider"]
    assert pkce.passed is True and pkce.by == "provider" and "RFC 7636 §4.6" in pkce.detail
    assert titles.index("Token request") < titles.index("PKCE verifier checked by the provider")
    assert all(s.by == "app" for s in checks.values() if s is not pkce)
    assert not any("`" in s.title for s in steps)  # titles are plain text: the diagram shows them as is
    validated = checks["ID token validated (OIDC Core §3.1.3.7)"]
    assert validated.passed is True and "nonce matched" in validated.detail
    # The callback's parameters as JSON, the code masked: what the trace page and its export show.
    sent = json.loads(next(s for s in steps if s.kind == "callback").detail)
    assert set(sent) >= {"code", "state", "iss"} and "…" in sent["code"]


def test_the_callbacks_parameters_are_kept_as_valid_json_however_many_were_sent() -> None:
    """Whoever sends the browser to the callback chooses its query: a long value is cut and the
    parameters past the limit are counted, and what is kept still parses as JSON, masked."""
    few = shown_params({"code": TOKEN, "state": "st", "ok": "yes"}, 500)
    assert json.loads(few) == {"code": "eyJhbG…part", "state": "st", "ok": "yes"}
    many = shown_params({"code": TOKEN, "long": "x" * 1000, **{f"p{i}": "v" * 20 for i in range(300)}}, 500)
    kept = json.loads(many)
    assert len(many) < 600 and kept["code"] == "eyJhbG…part"
    assert kept["long"] == "x" * 125 + "…"
    assert kept["…"].endswith("more parameter(s) left out") and int(kept["…"].split()[0]) > 280


async def test_trace_masks_the_client_secret_and_the_tokens(login_app: LoginApp) -> None:
    """The stored trace never holds the client secret or a whole token, only their masked forms."""
    browser = login_app.browser()
    session = login_app.auth.sessions.load(await login_app.logged_in(browser))
    assert session is not None
    text = json.dumps(session.trace.as_dict(), ensure_ascii=False)
    basic = base64.b64encode(f"streamlit-app:{DEV_CLIENT_SECRET}".encode()).decode()
    assert DEV_CLIENT_SECRET not in text and basic not in text and basic[-4:] not in text
    for token in (session.tokens.access_token, session.tokens.refresh_token, session.tokens.id_token):
        assert token and token not in text
    assert mask(session.tokens.access_token) in text
    token_step = next(s for s in session.trace.steps if s.title == "Token request")
    assert token_step.request_body["code_verifier"].count("…") == 1  # type: ignore[index]
    assert token_step.response_body["refresh_token"] == mask(session.tokens.refresh_token)  # type: ignore[index, arg-type]


async def test_trace_joins_the_providers_journal_by_code_fingerprint(login_app: LoginApp) -> None:
    """The trace's code_fingerprint finds the provider's authorize and token entries for the same code."""
    browser = login_app.browser()
    callback = await login_app.authorize(browser, await login_app.start(browser))
    code, state = query_of(callback)["code"], query_of(callback)["state"]
    await browser.get(callback)
    session = login_app.auth.sessions.load(browser.cookies["auth_session"])
    assert session is not None
    assert session.trace.code_fingerprint == fingerprint(code)
    assert session.trace.state == state
    entries = login_app.idp.journal.entries(code_fingerprint=str(session.trace.code_fingerprint))
    assert {e.path for e in entries} == {"/idp/authorize", "/idp/token"}
    assert login_app.idp.journal.entries(state=state)


async def test_development_mode_reads_the_providers_log_of_a_login(login_app: LoginApp) -> None:
    """What the trace page joins: the provider's entries for one login, by code fingerprint or by
    ``state``, each entry once."""
    local = LocalProviders(embed("/idp", server=login_app.idp))
    browser = login_app.browser()
    await login_app.logged_in(browser)
    trace = login_app.auth.sessions.load(browser.cookies["auth_session"]).trace  # type: ignore[union-attr]
    by_code = local.journal(state=None, code_fingerprint=trace.code_fingerprint)
    assert {e["path"] for e in by_code} == {"/idp/authorize", "/idp/token"}
    both = local.journal(state=trace.state, code_fingerprint=trace.code_fingerprint)
    assert len({e["id"] for e in both}) == len(both) >= len(by_code)
    assert local.journal(state=None, code_fingerprint=None) == []


async def test_development_mode_switches_the_providers_faults(login_app: LoginApp) -> None:
    """The fault switches, set and read through development mode, are the provider's own."""
    local = LocalProviders(embed("/idp", server=login_app.idp))
    try:
        local.set_faults({"bad_signature"})
        assert local.faults_on() == login_app.idp.faults.active() == {"bad_signature"}
    finally:
        local.set_faults(set())
    assert local.faults_on() == frozenset()
    assert local.mount_path == "/idp/"


async def test_failed_login_keeps_a_masked_trace_in_its_record(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """A refused login's failure record has the trace up to the refusal, with nothing secret in it."""
    app = build_app(idp)
    await app.set_faults("wrong_aud")
    browser = app.browser()
    response = await app.login(browser)
    record = app.refusal(response.headers["location"], browser)
    assert record is not None
    text = json.dumps(record, ensure_ascii=False)
    assert DEV_CLIENT_SECRET not in text
    titles = [s["title"] for s in record["trace"]["steps"]]  # type: ignore[index]
    assert "Token request" in titles
    token_step = next(s for s in record["trace"]["steps"] if s["title"] == "Token request")  # type: ignore[index]
    for key in ("access_token", "id_token", "refresh_token"):
        value = token_step["response_body"][key]
        assert "…" in value and len(value) < 20
    assert idp.journal.entries(code_fingerprint=record["trace"]["code_fingerprint"])  # type: ignore[index]
