"""The provider's request log at /log: one login's entries join by state and by code
fingerprint, secrets stay out, spec warnings go in (devidp/journal.py)."""

from __future__ import annotations

import hashlib

import httpx2
import pytest
from relying_party import LOGGED_OUT_URI, authorization_params, hidden_field, sign_in

from devidp.journal import fingerprint, mask


def journal(idp_url: str, **filters: str | int) -> list[dict]:
    """The journal's entries, leaving out the reads of the journal itself."""
    response = httpx2.get(f"{idp_url}/log", params=filters)
    assert response.status_code == 200
    return [entry for entry in response.json()["entries"] if entry["path"] != "/log"]


def last_id(idp_url: str) -> int:
    entries = httpx2.get(f"{idp_url}/log").json()["entries"]
    return entries[-1]["id"] if entries else 0


def test_fingerprint_is_a_sha256_prefix():
    """A code's fingerprint is the first 16 hex digits of its SHA-256: joinable, not replayable."""
    code = "p1C8-some-authorization-code"
    assert fingerprint(code) == hashlib.sha256(code.encode()).hexdigest()[:16]


def test_mask_keeps_enough_to_recognise_a_token():
    """Long values keep six characters in front and four behind; short ones are left alone."""
    assert mask("abcdefghijklmnopqrstuvwxyz") == "abcdef…wxyz"
    assert mask("short") == "short"


def test_one_login_joins_by_state_and_by_code_fingerprint(idp, rp):
    """The authorization entry carries the state; it and the token entry carry the code's fingerprint."""
    login = sign_in(idp.url, rp("demo-web"))
    state = login.authorization.state
    code_fingerprint = hashlib.sha256(login.authorization.code.encode()).hexdigest()[:16]

    by_state = journal(idp.url, state=state)
    assert [(e["method"], e["path"], e["status"]) for e in by_state] == [("GET", "/authorize", 302)]
    assert by_state[0]["client_id"] == "demo-web"
    assert by_state[0]["location"] == "http://127.0.0.1:8765/callback"

    by_code = journal(idp.url, code_fingerprint=code_fingerprint)
    assert [(e["path"], e["status"]) for e in by_code] == [("/authorize", 302), ("/token", 200)]
    assert by_code[0]["id"] == by_state[0]["id"]


def test_an_interactive_login_is_one_story_by_state(idp, browser):
    """Login page, persona, consent: every step of one login shares its state, the last holds the code."""
    params = authorization_params("demo-web", login_hint=None)
    page = browser.get(f"{idp.url}/authorize", params=params)
    csrf = hidden_field(page.text, "csrf")
    browser.post(str(page.url), data={"csrf": csrf, "persona": "bob"})
    redirect = browser.post(str(page.url), data={"csrf": csrf, "persona": "bob", "consent": "allow"})
    code = httpx2.URL(redirect.headers["location"]).params["code"]

    story = journal(idp.url, state=params["state"])
    assert [(e["method"], e["status"]) for e in story] == [("GET", 200), ("POST", 200), ("POST", 302)]
    assert [e["code_fingerprint"] for e in story] == [None, None, fingerprint(code)]


def test_secrets_and_tokens_never_reach_the_journal(idp, rp):
    """Client secrets are blotted out; codes, verifiers and tokens appear only masked."""
    since = last_id(idp.url)
    app = rp("demo-web", token_endpoint_auth_method="client_secret_post")
    login = sign_in(idp.url, app)
    app.refresh_token(f"{idp.url}/token")

    raw = httpx2.get(f"{idp.url}/log", params={"since": since}).text
    for secret in (
        "demo-web-secret",
        login.authorization.code,
        login.authorization.verifier,
        login.token["refresh_token"],
    ):
        assert secret not in raw
    token_entry = journal(idp.url, since=since, code_fingerprint=fingerprint(login.authorization.code))[-1]
    assert token_entry["params"]["client_secret"] == "••••••"
    assert token_entry["params"]["code"] == mask(login.authorization.code)
    assert token_entry["params"]["code_verifier"] == mask(login.authorization.verifier)


def test_request_without_state_and_nonce_is_journaled_with_warnings(idp):
    """The journal keeps the spec warnings of an authorization request."""
    since = last_id(idp.url)
    httpx2.get(f"{idp.url}/authorize", params=authorization_params("demo-web", state=None, nonce=None))
    [entry] = journal(idp.url, since=since)
    assert entry["path"] == "/authorize"
    assert entry["state"] is None
    assert [w.split(":")[0] for w in entry["warnings"]] == ["No `state`", "No `nonce`"]


def test_logout_without_id_token_hint_is_journaled_with_a_warning(idp):
    """A logout the provider cannot attribute is flagged in the journal."""
    since = last_id(idp.url)
    httpx2.get(
        f"{idp.url}/logout", params={"client_id": "demo-web", "post_logout_redirect_uri": LOGGED_OUT_URI}
    )
    [entry] = journal(idp.url, since=since)
    assert entry["path"] == "/logout"
    assert len(entry["warnings"]) == 1
    assert entry["warnings"][0].startswith("Logout without `id_token_hint`")


def test_since_returns_only_newer_entries(idp):
    """?since=<id> lets a poller fetch just what happened after it last looked."""
    since = last_id(idp.url)
    httpx2.get(f"{idp.url}/jwks.json")
    httpx2.get(f"{idp.url}/.well-known/openid-configuration")
    entries = journal(idp.url, since=since)
    assert [e["path"] for e in entries] == ["/jwks.json", "/.well-known/openid-configuration"]
    assert since < entries[0]["id"] < entries[1]["id"]


@pytest.mark.parametrize("since", ["abc", "²", "٣", "9" * 5000])
def test_a_malformed_since_reads_the_whole_log_instead_of_failing(idp, since):
    """`since` that is not ASCII digits is ignored, not a 500 ("²" is a digit to str.isdigit, not to int)."""
    response = httpx2.get(f"{idp.url}/log", params={"since": since})
    assert response.status_code == 200
    assert isinstance(response.json()["entries"], list)
