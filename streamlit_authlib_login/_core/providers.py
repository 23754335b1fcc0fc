"""The configured providers as this app reaches them: their settings by name, the URIs this app
registers at each, and one pooled client per provider (``provider.py``)."""

from __future__ import annotations

import ipaddress
from contextlib import suppress
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import httpx2

from .config import AuthConfig, ProviderSettings
from .errors import LoginError, UnknownProvider
from .provider import ProviderClient
from .registration import Registration
from .sessions import Session

if TYPE_CHECKING:
    from .flow import LocalProviders

TokenKind = Literal["access_token", "refresh_token"]  # also RFC 7009/7662's token_type_hint


def canonical_origin(origin: str) -> str:
    """``scheme://host[:port]`` spelt one way: lower case (RFC 3986 §6.2.2.1), without the
    scheme's default port (§6.2.3), an IP address in its canonical text (RFC 5952 for IPv6).
    A Host header spelt LOCALHOST, localhost:80 or [0::1] is then no new origin (a new redirect
    URI, a new client, one of the dev provider's few addresses: ``_devmode.MAX_DEV_ORIGINS``)."""
    try:
        parts = urlsplit(origin)
        scheme, host, port = parts.scheme.lower(), parts.hostname or "", parts.port
    except ValueError:  # a port that is no number: left as it came, to be refused where it is used
        return origin.rstrip("/")
    with suppress(ValueError):
        address = ipaddress.ip_address(host)
        host = f"[{address.compressed}]" if address.version == 6 else address.compressed
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


class Providers:
    """Provider settings by name, this app's URIs at each, and their pooled clients."""

    def __init__(
        self,
        config: AuthConfig,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        local: LocalProviders | None = None,
    ) -> None:
        self.config = config
        self._transport = transport
        self._local = local
        self._clients: dict[tuple[str, str], ProviderClient] = {}

    def settings(self, name: str) -> ProviderSettings:
        found = self.config.provider(name)
        if found is None:
            raise UnknownProvider(f"No provider named {name!r} is configured.")
        return found

    def base_url(self, origin: str) -> str:
        """The URL of the app's root: the configured base URL, else ``origin`` in its one
        spelling (``canonical_origin``) and the path the server serves the app under."""
        return self.config.base_url or canonical_origin(origin) + self.config.base_path

    def public_origin(self, origin: str) -> str:
        """The origin of ``base_url``: what a browser's ``Origin`` header says on the app's pages."""
        if self.config.base_url is None:
            return canonical_origin(origin)
        parts = urlsplit(self.config.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def redirect_uri(self, name: str, origin: str) -> str:
        """The callback URI sent to provider ``name``: one per provider, or st.login's one
        ``[auth] redirect_uri`` for all of them (the provider is then known from ``state``)."""
        return self.config.redirect_uri or f"{self.base_url(origin)}/auth/callback/{name}"

    def post_logout_uri(self, name: str, origin: str) -> str:
        """Where the provider sends the browser after RP-initiated logout: the login callback
        unless configured otherwise, so nothing new needs registering where a provider accepts
        a registered redirect URI there (Microsoft, Keycloak's default); others need it listed too."""
        return self.settings(name).post_logout_redirect_uri or self.redirect_uri(name, origin)

    def client(self, settings: ProviderSettings, app_base: str) -> ProviderClient:
        """The pooled client for one provider, reached through the app at ``app_base``
        (which only matters for a provider whose URLs are paths of this app)."""
        key = (settings.name, app_base if settings.served_here else "")
        if key not in self._clients:
            transport = (self._local and self._local.transport(settings)) or self._transport
            self._clients[key] = ProviderClient(settings, app_base, self.config.http, transport=transport)
        return self._clients[key]

    def registration(self, name: str, origin: str) -> Registration:
        """The exact URIs to register at provider ``name`` for this app served at ``origin``."""
        return Registration.of(
            self.settings(name), self.redirect_uri(name, origin), self.post_logout_uri(name, origin)
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    # --- for pages: a session's tokens at its provider, a provider's own description ---------
    async def introspect(self, session: Session, which: TokenKind = "access_token") -> dict[str, object]:
        """RFC 7662 at the session's provider; raises ``LoginError``."""
        client = self.client(self.settings(session.provider), session.app_base)
        return await client.introspect(_token(session, which), which)

    async def revoke(self, session: Session, which: TokenKind = "access_token") -> int:
        """RFC 7009 at the session's provider: its HTTP status (200: done); raises ``LoginError``."""
        client = self.client(self.settings(session.provider), session.app_base)
        return await client.revoke(_token(session, which), which)

    async def provider_metadata(self, name: str, *, origin: str) -> dict[str, object]:
        """Provider ``name``'s discovery document (checked), or its preset's endpoints; raises
        ``LoginError``."""
        return await self.client(self.settings(name), self.base_url(origin)).metadata()

    def provider_entry_url(self, name: str, *, origin: str) -> str:
        """Its discovery URL (OpenID Connect), or its authorization endpoint (OAuth 2.0 only)."""
        client = self.client(self.settings(name), self.base_url(origin))
        return (
            client.metadata_url
            if client.settings.is_oidc
            else client.url(client.settings.preset.authorize_url)
        )


def _token(session: Session, which: TokenKind) -> str:
    value = session.tokens.access_token if which == "access_token" else session.tokens.refresh_token
    if not value:
        raise LoginError(f"This session has no {which.replace('_', ' ')}.")
    return value
