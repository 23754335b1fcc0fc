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
sockets on Streamlit's ``server.port``. Call it from the ASGI lifespan, which runs after
Streamlit has bound and listened and before uvicorn accepts a connection. Setting an
option already set is harmless, so it is right on a Streamlit that fixes this too.
"""

from __future__ import annotations

import logging
import os
import socket
import stat

log = logging.getLogger(__name__)

FD_DIR = "/dev/fd"  # this process's descriptors (Linux: /proc/self/fd; also macOS and BSDs)


def _listening_tcp_sockets(port: int) -> list[socket.socket]:
    """Duplicates of this process's listening TCP sockets on ``port``; the caller closes them."""
    try:
        names = os.listdir(FD_DIR)
    except OSError:
        return []
    dups: list[socket.socket] = []  # all kept open to the end: a dup must not reuse a listed number
    found = []
    for name in names:
        fd = int(name)
        if any(fd == dup.fileno() for dup in dups):
            continue  # one of ours (the number the listing's own descriptor had)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            dups.append(sock := socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM))
            family = sock.getsockopt(socket.SOL_SOCKET, getattr(socket, "SO_DOMAIN", 39))
            kind = sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
            listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            address = sock.getsockname()
        except OSError:
            continue  # closed meanwhile, or not an internet socket
        if (
            family in (socket.AF_INET, socket.AF_INET6)
            and kind == socket.SOCK_STREAM
            and listening
            and isinstance(address, tuple)
            and address[1] == port
        ):
            found.append(sock)
    for dup in dups:
        if dup not in found:
            dup.close()
    return found


def set_listener_nodelay(port: int) -> int:
    """Turn Nagle's algorithm off on this process's listening sockets on ``port`` (so on every
    connection accepted from them); return how many there were."""
    listeners = _listening_tcp_sockets(port)
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
