"""A session ends when it is ended, and no write undoes another (issue 20, findings 1 and 2).

Each race is made to happen every time: the provider, or Redis, sits behind a latency proxy
(``tests/latency_proxy.py``) that also holds an answer back until the test has done the other
thing. A logout while a refresh waits on the provider; a last-seen touch that read the session
before a refresh or a logout on another replica and writes after it; a refresh slower than the
refresh lock's old lease.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import httpx2
import pytest
from login_harness import COOKIE_SECRET, BuildApp, compose, dev_config, serve_asgi, with_params
from starlette.applications import Starlette

from benchmarks.redis_process import RedisServer
from devidp import Client, DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.config import HttpSettings, ProviderSettings, SessionSettings
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.redis_store import RedisStore
from streamlit_authlib_login._core.sessions import TOUCH_EVERY, Session, SessionManager, Tokens
from streamlit_authlib_login._core.store import KeyValueStore, MemoryStore, SQLiteStore
from streamlit_authlib_login._routes import csrf_token
from tests.latency_proxy import LatencyProxy

DELAY = 0.15  # seconds each way: the provider, or Redis, 300 ms away a round trip


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


# --- a logout while a refresh waits on the provider (one process) -------------------------------
@dataclass(frozen=True)
class Served:
    url: str
    idp: DevAuthorizationServer
    proxy: LatencyProxy
    sessions: SessionManager


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app under uvicorn on loopback, its store SQLite or a real redis-server, and its provider
    (the embedded one, mounted in the same app) reached through the latency proxy, as a provider
    on another host would be."""
    store: KeyValueStore
    if request.param == "redis":
        store = RedisStore(request.getfixturevalue("shared_redis").url)
    else:
        store = SQLiteStore(tmp_path_factory.mktemp("races") / "sessions.sqlite3")
    built: list[Authenticator] = []

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        for authenticator in built:
            await authenticator.aclose()

    app = Starlette(lifespan=lifespan)
    with serve_asgi(app, lifespan="on") as url, LatencyProxy(port_of(url), DELAY) as proxy:
        idp = DevAuthorizationServer(ProviderConfig())
        idp.register_client(
            Client(
                client_id="races-app",
                client_secret="races-secret",
                name="corp",
                redirect_uris=(f"{url}/auth/callback/corp",),
                skip_consent=True,
            )
        )
        corp = ProviderSettings(
            name="corp",
            client_id="races-app",
            client_secret="races-secret",
            server_metadata_url=f"{proxy.url}/idp/.well-known/openid-configuration",
        )
        authenticator, routes = compose(idp, dev_config(providers=[corp], dev=False), store, transport=None)
        built.append(authenticator)
        app.router.routes.extend(routes)
        yield Served(url, idp, proxy, authenticator.sessions)


def log_in(browser: httpx2.Client) -> str:
    """A whole login at the provider behind the proxy; the session id."""
    start = browser.get("/auth/login/corp", params={"next": "/x"})
    assert start.status_code == 302, start.text
    at_provider = browser.get(with_params(start.headers["location"], login_hint="alice"))
    assert at_provider.status_code == 302, at_provider.text
    done = browser.get(at_provider.headers["location"])
    assert done.status_code == 302 and done.headers["location"] == "/x", done.text
    return str(browser.cookies["auth_session"])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def refresh_grants(served: Served, since: int) -> int:
    return sum(
        e.path == "/idp/token" and e.params.get("grant_type") == "refresh_token"
        for e in served.idp.journal.entries(since=since)
    )


def test_a_logout_while_a_refresh_waits_on_the_provider_wins(served: Served) -> None:
    """POST /auth/refresh, then POST /auth/logout while the provider's answer is on its way: the
    refresh answers 401, saves nothing, and the old cookie gets 401 from then on."""
    with httpx2.Client(base_url=served.url, timeout=20) as browser, ThreadPoolExecutor(2) as pool:
        session_id = log_in(browser)
        headers = {"X-CSRF-Token": csrf_token(COOKIE_SECRET, session_id), "Accept": "application/json"}
        since = max((e.id for e in served.idp.journal.entries()), default=0)
        served.proxy.hold()
        try:
            refreshing = pool.submit(browser.post, "/auth/refresh", headers=headers)
            served.proxy.wait_held()  # the provider has answered the refresh grant; the answer waits
            assert refresh_grants(served, since) == 1
            logging_out = pool.submit(browser.post, "/auth/logout", headers=headers)
            wait_for(lambda: browser.get("/auth/me").status_code == 401, "the logout has ended the session")
        finally:
            served.proxy.release()
        refreshed, logged_out = refreshing.result(), logging_out.result()
        assert logged_out.status_code == 200 and logged_out.json()["logged_out"] is True
        assert refreshed.status_code == 401, refreshed.text
        for _ in range(3):
            assert (
                httpx2.get(f"{served.url}/auth/me", cookies={"auth_session": session_id}).status_code == 401
            )
    for kind in ("session", "session-details"):  # nothing of it left in the store, either
        assert served.sessions.store.get(served.sessions.sealing.key(kind, session_id)) is None


