"""Widgets the pages share. The only module of ``dashboard`` that imports Streamlit."""

from __future__ import annotations

import time
from base64 import b64encode
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd
import streamlit as st

from streamlit_authlib_login.teaching import Step, Trace, ValidationReport, mask

from . import untrusted
from .claims import HEADER_MEANINGS, MEANINGS, claim_rows, spec_label
from .playground import ParameterRow
from .report import report_rows
from .sequence import LOGIN_CLICKED, as_image, sequence_svg
from .steps import callback_parameters, explain
from .timeline import describe, moments, timeline_svg


def masked_token(label: str, value: str | None, *, key: str) -> bool:
    """A token shown as prefix…suffix, with an explicit toggle to reveal it. Returns revealed."""
    if not value:
        st.markdown(f"**{label}:** none")
        return False
    revealed = st.toggle(
        f"Reveal the {label.lower()}", key=key, help="Tokens are secrets: reveal only on your own screen."
    )
    st.markdown(f"**{label}** ({len(value)} characters)")
    st.code(value if revealed else mask(value), language=None, wrap_lines=True)
    return revealed


def colored_jwt(token: str, *, reveal_signature: bool) -> None:
    """A JWT with its three parts coloured, like jwt.io; the signature masked unless revealed."""
    header, payload, signature = [*token.split("."), "", ""][:3]
    shown_signature = signature if reveal_signature else mask(signature)
    st.html(
        '<div style="font-family:monospace;word-break:break-all;line-height:1.5;'
        'padding:.75rem;border:1px solid rgba(128,128,128,.35);border-radius:.5rem">'
        f'<span style="color:#dc2626">{escape(header)}</span>.'
        f'<span style="color:#9333ea">{escape(payload)}</span>.'
        f'<span style="color:#0284c7">{escape(shown_signature)}</span></div>'
        '<div style="font-size:.85rem;opacity:.8;margin-top:.3rem">'
        '<span style="color:#dc2626">■ header</span> · '
        '<span style="color:#9333ea">■ payload (claims)</span> · '
        '<span style="color:#0284c7">■ signature</span></div>'
    )


# A key id or a hash has no space to break at: without this it widens its column past the page.
_TABLE_CSS = "<style>[data-testid=stTable] td{overflow-wrap:anywhere}</style>"


def _table(rows: list[dict[str, str]], *, alt: str) -> None:
    """A whole table, every cell wrapped, nothing cut off or scrolled inside (``st.table``).
    Cells are markdown: every value from a token or a provider goes through ``untrusted``."""
    st.html(_TABLE_CSS)
    st.table(pd.DataFrame(rows), hide_index=True, alt=alt)


def _spec_link(url: str) -> str:
    return f"[{spec_label(url)}]({url})" if url else ""


def header_table(header: Mapping[str, object]) -> None:
    rows = [
        {"parameter": untrusted.code(k), "value": untrusted.code(v), "meaning": HEADER_MEANINGS.get(k, "")}
        for k, v in header.items()
    ]
    _table(rows, alt="JWT header")


def claims_table(
    claims: Mapping[str, object],
    *,
    now: int | None = None,
    meanings: Mapping[str, tuple[str, str]] = MEANINGS,
) -> None:
    """Each claim with what it means (an ID token's meanings unless ``meanings`` says otherwise)."""
    now = int(time.time()) if now is None else now
    rows = [
        {
            "claim": untrusted.code(row.claim),
            "value": untrusted.text(row.value),
            "what it means": untrusted.text(row.meaning),
            "as a time": row.when,
            "spec": _spec_link(row.spec),
        }
        for row in claim_rows(claims, now, meanings)
    ]
    _table(rows, alt="Claims")


# A report's long values (a nonce, a key id) would take the width from the sentences beside
# them: a fixed layout gives each column its share, and long values wrap inside theirs.
_REPORT_CSS = (
    "<style>"
    'table[aria-label="Validation report"]{table-layout:fixed;width:100%}'
    # On the cell's markdown and its paragraph: st.table sets overflow-wrap back to normal on
    # both (two classes deep, hence the two attribute selectors here), and a nonce has nowhere
    # else to break.
    'table[aria-label="Validation report"] td [data-testid="stMarkdownContainer"],'
    'table[aria-label="Validation report"] td [data-testid="stMarkdownContainer"] *'
    "{overflow-wrap:anywhere;max-width:100%}"
    'table[aria-label="Validation report"] th:nth-child(1){width:2.75rem}'
    'table[aria-label="Validation report"] th:nth-child(2){width:12%}'
    'table[aria-label="Validation report"] th:nth-child(5){width:18%}'
    'table[aria-label="Validation report"] th:nth-child(6){width:24%}'
    "</style>"
)


