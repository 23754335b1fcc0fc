"""Export a login trace for a bug report: secrets masked, JWT signatures removed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from streamlit_authlib_login.teaching import Trace

from .steps import callback_parameters

# A compact JWS: three base64url parts. Keep header and payload (they are what a
# bug report needs), drop the signature so the token can never be replayed.
_JWT = re.compile(r"\b(eyJ[\w-]+)\.(eyJ[\w-]*)\.([\w-]+)")
_BACKTICKS = re.compile(r"`+")


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return _JWT.sub(r"\1.\2.<signature removed>", value)
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def to_json(trace: Trace) -> str:
    return json.dumps(_scrub(trace.as_dict()), indent=2, ensure_ascii=False)


def to_markdown(trace: Trace, *, provider: str) -> str:
    lines = [
        f"# Login trace ({provider})",
        "",
        f"- state: `{trace.state}`",
        f"- code fingerprint: `{trace.code_fingerprint}`",
        "",
    ]
    for number, step in enumerate(trace.steps, 1):
        head = f"## {number}. {step.title}"
        if step.kind == "http":
            exchange = f"{step.method} {_scrub(step.url)}"
            head += f" — `{exchange}` → {step.status} ({step.duration_ms} ms)"
        elif step.kind == "check":
            head += " — passed" if step.passed else " — FAILED"
        lines += [head, ""]
        if (sent := callback_parameters(step)) is not None:
            lines += [
                "Callback parameters:",
                *_fenced(json.dumps(_scrub(sent), indent=2, ensure_ascii=False), "json"),
            ]
        elif step.kind == "callback" and step.detail:  # an older record: its text, fenced all the same
            lines += _fenced(str(_scrub(step.detail)), "text")
        elif step.detail:
            lines += [str(_scrub(step.detail)), ""]
        if step.url and step.kind != "http":
            lines += [f"`{_scrub(step.url)}`", ""]
        for label, body in (("Request body", step.request_body), ("Response body", step.response_body)):
            if body:
                lines += [
                    f"{label}:",
                    *_fenced(json.dumps(_scrub(body), indent=2, ensure_ascii=False), "json"),
                ]
    return "\n".join(lines)


def _fenced(text: str, language: str) -> list[str]:
    """``text`` in a code fence no backtick run inside it can close (CommonMark §4.5): the
    callback's values are whoever sent the browser there's, and must not become markup."""
    fence = "`" * max(3, max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    return [fence + language, text, fence, ""]
