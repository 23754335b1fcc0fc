"""Server-side sessions: a logged-in browser's record, and how each write of it is guarded.

The browser holds only a random session id. The store holds, under an HMAC of that id, the
session sealed under a key derived from ``cookie_secret`` (``sealing.py``). ``SessionManager``
also holds the store's other parts that share that store and secret: pending logins and
logouts (``pending.py``) and the notes pages read once (``notices.py``).

Every operation here is synchronous, for the page scripts (which run in threads of their own),
and has one async face for the server's event loop: ``SessionManager.run`` runs the whole
operation (a read-modify-swap loop included) in one of the store's threads. Streamlit serves
every websocket, route and health check from that one loop, so a store call made on it (a
Redis round trip, a timeout when Redis is down, SQLite's file lock) would stall them all.
"""

from __future__ import annotations

import asyncio
import contextvars
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from functools import partial
from typing import ParamSpec, Protocol, TypeVar

from .config import SessionSettings
from .errors import LoginError, StoreUnavailable
from .lifetime import Lifetime
from .notices import Notices
from .pending import Pending
from .records import rebuild
from .sealing import Sealing
from .store import CountsErrors, CountsKeys, KeyValueStore, WaitsForRelease
from .trace import Trace
from .validation import ValidationReport

TOUCH_EVERY = 60  # seconds: idle expiry is kept fresh without a write on every rerun
# Store operations the event loop may have under way at once; more wait their turn, off the loop.
# A pool of the store's own, not the loop's default one: a store that hangs (Redis gone, a
# timeout a call, _core/redis_store.py) must not starve the loop's other blocking work (DNS).
STORE_THREADS = 8
# How many waits for a refresh lock another replica holds (``wait_released``) may block at once.
# A wait holds its thread until the release or the store's cap on one wait, so waits get threads
# of their own: in the store's, eight waiting refreshes would stall every login and page. A wait
# beyond these polls instead, as on a store that cannot wait.
WAIT_THREADS = 16
POLL = 0.02  # seconds between tries of a lock when the store cannot say when it is released
# Seconds an access token must still be valid for when ``Session.access_token`` hands it out: long
# enough for the app's API call to reach the API (and for clocks a few seconds apart).
MIN_VALID = 60

# Where token responses state the refresh token's lifetime, in seconds (no RFC defines one):
# Keycloak's; GitHub Apps', LinkedIn's, Kakao's, and Microsoft's where it sends one.
REFRESH_LIFETIME_FIELDS = ("refresh_expires_in", "refresh_token_expires_in")

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Tokens:
    """The provider's tokens, kept server-side only."""

    access_token: str
    token_type: str = "Bearer"
    expires_at: int | None = None
    expires_in: int | None = None  # the lifetime the provider gave it (RFC 6749 §5.1)
    refresh_token: str | None = None
    id_token: str | None = None
    scope: str | None = None
    refreshed_at: int | None = None
    refresh_count: int = 0
    refresh_expires_at: int | None = None  # when the provider said the refresh token expires

    @property
    def grant_ends_at(self) -> int | None:
        """When the provider's grant to this login ends, if it said: the refresh token's stated
        expiry; without a refresh token, the access token's, since nothing can renew it."""
        return self.refresh_expires_at if self.refresh_token else self.expires_at

    @classmethod
    def from_response(cls, token: Mapping[str, object]) -> Tokens:
        """From a token endpoint's JSON (RFC 6749 §5.1), with ``expires_in`` made absolute, and
        the refresh token's lifetime where the provider states it (``REFRESH_LIFETIME_FIELDS``)."""
        now = int(time.time())
        expires_at = token.get("expires_at")
        expires_in = int(str(token["expires_in"])) if token.get("expires_in") is not None else None
        if expires_at is None and expires_in is not None:
            expires_at = now + expires_in
        return cls(
            access_token=str(token["access_token"]),
            token_type=str(token.get("token_type", "Bearer")),
            expires_at=int(str(expires_at)) if expires_at is not None else None,
            expires_in=expires_in,
            refresh_token=str(token["refresh_token"]) if token.get("refresh_token") else None,
            id_token=str(token["id_token"]) if token.get("id_token") else None,
            scope=str(token["scope"]) if token.get("scope") else None,
            refresh_expires_at=_refresh_expires_at(token, now),
        )

    def due(self, min_valid: float, now: float) -> bool:
        """Whether the access token has less than ``min_valid`` seconds left: time to refresh it.
        A token that lives less than twice that is due at half its lifetime instead, or every
        use of it would refresh. One without ``expires_in`` (only RECOMMENDED, RFC 6749 §5.1)
        has no known expiry, and is never due."""
        if self.expires_at is None:
            return False
        margin = min_valid if not self.expires_in else min(min_valid, self.expires_in / 2)
        return self.expires_at - now < margin


