"""JWT inspector: paste any JWT; decode, explain, verify, and run the OIDC checks."""

import json

import streamlit as st

from dashboard.claims import ACCESS_TOKEN_MEANINGS, meanings_for
from dashboard.fetch import Reach, loopback_prefixes
from dashboard.inspector import (
    SIGNING,
    InspectError,
    algorithms_of,
    compare,
    decode,
    discover,
    keys_from_text,
    keys_from_url,
    new_key,
    oidc_checks,
    public_jwks,
    sign,
    signing_key,
    verify_signature,
    warnings,
)
from dashboard.untrusted import code
from dashboard.verdict import KeySource, for_keys, verdict
from dashboard.widgets import claims_table, colored_jwt, header_table, report_table
from streamlit_authlib_login import current_session
from streamlit_authlib_login.teaching import configured_providers, dev_provider_mount

session = current_session()
st.title("JWT inspector")
st.caption("Paste a JWT from any provider. It stays on this server; nothing is sent anywhere you do not ask.")

own = session.tokens.id_token if session and session.tokens.id_token else ""
if own and st.button("Use my ID token"):
    st.session_state["inspect_token"] = own
    # The nonce the login sent is the one its ID token carries: the login checked they match.
    st.session_state["inspect_nonce"] = str(session.claims.get("nonce", "")) if session else ""
    if session and session.tokens.refreshed_at and "nonce" not in session.claims:
        st.caption("This ID token came with a refresh: no nonce was sent for it (OIDC Core §12.2).")
with st.expander("Make and sign a token: break one the way a fault switch does"):
    alg = st.radio("Algorithm", SIGNING, horizontal=True)
    header_text = st.text_area("Header (JSON)", '{"typ": "JWT"}', height=68)
    payload_text = st.text_area(
        "Payload (JSON)", json.dumps(dict(session.claims) if session else {"sub": "me"})
    )
    pasted = st.text_area("Private key (JWK or PEM; for HS256, the secret). Empty: a new key")
    if st.button("Sign", icon=":material/draw:"):
        try:
            key = signing_key(alg, pasted) if pasted.strip() else new_key(alg)
            st.session_state["inspect_token"] = sign(header_text, payload_text, key, alg)
            st.session_state["made_jwks"] = "" if alg == "HS256" else json.dumps(public_jwks(key))
        except InspectError as error:
            st.error(str(error))
    if made := st.session_state.get("made_jwks"):
        st.caption("Its public key, to paste under *Verify the signature*:")
        st.code(made, language="json", wrap_lines=True)
token = st.text_area("JWT", key="inspect_token", height=120, placeholder="eyJhbGciOi…")
if not token.strip():
    st.stop()
try:
    decoded = decode(token)
except InspectError as error:
    st.error(str(error))
    st.stop()

for warning in warnings(decoded):
    st.warning(warning)
colored_jwt("".join(token.split()), reveal_signature=False)
with st.expander("Raw JSON: header and payload"):
    raw_header, raw_payload = st.columns(2)
    raw_header.json(decoded.header)
    raw_payload.json(decoded.claims)
st.subheader("Header")
header_table(decoded.header)
st.subheader("Claims")
meanings = meanings_for(decoded.header)
if meanings is ACCESS_TOKEN_MEANINGS:
    st.caption(
        "`typ` at+jwt: an access token (RFC 9068), for the API named in `aud`, not for the app "
        "that carries it. The OpenID Connect checks below are an ID token's."
    )
claims_table(decoded.claims, meanings=meanings)

st.subheader("Verify the signature")
source = st.radio(
    "Keys", ["From the issuer (discovery)", "From a JWKS URL", "Pasted JWKS / JWK / PEM"], horizontal=True
)
issuer = str(decoded.claims.get("iss", ""))
keys = metadata = None
key_source = KeySource("pasted")
# Keys come from the public internet, and from this app's own development provider when it
# runs: on loopback at this server's own port (not the Host header's, which anyone can set).
mount = dev_provider_mount()
reach = Reach(also=loopback_prefixes(int(st.get_option("server.port")), mount) if mount else ())
try:
    if source.startswith("From the issuer"):
        st.caption(f"Issuer: {code(issuer or '(no iss claim)')}; http:// is allowed for localhost only.")
        if issuer and st.button("Fetch the issuer's keys"):
            metadata = discover(issuer, reach)
            jwks = keys_from_url(str(metadata["jwks_uri"]), reach)
            st.session_state["inspector_keys"] = (issuer, metadata, jwks)
        # Fetched once per click, not on every rerun of this page.
        if (saved := st.session_state.get("inspector_keys")) and saved[0] == issuer:
            _, metadata, keys = saved
            key_source = KeySource("issuer", issuer)
    elif source.startswith("From a JWKS URL"):
        if url := st.text_input("JWKS URL", placeholder="https://…/jwks.json"):
            fetched = st.session_state.get("inspector_url_keys")
            if fetched is None or fetched[0] != url:
                fetched = (url, keys_from_url(url, reach))
                st.session_state["inspector_url_keys"] = fetched
            keys = fetched[1]
            key_source = KeySource("url", url)
    elif text := st.text_area(
        "Keys", height=120, placeholder='{"keys": [...]} or -----BEGIN PUBLIC KEY-----'
    ):
        keys = keys_from_text(text)
    if keys is not None:
        kid = verify_signature(token, keys)
        # Whose key it is decides what a signature proves: said right where it passes.
        trusted = key_source.kind == "issuer"
        (st.success if trusted else st.warning)(
            f"{'✅ ' if trusted else ''}The signature verifies with key {code(kid)}, one of "
            f"{key_source.keys(code)}. {key_source.proves}"
        )
except InspectError as error:
    st.error(str(error))
    keys = None

st.subheader("OpenID Connect checks (§3.1.3.7)")
if keys is None:
    st.info("Get the keys above first: the checks start with the signature.")
else:
    known = {p.client_id for p in configured_providers()}
    audience_default = next((a for a in [decoded.claims.get("aud")] if isinstance(a, str) and a in known), "")
    audience = st.text_input("Your client id (expected `aud`)", value=audience_default)
    nonce = st.text_input("The nonce you sent (optional)", key="inspect_nonce")
    access_token = st.text_input(
        "The access token issued with it, to recompute `at_hash` (optional)", type="password"
    )
    if audience:
        algorithms = algorithms_of(metadata)
        report = oidc_checks(
            token,
            keys=keys,
            issuer=issuer,
            audience=audience,
            nonce=nonce,
            access_token=access_token,
            algorithms=algorithms,
        )
        given = bool(nonce.strip())
        report = for_keys(report, key_source, nonce_given=given)
        tone, sentence = verdict(report, key_source, nonce_given=given)
        {"success": st.success, "warning": st.warning, "error": st.error}[tone](sentence)
        report_table(report)

if session and session.userinfo and session.claims:
    st.subheader("Your ID token's claims vs your userinfo")
    rows = compare(session.claims, session.userinfo, names=("ID token", "userinfo"))
    st.dataframe(rows, hide_index=True, width="stretch")
