"""Server-side sessions, pending logins and failed-login records.

The browser holds only a random session id. The store holds, under an HMAC of
that id, the session encrypted with AES-GCM under a key derived from
``cookie_secret``: a copy of the store alone yields neither usable cookies nor
tokens.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields, replace

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .config import SessionSettings
from .errors import LoginError, StoreUnavailable
from .records import rebuild
from .store import KeyValueStore
from .trace import Trace
from .validation import ValidationReport

TOUCH_EVERY = 60  # seconds: idle expiry is kept fresh without a write on every rerun
PROVIDER_OK_TTL = 365 * 24 * 3600  # a provider that logged someone in once is set up
FAILURE_TTL = 300  # a failed login is explained once, right after it; anyone can cause one
PLAYGROUND_TTL = 600  # a Playground result is read right after its login, on that page


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"streamlit-authlib", info=purpose).derive(
        secret.encode()
    )


@dataclass(frozen=True, kw_only=True)
class Tokens:
    """The provider's tokens, kept server-side only."""

    access_token: str
    token_type: str = "Bearer"
    expires_at: int | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    scope: str | None = None
    refreshed_at: int | None = None
    refresh_count: int = 0

    @classmethod
    def from_response(cls, token: Mapping[str, object]) -> Tokens:
        """From a token endpoint's JSON (RFC 6749 §5.1), with ``expires_in`` made absolute."""
        expires_at = token.get("expires_at")
        if expires_at is None and token.get("expires_in") is not None:
            expires_at = int(time.time()) + int(str(token["expires_in"]))
        return cls(
            access_token=str(token["access_token"]),
            token_type=str(token.get("token_type", "Bearer")),
            expires_at=int(str(expires_at)) if expires_at is not None else None,
            refresh_token=str(token["refresh_token"]) if token.get("refresh_token") else None,
            id_token=str(token["id_token"]) if token.get("id_token") else None,
            scope=str(token["scope"]) if token.get("scope") else None,
        )


class LoginDetails:
    """A login's validation report and trace: most of a session's bytes (some 10 KiB of a 14 KiB
    session), read only by the ID-token, trace and Playground pages. They are stored under a key
    of their own, so the lookup every rerun makes neither decrypts nor parses them, and are
    loaded the first time a page asks."""

    __slots__ = ("_load", "_value", "unsaved")

    def __init__(
        self,
        report: ValidationReport | None = None,
        trace: Trace | None = None,
        *,
        load: Callable[[], tuple[ValidationReport | None, Trace]] | None = None,
    ) -> None:
        self._load = load
        self._value = None if load else (report, trace or Trace())
        self.unsaved = load is None  # made here, not read back: the store does not have it yet

    def get(self) -> tuple[ValidationReport | None, Trace]:
        if self._value is None:
            assert self._load is not None
            self._value = self._load()
        return self._value


