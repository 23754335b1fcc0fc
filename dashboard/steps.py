"""What each step of a login means, in one or two sentences, and where to learn it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from streamlit_authlib_login.teaching import Step

NOTEBOOKS = {
    "seed": "01_from_the_blog_recipe",
    "code": "02_authorization_code_flow",
    "pkce": "03_pkce",
    "id_token": "04_id_token",
    "userinfo": "05_scopes_claims_userinfo",
    "refresh": "06_refresh_tokens",
    "logout": "07_revocation_introspection_logout",
    "device": "08_device_flow",
    "m2m": "09_client_credentials",
    "access": "12_authorization",
}

_EXPLAIN: list[tuple[str, str, str]] = [
    # (words in the step title, explanation, notebook key)
    (
        "Authorization request",
        "The app sends the browser to the provider with its client id, the exact "
        "redirect URI, the scopes, a random `state`, a `nonce`, and a PKCE `code_challenge`.",
        "code",
    ),
    (
        "Callback",
        "The provider sends the browser back with a one-time `code`, the same `state`, and its "
        "`iss`. Nothing here is trusted until the checks below pass.",
        "code",
    ),
    (
        "state matched",
        "The `state` is looked up server-side, used once, and must belong to this browser: "
        "this is what stops login CSRF.",
        "code",
    ),
    (
        "iss in the callback",
        "RFC 9207: the provider names itself in the callback, so a response from another provider "
        "(a mix-up attack) is caught.",
        "code",
    ),
    (
        "PKCE",
        "The app proves it started this login. It is the provider that checks (RFC 7636 §4.6): it "
        "hashes the `code_verifier` sent with the code and compares it with the `code_challenge` of "
        "the authorization request. The app only keeps the verifier and sends it.",
        "pkce",
    ),
    (
        "Discovery",
        "The provider's metadata: where its endpoints and keys are. The app checks its `issuer` "
        "equals the URL it came from.",
        "code",
    ),
    (
        "Token request",
        "Server to server: the app trades the code (plus its secret and the PKCE verifier) "
        "for tokens. The browser never sees them.",
        "code",
    ),
    (
        "JWKS",
        "The provider's public keys; the ID token's signature must verify with the one named by its `kid`.",
        "id_token",
    ),
    (
        "ID token validated",
        "Every check of OIDC Core §3.1.3.7: signature, `iss`, `aud`, `exp`, `iat`, `nonce`, `at_hash`.",
        "id_token",
    ),
    (
        "Userinfo",
        "The profile, fetched with the access token. Its `sub` must equal the ID token's.",
        "userinfo",
    ),
    ("userinfo sub", "A userinfo answer for another user would smuggle in a foreign profile.", "userinfo"),
    (
        "access rules",
        "Who may come in, after every check above and before any session exists: the app's "
        "`allowed_*` rules (a verified email or domain, groups, GitHub organisations and teams, "
        "Entra tenants), all of which must hold. With none, anyone with an account at the provider.",
        "access",
    ),
]


def explain(title: str) -> tuple[str, str | None]:
    """One or two sentences on a trace step, by its title, and the notebook that teaches it."""
    for words, text, notebook in _EXPLAIN:
        if words.lower() in title.lower():
            return text, f"notebooks/{NOTEBOOKS[notebook]}.ipynb"
    return "", None


def profile_answers(steps: Sequence[Step]) -> list[tuple[str, object]]:
    """The profile API's answers as the provider sent them (URL, body): ``/user`` and, for
    GitHub, ``/user/emails``, before the app merged them into one profile."""
    return [
        (s.url or "", s.response_body)
        for s in steps
        if s.kind == "http"
        and s.method == "GET"
        and (s.title == "Userinfo / profile" or (s.url or "").split("?")[0].endswith("/emails"))
    ]


def callback_parameters(step: Step) -> dict[str, object] | None:
    """The parameters a callback step recorded (a JSON object, masked), or None: another kind of
    step, or a record older than JSON (a Python dict's repr, which is shown as text)."""
    if step.kind != "callback":
        return None
    try:
        sent = json.loads(step.detail)
    except ValueError:
        return None
    return sent if isinstance(sent, dict) else None
