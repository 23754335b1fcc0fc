"""The refresh lock on a real redis-server: a replica waiting for a lock another holds is woken
by its release (``BLPOP`` on a wake-up list the release pushes to), instead of polling ``SET NX``,
and its waits keep out of the store's threads.

Tries are counted by Redis itself (``INFO commandstats``). A waiter's store here has a 10 s socket
timeout, so each of its waits is capped at 5 s: a waiter that takes the lock sooner than that
after asking was woken by the release, not by its cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack

import pytest
import redis
from login_harness import COOKIE_SECRET
from redis.crc import key_slot

from benchmarks.redis_process import RedisServer
from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.redis_store import TIMEOUT, RedisStore
from streamlit_authlib_login._core.refresh import refresh_lock
from streamlit_authlib_login._core.sessions import STORE_THREADS, WAIT_THREADS, SessionManager, Tokens
from tests.redis_fixtures import command_calls, contend

CAPPED = 10.0  # a waiter's socket timeout: its waits are capped at half, 5 s
WAIT_CAP = CAPPED / 2


@pytest.fixture
def admin(shared_redis: RedisServer) -> Iterator[redis.Redis]:
    """A plain client of the shared redis-server, its database emptied and its counts reset."""
    client = redis.Redis(port=shared_redis.port)
    client.flushdb()
    client.config_resetstat()
    yield client
    client.close()


@pytest.fixture
def replicas(
    shared_redis: RedisServer, admin: redis.Redis
) -> Iterator[tuple[SessionManager, SessionManager]]:
    """Two replicas' session managers on one Redis, each with its own client and threads: ``one``
    as deployed, ``two`` with its waits capped at ``WAIT_CAP``."""
    stores = [RedisStore(shared_redis.url, timeout=t) for t in (TIMEOUT, CAPPED)]
    yield tuple(SessionManager(s, COOKIE_SECRET, SessionSettings()) for s in stores)  # type: ignore[misc]
    for store in stores:
        store.close()


def blocked(admin: redis.Redis) -> int:
    return int(admin.info("clients")["blocked_clients"])


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.01)


async def test_a_waiting_replica_is_woken_by_the_release_not_by_polling(
    replicas: tuple[SessionManager, SessionManager], admin: redis.Redis
) -> None:
    """Replica one holds a session's refresh lock for 0.5 s while replica two asks for it: two
    tries (the SET NX that found it taken, the one after the release; ~25 at the old 20 ms poll),
    and two has the lock after one's release, long before its wait's cap or the 30 s lease."""
    one, two = replicas
    seen = await contend(one, two, hold=0.5)
    tries = command_calls(admin, "set") - 1  # one's own SET NX took the lock
    assert 2 <= tries <= 3, f"{tries} tries of the lock"  # a stale wake-up costs one more at most
    assert seen.releasing < seen.acquired < seen.asked + WAIT_CAP
    assert command_calls(admin, "blpop") <= 2


def test_a_release_just_before_the_wait_still_wakes_it(
    replicas: tuple[SessionManager, SessionManager],
) -> None:
    """The release lands between the waiter's failed SET NX and its BLPOP: the token the release
    left wakes the BLPOP at once (True; its cap would give False), and the lock is the waiter's."""
    one, two = (r.store for r in replicas)
    assert one.add("lock", b"one", 30)
    assert not two.add("lock", b"two", 30)
    one.delete_if("lock", b"one")
    assert two.wait_released("lock", 60)  # type: ignore[attr-defined]
    assert two.add("lock", b"two", 30)


def test_a_release_no_one_waited_for_leaves_one_token_for_a_short_while(
    redis_store: RedisStore, admin: redis.Redis
) -> None:
    """Three releases with no waiter leave one token, expiring in 2 × the socket timeout; a waiter
    for the lock's next holder wakes on it once (a spurious wake-up: it just tries again), then
    waits for a real release. A release by someone not holding the lock pushes nothing."""
    for _ in range(3):
        assert redis_store.add("lock", b"one", 30)
        redis_store.delete_if("lock", b"one")
    [wake] = [k for k in admin.keys("*") if k.endswith(b":released")]
    assert admin.llen(wake) == 1 and 0 < admin.pttl(wake) <= 2 * TIMEOUT * 1000
    assert redis_store.add("lock", b"two", 30)
    assert redis_store.wait_released("lock", 0.05)  # the stale token
    assert not redis_store.wait_released("lock", 0.05)  # nothing more until two releases
    redis_store.delete_if("lock", b"not-the-holder")
    assert admin.llen(wake) == 0 and redis_store.get("lock") == b"two"


