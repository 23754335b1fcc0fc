"""The login itself, framework-free: start and finish. ``Authenticator`` holds its collaborators:
the providers (``providers.py``), the callback's checks (``callback.py``), refresh
(``refresh.py``), fresh tokens for the app (``renewal.py``) and logout (``logout.py``), and
answers for them. A login started for a purpose
of its own is finished by the ``Finisher`` registered for it (the Playground's: ``playground.py``).

``_routes/`` turns HTTP requests into calls of ``Authenticator``; nothing here
knows about Starlette or Streamlit.
"""

from __future__ import annotations

import posixpath
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol
from urllib.parse import unquote

import httpx2

from .admission import Admission
from .callback import CallbackChecks, Checked
from .config import AuthConfig, ProviderSettings
from .config_keys import ST_LOGIN_CALLBACK
from .errors import (
    LoginError,
    StoreUnavailable,
)
from .logout import LoggedOut, Logouts
from .metrics import Metrics
from .pending import PendingLogin, PendingLogout
from .profile import normalize
from .provider import ProviderClient, current_trace
from .providers import Providers
from .refresh import Refreshes
from .registration import Registration
from .renewal import Renewals
from .sessions import MIN_VALID, Session, SessionManager, Tokens
from .trace import Step, Trace, masked_url, shown_params


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


# A page of this app with its query fits; longer would only bloat the cookie that carries it
# (Sealing.next_cookie) and a Playground login's stored one.
MAX_NEXT = 512
MAX_SHOWN = 500  # characters of the callback's parameters kept in the trace


@dataclass(frozen=True, kw_only=True)
class Started:
    """A login on its way: the provider URL to send the browser to, and the value of the
    cookie to send along that carries its ``next`` (``Sealing.next_cookie``). The store
    keeps nothing the client chose, so anyone's login start costs it the same."""

    url: str
    next_cookie: str


