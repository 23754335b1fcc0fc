"""Try a fault: make the development provider misbehave, log in again, watch the app refuse."""

import streamlit as st

from streamlit_authlib_login import require_login
from streamlit_authlib_login.teaching import (
    dev_faults,
    dev_faults_on,
    dev_provider_here,
    login_link,
    set_dev_faults,
)

require_login()
if not dev_provider_here():
    st.error("The development provider, and so its fault switches, only work on localhost.")
    st.stop()
FAULTS = dev_faults()

st.title("Try a fault")
st.write(
    "Each switch makes the development provider break one thing a relying party must check. "
    "Switch one on, log in again, and the login page shows which validation step refused the login "
    "and why. Your current session stays as it is."
)
active = dev_faults_on()  # the provider runs in this process: switched directly, not over HTTP
choice = st.radio(
    "Fault",
    list(FAULTS),
    format_func=lambda name: f"{name} — {FAULTS[name]}",
    index=list(FAULTS).index(sorted(active)[0]) if active else 0,
)
left, right = st.columns(2)
if left.button("Switch it on", type="primary", icon=":material/bug_report:"):
    set_dev_faults({choice})
    st.rerun()
if right.button("Switch all off", icon=":material/check_circle:"):
    set_dev_faults(set())
    st.rerun()

if active:
    st.warning(f"Switched on: {', '.join(f'`{name}`' for name in sorted(active))}. Every login now meets it.")
    login_link("dev", "/faults", "Log in again with the faulty provider")
else:
    st.success("No fault is on: the provider behaves.")
