"""Fixtures for tests that need a real ``redis-server``.

Without the binary they skip, saying so, on a developer's machine; in CI (``CI=true``) they
fail instead: a Redis suite that skips itself there would prove nothing (``.ci/run``
installs Debian's ``redis-server``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.redis_process import RedisServer, redis_server
from streamlit_authlib_login._core.redis_store import RedisStore


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
