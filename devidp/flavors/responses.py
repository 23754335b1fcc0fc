"""The small HTTP pieces flavours answer with: JSON, the form_post page, header edits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape

from ..server import HttpResponse

NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def json_response(body: object, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(
        status=status,
        body=json.dumps(body, ensure_ascii=False),
        headers=[("Content-Type", "application/json; charset=utf-8"), *headers],
    )


def with_authorization(headers: Mapping[str, str], value: str | None) -> dict[str, str]:
    """``headers`` with the Authorization header replaced (or dropped when ``value`` is None)."""
    out = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    if value is not None:
        out["Authorization"] = value
    return out


def form_post_page(action: str, fields: Mapping[str, str]) -> str:
    """OAuth 2.0 Form Post Response Mode §2: a page that POSTs the response to the redirect URI."""
    inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Submit This Form</title></head>'
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{escape(action)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form></body></html>'
    )
