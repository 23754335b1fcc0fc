"""Where sessions and pending logins live: a tiny key-value interface.

Values are opaque bytes (the session layer encrypts them, and HMACs the keys, before they
get here). SQLite is the default (one machine); ``redis_store.RedisStore`` serves several
replicas. ``open_store`` picks one from the configuration.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .local_dir import make_local_dir

if TYPE_CHECKING:
    from .config import AuthConfig

SWEEP_EVERY = 300.0  # seconds: how often a SQLiteStore deletes its expired rows


class KeyValueStore(Protocol):
    """Bytes by key, each with a time to live in seconds."""

    def put(self, key: str, value: bytes, ttl: float) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def pop(self, key: str) -> bytes | None:
        """Get and delete in one step: what makes a ``state`` single-use."""
        ...

    def delete(self, key: str) -> None: ...

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Put only if ``key`` holds nothing live; True if this call put it. A lock's acquire."""
        ...

    def delete_if(self, key: str, value: bytes) -> None:
        """Delete ``key`` only while it still holds ``value``: a lock's release, which must not
        release a lock that expired and was taken by someone else meanwhile."""
        ...

    def swap(self, key: str, old: bytes, new: bytes, ttl: float) -> bool:
        """Put ``new`` only while ``key`` still holds exactly ``old``, live; True if this call
        put it. A compare-and-swap: a write that read ``old`` loses to every write made since,
        and a deleted key stays deleted (the session layer's values are sealed with a random
        nonce, so no two writes put the same bytes: the bytes read are the version)."""
        ...


@runtime_checkable
class WaitsForRelease(Protocol):
    """What a store may offer beyond ``KeyValueStore``: a wait for a lock's release that costs
    one call, not a poll. ``redis_store.RedisStore`` offers it; ``SQLiteStore`` and
    ``MemoryStore`` do not, and the refresh lock polls them (``SessionManager.wait_released``)."""

    def wait_released(self, key: str, timeout: float) -> bool:
        """Block until ``delete_if`` releases the lock ``key`` (a release since the caller's
        ``add`` found it taken counts), or at most ``timeout`` seconds; True if a release woke
        it. It may return sooner (it may cap the wait, or wake for an older release): the
        caller tries ``add`` again either way, and waits again if that fails."""
        ...


@runtime_checkable
class CountsKeys(Protocol):
    """What a store may offer: how many live keys start with a prefix, at the cost of an index
    range (``SQLiteStore``, ``MemoryStore``; ``auth_sessions_active``, ``metrics.py``). Redis
    does not: it could count a prefix's keys only by a ``SCAN`` of every key in the database."""

    def count(self, prefix: str) -> int:
        """How many keys starting with ``prefix`` hold a live value."""
        ...


@runtime_checkable
class CountsErrors(Protocol):
    """What a store that raises ``StoreUnavailable`` offers (``redis_store.RedisStore``): how many
    times it has, for ``auth_store_errors_total``. A store without it never raises one."""

    def unavailable_count(self) -> int:
        """How many times a call raised ``StoreUnavailable`` since the store was made."""
        ...


def open_store(config: AuthConfig) -> KeyValueStore:
    """The store ``config`` names: Redis for ``session_store = "redis://..."`` (nothing is
    written locally then), else the SQLite file in the local directory."""
    if config.session_store:
        from .redis_store import RedisStore  # imported only then: redis-py is needed only then

        return RedisStore(config.session_store)
    make_local_dir(config.store_path.parent)
    return SQLiteStore(config.store_path)


