"""Logins and logouts on their way through the provider, kept until the browser comes back.

A pending login is keyed by its ``state`` and good for one callback; a pending logout too. Both
are sealed (``sealing.py``) and live ``state_ttl`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields

from .config import SessionSettings
from .records import rebuild
from .sealing import Sealing
from .store import KeyValueStore


@dataclass(frozen=True, kw_only=True)
class PendingLogin:
    """What a login remembers between the redirect to the provider and the callback: only
    what finishing it needs. Anyone can start a login, so each is stored small (``_compact``):
    no trace (the callback rebuilds the authorization request from these fields), and neither
    its ``state`` (the store key's), its nonce and PKCE verifier (``Sealing.login_secrets``
    derives them from the state), nor a field at its default."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    browser_binding: str  # HMAC of the binding cookie: ties the callback to this browser
    created_at: int
    app_base: str
    # A login for a purpose's (``Authenticator.start_for``); a login's own ``next`` is carried in
    # a cookie (``Sealing.next_cookie``), so what a login start stores never depends on what the
    # client sends.
    next_path: str = "/"
    params: Mapping[str, str] = field(default_factory=dict)  # added to the authorization request
    # Whose finisher finishes it (``flow.Finisher``), and what that finisher keeps here: the
    # Playground's form, whether it may replace the session, the session it reports to.
    purpose: str = "login"
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def max_age(self) -> int | None:
        """The ``max_age`` the request carried: the ID token's ``auth_time`` must meet it (OIDC
        Core §3.1.2.1)."""
        value = self.params.get("max_age")
        return int(value) if value is not None else None


_PENDING_DEFAULTS = {
    f.name: f.default_factory() if callable(f.default_factory) else f.default
    for f in fields(PendingLogin)
    if f.default is not MISSING or f.default_factory is not MISSING
}


@dataclass(frozen=True, kw_only=True)
class PendingLogout:
    """An RP-initiated logout on its way through the provider: its ``state`` comes back
    with the browser (OIDC RP-Initiated Logout 1.0 §3)."""

    provider: str
    state: str
    post_logout_redirect_uri: str
    created_at: int


class Pending:
    """Saves pending logins and logouts, and hands each back once."""

    def __init__(self, store: KeyValueStore, sealing: Sealing, settings: SessionSettings) -> None:
        self.store = store
        self.sealing = sealing
        self.settings = settings

    # --- logins (state) ---------------------------------------------------------------------
    def _derived(self, state: str, provider: str, redirect_uri: str) -> dict[str, object]:
        """What a pending login's stored fields imply: left out when stored, filled in when read."""
        nonce, verifier = self.sealing.login_secrets(state)
        derived: dict[str, object] = {"state": state, "nonce": nonce, "code_verifier": verifier}
        callback = f"/auth/callback/{provider}"  # the app's own callback URI on its base URL
        if redirect_uri.endswith(callback):
            derived["app_base"] = redirect_uri.removesuffix(callback)
        return derived

    def _compact(self, pending: PendingLogin) -> dict[str, object]:
        omitted = _PENDING_DEFAULTS | self._derived(pending.state, pending.provider, pending.redirect_uri)
        return {k: v for k, v in asdict(pending).items() if k not in omitted or omitted[k] != v}

    def save_login(self, pending: PendingLogin) -> None:
        key = self.sealing.key("state", pending.state)
        self.store.put(key, self.sealing.seal(key, self._compact(pending)), self.settings.state_ttl)

    def take_login(self, state: str) -> PendingLogin | None:
        """The pending login for ``state``, removed: a state is good for one callback."""
        key = self.sealing.key("state", state)
        data = self.sealing.open(key, self.store.pop(key))
        if data is None:
            return None
        derived = self._derived(state, str(data.get("provider")), str(data.get("redirect_uri")))
        pending = rebuild(PendingLogin, derived | data)
        if time.time() - pending.created_at > self.settings.state_ttl:
            return None
        return pending

    # --- logouts ------------------------------------------------------------------------------
    def save_logout(self, pending: PendingLogout) -> None:
        key = self.sealing.key("logout", pending.state)
        self.store.put(key, self.sealing.seal(key, asdict(pending)), self.settings.state_ttl)

    def logout(self, state: str | None, *, take: bool = False) -> PendingLogout | None:
        """The logout that sent ``state`` to the provider; ``take`` removes it (single use)."""
        if not state:
            return None
        key = self.sealing.key("logout", state)
        data = self.sealing.open(key, self.store.pop(key) if take else self.store.get(key))
        return rebuild(PendingLogout, data) if data is not None else None
