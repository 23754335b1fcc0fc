"""The ASGI entry point: ``streamlit run app.py`` serves the dashboard behind the login.

``with_login`` wires the login module (``streamlit_authlib_login``) and, when no real provider
is configured, the embedded development provider (``devidp``) at ``/idp``. The dashboard has
its own login page, which explains refused logins: ``login_page`` names it (the library
default is none, and the module then explains refusals itself). Its ID token, Login trace
and Playground pages show each login's validation report and trace, which the library stores
only when asked: ``keep_login_details``. (``streamlit run``
recognises an app by this very ``app = st.App(...)`` line, read from the file, so the call is
written here.)
"""

import streamlit as st

from streamlit_authlib_login import with_login

app = st.App("streamlit_app.py", **with_login(login_page="/login", keep_login_details=True))
