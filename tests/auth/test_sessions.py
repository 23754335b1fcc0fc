"""Server-side sessions: random ids, idle and absolute expiry, encryption under the store key."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
from login_harness import COOKIE_SECRET, BuildApp, dev_config

from streamlit_authlib_login._core.config import HttpSettings, SessionSettings
from streamlit_authlib_login._core.errors import ProviderUnreachable
from streamlit_authlib_login._core.lifetime import GRANT_CEILING, Lifetime
from streamlit_authlib_login._core.pending import PendingLogin
from streamlit_authlib_login._core.refresh import refresh_lock
from streamlit_authlib_login._core.sealing import Sealing
from streamlit_authlib_login._core.sessions import TOUCH_EVERY, LoginDetails, Session, SessionManager, Tokens
from streamlit_authlib_login._core.store import MemoryStore, SQLiteStore
from streamlit_authlib_login._core.trace import Trace
from streamlit_authlib_login._core.validation import Check, ValidationReport


def new_session(sessions: SessionManager, access_token: str = "at-1") -> Session:
    return sessions.create(
        provider="dev",
        profile={"id": "u1"},
        claims={"sub": "u1"},
        tokens=Tokens(access_token=access_token, refresh_token="rt-1", id_token="it-1"),
    )


def pending(state: str = "state-1", created_at: int | None = None) -> PendingLogin:
    return PendingLogin(
        provider="dev",
        state=state,
        nonce="nonce-1",
        code_verifier="v" * 64,
        redirect_uri="http://localhost/auth/callback/dev",
        next_path="/x",
        browser_binding="b",
        created_at=int(time.time()) if created_at is None else created_at,
        app_base="http://localhost",
    )


@pytest.fixture
def sessions() -> SessionManager:
    return SessionManager(
        MemoryStore(), COOKIE_SECRET, SessionSettings(idle_timeout=600, absolute_timeout=3600)
    )


def test_each_session_gets_a_new_random_id(sessions: SessionManager) -> None:
    """Ids are 256-bit random, never reused."""
    ids = {new_session(sessions).id for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) >= 43 for i in ids)


def test_a_session_comes_back_typed_with_its_report_and_trace(sessions: SessionManager) -> None:
    """The validation report and the trace load as objects, not as the JSON they are stored as."""
    report = ValidationReport((Check("iss", True, "a", "a", "OIDC Core §3.1.3.7 (2)"),), {"kid": "k1"}, {})
    trace = Trace(state="s1", code_fingerprint="c1")
    trace.check("state matched", True, "RFC 9700 §4.7.1")
    saved = sessions.create(
        provider="dev",
        profile={},
        claims={"sub": "u1"},
        tokens=Tokens(access_token="at"),
        report=report,
        trace=trace,
    )
    loaded = sessions.load(saved.id)
    assert loaded is not None and loaded.report == report and loaded.report.header["kid"] == "k1"
    assert loaded.trace.state == "s1" and [s.title for s in loaded.trace.steps] == ["state matched"]
    assert new_session(sessions).report is None  # an OAuth 2.0-only login has no report


def test_a_session_stored_by_a_newer_release_still_loads(sessions: SessionManager) -> None:
    """Fields this version does not know are dropped instead of failing every rerun."""
    session = new_session(sessions)
    key = sessions.sealing.key("session", session.id)
    data = {**session.as_dict(), "added_later": 1, "tokens": {**session.tokens.__dict__, "new": 2}}
    sessions.store.put(key, sessions.sealing.seal(key, data), 60)
    loaded = sessions.load(session.id)
    assert loaded is not None and loaded.tokens.access_token == "at-1"


def test_roles_come_back_as_the_tuple_they_were_and_none_from_an_older_record(
    sessions: SessionManager,
) -> None:
    """A session's roles survive the store (JSON has no tuples); a record from before roles has none."""
    session = sessions.create(
        provider="dev", profile={}, claims={"sub": "u1"}, tokens=Tokens(access_token="at"), roles=("admin",)
    )
    loaded = sessions.load(session.id)
    assert loaded is not None and loaded.roles == ("admin",)
    older = new_session(sessions)
    key = sessions.sealing.key("session", older.id)
    record = {k: v for k, v in older.as_dict().items() if k != "roles"}
    sessions.store.put(key, sessions.sealing.seal(key, record), 60)
    loaded = sessions.load(older.id)
    assert loaded is not None and loaded.roles == ()


