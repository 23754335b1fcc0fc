"""The public login page."""

import streamlit as st

from auth.streamlit import login_buttons, login_failure

st.title("Log in")
st.write("Choose a provider. You will come back here, logged in.")

if failure := login_failure():
    st.error(f"**The login failed.** {failure['description']}")
if st.query_params.get("logged_out"):
    st.success("You are logged out.")

login_buttons(next_path=st.query_params.get("next", "/"))
