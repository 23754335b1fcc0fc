"""A trace exported for a bug report carries no usable token: secrets masked, signatures gone."""

import json

from dashboard.trace_export import to_json, to_markdown
from streamlit_authlib_login._core.trace import Trace

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"
TRACE = Trace.from_dict({
    "state": "st4te",
    "code_fingerprint": "abcd1234",
    "steps": [
        {"kind": "redirect", "title": "Authorization request", "at": 0, "url": "https://idp/authorize?state=st4te"},
        {"kind": "check", "title": "state matched", "at": 0, "passed": True, "detail": "RFC 9700 §4.7.1"},
        {
            "kind": "http", "title": "Token request", "at": 0, "method": "POST", "url": "https://idp/token",
            "status": 200, "duration_ms": 3.1,
            "response_body": {"id_token": JWT, "nested": [f"Bearer {JWT}"]},
        },
    ],
})  # fmt: skip


def test_json_export_removes_every_jwt_signature():
    """Header and claims stay readable; the signature is gone wherever the JWT appears."""
    exported = to_json(TRACE)
    assert "c2lnbmF0dXJlLWJ5dGVz" not in exported
    data = json.loads(exported)
    assert data["steps"][2]["response_body"]["id_token"] == (
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.<signature removed>"
    )
    assert data["steps"][2]["response_body"]["nested"][0].endswith("<signature removed>")


def test_markdown_export_reads_as_numbered_steps():
    """Each step is a heading with its outcome; bodies are fenced JSON without signatures."""
    text = to_markdown(TRACE, provider="dev")
    assert text.startswith("# Login trace (dev)")
    assert "## 2. state matched — passed" in text
    assert "## 3. Token request — `POST https://idp/token` → 200 (3.1 ms)" in text
    assert "c2lnbmF0dXJlLWJ5dGVz" not in text


SENT = {
    "code": "abc123…wxyz",
    "state": "st4te",
    "error_description": "```\n# Pwned [click](https://evil.example)",
}


def _callback(detail: str) -> Trace:
    return Trace.from_dict({"steps": [{"kind": "callback", "title": "Callback", "at": 0, "detail": detail}]})


def test_markdown_export_fences_the_callback_parameters_as_json():
    """The callback's parameters (whoever sent the browser there chose them) are a fenced JSON
    block that parses back to what was sent, not a Python dict's repr; a backtick run inside
    cannot close the fence, so nothing in them becomes a heading or a link (issue 26)."""
    text = to_markdown(_callback(json.dumps(SENT)), provider="dev")
    assert "{'code'" not in text
    fence = "````"  # one longer than the ``` inside the value
    assert f"Callback parameters:\n{fence}json\n" in text
    block = text.split(f"{fence}json\n", 1)[1].split(f"\n{fence}\n", 1)[0]
    assert json.loads(block) == SENT


def test_an_older_records_callback_text_is_fenced_too():
    """A trace stored before the parameters were JSON keeps its text, inside a fence all the same."""
    text = to_markdown(_callback(str(SENT)), provider="dev")
    assert "````text\n{'code': 'abc123…wxyz'" in text
