"""The Playground's explanations: what each authorization request parameter means, who set it,
and where the spec says so."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from streamlit_authlib_login.teaching import MODULE_PARAMETERS, PROMPTS, RESPONSE_MODES

from .claims import OIDC

__all__ = ["MEANINGS", "PROMPTS", "RESPONSE_MODES", "ParameterRow", "parameter_rows"]

RFC6749 = "https://www.rfc-editor.org/rfc/rfc6749"
RFC7636 = "https://www.rfc-editor.org/rfc/rfc7636"
FORM_POST = "https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html"

# name: (what it means, spec link)
MEANINGS: dict[str, tuple[str, str]] = {
    "response_type": (
        "`code`: the authorization code flow; tokens come from the back channel.",
        f"{RFC6749}#section-4.1.1",
    ),
    "client_id": ("Which registered app is asking.", f"{RFC6749}#section-2.2"),
    "redirect_uri": (
        "Where the provider sends the browser back; must match a registered URI exactly.",
        f"{RFC6749}#section-3.1.2",
    ),
    "scope": (
        "What the app asks for; `openid` makes it an OpenID Connect login with an ID token.",
        f"{OIDC}#AuthRequest",
    ),
    "state": (
        "Random, single-use, bound to this browser: the callback is the answer to this login (CSRF).",
        f"{RFC6749}#section-10.12",
    ),
    "nonce": (
        "Random; comes back inside the ID token, so a token from another login is refused (replay).",
        f"{OIDC}#NonceNotes",
    ),
    "code_challenge": (
        "BASE64URL(SHA-256(code_verifier)); the verifier stays on this server until the token request.",
        f"{RFC7636}#section-4.2",
    ),
    "code_challenge_method": (
        "`S256`: the challenge is a hash; `plain` would show the verifier.",
        f"{RFC7636}#section-4.3",
    ),
    "prompt": (
        "`login`: sign in again; `select_account`: choose an account; `consent`: ask again; "
        "`none`: show nothing, or fail.",
        f"{OIDC}#AuthRequest",
    ),
    "max_age": (
        "The sign-in may be at most this many seconds old; the ID token must then carry "
        "`auth_time`, which this app checks.",
        f"{OIDC}#AuthRequest",
    ),
    "login_hint": (
        "Who is expected to sign in (an email, a username); the provider may pre-fill "
        "or skip its login page.",
        f"{OIDC}#AuthRequest",
    ),
    "acr_values": (
        "The authentication context classes wanted (e.g. multi-factor); the `acr` claim "
        "says which one was met.",
        f"{OIDC}#AuthRequest",
    ),
    "claims": (
        "JSON naming individual claims for the ID token or userinfo, essential or voluntary.",
        f"{OIDC}#ClaimsParameter",
    ),
    "response_mode": (
        "How the answer comes back: `query` (a GET) or `form_post` (an auto-submitted POST, "
        "nothing in the URL).",
        FORM_POST,
    ),
    "ui_locales": ("Preferred languages of the provider's pages.", f"{OIDC}#AuthRequest"),
    "claims_locales": ("Preferred languages of the claims' values.", f"{OIDC}#ClaimsLanguagesAndScripts"),
    "display": ("How the provider shows its pages: `page`, `popup`, `touch`, `wap`.", f"{OIDC}#AuthRequest"),
    "id_token_hint": ("A previous ID token, naming who is expected to be signed in.", f"{OIDC}#AuthRequest"),
    "access_type": (
        "Google only: `offline` asks for a refresh token.",
        "https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient",
    ),
}


@dataclass(frozen=True)
class ParameterRow:
    name: str
    value: str
    set_by: str
    meaning: str
    spec: str


def parameter_rows(url: str, chosen: Mapping[str, str]) -> list[ParameterRow]:
    """Each parameter of the authorization URL ``url``, in order: its value, who set it (the
    module, you, or the provider's configuration), what it means and its spec section."""
    rows = []
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        meaning, spec = MEANINGS.get(
            name, ("Not a parameter this page knows; the provider may ignore it.", "")
        )
        set_by = (
            "the module (always)"
            if name in MODULE_PARAMETERS
            else "you"
            if name in chosen
            else "the provider's settings"
        )
        rows.append(ParameterRow(name, value, set_by, meaning, spec))
    return rows
