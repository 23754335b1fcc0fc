"""One login provider as the app talks to it: discovery, keys and token calls.

Authlib's ``AsyncOAuth2Client`` does the OAuth work. This module adds what it
lacks on its own: a single pooled client per provider instead of one per
login, metadata and JWKS caches that expire, a discovery ``issuer`` check, a
JWKS refetch on an unknown ``kid`` (rate-limited), and a timeout on every call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeGuard, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from .config import HttpSettings, ProviderSettings
from .errors import DiscoveryError, ProviderError, ProviderUnreachable
from .keepalive import LIMITS, KeepAliveRetry
from .trace import PROFILE, TITLE, Trace

APPLE_AUDIENCE = "https://appleid.apple.com"
WELL_KNOWN = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

T = TypeVar("T")

# The login being traced by the current task; the pooled client's hooks write there.
current_trace: ContextVar[Trace | None] = ContextVar("current_trace", default=None)


async def _on_request(request: httpx2.Request) -> None:
    if trace := current_trace.get():
        await trace.on_request(request)


async def _on_response(response: httpx2.Response) -> None:
    if trace := current_trace.get():
        await trace.on_response(response)


@dataclass(frozen=True)
class _Cached(Generic[T]):
    value: T
    fetched_at: float


def expected_issuer(metadata_url: str) -> str:
    """OIDC Discovery §4.3 / RFC 8414 §3.3: the issuer is the URL the document came from."""
    parts = urlsplit(metadata_url)
    inserted = WELL_KNOWN[1] + "/"
    if parts.path.startswith(inserted):
        # RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
        return urlunsplit(parts._replace(path=parts.path[len(WELL_KNOWN[1]) :]))
    for suffix in WELL_KNOWN:
        if metadata_url.endswith(suffix):
            return metadata_url[: -len(suffix)]
    return metadata_url


class _OAuthClient(KeepAliveRetry, AsyncOAuth2Client):
    """Authlib's client, on a pool that survives a provider closing an idle connection (keepalive.py)."""


def _said(error: Exception) -> str:
    """An HTTP error's own words, for a sentence that ends in a full stop: httpx's messages may
    end in one already ("...without sending a response.") or be empty."""
    return str(error).strip().rstrip(".") or type(error).__name__


