"""The session store on a real Redis Cluster (three masters, three replicas on loopback), named
by a plain ``redis://`` URL of one node, as an operator would write it in ``[auth] session_store``.

Logins go through the real routes and the embedded provider (``login_harness.py``); the cluster is
six ``redis-server --cluster-enabled yes`` joined by ``redis-cli --cluster create``. A master is
killed (SIGKILL: a crash, not a shutdown that lets its replica catch up first), its replica is
promoted, and every session written before the kill still answers.
"""

from __future__ import annotations

import random
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from login_harness import COOKIE_SECRET, BuildApp, set_cookies

from benchmarks.redis_process import LocalCluster, redis_cluster
from streamlit_authlib_login._core.config import SessionSettings
from streamlit_authlib_login._core.errors import StoreUnavailable
from streamlit_authlib_login._core.redis_store import RedisStore
from streamlit_authlib_login._core.sessions import SessionManager
from tests.redis_fixtures import command_calls, contend, require_redis_server

NODE_TIMEOUT_MS = 1000  # a master unanswering this long is failed over (redis.conf cluster-node-timeout)
WAIT = 20.0  # seconds: the bound on any wait for the cluster (forming, replicating, failing over)
HUNG_TIMEOUT = 0.5  # seconds: a store's timeout short enough to hang a master for under NODE_TIMEOUT_MS


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {WAIT} s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """Three masters and three replicas on loopback, formed and serving every slot."""
    require_redis_server()
    if shutil.which("redis-cli") is None:
        pytest.fail("redis-cli is needed to form the cluster (Debian: it comes with redis-server)")
    with redis_cluster(
        tmp_path_factory.mktemp("cluster"), node_timeout_ms=NODE_TIMEOUT_MS, timeout=WAIT
    ) as running:
        yield running


@pytest.fixture
def cluster_store(cluster: LocalCluster) -> Iterator[RedisStore]:
    """A RedisStore given the plain URL of one node, the cluster emptied first."""
    store = RedisStore(cluster.url)
    for master in cluster.masters():
        with cluster.node(master) as client:
            client.flushdb()
    yield store
    store.close()


def keys(cluster: LocalCluster, master: int, kind: str = "session") -> list[str]:
    with cluster.node(master) as client:
        return list(client.scan_iter(f"auth:{kind}:*"))


def test_the_lock_and_single_use_pop_hold_on_every_master(
    cluster: LocalCluster, cluster_store: RedisStore
) -> None:
    """Keys spread over all three masters; for each, of eight threads racing, one takes the
    pending value (GETDEL) and one takes the lock (SET NX); the compare-and-swap script runs too."""
    names = [f"state:{n}" for n in range(24)]
    for key in names:
        cluster_store.put(key, b"pending", 60)
    assert all(keys(cluster, m, "state") for m in cluster.masters())  # every master has some

    def race(verb: Callable[[str], object], key: str) -> list[object]:
        results: list[object] = []
        barrier = threading.Barrier(8)

        def one() -> None:
            barrier.wait()
            results.append(verb(key))

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    for key in names:
        popped = race(cluster_store.pop, key)
        assert popped.count(b"pending") == 1 and popped.count(None) == 7
        assert race(lambda k: cluster_store.add(f"lock:{k}", b"me", 60), key).count(True) == 1
        assert cluster_store.swap(f"lock:{key}", b"me", b"next", 60)
        assert not cluster_store.swap(f"lock:{key}", b"me", b"again", 60)
        cluster_store.delete_if(f"lock:{key}", b"next")
        assert cluster_store.get(f"lock:{key}") is None


def test_a_user_without_info_finds_the_cluster_by_its_moved_reply(
    cluster: LocalCluster, cluster_store: RedisStore
) -> None:
    """Where INFO is not allowed (an ACL, as some managed services set), the first MOVED reply
    switches the store to the cluster client: every key is then reachable."""
    for port in cluster.alive():
        with cluster.node(port) as client:
            client.acl_setuser(
                "noinfo", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-info"]
            )
    named = cluster.url.removeprefix("redis://")
    store = RedisStore(f"redis://noinfo:pw@{named}")
    try:
        for n in range(12):  # some hash to a slot another master owns
            store.put(f"k{n}", b"v", 60)
        assert [store.get(f"k{n}") for n in range(12)] == [b"v"] * 12
    finally:
        store.close()


