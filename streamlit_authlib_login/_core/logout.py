"""Logging out: the session ends here, its tokens are revoked (RFC 7009), and the browser goes
through the provider's RP-initiated logout when it has one (OpenID Connect RP-Initiated Logout
1.0), coming back with the ``state`` this app sent.

``Logouts`` answers ``Authenticator``'s logout methods (``flow.py``).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from authlib.common.urls import add_params_to_uri

from .config import AuthConfig
from .errors import LoginError, LogoutReturnError, ProviderError
from .pending import PendingLogout
from .providers import Providers
from .refresh import Refreshes
from .registration import Registration
from .sessions import SessionManager
from .trace import fingerprint


@dataclass(frozen=True)
class LoggedOut:
    """What a logout did: which login it ended, and where the browser goes next."""

    provider: str | None = None
    subject: str | None = None  # a fingerprint of `sub`, for the log
    revoked: int = 0
    end_session_url: str | None = None  # the provider's RP-initiated logout, when it has one
    state: str | None = None  # sent there, to be checked when the browser comes back


class Logouts:
    """Logout, and the browser's return from the provider's logout."""

    def __init__(
        self, config: AuthConfig, providers: Providers, sessions: SessionManager, refreshes: Refreshes
    ) -> None:
        self.config = config
        self.providers = providers
        self.sessions = sessions
        self.refreshes = refreshes

    async def logout(self, session_id: str, *, origin: str) -> LoggedOut:
        """End the session here, revoke its tokens, and say where the provider's logout is, if any."""
        # Deleted first, in one step that returns what it deleted: a refresh still waiting on the
        # provider then finds no session to write to (``SessionManager.update``) and answers 401,
        # and the tokens revoked below are the last ones stored, even if a refresh just saved them.
        session = await self.sessions.run(self.sessions.delete, session_id)
        self.refreshes.forget(session_id)
        if session is None:
            return LoggedOut()
        subject = session.claims.get("sub") or session.profile.get("sub")
        done = LoggedOut(provider=session.provider, subject=fingerprint(str(subject)) if subject else None)
        try:  # the provider may have left the config since this login: the session is gone anyway
            settings = self.providers.settings(session.provider)
            client = self.providers.client(settings, session.app_base)
            metadata = await client.metadata()
        except LoginError:
            return done
        revoked = 0
        if metadata.get("revocation_endpoint"):
            # RFC 7009 §2.1: revoking the refresh token first takes its access tokens with it.
            for value, hint in (
                (session.tokens.refresh_token, "refresh_token"),
                (session.tokens.access_token, "access_token"),
            ):
                if value:
                    with contextlib.suppress(LoginError):  # the session is gone here anyway
                        revoked += await client.revoke(value, hint) == 200
        end_session = metadata.get("end_session_endpoint")
        if not end_session or not session.tokens.id_token:
            return replace(done, revoked=revoked)
        state = secrets.token_urlsafe(32)
        back = self.providers.post_logout_uri(session.provider, origin)
        await self.sessions.run(
            self.sessions.pending.save_logout,
            PendingLogout(
                provider=session.provider,
                state=state,
                post_logout_redirect_uri=back,
                created_at=int(time.time()),
            ),
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
        pending = self.sessions.pending.logout(state)
        if pending is None or self.config.provider(pending.provider) is None:
            return None
        registration = self.providers.registration(pending.provider, origin)
        return replace(registration, post_logout_redirect_uri=pending.post_logout_redirect_uri)

    def finish_logout(self, name: str | None, params: Mapping[str, str]) -> PendingLogout:
        """The browser is back from the provider's logout: match its ``state`` (single use).
        ``name`` is the provider whose callback URI was hit (None: st.login's shared one).

        Raises ``LogoutReturnError`` when the return is not the answer to a logout started here.
        """
        state = params.get("state")
        pending = self.sessions.pending.logout(state, take=True)
        if pending is not None and pending.provider == (name or pending.provider):
            return pending
        if name is None:
            login = self.sessions.pending.take_login(state) if state else None
            if login is not None:
                label = self.providers.settings(login.provider).label
                raise ProviderError(f"{label} sent the browser back without a `code`.")
            raise LogoutReturnError(
                "The browser came back to /oauth2callback with neither a `code` nor the `state` of a "
                "login or logout this app started, so this return proves nothing."
            )
        settings = self.providers.settings(name)
        if state and self.sessions.pending.take_login(state) is not None:
            raise ProviderError(f"{settings.label} sent the browser back without a `code`.")
        raise LogoutReturnError(
            f"The browser came back from {settings.label} with neither a `code` nor the `state` of a "
            "logout this app started (OpenID Connect RP-Initiated Logout 1.0 §3), so this return "
            "proves nothing. Any session of this app ended when you pressed Log out."
        )