@dataclass(frozen=True, kw_only=True)
class Session:
    """A logged-in browser."""

    id: str
    provider: str
    profile: Mapping[str, object]
    claims: Mapping[str, object]
    tokens: Tokens
    created_at: int
    last_seen: int
    userinfo: Mapping[str, object] = field(default_factory=dict)
    requested_scope: str = ""
    app_base: str = ""  # the app URL its provider client was reached through
    details: LoginDetails = field(default_factory=LoginDetails, repr=False, compare=False)
    # The sealed bytes this session was read from (b"" for one made here): the version a write
    # of it is conditional on (``SessionManager.update``). Not stored, not compared.
    version: bytes = field(default=b"", repr=False, compare=False)

    @property
    def report(self) -> ValidationReport | None:
        """The ID token's validation report; None for an OAuth 2.0-only login (no ID token)."""
        return self.details.get()[0]

    @property
    def trace(self) -> Trace:
        return self.details.get()[1]

    def as_dict(self) -> dict[str, object]:
        """The session's own record, as stored (``from_dict`` reads it back); the report and the
        trace are ``details_as_dict``'s."""
        apart = ("details", "tokens", "version")  # stored elsewhere, below, or not at all
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in apart}
        return {**data, "tokens": asdict(self.tokens)}

    def details_as_dict(self) -> dict[str, object]:
        return {"report": self.report.as_dict() if self.report else None, "trace": self.trace.as_dict()}

    @classmethod
    def from_dict(
        cls, data: Mapping[str, object], details: LoginDetails | None = None, version: bytes = b""
    ) -> Session:
        tokens = data.get("tokens")
        if details is None or "trace" in data:  # older releases kept them in the session's record
            details = LoginDetails(*_details_from(data))
        record = {k: v for k, v in data.items() if k not in ("report", "trace")}
        record |= {
            "tokens": rebuild(Tokens, tokens if isinstance(tokens, Mapping) else {}),
            "details": details,
            "version": version,
        }
        return rebuild(cls, record)

    def public(self) -> dict[str, object]:
        """What ``/auth/me`` shows: everything but the tokens themselves."""
        return {
            "provider": self.provider,
            "profile": dict(self.profile),
            "claims": dict(self.claims),
            "created_at": self.created_at,
            "last_seen": self.last_seen,
            "tokens": {
                "token_type": self.tokens.token_type,
                "access_token_expires_at": self.tokens.expires_at,
                "id_token_expires_at": self.claims.get("exp"),
                "has_refresh_token": self.tokens.refresh_token is not None,
                "scope": self.tokens.scope,
                "refreshed_at": self.tokens.refreshed_at,
                "refresh_count": self.tokens.refresh_count,
            },
        }


def _details_from(data: Mapping[str, object]) -> tuple[ValidationReport | None, Trace]:
    report, trace = data.get("report"), data.get("trace")
    return (
        # An empty report ({}) is how older releases stored "no ID token".
        ValidationReport.from_dict(report) if isinstance(report, Mapping) and report else None,
        Trace.from_dict(trace) if isinstance(trace, Mapping) else Trace(),
    )


