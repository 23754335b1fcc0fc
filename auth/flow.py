"""The login itself, framework-free: start, finish (callback); refresh and logout are mixed in
(``refresh.py``, ``logout.py``).

``routes.py`` turns HTTP requests into calls of ``Authenticator``; nothing here
knows about Starlette or Streamlit.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urlencode

import httpx2
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .config import AuthConfig, ProviderSettings
from .errors import (
    IssuerMismatch,
    LoginError,
    ProviderError,
    StateError,
    StoreUnavailable,
    UnknownProvider,
    UserinfoMismatch,
)
from .logout import Logouts
from .playground import Checked, PlaygroundRequest, check_params, playground_record
from .profile import apple_first_login, normalize
from .provider import ProviderClient, current_trace
from .refresh import Refreshes
from .registration import Registration
from .sessions import PendingLogin, Session, SessionManager, Tokens
from .trace import Trace, fingerprint, masked_params, masked_url
from .validation import (
    ValidationReport,
    expected_from_discovery,
    unverified_header,
    validate_id_token,
)


class LocalProviders(Protocol):
    """Providers this app serves itself (development mode: ``devmode.LocalProviders``)."""

    def transport(self, settings: ProviderSettings) -> httpx2.AsyncBaseTransport | None:
        """How to reach ``settings``' provider in-process, or None for the network."""
        ...

    def before_login(
        self, settings: ProviderSettings, app_base: str, redirect_uri: str, post_logout_uri: str
    ) -> None:
        """Called as each login starts; may register the URIs, or refuse with ``ConfigError``."""
        ...


MAX_NEXT = 2048  # longer is no page of this app, and would bloat what is stored per login


@dataclass(frozen=True, kw_only=True)
class Finished:
    """What a callback ends in: the new session (None: a Playground login that left the
    session as it was) and where the browser goes next."""

    session: Session | None
    next_path: str
    playground_result: str | None = None  # the id of a Playground login's result
    refused: LoginError | None = None  # a Playground login refused: why (the result says it too)


