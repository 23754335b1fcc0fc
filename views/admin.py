"""Admin: for the role `admin` only. The router lists it with `role_page`, so nobody else sees
it in the sidebar or at its URL; `require_role` below guards it wherever it is linked from.
What an admin wants at hand: who each provider lets in (its access rules), and how it is set up."""

import pandas as pd
import streamlit as st

from dashboard.untrusted import code
from streamlit_authlib_login import require_role
from streamlit_authlib_login.teaching import configured_providers, refusal_counts

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

st.subheader("Providers, and who each lets in")
st.caption(
    "The `allowed_*` rules of `[auth]` and `[auth.<name>]`: all of a provider's rules must hold, "
    "any one value of a rule is enough."
)
st.dataframe(
    [
        {
            "provider": p.name,
            "label": p.label,
            "who may come in": "; ".join(
                f"{rule}: {', '.join(values)}" for rule, values in p.access.allowed.items()
            )
            or "anyone with an account there",
            "client id": p.client_id,
            "scopes requested": p.scope,
        }
        for p in configured_providers()
    ],
    hide_index=True,
)

st.subheader("Refused logins")
st.caption(
    "Logins the rules above refused since this server started, per provider and rule: this "
    "replica's own count (each replica counts its own). Each refusal also left one log line with "
    "its request id."
)
refused = refusal_counts()
if refused:
    rows = [{"provider": name, "rule": rule, "refused": n} for (name, rule), n in sorted(refused.items())]
    st.table(pd.DataFrame(rows).set_index("provider"))  # a few rows: a plain table reads best
else:
    st.write("None since this server started.")
