"""Tokens: the access token decoded or marked opaque, introspection, refresh and revoke."""

import streamlit as st

from dashboard.claims import ACCESS_TOKEN_MEANINGS
from dashboard.inspector import InspectError, compare, decode, warnings
from dashboard.untrusted import code, prose
from dashboard.widgets import claims_table, header_table, masked_token
from streamlit_authlib_login import LoginError, refresh_tokens, require_login
from streamlit_authlib_login.teaching import introspect, revoke, token_fingerprint

session = require_login()
tokens = session.tokens

st.title("Tokens")
st.subheader("Access token")
masked_token("Access token", tokens.access_token, key="reveal_access")
st.caption(
    f"Fingerprint `{token_fingerprint(tokens.access_token)[:8]}`: names this token without showing it."
)
try:
    decoded = decode(tokens.access_token)
except InspectError:
    decoded = None
    st.info(
        "**Opaque**: this access token is not a JWT. Only the provider can say what it means (introspection)."
    )
if decoded:
    st.caption(f"A JWT (`typ` {code(decoded.header.get('typ'))}); RFC 9068 defines JWT access tokens.")
    st.markdown(
        "An access token is for the **resource server**, the API it is sent to, which `aud` names; "
        "not for this app. That API checks `typ`, `iss`, that `aud` names it, the signature and `exp` "
        "([RFC 9068 §4](https://www.rfc-editor.org/rfc/rfc9068#section-4)). This app only carries "
        "the token, and must not rely on what it reads in it: the provider may change the format at "
        "any time ([§6](https://www.rfc-editor.org/rfc/rfc9068#section-6)). Who logged in is the ID "
        "token's to say."
    )
    for warning in warnings(decoded):
        st.warning(warning)
    header_table(decoded.header)
    claims_table(decoded.claims, meanings=ACCESS_TOKEN_MEANINGS)

st.subheader("Scopes")
requested = set(session.requested_scope.split())
granted = set((tokens.scope or session.requested_scope).split())
cols = st.columns(3)
# The granted scope is the provider's answer (RFC 6749 §5.1): quoted, never markup.
cols[0].markdown("**Requested**\n\n" + " ".join(code(s) for s in sorted(requested)))
cols[1].markdown("**Granted**\n\n" + " ".join(code(s) for s in sorted(granted)))
cols[2].markdown("**Not granted**\n\n" + (" ".join(code(s) for s in sorted(requested - granted)) or "—"))

st.subheader("Refresh token")
masked_token("Refresh token", tokens.refresh_token, key="reveal_refresh")
if tokens.refresh_token:
    seen = st.session_state.setdefault("refresh_fingerprints", [])
    current = token_fingerprint(tokens.refresh_token)
    if current not in seen:
        seen.append(current)
    st.markdown(
        f"Refreshed **{tokens.refresh_count}** time(s). Refresh tokens seen in this browser tab: "
        + " → ".join(f"`{f[:8]}`" for f in seen)
        + (" (a new one each time: **rotation**)" if len(seen) > 1 else "")
    )

st.subheader("Actions")
left, right = st.columns(2)
if left.button("Refresh now", disabled=not tokens.refresh_token, icon=":material/refresh:"):
    before = decoded.claims if decoded else {}
    try:
        updated = refresh_tokens(session)
    except LoginError as error:
        # Answers from before this attempt would sit under its error as if they were current.
        for stale in ("introspection", "refresh_compare"):
            st.session_state.pop(stale, None)
        st.error(f"**The refresh failed.** {prose(error.description)}")
    else:
        try:
            after = decode(updated.tokens.access_token).claims
        except InspectError:
            after = {}
        st.session_state["refresh_compare"] = compare(
            before, after, names=("before refresh", "after refresh")
        )
        st.rerun()
if compare_rows := st.session_state.get("refresh_compare"):
    with st.expander("Access-token claims before → after the last refresh", expanded=True):
        st.dataframe(compare_rows, hide_index=True, width="stretch")

# RFC 7662 and RFC 7009 both take either token: the provider looks it up by `token_type_hint`.
which = right.radio(
    "Token", ["access_token", "refresh_token"], horizontal=True, format_func=lambda w: w.replace("_", " ")
)
act, drop = right.columns(2)
held = tokens.access_token if which == "access_token" else tokens.refresh_token
if act.button("Introspect", icon=":material/manage_search:", disabled=not held):
    st.session_state["introspection"] = (which, token_fingerprint(held or ""), None)
if drop.button("Revoke", icon=":material/block:", disabled=not held):
    try:
        st.success(f"Revoking the {which.replace('_', ' ')} answered HTTP {revoke(session, which)}.")
        st.session_state["introspection"] = (which, token_fingerprint(held or ""), None)
    except LoginError as error:
        st.session_state.pop("introspection", None)  # what it said before may no longer hold
        st.error(prose(error.description))
if saved := st.session_state.get("introspection"):
    asked, seen, result = saved
    current = tokens.access_token if asked == "access_token" else tokens.refresh_token
    if current and (result is None or token_fingerprint(current) != seen):
        # Asked now, or the tokens changed since (a refresh): an answer about the old token is stale.
        try:
            result = introspect(session, asked)
        except LoginError as error:
            st.error(prose(error.description))
        seen = token_fingerprint(current)
        st.session_state["introspection"] = (asked, seen, result)
    if result is not None and current:
        st.markdown(
            f"**Introspection (RFC 7662)** of the {asked.replace('_', ' ')} `{seen[:8]}`: "
            + ("active ✅" if result.get("active") else "inactive ❌")
        )
        st.json(result)
