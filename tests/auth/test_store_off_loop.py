"""The server's one event loop never waits on the session store: Streamlit answers every
websocket, route and health check from it, so a store call made there would stall them all.

The app (``compose``, as app.py builds it) is served by a real uvicorn, with its Redis store
``DELAY`` seconds away each way behind ``tests/latency_proxy.py``, beside a trivial route on
the same loop (``/health``, as Streamlit's ``/_stcore/health``). While ``/auth/me`` waits on
Redis, ``/health`` must answer before any Redis answer could have arrived: within ``DELAY``.
Run on the loop, the store would hold ``/health`` for the whole round trip (two ``DELAY``),
and for the store's timeout when Redis does not answer at all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
from login_harness import COOKIE_SECRET, compose, dev_config, serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from benchmarks.redis_process import RedisServer
from devidp import DevAuthorizationServer
from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.redis_store import RedisStore
from streamlit_authlib_login._core.sessions import SessionManager, Tokens
from tests.latency_proxy import LatencyProxy

DELAY = 0.2  # seconds each way between the app and Redis: a Redis in another region


@dataclass(frozen=True)
class Slow:
    url: str  # the app
    proxy: LatencyProxy  # between the app and Redis
    session_id: str  # a live session, stored directly (not through the proxy)


async def health(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@pytest.fixture
def slow(shared_redis: RedisServer, shared_idp: DevAuthorizationServer) -> Iterator[Slow]:
    direct = RedisStore(shared_redis.url)
    session = SessionManager(direct, COOKIE_SECRET, SessionSettings()).create(
        provider="dev", profile={"sub": "alice"}, claims={}, tokens=Tokens(access_token="at")
    )
    direct.close()
    with LatencyProxy(shared_redis.port, DELAY) as proxy:
        store = RedisStore(f"redis://127.0.0.1:{proxy.port}/0")
        _, routes = compose(
            shared_idp, dev_config(), store, transport=None, extra_routes=[Route("/health", health)]
        )
        with serve_asgi(Starlette(routes=routes)) as url:
            yield Slow(url, proxy, session.id)
        store.close()


async def timed_health(client: httpx2.AsyncClient) -> float:
    started = time.perf_counter()
    response = await client.get("/health")
    assert response.status_code == 200
    return time.perf_counter() - started


async def test_health_answers_while_a_request_waits_on_a_slow_store(slow: Slow) -> None:
    async with (
        httpx2.AsyncClient(base_url=slow.url, cookies={"auth_session": slow.session_id}) as browser,
        httpx2.AsyncClient(base_url=slow.url) as prober,
    ):
        assert (await prober.get("/health")).status_code == 200  # connected, warmed up
        me = asyncio.create_task(browser.get("/auth/me"))
        await asyncio.sleep(DELAY / 4)  # /auth/me is at the store now
        waited = await timed_health(prober)
        print(f"\n/health took {waited * 1000:.1f} ms while /auth/me waited on Redis {DELAY:g} s away")
        assert waited < DELAY, f"/health waited {waited:.3f} s: the store blocked the event loop"
        response = await me
        assert response.status_code == 200
        assert response.json()["profile"]["sub"] == "alice"


async def test_health_answers_while_the_store_does_not(slow: Slow) -> None:
    """Redis stops answering: /auth/me waits out the store's timeout (and answers 503), and
    meanwhile /health answers at once."""
    async with (
        httpx2.AsyncClient(base_url=slow.url, cookies={"auth_session": slow.session_id}) as browser,
        httpx2.AsyncClient(base_url=slow.url) as prober,
    ):
        assert (await prober.get("/health")).status_code == 200
        slow.proxy.hold()
        me = asyncio.create_task(browser.get("/auth/me"))
        await asyncio.to_thread(slow.proxy.wait_held)  # Redis answered; the answer is held
        waited = await timed_health(prober)
        print(f"\n/health took {waited * 1000:.1f} ms while Redis did not answer /auth/me")
        assert waited < DELAY, f"/health waited {waited:.3f} s: the store blocked the event loop"
        response = await me
        slow.proxy.release()
        assert response.status_code == 503
