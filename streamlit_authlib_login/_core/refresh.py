"""Refreshing a session's tokens (RFC 6749 §6), once however many ask at the same time,
checking the new ID token a provider may send with them (OIDC Core §12.2), and asking the app's
access rules again with what the provider says now (``admission.py``): a person they no longer
admit is logged out (``NotAllowed``).

``Refreshes`` answers ``Authenticator.refresh`` (``flow.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .admission import EXTRA_CALLS, Admission
from .config import AuthConfig
from .errors import (
    LoginError,
    NotAllowed,
    NotLoggedIn,
    ProviderError,
    ProviderUnreachable,
    TokenValidationError,
    UserinfoMismatch,
)
from .eventlog import event
from .metrics import Metrics
from .profile import normalize
from .providers import Providers
from .sessions import LoginDetails, Session, SessionManager, Tokens, kept_expiry
from .store import KeyValueStore
from .validation import (
    Check,
    ValidationReport,
    check_id_token,
    expected_from_discovery,
    unverified_claims,
    unverified_header,
)

if TYPE_CHECKING:
    from .config import ProviderSettings
    from .provider import ProviderClient

log = logging.getLogger(__name__)


# The provider calls a refresh can make, each allowed ``config.http.timeout`` (_core/provider.py):
# discovery (when its cache expired), the token request, and the JWKS (a new key or an expired
# cache: one fetch). httpx's timeout is per phase (connect, write, each read), so a slow provider
# could stretch one call past it: ``asyncio.timeout`` bounds the whole.
REFRESH_CALLS = 3
# Seconds the lock's lease adds to that budget: the store calls made under the lock (the load
# before, the lease check and the conditional write after; a slow Redis costs each at most a 1 s
# timeout per step, a timeout never retried, _core/redis_store.py), so the lease outlives the work
# it guards.
LEASE_MARGIN = 5.0
# Seconds after a refresh during which a refresh asked for answers with its tokens instead: a
# burst of tabs (or requests that reach the server one after another on a loaded machine) must
# not rotate the tokens once each. Access tokens live minutes to hours, so these are fresh.
RECENT = 5


@dataclass(frozen=True)
class Lease:
    """A held refresh lock (``refresh_lock``)."""

    store: KeyValueStore
    key: str
    owner: bytes

    def held(self) -> bool:
        """Whether the lock is still this holder's: False once its lease ran out (and perhaps
        another request took it), when what it did must not be saved."""
        return self.store.get(self.key) == self.owner


@asynccontextmanager
async def refresh_lock(sessions: SessionManager, session_id: str, *, lease: float) -> AsyncIterator[Lease]:
    """Held by one request at a time, across every process and replica sharing the store:
    a rotating refresh token redeemed twice makes the provider revoke the whole login
    (RFC 9700 §4.14.2). The lock is a key written only if absent; it expires after
    ``lease`` seconds should its holder die, and waiting ends a second after that. The
    holder must finish within its lease, and checks ``Lease.held`` before it writes.

    Each try is one store call in the store's threads (``SessionManager.run``). Between tries,
    ``SessionManager.wait_released``: on Redis one blocking call that the release ends, in
    threads apart from the store's; on SQLite and in memory a short sleep on the event loop,
    which serves everything else meanwhile. A holder that dies releases nothing: its lease runs
    out, and the next try after that (a wait is capped) takes the lock."""
    store, key = sessions.store, sessions.sealing.key("refresh-lock", session_id)
    owner = os.urandom(16)
    deadline = time.monotonic() + lease + 1
    while not await sessions.run(store.add, key, owner, lease):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LoginError("Another request is still refreshing this session; try again.")
        await sessions.wait_released(key, remaining)
    try:
        yield Lease(store, key, owner)
    finally:
        # Submitted before any cancellation can reach it: the release runs even then.
        await sessions.run(store.delete_if, key, owner)


class Refreshes:
    """Token refresh, single-flight in this process and across replicas."""

    def __init__(
        self,
        config: AuthConfig,
        providers: Providers,
        sessions: SessionManager,
        admission: Admission,
        metrics: Metrics,
    ) -> None:
        self.config = config
        self.providers = providers
        self.sessions = sessions
        self.admission = admission
        self.metrics = metrics  # each refresh sent to the provider, by outcome
        # A lock lives while a refresh holds it: one per session would grow with every login.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def forget(self, session_id: str) -> None:
        """Drop the session's in-process lock: it has logged out."""
        self._locks.pop(session_id, None)

    async def refresh(self, session_id: str, *, unless_valid_for: float | None = None) -> Session:
        """Refresh the session's tokens. Concurrent calls for one session refresh once, in this
        process (an asyncio lock, so waiting costs no polling) and across replicas (the store's
        lock): whoever waited finds the tokens refreshed and returns them, and so does a call
        that comes within ``RECENT`` seconds of a refresh, or, with ``unless_valid_for``, one that
        finds the access token valid that long (``Tokens.due``), whoever renewed it. A logout
        meanwhile wins: nothing is saved, and the answer is ``NotLoggedIn``. A person the access
        rules no longer admit is logged out: the session is deleted, and the answer is
        ``NotAllowed``, naming the rule."""
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        seen = await self.sessions.aload(session_id)
        rechecked = seen is not None and self._rechecks(seen.provider)
        budget = (REFRESH_CALLS + (EXTRA_CALLS if rechecked else 0)) * self.config.http.timeout
        async with lock, refresh_lock(self.sessions, session_id, lease=budget + LEASE_MARGIN) as lease:
            session = await self.sessions.aload(session_id)
            if session is None or seen is None:
                raise NotLoggedIn("The session has ended; log in again.")
            if session.tokens.refresh_count != seen.tokens.refresh_count:
                return session  # another request refreshed while we waited: single flight
            refreshed_at = session.tokens.refreshed_at
            if refreshed_at is not None and time.time() - refreshed_at < RECENT:
                return session  # refreshed just before this request came: the same burst
            if unless_valid_for is not None and not session.tokens.due(unless_valid_for, time.time()):
                return session  # renewed meanwhile (another replica): fresh enough for the asker
            if not session.tokens.refresh_token:
                raise ProviderError("This login has no refresh token (ask for `offline_access`).")
            settings = self.providers.settings(session.provider)
            client = self.providers.client(settings, session.app_base)
            try:
                # Counted by how the exchange with the provider (and the rules after it) ended.
                with self.metrics.refreshing(settings.name):
                    try:
                        async with asyncio.timeout(budget):
                            fresh = Tokens.from_response(await client.refresh(session.tokens.refresh_token))
                            # The report is stored apart (``LoginDetails``): read it off the loop.
                            claims, (report, _) = session.claims, await self.sessions.run(session.details.get)
                            if fresh.id_token and settings.is_oidc:
                                claims, report = await self._refreshed_id_token(client, session, fresh)
                            userinfo = session.userinfo
                            if self.admission.applies(settings):
                                userinfo = await self.current_userinfo(client, session, claims, fresh)
                            admitted = await self.admission.admit(
                                client,
                                claims=claims,
                                userinfo=userinfo,
                                access_token=fresh.access_token,
                                granted_scope=fresh.scope,
                            )
                    except TimeoutError:
                        raise ProviderUnreachable(
                            f"{settings.label}: the refresh took longer than {budget:g} s; try again."
                        ) from None
            except NotAllowed as refused:
                await self._log_out(session_id, settings, refused)
                raise
            except ProviderError as refused:
                if refused.code == "invalid_grant" and self.sessions.lifetime(session).ends_with_grant:
                    raise await self._grant_ended(session_id, settings) from None
                raise
            if not await self.sessions.run(
                lease.held
            ):  # another request may be refreshing now: its write is the one
                raise LoginError("The refresh outlived its lock and was not saved; try again.")
            tokens = replace(
                fresh,
                refresh_token=fresh.refresh_token or session.tokens.refresh_token,
                refresh_expires_at=fresh.refresh_expires_at or kept_expiry(session.tokens, fresh),
                id_token=fresh.id_token or session.tokens.id_token,
                refreshed_at=int(time.time()),
                refresh_count=session.tokens.refresh_count + 1,
            )

            def renew(current: Session) -> Session | None:
                if current.tokens != session.tokens:
                    return None  # not the tokens this refresh redeemed: they are not ours to replace
                return replace(
                    current,  # a touch since the read (last_seen) stays
                    claims=claims,
                    details=LoginDetails(report, current.trace),
                    profile=(
                        normalize(claims, userinfo, settings.preset)
                        if claims or userinfo
                        else current.profile
                    ),
                    userinfo=userinfo,
                    tokens=tokens,
                    admitted_by=admitted.admitted_by,
                    roles=admitted.roles,
                )

            updated = await self.sessions.run(self.sessions.update, session_id, renew)
            if updated is None:
                raise NotLoggedIn("The session ended while it was being refreshed; log in again.")
            if updated.tokens != tokens:
                raise LoginError("Another request refreshed this session meanwhile; try again.")
            return updated

    def _rechecks(self, provider: str) -> bool:
        settings = self.config.provider(provider)
        return settings is not None and self.admission.applies(settings)

    async def current_userinfo(
        self, client: ProviderClient, session: Session, claims: Mapping[str, object], fresh: Tokens
    ) -> Mapping[str, object]:
        """What the provider says of the person now (their groups, their email), for the rules:
        userinfo, or an OAuth 2.0 provider's profile API, with the new access token; for the same
        user (OIDC Core §5.3.2), or ``UserinfoMismatch``. A provider without one: what the login had."""
        preset = client.settings.preset
        userinfo = await client.profile(await client.metadata(), fresh.access_token)
        if not userinfo:
            return session.userinfo
        if claims:
            same = userinfo.get("sub") == claims.get("sub")
        else:
            same = normalize({}, userinfo, preset).get("id") == session.profile.get("id")
        if not same:
            raise UserinfoMismatch(
                f"{client.settings.label}'s profile answered at refresh for another user than this "
                "session's; the profile cannot be trusted (OIDC Core §5.3.2)."
            )
        return userinfo

    async def _log_out(self, session_id: str, settings: ProviderSettings, refused: NotAllowed) -> None:
        """The rules no longer admit the person: the session ends now, with one log line."""
        await self.sessions.run(self.sessions.delete, session_id)
        self.forget(session_id)
        refused.request_id = secrets.token_hex(6)
        log.warning(
            "session ended at refresh: provider=%s check=%s/%s request_id=%s: %s",
            settings.name,
            refused.error,
            refused.rule,
            refused.request_id,
            refused.description,
            extra=event(
                "session_ended",
                provider=settings.name,
                check=f"{refused.error}/{refused.rule}",
                request_id=refused.request_id,
            ),
        )

    async def _grant_ended(self, session_id: str, settings: ProviderSettings) -> NotLoggedIn:
        """``session_max_age = "refresh"``: the provider refused the refresh token (RFC 6749 §5.2
        ``invalid_grant``: expired or revoked), so the grant the session lived by is over. The
        session ends now, with one log line; the error to raise says why."""
        await self.sessions.run(self.sessions.delete, session_id)
        self.forget(session_id)
        log.info(
            "session ended at refresh: provider=%s check=invalid_grant (ends with the grant)",
            settings.name,
            extra=event("session_ended", provider=settings.name, check="invalid_grant"),
        )
        return NotLoggedIn(
            f"Your login at {settings.label} has ended (it refused to renew it), and this app's "
            "sessions last as long as that login: log in again."
        )

    async def _refreshed_id_token(
        self, client: ProviderClient, session: Session, fresh: Tokens
    ) -> tuple[dict[str, object], ValidationReport]:
        """OIDC Core §12.2: a refresh's new ID token passes the login's checks, for the same
        user (``sub``); its ``nonce``, which it should not carry, must be the login's if it does.
        ``TokenValidationError`` otherwise, and the session keeps what it had."""
        id_token = str(fresh.id_token)
        metadata = await client.metadata()
        kid = unverified_header(id_token).get("kid")
        sent_nonce = unverified_claims(id_token).get("nonce")
        report = check_id_token(
            id_token,
            jwks=await client.jwks(kid=str(kid) if kid else None),
            **expected_from_discovery(metadata, id_token),
            client_id=client.settings.client_id,
            nonce=str(session.claims.get("nonce", "")) if sent_nonce is not None else None,
            now=int(time.time()),
            access_token=fresh.access_token,
        )
        same = report.claims.get("sub") == session.claims.get("sub")
        report = replace(
            report,
            checks=(
                *report.checks,
                Check("sub", same, str(session.claims.get("sub")), str(report.claims.get("sub")),
                      "OIDC Core §12.2", "" if same else "the refreshed ID token is for another user"),
            ),
        )  # fmt: skip
        if (failure := report.first_failure) is not None:
            raise TokenValidationError(
                f"The refreshed ID token was refused: {failure.message} ({failure.spec}).", report
            )
        return dict(report.claims), report