@dataclass(frozen=True, kw_only=True)
class PendingLogin:
    """What a login remembers between the redirect to the provider and the callback: only
    what finishing it needs. Anyone can start a login, so each is stored small (``_compact``):
    no trace (the callback rebuilds the authorization request from these fields), and neither
    its ``state`` (the store key's), its nonce and PKCE verifier (``login_secrets`` derives them
    from the state), nor a field at its default."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    browser_binding: str  # HMAC of the binding cookie: ties the callback to this browser
    created_at: int
    app_base: str
    # A Playground login's; a login's own ``next`` is carried in a cookie (``next_cookie``), so
    # what a login start stores never depends on what the client sends.
    next_path: str = "/"
    # A Playground login (_core/playground.py): the parameters it added, whether it may replace
    # the session, and the session it reports to (``SessionManager.owner``).
    purpose: str = "login"  # or "playground"
    params: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    replace_session: bool = False
    owner: str = ""
    max_age: int | None = None


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


@dataclass(frozen=True)
class Lease:
    """A held refresh lock (``SessionManager.refresh_lock``)."""

    store: KeyValueStore
    key: str
    owner: bytes

    def held(self) -> bool:
        """Whether the lock is still this holder's: False once its lease ran out (and perhaps
        another request took it), when what it did must not be saved."""
        return self.store.get(self.key) == self.owner


class SessionManager:
    """Encrypts and stores sessions, pending logins and logouts, and failed-login records."""

    def __init__(self, store: KeyValueStore, cookie_secret: str, settings: SessionSettings) -> None:
        self.store = store
        self.settings = settings
        self._aead = AESGCM(_derive(cookie_secret, b"store-encryption"))
        self._mac_key = _derive(cookie_secret, b"store-keys")
        self._login_key = _derive(cookie_secret, b"login-secrets")

    # --- encryption ------------------------------------------------------------
    def _key(self, kind: str, value: str) -> str:
        return kind + ":" + hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()

    def _seal(self, key: str, data: Mapping[str, object]) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps(data, separators=(",", ":")).encode()
        # The store key is the associated data: a row moved under another key won't decrypt.
        return nonce + self._aead.encrypt(nonce, plain, key.encode())

    def _open(self, key: str, blob: bytes | None) -> dict[str, object] | None:
        if blob is None:
            return None
        try:
            plain = self._aead.decrypt(blob[:12], blob[12:], key.encode())
        except Exception:  # cryptography raises InvalidTag; any failure means "no session"
            return None
        data = json.loads(plain)
        return data if isinstance(data, dict) else None

    def binding(self, cookie_value: str) -> str:
        return base64.urlsafe_b64encode(
            hmac.new(self._mac_key, b"binding:" + cookie_value.encode(), hashlib.sha256).digest()
        ).decode()

    # --- pending logins (state) ---------------------------------------------------
    def login_secrets(self, state: str) -> tuple[str, str]:
        """The nonce and PKCE verifier of the login sent with ``state``: HMACs of it under a key
        derived from ``cookie_secret``, so they need no storing and are as unguessable as random
        ones to anyone without that secret. The verifier is 32 octets in base64url, the 43
        characters RFC 7636 §4.1 and §7.1 ask for; the nonce the same (OIDC Core §15.5.2)."""

        def derive(purpose: bytes) -> str:
            digest = hmac.new(self._login_key, purpose + state.encode(), hashlib.sha256).digest()
            return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

        return derive(b"nonce:"), derive(b"pkce-verifier:")

    def next_cookie(self, state: str, next_path: str) -> str:
        """The value of the cookie that carries the ``next`` of the login sent with ``state``:
        the path (base64url: any printable text fits a cookie, in at most 2.8 KB for 512
        characters) after a MAC of it and the state, so neither another login's cookie nor one
        tossed in by someone else lends a callback its path."""
        encoded = base64.urlsafe_b64encode(next_path.encode()).rstrip(b"=").decode()
        return f"{self._next_tag(state, encoded)}.{encoded}"

    def next_from_cookie(self, state: str, value: str | None) -> str | None:
        """The ``next`` in cookie ``value`` if it was made for the login sent with ``state``."""
        tag, _, encoded = (value or "").partition(".")
        # As bytes: compare_digest refuses str with non-ASCII characters, which a cookie may carry.
        if not hmac.compare_digest(tag.encode(), self._next_tag(state, encoded).encode()):
            return None
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()  # ours: it matched

    def _next_tag(self, state: str, encoded: str) -> str:
        # The state's digest has a fixed length: no other (state, path) pair spells the same input.
        data = b"next:" + hashlib.sha256(state.encode()).digest() + encoded.encode()
        digest = hmac.new(self._mac_key, data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()  # 128 bits

    def _derived(self, state: str, provider: str, redirect_uri: str) -> dict[str, object]:
        """What a pending login's stored fields imply: left out when stored, filled in when read."""
        nonce, verifier = self.login_secrets(state)
        derived: dict[str, object] = {"state": state, "nonce": nonce, "code_verifier": verifier}
        callback = f"/auth/callback/{provider}"  # the app's own callback URI on its base URL
        if redirect_uri.endswith(callback):
            derived["app_base"] = redirect_uri.removesuffix(callback)
        return derived

    def _compact(self, pending: PendingLogin) -> dict[str, object]:
        omitted = _PENDING_DEFAULTS | self._derived(pending.state, pending.provider, pending.redirect_uri)
        return {k: v for k, v in asdict(pending).items() if k not in omitted or omitted[k] != v}

    def save_pending(self, pending: PendingLogin) -> None:
        key = self._key("state", pending.state)
        self.store.put(key, self._seal(key, self._compact(pending)), self.settings.state_ttl)

    def take_pending(self, state: str) -> PendingLogin | None:
        """The pending login for ``state``, removed: a state is good for one callback."""
        key = self._key("state", state)
        data = self._open(key, self.store.pop(key))
        if data is None:
            return None
        derived = self._derived(state, str(data.get("provider")), str(data.get("redirect_uri")))
        pending = rebuild(PendingLogin, derived | data)
        if time.time() - pending.created_at > self.settings.state_ttl:
            return None
        return pending

    # --- pending logouts ---------------------------------------------------------------
    def save_pending_logout(self, pending: PendingLogout) -> None:
        key = self._key("logout", pending.state)
        self.store.put(key, self._seal(key, asdict(pending)), self.settings.state_ttl)

    def pending_logout(self, state: str | None, *, take: bool = False) -> PendingLogout | None:
        """The logout that sent ``state`` to the provider; ``take`` removes it (single use)."""
        if not state:
            return None
        key = self._key("logout", state)
        data = self._open(key, self.store.pop(key) if take else self.store.get(key))
        return rebuild(PendingLogout, data) if data is not None else None

    # --- providers that have completed a login (no set-up help needed) -------------------
    def mark_provider_working(self, provider: str) -> None:
        key = self._key("provider-ok", provider)
        self.store.put(key, self._seal(key, {"provider": provider}), PROVIDER_OK_TTL)

    def provider_working(self, provider: str) -> bool:
        key = self._key("provider-ok", provider)
        return self._open(key, self.store.get(key)) is not None

    # --- sessions -------------------------------------------------------------------
    # What each write of a session guarantees (the store's verbs are in store.py):
    # - insert (a login): ``add`` under a new random id; it never overwrites anything.
    # - update (a refresh) and the last-seen touch in ``load``: ``swap`` over the exact bytes
    #   read. A write made since (another refresh, a touch) is never undone, and a session a
    #   logout deleted is never written back: after ``delete`` only ``insert``, which makes a
    #   new id, writes a session again.
    # - delete (a logout, expiry): unconditional, and final for that id.
    def create(self, **login: object) -> Session:
        """A new session (a new random id): the login's fields, its ``report`` and ``trace``."""
        now = int(time.time())
        report, trace = login.pop("report", None), login.pop("trace", None)
        details = LoginDetails(
            report if isinstance(report, ValidationReport) else None,
            trace if isinstance(trace, Trace) else None,
        )
        login |= {"id": secrets.token_urlsafe(32), "created_at": now, "last_seen": now, "details": details}
        session = rebuild(Session, login)
        self.insert(session)
        return session

    def insert(self, session: Session) -> bool:
        """Store a new session, with its report and trace; False, and nothing written, if its id
        holds a live session already (an existing session changes only through ``update``)."""
        key = self._key("session", session.id)
        if not self.store.add(key, self._seal(key, session.as_dict()), self._ttl(session)):
            return False
        self._save_details(session)  # no one knows the id before this returns: no one reads between
        return True

    def update(self, session_id: str, change: Callable[[Session], Session | None]) -> Session | None:
        """Apply ``change`` to the session as stored now, and write the result only over the bytes
        read (``swap``); if another write landed meanwhile, read again and apply it again.
        ``change`` returns None to leave the session as it is. Returns the session as written
        (or as found, if ``change`` declined); None if there is none: a logout deleted it, and
        nothing is written back."""
        key = self._key("session", session_id)
        while True:  # each lost swap is another write that landed, so this ends
            current = self._read(session_id)
            if current is None:
                return None
            changed = change(current)
            if changed is None:
                return current
            sealed = self._seal(key, changed.as_dict())
            if self.store.swap(key, current.version, sealed, self._ttl(changed)):
                if self._save_details(changed) and self.store.get(key) is None:
                    # A logout between the swap and the details' write deleted the details
                    # before they were written: delete them again, nothing may outlive it.
                    self.store.delete(self._key("session-details", session_id))
                return replace(changed, version=sealed)

    def _ttl(self, session: Session) -> int:
        return max(1, session.created_at + self.settings.absolute_timeout - int(time.time()))

    def _save_details(self, session: Session) -> bool:
        """Write the session's report and trace if they are new (a login, a refresh); True if so."""
        if not session.details.unsaved:
            return False
        key = self._key("session-details", session.id)
        self.store.put(key, self._seal(key, session.details_as_dict()), self._ttl(session))
        session.details.unsaved = False
        return True

    def _details(self, session_id: str) -> tuple[ValidationReport | None, Trace]:
        key = self._key("session-details", session_id)
        return _details_from(self._open(key, self.store.get(key)) or {})

    def _read(self, session_id: str, blob: bytes | None = None) -> Session | None:
        key = self._key("session", session_id)
        blob = self.store.get(key) if blob is None else blob
        data = self._open(key, blob)
        if data is None or blob is None:
            return None
        return Session.from_dict(data, LoginDetails(load=lambda: self._details(session_id)), blob)

    def load(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value, or None. Cheap: runs on every rerun. Its report
        and trace are read only if a page asks for them."""
        if not session_id:
            return None
        session = self._read(session_id)
        if session is None:
            return None
        now = int(time.time())
        if now - session.created_at > self.settings.absolute_timeout or (
            now - session.last_seen > self.settings.idle_timeout
        ):
            self.delete(session_id)
            return None
        if now - session.last_seen > min(TOUCH_EVERY, self.settings.idle_timeout // 2):
            touched = replace(session, last_seen=now)
            key = self._key("session", session_id)
            sealed = self._seal(key, touched.as_dict())
            # One attempt, over the bytes just read: a write that landed since (a refresh, a
            # logout, another touch) wins, and this read stands as it was. The touch only moves
            # last_seen: it never writes back tokens that a refresh has replaced.
            try:
                if self.store.swap(key, session.version, sealed, self._ttl(touched)):
                    session = replace(touched, version=sealed)
            except StoreUnavailable:
                pass  # a store that refuses writes (full) still serves this read: the next touch
        return session

    def delete(self, session_id: str) -> Session | None:
        """End the session: the id never loads again. Returns the session as it was at that
        moment (``pop``: a refresh that landed just before is what gets revoked)."""
        key = self._key("session", session_id)
        blob = self.store.pop(key)
        self.store.delete(self._key("session-details", session_id))
        return self._read(session_id, blob) if blob is not None else None

    @asynccontextmanager
    async def refresh_lock(self, session_id: str, *, lease: float) -> AsyncIterator[Lease]:
        """Held by one request at a time, across every process and replica sharing the store:
        a rotating refresh token redeemed twice makes the provider revoke the whole login
        (RFC 9700 §4.14.2). The lock is a key written only if absent; it expires after
        ``lease`` seconds should its holder die, and waiting ends a second after that. The
        holder must finish within its lease, and checks ``Lease.held`` before it writes."""
        key = self._key("refresh-lock", session_id)
        owner = os.urandom(16)
        deadline = time.monotonic() + lease + 1
        while not self.store.add(key, owner, lease):
            if time.monotonic() > deadline:
                raise LoginError("Another request is still refreshing this session; try again.")
            await asyncio.sleep(0.02)
        try:
            yield Lease(self.store, key, owner)
        finally:
            self.store.delete_if(key, owner)

    # --- failed logins, shown once on the login page, to the browser that got them ------------
    def save_failure(self, record: Mapping[str, object], binding_cookie: str) -> str:
        """Keep a refused login's record for ``FAILURE_TTL``, readable only with the binding
        cookie of the browser it happened in (``failure``): its link, shared or forged, shows
        nothing anywhere else."""
        failure_id = secrets.token_urlsafe(16)
        key = self._key("failure", failure_id)
        self.store.put(key, self._seal(key, {**record, "browser": self.binding(binding_cookie)}), FAILURE_TTL)
        return failure_id

    def failure(self, failure_id: str, binding_cookie: str | None) -> dict[str, object] | None:
        """The record, only for the browser whose binding cookie it was saved with."""
        if not binding_cookie:
            return None
        key = self._key("failure", failure_id)
        record = self._open(key, self.store.get(key))
        if record is None or not hmac.compare_digest(
            str(record.pop("browser", "")), self.binding(binding_cookie)
        ):
            return None
        return record

    # --- Playground results, for the session that asked --------------------------------------
    def owner(self, session_id: str) -> str:
        """Names a session in a record without holding its id (which is a bearer credential)."""
        return self.binding("owner:" + session_id)

    def save_playground_result(self, owner: str, record: Mapping[str, object]) -> str:
        result_id = secrets.token_urlsafe(16)
        key = self._key("playground", result_id)
        self.store.put(key, self._seal(key, {**record, "owner": owner}), PLAYGROUND_TTL)
        return result_id

    def playground_result(self, result_id: str, session_id: str | None) -> dict[str, object] | None:
        """The result, only for the session it belongs to: a result id that leaked (a shared
        URL) shows nothing to anyone else."""
        if not session_id:
            return None
        key = self._key("playground", result_id)
        record = self._open(key, self.store.get(key))
        if record is None or not hmac.compare_digest(str(record.get("owner", "")), self.owner(session_id)):
            return None
        return record
