"""The key-value stores behind sessions (memory, SQLite, a real redis-server), the same contract
for each, and what a copy of the SQLite file gives away (nothing)."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from login_harness import DEV_CLIENT_SECRET, BuildApp, query_of

from benchmarks.redis_process import RedisServer
from streamlit_authlib_login._core.redis_store import RedisStore
from streamlit_authlib_login._core.store import CountsKeys, KeyValueStore, MemoryStore, SQLiteStore

MakeStore = Callable[[], KeyValueStore]


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """A factory of stores; SQLite ones share one file and Redis ones one server, like two
    processes (or replicas) of one app."""
    if request.param == "memory":
        shared = MemoryStore()
        yield lambda: shared
    elif request.param == "sqlite":
        yield lambda: SQLiteStore(tmp_path / "kv.sqlite3")
    else:
        server: RedisServer = request.getfixturevalue("shared_redis")
        opened: list[RedisStore] = []

        def make() -> KeyValueStore:
            opened.append(RedisStore(server.url))
            return opened[-1]

        make()._client.flushdb()  # type: ignore[attr-defined]
        yield make
        for store in opened:
            store.close()


def test_put_then_get_returns_the_bytes(make_store: MakeStore) -> None:
    """A value put is read back byte for byte, and only under its key."""
    store = make_store()
    store.put("k", b"\x00value\xff", 60)
    assert store.get("k") == b"\x00value\xff"
    assert store.get("other") is None


def test_pop_hands_a_value_out_once(make_store: MakeStore) -> None:
    """pop returns the value and removes it: what makes a state single-use."""
    store = make_store()
    store.put("k", b"v", 60)
    assert store.pop("k") == b"v"
    assert store.pop("k") is None
    assert store.get("k") is None


def test_delete_removes_and_tolerates_missing_keys(make_store: MakeStore) -> None:
    """delete removes a key, and deleting an unknown key is not an error."""
    store = make_store()
    store.put("k", b"v", 60)
    store.delete("k")
    store.delete("never-there")
    assert store.get("k") is None


def test_expired_values_are_not_returned(make_store: MakeStore) -> None:
    """A value past its ttl is neither got nor popped."""
    store = make_store()
    store.put("get", b"v", 0)
    store.put("pop", b"v", 0)
    time.sleep(0.01)
    assert store.get("get") is None
    assert store.pop("pop") is None


def test_put_replaces_the_value_and_its_ttl(make_store: MakeStore) -> None:
    """Saving a key again replaces it (a session touched or refreshed)."""
    store = make_store()
    store.put("k", b"old", 0)
    store.put("k", b"new", 60)
    time.sleep(0.01)
    assert store.get("k") == b"new"


def test_a_second_store_on_the_same_file_sees_the_data(make_store: MakeStore) -> None:
    """Two stores on one file, or one Redis (two processes or replicas of one app), share sessions."""
    one, two = make_store(), make_store()
    one.put("k", b"v", 60)
    assert two.pop("k") == b"v"
    assert one.get("k") is None


def test_concurrent_pops_from_threads_hand_a_value_out_once(make_store: MakeStore) -> None:
    """Eight threads, each with its own store on the same data, racing to pop one state:
    exactly one gets it."""
    stores = [make_store() for _ in range(8)]
    stores[0].put("state", b"v", 60)
    results: list[bytes | None] = []
    barrier = threading.Barrier(8)

    def pop(store: KeyValueStore) -> None:
        barrier.wait()
        results.append(store.pop("state"))

    threads = [threading.Thread(target=pop, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(b"v") == 1


def test_add_puts_only_when_nothing_live_is_there(make_store: MakeStore) -> None:
    """add is a lock's acquire: it succeeds once, fails while the value lives, succeeds after."""
    one, two = make_store(), make_store()
    assert one.add("lock", b"me", 0.3)
    assert not two.add("lock", b"you", 60)
    assert two.get("lock") == b"me"
    time.sleep(0.35)
    assert two.add("lock", b"you", 60)
    assert one.get("lock") == b"you"


def test_delete_if_releases_only_its_own_value(make_store: MakeStore) -> None:
    """delete_if is a lock's release: it never removes a lock someone else holds now."""
    one, two = make_store(), make_store()
    one.put("lock", b"theirs", 60)
    two.delete_if("lock", b"mine")
    assert one.get("lock") == b"theirs"
    two.delete_if("lock", b"theirs")
    assert one.get("lock") is None


def test_swap_writes_only_over_the_value_it_read(make_store: MakeStore) -> None:
    """swap is a compare-and-swap: it writes over exactly the bytes given, and its TTL is the new one."""
    one, two = make_store(), make_store()
    one.put("k", b"v1", 60)
    assert two.swap("k", b"v1", b"v2", 0.3)
    assert not one.swap("k", b"v1", b"v3", 60)  # read before two's write: it lost
    assert one.get("k") == b"v2"
    time.sleep(0.35)
    assert one.get("k") is None


def test_swap_never_brings_back_a_deleted_or_expired_key(make_store: MakeStore) -> None:
    """A key deleted (a logout) or expired stays gone, whatever a swap read before."""
    store = make_store()
    store.put("deleted", b"v", 60)
    store.delete("deleted")
    store.put("expired", b"v", 0)
    time.sleep(0.01)
    assert not store.swap("deleted", b"v", b"w", 60)
    assert not store.swap("expired", b"v", b"w", 60)
    assert not store.swap("never", b"", b"w", 60)
    assert store.get("deleted") is None and store.get("expired") is None and store.get("never") is None


