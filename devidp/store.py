"""In-memory storage of codes, tokens, device credentials and login sessions.

One lock guards everything: the provider serves a handful of developers, and
a single lock keeps token rotation and code redemption atomic.

What has expired is forgotten: each write sweeps, at most once per ``SWEEP_INTERVAL``
seconds of the provider's clock, so memory follows the logins of the last lifetimes
rather than every login ever made.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace

from .config import Clock
from .models import AuthorizationCode, DeviceCredential, Token


@dataclass(frozen=True)
class LoginSession:
    """A browser's login at the provider (the provider-side SSO session)."""

    sid: str
    user_sub: str
    auth_time: int


SWEEP_INTERVAL = 60  # seconds between sweeps: a sweep walks everything held


class Store:
    def __init__(self, clock: Clock, *, session_ttl: int = 24 * 3600) -> None:
        self._clock = clock
        self._session_ttl = session_ttl
        self._lock = threading.Lock()
        self._swept_at = clock()
        self._codes: dict[str, AuthorizationCode] = {}
        # code -> (token family, until when it is kept at least: the code's own expiry)
        self._redeemed_codes: dict[str, tuple[str, int]] = {}
        self._tokens: dict[str, Token] = {}  # by access token
        self._by_refresh: dict[str, str] = {}  # refresh token -> access token
        self._devices: dict[str, DeviceCredential] = {}
        self._device_grants: dict[str, tuple[str, bool]] = {}  # user_code -> (sub, approved)
        self._sessions: dict[str, LoginSession] = {}

    # --- forgetting -------------------------------------------------------------
    def _sweep(self) -> None:
        """Drop what has expired; called with the lock held, by each write."""
        now = self._clock()
        if now - self._swept_at < SWEEP_INTERVAL:
            return
        self._swept_at = now
        self._codes = {k: c for k, c in self._codes.items() if now < c.expires_at}
        # A token is kept while its access token or its refresh token lives, revoked or not: a
        # replayed refresh token must still be recognised to revoke its family (RFC 9700 §4.14.2).
        self._tokens = {k: t for k, t in self._tokens.items() if _lives(t, now)}
        self._by_refresh = {r: a for r, a in self._by_refresh.items() if a in self._tokens}
        # A redeemed code is remembered while a token it led to lives (a replay revokes them,
        # RFC 6749 §4.1.2), and at least as long as the code itself would have.
        families = {t.family for t in self._tokens.values()}
        self._redeemed_codes = {
            code: (family, until)
            for code, (family, until) in self._redeemed_codes.items()
            if now < until or family in families
        }
        self._devices = {k: d for k, d in self._devices.items() if now < d.expires_at}
        user_codes = {d.user_code for d in self._devices.values()}
        self._device_grants = {k: g for k, g in self._device_grants.items() if k in user_codes}
        self._sessions = {k: s for k, s in self._sessions.items() if now < s.auth_time + self._session_ttl}

    # --- authorization codes -------------------------------------------------
    def save_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            self._sweep()
            self._codes[code.code] = code

    def get_code(self, code: str) -> AuthorizationCode | None:
        with self._lock:
            found = self._codes.get(code)
        if found is None or self._clock() >= found.expires_at:
            return None
        return found

    def redeem_code(self, code: str, family: str) -> None:
        with self._lock:
            found = self._codes.pop(code, None)
            self._redeemed_codes[code] = (family, found.expires_at if found else self._clock())

    def family_of_redeemed_code(self, code: str) -> str | None:
        with self._lock:
            found = self._redeemed_codes.get(code)
        return found[0] if found else None

    def nonce_in_use(self, client_id: str, nonce: str) -> bool:
        with self._lock:
            return any(c.client_id == client_id and c.nonce == nonce for c in self._codes.values())

    # --- tokens ---------------------------------------------------------------
    def save_token(self, token: Token) -> None:
        with self._lock:
            self._sweep()
            self._tokens[token.access_token] = token
            if token.refresh_token:
                self._by_refresh[token.refresh_token] = token.access_token

    def _stamp(self, token: Token | None) -> Token | None:
        return replace(token, now=self._clock()) if token else None

    def by_access_token(self, access_token: str) -> Token | None:
        with self._lock:
            return self._stamp(self._tokens.get(access_token))

    def by_refresh_token(self, refresh_token: str) -> Token | None:
        with self._lock:
            access = self._by_refresh.get(refresh_token)
            return self._stamp(self._tokens.get(access)) if access else None

    def update_token(self, token: Token, **changes: object) -> None:
        with self._lock:
            current = self._tokens.get(token.access_token, token)
            self._tokens[token.access_token] = replace(current, **changes)  # type: ignore[arg-type]

    def revoke_family(self, family: str) -> int:
        """Revoke every token of one authorization; returns how many."""
        with self._lock:
            hits = [t for t in self._tokens.values() if t.family == family]
            for t in hits:
                self._tokens[t.access_token] = replace(t, access_revoked=True, refresh_revoked=True)
            return len(hits)

    # --- device authorization (RFC 8628) ---------------------------------------
    def save_device(self, credential: DeviceCredential) -> None:
        with self._lock:
            self._sweep()
            self._devices[credential.device_code] = credential

    def device_by_code(self, device_code: str) -> DeviceCredential | None:
        with self._lock:
            found = self._devices.get(device_code)
        return replace(found, now=self._clock()) if found else None

    def device_by_user_code(self, user_code: str) -> DeviceCredential | None:
        normalized = user_code.strip().upper().replace(" ", "")
        with self._lock:
            for cred in self._devices.values():
                if cred.user_code.replace("-", "") == normalized.replace("-", ""):
                    return replace(cred, now=self._clock())
        return None

    def record_poll(self, device_code: str, when: int) -> tuple[int | None, int]:
        """Store this poll's time; return the previous one and the interval in force."""
        with self._lock:
            cred = self._devices.get(device_code)
            if cred is None:
                return None, 0
            self._devices[device_code] = replace(cred, last_poll=when)
            return cred.last_poll, cred.interval

    def slow_down(self, device_code: str, by: int = 5) -> None:
        with self._lock:
            if cred := self._devices.get(device_code):
                self._devices[device_code] = replace(cred, interval=cred.interval + by)

    def grant_device(self, user_code: str, user_sub: str, approved: bool) -> None:
        with self._lock:
            self._device_grants[user_code] = (user_sub, approved)

    def device_grant(self, user_code: str) -> tuple[str, bool] | None:
        with self._lock:
            return self._device_grants.get(user_code)

    def consume_device(self, device_code: str) -> None:
        with self._lock:
            cred = self._devices.pop(device_code, None)
            if cred:
                self._device_grants.pop(cred.user_code, None)

    # --- login sessions -------------------------------------------------------
    def open_session(self, user_sub: str) -> LoginSession:
        session = LoginSession(secrets.token_urlsafe(24), user_sub, self._clock())
        with self._lock:
            self._sweep()
            self._sessions[session.sid] = session
        return session

    def session(self, sid: str | None) -> LoginSession | None:
        """The live login session ``sid``; one older than ``session_ttl`` is gone, swept or not."""
        if not sid:
            return None
        with self._lock:
            found = self._sessions.get(sid)
        if found is None or self._clock() >= found.auth_time + self._session_ttl:
            return None
        return found

    def close_session(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._sessions.pop(sid, None)


def _lives(token: Token, now: int) -> bool:
    if now < token.issued_at + token.expires_in:
        return True
    if not token.refresh_token:
        return False
    return token.refresh_expires_at is None or now < token.refresh_expires_at
