"""Providers: each configured provider, its discovery metadata, and the redirect URI to register."""

import streamlit as st

from dashboard import untrusted
from dashboard.widgets import registration_box
from streamlit_authlib_login import LoginError, require_login
from streamlit_authlib_login.teaching import (
    configured_providers,
    provider_entry_url,
    provider_metadata,
    registration,
)

require_login()

st.title("Providers")
st.caption("Setting one up? `docs/providers.md` walks through each provider's console.")
for provider in configured_providers():
    st.subheader(provider.label)
    uris = registration(provider.name)
    if provider.served_here:
        # Nothing to register: the embedded provider knows this app's client and redirect URI.
        st.markdown(
            f"**Runs inside this app**: its client {untrusted.code(uris.client_id)} is registered "
            "there automatically, for this origin, with this redirect URI. Nothing to do."
        )
        st.code(uris.redirect_uri, language=None)
        if uris.register_at:
            st.caption(
                f"With the real {provider.preset.label} you register the client yourself, "
                f"at {uris.register_at}"
            )
    if provider.preset.notes:
        st.caption(provider.preset.notes)
    if provider.is_oidc:
        st.markdown(f"**Discovery:** `{provider_entry_url(provider)}`")
    else:
        st.markdown(f"**OAuth 2.0 only** (no ID token): authorize at `{provider_entry_url(provider)}`")
    if not provider.served_here:
        registration_box(uris.as_dict())
    st.markdown(f"**Scopes:** `{provider.scope or '(none)'}`")
    try:
        metadata = provider_metadata(provider)
    except LoginError as error:
        st.error(f"Not reachable: {untrusted.prose(error.description)}")
        continue
    if provider.is_oidc:
        st.success("Reachable; its discovery document names the right issuer.")
    with st.expander("Endpoints" if not provider.is_oidc else "Discovery metadata"):
        st.json(metadata)
