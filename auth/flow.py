"""The login itself, framework-free: start, finish (callback), refresh, logout.

``routes.py`` turns HTTP requests into calls of ``Authenticator``; nothing here
knows about Starlette or Streamlit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import httpx2
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .config import AuthConfig, ProviderSettings, is_loopback_url
from .errors import (
    ConfigError,
    IssuerMismatch,
    LoginError,
    LogoutReturnError,
    NotLoggedIn,
    ProviderError,
    StateError,
    UnknownProvider,
    UserinfoMismatch,
)
from .profile import apple_first_login, normalize
from .provider import ProviderClient, current_trace
from .registration import Registration
from .sessions import PendingLogin, PendingLogout, Session, SessionManager, Tokens
from .trace import Trace, fingerprint, masked_params, masked_url
from .validation import (
    ValidationReport,
    allowed_algorithms,
    unverified_claims,
    unverified_header,
    validate_id_token,
)

RegisterDevClient = Callable[[str, str], None]  # (redirect_uri, post_logout_redirect_uri)


@dataclass(frozen=True)
class LoggedOut:
    """What a logout did: which login it ended, and where the browser goes next."""

    provider: str | None = None
    subject: str | None = None  # a fingerprint of `sub`, for the log
    revoked: int = 0
    end_session_url: str | None = None  # the provider's RP-initiated logout, when it has one
    state: str | None = None  # sent there, to be checked when the browser comes back


MAX_NEXT = 2048  # longer is no page of this app, and would bloat what is stored per login
MAX_DEV_ORIGINS = 8  # addresses the embedded provider registers callbacks for, without base_url


def safe_next(path: str | None) -> str:
    """Same-origin paths only: anything else would make the login an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > MAX_NEXT:
        return "/"
    return path


