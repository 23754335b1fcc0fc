"""The session store's share: the lookup every rerun pays, on SQLite and on Redis, and what
live sessions cost each store: Redis bytes per session (``MEMORY USAGE`` of every key over the
sessions) with and without the login details, before and after compression, and 10,000
sessions' growth of the SQLite file and of Redis's ``used_memory``."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import replace
from pathlib import Path

import redis

from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.redis_store import RedisStore
from streamlit_authlib_login._core.sealing import Sealing
from streamlit_authlib_login._core.sessions import LoginDetails, Session, SessionManager
from streamlit_authlib_login._core.store import MemoryStore, SQLiteStore

from .stats import Stats, time_calls, verdict

SQLITE_TARGET, REDIS_TARGET = 0.2, 1.0  # ms, p95 of a lookup (issue 13)
BYTES_TARGET = 4096  # Redis bytes per live session of an app that keeps no details (issue 22)
APPS = {"app without details (with_login's default)": False, "dashboard (keep_login_details)": True}


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


def _copies(session: Session, managers: list[SessionManager], count: int) -> None:
    for _ in range(count):
        # Each with its report and trace, as a login hands them over: details are written while
        # new (if the app keeps them), so each store gets a copy of its own.
        session_id = secrets.token_urlsafe(32)
        for manager in managers:
            manager.insert(
                replace(session, id=session_id, details=LoginDetails(session.report, session.trace))
            )


def redis_bytes_per_session(
    session: Session, settings: SessionSettings, redis_url: str, count: int = 1_000
) -> dict[str, float]:
    """``MEMORY USAGE`` summed over every key, over ``count`` live sessions like ``session``: for
    an app without details and for the dashboard, sealed as before compression and as now."""
    raw = redis.Redis.from_url(redis_url)
    found: dict[str, float] = {}
    for app, keep in APPS.items():
        for compressed in (False, True):
            raw.flushdb()
            cookie_secret = secrets.token_urlsafe(48)
            manager = SessionManager(
                RedisStore(redis_url), cookie_secret, replace(settings, keep_login_details=keep)
            )
            manager.sealing = Sealing(cookie_secret, compress=compressed)
            _copies(session, [manager], count)
            used = sum(int(raw.memory_usage(key, samples=0) or 0) for key in raw.scan_iter(count=1000))
            found[f"{app}, {'compressed' if compressed else 'uncompressed (before)'}"] = used / count
            manager.store.close()
    raw.flushdb()
    raw.close()
    return found


def memory_per_10k(
    session: Session,
    settings: SessionSettings,
    scratch: Path,
    redis_url: str,
    *,
    keep_login_details: bool,
    count: int = 10_000,
) -> dict[str, float]:
    """Bytes each store grows by for ``count`` live sessions like ``session`` (fresh ids)."""
    cookie_secret = secrets.token_urlsafe(48)
    path = scratch / f"memory-{keep_login_details}.sqlite3"
    settings = replace(settings, keep_login_details=keep_login_details)
    on_sqlite = SessionManager(SQLiteStore(path), cookie_secret, settings)
    on_redis = SessionManager(RedisStore(redis_url), cookie_secret, settings)
    raw = redis.Redis.from_url(redis_url)
    raw.flushdb()
    before = {"SQLite file": _sqlite_bytes(path), "Redis used_memory": int(raw.info("memory")["used_memory"])}
    _copies(session, [on_sqlite, on_redis], count)
    after = {"SQLite file": _sqlite_bytes(path), "Redis used_memory": int(raw.info("memory")["used_memory"])}
    raw.flushdb()
    raw.close()
    return {name: (after[name] - before[name]) * 10_000 / count for name in before}


def print_memory(per_session: dict[str, float], memory: dict[str, dict[str, float]]) -> None:
    """``redis_bytes_per_session``'s figures with the target, then ``memory_per_10k``'s per app."""
    print("  Redis bytes per live session, MEMORY USAGE of every key / live sessions:")
    for label, size in per_session.items():
        print(f"    {label:<70} {size:7.0f} B ({size / 1024:.2f} KiB)")
    without = per_session[f"{next(iter(APPS))}, compressed"]
    print(
        f"  target: an app without details <= {BYTES_TARGET / 1024:.0f} KiB a session: "
        f"{without / 1024:.2f} KiB, {verdict(without <= BYTES_TARGET)}"
    )
    print("  10,000 live sessions, growth of the SQLite file and of Redis's used_memory:")
    for app, sizes in memory.items():
        for label, size in sizes.items():
            each = size / 10_000 / 1024
            print(f"    {label + ', ' + app:<70} {size / 2**20:7.1f} MiB ({each:.1f} KiB each)")
