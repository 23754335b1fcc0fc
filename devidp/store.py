"""In-memory storage of codes, tokens, device credentials and login sessions.

One lock guards everything: the provider serves a handful of developers, and
a single lock keeps token rotation and code redemption atomic.
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


class Store:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, AuthorizationCode] = {}
        self._redeemed_codes: dict[str, str] = {}  # code -> token family
        self._tokens: dict[str, Token] = {}  # by access token
        self._by_refresh: dict[str, str] = {}  # refresh token -> access token
        self._devices: dict[str, DeviceCredential] = {}
        self._device_grants: dict[str, tuple[str, bool]] = {}  # user_code -> (sub, approved)
        self._sessions: dict[str, LoginSession] = {}

    # --- authorization codes -------------------------------------------------
    def save_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            self._codes[code.code] = code

    def get_code(self, code: str) -> AuthorizationCode | None:
        with self._lock:
            found = self._codes.get(code)
        if found is None or self._clock() >= found.expires_at:
            return None
        return found

    def redeem_code(self, code: str, family: str) -> None:
        with self._lock:
            self._codes.pop(code, None)
            self._redeemed_codes[code] = family

    def family_of_redeemed_code(self, code: str) -> str | None:
        with self._lock:
            return self._redeemed_codes.get(code)

    def nonce_in_use(self, client_id: str, nonce: str) -> bool:
        with self._lock:
            return any(c.client_id == client_id and c.nonce == nonce for c in self._codes.values())

    # --- tokens ---------------------------------------------------------------
    def save_token(self, token: Token) -> None:
        with self._lock:
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
            self._sessions[session.sid] = session
        return session

    def session(self, sid: str | None) -> LoginSession | None:
        if not sid:
            return None
        with self._lock:
            return self._sessions.get(sid)

    def close_session(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._sessions.pop(sid, None)
