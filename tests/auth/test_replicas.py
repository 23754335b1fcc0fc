"""Two replicas of ``streamlit run app.py`` sharing one real redis-server and one cookie_secret,
against one stand-alone development provider (``python -m devidp``) configured in both as a
real provider 0.1 s away (behind ``tests/latency_proxy.py``), driven over HTTP like one browser
behind a load balancer. The replicas reach Redis through a latency proxy too, with no delay:
a test holds its answers to make Redis hang (accepting connections, answering nothing).

A browser does not isolate cookies by port, and neither does httpx's jar: cookies set by one
replica (``localhost:A``) go to the other (``localhost:B``), as they would behind one host.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx2
import pytest
from login_harness import with_params

from benchmarks.redis_process import RedisServer, redis_server
from benchmarks.streamlit_process import free_port, streamlit_run
from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.redis_store import BACKOFF, RedisStore
from streamlit_authlib_login._core.refresh import RECENT
from streamlit_authlib_login._core.sessions import SessionManager, Tokens
from streamlit_authlib_login._routes import csrf_token
from tests.latency_proxy import LatencyProxy
from tests.redis_fixtures import require_redis_server
from tests.streamlit_process import scratch_checkout

COOKIE_SECRET = "replicas-share-this-cookie-secret-0123456789"
CLIENT_ID, CLIENT_SECRET = "replicas-app", "replicas-app-secret"


@dataclass
class Replica:
    """One ``streamlit run app.py``, which a test may restart on the same port."""

    name: str
    cwd: Path
    port: int
    secrets: Path
    _running: ExitStack = field(default_factory=ExitStack)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def log(self) -> str:
        return (self.cwd / "streamlit.log").read_text()

    def start(self) -> None:
        env = {**os.environ, "HOME": str(self.cwd)}
        args = ("--secrets.files", str(self.secrets))
        self._running.enter_context(
            streamlit_run(
                "app.py", cwd=self.cwd, log=self.cwd / "streamlit.log", port=self.port, args=args, env=env
            )
        )

    def stop(self) -> None:
        self._running.close()


@dataclass
class Deployment:
    redis: RedisServer  # the replicas reach it through `redis_proxy`
    redis_proxy: LatencyProxy
    provider: str  # its own URL; the replicas reach it through `proxy`
    proxy: LatencyProxy
    one: Replica
    two: Replica


def stand_alone_provider(port: int, redirect_uris: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m devidp`` with this app registered, as the README tells replicas to run it."""
    uris = [arg for uri in redirect_uris for arg in ("--redirect-uri", uri)]
    command = [
        sys.executable,
        "-m",
        "devidp",
        "--port",
        str(port),
        "--client",
        f"{CLIENT_ID}:{CLIENT_SECRET}",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen([*command, *uris], stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration").status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"python -m devidp did not start:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require_redis_server()
    scratch = tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(scratch))
        redis_proxy = stack.enter_context(LatencyProxy(redis.port, delay=0.0))
        provider_port = free_port()
        ports = {"one": free_port(), "two": free_port()}
        provider = stand_alone_provider(
            provider_port,
            [f"http://localhost:{port}/auth/callback/corp" for port in ports.values()],
            scratch / "devidp.log",
        )
        stack.callback(provider.wait, 10)
        stack.callback(provider.terminate)
        # The replicas (and the browser, sent by discovery) reach it 0.1 s away; its issuer follows
        # the Host it is reached by, so it is the proxy's URL.
        proxy = stack.enter_context(LatencyProxy(provider_port, delay=0.1))
        secrets = scratch / "secrets.toml"
        secrets.write_text(
            f'[auth]\ncookie_secret = "{COOKIE_SECRET}"\n'
            f'session_store = "redis://127.0.0.1:{redis_proxy.port}/0"\n\n'
            f'[auth.corp]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{proxy.url}/.well-known/openid-configuration"\n'
        )
        replicas = []
        for name, port in ports.items():
            cwd = tmp_path_factory.mktemp(name)
            replica = Replica(name, scratch_checkout(cwd), port, secrets)
            replica.start()
            stack.callback(replica.stop)
            replicas.append(replica)
        yield Deployment(redis, redis_proxy, f"http://127.0.0.1:{provider_port}", proxy, *replicas)


@pytest.fixture
def browser() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10) as client:
        yield client


