"""Providers: each configured provider, its discovery metadata, and the redirect URI to register."""

import streamlit as st

from auth import LoginError
from auth.streamlit import authenticator, origin, require_login, run

require_login()
auth = authenticator()
here = origin()

st.title("Providers")
for provider in auth.config.providers:
    st.subheader(provider.label + (" (development)" if provider.is_dev else ""))
    metadata_url = auth.metadata_url(provider, here)
    st.markdown(f"**Discovery:** `{metadata_url}`")
    st.markdown("**Redirect URI to register at the provider** (exactly this):")
    st.code(auth.redirect_uri(provider.name, here), language=None)
    st.markdown(f"**Client id:** `{provider.client_id}` · **Scopes:** `{provider.scope}`")
    try:
        metadata = run(auth.client(provider, metadata_url).metadata())
    except LoginError as error:
        st.error(f"Not reachable: {error.description}")
        continue
    st.success("Reachable; its discovery document names the right issuer.")
    with st.expander("Discovery metadata"):
        st.json(metadata)
