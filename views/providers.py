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
    client = auth.client(provider, auth.base_url(here))
    if provider.is_oidc:
        st.markdown(f"**Discovery:** `{client.metadata_url}`")
    else:
        st.markdown(
            f"**OAuth 2.0 only** (no ID token): authorize at `{client.url(provider.preset.authorize_url)}`"
        )
    st.markdown("**Redirect URI to register at the provider** (exactly this):")
    st.code(auth.redirect_uri(provider.name, here), language=None)
    st.markdown(f"**Client id:** `{provider.client_id}` · **Scopes:** `{provider.scope}`")
    try:
        metadata = run(client.metadata())
    except LoginError as error:
        st.error(f"Not reachable: {error.description}")
        continue
    st.success("Reachable; its discovery document names the right issuer.")
    with st.expander("Discovery metadata"):
        st.json(metadata)
