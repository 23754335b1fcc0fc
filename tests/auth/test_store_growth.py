"""What unauthenticated traffic costs the session store, measured in a real redis-server: an
abandoned login start a few hundred bytes for 10 minutes, a forged callback nothing, and a full
Redis refuses new logins without taking existing sessions down with it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
import redis
from login_harness import BuildApp, LoginApp, query_of

from auth.redis_store import RedisStore
from benchmarks.redis_process import RedisServer

STARTS = 2000
MIB = 1024 * 1024


@pytest.fixture
def store(shared_redis: RedisServer) -> Iterator[RedisStore]:
    store = RedisStore(shared_redis.url)
    store._client.flushdb()
    yield store
    store.close()


def used_memory(server: RedisServer) -> int:
    client = redis.Redis(port=server.port)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def keys(server: RedisServer) -> int:
    client = redis.Redis(port=server.port)
    try:
        return int(client.dbsize())
    finally:
        client.close()


async def abandoned_starts(app: LoginApp, count: int, next_path: str) -> None:
    """``count`` logins started by as many cookie-less clients, none of them finished."""
    async with httpx2.AsyncClient(transport=app.transport, base_url=app.base_url) as client:
        for _ in range(count):
            client.cookies.clear()
            response = await client.get("/auth/login/dev", params={"next": next_path})
            assert response.status_code == 302


async def test_2000_abandoned_login_starts_cost_at_most_1_mib_of_redis(
    build_app: BuildApp, store: RedisStore, shared_redis: RedisServer
) -> None:
    """A pending login keeps only what finishing it needs: 2,000 of them fit in 1 MiB of Redis."""
    app = build_app(store=store)
    await app.logged_in(app.browser())  # discovery cached, and Redis's own first allocations made
    store._client.flushdb()
    before = used_memory(shared_redis)
    await abandoned_starts(app, STARTS, "/views/profile?tab=tokens")
    grown = used_memory(shared_redis) - before
    assert keys(shared_redis) == STARTS
    print(f"{STARTS} abandoned login starts: used_memory +{grown} bytes ({grown / STARTS:.0f} B each)")
    assert grown <= MIB


async def test_a_login_with_the_longest_next_still_finishes_and_longer_is_refused(
    build_app: BuildApp, store: RedisStore
) -> None:
    """``next`` is bounded (512): a login to the longest allowed path comes back there; a longer
    one is no page of this app and goes to /."""
    from auth.flow import MAX_NEXT

    assert MAX_NEXT == 512
    app = build_app(store=store)
    longest = "/x?" + "a" * (MAX_NEXT - 3)
    response = await app.login(app.browser(), next_path=longest)
    assert response.status_code == 302 and response.headers["location"] == longest
    response = await app.login(app.browser(), next_path=longest + "a")
    assert response.status_code == 302 and response.headers["location"] == "/"


async def test_the_trace_still_shows_the_authorization_request(
    build_app: BuildApp, store: RedisStore
) -> None:
    """The pending login keeps no trace: the callback rebuilds the request the browser was sent
    with, exactly, and says the discovery document came from the app's cache."""
    from auth.trace import masked_url

    app = build_app(store=store)
    await app.logged_in(app.browser())  # the discovery document is now cached
    browser = app.browser()
    sent = await app.start(browser, "/x")
    response = await browser.get(await app.authorize(browser, sent))
    session = app.auth.sessions.load(browser.cookies["auth_session"])
    assert session is not None and response.headers["location"] == "/x"
    steps = session.trace.steps
    assert [s.kind for s in steps[:3]] == ["http", "redirect", "callback"]
    assert steps[0].title == "Discovery document" and "cache" in steps[0].detail
    assert steps[1].url == masked_url(sent)
    assert session.trace.state == query_of(sent)["state"]
