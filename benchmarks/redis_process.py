"""``redis-server`` as a subprocess on a free loopback port, with its files in a scratch directory.

Like ``streamlit_process.py``, this lives in ``benchmarks/`` so that the benchmark and the
tests start Redis the same way, and the dependency points one way (tests import from here).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
