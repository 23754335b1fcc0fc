"""The key-value stores behind sessions, and what a copy of the SQLite file gives away (nothing)."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from login_harness import DEV_CLIENT_SECRET, BuildApp, query_of

from auth import KeyValueStore, MemoryStore, SQLiteStore

MakeStore = Callable[[], KeyValueStore]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    """A factory of stores; SQLite ones share one file, like two processes of one app."""
    if request.param == "memory":
        shared = MemoryStore()
        return lambda: shared
    return lambda: SQLiteStore(tmp_path / "kv.sqlite3")


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


def test_a_second_store_on_the_same_file_sees_the_data(tmp_path: Path) -> None:
    """Two SQLiteStores on one file (two processes of one app) share sessions."""
    one, two = SQLiteStore(tmp_path / "kv.sqlite3"), SQLiteStore(tmp_path / "kv.sqlite3")
    one.put("k", b"v", 60)
    assert two.pop("k") == b"v"
    assert one.get("k") is None


def test_concurrent_pops_from_threads_hand_a_value_out_once(tmp_path: Path) -> None:
    """Eight threads racing to pop one state: exactly one gets it."""
    store = SQLiteStore(tmp_path / "kv.sqlite3")
    store.put("state", b"v", 60)
    results: list[bytes | None] = []
    barrier = threading.Barrier(8)

    def pop() -> None:
        barrier.wait()
        results.append(store.pop("state"))

    threads = [threading.Thread(target=pop) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(b"v") == 1


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
