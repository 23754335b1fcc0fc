"""Every use of Streamlit beyond its public API, fenced in one module.

The login module needs five things Streamlit does not offer publicly:

- ``st.user`` read from our session on every rerun: every read goes through
  ``streamlit.user_info._get_user_info``, which ``install_user_info`` replaces;
- whether the caller is a page script: ``get_script_run_ctx``
  (``streamlit.runtime.scriptrunner_utils.script_run_context``);
- the console logger in Streamlit's format and level: ``streamlit.logger.get_logger``, and
  for JSON lines one Streamlit does not manage (``json_console_logger``: ``_loggers``);
- the app's listening socket, which Streamlit binds itself and gives no handle on:
  ``listening_tcp_sockets`` finds it among the process's descriptors (``nodelay.py`` says why);
- a request's own peer and scheme, which the uvicorn that Streamlit runs replaces with
  ``X-Forwarded-For`` and ``-Proto`` first: ``keep_connection`` (it says why).

Each may change in any Streamlit release, so ``check_streamlit_version`` (called first by
``with_login``) stops the start outside the versions this was verified on, with one line
saying what to do. ``tests/auth/test_internals.py`` checks that no other module imports a
private Streamlit path.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import stat
from collections.abc import Callable, MutableMapping

import streamlit
import streamlit.logger as streamlit_logger
import streamlit.user_info as streamlit_user_info
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from .._core.errors import ConfigError

# The Streamlit releases the private uses above were verified on: [lowest, first unverified).
# 1.59.0 is the lowest that passes the login package's tests (constraints-lowest.txt, run by
# .ci/run); 1.67 the newest released. pyproject.toml asks pip for the same range; change both.
VERIFIED_STREAMLIT = ">=1.59,<1.68"

FD_DIR = "/dev/fd"  # this process's descriptors (Linux: /proc/self/fd; also macOS and BSDs)
UserInfo = dict[str, object]


def _release(version: str) -> tuple[int, ...]:
    """``1.67.0`` → (1, 67, 0); a pre-release or local suffix is dropped (``1.68.0rc1`` → 1.68.0)."""
    return tuple(int(part) for part in re.findall(r"\d+", re.split(r"[^\d.]", version, maxsplit=1)[0]))


def check_streamlit_version(installed: str | None = None) -> None:
    """Stop the start, with one line, when ``installed`` (default: this Streamlit's version) is
    outside ``VERIFIED_STREAMLIT``."""
    installed = installed or streamlit.__version__
    bounds = re.fullmatch(r">=([\d.]+),<([\d.]+)", VERIFIED_STREAMLIT)
    if bounds is None:
        raise ValueError(f"VERIFIED_STREAMLIT must read '>=X.Y,<X.Z', not {VERIFIED_STREAMLIT!r}")
    lowest, first_unverified = (_release(bound) for bound in bounds.groups())
    if not lowest <= _release(installed) < first_unverified:
        raise SystemExit(
            f"Streamlit {installed} is installed, but the login module was verified on Streamlit "
            f"{VERIFIED_STREAMLIT} only (it relies on Streamlit internals that change between "
            f"releases): install a verified one, pip install 'streamlit{VERIFIED_STREAMLIT}'."
        )


def in_page_script() -> bool:
    """Whether the caller runs inside a page script (Streamlit's script runner thread)."""
    return get_script_run_ctx(suppress_warning=True) is not None


def console_logger(name: str) -> logging.Logger:
    """The logger ``name``, printed on the console of ``streamlit run`` in Streamlit's own format
    and at its ``logger.level``."""
    return get_logger(name)


class _JsonConsole(logging.StreamHandler):  # type: ignore[type-arg]
    """The console handler of ``json_console_logger`` (stderr, as Streamlit's own)."""


def json_console_logger(name: str, formatter: logging.Formatter) -> logging.Logger:
    """The logger ``name``, printed on the console through ``formatter`` alone, at Streamlit's
    ``logger.level`` as it is now. Not one of Streamlit's: a logger ``get_logger`` made gets a
    handler in Streamlit's text format again at every parse of Streamlit's config
    (``update_formatter``), so it leaves Streamlit's list (``_loggers``), and its handler goes."""
    logger = logging.getLogger(name)
    streamlit_logger._loggers.pop(name, None)
    text = getattr(logger, "streamlit_console_handler", None)
    if isinstance(text, logging.Handler):
        logger.removeHandler(text)
        del logger.streamlit_console_handler  # type: ignore[attr-defined]
    for handler in [h for h in logger.handlers if isinstance(h, _JsonConsole)]:
        logger.removeHandler(handler)  # set up again: one handler however often
    handler = _JsonConsole()
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.setLevel(str(streamlit.get_option("logger.level")).upper())
    logger.propagate = False  # as Streamlit's: printed once, here
    return logger


def install_user_info(session_user: Callable[[], UserInfo]) -> None:
    """Make ``st.user`` read ``session_user()`` in page scripts, and Streamlit's own answer
    elsewhere. Streamlit fills ``st.user`` once per tab, when its websocket connects, from
    st.login's identity cookie (or ``server.trustedUserHeaders``): a logout in another tab, a
    refresh or an expiry would not show until the tab reconnects. Installing twice keeps the
    original reader."""
    original = getattr(streamlit_user_info, "_get_user_info", None)
    if original is None or not callable(original):
        raise ConfigError(
            "This Streamlit has no streamlit.user_info._get_user_info, which st.user reads: the "
            f"st.login bridge was verified on Streamlit {VERIFIED_STREAMLIT}."
        )
    original = getattr(original, "streamlit_original", original)

    def from_our_session() -> UserInfo:
        if get_script_run_ctx() is None:  # not in a page script: Streamlit's own answer
            return dict(original())
        return session_user()

    from_our_session.streamlit_original = original  # type: ignore[attr-defined]
    streamlit_user_info._get_user_info = from_our_session  # type: ignore[assignment]


def listening_tcp_sockets(port: int) -> list[socket.socket]:
    """Duplicates of this process's listening TCP sockets on ``port``: Streamlit's own listener,
    which it binds in this process (``streamlit/web/server/starlette/starlette_server.py``,
    ``_bind_socket``) and hands to uvicorn. The caller closes them."""
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


def keep_connection(scope_key: str) -> bool:
    """Have uvicorn keep each request's own client and scheme in ``scope[scope_key]`` before its
    proxy-header middleware replaces them; True once that is so.

    Streamlit runs uvicorn with its defaults (Streamlit's ``starlette_server`` module,
    ``_get_uvicorn_config_kwargs``): ``proxy_headers`` on, ``forwarded_allow_ips`` from
    ``FORWARDED_ALLOW_IPS`` or 127.0.0.1 and ::1. So a request from any local process that says
    ``X-Forwarded-Proto: https`` reaches the app as https, from the address its
    ``X-Forwarded-For`` names, and the connection's own are gone: the login module, which
    believes forwarding headers only from the proxies ``[auth] trusted_proxies`` names
    (``_core.proxies``), would be judging values the headers made. uvicorn wraps the app in
    ``uvicorn.config.ProxyHeadersMiddleware`` after importing it (``Config.load``), so a subclass
    put there while the entry file is imported runs in its place and keeps the originals first.
    Nothing else changes: Streamlit still sees what uvicorn gives it."""
    import uvicorn.config

    middleware = getattr(uvicorn.config, "ProxyHeadersMiddleware", None)
    if not isinstance(middleware, type):
        return False
    if getattr(middleware, "keeps_connection", None) == scope_key:
        return True  # with_login called again in this process

    class KeepingConnection(middleware):  # type: ignore[misc, valid-type]
        keeps_connection = scope_key

        async def __call__(
            self,
            scope: MutableMapping[str, object],
            receive: Callable[..., object],
            send: Callable[..., object],
        ) -> None:
            if scope.get("type") in ("http", "websocket"):
                scope[scope_key] = (scope.get("client"), scope.get("scheme"))
            await super().__call__(scope, receive, send)

    uvicorn.config.ProxyHeadersMiddleware = KeepingConnection  # type: ignore[attr-defined, misc]
    return True
