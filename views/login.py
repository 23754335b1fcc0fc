"""Log in: one button per configured provider, why the last login (or logout) failed, and
the set-up a real provider needs before its first login."""

import streamlit as st

from dashboard.untrusted import text
from dashboard.widgets import login_failure_box, registration_box
from streamlit_authlib_login import current_session, login_buttons, login_failure
from streamlit_authlib_login.teaching import (
    dev_faults_on,
    dev_provider_enabled,
    dev_provider_here,
    dev_provider_mount,
    provider_label,
    providers_to_set_up,
    set_dev_faults,
    unfinished_logout,
)

st.title("Log in")
next_path = st.query_params.get("next") or st.session_state.get("login_next", "/")
failure = login_failure()
if dev_provider_here() and (faults := dev_faults_on()):
    # A fault left on refuses every login; the switch must be reachable logged out, from here.
    st.warning(
        "**The development provider misbehaves on purpose**: "
        + ", ".join(f"`{name}`" for name in sorted(faults))
        + " switched on (*Try a fault*). Every login with it meets "
        + ("that fault" if len(faults) == 1 else "those faults")
        + ", and this app refuses it."
    )
    if st.button("Switch all faults off", type="primary", icon=":material/check_circle:"):
        set_dev_faults(set())
        st.rerun()
refused = bool(failure) and str(failure.get("kind")) not in ("logout", "session")
if failure:
    login_failure_box(failure)
    next_path = str(failure.get("next") or next_path)
if st.query_params.get("unavailable"):
    st.warning(
        "The session store was not answering a moment ago, so nothing was done. It answers again "
        "now: log in below."
    )
if st.query_params.get("logged_out"):
    # `at` is the query string's: anyone can link here with any text in it.
    at = st.query_params.get("at")
    st.success(
        "You are logged out: the session is gone from this server and its tokens are revoked."
        + (f" {text(provider_label(at))} signed you out too, and sent you back here." if at else "")
    )
elif stranded := unfinished_logout():
    st.warning(
        f"You are logged out of this app, but your logout at **{stranded.label}** did not come back "
        "here. If the provider showed an error such as *post_logout_redirect_uri not registered*, it "
        "does not accept the URI this app sent: register it there exactly, or set "
        f"`post_logout_redirect_uri` in `[auth.{stranded.provider}]` to one it has."
    )
    registration_box(stranded.as_dict())

if current_session() is not None:
    # A refused login leaves the session it would have replaced as it was: say so, not "already".
    st.info(
        "You are still logged in with your earlier session: the refused login changed nothing."
        if refused
        else "You are already logged in."
    )
    if refused and dev_provider_here():
        st.page_link("views/faults.py", label="Back to Try a fault", icon=":material/bug_report:")
    st.page_link("views/home.py", label="Go to your home page", icon=":material/home:")

st.write("Choose a provider. You will come straight back here, logged in.")
login_buttons(next_path=next_path)
for registration in providers_to_set_up():
    with st.expander(f"Set-up: {registration.label} has not completed a login here yet", expanded=True):
        st.caption(
            "A provider only sends the browser back to a redirect URI registered with it. "
            "`docs/providers.md` walks through each provider's console. This panel goes away "
            "after the first login that works."
        )
        registration_box(registration.as_dict())
if dev_provider_enabled():
    st.caption(
        f"The **development provider** runs inside this app at `{dev_provider_mount() or '/idp/'}`. It logs "
        "anyone in as a demo persona without a password, so it only works on localhost. Configure a real "
        "provider in `.streamlit/secrets.toml` (see `secrets.toml.example`)."
    )
