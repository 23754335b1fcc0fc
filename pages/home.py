"""Home: who is logged in, and the session's controls."""

import streamlit as st

from auth.streamlit import logout_button, refresh_button, require_login

session = require_login()
profile = session.profile

st.title(f"Hello, {profile.get('name')}")
st.write(f"Logged in with **{session.provider}**.")
st.json(session.public(), expanded=False)
left, right = st.columns(2)
with left:
    refresh_button(session)
with right:
    logout_button(session)
