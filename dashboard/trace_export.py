"""Export a login trace for a bug report: secrets masked, JWT signatures removed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

# A compact JWS: three base64url parts. Keep header and payload (they are what a
# bug report needs), drop the signature so the token can never be replayed.
_JWT = re.compile(r"\b(eyJ[\w-]+)\.(eyJ[\w-]*)\.([\w-]+)")


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return _JWT.sub(r"\1.\2.<signature removed>", value)
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def to_json(trace: Mapping[str, object]) -> str:
    return json.dumps(_scrub(trace), indent=2, ensure_ascii=False)


def to_markdown(trace: Mapping[str, object], *, provider: str) -> str:
    lines = [
        f"# Login trace ({provider})",
        "",
        f"- state: `{trace.get('state')}`",
        f"- code fingerprint: `{trace.get('code_fingerprint')}`",
        "",
    ]
    steps = trace.get("steps", [])
    for number, step in enumerate(steps if isinstance(steps, list) else [], 1):
        step = _scrub(step)
        assert isinstance(step, Mapping)
        head = f"## {number}. {step.get('title')}"
        if step.get("kind") == "http":
            exchange = f"{step.get('method')} {step.get('url')}"
            head += f" — `{exchange}` → {step.get('status')} ({step.get('duration_ms')} ms)"
        elif step.get("kind") == "check":
            head += " — passed" if step.get("passed") else " — FAILED"
        lines += [head, ""]
        if step.get("detail"):
            lines += [str(step.get("detail")), ""]
        if step.get("url") and step.get("kind") != "http":
            lines += [f"`{step.get('url')}`", ""]
        for label, key in (("Request body", "request_body"), ("Response body", "response_body")):
            if step.get(key):
                lines += [
                    f"{label}:",
                    "```json",
                    json.dumps(step.get(key), indent=2, ensure_ascii=False),
                    "```",
                    "",
                ]
    return "\n".join(lines)
