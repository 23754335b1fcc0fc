"""One log line when the server's accept() starts failing for want of descriptors, one when it
works again, instead of a traceback for each failed accept.

When every descriptor the process may open is held (slow clients that never finish a request:
see the README's deployment section), ``socket.accept()`` fails with EMFILE. asyncio, which
uvicorn serves Streamlit with, reports each failure through the loop's exception handler
(``asyncio/selector_events.py``, ``_accept_connection``), whose default logs it with its
traceback on the ``asyncio`` logger. Python 3.11 also goes on trying the rest of the listener's
backlog (2048 under Streamlit) after the first failure, scheduling a retry for each
(python/cpython#151615): thousands of tracebacks a second, 250 MB in 40 s, burying the one fact
an operator needs. This filter on the ``asyncio`` logger drops those reports and says, on the
``streamlit_authlib_login`` logger, when the outage began and when it ended.

asyncio retries the accept once a second while it fails (``ACCEPT_RETRY_DELAY``), so a quiet
``QUIET`` seconds means the retry got through, or nobody is waiting any more: either way the
outage is over. A descriptor must also be free again, so that an event loop stalled past both
timers does not end an outage that goes on. Installed from the ASGI lifespan
(``app.py``), in the server's event loop, whose thread logs these failures.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time

from .._core.eventlog import event

log = logging.getLogger(__name__)

ASYNCIO_MESSAGE = "socket.accept() out of system resource"  # asyncio's, for these failures only
RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}  # asyncio's list
QUIET = 2.0  # seconds without a failed accept that end an outage: two of asyncio's retries
FD_DIR = "/dev/fd"


class AcceptOutageLog(logging.Filter):
    """On the ``asyncio`` logger: its reports of failed accepts become two lines per outage."""

    def __init__(self) -> None:
        super().__init__()
        self.began = 0.0  # monotonic time of the outage's first failure; 0 when there is none
        self.last = 0.0
        self.failures = 0
        self.limit = _descriptor_limit()  # now: with no descriptor free, no module can be imported

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not (
            str(record.msg).startswith(ASYNCIO_MESSAGE)
            and isinstance(error, OSError)
            and error.errno in RESOURCE_ERRORS
        ):
            return True  # any other report of asyncio's stays as it is
        now = time.monotonic()
        self.last = now
        self.failures += 1
        if not self.began:
            self.began = now
            log.error(
                "accept() is failing: %s (%s descriptors open, limit %s): new connections wait "
                "unanswered until connections close; one more line when accepts work again",
                f"[Errno {error.errno}] {error.strerror}",
                _open_descriptors(),
                self.limit,
                extra=event("accept_failing", check=errno.errorcode.get(error.errno or 0, "-")),
            )
            asyncio.get_running_loop().call_later(QUIET, self._check)  # logged in the loop's thread
        return False

    def _check(self) -> None:
        quiet_for = time.monotonic() - self.last
        if quiet_for < QUIET or not _a_descriptor_is_free():
            asyncio.get_running_loop().call_later(max(QUIET - quiet_for, 1.0), self._check)
            return
        log.warning(
            "accept() works again after %.1f s; %d failed accepts were not logged one by one",
            self.last - self.began,
            self.failures,
            extra=event("accept_recovered"),
        )
        self.began, self.failures = 0.0, 0


def _a_descriptor_is_free() -> bool:
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        return False
    return True


def _descriptor_limit() -> int | str:
    try:
        import resource  # Unix only
    except ImportError:
        return "unknown"
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _open_descriptors() -> int | str:
    try:
        return len(os.listdir(FD_DIR)) - 1  # less the listing's own
    except OSError:  # no descriptor left to list them with
        return "all"


def install_accept_outage_log() -> None:
    """Add the filter to the ``asyncio`` logger, once however often the lifespan runs."""
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, AcceptOutageLog) for f in asyncio_log.filters):
        asyncio_log.addFilter(AcceptOutageLog())