def test_a_live_session_loads_with_its_tokens(sessions: SessionManager) -> None:
    """What was saved comes back, tokens included, for the right id only."""
    session = new_session(sessions)
    loaded = sessions.load(session.id)
    assert loaded is not None and loaded.tokens.access_token == "at-1"
    assert sessions.load(session.id + "x") is None
    assert sessions.load(None) is None and sessions.load("") is None


def test_session_idle_past_the_idle_timeout_is_gone(sessions: SessionManager) -> None:
    """A session unused for longer than idle_timeout is refused and deleted."""
    session = new_session(sessions)
    sessions.update(session.id, lambda s: replace(s, last_seen=s.last_seen - 601))
    assert sessions.load(session.id) is None


def test_session_older_than_the_absolute_timeout_is_gone_even_if_active(sessions: SessionManager) -> None:
    """Absolute expiry ends a session however recently it was used."""
    session = new_session(sessions)
    sessions.update(
        session.id, lambda s: replace(s, created_at=s.created_at - 3601, last_seen=int(time.time()))
    )
    assert sessions.load(session.id) is None


def test_use_keeps_a_session_alive(sessions: SessionManager) -> None:
    """Loading a session last seen more than a minute ago moves last_seen forward."""
    session = new_session(sessions)
    sessions.update(session.id, lambda s: replace(s, last_seen=s.last_seen - TOUCH_EVERY - 5))
    touched = sessions.load(session.id)
    assert touched is not None and touched.last_seen >= int(time.time()) - 1
    again = sessions.load(session.id)
    assert again is not None and again.last_seen == touched.last_seen


def test_a_short_idle_timeout_is_kept_fresh_by_use() -> None:
    """With idle_timeout under a minute, use within it still keeps the session alive."""
    short = SessionManager(MemoryStore(), COOKIE_SECRET, SessionSettings(idle_timeout=20))
    session = new_session(short)
    short.update(session.id, lambda s: replace(s, last_seen=s.last_seen - 15))
    assert short.load(session.id) is not None
    refreshed = short.load(session.id)
    assert refreshed is not None and refreshed.last_seen >= int(time.time()) - 1