class ProviderClient:
    """Talks to one provider through one pooled HTTP client, with expiring caches."""

    def __init__(
        self,
        settings: ProviderSettings,
        app_base: str,
        http: HttpSettings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``app_base`` resolves the relative URLs of emulated providers (``/idp/...``)."""
        self.settings = settings
        self.app_base = app_base.rstrip("/")
        self.metadata_url = self.url(settings.server_metadata_url) if settings.is_oidc else ""
        self._http = http
        self._clock = clock
        self._lock = asyncio.Lock()
        self._metadata: _Cached[dict[str, object]] | None = None
        self._jwks: _Cached[KeySet] | None = None
        self._kid_refetched_at: float | None = None
        self._apple_secret: _Cached[str] | None = None
        confidential = settings.client_secret or settings.apple_key
        auth_method = (
            (settings.token_auth_method or settings.preset.token_auth_method) if confidential else "none"
        )
        # The table's own endpoints, under their discovery names (endpoints.py), resolved here.
        self._given = {key: self.url(value) for key, value in settings.endpoints.as_metadata().items()}
        self.client = _OAuthClient(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            token_endpoint_auth_method=auth_method,
            revocation_endpoint_auth_method=auth_method,
            # RFC 7636 §4.3: S256; None (a table's code_challenge_method = "none") sends no challenge.
            code_challenge_method="S256" if settings.pkce else None,
            timeout=httpx2.Timeout(http.timeout),
            limits=LIMITS,
            transport=transport,
            event_hooks={"request": [_on_request], "response": [_on_response]},
            # GitHub answers its token endpoint in form encoding unless asked for JSON.
            headers={"Accept": "application/json"},
        )
        for hook in ("access_token_response", "refresh_token_response"):
            self.client.register_compliance_hook(hook, self._refusal_in_its_own_words)

    def _refusal_in_its_own_words(self, response: httpx2.Response) -> httpx2.Response:
        """A token endpoint's refusal that is not RFC 6749 §5.2's ``{"error": ...}`` (Strava's
        ``{"message": "Bad Request", "errors": [...]}``): Authlib would take its JSON for tokens,
        and the login would then say only that no ``access_token`` came. Say what it answered."""
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            return response  # not JSON: Authlib raises the HTTP error itself
        if isinstance(body, dict) and "error" not in body:
            raise ProviderError(
                f"{self.settings.label}'s token endpoint answered HTTP {response.status_code}: "
                f"{response.text[:300]}",
                code=f"http_{response.status_code}",
            )
        return response

    def url(self, value: str) -> str:
        return f"{self.app_base}{value}" if value.startswith("/") else value

    def prepare_client_secret(self) -> None:
        """Apple: the client secret is an ES256 JWT signed with the app's key, made fresh hourly."""
        key = self.settings.apple_key
        now = self._clock()
        if key is None or (self._apple_secret and now - self._apple_secret.fetched_at < 3000):
            return
        claims = {
            "iss": key.team_id,
            "iat": int(now),
            "exp": int(now) + 3600,
            "aud": APPLE_AUDIENCE,
            "sub": self.settings.client_id,
        }
        secret = jwt.encode({"alg": "ES256", "kid": key.key_id}, claims, ECKey.import_key(key.private_key))
        self._apple_secret = _Cached(secret, now)
        self.client.client_secret = secret

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- HTTP with clean errors -------------------------------------------------------
    async def get_json(self, url: str, what: str, *, bearer: str | None = None, title: str = "") -> object:
        """GET a JSON document; ``bearer`` sends an access token; ``title`` names its step in the
        login trace (else the trace guesses from the path). Errors name the URL."""
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
        extensions = {TITLE: title} if title else None
        try:
            response = await self.client.request(
                "GET", url, withhold_token=True, headers=headers, extensions=extensions
            )
        except httpx2.TimeoutException as error:
            raise ProviderUnreachable(f"{self.settings.label}: the {what} at {url} timed out.") from error
        except httpx2.HTTPError as error:
            raise ProviderUnreachable(
                f"{self.settings.label}: cannot fetch the {what} at {url}: {_said(error)}."
            ) from error
        if response.status_code != 200:
            raise ProviderUnreachable(
                f"{self.settings.label}: the {what} at {url} answered HTTP {response.status_code}."
            )
        try:
            return response.json()
        except ValueError as error:
            raise ProviderUnreachable(f"{self.settings.label}: the {what} at {url} is not JSON.") from error

    async def _get_json(self, url: str, what: str) -> dict[str, object]:
        data = await self.get_json(url, what)
        if not isinstance(data, dict):
            raise ProviderUnreachable(f"{self.settings.label}: the {what} at {url} is not a JSON object.")
        return data

    async def _token_call(self, what: str, call: Awaitable[object]) -> dict[str, object]:
        """Await an Authlib token-endpoint call, turning its failures into our errors."""
        try:
            result = await call
        except OAuthError as error:
            raise ProviderError(
                f"{self.settings.label} refused the {what}: {error.error}"
                + (f" ({error.description})" if error.description else ""),
                code=str(error.error),
            ) from error
        except httpx2.TimeoutException as error:
            raise ProviderUnreachable(f"{self.settings.label}: the {what} timed out.") from error
        except (httpx2.HTTPError, ValueError) as error:
            raise ProviderUnreachable(f"{self.settings.label}: the {what} failed: {_said(error)}.") from error
        return dict(result) if isinstance(result, dict) else {}

    async def _endpoint(self, key: str, what: str) -> str:
        endpoint = (await self.metadata()).get(key)
        if not endpoint:
            raise ProviderError(f"{self.settings.label} does not advertise {what} ({key} in discovery).")
        return str(endpoint)

    # --- the OAuth operations ------------------------------------------------------------
    async def authorization_url(
        self, *, state: str, code_verifier: str, redirect_uri: str, **params: str
    ) -> str:
        """RFC 6749 §4.1.1 with PKCE S256 (RFC 7636 §4.3): where to send the browser. A table's
        own ``authorize_url`` is where it goes whatever discovery says, so no fetch is needed."""
        url, _ = self.client.create_authorization_url(
            self._given.get("authorization_endpoint")
            or await self._endpoint("authorization_endpoint", "an authorization endpoint"),
            state=state,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            **params,
        )
        return str(url)

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> dict[str, object]:
        """RFC 6749 §4.1.3: the authorization code (and PKCE verifier) for tokens."""
        self.prepare_client_secret()
        # RFC 7636 §4.5: the verifier only goes with a code whose request carried a challenge.
        pkce = {"code_verifier": code_verifier} if self.settings.pkce else {}
        return await self._token_call(
            "token request",
            self.client.fetch_token(
                await self._endpoint("token_endpoint", "a token endpoint"),
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                **pkce,
            ),
        )

    async def refresh(self, refresh_token: str) -> dict[str, object]:
        """RFC 6749 §6: new tokens for a refresh token."""
        self.prepare_client_secret()
        return await self._token_call(
            "token refresh",
            self.client.refresh_token(
                await self._endpoint("token_endpoint", "a token endpoint"), refresh_token=refresh_token
            ),
        )

    async def revoke(self, token: str, hint: str) -> int:
        """RFC 7009: revoke ``token``; the provider's HTTP status (200: revoked, or unknown)."""
        response = await self._send(
            "token revocation", "revocation_endpoint", self.client.revoke_token, token, hint
        )
        return response.status_code

    async def introspect(self, token: str, hint: str) -> dict[str, object]:
        """RFC 7662: whether ``token`` is active, and what it stands for."""
        response = await self._send(
            "token introspection", "introspection_endpoint", self.client.introspect_token, token, hint
        )
        if response.status_code != 200:
            raise ProviderError(f"Introspection answered HTTP {response.status_code}: {response.text[:200]}")
        data = response.json()
        return data if isinstance(data, dict) else {}

    async def _send(
        self, what: str, key: str, method: Callable[..., Awaitable[httpx2.Response]], token: str, hint: str
    ) -> httpx2.Response:
        endpoint = await self._endpoint(key, what)
        self.prepare_client_secret()
        try:
            return await method(endpoint, token=token, token_type_hint=hint)
        except httpx2.HTTPError as error:
            raise ProviderUnreachable(f"{self.settings.label}: {what} failed: {_said(error)}.") from error

    # --- discovery and keys ------------------------------------------------------------
    def _fresh(self, cached: _Cached[T] | None, ttl: int) -> TypeGuard[_Cached[T]]:
        return cached is not None and self._clock() - cached.fetched_at < ttl

    async def metadata(self) -> dict[str, object]:
        """The provider's discovery document: fetched, checked, cached for ``metadata_ttl``, with
        the endpoints the provider's table names itself in place of its own. An OAuth 2.0-only
        provider has none: its endpoints come from its preset, completed by its table."""
        if not self.settings.is_oidc:
            preset = self.settings.preset
            endpoints = {
                "authorization_endpoint": preset.authorize_url,
                "token_endpoint": preset.token_url,
                "revocation_endpoint": preset.revocation_url,
            }
            return {key: self.url(value) for key, value in endpoints.items() if value}
        document = await self._discovery()
        # The table's authorize_url, access_token_url, userinfo_endpoint and jwks_uri say where
        # the browser, the code and the profile go; they do not say who issues the ID token. So
        # the issuer stays the discovery document's, checked against the URL it was fetched from
        # (OIDC Discovery §4.3), and an ID token must carry exactly it (OIDC Core §3.1.3.7 (2)),
        # signed by a key of its jwks_uri (the table's, if given): overriding endpoints (the blog
        # post's old Google ones) never relaxes a check: an ID token that another issuer's
        # endpoint sent is refused at the `iss` check, which names both values.
        return {**document, **self._given} if self._given else document

    async def _discovery(self) -> dict[str, object]:
        cached = self._metadata
        if self._fresh(cached, self._http.metadata_ttl):
            return cached.value
        async with self._lock:
            cached = self._metadata
            if self._fresh(cached, self._http.metadata_ttl):
                return cached.value  # fetched while we waited
            data = await self._get_json(self.metadata_url, "discovery document")
            self._check_metadata(data)
            self._metadata = _Cached(data, self._clock())
            return data

    def _check_metadata(self, data: dict[str, object]) -> None:
        issuer = expected_issuer(self.metadata_url)
        # OIDC Discovery §4.1: an issuer's terminating "/" is removed before appending the
        # well-known path, so "https://x/" (Auth0, Authentik) is the prefix of this URL too.
        accepted = {issuer, issuer + "/"}
        if template := self.settings.preset.issuer_template:
            # Microsoft's multi-tenant endpoints name a template, checked per token against
            # `tid`; a single-tenant URL names its own issuer, as usual.
            accepted.add(self.url(template))
        if data.get("issuer") not in accepted:
            # OIDC Discovery §4.3: otherwise a document could vouch for another issuer.
            raise DiscoveryError(
                f"{self.settings.label}: the discovery document's `issuer` is {data.get('issuer')!r}, "
                f"but it was fetched from {issuer!r}; they must be identical (OIDC Discovery §4.3)."
            )
        document = OpenIDProviderMetadata(data)
        for field_check in (
            document.validate_issuer,
            document.validate_authorization_endpoint,
            document.validate_token_endpoint,
            document.validate_jwks_uri,
        ):
            try:
                field_check()
            except ValueError as error:
                raise DiscoveryError(f"{self.settings.label}: discovery document: {error}.") from error

    async def jwks(self, *, kid: str | None = None) -> KeySet:
        """The provider's keys, cached for ``jwks_ttl``; re-fetched at once for an unknown ``kid``.

        An unknown ``kid`` is how a key rotation shows (OIDC Core §10.1.1; OpenID RP
        certification ``rp-key-rotation-op-sign-key``), so it refetches whatever the cache's
        age. Only those refetches are rate-limited, to one per ``jwks_refetch_interval``:
        tokens with made-up ``kid``s must not turn every login into a JWKS fetch.
        """
        cached = self._jwks
        if self._fresh(cached, self._http.jwks_ttl) and self._knows(cached, kid):
            return cached.value
        metadata = await self.metadata()  # outside the lock: asyncio.Lock is not reentrant
        async with self._lock:
            current = self._jwks
            if current is not cached and current is not None:
                return current.value  # fetched while we waited
            if self._fresh(current, self._http.jwks_ttl):  # fresh, but the kid is unknown
                now = self._clock()
                last = self._kid_refetched_at
                if last is not None and now - last < self._http.jwks_refetch_interval:
                    return current.value
                self._kid_refetched_at = now
            data = await self._get_json(str(metadata["jwks_uri"]), "JWKS")
            try:
                keyset = KeySet.import_key_set(cast("KeySetSerialization", data))
            except (JoseError, ValueError, TypeError, KeyError) as error:
                raise DiscoveryError(f"{self.settings.label}: the JWKS is malformed: {error}.") from error
            self._jwks = _Cached(keyset, self._clock())
            return keyset

    @staticmethod
    def _knows(cached: _Cached[KeySet] | None, kid: str | None) -> bool:
        return cached is not None and (kid is None or any(k.kid == kid for k in cached.value))

    async def profile(self, metadata: Mapping[str, object], access_token: str) -> dict[str, object]:
        """OIDC userinfo, or an OAuth 2.0 provider's profile API (and GitHub's emails)."""
        preset = self.settings.preset
        url = metadata.get("userinfo_endpoint") or (
            self.url(preset.profile_url) if preset.profile_url else None
        )
        if not url:
            return {}
        data = await self.get_json(str(url), "profile", bearer=access_token, title=PROFILE)
        if preset.profile_envelope and isinstance(data, Mapping):
            data = data.get(preset.profile_envelope)
        profile = dict(data) if isinstance(data, Mapping) else {}
        if preset.emails_url:
            emails = await self.get_json(self.url(preset.emails_url), "email list", bearer=access_token)
            listed = emails if isinstance(emails, list) else []
            verified = [e for e in listed if isinstance(e, Mapping) and e.get("verified")]
            primary = next((e for e in verified if e.get("primary")), verified[0] if verified else None)
            # The profile's email may be unverified or hidden: use the primary verified one, or none.
            profile["email"] = primary.get("email") if primary else None
            profile["email_verified"] = primary is not None
        return profile
