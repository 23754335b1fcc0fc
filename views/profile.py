"""Profile: the normalized profile beside the raw userinfo / provider profile."""

import streamlit as st

from dashboard.admission import admitted_by_lines, roles_line
from dashboard.steps import profile_answers
from dashboard.untrusted import code, picture_url, text
from streamlit_authlib_login import require_login
from streamlit_authlib_login.teaching import configured_provider

session = require_login()
profile = session.profile
provider = configured_provider(session.provider)
oidc = provider is None or provider.is_oidc

st.title("Profile")
left, right = st.columns([1, 1])
with left:
    # Every value here is the provider's: shown as text, never as markup (dashboard/untrusted.py).
    st.subheader("Normalized")
    if picture := picture_url(profile.get("avatar")):
        st.image(picture, width=96)
    elif profile.get("avatar"):
        # st.image would read a file of that name from this server.
        st.caption(f"Picture {code(profile['avatar'])}: not a web URL, so not shown.")
    st.markdown(f"### {text(profile.get('name') or '—')}")
    email = profile.get("email")
    if email:
        verified = "✅ verified" if profile.get("email_verified") else "⚠️ **not verified**: do not trust it"
        st.markdown(f"**Email:** {text(email)} — {verified}")
    else:
        st.markdown("**Email:** none released (the provider or the user withheld it)")
    st.markdown(f"**Locale:** {text(profile.get('locale') or '—')}")
    st.markdown(f"**Provider user id (`sub`):** {code(profile.get('id'))}")
    if profile.get("groups"):
        st.markdown("**Groups:** " + ", ".join(code(g) for g in profile["groups"]))  # type: ignore[union-attr]
    st.caption("Identify users by provider + `sub`, never by email: emails change and can be unverified.")
    st.subheader("Who let you in")
    label = provider.label if provider is not None else session.provider
    st.markdown("\n".join(f"- {line}" for line in admitted_by_lines(session.admitted_by, label)))
    st.markdown(f"**Roles:** {roles_line(session.roles)}")  # the provider's words: code spans only
    st.caption(
        "The rules are the app's `allowed_*` keys in `[auth]` and `[auth.<name>]`, checked at login "
        "and at each refresh; roles come from the token's `roles` claim and `[auth.roles]`."
    )
    st.page_link(
        "views/notebook.py",
        label="Each rule at work: notebooks/12_authorization.ipynb",
        icon=":material/menu_book:",
        query_params={"name": "notebooks/12_authorization.ipynb"},
    )
with right:
    if oidc:
        st.subheader("Raw userinfo")
        st.json(dict(session.userinfo) or {"note": "this provider has no userinfo endpoint"})
    else:
        st.subheader("Raw profile, from the provider's API")
        st.caption("An OAuth 2.0-only provider: no ID token, so these API answers are all there is to go on.")
        if provider is not None and provider.preset.emails_url:
            st.caption(
                "This app takes `email` from the email list (the primary verified address) and sets "
                "`email_verified` itself: neither is in the profile as the API sent it."
            )
        for url, body in profile_answers(session.trace.steps):
            st.markdown(f"`GET` {code(url)}")
            st.json(body, expanded=2)