def test_store_ttl_is_the_remaining_absolute_lifetime(tmp_path: Path) -> None:
    """The store row expires when the session's absolute lifetime does, not later."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    sessions = SessionManager(store, COOKIE_SECRET, SessionSettings(absolute_timeout=100))
    new_session(sessions)
    with sqlite3.connect(tmp_path / "s.sqlite3") as db:
        (expires,) = db.execute("SELECT expires FROM kv WHERE key LIKE 'session:%'").fetchone()
    assert time.time() + 95 < expires <= time.time() + 101


def test_deleted_session_is_gone(sessions: SessionManager) -> None:
    """delete() is what logout calls: the id no longer loads."""
    session = new_session(sessions)
    sessions.delete(session.id)
    assert sessions.load(session.id) is None


def test_a_logout_returns_the_session_as_it_last_was(sessions: SessionManager) -> None:
    """delete() hands back what it deleted, in the same step: the tokens a logout revokes are the
    last ones stored, even if a refresh saved them a moment before."""
    session = new_session(sessions)
    sessions.update(session.id, lambda s: replace(s, tokens=replace(s.tokens, access_token="at-2")))
    ended = sessions.delete(session.id)
    assert ended is not None and ended.tokens.access_token == "at-2"
    assert sessions.delete(session.id) is None


def test_an_update_never_writes_back_a_deleted_session(sessions: SessionManager) -> None:
    """After delete (a logout), update (a refresh, a touch) finds nothing and writes nothing."""
    session = new_session(sessions)
    sessions.delete(session.id)
    changed = sessions.update(session.id, lambda s: replace(s, tokens=replace(s.tokens, access_token="x")))
    assert changed is None and sessions.load(session.id) is None
    assert not sessions.store._data  # type: ignore[attr-defined]  # neither the session nor its details


def test_an_update_that_lost_to_another_write_applies_itself_again_over_it(sessions: SessionManager) -> None:
    """A touch lands between a refresh's read and its write: the refresh writes again over the
    touch, so both the new tokens and the new last_seen stay."""
    session = new_session(sessions)
    touches: list[Session | None] = []

    def renew(current: Session) -> Session:
        if not touches:  # the touch lands after this read, before this write
            touches.append(sessions.update(session.id, lambda s: replace(s, last_seen=s.last_seen + 30)))
        return replace(current, tokens=replace(current.tokens, access_token="at-2"))

    updated = sessions.update(session.id, renew)
    loaded = sessions.load(session.id)
    assert updated is not None and loaded is not None and len(touches) == 1
    assert loaded.tokens.access_token == "at-2" and loaded.last_seen == session.last_seen + 30


async def test_a_refresh_lock_whose_lease_ran_out_is_no_longer_held(sessions: SessionManager) -> None:
    """Lease.held() is what a refresh checks before it saves: False once the lease has run out
    and another request could have taken the lock."""
    async with refresh_lock(sessions, "s1", lease=0.05) as lease:
        assert lease.held()
        await asyncio.sleep(0.1)
        assert not lease.held()
        async with refresh_lock(sessions, "s1", lease=60) as taken:
            assert taken.held() and not lease.held()


async def test_a_refresh_past_its_budget_is_cut_and_saves_nothing(build_app: BuildApp) -> None:
    """With a 0.2 s HTTP timeout a refresh gets 3 × 0.2 s for its provider calls: a provider 0.7 s
    away gets a clear error, and the session keeps the tokens it had."""
    config = dev_config(http=HttpSettings(timeout=0.2))
    store = MemoryStore()
    first = build_app(config=config, store=store)
    session_id = await first.logged_in(first.browser())
    before = first.auth.sessions.load(session_id)
    slow = build_app(config=config, store=store, latency=0.7)
    with pytest.raises(ProviderUnreachable, match=r"longer than 0\.6 s"):
        await slow.auth.refresh(session_id)
    assert slow.auth.sessions.load(session_id) == before


# --- pending logins ---------------------------------------------------------------------------
def test_pending_login_is_taken_once(sessions: SessionManager) -> None:
    """A state can be taken once; the second take finds nothing."""
    sessions.pending.save_login(pending())
    assert sessions.pending.take_login("state-1") is not None
    assert sessions.pending.take_login("state-1") is None


def test_pending_login_past_state_ttl_is_refused(sessions: SessionManager) -> None:
    """A pending login created more than state_ttl ago is refused even if the store kept it."""
    sessions.pending.save_login(pending(created_at=int(time.time()) - 601))
    assert sessions.pending.take_login("state-1") is None


def test_pending_login_is_keyed_by_its_state(sessions: SessionManager) -> None:
    """Another state does not find this login."""
    sessions.pending.save_login(pending())
    assert sessions.pending.take_login("state-2") is None


def test_a_next_cookie_opens_only_for_its_own_state(sessions: SessionManager) -> None:
    """The next cookie gives its path back for the login it was made for, for no other state,
    and not once its path or tag is changed; the longest next fits a cookie even in 4-byte
    characters (RFC 6265 §6.1: a browser keeps 4096 bytes of a cookie)."""
    from streamlit_authlib_login._core.flow import MAX_NEXT

    for path in ('/x?q=a;b,c"d', "/" + "\N{MUSICAL SYMBOL G CLEF}" * (MAX_NEXT - 1)):
        value = sessions.sealing.next_cookie("state-1", path)
        assert sessions.sealing.next_from_cookie("state-1", value) == path
        assert value.isascii() and not set(value) & set(';,"\\ ') and len(value) <= 4096 - 100
        assert sessions.sealing.next_from_cookie("state-2", value) is None
        tag, _, encoded = value.partition(".")
        assert sessions.sealing.next_from_cookie("state-1", f"{tag}.{encoded[:-2]}") is None
        other_tag = sessions.sealing.next_cookie("state-2", path).partition(".")[0]
        assert sessions.sealing.next_from_cookie("state-1", f"{other_tag}.{encoded}") is None
    assert sessions.sealing.next_from_cookie("state-1", None) is None
    # A header is latin-1: no error.
    assert sessions.sealing.next_from_cookie("state-1", "\u00e9.\u00e9") is None


def test_browser_binding_is_a_keyed_hash_of_the_cookie(sessions: SessionManager) -> None:
    """The binding stored with the state is an HMAC: same cookie same binding, never the cookie itself."""
    assert sessions.sealing.binding("cookie-a") == sessions.sealing.binding("cookie-a")
    assert sessions.sealing.binding("cookie-a") != sessions.sealing.binding("cookie-b")
    assert "cookie-a" not in sessions.sealing.binding("cookie-a")
    other = SessionManager(MemoryStore(), COOKIE_SECRET + "2", SessionSettings())
    assert other.sealing.binding("cookie-a") != sessions.sealing.binding("cookie-a")


# --- encryption ---------------------------------------------------------------------------------
def test_a_row_copied_under_another_key_does_not_decrypt(tmp_path: Path) -> None:
    """Moving session A's encrypted row under session B's key gives no session (the key is the AAD)."""
    path = tmp_path / "s.sqlite3"
    sessions = SessionManager(SQLiteStore(path), COOKIE_SECRET, SessionSettings())
    a = new_session(sessions, "at-a")
    with sqlite3.connect(path) as db:
        ((key_a, row_a),) = db.execute("SELECT key, value FROM kv WHERE key LIKE 'session:%'").fetchall()
    b = new_session(sessions, "at-b")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kv SET value = ? WHERE key LIKE 'session:%' AND key != ?", (row_a, key_a))
    assert sessions.load(b.id) is None
    loaded = sessions.load(a.id)
    assert loaded is not None and loaded.tokens.access_token == "at-a"


def test_another_cookie_secret_reads_nothing(tmp_path: Path) -> None:
    """A store copied to an app with another cookie_secret yields no session."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    session = new_session(SessionManager(store, COOKIE_SECRET, SessionSettings()))
    stranger = SessionManager(store, "another-cookie-secret-0123456789abcdef", SessionSettings())
    assert stranger.load(session.id) is None


