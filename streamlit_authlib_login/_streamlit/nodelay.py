"""TCP_NODELAY on the app's listening socket, so no response waits for a delayed ACK.

Streamlit 1.67 binds its listener itself, ``socket.socket(family=...)`` with protocol 0
(``streamlit/web/server/starlette/starlette_server.py``, ``_bind_socket``), and hands it
to uvicorn (``uvicorn.Server.run(sockets=[sock])``). asyncio turns Nagle's algorithm off
only for accepted sockets whose Python ``proto`` is ``IPPROTO_TCP``
(``asyncio/base_events.py``, ``_set_nodelay``), and an accepted socket takes the
listener's proto 0: Nagle stays on. uvicorn writes a response head and body in two
``send()``s, and on a kept-alive connection the second waits for the ACK of the first,
which the client delays (RFC 1122 §4.2.3.2; ~40 ms on Linux). Every response after the
first pays it, over HTTP and over the websocket. uvicorn has the same bug with
``--workers N`` (encode/uvicorn#3149).

The fix is one socket option on the listener: Linux copies ``TCP_NODELAY`` from a
listening socket to each connection accepted from it (``tests/auth/test_nodelay.py``
checks that on a real ``streamlit run``, HTTP and websocket). The app has no handle on
the listener, so this finds it among the process's descriptors: the listening TCP
sockets on Streamlit's ``server.port`` (``internals.listening_tcp_sockets``, fenced with
Streamlit's other internals). Call it from the ASGI lifespan, which runs after
Streamlit has bound and listened and before uvicorn accepts a connection. Setting an
option already set is harmless, so it is right on a Streamlit that fixes this too.
"""

from __future__ import annotations

import logging
import socket

from .internals import listening_tcp_sockets

log = logging.getLogger(__name__)


def set_listener_nodelay(port: int) -> int:
    """Turn Nagle's algorithm off on this process's listening sockets on ``port`` (so on every
    connection accepted from them); return how many there were."""
    listeners = listening_tcp_sockets(port)
    for sock in listeners:
        with sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if listeners:
        log.info("TCP_NODELAY set on %d listening socket(s) of port %d", len(listeners), port)
    else:
        log.warning(
            "No listening socket on port %d found to set TCP_NODELAY on: kept-alive responses "
            "may wait ~40 ms each for the client's delayed ACK",
            port,
        )
    return len(listeners)