class SQLiteStore:
    """A KeyValueStore in one SQLite file, safe across threads of one process
    and across processes on one machine (SQLite's own locking).

    Expired rows are deleted when the store opens and then every ``sweep_every`` seconds
    (on the next write after that), so the file stays the size of what is live.
    """

    def __init__(
        self, path: Path, *, sweep_every: float = SWEEP_EVERY, clock: Callable[[], float] = time.time
    ) -> None:
        # Values are encrypted, but session keys, expiry times and sizes are nobody else's
        # business: the directory is 0700 and the database 0600 before SQLite opens it, and
        # SQLite gives its -wal and -shm files the database file's mode. An older 0644 file
        # is made private too.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        path.chmod(0o600)
        self._path = path
        self._local = threading.local()
        self._clock = clock
        self._sweep_every = sweep_every
        self._next_sweep = 0.0
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS kv "
                "(key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL NOT NULL)"
            )
        self.sweep()

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=5, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def sweep(self) -> int:
        """Delete every expired row now; return how many."""
        now = self._clock()
        self._next_sweep = now + self._sweep_every
        return self._connection().execute("DELETE FROM kv WHERE expires < ?", (now,)).rowcount

    def put(self, key: str, value: bytes, ttl: float) -> None:
        db = self._connection()
        now = self._clock()
        db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (key, value, now + ttl))
        if now >= self._next_sweep:  # on a schedule: never more than sweep_every of dead rows
            self.sweep()

    def get(self, key: str) -> bytes | None:
        row = (
            self._connection()
            .execute("SELECT value FROM kv WHERE key = ? AND expires >= ?", (key, self._clock()))
            .fetchone()
        )
        return row[0] if row else None

    def pop(self, key: str) -> bytes | None:
        row = (
            self._connection()
            .execute("DELETE FROM kv WHERE key = ? RETURNING value, expires", (key,))
            .fetchone()
        )
        return row[0] if row and row[1] >= self._clock() else None

    def delete(self, key: str) -> None:
        self._connection().execute("DELETE FROM kv WHERE key = ?", (key,))

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        now = self._clock()
        # One statement, so SQLite's write lock makes it atomic across processes: insert, or
        # take over a row only if it has expired.
        cursor = self._connection().execute(
            "INSERT INTO kv VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
            "value = excluded.value, expires = excluded.expires WHERE kv.expires < ?",
            (key, value, now + ttl, now),
        )
        return cursor.rowcount == 1

    def delete_if(self, key: str, value: bytes) -> None:
        self._connection().execute("DELETE FROM kv WHERE key = ? AND value = ?", (key, value))

    def count(self, prefix: str) -> int:
        """``CountsKeys``: a range of the primary key's index, ``prefix`` <= key < the next prefix."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        row = (
            self._connection()
            .execute(
                "SELECT COUNT(*) FROM kv WHERE key >= ? AND key < ? AND expires >= ?",
                (prefix, end, self._clock()),
            )
            .fetchone()
        )
        return int(row[0])

    def swap(self, key: str, old: bytes, new: bytes, ttl: float) -> bool:
        now = self._clock()
        # One statement: SQLite's write lock makes the compare and the write one step, across
        # the threads and processes sharing the file.
        cursor = self._connection().execute(
            "UPDATE kv SET value = ?, expires = ? WHERE key = ? AND value = ? AND expires >= ?",
            (new, now + ttl, key, old, now),
        )
        return cursor.rowcount == 1


class MemoryStore:
    """A KeyValueStore in a dict: for tests and notebooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[bytes, float]] = {}

    def put(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._data[key] = (value, time.time() + ttl)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._data.get(key)
        return found[0] if found and found[1] >= time.time() else None

    def pop(self, key: str) -> bytes | None:
        with self._lock:
            found = self._data.pop(key, None)
        return found[0] if found and found[1] >= time.time() else None

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            found = self._data.get(key)
            if found and found[1] >= time.time():
                return False
            self._data[key] = (value, time.time() + ttl)
            return True

    def delete_if(self, key: str, value: bytes) -> None:
        with self._lock:
            if (found := self._data.get(key)) and found[0] == value:
                del self._data[key]

    def count(self, prefix: str) -> int:
        now = time.time()
        with self._lock:
            return sum(
                1 for key, (_, expires) in self._data.items() if key.startswith(prefix) and expires >= now
            )

    def swap(self, key: str, old: bytes, new: bytes, ttl: float) -> bool:
        with self._lock:
            found = self._data.get(key)
            if not found or found[0] != old or found[1] < time.time():
                return False
            self._data[key] = (new, time.time() + ttl)
            return True
