"""Admin: for the role `admin` only. The router lists it with `role_page`, so nobody else sees
it in the sidebar or at its URL; `require_role` below guards it wherever it is linked from."""

import streamlit as st

from dashboard.untrusted import code
from streamlit_authlib_login import require_role
from streamlit_authlib_login.teaching import configured_providers

session = require_role("admin")

st.title("Admin")
st.caption(
    "Only people with the role `admin` get this page: `streamlit_app.py` lists it with "
    '`role_page(page, "admin")`, and the page starts with `require_role("admin")`. Anyone else '
    "finds no Admin entry in the sidebar, and a “not allowed” message at its URL."
)
# The roles come from the provider's claims (or [auth.roles]): shown as code, never as markup.
st.markdown("**Your roles:** " + ", ".join(code(role) for role in session.roles))
st.caption(
    "A role is the provider's `roles` claim (the development provider releases it with the "
    "`groups` scope), or given by `[auth.roles]` in the secrets."
)

st.subheader("Providers, as configured")
st.dataframe(
    [
        {
            "provider": p.name,
            "label": p.label,
            "client id": p.client_id,
            "scopes requested": p.scope,
            "runs": "inside this app" if p.served_here else "elsewhere",
        }
        for p in configured_providers()
    ],
    hide_index=True,
)
