"""Try a fault: make the development provider misbehave, log in again, watch the app refuse."""

import httpx2
import streamlit as st

from auth.config import is_loopback_url
from auth.streamlit import login_link, origin, require_login
from devidp import FAULTS

require_login()
if not is_loopback_url(origin()):
    st.error("The development provider, and so its fault switches, only work on localhost.")
    st.stop()
faults_url = f"{origin()}/idp/faults"

st.title("Try a fault")
st.write(
    "Each switch makes the development provider break one thing a relying party must check. "
    "Switch one on, log in again, and the login page shows which validation step refused the login "
    "and why. Your current session stays as it is."
)
try:
    state = httpx2.get(faults_url, timeout=3).json()
except (httpx2.HTTPError, ValueError) as error:
    st.error(f"The development provider's fault switches are not reachable at {faults_url}: {error}")
    st.stop()

active = set(state.get("active", []))
choice = st.radio(
    "Fault",
    list(FAULTS),
    format_func=lambda name: f"{name} — {FAULTS[name]}",
    index=list(FAULTS).index(sorted(active)[0]) if active else 0,
)
left, right = st.columns(2)
if left.button("Switch it on", type="primary", icon=":material/bug_report:"):
    httpx2.post(faults_url, json={"faults": [choice]}, timeout=3)
    st.rerun()
if right.button("Switch all off", icon=":material/check_circle:"):
    httpx2.post(faults_url, json={"faults": []}, timeout=3)
    st.rerun()

if active:
    st.warning(f"Switched on: {', '.join(f'`{name}`' for name in sorted(active))}. Every login now meets it.")
    login_link("dev", "/faults", "Log in again with the faulty provider")
else:
    st.success("No fault is on: the provider behaves.")
