"""Fixtures for tests that need a real ``redis-server``.

Without the binary they skip, saying so, on a developer's machine; in CI (``CI=true``) they
fail instead: a Redis suite that skips itself there would prove nothing (``.ci/run``
installs Debian's ``redis-server``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from benchmarks.redis_process import RedisServer, redis_server
from streamlit_authlib_login._core.redis_store import RedisStore
from streamlit_authlib_login._core.refresh import refresh_lock
from streamlit_authlib_login._core.sessions import SessionManager


def require_redis_server() -> None:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must have it: .ci/run installs it")
        pytest.skip(message)


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the tests that only need a database (they flush it first)."""
    require_redis_server()
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, which it may stop and start again."""
    require_redis_server()
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def redis_store(shared_redis: RedisServer) -> Iterator[RedisStore]:
    """A RedisStore on the shared redis-server, its database emptied first."""
    store = RedisStore(shared_redis.url)
    store._client.flushdb()
    yield store
    store.close()


def command_calls(client: redis.Redis, command: str) -> int:
    """How many times the server ran ``command`` since its last ``CONFIG RESETSTAT``, by Redis's
    own count (``INFO commandstats``): what every client sent, whatever it is."""
    stats = client.info("commandstats").get(f"cmdstat_{command}")
    return int(stats["calls"]) if isinstance(stats, dict) else 0


@dataclass(frozen=True)
class Contention:
    """When, in ``time.monotonic()`` seconds, a waiter asked for a lock another held, when the
    holder began its release, and when the waiter had the lock."""

    asked: float
    releasing: float
    acquired: float


async def contend(holder: SessionManager, waiter: SessionManager, hold: float) -> Contention:
    """``holder`` takes session ``s1``'s refresh lock and keeps it ``hold`` seconds; ``waiter``
    (another replica: its own store client and threads) asks for it once ``holder`` has it. The
    lease is 30 s: nothing here waits for it to run out."""
    taken = asyncio.Event()
    times: dict[str, float] = {}

    async def keep() -> None:
        async with refresh_lock(holder, "s1", lease=30):
            taken.set()
            await asyncio.sleep(hold)
            times["releasing"] = time.monotonic()

    async def ask() -> None:
        await taken.wait()
        times["asked"] = time.monotonic()
        async with refresh_lock(waiter, "s1", lease=30):
            times["acquired"] = time.monotonic()

    await asyncio.gather(keep(), ask())
    return Contention(**times)
