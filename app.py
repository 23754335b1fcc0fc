"""The ASGI entry point: ``streamlit run app.py`` serves this ``st.App``."""

import streamlit as st

from devidp import DevAuthorizationServer, ProviderConfig, mount

provider = DevAuthorizationServer(ProviderConfig())
app = st.App("streamlit_app.py", routes=mount(provider, "/idp"))