# --- a last-seen touch that straddles a refresh or a logout on another replica -----------------
@pytest.fixture(scope="module")
def far_redis(shared_redis: RedisServer) -> Iterator[LatencyProxy]:
    """The shared redis-server, 300 ms away (a round trip) for one replica."""
    with LatencyProxy(port_of(shared_redis.url), DELAY) as proxy:
        yield proxy


@pytest.fixture
def replicas(
    shared_redis: RedisServer, far_redis: LatencyProxy
) -> Iterator[tuple[SessionManager, SessionManager]]:
    """Two replicas' session managers on one Redis: ``here`` close, ``far`` behind the proxy."""
    stores = [RedisStore(shared_redis.url), RedisStore(f"redis://127.0.0.1:{far_redis.port}/0")]
    yield tuple(SessionManager(s, COOKIE_SECRET, SessionSettings()) for s in stores)  # type: ignore[misc]
    for store in stores:
        store.close()


def stored(sessions: SessionManager, session: Session) -> None:
    """Write ``session`` as its record lands in the store (what a refresh on another replica
    writes), whatever the API that writes it."""
    key = sessions.sealing.key("session", session.id)
    sessions.store.put(key, sessions.sealing.seal(key, session.as_dict()), 3600)


def stale_session(sessions: SessionManager) -> Session:
    """A session last seen long enough ago that the next load touches it."""
    session = sessions.create(
        provider="corp",
        profile={"sub": "u1"},
        claims={"sub": "u1"},
        tokens=Tokens(access_token="at-1", refresh_token="rt-1"),
    )
    stale = replace(session, last_seen=session.last_seen - TOUCH_EVERY - 5)
    stored(sessions, stale)
    return stale


def straddle(
    far: SessionManager, far_redis: LatencyProxy, session: Session, meanwhile: object
) -> Session | None:
    """``far.load`` reads the session; ``meanwhile`` runs before the answer reaches it."""
    far.store.ping()  # type: ignore[attr-defined]  # connected first: the next answer held is the read's
    far_redis.hold()
    try:
        with ThreadPoolExecutor(1) as pool:
            loading = pool.submit(far.load, session.id)
            far_redis.wait_held()
            meanwhile()
            far_redis.release()
            return loading.result()
    finally:
        far_redis.release()


def test_a_touch_straddling_a_refresh_keeps_the_refreshed_tokens(
    replicas: tuple[SessionManager, SessionManager], far_redis: LatencyProxy
) -> None:
    """Replica B reads a stale session, replica A saves a refresh, B's last-seen touch lands: the
    refreshed tokens stay (else the next refresh presents a rotated-away token)."""
    here, far = replicas
    session = stale_session(here)
    refreshed = replace(session, tokens=replace(session.tokens, access_token="at-2", refresh_token="rt-2"))
    seen = straddle(far, far_redis, session, lambda: stored(here, refreshed))
    assert seen is not None and seen.tokens.refresh_token == "rt-1"  # what it read, then
    now = here.load(session.id)
    assert now is not None and now.tokens.refresh_token == "rt-2" and now.tokens.access_token == "at-2"


def test_a_touch_straddling_a_logout_does_not_bring_the_session_back(
    replicas: tuple[SessionManager, SessionManager], far_redis: LatencyProxy
) -> None:
    """Replica B reads a stale session, replica A logs out, B's last-seen touch lands: still gone."""
    here, far = replicas
    session = stale_session(here)
    straddle(far, far_redis, session, lambda: here.delete(session.id))
    assert here.load(session.id) is None and far.load(session.id) is None


# --- the refresh lock's lease outlives the refresh --------------------------------------------
async def test_a_refresh_slower_than_the_old_lease_is_still_single_flight(build_app: BuildApp) -> None:
    """Two replicas refresh one session while the provider takes 5.5 s for the refresh's three
    calls (discovery, token, JWKS), within the 6 s budget of a 2 s HTTP timeout but past the old
    lease (2 × 2 + 1 s): one refresh grant, and both answer with its tokens."""
    store = MemoryStore()
    config = dev_config(http=HttpSettings(timeout=2))
    zero = build_app(config=config, store=store)
    session_id = await zero.logged_in(zero.browser())
    one, two = (build_app(config=config, store=store, latency=1.85) for _ in range(2))
    mark = one.mark()
    first = asyncio.create_task(one.auth.refresh(session_id))
    await asyncio.sleep(0.2)  # one holds the lock: two waits for it
    second = await two.auth.refresh(session_id)
    assert (await first).tokens == second.tokens and second.tokens.refresh_count == 1
    assert len(one.requests_since(mark, "/token", grant_type="refresh_token")) == 1
