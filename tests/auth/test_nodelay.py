"""The Nagle fix (streamlit_authlib_login/_streamlit/nodelay.py): connections accepted by
Streamlit's listener have TCP_NODELAY.

Checked from inside the server, deterministically: a real ``streamlit run`` of a test-only
``st.App`` reports the socket option of the very connection a request came on (HTTP) or of
a websocket it holds open (``/_stcore/stream``). Without the fix both are 0, which is the
stall the fix removes; with it both are 1, which also shows that Linux copies the option
from the listening socket to the sockets it accepts.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from websockets.sync.client import connect

from benchmarks.streamlit_process import streamlit_run
from streamlit_authlib_login._streamlit.nodelay import set_listener_nodelay

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).parent / "nodelay_probe" / "probe_app.py"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")


def streamlit_like_listener() -> socket.socket:
    """Bound as Streamlit 1.67's _bind_socket does: socket.socket(family) with protocol 0."""
    sock = socket.socket(family=socket.AF_INET)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    return sock


async def accepted_option(listener: socket.socket) -> int:
    """Accept one connection with asyncio, as uvicorn does; its TCP_NODELAY."""
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[int] = loop.create_future()

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = await loop.create_server(Protocol, sock=listener)
    _, writer = await asyncio.open_connection(*listener.getsockname())
    try:
        return await asyncio.wait_for(seen, 5)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def test_asyncio_leaves_nagle_on_for_a_protocol_0_listener_and_the_fix_turns_it_off() -> None:
    """The bug and its fix in one process: asyncio skips TCP_NODELAY for proto 0, and an accepted
    socket inherits the option the fix sets on the listener."""
    assert await accepted_option(streamlit_like_listener()) == 0
    listener = streamlit_like_listener()
    assert set_listener_nodelay(listener.getsockname()[1]) == 1
    assert await accepted_option(listener) == 1


def test_the_fix_is_harmless_when_the_option_is_already_set() -> None:
    """On a Streamlit that sets TCP_NODELAY itself, setting it again changes nothing."""
    listener = streamlit_like_listener()
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert set_listener_nodelay(listener.getsockname()[1]) == 1
    assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    listener.close()


@pytest.fixture(scope="module", params=["fixed", "stock"])
def probe_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run`` of the probe app, with the fix ("fixed") and without it ("stock")."""
    cwd = tmp_path_factory.mktemp(f"nodelay-{request.param}")
    env = {
        **os.environ,
        "HOME": str(cwd),
        "PYTHONPATH": str(ROOT),
        "PROBE_NODELAY": "1" if request.param == "fixed" else "0",
    }
    args = ("--server.address", "127.0.0.1")
    with streamlit_run(PROBE, cwd=cwd, log=cwd / "streamlit.log", args=args, env=env) as url:
        yield url.replace("localhost", "127.0.0.1")


def expected(probe_url: str, request: pytest.FixtureRequest) -> int:
    return 1 if "fixed" in request.node.callspec.id else 0


def test_kept_alive_http_connections_have_nodelay(probe_url: str, request: pytest.FixtureRequest) -> None:
    """Each request on one kept-alive HTTP connection comes on a socket with TCP_NODELAY (fixed)."""
    with httpx2.Client(base_url=probe_url, timeout=10) as client:
        first, second = client.get("/probe").json(), client.get("/probe").json()
    assert first["peer"] == second["peer"]  # one connection, kept alive
    assert first["nodelay"] == second["nodelay"] == expected(probe_url, request)


def test_the_websocket_connection_has_nodelay(probe_url: str, request: pytest.FixtureRequest) -> None:
    """Streamlit's websocket (/_stcore/stream), held open, is on a socket with TCP_NODELAY (fixed)."""
    ws_url = probe_url.replace("http://", "ws://") + "/_stcore/stream"
    with connect(ws_url, subprotocols=["streamlit"], open_timeout=10) as websocket:  # type: ignore[list-item]
        peer = websocket.socket.getsockname()[1]
        found = httpx2.get(f"{probe_url}/probe", params={"peer": peer}, timeout=10).json()
    assert found == {"peer": peer, "nodelay": expected(probe_url, request)}
