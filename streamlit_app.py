"""The main script: a router. Every page but the login page needs a session.

A logged-out visitor who opens a gated page's URL gets the login page, and
comes back to that page after logging in. The Admin page is for the role
`admin` only: `role_page` hides it from anyone else, and its URL says so.
"""

import streamlit as st

from streamlit_authlib_login import current_session, role_page
from streamlit_authlib_login.teaching import dev_provider_enabled

st.set_page_config(page_title="Streamlit × Authlib login", page_icon="🔐", layout="wide")

session = current_session()
dev_on = dev_provider_enabled()

login = st.Page("views/login.py", title="Log in", icon=":material/login:", url_path="login")
yours = [
    st.Page("views/home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page("views/profile.py", title="Profile", icon=":material/person:", url_path="profile"),
    st.Page("views/id_token.py", title="ID token", icon=":material/badge:", url_path="id-token"),
    st.Page("views/tokens.py", title="Tokens", icon=":material/key:", url_path="tokens"),
    st.Page("views/trace.py", title="Login trace", icon=":material/timeline:", url_path="trace"),
]
tools = [
    st.Page("views/playground.py", title="Playground", icon=":material/science:", url_path="playground"),
    st.Page("views/inspector.py", title="JWT inspector", icon=":material/search:", url_path="inspector"),
    st.Page("views/providers.py", title="Providers", icon=":material/hub:", url_path="providers"),
    st.Page("views/notebook.py", title="Notebooks", icon=":material/menu_book:", url_path="notebooks"),
    role_page(
        st.Page("views/admin.py", title="Admin", icon=":material/admin_panel_settings:", url_path="admin"),
        "admin",
        session=session,
    ),
]
if dev_on:
    tools.insert(
        0, st.Page("views/faults.py", title="Try a fault", icon=":material/bug_report:", url_path="faults")
    )

if session is None:
    page = st.navigation([login, *yours, *tools], position="hidden")
    if page.url_path != login.url_path:
        # Remember where they were going; the gated page itself never runs.
        st.session_state["login_next"] = f"/{page.url_path}"
        st.switch_page(login)
    page.run()
else:
    # Hidden but reachable: a failed re-login lands on /login to say why.
    again = st.Page("views/login.py", title="Log in", url_path="login", visibility="hidden")
    st.navigation({"Your login": yours, "Tools": [*tools, again]}).run()
