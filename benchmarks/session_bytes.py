"""What live sessions cost the store, alone: ``python -m benchmarks.session_bytes``.

Section 6 of ``bench_login`` prints the same figures among the rest; this runs only them
(about a minute): one real login through our routes and the mounted development provider
(in-process, over loopback), then copies of its session on a fresh ``redis-server`` and in a
SQLite file (``storage.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx2

from devidp.runner import bind_socket, serve_asgi
from streamlit_authlib_login._routes import SESSION_COOKIE

from . import storage
from .bench_login import login_ours, machine, our_app
from .redis_process import redis_server
from .stats import progress


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000, help="sessions per MEMORY USAGE figure")
    args = parser.parse_args(argv)
    our_socket = bind_socket()
    app_url = f"http://127.0.0.1:{our_socket.getsockname()[1]}"
    print(
        f"Session storage benchmark, {time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, "
        f"{machine()}, load average {os.getloadavg()[0]:.2f}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-storage-") as scratch,
        redis_server(Path(scratch)) as redis,
        httpx2.Client(timeout=10) as browser,
    ):
        # The standalone provider is never used here: its metadata URL is never fetched.
        app, authenticator, _idp = our_app(Path(scratch) / "sessions.sqlite3", "http://127.0.0.1:9/unused")
        with serve_asgi(app, our_socket, lifespan="on", name="bench-app"):
            progress("one login, mounted provider")
            login_ours(browser, app_url, "dev")
            session = authenticator.sessions.load(browser.cookies.get(SESSION_COOKIE))
        if session is None:
            raise RuntimeError("the login left no session")
        settings = authenticator.sessions.settings
        progress(f"Redis bytes per session, {args.sessions} sessions x 4")
        per_session = storage.redis_bytes_per_session(session, settings, redis.url, args.sessions)
        progress("memory per 10,000 sessions: SQLite, Redis, without details and with")
        memory = {
            app_name: storage.memory_per_10k(
                session, settings, Path(scratch), redis.url, keep_login_details=keep
            )
            for app_name, keep in storage.APPS.items()
        }
    print(f"\nWhat live sessions cost the store, for a real login's session ({session.provider})")
    storage.print_memory(per_session, memory)


if __name__ == "__main__":
    main()
