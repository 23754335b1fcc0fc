"""A test-only ``st.App``: Streamlit's own server, the listener fix of ``app.py`` (unless
``PROBE_NODELAY=0``), and one route that reports, from inside the server process, whether
a given accepted connection has TCP_NODELAY. Served by ``tests/auth/test_nodelay.py``."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from streamlit_authlib_login._streamlit.nodelay import set_listener_nodelay


def accepted_nodelay(peer_port: int) -> int | None:
    """TCP_NODELAY of this process's connection from loopback port ``peer_port``, or None."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as sock:
                peer = sock.getpeername()
                if isinstance(peer, tuple) and peer[1] == peer_port:
                    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        except OSError:
            continue
    return None


async def probe(request: Request) -> Response:
    client = request.client
    peer = int(request.query_params.get("peer") or (client.port if client else 0))
    return JSONResponse({"peer": peer, "nodelay": accepted_nodelay(peer)})


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    if os.environ.get("PROBE_NODELAY") != "0":
        set_listener_nodelay(int(st.get_option("server.port")))  # what app.py's lifespan does
    yield


app = st.App("probe_page.py", routes=[Route("/probe", probe)], lifespan=lifespan)