def safe_next(path: str | None) -> str:
    """Same-origin paths only: anything else would make the login an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > MAX_NEXT:
        return "/"
    return path


class Authenticator(Refreshes, Logouts):
    """Logs browsers in and out of the configured providers."""

    def __init__(
        self,
        config: AuthConfig,
        sessions: SessionManager,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        local: LocalProviders | None = None,
    ) -> None:
        """``transport`` carries calls to providers (None: the network); ``local`` serves the
        providers that live in this very process (development mode)."""
        self.config = config
        self.sessions = sessions
        self._transport = transport
        self._local = local
        self._clients: dict[tuple[str, str], ProviderClient] = {}
        # A lock lives while a refresh holds it: one per session would grow with every login.
        self._refresh_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- providers -------------------------------------------------------------------
    def settings(self, name: str) -> ProviderSettings:
        found = self.config.provider(name)
        if found is None:
            raise UnknownProvider(f"No provider named {name!r} is configured.")
        return found

    def base_url(self, origin: str) -> str:
        return self.config.base_url or origin.rstrip("/")

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

    # --- login ---------------------------------------------------------------------
    async def start_login(self, name: str, *, origin: str, next_path: str | None, binding_cookie: str) -> str:
        """Remember a new pending login and return the provider URL to send the browser to."""
        return await self._start(name, origin=origin, next_path=next_path, binding_cookie=binding_cookie)

    async def start_playground(
        self,
        request: PlaygroundRequest,
        *,
        origin: str,
        next_path: str | None,
        binding_cookie: str,
        session_id: str,
    ) -> str:
        """``start_login`` with the Playground's parameters added to the module's own (which
        they cannot override: ``playground.check_params``). Its callback runs every check of a
        login, then keeps the outcome for session ``session_id`` to read, and replaces that
        session only if ``request.replace_session``."""
        check_params(request.params)
        return await self._start(
            request.provider,
            origin=origin,
            next_path=next_path,
            binding_cookie=binding_cookie,
            playground=request,
            owner=self.sessions.owner(session_id),
        )

    async def playground_url(self, request: PlaygroundRequest, *, origin: str) -> str:
        """The URL ``start_playground`` would send, built by the same code with a state, nonce
        and challenge of its own, none of them kept: a preview, which no callback can finish."""
        check_params(request.params)
        settings = self.settings(request.provider)
        client = self.client(settings, self.base_url(origin))
        url, *_ = await self._authorization_url(
            client, self.redirect_uri(request.provider, origin), request.params
        )
        return url

    async def _authorization_url(
        self, client: ProviderClient, redirect_uri: str, added: Mapping[str, str]
    ) -> tuple[str, str, str, str]:
        """RFC 6749 §4.1.1 with a fresh state, nonce and PKCE verifier: (url, state, nonce, verifier)."""
        settings = client.settings
        state = secrets.token_urlsafe(32)
        # OIDC Core §3.1.2.1: a nonce ties the ID token to this login; OAuth-only providers have none.
        nonce = secrets.token_urlsafe(32) if settings.is_oidc else ""
        verifier = secrets.token_urlsafe(64)  # RFC 7636 §4.1: 43-128 characters
        extra = {"nonce": nonce} if nonce else {}
        if settings.scope:
            extra["scope"] = settings.scope
        extra |= {**settings.authorize_params, **added}
        url = await client.authorization_url(
            state=state, code_verifier=verifier, redirect_uri=redirect_uri, **extra
        )
        return url, state, nonce, verifier

    async def _start(
        self,
        name: str,
        *,
        origin: str,
        next_path: str | None,
        binding_cookie: str,
        playground: PlaygroundRequest | None = None,
        owner: str = "",
    ) -> str:
        settings = self.settings(name)
        redirect_uri = self.redirect_uri(name, origin)
        if self._local is not None:
            self._local.before_login(
                settings, self.base_url(origin), redirect_uri, self.post_logout_uri(name, origin)
            )
        client = self.client(settings, self.base_url(origin))
        trace = Trace()
        token = current_trace.set(trace)
        try:
            await client.metadata()  # traced: the first login shows the discovery fetch
        finally:
            current_trace.reset(token)
        added = playground.params if playground else {}
        url, state, nonce, verifier = await self._authorization_url(client, redirect_uri, added)
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
                purpose="playground" if playground else "login",
                params=dict(added),
                form=dict(playground.form) if playground else {},
                replace_session=playground.replace_session if playground else False,
                owner=owner,
                max_age=playground.max_age if playground else None,
            )
        )
        return url

    async def finish_login(
        self, name: str | None, params: Mapping[str, str], *, binding_cookie: str | None
    ) -> Finished:
        """Complete the login from the callback's parameters: the new session and where to go next.

        ``name`` is the provider whose callback URI was hit; None for st.login's one shared
        ``/oauth2callback``, where the login's ``state`` says which provider it went to, and
        RFC 9207's ``iss`` (checked whenever the provider supports it) that the answer is its.

        The steps, in order: the state is ours and this browser's; the response comes from the
        provider we asked (RFC 9207); the code is redeemed; the ID token is valid; userinfo is for
        the same user; then, only then, a session. Raises ``LoginError`` naming the check that
        failed; on any failure no session exists.

        A Playground login runs the same steps, then keeps its outcome, passed or refused, as a
        result for the session that started it (``Finished.playground_result``); it makes a
        session only when asked to replace that one, and raises only ``StoreUnavailable``.
        """
        pending = self._take_pending(params)
        name = pending.provider if name is None else name
        trace = Trace.from_dict(pending.trace)
        trace.add(
            "callback", "Callback: the provider sends the browser back", detail=str(masked_params(params))
        )
        token = current_trace.set(trace)
        try:
            checked = await self._checks(name, pending, params, binding_cookie, trace)
        except StoreUnavailable:
            raise
        except LoginError as error:
            error.trace, error.next_path, error.provider = trace, pending.next_path, name
            if pending.purpose != "playground":
                raise
            record = playground_record(pending, name, params=params, trace=trace, refused=error)
            return self._playground_done(pending, pending.owner, record, refused=error)
        finally:
            current_trace.reset(token)
        if pending.purpose == "playground" and not pending.replace_session:
            record = playground_record(pending, name, params=params, trace=trace, checked=checked)
            return self._playground_done(pending, pending.owner, record)
        settings = self.settings(name)
        session = self.sessions.create(
            provider=name,
            profile=normalize(checked.claims, checked.userinfo, settings.preset),
            claims=checked.claims,
            tokens=Tokens.from_response(checked.tokens),
            report=checked.report,
            trace=trace,
            userinfo=checked.userinfo,
            requested_scope=pending.params.get("scope", settings.scope),
            app_base=pending.app_base,
        )
        self.sessions.mark_provider_working(name)  # its set-up help is no longer needed
        if pending.purpose == "playground":
            record = playground_record(
                pending, name, params=params, trace=trace, checked=checked, replaced=True
            )
            return replace(
                self._playground_done(pending, self.sessions.owner(session.id), record), session=session
            )
        return Finished(session=session, next_path=pending.next_path)

    def _playground_done(
        self,
        pending: PendingLogin,
        owner: str,
        record: Mapping[str, object],
        *,
        refused: LoginError | None = None,
    ) -> Finished:
        result_id = self.sessions.save_playground_result(owner, record)
        separator = "&" if "?" in pending.next_path else "?"
        return Finished(
            session=None,
            next_path=f"{pending.next_path}{separator}{urlencode({'result': result_id})}",
            playground_result=result_id,
            refused=refused,
        )

    async def _checks(
        self,
        name: str,
        pending: PendingLogin,
        params: Mapping[str, str],
        binding_cookie: str | None,
        trace: Trace,
    ) -> Checked:
        """Every step of the callback, in order; raises ``LoginError`` at the first that fails."""
        self._check_browser(name, pending, binding_cookie, trace)
        settings = self.settings(name)
        client = self.client(settings, pending.app_base)
        metadata = await client.metadata()
        code = self._authorization_code(settings, metadata, params, trace)
        tokens = await self._redeem(client, code, pending, trace)
        claims, report = await self._id_token(client, metadata, tokens, pending, trace)
        userinfo = await self._userinfo(client, metadata, tokens, claims, params, trace)
        return Checked(tokens=tokens, claims=claims, report=report, userinfo=userinfo)

    def _take_pending(self, params: Mapping[str, str]) -> PendingLogin:
        """The login this callback answers, removed: a state is good for one callback."""
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
        return pending

    def _check_browser(
        self, name: str, pending: PendingLogin, binding_cookie: str | None, trace: Trace
    ) -> None:
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

    def _authorization_code(
        self,
        settings: ProviderSettings,
        metadata: Mapping[str, object],
        params: Mapping[str, str],
        trace: Trace,
    ) -> str:
        """The code, once the response is known to come from this provider (RFC 9207)."""
        issuer = metadata.get("issuer")
        returned_iss = params.get("iss")
        if returned_iss is not None or metadata.get("authorization_response_iss_parameter_supported"):
            ok = returned_iss == issuer
            trace.check("iss in the callback is the provider's issuer", ok, "RFC 9207 §2.4")
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
        return code

    async def _redeem(
        self, client: ProviderClient, code: str, pending: PendingLogin, trace: Trace
    ) -> dict[str, object]:
        tokens = await client.exchange_code(
            code=code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
        )
        # RFC 7636 §4.6: the provider, not the app, verifies PKCE, at its token endpoint; the app
        # only sent the verifier. A token response is the provider's word that it matched.
        trace.check(
            "PKCE verifier checked by the provider",
            True,
            "The app sent its code_verifier with the code; the provider computed "
            f"S256(code_verifier) = {create_s256_code_challenge(pending.code_verifier)} and found the "
            "code_challenge of the authorization request (RFC 7636 §4.6), or it would have refused the code.",
            by="provider",
        )
        if not isinstance(tokens.get("access_token"), str):
            # RFC 6749 §5.1: access_token is REQUIRED in a successful token response.
            raise ProviderError(
                f"{client.settings.label}'s token response has no `access_token` (RFC 6749 §5.1)."
            )
        return tokens

    async def _id_token(
        self,
        client: ProviderClient,
        metadata: Mapping[str, object],
        tokens: Mapping[str, object],
        pending: PendingLogin,
        trace: Trace,
    ) -> tuple[dict[str, object], ValidationReport | None]:
        """OIDC Core §3.1.3.7: every check, or ``TokenValidationError`` with the report."""
        if not client.settings.is_oidc:
            return {}, None
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderError(
                f"{client.settings.label} returned no ID token although `openid` was requested."
            )
        kid = unverified_header(id_token).get("kid")
        report = validate_id_token(
            id_token,
            jwks=await client.jwks(kid=str(kid) if kid else None),
            **expected_from_discovery(metadata, id_token),
            client_id=client.settings.client_id,
            nonce=pending.nonce,
            now=int(time.time()),
            access_token=str(tokens.get("access_token", "")) or None,
            max_age=pending.max_age,
        )
        trace.check(
            "ID token validated (OIDC Core §3.1.3.7)",
            True,
            "all checks passed; nonce matched"
            + ("; auth_time within max_age" if pending.max_age is not None else ""),
        )
        return dict(report.claims), report

    async def _userinfo(
        self,
        client: ProviderClient,
        metadata: Mapping[str, object],
        tokens: Mapping[str, object],
        claims: Mapping[str, object],
        params: Mapping[str, str],
        trace: Trace,
    ) -> dict[str, object]:
        userinfo = await client.profile(metadata, str(tokens["access_token"]))
        if claims and userinfo and userinfo.get("sub") != claims.get("sub"):
            trace.check("userinfo sub equals the ID token's", False, "OIDC Core §5.3.2")
            raise UserinfoMismatch(
                f"Userinfo answered for `sub` {userinfo.get('sub')!r}, but the ID token is for "
                f"{claims.get('sub')!r}; the profile cannot be trusted (OIDC Core §5.3.2)."
            )
        if first_login := apple_first_login(params):
            # Apple sends the name once, on the first authorization, in the form post.
            userinfo = {**userinfo, **first_login}
        return userinfo
