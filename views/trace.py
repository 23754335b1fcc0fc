"""Login trace: the login that just happened, as a sequence diagram and as HTTP exchanges."""

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from auth.streamlit import authenticator, dev_provider_log, require_login
from dashboard.sequence import as_image, sequence_svg
from dashboard.steps import explain
from dashboard.trace_export import to_json, to_markdown
from dashboard.untrusted import text as literal

session = require_login()
trace = session.trace
steps = trace.steps

st.title("Login trace")
st.caption(
    f"`state` {trace.state} · code fingerprint `{trace.code_fingerprint}` "
    "(the provider's log names the same code the same way)"
)
st.subheader("Sequence")
st.html(as_image(sequence_svg(steps)))

st.subheader("Checks")
badges = [s for s in steps if s.kind == "check"]
st.markdown(" ".join(f":{'green' if s.passed else 'red'}-badge[{s.title}]" for s in badges))

st.subheader("Steps")
for number, step in enumerate(steps, 1):
    head = f"{number}. {step.title}"
    if step.kind == "http":  # its title may be a path from the provider's metadata
        head = f"{number}. {literal(step.title)} — {step.method} → {step.status} ({step.duration_ms} ms)"
    with st.expander(head, expanded=False):
        text, notebook = explain(step.title)
        if text:
            st.markdown(text)
        if notebook:
            st.caption(f"Learn it step by step: `{notebook}`")
        if step.url:
            st.code(step.url, language=None, wrap_lines=True)
        if step.detail:  # the callback's is the query the provider (or anyone) sent
            st.markdown(literal(step.detail))
        if step.kind == "http":
            left, right = st.columns(2)
            left.markdown("**Request**")
            left.json({"headers": step.request_headers, "body": step.request_body}, expanded=False)
            right.markdown("**Response**")
            right.json({"headers": step.response_headers, "body": step.response_body}, expanded=False)

provider = authenticator().config.provider(session.provider)
if provider is not None and provider.is_dev:
    st.subheader("Both sides: the app's exchanges joined with the provider's own log")
    # The provider runs in this process: its journal is read directly, not over HTTP.
    entries = dev_provider_log(state=trace.state, code_fingerprint=trace.code_fingerprint)
    rows = [
        {
            "time": datetime.fromtimestamp(s.at, UTC),
            "side": "app",
            "what": s.title,
            "status": s.status,
            "ms": s.duration_ms,
        }
        for s in steps
    ] + [
        {
            "time": datetime.fromtimestamp(float(e["at"]), UTC),
            "side": "provider",
            "what": f"{e['method']} {e['path']}",
            "status": e["status"],
            "ms": e["duration_ms"],
        }
        for e in entries
    ]
    frame = pd.DataFrame(rows).sort_values("time")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={"time": st.column_config.DatetimeColumn(format="HH:mm:ss.SSS")},
    )
    for entry in entries:
        for warning in entry.get("warnings", []):
            st.warning(f"Provider says: {warning}")

st.subheader("Export for a bug report")
st.caption("Secrets are masked and JWT signatures removed.")
left, right = st.columns(2)
left.download_button("Download JSON", to_json(trace), "login-trace.json", "application/json")
right.download_button(
    "Download Markdown", to_markdown(trace, provider=session.provider), "login-trace.md", "text/markdown"
)
