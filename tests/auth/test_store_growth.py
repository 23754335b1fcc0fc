"""What unauthenticated traffic costs the session store, measured in a real redis-server: an
abandoned login start a few hundred bytes for 10 minutes, a forged callback nothing, and a full
Redis refuses new logins without taking existing sessions down with it."""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx2
import pytest
import redis
from login_harness import BuildApp, LoginApp, query_of

from benchmarks.redis_process import RedisServer
from streamlit_authlib_login._core.flow import MAX_NEXT
from streamlit_authlib_login._core.redis_store import RedisStore

STARTS = 2000
MIB = 1024 * 1024


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


ORDINARY_NEXT = "/views/profile?tab=tokens"
LONGEST_NEXT = "/x?" + "a" * (MAX_NEXT - 3)  # the longest next safe_next accepts


@pytest.mark.parametrize("next_path", [ORDINARY_NEXT, LONGEST_NEXT], ids=["ordinary-next", "longest-next"])
async def test_2000_abandoned_login_starts_cost_at_most_1_mib_of_redis(
    build_app: BuildApp, redis_store: RedisStore, shared_redis: RedisServer, next_path: str
) -> None:
    """A pending login keeps only what finishing it needs, nothing the client chose: 2,000 of
    them fit in 1 MiB of Redis, with the longest next as with an ordinary one."""
    app = build_app(store=redis_store)
    await app.logged_in(app.browser())  # discovery cached, and Redis's own first allocations made
    redis_store._client.flushdb()
    before = used_memory(shared_redis)
    await abandoned_starts(app, STARTS, next_path)
    grown = used_memory(shared_redis) - before
    assert keys(shared_redis) == STARTS
    print(
        f"{STARTS} abandoned login starts, next of {len(next_path)} characters: "
        f"used_memory +{grown} bytes ({grown / STARTS:.0f} B each)"
    )
    assert grown <= MIB


async def test_a_login_with_the_longest_next_still_finishes_and_longer_is_refused(
    build_app: BuildApp, redis_store: RedisStore
) -> None:
    """``next`` is bounded (512): a login to the longest allowed path comes back there; a longer
    one is no page of this app and goes to /."""
    assert MAX_NEXT == 512
    app = build_app(store=redis_store)
    response = await app.login(app.browser(), next_path=LONGEST_NEXT)
    assert response.status_code == 302 and response.headers["location"] == LONGEST_NEXT
    response = await app.login(app.browser(), next_path=LONGEST_NEXT + "a")
    assert response.status_code == 302 and response.headers["location"] == "/"


async def test_the_trace_still_shows_the_authorization_request(
    build_app: BuildApp, redis_store: RedisStore
) -> None:
    """The pending login keeps no trace: the callback rebuilds the request the browser was sent
    with, exactly, and says the discovery document came from the app's cache."""
    from streamlit_authlib_login._core.trace import masked_url

    app = build_app(store=redis_store)
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


# --- refused callbacks: a record only for a real one, and only its browser reads it -----------
FORGED = (
    ("GET", "/auth/callback/dev?state=made-up&code=c"),
    ("GET", "/auth/callback/nope?state=made-up&error=access_denied&error_description=%23+Mallory"),
    ("GET", "/oauth2callback?state=made-up&code=c"),
    ("POST", "/auth/callback/dev"),  # form: state=made-up&error=x
    ("GET", "/auth/callback/dev?state=made-up"),  # a "return from the provider's logout"
    ("GET", "/auth/login/nope"),
    ("GET", "/auth/login?provider=forged"),
)


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "streamlit_authlib_login._routes.common"]


