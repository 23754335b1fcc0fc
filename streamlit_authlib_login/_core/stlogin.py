"""Streamlit's own ``st.login`` / ``st.user`` / ``st.logout``, answered by this login module.

An app written for ``st.login`` runs unchanged under ``create_app``: ``st.login(name)`` sends
the browser to ``GET /auth/login?provider=<token>``, which starts *our* login; the provider
comes back to st.login's ``/oauth2callback``; ``st.user`` shows our server-side session on
every rerun; ``st.logout()`` navigates to ``GET /auth/logout``, which ends it. This module is
the protocol half of that (no Streamlit, no Starlette): the provider token, what ``st.user``
holds, what st.login's own secrets check must find, and when a GET logout is the app's own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from .config import AuthConfig
from .config_keys import DEFAULT_PROVIDER, ST_LOGIN_CALLBACK
from .errors import ProviderTokenError
from .sessions import Session

# What Streamlit 1.67 signs (streamlit/auth_util.py encode_provider_token): HS256 over
# {"provider", "exp"} with [auth] cookie_secret, valid 2 minutes: exp = int(now + 120 s).
PROVIDER_TOKEN_ALGORITHM = "HS256"
PROVIDER_TOKEN_LIFETIME = 120  # seconds
CLOCK_SKEW = 30  # seconds: the replica that signed it may be this far ahead of this one
# OAuth 2.0-only providers have no ID token: st.user gets the normalized profile under the
# OIDC claim names st.login apps read (OIDC Core §5.1).
PROFILE_AS_CLAIMS = {
    "id": "sub",
    "name": "name",
    "username": "preferred_username",
    "email": "email",
    "email_verified": "email_verified",
    "avatar": "picture",
    "locale": "locale",
}


def provider_from_token(token: str | None, cookie_secret: str, *, now: float | None = None) -> str:
    """The provider a ``st.login(name)`` token names, verified as Streamlit verifies it.

    Only HS256 under the app's ``cookie_secret``, a non-empty string ``provider``, an integer
    ``exp`` in the next 2 minutes (give or take ``CLOCK_SKEW``); anything else raises
    ``ProviderTokenError`` (forged, expired, or signed by another app).
    """
    if not token:
        raise ProviderTokenError("This login link has no `provider` token: start it with st.login().")
    try:
        decoded = jwt.decode(token, OctKey.import_key(cookie_secret), algorithms=[PROVIDER_TOKEN_ALGORITHM])
    except (JoseError, ValueError, TypeError):
        raise ProviderTokenError(
            "This login link's `provider` token is not signed with this app's cookie_secret: it was "
            "forged, or made by another app. Start the login again from the app."
        ) from None
    provider, exp = decoded.claims.get("provider"), decoded.claims.get("exp")
    if not isinstance(provider, str) or not provider:
        raise ProviderTokenError("This login link's `provider` token names no provider.")
    if isinstance(exp, bool) or not isinstance(exp, int):
        # Streamlit signs an integer; a float may be NaN or infinite (JSON as Python reads it),
        # and NaN compares false with everything: it would never expire.
        raise ProviderTokenError("This login link's `provider` token has no expiry (`exp`) as an integer.")
    now = time.time() if now is None else now
    if exp <= now:
        raise ProviderTokenError(
            "This login link expired (st.login's links are good for 2 minutes). Start the login again."
        )
    if exp > now + PROVIDER_TOKEN_LIFETIME + CLOCK_SKEW:
        raise ProviderTokenError(
            "This login link's `provider` token expires later than st.login's 2 minutes allow: it was "
            "not made by st.login. Start the login again from the app."
        )
    return provider


def st_user(
    session: Session | None, *, origin: str, expose_tokens: tuple[str, ...] = ()
) -> dict[str, object]:
    """What ``st.user`` holds for ``session``: as st.login would fill it, from our session.

    st.login stores the ID token's claims plus ``is_logged_in``, ``provider`` and ``origin``
    (streamlit/web/server/starlette/starlette_auth_routes.py); ``tokens`` only as
    ``[auth] expose_tokens`` asks.
    """
    if session is None:
        return {"is_logged_in": False}
    if session.claims:
        shown = dict(session.claims)
    else:
        shown = {
            claim: session.profile[field]
            for field, claim in PROFILE_AS_CLAIMS.items()
            if session.profile.get(field) not in (None, "")
        }
    shown |= {"is_logged_in": True, "provider": session.provider, "origin": origin}
    if expose_tokens:
        tokens = {"id": session.tokens.id_token, "access": session.tokens.access_token}
        shown["tokens"] = {name: tokens[name] for name in expose_tokens if tokens.get(name)}
    return shown


def st_login_secrets(auth: Mapping[str, object], config: AuthConfig, *, port: int) -> dict[str, object]:
    """The ``[auth]`` table st.login's own check (``validate_auth_credentials``) must find, for
    every provider this app logs in with: the secrets file's, completed.

    st.login checks, in the page, that ``redirect_uri``, ``cookie_secret`` and each provider's
    ``client_id``, ``client_secret`` and ``server_metadata_url`` are present, and signs its
    provider token with that ``cookie_secret``. So this holds the cookie secret the login
    module verifies with, and fills in what an OAuth 2.0 preset (no discovery URL) or a
    provider served by this app lacks, and a table for each name a provider answers to
    (``st_login_names``). It is what ``st.App(secrets=...)`` gets; nothing is written.
    """
    table: dict[str, object] = {k: v for k, v in auth.items()}
    table["cookie_secret"] = config.cookie_secret
    table.setdefault(
        "redirect_uri", config.redirect_uri or f"http://localhost:{port}{config.base_path}{ST_LOGIN_CALLBACK}"
    )
    for provider in config.providers:
        if provider.served_here:  # reached by the names below: nothing to register
            continue
        section = provider.name if provider.name != DEFAULT_PROVIDER else None
        filled = {
            "client_id": provider.client_id,
            "client_secret": provider.client_secret or "(none: a public client)",
            "server_metadata_url": provider.server_metadata_url
            or f"(none: {provider.label} is OAuth 2.0 only)",
        }
        if section is None:
            for key, value in filled.items():
                table.setdefault(key, value)
        else:
            current = table.get(section)
            table[section] = {**filled, **(current if isinstance(current, Mapping) else {})}
    for provider in config.providers:
        # st.login() and st.login("github"), offline: the development provider and its twins.
        stand_in = {
            "client_id": f"(answered by {provider.name})",
            "client_secret": "-",
            "server_metadata_url": "-",
        }
        for name in provider.st_login_names:
            if name == DEFAULT_PROVIDER:
                if DEFAULT_PROVIDER not in table and "client_id" not in table:
                    table.update(stand_in)
            elif name not in table:
                table[name] = dict(stand_in)
    return table


def same_origin_navigation(headers: Mapping[str, str], origins: tuple[str, ...]) -> bool:
    """Whether a GET request comes from one of this app's own pages (or the address bar).

    ``st.logout()`` logs out with a GET navigation; a link on another site must not. Fetch
    Metadata first (``Sec-Fetch-Site``: same-origin, or none for a typed URL); browsers that
    do not send it are judged by ``Origin``, then ``Referer``; with neither, refuse.
    """
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    for header in ("origin", "referer"):
        if value := headers.get(header):
            parts = urlsplit(value)
            return f"{parts.scheme}://{parts.netloc}" in origins
    return False