def on(replica: Replica, url: str) -> str:
    """``url`` sent to ``replica`` instead: what a load balancer may do with any request."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"localhost:{replica.port}"))


def callback_url(browser: httpx2.Client, start_on: Replica) -> str:
    """Start a login on ``start_on`` and approve it at the provider: the callback URL."""
    start = browser.get(f"{start_on.url}/auth/login/corp", params={"next": "/home"})
    assert start.status_code == 302, start.text
    at_provider = browser.get(with_params(start.headers["location"], login_hint="alice"))
    assert at_provider.status_code == 302, at_provider.text
    return str(at_provider.headers["location"])


def log_in(browser: httpx2.Client, start_on: Replica, finish_on: Replica) -> str:
    """A whole login, started on one replica and finished on another; the session id."""
    done = browser.get(on(finish_on, callback_url(browser, start_on)))
    assert done.status_code == 302 and done.headers["location"] == "/home", done.headers
    return str(browser.cookies["auth_session"])


def me(browser: httpx2.Client, replica: Replica) -> httpx2.Response:
    return browser.get(f"{replica.url}/auth/me")


def refresh_grants(deployment: Deployment, since: int) -> list[dict[str, object]]:
    entries = httpx2.get(f"{deployment.provider}/log", params={"since": since}).json()["entries"]
    return [e for e in entries if e["path"] == "/token" and e["params"].get("grant_type") == "refresh_token"]


def last_entry(deployment: Deployment) -> int:
    entries = httpx2.get(f"{deployment.provider}/log").json()["entries"]
    return max((int(e["id"]) for e in entries), default=0)


def test_a_login_started_on_one_replica_finishes_on_the_other(
    deployment: Deployment, browser: httpx2.Client
) -> None:
    """Pending login in Redis: the callback on replica two completes replica one's login, and
    both replicas know the session. Neither replica wrote anything locally."""
    log_in(browser, deployment.one, deployment.two)
    for replica in (deployment.one, deployment.two):
        answer = me(browser, replica)
        assert answer.status_code == 200 and answer.json()["profile"]["username"] == "alice"
        assert not (replica.cwd / ".local").exists()


def test_the_callback_replayed_on_the_first_replica_is_refused(
    deployment: Deployment, browser: httpx2.Client
) -> None:
    """The state was used on replica two: replaying the callback on replica one makes no session."""
    callback = callback_url(browser, deployment.one)
    assert browser.get(on(deployment.two, callback)).status_code == 302
    with httpx2.Client(timeout=10, cookies={"auth_login": browser.cookies["auth_login"]}) as replayer:
        replay = replayer.get(on(deployment.one, callback))
        assert replay.status_code == 303 and "/login?refused=state_mismatch" in replay.headers["location"]
        assert "auth_session" not in replay.cookies
        assert me(replayer, deployment.one).status_code == 401
    assert "login refused: provider=corp check=state_mismatch" in deployment.one.log


def test_both_replicas_refreshing_at_once_refresh_once(
    deployment: Deployment, browser: httpx2.Client
) -> None:
    """Concurrent POST /auth/refresh on both replicas (the provider slowed, so they surely overlap):
    one refresh grant, both answer with its tokens, and the login survives reuse detection."""
    session_id = log_in(browser, deployment.one, deployment.one)
    headers = {"X-CSRF-Token": csrf_token(COOKIE_SECRET, session_id), "Accept": "application/json"}
    cookies = {"auth_session": session_id}
    since = last_entry(deployment)
    httpx2.post(f"{deployment.provider}/faults", json={"faults": ["slow_token"]})
    answers: dict[str, httpx2.Response] = {}
    barrier = threading.Barrier(2)

    def refresh(replica: Replica) -> None:
        barrier.wait()
        answers[replica.name] = httpx2.post(
            f"{replica.url}/auth/refresh", headers=headers, cookies=cookies, timeout=20
        )

    try:
        threads = [threading.Thread(target=refresh, args=(r,)) for r in (deployment.one, deployment.two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        httpx2.post(f"{deployment.provider}/faults", json={"faults": []})
    assert {name: a.status_code for name, a in answers.items()} == {"one": 200, "two": 200}
    assert [a.json()["tokens"]["refresh_count"] for a in answers.values()] == [1, 1]
    assert len(refresh_grants(deployment, since)) == 1
    with closing(RedisStore(deployment.redis.url)) as store:  # past RECENT: the next refresh is a new one
        SessionManager(store, COOKIE_SECRET, SessionSettings()).update(
            session_id, lambda s: replace(s, tokens=replace(s.tokens, refreshed_at=int(time.time()) - RECENT))
        )
    again = httpx2.post(f"{deployment.two.url}/auth/refresh", headers=headers, cookies=cookies, timeout=10)
    assert again.status_code == 200 and again.json()["tokens"]["refresh_count"] == 2


def test_a_logout_on_one_replica_ends_the_session_on_the_other(
    deployment: Deployment, browser: httpx2.Client
) -> None:
    """POST /auth/logout on replica two: replica one no longer knows the session."""
    session_id = log_in(browser, deployment.one, deployment.one)
    assert me(browser, deployment.one).status_code == 200
    logout = browser.post(
        f"{deployment.two.url}/auth/logout",
        headers={"X-CSRF-Token": csrf_token(COOKIE_SECRET, session_id), "Accept": "application/json"},
    )
    assert logout.status_code == 200 and logout.json()["logged_out"] is True
    assert (
        httpx2.get(f"{deployment.one.url}/auth/me", cookies={"auth_session": session_id}).status_code == 401
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_a_logout_on_one_replica_while_the_other_refreshes_wins(deployment: Deployment) -> None:
    """POST /auth/refresh on replica one; while the provider's answer is on its way, POST
    /auth/logout on replica two: the refresh answers 401 and saves nothing, and the old cookie
    gets 401 on both replicas from then on."""
    with httpx2.Client(timeout=20) as browser:
        session_id = log_in(browser, deployment.one, deployment.one)
    headers = {"X-CSRF-Token": csrf_token(COOKIE_SECRET, session_id), "Accept": "application/json"}
    cookies = {"auth_session": session_id}
    since = last_entry(deployment)
    deployment.proxy.hold()
    try:
        with ThreadPoolExecutor(2) as pool:
            refreshing = pool.submit(
                httpx2.post,
                f"{deployment.one.url}/auth/refresh",
                headers=headers,
                cookies=cookies,
                timeout=20,
            )
            deployment.proxy.wait_held()  # the provider answered the refresh grant; the answer waits
            assert len(refresh_grants(deployment, since)) == 1
            logging_out = pool.submit(
                httpx2.post, f"{deployment.two.url}/auth/logout", headers=headers, cookies=cookies, timeout=20
            )
            wait_for(
                lambda: httpx2.get(f"{deployment.one.url}/auth/me", cookies=cookies).status_code == 401,
                "the logout on replica two has ended the session",
            )
            deployment.proxy.release()
            refreshed, logged_out = refreshing.result(), logging_out.result()
    finally:
        deployment.proxy.release()
    assert logged_out.status_code == 200 and logged_out.json()["logged_out"] is True
    assert refreshed.status_code == 401, refreshed.text
    for replica in (deployment.one, deployment.two, deployment.one, deployment.two):
        assert httpx2.get(f"{replica.url}/auth/me", cookies=cookies).status_code == 401


def test_a_restarted_replica_keeps_the_session(deployment: Deployment, browser: httpx2.Client) -> None:
    """Sessions live in Redis, not in the process: replica one restarted still knows the login."""
    log_in(browser, deployment.two, deployment.one)
    deployment.one.stop()
    deployment.one.start()
    answer = me(browser, deployment.one)
    assert answer.status_code == 200 and answer.json()["profile"]["username"] == "alice"


def test_redis_down_is_a_clear_answer_and_one_log_line_then_recovery(
    deployment: Deployment, browser: httpx2.Client
) -> None:
    """With Redis stopped, a replica answers at once (a redirect to the login page that says so, or
    503 to an API client) and logs one line naming Redis; when Redis is back, logins work again,
    without restarting anything. (Redis comes back empty: a test after this one logs in afresh.)"""
    log_in(browser, deployment.one, deployment.two)
    deployment.redis.stop()
    try:
        started = time.monotonic()
        assert me(browser, deployment.one).status_code == 503
        login = browser.get(f"{deployment.two.url}/auth/login/corp")
        assert login.status_code == 303 and login.headers["location"] == "/login?unavailable=1"
        assert time.monotonic() - started < 5  # within the HTTP timeout, never a hung page
    finally:
        deployment.redis.start()
    time.sleep(1.1)  # the store's back-off after a failure
    for replica in (deployment.one, deployment.two):
        lines = [line for line in replica.log.splitlines() if "session store unreachable" in line]
        assert len(lines) <= 1 and "Traceback" not in replica.log
    assert any(
        "session store unreachable: redis://127.0.0.1:" in r.log
        for r in deployment.__dict__.values()
        if isinstance(r, Replica)
    )
    assert me(browser, deployment.one).status_code == 401  # Redis here keeps nothing on disk
    log_in(browser, deployment.two, deployment.one)
    assert me(browser, deployment.two).status_code == 200


HEALTH_BOUND = 0.05  # seconds: the bound on /_stcore/health while Redis does not answer
ANSWER_BOUND = 2.0  # seconds: a route's store-down answer with Redis hung (TIMEOUT, never two)


def timed(call: Callable[[], httpx2.Response]) -> tuple[float, httpx2.Response]:
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def test_redis_hung_routes_answer_within_2_s_and_health_within_50_ms(deployment: Deployment) -> None:
    """Redis accepts connections and answers nothing: /auth/me, a login, a refresh and a logout
    each answer with the store-down reply within 2 s (one store timeout, not a retry's second
    one); meanwhile the replica's event loop answers every /_stcore/health within 50 ms; the log
    says so once, and once Redis answers the session works again."""
    one = deployment.one
    with closing(RedisStore(deployment.redis.url)) as store:  # Alice's session, as her login made it
        session_id = (
            SessionManager(store, COOKIE_SECRET, SessionSettings())
            .create(provider="corp", profile={"sub": "alice"}, claims={}, tokens=Tokens(access_token="at"))
            .id
        )
    cookies = {"auth_session": session_id}
    csrf = csrf_token(COOKIE_SECRET, session_id)
    lines_before = len(one.log.splitlines())
    routes: dict[str, Callable[[], httpx2.Response]] = {
        "me": lambda: httpx2.get(f"{one.url}/auth/me", cookies=cookies, timeout=20),
        "login": lambda: httpx2.get(f"{one.url}/auth/login/corp", timeout=20),
        "refresh": lambda: httpx2.post(
            f"{one.url}/auth/refresh",
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
            cookies=cookies,
            timeout=20,
        ),
        "logout": lambda: httpx2.post(
            f"{one.url}/auth/logout", data={"csrf": csrf}, cookies=cookies, timeout=20
        ),
    }
    with httpx2.Client(timeout=5) as prober:
        assert prober.get(f"{one.url}/_stcore/health").status_code == 200  # connected
        deployment.redis_proxy.hold()
        try:
            with ThreadPoolExecutor(len(routes)) as pool:
                answers = {name: pool.submit(timed, call) for name, call in routes.items()}
                deployment.redis_proxy.wait_held()  # the routes are at Redis; its answers wait
                probes = []
                for _ in range(5):  # spread over the store's 1 s timeout
                    waited, health = timed(lambda: prober.get(f"{one.url}/_stcore/health"))
                    assert health.status_code == 200
                    probes.append(waited)
                    time.sleep(0.1)
                results = {name: answer.result() for name, answer in answers.items()}
        finally:
            deployment.redis_proxy.release()
    print("\n/_stcore/health while Redis hung:", ", ".join(f"{p * 1000:.1f} ms" for p in probes))
    print("store-down answers:", ", ".join(f"{n} {t:.2f} s" for n, (t, _) in results.items()))
    assert max(probes) < HEALTH_BOUND, f"/_stcore/health waited {max(probes):.3f} s: the loop was blocked"
    statuses = {name: (r.status_code, r.headers.get("location")) for name, (_, r) in results.items()}
    assert statuses == {
        "me": (503, None),
        "login": (303, "/login?unavailable=1"),
        "refresh": (503, None),
        "logout": (303, "/login?unavailable=1"),
    }
    slow = {name: round(t, 2) for name, (t, _) in results.items() if t >= ANSWER_BOUND}
    assert not slow, f"store-down answers took {slow} s: more than one store timeout"

    time.sleep(BACKOFF)  # the store's back-off after the failure
    answer = httpx2.get(f"{one.url}/auth/me", cookies=cookies, timeout=10)
    assert answer.status_code == 200 and answer.json()["profile"]["sub"] == "alice"
    new_lines = one.log.splitlines()[lines_before:]
    assert [line.split(" ", 2)[2].split(":", 1)[0] for line in new_lines if "session store" in line] == [
        "session store unreachable",
        "session store reachable again",
    ]