async def test_forged_callbacks_grow_the_store_by_nothing_and_are_still_explained(
    build_app: BuildApp, redis_store: RedisStore, shared_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Unknown states and providers write nothing; each refusal still reaches the page as a fixed
    sentence for its check, with a request id that is on the one log line it leaves."""
    caplog.set_level(logging.INFO)
    app = build_app(store=redis_store, login_page=None)
    browser = app.browser()
    for method, path in FORGED:
        caplog.clear()
        response = await browser.request(
            method,
            path,
            content=b"state=made-up&error=x&error_description=%3Cb%3EMallory",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 303, (path, response.status_code)
        location = response.headers["location"]
        query = query_of(location)
        assert location.startswith("/auth/failed?") and "failure" not in query, (path, location)
        [line] = refusal_lines(caplog)
        assert f"request_id={query['request_id']}" in line
        page = await browser.get(location)
        assert page.status_code == 200 and query["request_id"] in page.text
        assert "Mallory" not in page.text and "kept for 5 minutes" not in page.text, path
    assert keys(shared_redis) == 0


async def test_a_failure_link_opened_in_another_browser_shows_no_record(
    build_app: BuildApp, redis_store: RedisStore
) -> None:
    """The browser that got the refusal reads it; the same link in another browser (without a
    binding cookie, or with its own) shows nothing of it."""
    app = build_app(store=redis_store, login_page=None)
    browser = app.browser()
    state = query_of(await app.start(browser))["state"]
    refused = await browser.get(
        "/auth/callback/dev",
        params={"state": state, "iss": app.issuer, "error": "access_denied", "error_description": "No way"},
    )
    link = refused.headers["location"]
    failure_id = query_of(link)["failure"]
    assert "No way" in (await browser.get(link)).text
    stranger = app.browser()
    assert "No way" not in (await stranger.get(link)).text
    await app.start(stranger)  # a binding cookie of its own
    assert "No way" not in (await stranger.get(link)).text
    assert app.auth.sessions.notices.failure(failure_id, browser.cookies["auth_login"]) is not None
    assert app.auth.sessions.notices.failure(failure_id, None) is None


# --- a full Redis: new logins refused, existing sessions still served ---------------------------
def store_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "streamlit_authlib_login._core.redis_store"]


async def test_a_full_redis_refuses_new_logins_but_existing_sessions_still_answer(
    build_app: BuildApp, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis at maxmemory under noeviction refuses writes, not reads: a new login gets the
    store-down page, and a logged-in browser's /auth/me answers 200 right after, every time (a
    refused write is not an unreachable Redis: no back-off); the log says so once."""
    caplog.set_level(logging.INFO, logger="streamlit_authlib_login._core.redis_store")
    store = RedisStore(own_redis.url)
    app = build_app(store=store)
    alice, bob = app.browser(), app.browser()
    await app.logged_in(alice)
    # Bob's session was last seen 2 minutes ago: his next request touches it, a write.
    idle = await app.logged_in(bob)
    app.auth.sessions.update(idle, lambda s: replace(s, last_seen=s.last_seen - 120))
    admin = redis.Redis(port=own_redis.port)
    admin.config_set("maxmemory-policy", "noeviction")
    # Full now, and stays full: one byte under what it used would not, since Redis frees a few
    # kilobytes (INFO's own reply, client buffers) right after, and a write then fits (1 run in 8).
    admin.config_set("maxmemory", 1)
    newcomer = app.browser()
    for _ in range(3):
        start = await newcomer.get("/auth/login/dev", params={"next": "/x"})
        assert start.status_code == 303 and start.headers["location"] == "/login?unavailable=1"
        assert (await alice.get("/auth/me")).status_code == 200
    assert (await bob.get("/auth/me")).status_code == 200  # the touch is skipped, the read stands
    [line] = store_lines(caplog)
    assert line.startswith(f"session store refused a write: {own_redis.url} (OutOfMemoryError")
    admin.config_set("maxmemory", 0)
    assert await app.logged_in(app.browser())  # at once: no back-off to wait out
    assert store_lines(caplog)[1:] == [f"session store accepts writes again: {own_redis.url}"]
    admin.close()
    store.close()