def test_concurrent_swaps_over_one_value_let_exactly_one_in(make_store: MakeStore) -> None:
    """Eight stores swapping over the value they all read: exactly one write lands."""
    stores = [make_store() for _ in range(8)]
    stores[0].put("k", b"read", 60)
    won: list[bytes] = []
    barrier = threading.Barrier(8)

    def swap(store: KeyValueStore, who: bytes) -> None:
        barrier.wait()
        if store.swap("k", b"read", who, 60):
            won.append(who)

    threads = [threading.Thread(target=swap, args=(s, bytes([i]))) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and stores[0].get("k") == won[0]


def test_concurrent_adds_let_exactly_one_in(make_store: MakeStore) -> None:
    """Eight stores racing for one lock: exactly one acquires it."""
    stores = [make_store() for _ in range(8)]
    won: list[bool] = []
    barrier = threading.Barrier(8)

    def add(store: KeyValueStore, who: bytes) -> None:
        barrier.wait()
        won.append(store.add("lock", who, 60))

    threads = [threading.Thread(target=add, args=(s, bytes([i]))) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won.count(True) == 1


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM kv").fetchone()[0])


def test_sqlite_deletes_expired_rows_on_a_schedule(tmp_path: Path) -> None:
    """Expired rows go at the first write after each sweep interval, not by chance: the file
    holds what is live, plus at most one interval of dead rows."""
    now = [1_000_000.0]
    path = tmp_path / "kv.sqlite3"
    store = SQLiteStore(path, sweep_every=60, clock=lambda: now[0])
    for i in range(50):
        store.put(f"pending:{i}", b"v", 10)  # pending logins nobody finishes
    store.put("session", b"v", 3600)
    now[0] += 30  # the pending logins have expired, but the next sweep is not due
    store.put("other", b"v", 3600)
    assert rows(path) == 52
    now[0] += 31  # due now
    store.put("another", b"v", 3600)
    assert rows(path) == 3
    assert store.get("session") == b"v"


def test_sqlite_sweeps_when_it_opens(tmp_path: Path) -> None:
    """A process starting on an old file deletes what expired while nothing ran."""
    now = [1_000_000.0]
    path = tmp_path / "kv.sqlite3"
    store = SQLiteStore(path, clock=lambda: now[0])
    store.put("old", b"v", 10)
    store.put("live", b"v", 3600)
    now[0] += 100
    SQLiteStore(path, clock=lambda: now[0])
    assert rows(path) == 1


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_count_is_of_live_keys_of_exactly_that_prefix(tmp_path: Path, kind: str) -> None:
    """``count("session:")`` (auth_sessions_active): live keys of that kind only, not a kind that
    sorts next to it (``session-details:``, ``sessionx``) nor one that expired and awaits its sweep."""
    now = [1_000_000.0]
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "kv.sqlite3", clock=lambda: now[0])
    for key in ("session:a", "session:b", "session-details:a", "sessionx", "state:a", "session"):
        store.put(key, b"v", 3600)
    store.put("session:gone", b"v", 10 if kind == "sqlite" else -1)  # memory keeps time.time()'s time
    now[0] += 11
    assert isinstance(store, CountsKeys)
    assert store.count("session:") == 2


def test_sqlite_store_creates_its_directory(tmp_path: Path) -> None:
    """The default path lives in a local directory that may not exist yet."""
    path = tmp_path / "nested" / ".local" / "sessions.sqlite3"
    SQLiteStore(path).put("k", b"v", 60)
    assert path.exists()


@pytest.fixture
def no_umask() -> Iterator[None]:
    """umask 0 for the test: only the modes the code asks for protect anything."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("no_umask")
def test_sqlite_files_are_private_to_the_owner(tmp_path: Path) -> None:
    """The store's directory is 0700; the database and SQLite's own -wal and -shm files are 0600."""
    path = tmp_path / ".local" / "sessions.sqlite3"
    store = SQLiteStore(path)
    store.put("k", b"v", 60)
    files = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in path.parent.iterdir()}
    names = ("sessions.sqlite3", "sessions.sqlite3-wal", "sessions.sqlite3-shm")
    assert files == dict.fromkeys(names, "0o600")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.get("k") == b"v"


@pytest.mark.usefixtures("no_umask")
def test_an_older_world_readable_database_is_made_private(tmp_path: Path) -> None:
    """A database an older version left 0644 is 0600 once the store opens it, its data intact."""
    path = tmp_path / "sessions.sqlite3"
    SQLiteStore(path).put("k", b"v", 60)
    path.chmod(0o644)
    assert SQLiteStore(path).get("k") == b"v"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_tokens_at_rest_are_encrypted(build_app: BuildApp, tmp_path: Path) -> None:
    """After a login, the SQLite files hold no token, no session id, no state secret, no client secret."""
    path = tmp_path / "sessions.sqlite3"
    app = build_app(store=SQLiteStore(path))
    browser = app.browser()
    url = await app.start(browser)
    pending = query_of(url)
    session_id = await app.logged_in(browser)
    await app.start(browser)  # a pending login at rest too
    session = app.auth.sessions.load(session_id)
    assert session is not None and session.tokens.refresh_token and session.tokens.id_token
    disk = b"".join(p.read_bytes() for p in tmp_path.glob("sessions.sqlite3*"))
    assert len(disk) > 0
    secrets = [
        session_id,
        session.tokens.access_token,
        session.tokens.refresh_token,
        session.tokens.id_token,
        pending["nonce"],
        DEV_CLIENT_SECRET,
        "alice@example.com",
    ]
    for secret in secrets:
        assert secret.encode() not in disk, secret[:12]
    # The JWTs' payloads are base64: make sure not even their signature parts leak.
    assert session.tokens.id_token.split(".")[2].encode() not in disk