def kept_expiry(old: Tokens, fresh: Tokens) -> int | None:
    """The stated expiry of a refresh token a refresh did not replace: answered without one
    (RFC 6749 §6 allows it), or the same one again (Authlib fills in the token it sent)."""
    return old.refresh_expires_at if fresh.refresh_token in (None, old.refresh_token) else None


def _refresh_expires_at(token: Mapping[str, object], now: int) -> int | None:
    for name in REFRESH_LIFETIME_FIELDS:
        value = str(token.get(name, "")).strip()
        # Keycloak answers 0 for an offline token, which has no fixed lifetime: unstated.
        if value.isascii() and value.isdigit() and int(value) > 0:
            return now + int(value)
    return None


class LoginDetails:
    """A login's validation report and trace: most of a session's bytes (some 10 KiB of a 14 KiB
    session), read only by the ID-token, trace and Playground pages. They are stored under a key
    of their own, so the lookup every rerun makes neither decrypts nor parses them, and are
    loaded the first time a page asks; and only for an app that asked for them
    (``SessionSettings.keep_login_details``): for others a session has no report and an empty
    trace."""

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

    def forget(self) -> None:
        """What an app that keeps no details sees: no report, an empty trace, nothing to save."""
        self._load, self._value, self.unsaved = None, (None, Trace()), False

    def get(self) -> tuple[ValidationReport | None, Trace]:
        if self._value is None:
            assert self._load is not None
            self._value = self._load()
        return self._value


