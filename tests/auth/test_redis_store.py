"""The Redis session store against a real redis-server: expiry by TTL, nothing readable at rest,
refresh single-flight across replicas, and Redis down, slow or password-protected.

The contract every store keeps (put/get/pop/delete, single-use pop, the lock verbs) runs on
Redis too, in ``test_store.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from login_harness import COOKIE_SECRET, BuildApp, LoginApp, dev_config, query_of

from benchmarks.redis_process import RedisServer, redis_server
from devidp import DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.config import AuthConfig, SessionSettings
from streamlit_authlib_login._core.errors import StoreUnavailable
from streamlit_authlib_login._core.lifetime import GRANT_CEILING, Lifetime
from streamlit_authlib_login._core.redis_store import BACKOFF, TIMEOUT, RedisStore, redacted
from streamlit_authlib_login._core.refresh import RECENT
from streamlit_authlib_login._core.store import open_store
from streamlit_authlib_login._routes import csrf_token
from tests.latency_proxy import LatencyProxy
from tests.redis_fixtures import require_redis_server

HTTP_TIMEOUT = AuthConfig(cookie_secret=COOKIE_SECRET, providers=()).http.timeout


def dump(server: RedisServer) -> dict[bytes, tuple[bytes, int]]:
    """Every key in the database with its value (a list's items joined: a refresh lock's
    wake-up list) and its time to live (ms)."""
    client = redis.Redis(port=server.port)

    def value(key: bytes) -> bytes:
        if client.type(key) == b"list":
            return b"".join(client.lrange(key, 0, -1))
        return client.get(key) or b""

    try:
        return {key: (value(key), client.pttl(key)) for key in client.keys("*")}
    finally:
        client.close()


def test_open_store_picks_redis_for_a_redis_url(shared_redis: RedisServer, tmp_path: Path) -> None:
    """session_store = "redis://..." gives a RedisStore, and nothing is written to the local directory."""
    config = AuthConfig(
        cookie_secret=COOKIE_SECRET,
        providers=(),
        store_path=tmp_path / ".local" / "sessions.sqlite3",
        session_store=shared_redis.url,
    )
    store = open_store(config)
    assert isinstance(store, RedisStore)
    store.put("k", b"v", 60)
    assert store.get("k") == b"v"
    assert not (tmp_path / ".local").exists()


async def test_a_login_leaves_only_ciphertext_under_hmac_keys_with_ttls(
    build_app: BuildApp, redis_store: RedisStore, shared_redis: RedisServer
) -> None:
    """After a login, Redis holds no token, session id, state or email; every key expires."""
    app = build_app(store=redis_store)
    browser = app.browser()
    pending = query_of(await app.start(browser))  # a pending login at rest too
    session_id = await app.logged_in(browser)
    session = app.auth.sessions.load(session_id)
    assert session is not None and session.tokens.refresh_token and session.tokens.id_token
    at_rest = dump(shared_redis)
    assert {key.split(b":")[1] for key in at_rest} >= {b"session", b"state"}
    everything = b"".join(key + value for key, (value, _) in at_rest.items())
    for secret in (
        session_id,
        session.tokens.access_token,
        session.tokens.refresh_token,
        session.tokens.id_token.split(".")[2],
        pending["state"],
        pending["nonce"],
        "alice@example.com",
    ):
        assert secret.encode() not in everything, secret[:12]
    ttls = {key.split(b":")[1]: ttl for key, (_, ttl) in at_rest.items()}
    assert 0 < ttls[b"state"] <= 600_000  # RFC 9700 §4.7: a pending login lives 10 minutes at most
    assert 0 < ttls[b"session"] <= app.auth.config.session.absolute_timeout * 1000
    assert all(ttl > 0 for ttl in ttls.values())


async def test_redis_keeps_a_session_until_its_idle_expiry_and_its_details_until_its_end(
    build_app: BuildApp, redis_store: RedisStore, shared_redis: RedisServer
) -> None:
    """session_idle_timeout "10m", session_max_age "2h": the session's key expires in 10 minutes
    (each touch sets it again), its report and trace in 2 hours; the end of a grant the session
    is tied to comes first."""
    settings = SessionSettings(idle_timeout=600, absolute_timeout=7200)
    app = build_app(config=dev_config(session=settings), store=redis_store)
    await app.logged_in(app.browser())
    ttls = {key.split(b":")[1]: ttl for key, (_, ttl) in dump(shared_redis).items()}
    assert 595_000 < ttls[b"session"] <= 600_000
    assert 7_195_000 < ttls[b"session-details"] <= 7_200_000

    # session_max_age = "refresh", at a provider that states its refresh tokens live 5 minutes
    redis_store._client.flushdb()
    grant = Lifetime(idle=600, max_age=GRANT_CEILING, ends_with_grant=True)
    idp = DevAuthorizationServer(ProviderConfig(refresh_token_ttl=300, refresh_expires_in=True))
    app = build_app(
        idp, config=dev_config(session=replace(settings, by_provider={"dev": grant})), store=redis_store
    )
    await app.logged_in(app.browser())
    ttls = {key.split(b":")[1]: ttl for key, (_, ttl) in dump(shared_redis).items()}
    assert 295_000 < ttls[b"session"] <= 300_000 and 295_000 < ttls[b"session-details"] <= 300_000


@pytest.mark.parametrize("keep", [False, True])
async def test_login_details_are_in_redis_only_for_an_app_that_keeps_them(
    build_app: BuildApp, redis_store: RedisStore, shared_redis: RedisServer, keep: bool
) -> None:
    """A login and a refresh store a report and trace only when the app asked (the dashboard);
    otherwise the session reads as having none, and a logout leaves nothing either way."""
    config = dev_config(session=SessionSettings(keep_login_details=keep))
    app = build_app(config=config, store=redis_store)
    session_id = await app.logged_in(app.browser())
    await app.auth.refresh(session_id)
    kinds = {key.split(b":")[1] for key in dump(shared_redis)}
    assert (b"session-details" in kinds) is keep and b"session" in kinds
    session = app.auth.sessions.load(session_id)
    assert session is not None
    if keep:
        assert session.report is not None and session.report.passed and session.trace.steps
    else:
        assert session.report is None and not session.trace.steps
    app.auth.sessions.delete(session_id)
    assert not {key for key in dump(shared_redis) if key.split(b":")[1].startswith(b"session")}


def test_an_expired_key_is_gone_from_redis_itself(redis_store: RedisStore, shared_redis: RedisServer) -> None:
    """Expiry is Redis's TTL: nothing to sweep, the key is gone."""
    redis_store.put("short", b"v", 0.05)
    time.sleep(0.1)
    assert redis_store.get("short") is None
    assert not dump(shared_redis)


