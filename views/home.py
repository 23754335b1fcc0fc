"""Home: who is logged in, with which provider, since when, and when the tokens expire."""

import time

import streamlit as st

from dashboard.claims import human_time, relative
from dashboard.untrusted import text
from streamlit_authlib_login import logout_button, refresh_button, require_login
from streamlit_authlib_login.teaching import provider_label

session = require_login()
profile, tokens = session.profile, session.tokens
now = int(time.time())

st.title(f"Hello, {text(profile.get('name') or 'there')}")  # a claim: text, never markup
label = text(provider_label(session.provider))
st.markdown(f"Logged in with **{label}** since {human_time(session.created_at, now)}.")


@st.fragment(run_every=1)
def countdown() -> None:
    now = int(time.time())
    cols = st.columns(3)
    if tokens.expires_at:
        cols[0].metric("Access token expires", relative(tokens.expires_at - now))
    if isinstance(session.claims.get("exp"), int):
        cols[1].metric("ID token expires", relative(int(session.claims["exp"]) - now))  # type: ignore[arg-type]
    cols[2].metric("Refresh token", "yes" if tokens.refresh_token else "none")


countdown()
st.subheader("Look around")
links = st.columns(5)
for column, (target, label, icon) in zip(
    links,
    [
        ("views/profile.py", "Profile", ":material/person:"),
        ("views/id_token.py", "ID token", ":material/badge:"),
        ("views/tokens.py", "Tokens", ":material/key:"),
        ("views/trace.py", "Login trace", ":material/timeline:"),
        ("views/inspector.py", "JWT inspector", ":material/search:"),
    ],
    strict=True,
):
    column.page_link(target, label=label, icon=icon)

st.subheader("Session")
left, middle, right = st.columns(3)
with left:
    if tokens.refresh_token:
        refresh_button(session, next_path="/")
with middle:
    st.page_link("views/tokens.py", label="Introspect or revoke tokens", icon=":material/key:")
with right:
    logout_button(session)
