"""Log in: one button per configured provider, and why the last login failed."""

import streamlit as st

from auth.streamlit import authenticator, current_session, login_buttons, login_failure
from dashboard.widgets import login_failure_box

st.title("Log in")
next_path = st.query_params.get("next") or st.session_state.get("login_next", "/")
failure = login_failure()
if failure:
    login_failure_box(failure)
    next_path = str(failure.get("next") or next_path)
if st.query_params.get("logged_out"):
    st.success("You are logged out: the session is gone from this server and its tokens are revoked.")

if current_session() is not None:
    st.info("You are already logged in.")
    st.page_link("views/home.py", label="Go to your home page", icon=":material/home:")

st.write("Choose a provider. You will come straight back here, logged in.")
login_buttons(next_path=next_path)
if authenticator().config.dev_provider_enabled:
    st.caption(
        "The **development provider** runs inside this app at `/idp`. It logs anyone in as a demo "
        "persona without a password, so it only works on localhost. Configure a real provider in "
        "`.streamlit/secrets.toml` (see `secrets.toml.example`)."
    )