def test_tampered_row_reads_as_no_session(tmp_path: Path) -> None:
    """A flipped byte in the ciphertext is caught by AES-GCM's tag: no session, no crash."""
    path = tmp_path / "s.sqlite3"
    sessions = SessionManager(SQLiteStore(path), COOKIE_SECRET, SessionSettings())
    session = new_session(sessions)
    with sqlite3.connect(path) as db:
        (key, value) = db.execute("SELECT key, value FROM kv").fetchone()
        db.execute("UPDATE kv SET value = ? WHERE key = ?", (value[:-1] + bytes([value[-1] ^ 1]), key))
    assert sessions.load(session.id) is None


def test_store_keys_do_not_reveal_session_ids(tmp_path: Path) -> None:
    """Rows are keyed by an HMAC of the session id, so the store lists no usable cookie."""
    path = tmp_path / "s.sqlite3"
    sessions = SessionManager(SQLiteStore(path), COOKIE_SECRET, SessionSettings())
    session = new_session(sessions)
    with sqlite3.connect(path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM kv")]
    assert keys and all(session.id not in k for k in keys)


# --- expiry through the routes -----------------------------------------------------------------
async def test_expired_session_cookie_is_not_logged_in(build_app: BuildApp) -> None:
    """Through the routes: idle and absolute expiry both make /auth/me answer 401."""
    app = build_app(config=dev_config(session=SessionSettings(idle_timeout=120, absolute_timeout=600)))
    for change in ({"last_seen": -121}, {"created_at": -601}):
        browser = app.browser()
        session_id = await app.logged_in(browser)
        assert (await browser.get("/auth/me")).status_code == 200
        ((name, delta),) = change.items()
        app.auth.sessions.update(session_id, lambda s: replace(s, **{name: getattr(s, name) + delta}))  # noqa: B023
        assert (await browser.get("/auth/me")).status_code == 401, change


class CountingStore(MemoryStore):
    """The real MemoryStore, counting the reads it answers."""

    def __init__(self) -> None:
        super().__init__()
        self.gets: list[str] = []

    def get(self, key: str) -> bytes | None:
        self.gets.append(key.split(":", 1)[0])
        return super().get(key)


def test_the_lookup_on_every_rerun_reads_the_session_only_and_its_report_when_asked() -> None:
    """The report and trace (most of the bytes) have a key of their own, read on first use only."""
    store = CountingStore()
    sessions = SessionManager(store, COOKIE_SECRET, SessionSettings(idle_timeout=600, absolute_timeout=3600))
    report = ValidationReport((Check("iss", True, "a", "a", "OIDC Core §3.1.3.7 (2)"),), {}, {})
    saved = sessions.create(
        provider="dev", profile={}, claims={"sub": "u"}, tokens=Tokens(access_token="at"), report=report
    )
    loaded = sessions.load(saved.id)
    assert loaded is not None and store.gets == ["session"]
    assert loaded.report == report and store.gets == ["session", "session-details"]
    sessions.delete(saved.id)
    assert not store._data  # both keys gone


def test_a_session_stored_with_its_report_inline_by_an_older_release_loads_whole(
    sessions: SessionManager,
) -> None:
    """Before the split the report and trace were in the session's own record: still read."""
    session = new_session(sessions)
    key = sessions.sealing.key("session", session.id)
    report = ValidationReport((Check("aud", True, "a", "a", "OIDC Core §3.1.3.7 (3)"),), {}, {})
    data = {**session.as_dict(), "report": report.as_dict(), "trace": {"state": "s9", "steps": []}}
    sessions.store.put(key, sessions.sealing.seal(key, data), 60)
    loaded = sessions.load(session.id)
    assert loaded is not None and loaded.report == report and loaded.trace.state == "s9"


def test_an_app_that_keeps_no_details_stores_none_in_sqlite(tmp_path: Path) -> None:
    """Without ``keep_login_details`` a login and an update write the session only; the report
    and trace read as none, and a logout leaves the file empty."""
    path = tmp_path / "s.sqlite3"
    sessions = SessionManager(SQLiteStore(path), COOKIE_SECRET, SessionSettings(keep_login_details=False))
    report = ValidationReport((Check("iss", True, "a", "a", "OIDC Core §3.1.3.7 (2)"),), {}, {})
    trace = Trace(state="s1")
    trace.check("state matched", True, "RFC 9700 §4.7.1")
    saved = sessions.create(
        provider="dev",
        profile={},
        claims={"sub": "u"},
        tokens=Tokens(access_token="at"),
        report=report,
        trace=trace,
    )
    assert saved.report is None and not saved.trace.steps  # as a later read will see it
    updated = sessions.update(saved.id, lambda s: replace(s, details=LoginDetails(report, trace)))
    assert updated is not None and updated.report is None
    with sqlite3.connect(path) as db:
        assert [key.split(":")[0] for (key,) in db.execute("SELECT key FROM kv")] == ["session"]
    loaded = sessions.load(saved.id)
    assert loaded is not None and loaded.report is None and loaded.trace == Trace()
    sessions.delete(saved.id)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM kv").fetchone() == (0,)


# Sealed by the release before compression (commit d6b429e), under this secret and key: the
# record {"provider": "dev", "tokens": {"access_token": "at-" + "x" * 300}}.
LEGACY_SECRET = "legacy-cookie-secret-0123456789abcdef0123"
LEGACY_SEALED = bytes.fromhex(
    "251a9060e28e8633026b96ee14e7d7ad39e6f25250c664d247569fcfb704ee8e5e86a9aeeb12bfa2e0b0b32cb66b3f70"
    "9abf649096a123bcf30e7af206613919324fa7ff1f0a6e7792ae04a31925fb9067bcf504e9673defdefa51ac895fb4f2"
    "174487f9bcc0e696a5dfc2e2567fab0a844feb938365d29b12af9ab1e1def5180f56e1d37a5531a9f3d7b6556e4605"
    "3a4814c903c46d8b8d03764133709dff2b8b520f42fc83ec9bb496c084f48b283a577a39188cac717f8cb0ac4d770bc7"
    "e6eb98dd8658218abb5d5b6e5c58ae76ecc5498c99474f78637fb632c2f93a58420b0eab7f4197a4eef7da883a0dab"
    "f13082baebe959357ad27fc659367c94800bfd1c9a8d8bc7610121ba767e03b3394c8fa39267e352a6f04c6ba398a6ef"
    "352f3466bc6616c88b9331dd9d7edf7aa6c8ef570aed2eb1041c00122ce4a18d2b460376b51d389656262f992aedaf70"
    "4bbf3a9f9369c2b64104b8440aa2c43d453a8381eaa52912156ac7f7fb5853fc5ffe10bea5fa8e7fcfaeba4b"
)


def test_a_value_sealed_before_compression_still_opens() -> None:
    """Sessions in a store survive the upgrade: the old format is JSON, the new one says so."""
    sealing = Sealing(LEGACY_SECRET)
    opened = sealing.open(sealing.key("session", "legacy-id"), LEGACY_SEALED)
    assert opened == {"provider": "dev", "tokens": {"access_token": "at-" + "x" * 300}}


def test_sessions_and_details_stored_uncompressed_load_after_the_upgrade(tmp_path: Path) -> None:
    """A session and its details written as before compression load whole, and a rewrite of
    them (a refresh) is compressed: shorter than the JSON it holds."""
    path = tmp_path / "s.sqlite3"
    before = SessionManager(SQLiteStore(path), COOKIE_SECRET, SessionSettings())
    before.sealing = Sealing(COOKIE_SECRET, compress=False)
    trace = Trace(state="s1")
    for n in range(20):
        trace.check(f"check {n}", True, "RFC 9700 §4.7.1")
    saved = before.create(
        provider="dev", profile={}, claims={"sub": "u"}, tokens=Tokens(access_token="at" * 200), trace=trace
    )
    after = SessionManager(SQLiteStore(path), COOKIE_SECRET, SessionSettings())
    loaded = after.load(saved.id)
    assert loaded is not None and loaded.tokens.access_token == "at" * 200 and len(loaded.trace.steps) == 20
    rewritten = after.update(saved.id, lambda s: replace(s, details=LoginDetails(None, s.trace)))
    assert rewritten is not None
    for kind, plain in (("session", rewritten.as_dict()), ("session-details", rewritten.details_as_dict())):
        stored = after.store.get(after.sealing.key(kind, saved.id))
        assert stored is not None and len(stored) < len(json.dumps(plain, separators=(",", ":")))
    again = after.load(saved.id)
    assert again is not None and again.tokens == loaded.tokens and again.trace.steps == loaded.trace.steps


# --- lifetimes (_core/lifetime.py), with an injected clock -------------------------------------
class Clock:
    """A clock a test moves: the manager's (and a SQLite store's) idea of now."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def at(self, start: Session, seconds: int) -> None:
        self.now = float(start.created_at + seconds)


def grant_session(sessions: SessionManager, **tokens: object) -> Session:
    return sessions.create(
        provider="corp", profile={"id": "u1"}, claims={}, tokens=Tokens(access_token="a", **tokens)
    )  # type: ignore[arg-type]


def test_an_idle_session_ends_at_its_idle_timeout_by_the_clock() -> None:
    """Unused for exactly idle_timeout it still loads; one second more and it is gone for good."""
    clock = Clock()
    sessions = SessionManager(MemoryStore(), COOKIE_SECRET, SessionSettings(idle_timeout=600), clock=clock)
    kept, dropped = new_session(sessions), new_session(sessions)
    clock.at(kept, 600)
    assert sessions.load(kept.id) is not None
    clock.at(kept, 601)
    assert sessions.load(dropped.id) is None
    clock.at(kept, 0)
    assert sessions.load(dropped.id) is None  # deleted, not merely refused: no going back


def test_use_keeps_a_session_alive_until_its_max_age_and_not_a_second_longer() -> None:
    """A session used every 10 minutes outlives many idle timeouts, then ends at its max age."""
    clock = Clock()
    settings = SessionSettings(idle_timeout=900, absolute_timeout=3600)
    sessions = SessionManager(MemoryStore(), COOKIE_SECRET, settings, clock=clock)
    session = new_session(sessions)
    for minute in range(10, 61, 10):
        clock.at(session, minute * 60)
        assert sessions.load(session.id) is not None, minute
    clock.at(session, 3601)
    assert sessions.load(session.id) is None


def test_each_provider_has_its_own_lifetime_and_others_that_of_auth() -> None:
    """A provider's table's lifetime holds for its sessions only."""
    clock = Clock()
    settings = SessionSettings(
        idle_timeout=600, absolute_timeout=3600, by_provider={"corp": Lifetime(idle=60, max_age=120)}
    )
    sessions = SessionManager(MemoryStore(), COOKIE_SECRET, settings, clock=clock)
    dev, corp = new_session(sessions), grant_session(sessions)
    clock.at(dev, 61)
    assert sessions.load(corp.id) is None and sessions.load(dev.id) is not None
    fresh = grant_session(sessions)
    clock.at(fresh, 60)
    assert sessions.load(fresh.id) is not None
    clock.at(fresh, 121)
    assert sessions.load(fresh.id) is None  # used a minute ago, but past its 2 minutes


def test_the_sqlite_row_expires_when_the_session_would(tmp_path: Path) -> None:
    """The store keeps a session as long as it could load, no longer: its idle expiry, moved by
    each touch, until the max age caps it; the store itself drops it after (its own clock)."""
    clock = Clock()
    store = SQLiteStore(tmp_path / "s.sqlite3", clock=clock)
    sessions = SessionManager(
        store, COOKIE_SECRET, SessionSettings(idle_timeout=600, absolute_timeout=1500), clock=clock
    )
    session = new_session(sessions)

    def expires() -> float:
        with sqlite3.connect(tmp_path / "s.sqlite3") as db:
            (found,) = db.execute("SELECT expires FROM kv WHERE key LIKE 'session:%'").fetchone()
        return float(found)

    assert expires() == session.created_at + 600
    clock.at(session, 500)
    assert sessions.load(session.id) is not None and expires() == session.created_at + 1100
    clock.at(session, 1000)
    assert sessions.load(session.id) is not None and expires() == session.created_at + 1500  # its max age
    clock.at(session, 1501)
    assert store.get(sessions.sealing.key("session", session.id)) is None


def test_login_details_live_until_the_sessions_end_not_its_idle_expiry(tmp_path: Path) -> None:
    """A touch rewrites the session only: its report and trace are stored until its max age."""
    clock = Clock()
    store = SQLiteStore(tmp_path / "s.sqlite3", clock=clock)
    sessions = SessionManager(
        store, COOKIE_SECRET, SessionSettings(idle_timeout=600, absolute_timeout=3600), clock=clock
    )
    session = new_session(sessions)
    with sqlite3.connect(tmp_path / "s.sqlite3") as db:
        (expires,) = db.execute("SELECT expires FROM kv WHERE key LIKE 'session-details:%'").fetchone()
    assert expires == session.created_at + 3600


def test_the_cookie_lasts_the_max_age_left_never_the_idle_timeout() -> None:
    """The cookie is set once, at login: its Max-Age is the session's whole max age."""
    clock = Clock()
    sessions = SessionManager(
        MemoryStore(), COOKIE_SECRET, SessionSettings(idle_timeout=600, absolute_timeout=7200), clock=clock
    )
    session = new_session(sessions)
    assert sessions.cookie_max_age(session) == 7200
    clock.at(session, 7000)
    assert sessions.cookie_max_age(session) == 200


@pytest.mark.parametrize(
    ("tokens", "ends_after"),
    [
        (
            {"refresh_token": "r", "expires_in_s": 300, "refresh_in_s": 1800},
            1800,
        ),  # stated: the refresh token's
        (
            {"refresh_token": "r", "expires_in_s": 300},
            GRANT_CEILING,
        ),  # unstated: until refused, or the ceiling
        ({"expires_in_s": 300}, 300),  # no refresh token: the access token's, nothing renews it
        ({}, GRANT_CEILING),  # nothing stated at all
        ({"refresh_token": "r", "refresh_in_s": 90 * 24 * 3600}, GRANT_CEILING),  # Microsoft's 90 days
    ],
    ids=["refresh-stated", "refresh-unstated", "access-only", "nothing", "over-the-ceiling"],
)
def test_a_session_tied_to_the_grant_ends_with_it(tokens: dict[str, object], ends_after: int) -> None:
    """session_max_age = "refresh": used a second before, it still ends when the grant does."""
    clock = Clock()
    grant = Lifetime(idle=GRANT_CEILING, max_age=GRANT_CEILING, ends_with_grant=True)
    sessions = SessionManager(
        MemoryStore(), COOKIE_SECRET, SessionSettings(by_provider={"corp": grant}), clock=clock
    )
    start = int(clock.now)
    expires_in, refresh_in = tokens.pop("expires_in_s", None), tokens.pop("refresh_in_s", None)
    session = grant_session(
        sessions,
        expires_at=start + expires_in if isinstance(expires_in, int) else None,
        refresh_expires_at=start + refresh_in if isinstance(refresh_in, int) else None,
        **tokens,
    )
    assert sessions.ends_at(session) == start + ends_after
    assert sessions.cookie_max_age(session) == GRANT_CEILING  # a refresh may move the grant's end
    clock.at(session, ends_after - 1)
    assert sessions.load(session.id) is not None
    clock.at(session, ends_after + 1)
    assert sessions.load(session.id) is None
