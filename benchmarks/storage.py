"""The session store's share: the lookup every rerun pays, on SQLite and on Redis, and what
10,000 live sessions cost each store."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import replace
from pathlib import Path

import redis

from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.redis_store import RedisStore
from streamlit_authlib_login._core.sessions import LoginDetails, Session, SessionManager
from streamlit_authlib_login._core.store import MemoryStore, SQLiteStore

from .stats import Stats, time_calls, verdict

SQLITE_TARGET, REDIS_TARGET = 0.2, 1.0  # ms, p95 of a lookup (issue 13)


def lookups(
    sessions: SessionManager, redis_url: str, session: Session, n: int, cluster_url: str | None = None
) -> dict[str, Stats]:
    """``SessionManager.load`` of a real login's session, hit and miss, per store; with
    ``cluster_url``, also on a Redis Cluster named by one node's URL."""
    stores = {
        "SQLiteStore (default)": sessions,
        "RedisStore (loopback)": SessionManager(
            RedisStore(redis_url), secrets.token_urlsafe(48), sessions.settings
        ),
        "MemoryStore": SessionManager(MemoryStore(), secrets.token_urlsafe(48), sessions.settings),
    }
    if cluster_url is not None:
        stores["RedisStore (cluster, 3+3 on loopback)"] = SessionManager(
            RedisStore(cluster_url), secrets.token_urlsafe(48), sessions.settings
        )
    unknown = secrets.token_urlsafe(32)
    found: dict[str, Stats] = {}
    for name, manager in stores.items():
        manager.insert(session)
        found[f"{name}, hit"] = time_calls(lambda m=manager: m.load(session.id), n)
    for name, manager in stores.items():
        found[f"{name}, miss"] = time_calls(lambda m=manager: m.load(unknown), n)
    return found


def print_lookups(found: dict[str, Stats], session: Session) -> None:
    size = len(json.dumps(session.as_dict(), separators=(",", ":")))
    details = len(json.dumps(session.details_as_dict(), separators=(",", ":")))
    print(
        "\n1. Per-rerun session lookup, SessionManager.load(session_id), for a real login's session\n"
        f"   ({size / 1024:.1f} KiB of JSON read per lookup: {len(session.claims)} claims, the tokens; "
        f"its {len(session.trace.steps)} trace steps and "
        f"{len(session.report.checks) if session.report else 0} report rows, {details / 1024:.1f} KiB, "
        "are read only by the pages that show them)"
    )
    for label, stats in found.items():
        print(stats.row(label, 3))
    for store, target in (("SQLiteStore (default)", SQLITE_TARGET), ("RedisStore (loopback)", REDIS_TARGET)):
        p95 = found[f"{store}, hit"].p95
        print(f"  target: {store} hit p95 < {target} ms: {p95:.3f} ms, {verdict(p95 < target)}")


def _sqlite_bytes(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA page_count").fetchone()[0]) * int(
            db.execute("PRAGMA page_size").fetchone()[0]
        )


def memory_per_10k(
    session: Session, settings: SessionSettings, scratch: Path, redis_url: str, count: int = 10_000
) -> dict[str, float]:
    """Bytes each store grows by for ``count`` live sessions like ``session`` (fresh ids)."""
    cookie_secret = secrets.token_urlsafe(48)
    path = scratch / "memory.sqlite3"
    on_sqlite = SessionManager(SQLiteStore(path), cookie_secret, settings)
    on_redis = SessionManager(RedisStore(redis_url), cookie_secret, settings)
    raw = redis.Redis.from_url(redis_url)
    raw.flushdb()
    before = {"SQLite file": _sqlite_bytes(path), "Redis used_memory": int(raw.info("memory")["used_memory"])}
    for _ in range(count):
        # Each with its report and trace, as a login stores them: details are written while new,
        # so each store gets a copy of its own.
        session_id = secrets.token_urlsafe(32)
        for manager in (on_sqlite, on_redis):
            manager.insert(
                replace(session, id=session_id, details=LoginDetails(session.report, session.trace))
            )
    after = {"SQLite file": _sqlite_bytes(path), "Redis used_memory": int(raw.info("memory")["used_memory"])}
    raw.flushdb()
    raw.close()
    return {name: (after[name] - before[name]) * 10_000 / count for name in before}