@pytest.mark.parametrize("key", ["refresh-lock:9f2c", "lock:{s1}", "lock:}{s1}:x"])
def test_a_locks_wake_up_list_shares_its_hash_slot_under_the_prefix(key: str) -> None:
    """Whatever the lock's key (no braces, as the refresh lock's; or a hash tag of its own), its
    wake-up list hashes to the lock's Redis Cluster slot and starts with the prefix (an ACL's
    ``~auth:*``); braces that make no tag have no such list, and are refused."""
    store = RedisStore("redis://127.0.0.1:1/0")  # never connects: the names are computed
    lock = f"auth:{key}"
    wake = store._released(lock)
    assert wake.startswith("auth:") and wake != lock and key_slot(wake.encode()) == key_slot(lock.encode())
    for unpaired in ("auth:lock:{}x", "auth:lock:{x", "auth:lock:x}"):
        with pytest.raises(ValueError, match="unpaired braces"):
            store._released(unpaired)


def test_a_wait_is_capped_within_the_socket_timeout(shared_redis: RedisServer, admin: redis.Redis) -> None:
    """redis-py reads BLPOP's answer under the plain socket timeout: asked to wait 60 s, a store
    whose socket timeout is 0.4 s waits 0.2 s and answers False, not StoreUnavailable."""
    store = RedisStore(shared_redis.url, timeout=0.4)
    assert store.add("lock", b"one", 30)
    assert store.wait_released("lock", 60) is False
    assert store.get("lock") == b"one"  # and no back-off: it answers at once
    store.close()


def test_a_release_at_maxmemory_still_releases(shared_redis: RedisServer, admin: redis.Redis) -> None:
    """At maxmemory under noeviction a release (a fresh client loading the script then) frees the
    lock and leaves its token: the DEL comes first, and Redis lets a script that has written go on."""
    store = RedisStore(shared_redis.url)
    assert store.add("lock", b"one", 30)
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", 1)
    try:
        fresh = RedisStore(shared_redis.url)
        fresh.delete_if("lock", b"one")
        fresh.close()
    finally:
        admin.config_set("maxmemory", 0)
    assert store.get("lock") is None and store.wait_released("lock", 0.05)
    store.close()


async def test_a_holder_that_dies_is_outlived_by_its_waiter(
    replicas: tuple[SessionManager, SessionManager],
) -> None:
    """A replica that took the lock with a 0.3 s lease and died releases nothing: the waiter's
    capped waits reach the lease's end, and it takes the lock then."""
    one, _ = replicas
    key = one.sealing.key("refresh-lock", "s1")
    assert one.store.add(key, b"died", 0.3)
    started = time.monotonic()
    async with refresh_lock(one, "s1", lease=30) as lease:  # one's own store: waits capped at 0.5 s
        assert time.monotonic() - started >= 0.3 and lease.held()


async def test_a_cancelled_wait_ends_at_once_and_gives_its_thread_back_after_its_cap(
    replicas: tuple[SessionManager, SessionManager], admin: redis.Redis
) -> None:
    """A refresh cancelled while it waits for the lock ends at once, holding nothing, though its
    BLPOP is still blocked in Redis; the wait's thread is free again once the BLPOP's cap ends it."""
    one, _ = replicas
    async with refresh_lock(one, "s1", lease=30) as lease:

        async def refresh() -> None:
            async with refresh_lock(one, "s1", lease=30):
                pytest.fail("the lock was taken while held")

        waiter = asyncio.create_task(refresh())
        await until(lambda: blocked(admin) == 1, "the wait blocks in Redis")
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert blocked(admin) == 1 and lease.held()
        await until(lambda: one._wait_slots._value == WAIT_THREADS, "the wait's thread is free")
        assert blocked(admin) == 0


async def test_waiting_refreshes_leave_the_store_threads_to_everything_else(
    shared_redis: RedisServer, replicas: tuple[SessionManager, SessionManager], admin: redis.Redis
) -> None:
    """Replica one holds the refresh locks of WAIT_THREADS + 2 sessions, more than the store's
    threads, and replica two refreshes each. WAIT_THREADS of them block in Redis, in threads of
    their own, the other two poll; meanwhile two's session lookup answers, while every wait is
    still blocked. Once one releases, every waiter takes its lock."""
    one, two = replicas
    waiters = WAIT_THREADS + 2
    assert waiters > STORE_THREADS
    session = two.create(provider="p", profile={}, claims={"sub": "u"}, tokens=Tokens(access_token="at"))
    held: list[str] = []
    async with AsyncExitStack() as holding:
        for n in range(waiters):
            await holding.enter_async_context(refresh_lock(one, f"s{n}", lease=30))

        async def refresh(n: int) -> None:
            async with refresh_lock(two, f"s{n}", lease=30):
                held.append(f"s{n}")

        tasks = [asyncio.create_task(refresh(n)) for n in range(waiters)]
        await until(lambda: blocked(admin) == WAIT_THREADS, f"{WAIT_THREADS} waits block in Redis")
        assert (await two.aload(session.id)) == session
        assert blocked(admin) == WAIT_THREADS and not held  # no wait had to end for it
    released = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert sorted(held) == sorted(f"s{n}" for n in range(waiters))
    assert time.monotonic() - released < WAIT_CAP  # woken by the releases, not by their caps
