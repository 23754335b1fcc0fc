"""Login storm per session store: logins/s at 16 clients and the event loop's health meanwhile.

Run from the repository root (needs ``redis-server`` and ``redis-cli`` on PATH)::

    python -m benchmarks.bench_store               # about a minute and a half
    python -m benchmarks.bench_store --logins 64   # quicker

For each store it runs ``streamlit run app.py`` with ``[auth] session_store`` set in a
generated secrets file (SQLite: none set, the default file), starts 16 clients logging in
through the same standalone dev provider (``benchmarks/throughput.py``, a fresh browser per
login), and meanwhile a probe asks ``/_stcore/health`` every 10 ms on its own kept-alive
connection. The health answer comes from Streamlit's event loop, which also runs our routes:
a store call made on the loop (rather than in ``SessionManager.run``'s threads) would show
here as a slow health check. The same probe for a second before each storm gives the idle
floor beside it. The stores:

1. SQLite (the default ``.local/sessions.sqlite3`` under the app's scratch directory).
2. Redis on loopback (a ``redis-server`` of ``benchmarks/redis_process.py``).
3. The same Redis behind ``benchmarks/latency_proxy.py``, 2 ms late each way: a store
   across a network, where a call waits 4 ms or more.
4. A Redis Cluster (three masters, three replicas on loopback), named by one node's URL.

It prints the issue-22 targets and whether they are met: with the proxy at least 0.8 times
loopback Redis's logins/s, and health p95 at most 50 ms during every storm. It asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import httpx2

from devidp import Client, ProviderConfig, demo_clients

from .bench_login import OURS_CLIENT, OURS_SECRET, login_ours, machine
from .latency_proxy import LatencyProxy
from .redis_process import redis_cluster, redis_server
from .servers import ROOT, serve_provider, streamlit_with_secrets
from .stats import Stats, progress, verdict
from .streamlit_process import free_port
from .throughput import Throughput, logins_per_second

CLIENTS = 16
PROBE_EVERY = 0.010  # seconds between health checks
PROXY_DELAY = 0.002  # seconds, each way
HEALTH_P95_MS = 50.0
PROXY_RATIO = 0.8
IDLE_SECONDS = 1.0


@dataclass(frozen=True)
class Storm:
    """One store's result: the login throughput and the health checks made meanwhile."""

    logins: Throughput
    health: Stats
    health_failures: int
    idle: Stats  # the same probe for IDLE_SECONDS before the storm: the machine's own floor
    log: tuple[str, ...]  # the login module's warnings and errors: why a login failed


