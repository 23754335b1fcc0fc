"""The main script: a router. Logged-out visitors get only the public pages."""

import streamlit as st

from auth.streamlit import current_session

st.set_page_config(page_title="Streamlit × Authlib login", page_icon="🔐")

session = current_session()
login = st.Page("pages/login.py", title="Log in", icon=":material/login:", url_path="login")
home = st.Page("pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True)

st.navigation([home] if session else [login]).run()
