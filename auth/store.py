"""Where sessions and pending logins live: a tiny key-value interface.

Values are opaque bytes (the session layer encrypts them before they get
here). SQLite is the default; a Redis store can implement the same four methods.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol


class KeyValueStore(Protocol):
    """Bytes by key, each with a time to live in seconds."""

    def put(self, key: str, value: bytes, ttl: int) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def pop(self, key: str) -> bytes | None:
        """Get and delete in one step: what makes a ``state`` single-use."""
        ...

    def delete(self, key: str) -> None: ...


class SQLiteStore:
    """A KeyValueStore in one SQLite file, safe across threads of one process
    and across processes on one machine (SQLite's own locking)."""

    def __init__(self, path: Path) -> None:
        # Values are encrypted, but session keys, expiry times and sizes are nobody else's
        # business: the directory is 0700 and the database 0600 before SQLite opens it, and
        # SQLite gives its -wal and -shm files the database file's mode. An older 0644 file
        # is made private too.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        path.chmod(0o600)
        self._path = path
        self._local = threading.local()
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS kv "
                "(key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL NOT NULL)"
            )

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=5, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def put(self, key: str, value: bytes, ttl: int) -> None:
        db = self._connection()
        db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (key, value, time.time() + ttl))
        if hash(key) % 64 == 0:  # now and then, sweep the expired rows
            db.execute("DELETE FROM kv WHERE expires < ?", (time.time(),))

    def get(self, key: str) -> bytes | None:
        row = (
            self._connection()
            .execute("SELECT value FROM kv WHERE key = ? AND expires >= ?", (key, time.time()))
            .fetchone()
        )
        return row[0] if row else None

    def pop(self, key: str) -> bytes | None:
        row = (
            self._connection()
            .execute("DELETE FROM kv WHERE key = ? RETURNING value, expires", (key,))
            .fetchone()
        )
        return row[0] if row and row[1] >= time.time() else None

    def delete(self, key: str) -> None:
        self._connection().execute("DELETE FROM kv WHERE key = ?", (key,))


class MemoryStore:
    """A KeyValueStore in a dict: for tests and notebooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[bytes, float]] = {}

    def put(self, key: str, value: bytes, ttl: int) -> None:
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