class HealthProbe:
    """Asks ``/_stcore/health`` every ``PROBE_EVERY`` seconds until stopped, in a process of
    its own: a thread here would share the GIL with the 16 login threads (and the provider),
    and its timings would include waiting for it.

    The schedule is fixed (request k is due at start + k × 10 ms), so a slow answer is not
    followed by a pause that would hide the next one; a request due while one is still out
    is sent as soon as that one answers."""

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._ready = context.Event()
        self._results, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_probe, args=(f"{url}/_stcore/health", self._stop, self._ready, sending), daemon=True
        )
        self.samples: tuple[float, ...] = ()
        self.failures = 0

    def __enter__(self) -> HealthProbe:
        self._process.start()
        if not self._ready.wait(30):
            raise RuntimeError("the health probe did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._results.poll(30):
            self.samples, self.failures = self._results.recv()
        self._process.join(10)


def _probe(url: str, stop: EventType, ready: EventType, results: Connection) -> None:
    samples: list[float] = []
    failures = 0
    with httpx2.Client(timeout=10) as client:
        client.get(url)  # open the connection: time the answer, not the handshake
        ready.set()
        due = time.perf_counter()
        while not stop.is_set():
            due += PROBE_EVERY
            started = time.perf_counter()
            try:
                ok = client.get(url).status_code == 200
            except httpx2.TransportError:
                ok = False
            if ok:
                samples.append((time.perf_counter() - started) * 1000)
            else:
                failures += 1
            stop.wait(max(0.0, due - time.perf_counter()))
    results.send((tuple(samples), failures))


def storm(url: str, log: Path, logins: int) -> Storm:
    """One warm-up login, then ``logins`` spread over ``CLIENTS`` clients, probed meanwhile."""
    with httpx2.Client(timeout=10) as browser:
        login_ours(browser, url, "standalone")  # the app's first fetch of the provider's metadata
    with HealthProbe(url) as idle:
        time.sleep(IDLE_SECONDS)
    with HealthProbe(url) as probe:
        result = logins_per_second(
            lambda b: login_ours(b, url, "standalone"), CLIENTS, max(1, logins // CLIENTS)
        )
    # Streamlit's format: "time LEVEL   logger: message"; every login is logged at INFO.
    ours = tuple(
        line
        for line in log.read_text().splitlines()
        if "streamlit_authlib_login" in line and any(f" {level} " in line for level in ("WARNING", "ERROR"))
    )
    return Storm(result, Stats(probe.samples), probe.failures, Stats(idle.samples), ours)


@contextmanager
def app_with_store(
    scratch: Path, label: str, port: int, metadata_url: str, store: str | None
) -> Iterator[tuple[str, Path]]:
    """``streamlit run app.py`` on ``port`` with ``store`` as ``[auth] session_store``
    (None: the default SQLite file under this variant's own directory); yields its URL and log."""
    cwd = scratch / label
    cwd.mkdir()
    # No embedded dev provider: it keeps logins in one process's memory, so the app refuses it
    # beside a shared `session_store`; every variant logs in through the standalone one alike.
    toml = (
        f'[auth]\ncookie_secret = "{secrets.token_urlsafe(48)}"\n'
        + (f'session_store = "{store}"\n' if store is not None else "")
        + f'\n[auth.standalone]\nclient_id = "{OURS_CLIENT}"\nclient_secret = "{OURS_SECRET}"\n'
        f'server_metadata_url = "{metadata_url}"\nclient_kwargs = {{ scope = "openid email profile" }}\n'
    )
    with streamlit_with_secrets(ROOT / "app.py", cwd=cwd, port=port, secrets_toml=toml) as url:
        yield url, cwd / "streamlit.log"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--logins", type=int, default=480, help=f"logins per store, over {CLIENTS} clients (default 480)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    labels = ("SQLite", "Redis, loopback", f"Redis, {PROXY_DELAY * 1000:g} ms each way", "Redis Cluster")
    ports = {label: free_port() for label in labels}
    clients = (
        *demo_clients(),
        Client(
            client_id=OURS_CLIENT,
            client_secret=OURS_SECRET,
            name="Our login module (store benchmark)",
            redirect_uris=tuple(f"http://localhost:{p}/auth/callback/standalone" for p in ports.values()),
        ),
    )
    print(
        f"Session store benchmark, {time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, "
        f"{machine()}, load average {os.getloadavg()[0]:.2f}; {CLIENTS} clients, "
        f"{CLIENTS * max(1, args.logins // CLIENTS)} logins per store, /_stcore/health every "
        f"{PROBE_EVERY * 1000:g} ms meanwhile"
    )
    results: dict[str, Storm] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-store-") as scratch_dir,
        serve_provider(ProviderConfig(clients=clients), as_shipped=False) as provider,
    ):
        scratch = Path(scratch_dir)
        metadata_url = f"{provider.url}/.well-known/openid-configuration"
        with redis_server(scratch) as redis, LatencyProxy(redis.port, delay=PROXY_DELAY) as proxy:
            stores = {
                labels[0]: None,
                labels[1]: redis.url,
                labels[2]: f"redis://127.0.0.1:{proxy.port}/0",
            }
            for index, (label, store) in enumerate(stores.items()):
                progress(f"`streamlit run app.py`, {label}: login storm")
                app = app_with_store(scratch, f"store{index}", ports[label], metadata_url, store)
                with app as (url, log):
                    results[label] = storm(url, log, args.logins)
        progress("forming a Redis Cluster (3 masters, 3 replicas)")
        with redis_cluster(scratch / "cluster") as cluster:
            label = labels[3]
            progress(f"`streamlit run app.py`, {label}: login storm")
            with app_with_store(scratch, "store3", ports[label], metadata_url, cluster.url) as (url, log):
                results[label] = storm(url, log, args.logins)

    print(
        f"\n{'Store':<24} {'logins/s':>9} {'failures':>9}   health p50     p95   (checks, failed)"
        "   idle p50     p95"
    )
    for label, result in results.items():
        print(
            f"{label:<24} {result.logins.per_second:9.1f} {result.logins.failures:9d}   "
            f"{result.health.median:7.1f} ms {result.health.p95:6.1f} ms   "
            f"({len(result.health.samples)}, {result.health_failures})".ljust(24)
            + f" {result.idle.median:6.1f} ms {result.idle.p95:6.1f} ms"
        )
    for label, result in results.items():
        if result.logins.first_failure:
            print(f"  {label}, first failed login: {result.logins.first_failure}")
            for line in result.log[:5]:
                print(f"    app log: {line[:300]}")
    loopback, proxied = results[labels[1]].logins.per_second, results[labels[2]].logins.per_second
    print(
        f"\ntarget: {labels[2]} >= {PROXY_RATIO:g} x {labels[1]} = {PROXY_RATIO * loopback:.1f} logins/s: "
        f"{proxied:.1f} ({proxied / loopback:.2f}x), {verdict(proxied >= PROXY_RATIO * loopback)}"
    )
    worst = max(results, key=lambda label: results[label].health.p95)
    worst_p95 = results[worst].health.p95
    print(
        f"target: /_stcore/health p95 <= {HEALTH_P95_MS:g} ms during every storm: worst {worst_p95:.1f} ms "
        f"({worst}), {verdict(worst_p95 <= HEALTH_P95_MS)}"
    )


if __name__ == "__main__":
    main()
