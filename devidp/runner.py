"""Run the provider on a real loopback socket in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from .config import ProviderConfig
from .routes import create_app, is_loopback
from .server import DevAuthorizationServer


class NonLoopbackRefused(RuntimeError):
    """Raised when asked to listen beyond loopback without ``allow_non_loopback``."""


def check_bind_host(host: str, config: ProviderConfig) -> None:
    if not is_loopback(host) and not config.allow_non_loopback:
        raise NonLoopbackRefused(
            f"Refusing to serve the development provider on {host!r}: it logs anyone in "
            "without a password. Use 127.0.0.1, or set allow_non_loopback=True "
            "(DEVIDP_ALLOW_NON_LOOPBACK=1) if you really mean it."
        )


@dataclass(frozen=True)
class RunningProvider:
    """A provider serving in a background thread."""

    url: str
    server: DevAuthorizationServer


@contextmanager
def serve(
    config: ProviderConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningProvider]:
    """Serve a provider on ``host:port`` (0: any free port) until the block ends.

    >>> with serve() as idp:
    ...     print(idp.url)  # http://127.0.0.1:54321
    """
    config = config or ProviderConfig()
    check_bind_host(host, config)
    server = DevAuthorizationServer(config)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only then, and without it every
    # kept-alive JSON response waits ~40 ms for the delayed ACK (Nagle).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    uv = uvicorn.Server(
        uvicorn.Config(create_app(server), log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True, name="devidp")
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the development provider did not start")
        time.sleep(0.01)
    shown = f"[{host}]" if ":" in host else host
    try:
        yield RunningProvider(f"http://{shown}:{bound_port}", server)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()