class Renewer(Protocol):
    """What ``Session.access_token`` and ``Session.fetch_userinfo`` call, from the caller's
    thread: the Streamlit glue's (``SessionManager.renewer``), which runs the renewal
    (``renewal.py``) on the server's event loop."""

    def fresh(self, session: Session, min_valid: float) -> Session: ...

    def fetch_userinfo(self, session: Session) -> Mapping[str, object]: ...


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
    # Who let the person in (admission.py): the rules that held, " and "-joined; "" when the
    # provider has none (anyone with an account there). Their roles (roles.py), sorted.
    admitted_by: str = ""
    roles: tuple[str, ...] = ()
    details: LoginDetails = field(default_factory=LoginDetails, repr=False, compare=False)
    # The sealed bytes this session was read from (b"" for one made here): the version a write
    # of it is conditional on (``SessionManager.update``). Not stored, not compared.
    version: bytes = field(default=b"", repr=False, compare=False)
    # How this session renews its tokens from a page (``access_token``); not stored, not compared.
    renewer: Renewer | None = field(default=None, repr=False, compare=False)

    def access_token(self, min_valid: float = MIN_VALID) -> str:
        """An access token valid for at least ``min_valid`` seconds, for the app's own API calls:
        this session's, or, when it has less left, a new one from the provider's refresh
        (RFC 6749 §6), made once however many reruns ask at the same time. A token the provider
        gave no lifetime (no ``expires_in``) is returned as it is; one that lives less than
        ``2 * min_valid`` is renewed at half its lifetime (``Tokens.due``).

        When no new token can be had (the provider refuses the refresh token, the login has
        none, or the access rules no longer admit the person), the session ends, and the login
        page says why: in a page, the page stops there, with that reason and the login buttons;
        elsewhere, ``SessionEnded``. A provider that does not answer leaves the session as it is:
        its token while it is still valid, then the provider's error (``ProviderUnreachable``).
        Raises ``LoginError``."""
        if not self.tokens.due(min_valid, time.time()):
            return self.tokens.access_token
        return self._renewer().fresh(self, min_valid).tokens.access_token

    def fetch_userinfo(self) -> Mapping[str, object]:
        """The person's profile as the provider says it now (its userinfo endpoint, or an OAuth 2.0
        provider's profile API), asked with a fresh access token (``access_token``); the session
        keeps it (``userinfo`` and ``profile``) for the next rerun. ``userinfo`` is what the login
        (or the last refresh) brought. Raises ``LoginError``."""
        return self._renewer().fetch_userinfo(self)

    def _renewer(self) -> Renewer:
        if self.renewer is None:
            raise LoginError(
                "This session was not read by a page (``current_session``), so it cannot renew its "
                "tokens: await ``Authenticator.fresh`` instead."
            )
        return self.renewer

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
        apart = ("details", "tokens", "version", "renewer")  # stored elsewhere, below, or not at all
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in apart}
        return {**data, "tokens": asdict(self.tokens)}

    def details_as_dict(self) -> dict[str, object]:
        return {"report": self.report.as_dict() if self.report else None, "trace": self.trace.as_dict()}

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, object],
        details: LoginDetails | None = None,
        version: bytes = b"",
        renewer: Renewer | None = None,
    ) -> Session:
        tokens = data.get("tokens")
        if details is None or "trace" in data:  # older releases kept them in the session's record
            details = LoginDetails(*_details_from(data))
        record = {k: v for k, v in data.items() if k not in ("report", "trace")}
        roles = data.get("roles")
        record |= {
            "tokens": rebuild(Tokens, tokens if isinstance(tokens, Mapping) else {}),
            "roles": tuple(str(r) for r in roles) if isinstance(roles, list | tuple) else (),
            "details": details,
            "version": version,
            "renewer": renewer,
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
            "admitted_by": self.admitted_by,
            "roles": list(self.roles),
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


class SessionManager:
    """Stores sessions; holds the sealing, the pending logins and logouts, and the notices that
    share its store."""

    def __init__(
        self,
        store: KeyValueStore,
        cookie_secret: str,
        settings: SessionSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self._clock = clock  # what "now" is for a session's lifetime; tests move it
        self.sealing = Sealing(cookie_secret)
        self.pending = Pending(store, self.sealing, settings)
        self.notices = Notices(store, self.sealing)
        # What the sessions read here renew their tokens with (``Session.access_token``): set by
        # the Streamlit glue, which can reach the server's event loop from a page.
        self.renewer: Renewer | None = None
        self._threads = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="session-store")
        weakref.finalize(self, self._threads.shutdown, wait=False)  # idle threads end with it
        # The one place that asks whether the store can wait for a release (threads start lazily:
        # none for a store that cannot).
        self._waits = store if isinstance(store, WaitsForRelease) else None
        self._wait_threads = ThreadPoolExecutor(WAIT_THREADS, thread_name_prefix="session-store-wait")
        self._wait_slots = threading.BoundedSemaphore(WAIT_THREADS)
        weakref.finalize(self, self._wait_threads.shutdown, wait=False)

    # --- the async face ------------------------------------------------------------------------
    async def run(self, operation: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``operation(*args, **kwargs)`` (this manager's, its ``pending``'s or ``notices``', or a
        caller's own sequence of them) in one of the store's threads, awaited without blocking the
        event loop. The operation and its guarantees are the synchronous one's, unchanged. Once
        started it runs to its end even if the awaiting task is cancelled: a ``pop`` is never
        left half done."""
        context = contextvars.copy_context()  # as asyncio.to_thread: the caller's context goes along
        call = partial(context.run, operation, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    async def wait_released(self, key: str, timeout: float) -> None:
        """Return once the lock ``key``, which ``add`` just found taken, may have been released,
        or after at most ``timeout`` seconds; the caller tries ``add`` again.

        A store that can tell (``WaitsForRelease``: Redis) blocks in one of ``WAIT_THREADS``
        threads of the waits' own, never the store's; up to ``WAIT_THREADS`` waits block at once,
        and a wait beyond them sleeps ``POLL`` on the event loop instead, as every wait does on a
        store that cannot tell (SQLite, memory). Polling costs a store call per try: in one
        process the refresh's asyncio lock already queues a session's waiters, so only other
        processes sharing a SQLite file poll it. A cancelled wait returns at once; its thread
        finishes the blocking call (the store's cap on one wait) and then serves the next."""
        if self._waits is None or not self._wait_slots.acquire(blocking=False):
            await asyncio.sleep(min(POLL, max(timeout, 0.0)))
            return
        try:
            waiting = self._wait_threads.submit(self._waits.wait_released, key, timeout)
        except BaseException:
            self._wait_slots.release()
            raise
        # Freed when the thread is done (or the wait is cancelled before it starts), not when the
        # awaiting task is: a cancelled task's thread may still be blocked.
        waiting.add_done_callback(lambda _: self._wait_slots.release())
        await asyncio.wrap_future(waiting)

    # --- what the operator's tools ask (``metrics.py``, ``GET /auth/health``) --------------------
    def reachable(self) -> bool:
        """Whether the store answers a read (of a key nothing writes): within its own timeout, or
        at once while it backs off after a failure (``redis_store.py``)."""
        try:
            self.store.get(self.sealing.key("health", "probe"))
        except StoreUnavailable:
            return False
        return True

    def count_active(self) -> int | None:
        """Live sessions in the store, if it can count them cheaply (``CountsKeys``); else None."""
        if not isinstance(self.store, CountsKeys):
            return None
        return self.store.count(self.sealing.prefix("session"))

    def store_errors(self) -> int:
        """How many times the store raised ``StoreUnavailable`` (0 for one that never does)."""
        return self.store.unavailable_count() if isinstance(self.store, CountsErrors) else 0

    async def aload(self, session_id: str | None) -> Session | None:
        """``load``, off the event loop."""
        return await self.run(self.load, session_id)

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
        now = int(self._clock())
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
        key = self.sealing.key("session", session.id)
        if not self.store.add(key, self.sealing.seal(key, session.as_dict()), self._ttl(session)):
            return False
        self._save_details(session)  # no one knows the id before this returns: no one reads between
        return True

    def update(self, session_id: str, change: Callable[[Session], Session | None]) -> Session | None:
        """Apply ``change`` to the session as stored now, and write the result only over the bytes
        read (``swap``); if another write landed meanwhile, read again and apply it again.
        ``change`` returns None to leave the session as it is. Returns the session as written
        (or as found, if ``change`` declined); None if there is none: a logout deleted it, and
        nothing is written back."""
        key = self.sealing.key("session", session_id)
        while True:  # each lost swap is another write that landed, so this ends
            current = self._read(session_id)
            if current is None:
                return None
            changed = change(current)
            if changed is None:
                return current
            sealed = self.sealing.seal(key, changed.as_dict())
            if self.store.swap(key, current.version, sealed, self._ttl(changed)):
                if self._save_details(changed) and self.store.get(key) is None:
                    # A logout between the swap and the details' write deleted the details
                    # before they were written: delete them again, nothing may outlive it.
                    self.store.delete(self.sealing.key("session-details", session_id))
                return replace(changed, version=sealed)

    # --- lifetime (lifetime.py) ---------------------------------------------------------------
    def lifetime(self, session: Session) -> Lifetime:
        return self.settings.lifetime(session.provider)

    def ends_at(self, session: Session) -> int:
        """When the session ends however active it is: its max age after the login; tied to
        the grant (``session_max_age = "refresh"``), the grant's end if the provider said it,
        which each refresh may move, within the ceiling."""
        life = self.lifetime(session)
        ends = session.created_at + life.max_age
        grant = session.tokens.grant_ends_at if life.ends_with_grant else None
        return ends if grant is None else min(ends, grant)

    def expires_at(self, session: Session) -> int:
        """When the session ends unless it is used again first (idle) or at its end."""
        return min(session.last_seen + self.lifetime(session).idle, self.ends_at(session))

    def cookie_max_age(self, session: Session) -> int:
        """The session cookie's Max-Age: its max age left, never the idle timeout, since the
        cookie is set once, at login, and a rerun cannot renew it. A grant's end that a refresh
        may move later is the server's to enforce."""
        left = session.created_at + self.lifetime(session).max_age - int(self._clock())
        return max(0, left)

    def _ttl(self, session: Session) -> int:
        """The store keeps a session exactly as long as it could still load: until it would
        expire idle, or end (a touch or refresh writes it again, with a new TTL)."""
        return max(1, self.expires_at(session) - int(self._clock()))

    def _details_ttl(self, session: Session) -> int:
        # Not idle-bound: a touch rewrites only the session, so they last until its end.
        return max(1, self.ends_at(session) - int(self._clock()))

    def _save_details(self, session: Session) -> bool:
        """Write the session's report and trace if they are new (a login, a refresh) and the app
        keeps them; True if so."""
        if not self.settings.keep_login_details:
            session.details.forget()  # the same, read back or not: the pages never see them vary
            return False
        if not session.details.unsaved:
            return False
        key = self.sealing.key("session-details", session.id)
        self.store.put(key, self.sealing.seal(key, session.details_as_dict()), self._details_ttl(session))
        session.details.unsaved = False
        return True

    def _details(self, session_id: str) -> tuple[ValidationReport | None, Trace]:
        if not self.settings.keep_login_details:
            return None, Trace()  # never written: no store read for them
        key = self.sealing.key("session-details", session_id)
        return _details_from(self.sealing.open(key, self.store.get(key)) or {})

    def _read(self, session_id: str, blob: bytes | None = None) -> Session | None:
        key = self.sealing.key("session", session_id)
        blob = self.store.get(key) if blob is None else blob
        data = self.sealing.open(key, blob)
        if data is None or blob is None:
            return None
        details = LoginDetails(load=lambda: self._details(session_id))
        return Session.from_dict(data, details, blob, self.renewer)

    def load(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value, or None. Cheap: runs on every rerun. Its report
        and trace are read only if a page asks for them."""
        if not session_id:
            return None
        session = self._read(session_id)
        if session is None:
            return None
        now = int(self._clock())
        if now > self.expires_at(session):
            self.delete(session_id)
            return None
        if now - session.last_seen > min(TOUCH_EVERY, self.lifetime(session).idle // 2):
            touched = replace(session, last_seen=now)
            key = self.sealing.key("session", session_id)
            sealed = self.sealing.seal(key, touched.as_dict())
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
        key = self.sealing.key("session", session_id)
        blob = self.store.pop(key)
        self.store.delete(self.sealing.key("session-details", session_id))
        return self._read(session_id, blob) if blob is not None else None
