"""Keeping a session's access token fresh for the app's own API calls (``Session.access_token``,
``st.user.tokens``), and the profile current (``Session.fetch_userinfo``).

A token with less than a minute left is renewed ahead of its expiry by the single-flight refresh
(``refresh.py``): one refresh however many reruns of the session ask at once. When no new token
can be had, the outcome is always the same: the session ends, and the login page says why
(``Notices.save_ended``), so the app never sends a token the API will answer 401. That is when:

- the provider refuses the refresh token: ``invalid_grant`` (RFC 6749 §5.2: "invalid, expired,
  revoked, ..."), which no retry will change;
- the token is due and the login has no refresh token (the provider gave none, RFC 6749 §5.1);
- the access rules no longer admit the person (``refresh.py`` answers ``NotAllowed``).

A provider that does not answer (or answers a server error, or a new ID token that fails a check)
ends nothing: the caller gets the session's own token while it is still valid, and the provider
is asked again ``RETRY_AFTER`` seconds later, not on every rerun meanwhile (each try may take
the whole refresh budget); once the token has expired, the caller gets the error.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import NoReturn

from .config import AuthConfig
from .errors import (
    LoginError,
    NotAllowed,
    NotLoggedIn,
    ProviderError,
    ProviderUnreachable,
    SessionEnded,
    StoreUnavailable,
)
from .eventlog import event
from .profile import normalize
from .providers import Providers
from .refresh import Refreshes
from .sessions import MIN_VALID, Session, SessionManager

log = logging.getLogger(__name__)

RETRY_AFTER = 10.0  # seconds: a provider that failed a renewal is not asked again sooner
PROFILE_CALLS = 3  # discovery (its cache expired), the profile, GitHub's email list


@dataclass(frozen=True)
class _Failure:
    at: float
    error: LoginError


class Renewals:
    """Fresh access tokens and profiles for the app, and the end of a session that cannot have one."""

    def __init__(
        self, config: AuthConfig, providers: Providers, sessions: SessionManager, refreshes: Refreshes
    ) -> None:
        self.config = config
        self.providers = providers
        self.sessions = sessions
        self.refreshes = refreshes
        # One renewal at a time per session in this process: who waited finds it done, or finds
        # the failure it met (``_failures``) instead of meeting it again.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._failures: dict[str, _Failure] = {}

    async def fresh(self, session_id: str | None, *, min_valid: float = MIN_VALID) -> Session:
        """The session, with an access token valid for at least ``min_valid`` seconds
        (``Tokens.due``): as stored when it is (one store read, nothing written), renewed
        otherwise. Raises ``SessionEnded`` when no token can be had (the module docstring says
        when), ``NotLoggedIn`` without a session, and the provider's error when it fails while
        the token has expired."""
        session = await self.sessions.aload(session_id)
        if session is None or session_id is None:
            raise NotLoggedIn("The session has ended; log in again.")
        if not session.tokens.due(min_valid, time.time()):
            return session
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        async with lock:
            return await self._renew(session_id, min_valid)

    async def _renew(self, session_id: str, min_valid: float) -> Session:
        session = await self.sessions.aload(session_id)
        if session is None:
            raise NotLoggedIn("The session has ended; log in again.")
        now = time.time()
        if not session.tokens.due(min_valid, now):
            return session  # renewed while this call waited for the one before it
        failed = self._failures.get(session_id)
        if failed is not None and now - failed.at < RETRY_AFTER:
            return _still_valid(session, failed.error, now)
        label = self._label(session.provider)
        if not session.tokens.refresh_token:
            await self._end(
                session,
                "no_refresh_token",
                f"This login's access token is about to expire, and {label} gave no refresh token "
                "to renew it with (providers give one for the scope `offline_access`, or as the "
                "app is registered there). Log in again.",
            )
        try:
            renewed = await self.refreshes.refresh(session_id, unless_valid_for=min_valid)
        except NotAllowed as refused:  # refresh.py deleted the session, with its log line
            raise await self._ended(
                session, f"not_allowed/{refused.rule}", refused.description, refused.request_id
            ) from refused
        except ProviderError as error:
            if error.code != "invalid_grant":
                return self._failed(session, error, now)
            await self._end(
                session,
                "refresh_refused",
                f"{label} no longer accepts this login's refresh token (it expired, or it was "
                "revoked), so no new access token can be had. Log in again.",
            )
        except (NotLoggedIn, StoreUnavailable):
            raise
        except LoginError as error:
            return self._failed(session, error, now)
        self._failures.pop(session_id, None)
        return renewed

    def _failed(self, session: Session, error: LoginError, now: float) -> Session:
        """A renewal the provider did not answer, or not usably: the session stays as it is."""
        self._failures = {k: f for k, f in self._failures.items() if now - f.at < RETRY_AFTER}
        self._failures[session.id] = _Failure(now, error)
        log.warning(
            "access token not renewed, session kept: provider=%s check=%s retry_in=%gs: %s",
            session.provider,
            error.error,
            RETRY_AFTER,
            " ".join(error.description.split())[:500],  # may quote the provider: one line
            extra=event("refresh_failed", provider=session.provider, check=error.error),
        )
        return _still_valid(session, error, now)

    async def _end(self, session: Session, reason: str, description: str) -> NoReturn:
        """No token can be had: the session ends now, with one log line and the login page's note."""
        request_id = secrets.token_hex(6)
        await self.sessions.run(self.sessions.delete, session.id)
        self.refreshes.forget(session.id)
        log.warning(
            "session ended, no fresh access token: provider=%s reason=%s request_id=%s",
            session.provider,
            reason,
            request_id,
            extra=event("session_ended", provider=session.provider, check=reason, request_id=request_id),
        )
        raise await self._ended(session, reason, description, request_id)

    async def _ended(self, session: Session, reason: str, description: str, request_id: str) -> SessionEnded:
        self._failures.pop(session.id, None)
        record = {
            "kind": "session",
            "provider": session.provider,
            "check": f"session_ended/{reason}",
            "error": SessionEnded.error,
            "description": description,
            "request_id": request_id,
        }
        await self.sessions.run(self.sessions.notices.save_ended, session.id, record)
        return SessionEnded(description, reason=reason, request_id=request_id)

    def _label(self, provider: str) -> str:
        settings = self.config.provider(provider)
        return settings.label if settings is not None else provider

    async def userinfo(self, session_id: str | None, *, min_valid: float = MIN_VALID) -> Mapping[str, object]:
        """The person's profile as the provider says it now (OIDC Core §5.3: userinfo, or an
        OAuth 2.0 provider's profile API), asked with a fresh access token (``fresh``), for the
        same user (OIDC Core §5.3.2) or ``UserinfoMismatch``. The session keeps it, unless a
        refresh replaced its tokens meanwhile (that refresh brought a profile of its own)."""
        session = await self.fresh(session_id, min_valid=min_valid)
        settings = self.providers.settings(session.provider)
        client = self.providers.client(settings, session.app_base)
        budget = PROFILE_CALLS * self.config.http.timeout
        try:
            async with asyncio.timeout(budget):
                userinfo = await self.refreshes.current_userinfo(
                    client, session, session.claims, session.tokens
                )
        except TimeoutError:
            raise ProviderUnreachable(
                f"{settings.label}: the profile took longer than {budget:g} s; try again."
            ) from None

        def keep(current: Session) -> Session | None:
            if current.tokens != session.tokens or current.userinfo == userinfo:
                return None
            profile = normalize(current.claims, userinfo, settings.preset)
            return replace(current, userinfo=userinfo, profile=profile)

        await self.sessions.run(self.sessions.update, session.id, keep)
        return userinfo


def _still_valid(session: Session, error: LoginError, now: float) -> Session:
    """The session while its access token is still valid; ``error`` once it has expired."""
    expires_at = session.tokens.expires_at
    if expires_at is not None and expires_at > now:
        return session
    raise error