async def test_replicas_sharing_redis_refresh_once(
    build_app: BuildApp, shared_redis: RedisServer, shared_idp: object
) -> None:
    """Two replicas (two Authenticators, no shared memory) refreshing one session at once make
    one refresh grant: a second would redeem a rotated refresh token and trip reuse detection."""
    stores = [RedisStore(shared_redis.url), RedisStore(shared_redis.url)]
    stores[0]._client.flushdb()
    # Slow provider calls, so that both refreshes surely overlap.
    one, two = (build_app(store=s, latency=0.3) for s in stores)
    session_id = await one.logged_in(one.browser())
    mark = one.mark()
    first, second = await asyncio.gather(one.auth.refresh(session_id), two.auth.refresh(session_id))
    assert first.tokens.refresh_count == second.tokens.refresh_count == 1
    assert first.tokens.access_token == second.tokens.access_token
    assert len(one.requests_since(mark, "/token", grant_type="refresh_token")) == 1
    two.auth.sessions.update(  # past the RECENT window, so the next refresh reaches the provider
        session_id, lambda s: replace(s, tokens=replace(s.tokens, refreshed_at=int(time.time()) - RECENT))
    )
    again = await two.auth.refresh(session_id)  # the login survived: no reuse was detected
    assert again.tokens.refresh_count == 2
    for store in stores:
        store.close()


# --- Redis down, slow, or protected -----------------------------------------------------------
def store_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "streamlit_authlib_login._core.redis_store"]


