"""``redis-server`` as a subprocess on a free loopback port, with its files in a scratch directory;
or six of them as a Redis Cluster (three masters, three replicas).

Like ``streamlit_process.py``, this lives in ``benchmarks/`` so that the benchmark and the
tests start Redis the same way, and the dependency points one way (tests import from here).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from .streamlit_process import free_port


@dataclass
class RedisServer:
    """A running ``redis-server``: its URL, and a way to stop and start it on the same port."""

    port: int
    workdir: Path
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (Debian: apt-get install redis-server)")
        command = [
            *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)),
            *("--save", "", "--appendonly", "no", "--protected-mode", "yes"),
            *self.args,
        ]
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        password = next((self.args[i + 1] for i, a in enumerate(self.args) if a == "--requirepass"), None)
        client = redis.Redis(port=self.port, password=password, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start:\n{(self.workdir / 'redis.log').read_text()}"
                    ) from None
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@contextmanager
def redis_server(workdir: Path, *, args: Sequence[str] = ()) -> Iterator[RedisServer]:
    """``redis-server`` on a free loopback port, no persistence unless ``args`` ask for it,
    until the block ends. ``args`` are extra command-line options (``--requirepass x``)."""
    server = RedisServer(free_port(), workdir, tuple(args))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_port() -> int:
    """A free port below 55536 whose cluster bus port (port + 10000) is free too."""
    while True:
        port = random.randrange(20000, 45000)
        if _bindable(port) and _bindable(port + 10000):
            return port


def _wait(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


@dataclass
class LocalCluster:
    """Cluster-enabled redis-servers on loopback, each with its port and process; the first
    node's URL is what an operator would write in ``[auth] session_store``."""

    workdir: Path
    node_timeout_ms: int
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{next(iter(self.processes))}"

    def start(self, port: int) -> None:
        command = [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.workdir)),
            *("--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"),
            *("--cluster-node-timeout", str(self.node_timeout_ms), "--appendonly", "no", "--save", ""),
            # A replica's first full sync at once, not after Redis's default 5 s wait for others.
            *("--repl-diskless-sync-delay", "0"),
        ]
        log = (self.workdir / f"redis-{port}.log").open("ab")
        self.processes[port] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=2, decode_responses=True)

    def alive(self) -> list[int]:
        return [port for port, process in self.processes.items() if process.poll() is None]

    def answers(self, port: int, command: str, *args: str) -> str | None:
        with self.node(port) as client:
            try:
                return str(client.execute_command(command, *args))
            except redis.RedisError:
                return None

    def ok(self) -> bool:
        """Every live node says cluster_state:ok."""
        return all("cluster_state:ok" in (self.answers(p, "CLUSTER", "INFO") or "") for p in self.alive())

    def masters(self) -> dict[int, int | None]:
        """Each live master serving slots, with its live replica's port, as a live node sees them."""
        with self.node(self.alive()[0]) as client:
            nodes = client.cluster("NODES")

        def port(address: str) -> int:
            return int(address.split(":")[1].split("@")[0])

        live = {v["node_id"]: port(a) for a, v in nodes.items() if "fail" not in v["flags"]}
        masters: dict[int, int | None] = {
            port(a): None
            for a, v in nodes.items()
            if "master" in v["flags"] and v["node_id"] in live and v["slots"]
        }
        for address, v in nodes.items():
            if "slave" in v["flags"] and v["node_id"] in live and live.get(v["master_id"]) in masters:
                masters[live[v["master_id"]]] = port(address)
        return masters

    def replicated(self, master: int) -> bool:
        """The replica has every write its master had when asked: its link is up, its first full
        sync done, and it has processed the master's whole stream. Offsets alone are not enough:
        until that first sync (which Redis delays by ``repl-diskless-sync-delay``) both read 0.
        (``WAIT`` would not do from here: it waits for the writes of its own connection, and the
        app's are on others.)"""
        replica = self.masters().get(master)
        if replica is None:
            return False
        with self.node(master) as client:
            ours = client.info("replication")
        with self.node(replica) as client:
            theirs = client.info("replication")
        return (
            ours["connected_slaves"] == 1
            and ours["slave0"]["state"] == "online"
            and theirs["master_link_status"] == "up"
            and theirs["master_sync_in_progress"] == 0
            and theirs["slave_repl_offset"] >= ours["master_repl_offset"]
        )

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill()
            process.wait(timeout=10)


@contextmanager
def redis_cluster(
    workdir: Path, *, masters: int = 3, node_timeout_ms: int = 1000, timeout: float = 20
) -> Iterator[LocalCluster]:
    """A Redis Cluster on loopback, ``masters`` masters with one replica each, formed by
    ``redis-cli --cluster create`` and serving every slot, until the block ends."""
    workdir.mkdir(exist_ok=True)
    cluster = LocalCluster(workdir, node_timeout_ms)
    try:
        for _ in range(2 * masters):
            cluster.start(cluster_port())
        for port in cluster.processes:
            _wait(
                lambda p=port: cluster.answers(p, "PING") == "True",
                f"redis-server on {port} answers",
                timeout,
            )
        subprocess.run(
            [
                *("redis-cli", "--cluster", "create"),
                *(f"127.0.0.1:{port}" for port in cluster.processes),
                *("--cluster-replicas", "1", "--cluster-yes"),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

        def formed() -> bool:
            found = cluster.masters()
            return (
                cluster.ok()
                and len(found) == masters
                and None not in found.values()
                and all(cluster.replicated(m) for m in found)
            )

        _wait(formed, f"the cluster forms: {masters} masters, each with a synced replica", timeout)
        yield cluster
    finally:
        cluster.stop()
