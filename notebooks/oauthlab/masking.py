"""Secrets masked for printing: the app's own rules (``streamlit_authlib_login._core.trace``), plus what a notebook
shows that the app never logs: the dev provider's login form, a Basic header's client id,
cookie names, and URLs byte for byte."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

from streamlit_authlib_login._core.trace import mask, masked_params

HIDDEN = "••••••"
# Beyond streamlit_authlib_login._core.trace's secrets: the dev provider's login form carries a per-browser CSRF token.
FORM_SECRETS = frozenset({"csrf"})


def masked(params: Mapping[str, object]) -> dict[str, object]:
    """``streamlit_authlib_login._core.trace.masked_params``, with the dev provider's form secrets hidden too."""
    return {k: HIDDEN if k in FORM_SECRETS else v for k, v in masked_params(params).items()}


def masked_url(url: str) -> str:
    """The URL with tokens in its query masked; everything else exactly as sent.

    Not ``streamlit_authlib_login._core.trace.masked_url``: that one re-encodes the query (dropping empty and repeated
    parameters), and a reader comparing the printed URL with the spec should see the real one.
    """
    base, _, query = url.partition("?")
    if not query:
        return url
    pairs = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        name, plain = unquote_plus(key), unquote_plus(value)
        shown = masked({name: plain})[name]
        pairs.append(pair if shown == plain else f"{key}={shown}")
    return f"{base}?{'&'.join(pairs)}"


def masked_header(name: str, value: str) -> str:
    """A header's value with credentials masked, keeping what a reader learns from."""
    lower = name.lower()
    if lower == "authorization":
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            # RFC 6749 §2.3.1: client_id:client_secret, base64. Show who, never the secret.
            client_id = base64.b64decode(credentials).decode().split(":", 1)[0]
            return f"Basic base64({client_id}:{HIDDEN})"
        return f"{scheme} {mask(credentials)}"
    if lower in ("cookie", "set-cookie"):
        # Cookie names and short flags teach something; long values are session secrets.
        return re.sub(r"=([^;,\s]+)", lambda m: "=" + (HIDDEN if len(m.group(1)) > 8 else m.group(1)), value)
    if lower == "location":
        return masked_url(value)
    return value
