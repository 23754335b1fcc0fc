"""An ID token's validation report as rows for people: each check's moments as dates, not only
the NumericDate (RFC 7519 §2) the check compared."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from streamlit_authlib_login.teaching import ValidationReport

from .claims import relative

# The checks of OIDC Core §3.1.3.7 that compare times: exp (9), iat (10), auth_time (13).
TIME_CHECKS = frozenset({"exp", "iat", "auth_time"})
# A NumericDate as the report writes one: seconds since 1970, 9 to 11 digits (1973 to 5138).
_SECONDS = re.compile(r"(?<![\d.])\d{9,11}(?![\d.])")


@dataclass(frozen=True)
class ReportRow:
    name: str
    passed: bool
    expected: str
    actual: str
    spec: str
    message: str


def _moment(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _dated(text: str, now: int | None) -> str:
    """Each NumericDate in ``text`` followed by its date; with ``now``, how far from it too."""

    def date(match: re.Match[str]) -> str:
        seconds = int(match.group())
        far = f" ({relative(seconds - now)})" if now is not None else ""
        return f"{seconds} = {_moment(seconds)}{far}"

    return _SECONDS.sub(date, text)


def report_rows(report: ValidationReport, now: int) -> list[ReportRow]:
    """One row a check. In a time check the token's value gets its date and how far it is from
    ``now`` ("1 h ago"); the check's own moment, in ``expected``, gets its date."""
    rows = []
    for check in report.checks:
        expected, actual = check.expected, check.actual
        if check.name in TIME_CHECKS:
            expected, actual = _dated(expected, None), _dated(actual, now)
        rows.append(ReportRow(check.name, check.passed, expected, actual, check.spec, check.message))
    return rows