def test_redis_down_fails_fast_with_one_log_line_and_recovers_without_restart(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With Redis stopped, every call raises StoreUnavailable within the HTTP timeout; the log says
    so once; when Redis is back, the same store works again."""
    caplog.set_level(logging.INFO, logger="streamlit_authlib_login._core.redis_store")
    store = RedisStore(own_redis.url)
    store.put("k", b"v", 60)
    own_redis.stop()
    for _ in range(5):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="not answering"):
            store.get("k")
        assert time.monotonic() - started < HTTP_TIMEOUT
    [line] = store_lines(caplog)
    assert line.startswith(f"session store unreachable: {own_redis.url} (ConnectionError")
    own_redis.start()
    time.sleep(BACKOFF)
    store.put("k", b"again", 60)
    assert store.get("k") == b"again"
    assert store_lines(caplog)[1:] == [f"session store reachable again: {own_redis.url}"]
    store.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a Redis stuck or far too slow."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_redis_that_never_answers_is_given_up_on_after_one_timeout(silent_port: int) -> None:
    """A hung Redis costs a call one timeout (the new connection's handshake), never a retry's
    second one nor a reconnect's (redis-py's default: four), then calls fail at once."""
    store = RedisStore(f"redis://127.0.0.1:{silent_port}/0")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.get("k")
    assert time.monotonic() - started < 1.5 * TIMEOUT
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.get("k")  # within BACKOFF: at once
    assert time.monotonic() - started < 0.1
    store.close()


def test_a_redis_that_stops_answering_a_connection_in_use_costs_one_timeout(
    shared_redis: RedisServer,
) -> None:
    """Redis goes silent under a connection that worked a moment ago: the command gives up after
    one timeout, without retrying it on a new connection (whose handshake would wait another)."""
    with LatencyProxy(shared_redis.port, delay=0.0) as proxy:
        store = RedisStore(f"redis://127.0.0.1:{proxy.port}/0", prefix="silent:")
        store.put("k", b"v", 60)
        proxy.hold()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.get("k")
        assert time.monotonic() - started < 1.5 * TIMEOUT
        proxy.release()
        store.close()


def test_a_password_in_the_url_works_and_never_reaches_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """redis://:password@host works; a wrong password is StoreUnavailable, logged without it."""
    require_redis_server()
    caplog.set_level(logging.INFO, logger="streamlit_authlib_login._core.redis_store")
    with redis_server(tmp_path, args=("--requirepass", "s3cret-pass-word")) as server:
        good = RedisStore(f"redis://:s3cret-pass-word@127.0.0.1:{server.port}/0")
        good.put("k", b"v", 60)
        assert good.get("k") == b"v"
        bad = RedisStore(f"redis://:wrong-pass-word@127.0.0.1:{server.port}/0")
        with pytest.raises(StoreUnavailable):
            bad.get("k")
        good.close()
        bad.close()
    [line] = store_lines(caplog)
    assert f"redis://:***@127.0.0.1:{server.port}/0" in line
    assert "pass-word" not in caplog.text


def test_rediss_urls_speak_tls() -> None:
    """rediss:// selects redis-py's TLS connection (no TLS redis-server is started here)."""
    store = RedisStore("rediss://:pw@redis.example:6380/1")
    assert store._client.connection_pool.connection_class is redis.SSLConnection
    assert store.url == "rediss://:***@redis.example:6380/1"
    assert redacted("redis://user:pw@h:1/0") == "redis://user:***@h:1/0"


async def test_with_redis_down_the_routes_answer_clearly_and_make_no_session(
    build_app: BuildApp, own_redis: RedisServer
) -> None:
    """Redis down: a browser is sent to the login page that says so (no 5xx, no traceback), an API
    client gets 503 with Retry-After; nothing is half-made; once Redis is back, logins work."""
    store = RedisStore(own_redis.url)
    app: LoginApp = build_app(store=store)
    browser = app.browser()
    session_id = await app.logged_in(browser)
    started = await app.start(app.browser())
    own_redis.stop()
    for method, path in (
        ("GET", "/auth/login/dev?next=/x"),
        ("GET", f"/auth/callback/dev?code=c&state={query_of(started)['state']}"),
        ("POST", "/auth/logout"),
    ):
        response = await browser.request(method, path, headers={"X-CSRF-Token": "x"})
        assert response.status_code == 303, (path, response.status_code, response.text)
        assert response.headers["location"] == "/login?unavailable=1"
        assert response.headers["x-frame-options"] == "DENY"
    me = await browser.get("/auth/me")
    assert me.status_code == 503 and me.headers["retry-after"] == "5"
    assert me.json()["error"] == "session_store_unavailable"
    refresh = await browser.post(
        "/auth/refresh",
        headers={
            "Accept": "application/json",
            "X-CSRF-Token": csrf_token(app.auth.config.cookie_secret, session_id),
        },
    )
    assert refresh.status_code == 503
    own_redis.start()  # empty: Redis here keeps nothing on disk, so the old session is gone
    time.sleep(BACKOFF)
    assert (await browser.get("/auth/me")).status_code == 401
    assert await app.logged_in(app.browser())
    store.close()