def report_table(report: ValidationReport | None, *, now: int | None = None) -> None:
    """The validation report: each check, passed or not, expected vs actual (times as dates),
    and the spec."""
    if report is None or not report.checks:
        st.info("No validation report: this login had no ID token (OAuth 2.0 only provider).")
        return
    now = int(time.time()) if now is None else now
    rows = [
        {
            "": "✅" if r.passed else "❌",
            "check": untrusted.text(r.name),
            "expected": untrusted.text(r.expected),
            "actual": untrusted.text(r.actual),
            "spec": untrusted.text(r.spec),
            # Our sentence, naming claims in backticks; a value from the token inside is quoted.
            "why it failed": untrusted.prose(r.message),
        }
        for r in report_rows(report, now)
    ]
    if report.passed:  # an empty column only narrows the others
        rows = [{k: v for k, v in row.items() if k != "why it failed"} for row in rows]
    st.html(_REPORT_CSS)
    _table(rows, alt="Validation report")


def timeline_chart(
    claims: Mapping[str, object], *, access_expires_at: int | None = None, now: int | None = None
) -> None:
    """iat, auth_time, nbf, now, exp and the access token's expiry, one row each."""
    now = int(time.time()) if now is None else now
    points = moments(claims, now, access_expires_at)
    # An <img>, like the sequence diagram: st.html would strip inline SVG.
    data = b64encode(timeline_svg(points, now).encode()).decode()
    st.html(
        f'<img alt="{escape(describe(points))}" src="data:image/svg+xml;base64,{data}" style="width:100%">'
    )


def registration_box(registration: Mapping[str, object]) -> None:
    """The exact URIs to register at one provider, ready to copy."""
    where = registration.get("register_at")
    st.markdown(
        f"Register at **{untrusted.text(registration['label'])}**"
        + (f" ({where})" if where else "")  # the preset's own console URL: a link, on purpose
        + f", for client id {untrusted.code(registration['client_id'])}, exactly this redirect URI:"
    )
    st.code(str(registration["redirect_uri"]), language=None)
    if logout := registration.get("post_logout_redirect_uri"):
        st.markdown(
            "and, where the provider keeps a separate list for RP-initiated logout (Okta, Auth0, "
            "Keycloak, any certified provider), this post-logout redirect URI:"
        )
        st.code(str(logout), language=None)


def login_failure_box(failure: Mapping[str, object]) -> None:
    """What a refused login (or a session the login module ended) tells a developer: the
    message, the failed check, the report."""
    what = {
        "logout": "The return from the provider's logout was not recognised.",
        "session": "Your session has ended.",
    }.get(str(failure.get("kind")), "The login was refused.")
    # The description quotes the provider's own words (error_description): text, never markup.
    st.error(f"**{what}** {untrusted.prose(failure.get('description'))}")
    if request_id := failure.get("request_id"):
        st.caption(
            f"Request id {untrusted.code(request_id)}: the server log has the same line "
            f"(check {untrusted.code(failure.get('check'))})."
        )
    if registration := failure.get("registration"):
        st.warning(
            "This looks like a **redirect URI mismatch**: the provider does not accept the redirect URI "
            "this app sent. Providers compare it exactly (scheme, host, port, path)."
        )
        registration_box(registration)  # type: ignore[arg-type]
    if isinstance(report := failure.get("report"), Mapping):
        with st.expander("Validation report of the refused ID token", expanded=True):
            report_table(ValidationReport.from_dict(report))


# --- a login's trace: the Login trace page and the Playground -------------------------------
def sequence_diagram(steps: Sequence[Step], *, logged_in: bool = True, start: str = LOGIN_CLICKED) -> None:
    """``logged_in``: the login ended in a session cookie (a kept Playground result did not);
    ``start``: the browser's request that began it."""
    st.html(as_image(sequence_svg(steps, logged_in=logged_in, start=start)))


