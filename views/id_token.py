"""ID token: header, every claim explained, the validation report, the raw token, a timeline."""

import streamlit as st

from dashboard.widgets import claims_table, colored_jwt, header_table, report_table, timeline_chart
from streamlit_authlib_login import require_login

session = require_login()
report = session.report
id_token = session.tokens.id_token

st.title("ID token")
if not id_token:
    st.info("This provider logs in with OAuth 2.0 only: there is no ID token, only a profile API.")
    st.stop()

st.markdown(
    "✅ **Trusted**: every check of OpenID Connect Core §3.1.3.7 passed at login."
    if report is not None and report.passed
    else "❌ **Not trusted**: a check failed."
)
st.subheader("Why it is trusted: the validation report")
report_table(report)

st.subheader("Header")
header_table(report.header if report else {})
st.subheader("Claims")
claims_table(session.claims)
st.subheader("Timeline")
timeline_chart(session.claims, access_expires_at=session.tokens.expires_at)

st.subheader("The raw token")
reveal = st.toggle("Reveal the signature", help="The header and claims are not secret; the whole token is.")
colored_jwt(id_token, reveal_signature=reveal)
