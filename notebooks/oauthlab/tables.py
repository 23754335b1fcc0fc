"""Tokens and parameters as tables: claims with what they mean, a JWT's three parts, a URL's
query, an ID token's validation report. Meanings and readable times come from the dashboard
(``dashboard.claims``), so a notebook and the app explain a claim in the same words."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from streamlit_authlib_login._core.trace import mask
from streamlit_authlib_login._core.validation import ValidationReport, check_id_token
from dashboard.claims import HEADER_MEANINGS, MEANINGS, claim_rows, meanings_for
from dashboard.inspector import decode

from .masking import masked

# The meanings are sentences; pandas would cut every cell at 50 characters.
pd.set_option("display.max_colwidth", 100)

# Random values a reader only needs to recognise, not read in full.
RANDOM_CLAIMS = frozenset({"nonce", "at_hash", "jti", "sid"})


def _shown(name: str, value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, str) and name in RANDOM_CLAIMS and len(value) > 24:
        return mask(value)
    return str(value)


def _claims(
    claims: Mapping[str, object], now: int | None, meanings: Mapping[str, tuple[str, str]] = MEANINGS
) -> list[dict[str, str]]:
    now = int(time.time()) if now is None else now
    return [
        {
            "name": row.claim,
            # A NumericDate is a moment: say which, and how far from when the cell ran.
            "value": _shown(row.claim, claims[row.claim]) + (f" = {row.when}" if row.when else ""),
            "meaning": row.meaning,
        }
        for row in claim_rows(claims, now, meanings)
    ]


def claims_table(claims: Mapping[str, object], *, now: int | None = None) -> pd.DataFrame:
    """Claims as a table: name, value (times made readable), what it means."""
    frame = pd.DataFrame(_claims(claims, now), columns=["name", "value", "meaning"])
    return frame.set_index("name").rename_axis("claim")


def params_table(url_or_params: str | Mapping[str, str]) -> pd.DataFrame:
    """The query parameters of a URL (or a dict of parameters) as a table, tokens masked."""
    params = (
        dict(parse_qsl(urlsplit(url_or_params).query)) if isinstance(url_or_params, str) else url_or_params
    )
    rows = [{"parameter": k, "value": v} for k, v in masked(params).items()]
    return pd.DataFrame(rows, columns=["parameter", "value"]).set_index("parameter")


def decode_jwt(token: str) -> tuple[dict[str, object], dict[str, object]]:
    """A JWT's header and claims, read WITHOUT checking anything: for looking, never for trusting."""
    decoded = decode(token)
    return decoded.header, decoded.claims


def jwt_table(token: str, *, now: int | None = None) -> pd.DataFrame:
    """A JWT laid out: header fields, payload claims, and the signature (masked)."""
    decoded = decode(token)
    signature = decoded.parts[2]
    size = len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    rows = [
        *(
            {"part": "header", "name": k, "value": _shown(k, v), "meaning": HEADER_MEANINGS.get(k, "")}
            for k, v in decoded.header.items()
        ),
        # An RFC 9068 access token (`typ` at+jwt) is for an API: its claims mean what that RFC says.
        *({"part": "payload", **row} for row in _claims(decoded.claims, now, meanings_for(decoded.header))),
        {
            "part": "signature",
            "name": "",
            "value": f"{mask(signature)}  ({size} bytes)",
            "meaning": f"{decoded.header.get('alg')} over base64url(header).base64url(payload)",
        },
    ]
    return pd.DataFrame(rows).set_index(["part", "name"])


# The project's own checks, returning the report whether the token passes or not.
validation_report = check_id_token


def report_table(report: ValidationReport) -> pd.DataFrame:
    """The report's checks, one a row: passed or not, expected vs actual, and the spec section."""
    rows = [
        {
            "check": c.name,
            "ok": "✓" if c.passed else "✗",
            "expected": c.expected,
            "actual": _shown(c.name, c.actual) if c.name in RANDOM_CLAIMS else c.actual,
            "spec": c.spec,
        }
        for c in report.checks
    ]
    return pd.DataFrame(rows).set_index("check")
