"""Login trace: the login that just happened, as a sequence diagram and as HTTP exchanges."""

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard.trace_export import to_json, to_markdown
from dashboard.widgets import check_badges, sequence_diagram, trace_steps
from streamlit_authlib_login import require_login
from streamlit_authlib_login.teaching import configured_provider, dev_provider_log

session = require_login()
trace = session.trace
steps = trace.steps

st.title("Login trace")
st.caption(
    f"`state` {trace.state} · code fingerprint `{trace.code_fingerprint}` "
    "(the provider's log names the same code the same way)"
)
st.subheader("Sequence")
sequence_diagram(steps, start=f"GET /auth/login/{session.provider} (Log in clicked)")
st.subheader("Checks")
check_badges(steps)
st.subheader("Steps")
trace_steps(steps)

provider = configured_provider(session.provider)


def outcome(passed: bool | None, kind: str) -> str:
    return "passed" if passed else "FAILED" if passed is False else kind


if provider is not None and provider.served_here:
    st.subheader("Both sides: the app's exchanges joined with the provider's own log")
    # The provider runs in this process: its journal is read directly, not over HTTP.
    entries = dev_provider_log(state=trace.state, code_fingerprint=trace.code_fingerprint)
    rows = [
        {
            "time": datetime.fromtimestamp(s.at, UTC),
            "side": "app",
            "what": s.title,
            # A check or a redirect has no HTTP status and no duration: say what it is instead.
            "status": str(s.status) if s.status is not None else outcome(s.passed, s.kind),
            "ms": f"{s.duration_ms:g}" if s.duration_ms is not None else "",
        }
        for s in steps
    ] + [
        {
            "time": datetime.fromtimestamp(float(e["at"]), UTC),
            "side": "provider",
            "what": f"{e['method']} {e['path']}",
            "status": str(e["status"]),
            "ms": f"{float(e['duration_ms']):g}",
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