@dataclass(frozen=True, kw_only=True)
class Finished:
    """What a callback ends in: the new session (None: a login whose finisher left the session
    as it was, as a Playground login does) and where the browser goes next."""

    session: Session | None
    next_path: str
    result: str | None = None  # the id of what a finisher kept for its page (a Playground result)
    refused: LoginError | None = None  # a finisher's login refused: why (its result says it too)
    started_at: int | None = None  # when the login started (``PendingLogin.created_at``, seconds)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """A callback of a login started for a purpose (``Authenticator.start_for``), after the
    checks: passed (``checked``) or refused (``refused``, which has its trace), for the
    finisher of that purpose to finish."""

    pending: PendingLogin
    provider: str
    params: Mapping[str, str]  # the callback's
    trace: Trace
    checked: Checked | None = None
    refused: LoginError | None = None
    # Makes, of ``checked``, the session an ordinary login makes (a passed callback's only).
    new_session: Callable[[], Session] | None = None


class Finisher(Protocol):
    """Finishes the logins started for one purpose (``Authenticator(finishers={purpose: ...})``)."""

    def finish(self, outcome: Outcome) -> Finished:
        """What the callback ends in; raises only ``StoreUnavailable``."""
        ...


# The module's own routes (_routes/__init__.py): as a next, /auth/logout would make any link
# a one-click logout, and no login or refresh has a reason to land on any of them.
_OWN_ROUTES = ("/auth", ST_LOGIN_CALLBACK)


def safe_next(path: str | None) -> str:
    """Same-origin paths of the app's pages only: anything else would make the login an open
    redirect, or a link that acts (``/auth/logout``). A next is a path from the app's root
    (``/reports?year=2026``): the routes put the app's sub-path in front (``/app/reports...``),
    so no dot segment may climb out of it."""
    if (
        not path
        or not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or len(path) > MAX_NEXT
        # WHATWG URL §4.4 (basic URL parser): a browser drops tab, LF and CR anywhere, and C0
        # controls and spaces at either end, so "/\r/host" is "//host". No page of ours needs
        # any control character or whitespace (Unicode's too) unencoded: refuse them all.
        or not path.isprintable()
        or " " in path
        or _own_route(path)
        or _dot_segment(path)
    ):
        return "/"
    return path


def page_next(path: str, base_path: str) -> str:
    """A path as the browser has it (``/app/reports?x``, from a Referer or the page's URL) as a
    next (``/reports?x``); "/" for one outside the app's sub-path ``base_path``."""
    if base_path:
        if path != base_path and not path.startswith((base_path + "/", base_path + "?")):
            return "/"
        path = path[len(base_path) :]
        path = path if path.startswith("/") else "/" + path
    return safe_next(path)


def _own_route(path: str) -> bool:
    # The path as the server routes it: percent-decoded (uvicorn does), dot segments removed as a
    # browser does (RFC 3986 §5.2.4, "%2e" too), in any case (a proxy in front may fold it).
    where = posixpath.normpath("/" + unquote(path.partition("?")[0].partition("#")[0]).lstrip("/")).lower()
    return any(where == route or where.startswith(route + "/") for route in _OWN_ROUTES)


def _dot_segment(path: str) -> bool:
    # RFC 3986 §5.2.4: a browser resolves "/app" + "/../x" to "/x", out of the app's sub-path;
    # WHATWG URL §4.4 reads "%2e" as "." there too. No page of an app needs one.
    segments = unquote(path.partition("?")[0].partition("#")[0]).split("/")
    return any(segment in (".", "..") for segment in segments)


class Authenticator:
    """Logs browsers in and out of the configured providers."""

    def __init__(
        self,
        config: AuthConfig,
        sessions: SessionManager,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        local: LocalProviders | None = None,
        finishers: Mapping[str, Finisher] | None = None,
    ) -> None:
        """``transport`` carries calls to providers (None: the network); ``local`` serves the
        providers that live in this very process (development mode); ``finishers`` finish the
        logins started for their purpose (``start_for``)."""
        self.config = config
        self.sessions = sessions
        self.finishers = dict(finishers or {})
        self._local = local
        self.providers = Providers(config, transport=transport, local=local)
        self.admission = Admission(config.roles)  # who may come in
        # What GET /auth/metrics shows, in a registry of this app's own.
        self.metrics = Metrics(
            (p.name for p in config.providers),
            store_errors=sessions.store_errors,
            active_sessions=sessions.count_active,
        )
        self.callback = CallbackChecks(self.providers, sessions, self.admission)
        self.refreshes = Refreshes(config, self.providers, sessions, self.admission, self.metrics)
        self.renewals = Renewals(config, self.providers, sessions, self.refreshes)
        self.logouts = Logouts(config, self.providers, sessions, self.refreshes)

    # --- providers (``providers.py``) ------------------------------------------------------
    def settings(self, name: str) -> ProviderSettings:
        return self.providers.settings(name)

    def base_url(self, origin: str) -> str:
        return self.providers.base_url(origin)

    def public_origin(self, origin: str) -> str:
        return self.providers.public_origin(origin)

    def redirect_uri(self, name: str, origin: str) -> str:
        return self.providers.redirect_uri(name, origin)

    def post_logout_uri(self, name: str, origin: str) -> str:
        return self.providers.post_logout_uri(name, origin)

    def client(self, settings: ProviderSettings, app_base: str) -> ProviderClient:
        return self.providers.client(settings, app_base)

    def registration(self, name: str, origin: str) -> Registration:
        return self.providers.registration(name, origin)

    async def aclose(self) -> None:
        await self.providers.aclose()

    # --- refresh, fresh tokens and logout (``refresh.py``, ``renewal.py``, ``logout.py``) --------
    async def refresh(self, session_id: str) -> Session:
        return await self.refreshes.refresh(session_id)

    async def fresh(self, session_id: str | None, *, min_valid: float = MIN_VALID) -> Session:
        """The session with an access token valid ``min_valid`` seconds more (``Renewals.fresh``)."""
        return await self.renewals.fresh(session_id, min_valid=min_valid)

    async def userinfo(self, session_id: str | None) -> Mapping[str, object]:
        """The person's profile as the provider says it now (``Renewals.userinfo``)."""
        return await self.renewals.userinfo(session_id)

    async def logout(self, session_id: str, *, origin: str) -> LoggedOut:
        return await self.logouts.logout(session_id, origin=origin)

    def unfinished_logout(self, state: str | None, origin: str) -> Registration | None:
        return self.logouts.unfinished_logout(state, origin)

    def finish_logout(self, name: str | None, params: Mapping[str, str]) -> PendingLogout:
        return self.logouts.finish_logout(name, params)

    # --- login ---------------------------------------------------------------------
    async def start_login(
        self, name: str, *, origin: str, next_path: str | None, binding_cookie: str
    ) -> Started:
        """Remember a new pending login; say where to send the browser, and with which cookie."""
        url, state = await self._start(name, origin=origin, binding_cookie=binding_cookie)
        return Started(url=url, next_cookie=self.sessions.sealing.next_cookie(state, safe_next(next_path)))

    async def start_for(
        self,
        purpose: str,
        name: str,
        *,
        origin: str,
        binding_cookie: str,
        added: Mapping[str, str],
        extra: Mapping[str, object],
        next_path: str,
    ) -> str:
        """A login for ``purpose``, whose callback runs every check of a login and is then
        finished by that purpose's finisher: ``added`` joins the authorization request's
        parameters (the caller has checked that none overrides the module's own), ``extra`` is
        kept for the finisher (``PendingLogin.extra``), and ``next_path`` is stored with it."""
        if purpose not in self.finishers:
            raise LoginError(f"This app finishes no {purpose!r} logins.")
        url, _ = await self._start(
            name,
            origin=origin,
            binding_cookie=binding_cookie,
            added=added,
            purpose=purpose,
            extra=extra,
            next_path=next_path,
        )
        return url

    async def authorization_url(self, name: str, *, origin: str, added: Mapping[str, str]) -> str:
        """The URL ``start_for`` would send, built by the same code with a state, nonce and
        challenge of its own, none of them kept: a preview, which no callback can finish."""
        settings = self.settings(name)
        client = self.client(settings, self.base_url(origin))
        url, *_ = await self._authorization_url(client, self.redirect_uri(name, origin), added)
        return url

    async def _authorization_url(
        self, client: ProviderClient, redirect_uri: str, added: Mapping[str, str]
    ) -> tuple[str, str, str, str]:
        """RFC 6749 §4.1.1 with a fresh state, and the nonce and PKCE verifier derived from it
        (``Sealing.login_secrets``): (url, state, nonce, verifier)."""
        state = secrets.token_urlsafe(32)
        nonce, verifier = self.sessions.sealing.login_secrets(state)
        # OIDC Core §3.1.2.1: a nonce ties the ID token to this login; OAuth-only providers have none.
        nonce = nonce if client.settings.is_oidc else ""
        url = await self._request_url(client, state, nonce, verifier, redirect_uri, added)
        return url, state, nonce, verifier

    @staticmethod
    async def _request_url(
        client: ProviderClient,
        state: str,
        nonce: str,
        verifier: str,
        redirect_uri: str,
        added: Mapping[str, str],
    ) -> str:
        """The authorization request URL: a function of its arguments and the provider's
        authorization endpoint only, so the callback can rebuild the one the browser was sent."""
        settings = client.settings
        extra = {"nonce": nonce} if nonce else {}
        if settings.scope:
            extra["scope"] = settings.scope
        extra |= {**settings.authorize_params, **added}
        return await client.authorization_url(
            state=state, code_verifier=verifier, redirect_uri=redirect_uri, **extra
        )

    async def _start(
        self,
        name: str,
        *,
        origin: str,
        binding_cookie: str,
        added: Mapping[str, str] | None = None,
        purpose: str = "login",
        extra: Mapping[str, object] | None = None,
        next_path: str = "/",
    ) -> tuple[str, str]:
        """Store a new pending login: (the provider URL, its state)."""
        settings = self.settings(name)
        redirect_uri = self.redirect_uri(name, origin)
        if self._local is not None:
            self._local.before_login(
                settings, self.base_url(origin), redirect_uri, self.post_logout_uri(name, origin)
            )
        client = self.client(settings, self.base_url(origin))
        added = added or {}
        url, state, nonce, verifier = await self._authorization_url(client, redirect_uri, added)
        await self.sessions.run(
            self.sessions.pending.save_login,
            PendingLogin(
                provider=name,
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                redirect_uri=redirect_uri,
                next_path=next_path,
                browser_binding=self.sessions.sealing.binding(binding_cookie),
                created_at=int(time.time()),
                app_base=client.app_base,
                params=dict(added),
                purpose=purpose,
                extra=dict(extra or {}),
            ),
        )
        return url, state

    async def finish_login(
        self,
        name: str | None,
        params: Mapping[str, str],
        *,
        binding_cookie: str | None,
        next_cookie: str | None = None,
    ) -> Finished:
        """Complete the login from the callback's parameters: the new session and where to go next.

        ``name`` is the provider whose callback URI was hit; None for st.login's one shared
        ``/oauth2callback``, where the login's ``state`` says which provider it went to, and
        RFC 9207's ``iss`` (checked whenever the provider supports it) that the answer is its.
        ``next_cookie`` is the cookie ``start_login`` had sent along, if the browser has one.

        The steps, in order: the state is ours and this browser's; the response comes from the
        provider we asked (RFC 9207); the code is redeemed; the ID token is valid; userinfo is for
        the same user; the app's access rules admit the person; then, only then, a session.
        Raises ``LoginError`` naming the check that failed (``NotAllowed`` naming the rule); on
        any failure no session exists.

        A login started for a purpose (``start_for``) runs the same steps; then the finisher of
        that purpose decides what it ends in, passed or refused (the Playground keeps a result).
        """
        pending = await self.sessions.run(self.callback.take_pending, params)
        finisher = self.finishers.get(pending.purpose)
        # A login's next comes in its cookie (``start_login``) when that cookie is this login's.
        # A newer login started in another tab overwrote it: this one still finishes, on "/".
        carried = self.sessions.sealing.next_from_cookie(pending.state, next_cookie)
        if carried is not None:
            pending = replace(pending, next_path=safe_next(carried))
        name = pending.provider if name is None else name
        trace = Trace(state=pending.state)
        token = current_trace.set(trace)
        try:
            await self._request_steps(pending, trace)
            trace.add(
                "callback",
                "Callback: the provider sends the browser back",
                # Whoever sent the browser here chose these: a refused login's record keeps them,
                # as JSON (the trace page and its export show it as such), however many were sent.
                detail=shown_params(params, MAX_SHOWN),
            )
            checked = await self.callback.check(name, pending, params, binding_cookie, trace)
        except StoreUnavailable:
            raise
        except LoginError as error:
            error.trace, error.next_path, error.provider = trace, pending.next_path, name
            if finisher is None:
                raise
            return await self.sessions.run(
                finisher.finish,
                Outcome(pending=pending, provider=name, params=params, trace=trace, refused=error),
            )
        finally:
            current_trace.reset(token)
        if finisher is None:
            session = await self.sessions.run(self._new_session, name, pending, checked, trace)
            return Finished(session=session, next_path=pending.next_path, started_at=pending.created_at)
        new_session = partial(self._new_session, name, pending, checked, trace)
        finished = await self.sessions.run(
            finisher.finish,
            Outcome(
                pending=pending,
                provider=name,
                params=params,
                trace=trace,
                checked=checked,
                new_session=new_session,
            ),
        )
        return replace(finished, started_at=pending.created_at)

    def _new_session(self, name: str, pending: PendingLogin, checked: Checked, trace: Trace) -> Session:
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
            admitted_by=checked.admitted.admitted_by,
            roles=checked.admitted.roles,
        )
        self.sessions.notices.mark_provider_working(name)  # its set-up help is no longer needed
        return session

    async def _request_steps(self, pending: PendingLogin, trace: Trace) -> None:
        """The trace's first steps, rebuilt from the pending login rather than stored with it:
        the discovery document (fetched now if this process has none cached, else said to come
        from the cache) and the authorization request, rebuilt exactly as it was sent."""
        client = self.client(self.settings(pending.provider), pending.app_base)
        fetched = len(trace.steps)
        await client.metadata()  # traced when it makes a request
        if client.settings.is_oidc and len(trace.steps) == fetched:
            trace.steps.append(
                Step(
                    kind="http",
                    title="Discovery document",
                    at=pending.created_at,
                    duration_ms=0.0,
                    method="GET",
                    url=client.metadata_url,
                    status=200,
                    detail="From this app's cache: the document it fetched and checked earlier, "
                    "kept for `metadata_ttl` seconds (not repeated here: every refused login's "
                    "record would carry it).",
                )
            )
        url = await self._request_url(
            client, pending.state, pending.nonce, pending.code_verifier, pending.redirect_uri, pending.params
        )
        trace.steps.append(
            Step(
                kind="redirect",
                title="Authorization request: the browser is sent to the provider",
                at=pending.created_at,
                url=masked_url(url),
            )
        )
