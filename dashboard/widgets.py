"""Widgets the pages share. The only module of ``dashboard`` that imports Streamlit."""

from __future__ import annotations

import time
from collections.abc import Mapping
from html import escape

import altair as alt
import pandas as pd
import streamlit as st

from auth.trace import mask
from auth.validation import ValidationReport

from . import untrusted
from .claims import HEADER_MEANINGS, TIME_CLAIMS, claim_rows


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


def header_table(header: Mapping[str, object]) -> None:
    rows = [
        {"parameter": k, "value": str(v), "meaning": HEADER_MEANINGS.get(k, "")} for k, v in header.items()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def claims_table(claims: Mapping[str, object], *, now: int | None = None) -> None:
    now = int(time.time()) if now is None else now
    frame = pd.DataFrame([row.__dict__ for row in claim_rows(claims, now)])
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "claim": st.column_config.TextColumn("claim", width="small"),
            "value": st.column_config.TextColumn("value", width="medium"),
            "meaning": st.column_config.TextColumn("what it means", width="medium"),
            "when": st.column_config.TextColumn("as a time", width="medium"),
            "spec": st.column_config.LinkColumn("spec", display_text="spec", width="small"),
        },
    )


def report_table(report: ValidationReport | None) -> None:
    """The validation report: each check, passed or not, expected vs actual, and the spec."""
    if report is None or not report.checks:
        st.info("No validation report: this login had no ID token (OAuth 2.0 only provider).")
        return
    rows = [
        {
            "": "✅" if c.passed else "❌",
            "check": c.name,
            "expected": c.expected,
            "actual": c.actual,
            "spec": c.spec,
            "why it failed": c.message,
        }
        for c in report.checks
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def timeline_chart(claims: Mapping[str, object], *, now: int | None = None) -> None:
    """iat, auth_time, exp and now on one time axis."""
    now = int(time.time()) if now is None else now
    points = [
        {"event": name, "time": pd.Timestamp(value, unit="s", tz="UTC")}
        for name, value in claims.items()
        if name in TIME_CLAIMS - {"updated_at"} and isinstance(value, int)
    ]
    points.append({"event": "now", "time": pd.Timestamp(now, unit="s", tz="UTC")})
    frame = pd.DataFrame(points)
    rules = (
        alt.Chart(frame)
        .mark_rule(strokeWidth=3)
        .encode(
            x=alt.X("time:T", title=None, axis=alt.Axis(format="%H:%M:%S")),
            color=alt.Color("event:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["event", alt.Tooltip("time:T", format="%Y-%m-%d %H:%M:%S")],
        )
    )
    labels = rules.mark_text(align="left", dx=4, dy=-60, angle=0).encode(text="event:N")
    validity = (
        [
            {
                "start": pd.Timestamp(claims["iat"], unit="s", tz="UTC"),
                "end": pd.Timestamp(claims["exp"], unit="s", tz="UTC"),
            }
        ]
        if (isinstance(claims.get("iat"), int) and isinstance(claims.get("exp"), int))
        else []
    )
    layers = [rules, labels]
    if validity:
        band = alt.Chart(pd.DataFrame(validity)).mark_rect(opacity=0.15).encode(x="start:T", x2="end:T")
        layers.insert(0, band)
    st.altair_chart(alt.layer(*layers).properties(height=160), width="stretch")


def registration_box(registration: Mapping[str, object]) -> None:
    """The exact URIs to register at one provider, ready to copy."""
    where = registration.get("register_at")
    st.markdown(
        f"Register at **{untrusted.text(registration['label'])}**"
        + (f" ({where})" if where else "")
        + f", for client id `{str(registration['client_id']).replace('`', '')}`, exactly this redirect URI:"
    )
    st.code(str(registration["redirect_uri"]), language=None)
    if logout := registration.get("post_logout_redirect_uri"):
        st.markdown(
            "and, where the provider keeps a separate list for RP-initiated logout (Okta, Auth0, "
            "Keycloak, any certified provider), this post-logout redirect URI:"
        )
        st.code(str(logout), language=None)


def login_failure_box(failure: Mapping[str, object]) -> None:
    """What a refused login tells a developer: the message, the failed check, the report."""
    what = (
        "The return from the provider's logout was not recognised."
        if failure.get("kind") == "logout"
        else ("The login was refused.")
    )
    # The description quotes the provider's own words (error_description): text, never markup.
    st.error(f"**{what}** {untrusted.prose(failure.get('description'))}")
    if request_id := failure.get("request_id"):
        st.caption(
            f"Request id `{request_id}`: the server log has the same line (check `{failure.get('check')}`)."
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