async def test_a_lock_waiter_is_woken_by_the_release_on_every_master(
    cluster: LocalCluster, cluster_store: RedisStore
) -> None:
    """A release writes the lock and its wake-up list in one script, so both share a hash slot
    (no CROSSSLOT), for locks on all three masters; a waiter is woken by it. A second replica
    waiting for a lock the first holds 0.5 s tries SET NX twice, not ~25 times, and takes the lock
    after the release, long before its wait's cap (5 s, from its 10 s socket timeout)."""
    names = [f"lock:{n}" for n in range(24)]
    for name in names:
        assert cluster_store.add(name, b"one", 30)
        cluster_store.delete_if(name, b"one")
        assert cluster_store.wait_released(name, 1) and cluster_store.get(name) is None
        assert cluster_store.add(name, b"two", 30)
        cluster_store.delete_if(name, b"two")  # its token is left for the check below
    assert all(keys(cluster, m, "{auth:lock") for m in cluster.masters())  # on every master
    for master in cluster.masters():
        with cluster.node(master) as client:
            for wake in client.scan_iter("auth:{auth:lock:*}:released"):
                lock = wake.removeprefix("auth:{").removesuffix("}:released")
                assert client.cluster("KEYSLOT", wake) == client.cluster("KEYSLOT", lock)

    waiting = RedisStore(cluster.url, timeout=10.0)
    one, two = (SessionManager(s, COOKIE_SECRET, SessionSettings()) for s in (cluster_store, waiting))
    masters = list(cluster.masters())
    for master in masters:
        with cluster.node(master) as client:
            client.config_resetstat()
    try:
        seen = await contend(one, two, hold=0.5)
    finally:
        waiting.close()
    tries = -1  # one's own SET NX took the lock
    for master in masters:
        with cluster.node(master) as client:
            tries += command_calls(client, "set")
    assert 2 <= tries <= 3, f"{tries} tries of the lock"
    assert seen.releasing < seen.acquired < seen.asked + 5


async def test_a_replayed_callback_is_refused_on_a_cluster(
    build_app: BuildApp, cluster_store: RedisStore
) -> None:
    """The state is single-use on a cluster too: the callback delivered again, with the login
    cookie put back, makes no session."""
    app = build_app(store=cluster_store)
    browser = app.browser()
    callback = await app.authorize(browser, await app.start(browser))
    binding = browser.cookies[app.binding_cookie]
    assert (await browser.get(callback)).status_code == 302
    attacker = app.browser()
    attacker.cookies.set(app.binding_cookie, binding)
    replay = await attacker.get(callback)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login?"), replay.headers
    assert app.session_cookie not in set_cookies(replay)
    assert (await attacker.get("/auth/me")).status_code == 401
    record = app.refusal(replay.headers["location"], attacker)
    assert (
        record is not None
        and record["error"] == "state_mismatch"
        and "already used" in str(record["description"])
    )


def test_a_hung_master_costs_a_call_one_timeout(cluster: LocalCluster, cluster_store: RedisStore) -> None:
    """A master that holds connections and answers nothing (SIGSTOP, for less than the cluster's
    node timeout: no failover): a call on its slots gives up after one store timeout, not a
    retry's second one, and calls on the other masters' slots are served meanwhile."""
    store = RedisStore(cluster.url, timeout=HUNG_TIMEOUT)
    master = next(iter(cluster.masters()))
    names = [f"hung:{n}" for n in range(24)]
    for key in names:
        store.put(key, b"v", 60)
    mine = {name.removeprefix("auth:") for name in keys(cluster, master, "hung")}
    on_hung, elsewhere = next(k for k in names if k in mine), next(k for k in names if k not in mine)
    process = cluster.processes[master]
    process.send_signal(signal.SIGSTOP)
    try:
        assert store.get(elsewhere) == b"v"
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.get(on_hung)
        waited = time.monotonic() - started
    finally:
        process.send_signal(signal.SIGCONT)
        store.close()
    assert waited < 1.5 * HUNG_TIMEOUT, f"{waited:.2f} s: more than one timeout"


async def test_sessions_on_every_master_survive_a_masters_loss(
    build_app: BuildApp, cluster: LocalCluster, cluster_store: RedisStore
) -> None:
    """Logins until every master holds sessions; the writes replicated; the master the URL names
    killed; once its replica is promoted every session answers /auth/me, and logins go on."""
    app = build_app(store=cluster_store)
    browsers = []
    while not all(keys(cluster, m) for m in cluster.masters()):
        assert len(browsers) < 40, "40 logins and a master holds no session"
        browser = app.browser()
        await app.logged_in(browser, persona=random.choice(["alice", "bob"]))
        browsers.append(browser)
    for browser in browsers:
        assert (await browser.get("/auth/me")).status_code == 200

    masters = cluster.masters()
    for master in masters:
        wait_for(lambda m=master: cluster.replicated(m), f"the replica of {master} has its writes")
    named = int(cluster.url.rsplit(":", 1)[1])
    victim = named if named in masters else next(iter(masters))  # the URL's node, if a master
    heir = masters[victim]
    assert heir is not None
    cluster.processes[victim].kill()
    cluster.processes[victim].wait(timeout=10)
    wait_for(lambda: heir in cluster.masters() and cluster.ok(), f"{heir} promoted in place of {victim}")

    answers = [(await browser.get("/auth/me")).status_code for browser in browsers]
    assert answers == [200] * len(browsers)
    assert keys(cluster, heir)  # the sessions the lost master held, now on its heir
    await app.logged_in(app.browser())  # and a new login lands wherever its keys hash
