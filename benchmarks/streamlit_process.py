"""``streamlit run`` as a subprocess on a loopback port, until it answers its health check.

The benchmark and the test suites both need the real server (``app.py`` or a small script),
so this is the one place that starts it. It lives in ``benchmarks/`` rather than ``tests/``
because the dependency may only point one way: the tests may import from ``benchmarks/``
(code that ships in no app and imports nothing from ``tests/``), but a benchmark that
imported from ``tests/`` would depend on the suite's fixtures and layout. A top-level
module would sit beside ``app.py`` and ``streamlit_app.py`` and read as part of the app.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2


def free_port() -> int:
    """A loopback port free right now, for a server in another process (which binds it itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def streamlit_run(
    script: str | Path,
    *,
    cwd: Path,
    log: Path,
    port: int | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
    preexec_fn: Callable[[], None] | None = None,
    python: str = sys.executable,
    base_path: str = "",
) -> Iterator[str]:
    """``streamlit run script`` in ``cwd`` on ``port`` (default: a free one) until the block
    ends; yields ``http://localhost:port`` once ``/_stcore/health`` answers 200 (under
    ``base_path``, ``/app``, for a server run with ``--server.baseUrlPath app``).

    ``args`` go after the fixed options (headless, no file watcher, no usage statistics); the
    output goes to ``log``. ``AUTH_*`` variables are dropped from ``env`` (default: this
    process's environment), so a developer's own provider settings never leak into a run.
    ``preexec_fn`` runs in the child before streamlit starts (a test lowers its limits there).
    ``python`` is the interpreter whose Streamlit runs (the wheel test's own venv).
    """
    port = port or free_port()
    command = [
        *(python, "-m", "streamlit", "run", str(script)),
        *("--server.port", str(port), "--server.headless", "true"),
        *("--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"),
        *args,
    ]
    environment = {k: v for k, v in (os.environ if env is None else env).items() if not k.startswith("AUTH_")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT, preexec_fn=preexec_fn
        )
    url = f"http://localhost:{port}"
    try:
        _wait_until_healthy(url + base_path, process, log, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx2.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamlit was not healthy after {timeout:.0f} s:\n{log.read_text()}")
        time.sleep(0.1)
