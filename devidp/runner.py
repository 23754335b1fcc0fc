"""Run the provider, or any ASGI app, on a real socket in a background thread.

``serve`` is the provider's; ``bind_socket`` and ``serve_asgi`` are the generic pieces under
it, which the benchmarks and the socket tests use for their own apps too.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from .config import ProviderConfig
from .routes import create_app, is_loopback
from .server import DevAuthorizationServer


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port), held until a server takes it,
    so the port is known before the app exists and no one else can take it meanwhile."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto is
    # IPPROTO_TCP (socket.socket(AF_INET) has proto 0), and without it every response
    # uvicorn writes in two pieces waits ~40 ms on a kept-alive connection for the peer's
    # delayed ACK (Nagle).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@contextmanager
def serve_asgi(
    app: ASGIApp,
    sock: socket.socket | None = None,
    *,
    lifespan: Literal["on", "off", "auto"] = "off",
    graceful_shutdown: int | None = None,
    keep_alive: float = 5,
    name: str = "uvicorn",
) -> Iterator[str]:
    """Serve ``app`` with uvicorn on ``sock`` (default: ``bind_socket()``, a free loopback
    port) in a daemon thread until the block ends; yields ``http://host:port``.

    ``graceful_shutdown`` bounds how long the end of the block waits for requests still
    running (uvicorn's ``timeout_graceful_shutdown``; None: as long as they take, up to
    the 10 s the thread is given to stop). ``keep_alive``: seconds an idle kept-alive
    connection stays open (uvicorn's ``timeout_keep_alive``). The socket is closed at the end.
    """
    if sock is None:
        sock = bind_socket()
    host, port = sock.getsockname()[:2]
    uv = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan=lifespan,
            access_log=False,
            timeout_graceful_shutdown=graceful_shutdown,
            timeout_keep_alive=keep_alive,  # type: ignore[arg-type]  # a float works: call_later
            # The peer and scheme of the connection, never X-Forwarded-* (trusted from loopback
            # by default): the provider's loopback and https guards judge them (devidp/routes.py).
            proxy_headers=False,
        )
    )
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True, name=name)
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while not uv.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{name} (uvicorn) did not start")
            time.sleep(0.01)
        try:
            yield f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"
        finally:
            uv.should_exit = True
            thread.join(timeout=10)
    finally:
        sock.close()


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
    sock = bind_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    # The URL names the host as given (e.g. localhost), not the address it resolved to.
    url = f"http://{shown}:{sock.getsockname()[1]}"
    with serve_asgi(create_app(server), sock, name="devidp"):
        yield RunningProvider(url, server)
