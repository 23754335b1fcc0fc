"""``streamlit run app.py`` as a subprocess on a free port, for the suites that need the real server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
KEEP_OUT = {
    ".git",
    ".venv",
    ".local",
    ".streamlit",
    "tests",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
}


def scratch_checkout(where: Path) -> Path:
    """A directory that looks like the repo (code linked in) without its local state or secrets,
    so a test's `.local/` (cookie secret, session store) is its own."""
    for entry in ROOT.iterdir():
        if entry.name not in KEEP_OUT:
            (where / entry.name).symlink_to(entry)
    (where / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", where / ".streamlit" / "config.toml")
    return where


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def streamlit_app(
    cwd: Path,
    log: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Iterator[str]:
    """Serve ``cwd/app.py`` until the block ends; yields its URL. ``AUTH_*`` variables are
    dropped, so a developer's own provider settings never leak into a test."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "streamlit", "run", "app.py"),
        *("--server.port", str(port), "--server.headless", "true"),
        *("--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"),
        *args,
    ]
    environment = {k: v for k, v in (env or os.environ).items() if not k.startswith("AUTH_")}
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        _wait_until_healthy(url, process, log, timeout)
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
