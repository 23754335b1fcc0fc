"""The main script: the router of the dashboard's pages."""

import httpx
import streamlit as st

st.set_page_config(page_title="Streamlit × Authlib login", page_icon="🔐")
st.title("Streamlit × Authlib social login")

port = st.get_option("server.port")
discovery = f"http://localhost:{port}/idp/.well-known/openid-configuration"
try:
    metadata = httpx.get(discovery, timeout=2).raise_for_status().json()
except httpx.HTTPError as error:
    st.error(f"The development provider is not answering at `{discovery}`: {error}")
else:
    st.success(f"The development provider is up. Issuer: `{metadata['issuer']}`")