def check_badges(steps: Sequence[Step]) -> None:
    """The checks, as green and red badges, by who made them."""
    for who, heading in (("app", "Checked by this app"), ("provider", "Checked by the provider")):
        if badges := [s for s in steps if s.kind == "check" and s.by == who]:
            marks = " ".join(
                f":{'green' if s.passed else 'red'}-badge[{untrusted.text(s.title)}]" for s in badges
            )
            st.markdown(f"**{heading}:** {marks}")


def trace_steps(steps: Sequence[Step]) -> None:
    """Each step folded: its explanation, the notebook that teaches it, the HTTP exchange."""
    for number, step in enumerate(steps, 1):
        head = f"{number}. {step.title}"
        if step.kind == "http":  # its title may be a path from the provider's metadata
            exchange = f"{step.method} → {step.status} ({step.duration_ms} ms)"
            head = f"{number}. {untrusted.text(step.title)} — {exchange}"
        with st.expander(head, expanded=False):
            text, notebook = explain(step.title)
            if text:
                st.markdown(text)
            if notebook:
                st.page_link(
                    "views/notebook.py",
                    label=f"Learn it step by step: {notebook}",
                    icon=":material/menu_book:",
                    query_params={"name": notebook},
                )
            if step.url:
                st.code(step.url, language=None, wrap_lines=True)
            if (sent := callback_parameters(step)) is not None:
                st.markdown("**The callback's parameters** (the code masked)")
                st.json(sent)  # the query the provider (or anyone) sent: data, never markup
            elif step.detail:
                st.markdown(untrusted.text(step.detail))
            if step.kind == "http":
                http_exchange(step)


def http_exchange(step: Step) -> None:
    """One HTTP exchange's request and response, side by side, secrets already masked."""
    left, right = st.columns(2)
    left.markdown("**Request**")
    # Two levels open: the body's own fields show; deeper ones (a JWKS's keys) open on a click.
    left.json({"headers": step.request_headers, "body": step.request_body}, expanded=2)
    right.markdown("**Response**")
    right.json({"headers": step.response_headers, "body": step.response_body}, expanded=2)


def parameters_table(rows: Sequence[ParameterRow]) -> None:
    """An authorization request's parameters: value, who set it, meaning, spec."""
    _table(
        [
            {
                "parameter": untrusted.code(r.name),
                "value": untrusted.code(r.value),
                "set by": r.set_by,
                "what it means": r.meaning,
                "spec": _spec_link(r.spec),
            }
            for r in rows
        ],
        alt="Authorization request parameters",
    )


def playground_outcome(record: Mapping[str, object]) -> None:
    """A Playground login's result: passed or refused and why, whether the session changed,
    then what was sent, what came back, the token exchange, the report and the trace."""
    if record.get("passed"):
        st.success("**Every check passed.** This is what a login with these parameters gives.")
    else:
        # The description may quote the provider's own words (error_description): text, never markup.
        st.error(f"**Refused.** {untrusted.prose(record.get('description'))}")
        if check := record.get("check"):
            st.caption(f"Failed check: {untrusted.code(check)}")
    if "authorization_url" not in record:  # refused before anything was sent
        return
    if record.get("replaced"):
        st.info(
            "**Your session was replaced** by this login, as you asked: a new session id, the old one ended."
        )
    else:
        st.info("**Your session is unchanged**: this login was only tried; its tokens are not kept.")
    st.markdown("**Authorization request sent**")
    st.code(str(record.get("authorization_url") or ""), language=None, wrap_lines=True)
    st.markdown("**Authorization response** (at the callback; the code masked)")
    st.json(record.get("response") or {}, expanded=True)
    trace = Trace.from_dict(record["trace"]) if isinstance(record.get("trace"), Mapping) else Trace()  # type: ignore[arg-type]
    exchange = next((s for s in trace.steps if s.kind == "http" and s.title == "Token request"), None)
    st.markdown("**Token exchange** (tokens masked)")
    if exchange is not None:
        http_exchange(exchange)
    else:
        st.caption("No token request was made: the login stopped before it.")
    st.markdown("**Validation report**")
    report = record.get("report")
    report_table(ValidationReport.from_dict(report) if isinstance(report, Mapping) else None)
    if isinstance(claims := record.get("claims"), Mapping) and claims:
        st.markdown("**The ID token's claims**")
        claims_table(claims)
    st.markdown("**Trace**")
    sequence_diagram(
        trace.steps, logged_in=bool(record.get("replaced")), start="POST /auth/playground (Send clicked)"
    )
    check_badges(trace.steps)
    trace_steps(trace.steps)
