"""Playground: build an authorization request by hand, see it explained, send it, and come back
to what the provider answered, the token exchange, the validation report and the trace."""

import streamlit as st

from dashboard.playground import PROMPTS, RESPONSE_MODES, parameter_rows
from dashboard.untrusted import prose
from dashboard.widgets import parameters_table, playground_outcome
from streamlit_authlib_login import LoginError, require_login
from streamlit_authlib_login.teaching import (
    configured_provider,
    playground_preview,
    playground_request,
    playground_result,
    playground_send_button,
    provider_names,
)

session = require_login()
st.title("Playground")
st.caption(
    "An authorization request built by hand, on this app's own login: `state`, PKCE (S256) and "
    "`nonce` are always the module's, and the callback runs every check of a normal login."
)

result = playground_result()
if result is not None:
    st.subheader("What came back")
    playground_outcome(result)
elif st.query_params.get("result"):
    st.warning("That result is gone: results are kept 10 minutes, for the session that sent them.")
typed = result.get("form", {}) if result else {}
before = typed if isinstance(typed, dict) else {}

st.subheader("Build the request")
providers = provider_names()
names = list(providers)
provider = st.selectbox(
    "Provider",
    names,
    index=names.index(before["provider"]) if before.get("provider") in names else 0,
    format_func=lambda name: providers[name],
)
settings = configured_provider(provider)  # one of provider_names(): always configured
left, right = st.columns(2)
scope = left.text_input(
    "scope", before.get("scope") or (settings.scope if settings else ""), key=f"scope-{provider}"
)
prompt = right.multiselect("prompt", PROMPTS, [p for p in before.get("prompt", "").split() if p in PROMPTS])
max_age = left.text_input("max_age (seconds)", before.get("max_age", ""), placeholder="e.g. 300")
login_hint = right.text_input("login_hint", before.get("login_hint", ""), placeholder="e.g. bob")
acr_values = left.text_input("acr_values", before.get("acr_values", ""), placeholder="e.g. 0")
modes = ["(the provider's default)", *RESPONSE_MODES]
mode = right.radio(
    "response_mode", modes, horizontal=True, index=modes.index(before.get("response_mode") or modes[0])
)
claims = st.text_area(
    "claims (JSON, OIDC Core §5.5)",
    before.get("claims", ""),
    placeholder='{"id_token": {"email": {"essential": true}}}',
)
extra = st.text_area(
    "Extra parameters, one name=value a line", before.get("extra", ""), placeholder="ui_locales=ko"
)
replace = st.checkbox("Replace my session with this login, if it passes")

form = {
    "provider": provider,
    "scope": scope,
    "prompt": " ".join(prompt),
    "max_age": max_age,
    "login_hint": login_hint,
    "acr_values": acr_values,
    "claims": claims,
    "response_mode": "" if mode == modes[0] else mode,
    "extra": extra,
    "replace": "1" if replace else "",
}
try:
    request = playground_request(form)
    url = playground_preview(request)
except LoginError as error:
    st.error(prose(error.description))  # it may quote what was typed, or a kept result's form
    st.stop()

st.subheader("The authorization request")
st.caption("The exact URL Send goes to; Send makes a fresh `state`, `nonce` and `code_challenge`.")
st.code(url, language=None, wrap_lines=True)
parameters_table(parameter_rows(url, request.params))
playground_send_button(session, form, "/playground", "Send to the provider")
