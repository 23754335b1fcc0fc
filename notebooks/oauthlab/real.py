"""Pointing a notebook at a real provider: the client registration from the environment, and
notebook 02's login in a real browser. Without credentials, the part is skipped with a reason."""

from __future__ import annotations

import os
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session

from .exchanges import trace
from .logins import authorize
from .loopback import catch_redirect

LOOPBACK_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class RealProvider:
    """A real provider's client registration, read from ``AUTH_<NAME>_*`` environment variables
    (the same names the app reads, see streamlit_authlib_login/_core/config.py)."""

    name: str
    client_id: str
    client_secret: str | None
    metadata_url: str

    def metadata(self) -> dict[str, object]:
        """The provider's discovery document."""
        return dict(requests.get(self.metadata_url, timeout=10).json())


def real_provider(
    name: str, metadata_url: str | None = None, *, discovery: bool = True, secret_required: bool = True
) -> RealProvider | None:
    """The registration from the environment, or None after printing why this part is skipped.

    ``discovery=False`` for OAuth-only providers (GitHub) that publish no metadata.
    """
    prefix = f"AUTH_{name.upper()}_"
    # python -m notebooks.run clears AUTH_*: committed outputs never come from a real account.
    values = {key: os.environ.get(prefix + key, "") for key in ("CLIENT_ID", "CLIENT_SECRET", "METADATA_URL")}
    url = values["METADATA_URL"] or metadata_url or ""
    needed = ["CLIENT_ID", *(["CLIENT_SECRET"] if secret_required else [])]
    missing = [prefix + key for key in needed if not values[key]]
    if discovery and not url:
        missing.append(prefix + "METADATA_URL")
    if missing:
        print(f"Skipped: set {', '.join(missing)} to run this part against {name}.")
        return None
    return RealProvider(name, values["CLIENT_ID"], values["CLIENT_SECRET"] or None, url)


@dataclass(frozen=True)
class RealLogin:
    """A finished login at a real provider, with the client that made it (to refresh, revoke…)."""

    metadata: dict[str, object]
    session: OAuth2Session
    token: dict[str, object]
    nonce: str


def real_login(
    real: RealProvider, scope: str, redirect_uri: str = LOOPBACK_REDIRECT_URI, **params: str
) -> RealLogin:
    """Notebook 02's steps against a real provider, in a real browser: discovery, PKCE, state,
    nonce, the loopback callback, the code exchange. Every exchange is printed."""
    metadata = real.metadata()
    session = trace(
        OAuth2Session(
            real.client_id,
            real.client_secret,
            scope=scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint=str(metadata["token_endpoint"]),
        )
    )
    login = authorize(session, metadata, lambda url: catch_redirect(url, redirect_uri), **params)
    return RealLogin(metadata, session, login.token, login.nonce)