class Authenticator:
    """Logs browsers in and out of the configured providers."""

    def __init__(
        self,
        config: AuthConfig,
        sessions: SessionManager,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        register_dev_client: RegisterDevClient | None = None,
        dev_transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` carries calls to every provider (None: the network);
        ``dev_transport`` those to the embedded development provider, which lives
        in this very process and so needs no socket."""
        self.config = config
        self.sessions = sessions
        self._transport = transport
        self._dev_transport = dev_transport
        self._register_dev_client = register_dev_client
        self._clients: dict[tuple[str, str], ProviderClient] = {}
        # A lock lives while a refresh holds it: one per session would grow with every login.
        self._refresh_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._dev_origins: set[str] = set()

    # --- providers -------------------------------------------------------------------
    def settings(self, name: str) -> ProviderSettings:
        found = self.config.provider(name)
        if found is None:
            raise UnknownProvider(f"No provider named {name!r} is configured.")
        return found

    def base_url(self, origin: str) -> str:
        return self.config.base_url or origin.rstrip("/")

    def redirect_uri(self, name: str, origin: str) -> str:
        return f"{self.base_url(origin)}/auth/callback/{name}"

    def post_logout_uri(self, name: str, origin: str) -> str:
        """Where the provider sends the browser after RP-initiated logout: the login callback
        unless configured otherwise, so nothing new needs registering where a provider accepts
        a registered redirect URI there (Microsoft, Keycloak's default); others need it listed too."""
        return self.settings(name).post_logout_redirect_uri or self.redirect_uri(name, origin)

    def client(self, settings: ProviderSettings, app_base: str) -> ProviderClient:
        """The pooled client for one provider, reached through the app at ``app_base``
        (which only matters for the embedded provider and its emulations)."""
        key = (settings.name, app_base if settings.is_dev else "")
        if key not in self._clients:
            transport = self._dev_transport if settings.is_dev and self._dev_transport else self._transport
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

    # --- login ---------------------------------------------------------------------
    async def start_login(self, name: str, *, origin: str, next_path: str | None, binding_cookie: str) -> str:
        """Remember a new pending login and return the provider URL to send the browser to."""
        settings = self.settings(name)
        if settings.is_dev and not is_loopback_url(self.base_url(origin)):
            raise ConfigError(
                "The development provider only works on localhost: it logs anyone in without a password."
            )
        redirect_uri = self.redirect_uri(name, origin)
        if settings.is_dev:
            self._dev_origin(self.base_url(origin), redirect_uri, self.post_logout_uri(name, origin))
        client = self.client(settings, self.base_url(origin))
        trace = Trace()
        token = current_trace.set(trace)
        try:
            metadata = await client.metadata()
        finally:
            current_trace.reset(token)
        state = secrets.token_urlsafe(32)
        # OIDC Core §3.1.2.1: a nonce ties the ID token to this login; OAuth-only providers have none.
        nonce = secrets.token_urlsafe(32) if settings.is_oidc else ""
        verifier = secrets.token_urlsafe(64)  # RFC 7636 §4.1: 43-128 characters
        extra = {"nonce": nonce} if nonce else {}
        if settings.scope:
            extra["scope"] = settings.scope
        url, _ = client.client.create_authorization_url(
            str(metadata["authorization_endpoint"]),
            state=state,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            **extra,
            **settings.authorize_params,
        )
        trace.state = state
        trace.add(
            "redirect", "Authorization request: the browser is sent to the provider", url=masked_url(url)
        )
        self.sessions.save_pending(
            PendingLogin(
                provider=name,
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                redirect_uri=redirect_uri,
                next_path=safe_next(next_path),
                browser_binding=self.sessions.binding(binding_cookie),
                created_at=int(time.time()),
                app_base=client.app_base,
                trace=trace.as_dict(),
            )
        )
        return url

    def _dev_origin(self, app_base: str, redirect_uri: str, post_logout_uri: str) -> None:
        """Register this origin's callback with the embedded provider, for a few origins only:
        each distinct Host would otherwise add a URI and a client, forever."""
        if app_base not in self._dev_origins:
            if len(self._dev_origins) >= MAX_DEV_ORIGINS:
                raise ConfigError(
                    f"The development provider was reached at {MAX_DEV_ORIGINS} different addresses "
                    "already; open the app at one of them, or set [auth] base_url to the one you use."
                )
            self._dev_origins.add(app_base)
        if self._register_dev_client is not None:
            self._register_dev_client(redirect_uri, post_logout_uri)

    async def finish_login(
        self, name: str, params: Mapping[str, str], *, binding_cookie: str | None
    ) -> tuple[Session, str]:
        """Complete the login from the callback's parameters; return the session and where to go next.

        Raises ``LoginError`` naming the check that failed; on any failure no session exists.
        """
        state = params.get("state")
        if not state:
            raise StateError(
                "The callback has no `state`, so it cannot be matched to a login this app started."
            )
        pending = self.sessions.take_pending(state)
        if pending is None:
            raise StateError(
                "The callback's `state` is unknown, already used, or expired (a login must finish "
                "within 10 minutes). Start the login again."
            )
        trace = Trace.from_dict(pending.trace)
        trace.add(
            "callback", "Callback: the provider sends the browser back", detail=str(masked_params(params))
        )
        token = current_trace.set(trace)
        try:
            session = await self._finish(name, params, pending, binding_cookie, trace)
        except LoginError as error:
            error.trace, error.next_path = trace, pending.next_path
            raise
        finally:
            current_trace.reset(token)
        return session, pending.next_path

    async def _finish(
        self,
        name: str,
        params: Mapping[str, str],
        pending: PendingLogin,
        binding_cookie: str | None,
        trace: Trace,
    ) -> Session:
        if pending.provider != name:
            raise StateError(f"This `state` belongs to a login with {pending.provider!r}, not {name!r}.")
        bound = binding_cookie is not None and hmac.compare_digest(
            pending.browser_binding, self.sessions.binding(binding_cookie)
        )
        trace.check("state matched, in the browser that started the login", bound, "RFC 9700 §4.7.1")
        if not bound:
            raise StateError(
                "This callback reached a different browser than the one that started the login "
                "(its login cookie does not match the `state`). Start the login again in one browser."
            )
        settings = self.settings(name)
        client = self.client(settings, pending.app_base)
        metadata = await client.metadata()
        issuer = metadata.get("issuer")
        returned_iss = params.get("iss")
        if returned_iss is not None or metadata.get("authorization_response_iss_parameter_supported"):
            ok = returned_iss == issuer
            trace.check("`iss` in the callback is the provider's issuer", ok, "RFC 9207 §2.4")
            if not ok:
                raise IssuerMismatch(
                    f"The callback's `iss` is {returned_iss!r}, not {issuer!r}: the response may come "
                    "from another provider (a mix-up attack, RFC 9207 §2.4)."
                )
        if "error" in params:
            description = params.get("error_description", "")
            raise ProviderError(
                f"{settings.label} answered `{params['error']}`"
                + (f": {description}" if description else "."),
                code=params["error"],
            )
        code = params.get("code")
        if not code:
            raise ProviderError(f"{settings.label} sent the browser back without a `code`.")
        trace.code_fingerprint = fingerprint(code)
        trace.check(
            "PKCE: S256(code_verifier) recomputed",
            True,
            f"code_challenge = {create_s256_code_challenge(pending.code_verifier)}; "
            "the provider compares it with the verifier sent in the token request (RFC 7636 §4.6)",
        )
        client.prepare_client_secret()
        token = await client.call(
            "token request",
            client.client.fetch_token(
                str(metadata["token_endpoint"]),
                grant_type="authorization_code",
                code=code,
                redirect_uri=pending.redirect_uri,
                code_verifier=pending.code_verifier,
            ),
        )
        if not isinstance(token.get("access_token"), str):
            # RFC 6749 §5.1: access_token is REQUIRED in a successful token response.
            raise ProviderError(f"{settings.label}'s token response has no `access_token` (RFC 6749 §5.1).")
        claims: dict[str, object] = {}
        report: dict[str, object] = {}
        if settings.is_oidc:
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise ProviderError(f"{settings.label} returned no ID token although `openid` was requested.")
            checked = await self._validate(client, metadata, id_token, token, pending.nonce)
            claims, report = dict(checked.claims), checked.as_dict()
            trace.check("ID token validated (OIDC Core §3.1.3.7)", True, "all checks passed; nonce matched")
        access_token = str(token["access_token"])
        userinfo = await client.profile(metadata, access_token)
        if claims and userinfo and userinfo.get("sub") != claims.get("sub"):
            trace.check("userinfo `sub` equals the ID token's", False, "OIDC Core §5.3.2")
            raise UserinfoMismatch(
                f"Userinfo answered for `sub` {userinfo.get('sub')!r}, but the ID token is for "
                f"{claims.get('sub')!r}; the profile cannot be trusted (OIDC Core §5.3.2)."
            )
        if first_login := apple_first_login(params):
            # Apple sends the name once, on the first authorization, in the form post.
            userinfo = {**userinfo, **first_login}
        session = self.sessions.create(
            provider=name,
            profile=normalize(claims, userinfo, settings.preset),
            claims=claims,
            tokens=Tokens.from_response(token),
            report=report,
            trace=trace.as_dict(),
            userinfo=userinfo,
            requested_scope=settings.scope,
            app_base=client.app_base,
        )
        self.sessions.mark_provider_working(name)  # its set-up help is no longer needed
        return session

    async def _validate(
        self,
        client: ProviderClient,
        metadata: Mapping[str, object],
        id_token: str,
        token: Mapping[str, object],
        nonce: str | None,
    ) -> ValidationReport:
        kid = unverified_header(id_token).get("kid")
        jwks = await client.jwks(kid=str(kid) if kid else None)
        issuer = str(metadata["issuer"])
        issuer_check = None
        if "{tenantid}" in issuer:
            # Microsoft: the template's tenant comes from the token's own `tid`. Never skip
            # the `iss` check: without a `tid` the expected issuer is unmatchable.
            tid = unverified_claims(id_token).get("tid")
            issuer_check = issuer.replace("{tenantid}", tid if isinstance(tid, str) and tid else "(no tid)")
        return validate_id_token(
            id_token,
            jwks=jwks,
            issuer=issuer,
            issuer_check=issuer_check,
            client_id=client.settings.client_id,
            nonce=nonce,
            algorithms=allowed_algorithms(metadata.get("id_token_signing_alg_values_supported")),  # type: ignore[arg-type]
            now=int(time.time()),
            access_token=str(token.get("access_token", "")) or None,
        )

    # --- refresh and logout -----------------------------------------------------------
    async def refresh(self, session_id: str) -> Session:
        """Refresh the session's tokens. Concurrent calls for one session refresh once."""
        lock = self._refresh_locks.get(session_id)
        if lock is None:
            lock = self._refresh_locks[session_id] = asyncio.Lock()
        seen = self.sessions.load(session_id)
        async with lock:
            session = self.sessions.load(session_id)
            if session is None or seen is None:
                raise NotLoggedIn("The session has ended; log in again.")
            if session.tokens.refresh_count != seen.tokens.refresh_count:
                return session  # another request refreshed while we waited: single flight
            if not session.tokens.refresh_token:
                raise ProviderError("This login has no refresh token (ask for `offline_access`).")
            client = self.client(self.settings(session.provider), session.app_base)
            metadata = await client.metadata()
            token = await client.call(
                "token refresh",
                client.client.refresh_token(
                    str(metadata["token_endpoint"]), refresh_token=session.tokens.refresh_token
                ),
            )
            fresh = Tokens.from_response(token)
            updated = replace(
                session,
                tokens=replace(
                    fresh,
                    refresh_token=fresh.refresh_token or session.tokens.refresh_token,
                    id_token=fresh.id_token or session.tokens.id_token,
                    refreshed_at=int(time.time()),
                    refresh_count=session.tokens.refresh_count + 1,
                ),
            )
            self.sessions.save(updated)
            return updated

    async def logout(self, session_id: str, *, origin: str) -> LoggedOut:
        """End the session here, revoke its tokens, and say where the provider's logout is, if any."""
        session = self.sessions.load(session_id)
        self.sessions.delete(session_id)
        self._refresh_locks.pop(session_id, None)
        if session is None:
            return LoggedOut()
        subject = session.claims.get("sub") or session.profile.get("sub")
        done = LoggedOut(provider=session.provider, subject=fingerprint(str(subject)) if subject else None)
        try:  # the provider may have left the config since this login: the session is gone anyway
            settings = self.settings(session.provider)
            client = self.client(settings, session.app_base)
            metadata = await client.metadata()
        except LoginError:
            return done
        revoked = 0
        if revocation := metadata.get("revocation_endpoint"):
            # RFC 7009 §2.1: revoking the refresh token first takes its access tokens with it.
            for value, hint in (
                (session.tokens.refresh_token, "refresh_token"),
                (session.tokens.access_token, "access_token"),
            ):
                if value:
                    # The session is gone here whatever the provider says.
                    with contextlib.suppress(LoginError):
                        await client.call(
                            "revocation",
                            client.client.revoke_token(str(revocation), token=value, token_type_hint=hint),
                        )
                        revoked += 1
        end_session = metadata.get("end_session_endpoint")
        if not end_session or not session.tokens.id_token:
            return replace(done, revoked=revoked)
        state = secrets.token_urlsafe(32)
        back = self.post_logout_uri(session.provider, origin)
        self.sessions.save_pending_logout(
            PendingLogout(
                provider=session.provider,
                state=state,
                post_logout_redirect_uri=back,
                created_at=int(time.time()),
            )
        )
        # OIDC RP-Initiated Logout 1.0 §2: id_token_hint names the login; `state` comes back (§3).
        url = add_params_to_uri(
            str(end_session),
            {
                "id_token_hint": session.tokens.id_token,
                "post_logout_redirect_uri": back,
                "client_id": settings.client_id,
                "state": state,
            },
        )
        return replace(done, revoked=revoked, end_session_url=url, state=state)

    def unfinished_logout(self, state: str | None, origin: str) -> Registration | None:
        """A logout sent to its provider that never came back (``state`` from the browser's
        cookie): most likely the provider refused the post-logout URI. What to register."""
        pending = self.sessions.pending_logout(state)
        if pending is None or self.config.provider(pending.provider) is None:
            return None
        registration = self.registration(pending.provider, origin)
        return replace(registration, post_logout_redirect_uri=pending.post_logout_redirect_uri)

    def finish_logout(self, name: str, params: Mapping[str, str]) -> PendingLogout:
        """The browser is back from the provider's logout: match its ``state`` (single use).

        Raises ``LogoutReturnError`` when the return is not the answer to a logout started here.
        """
        state = params.get("state")
        pending = self.sessions.pending_logout(state, take=True)
        if pending is not None and pending.provider == name:
            return pending
        settings = self.settings(name)
        if state and self.sessions.take_pending(state) is not None:
            raise ProviderError(f"{settings.label} sent the browser back without a `code`.")
        raise LogoutReturnError(
            f"The browser came back from {settings.label} with neither a `code` nor the `state` of a "
            "logout this app started (OpenID Connect RP-Initiated Logout 1.0 §3), so this return "
            "proves nothing. Any session of this app ended when you pressed Log out."
        )
