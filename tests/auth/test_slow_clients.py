"""Slow clients cannot hold the process: our routes give a request body a deadline, and an
outage of accepts (every descriptor held by someone) leaves two log lines, not thousands.

Both over real sockets: the login routes under uvicorn on loopback (the deadline made small),
and a real ``streamlit run app.py`` with a low descriptor limit (RLIMIT_NOFILE).
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
import pytest
from login_harness import COOKIE_SECRET, compose, dev_config, serve_asgi, with_params
from starlette.applications import Starlette

from devidp import DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._routes import common, csrf_token
from tests.streamlit_process import scratch_checkout, streamlit_app

DEADLINE = 1.0  # the body deadline in these tests: short, yet far above a loopback GET's time


@dataclass(frozen=True)
class Served:
    url: str
    idp: DevAuthorizationServer
    auth: Authenticator
    store: MemoryStore


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """app.py's composition served by uvicorn on a free loopback port, its body deadline short."""
    idp = DevAuthorizationServer(ProviderConfig())
    store = MemoryStore()
    authenticator, routes = compose(idp, dev_config(), store, transport=None)

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        await authenticator.aclose()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common, "BODY_DEADLINE", DEADLINE)
        with serve_asgi(Starlette(routes=routes, lifespan=lifespan), lifespan="on") as url:
            yield Served(url, idp, authenticator, store)


def logged_in(served: Served) -> str:
    """A session of alice's, made over loopback; its id."""
    with httpx2.Client(base_url=served.url, timeout=10) as browser:
        start = browser.get("/auth/login/dev", params={"next": "/x"})
        at_provider = browser.get(with_params(start.headers["location"], login_hint="alice"))
        assert browser.get(at_provider.headers["location"]).status_code == 302
        return browser.cookies["auth_session"]


async def trickle(
    url: str, path: str, headers: dict[str, str]
) -> tuple[asyncio.Task[bytes], asyncio.Task[None]]:
    """POST ``path``: the headers at once, then a body of 1000 bytes of which only the first
    ``DEADLINE / 4`` seconds' worth come, a byte every 50 ms; then nothing, the connection held
    open. The answer (read to the server's close) and the drip, as tasks.

    The drip stops well before the deadline so that every byte sent has been read when the
    server answers 408 and closes. A byte still unread in its socket then would make that close
    a reset (Linux sends RST for unread data; RFC 9112 §9.6 asks servers for a lingering close,
    which uvicorn does not do), and the reset can reach the client before it has read the 408:
    a client that keeps dripping past the deadline gets a reset instead of the page, which is
    fine for one that slow, but this test reads the 408. Dripping to the end made it fail under
    load, when the loop read the last byte late."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {address.netloc}",
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Length: 1000",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def drip() -> None:
        with suppress(ConnectionError):
            for _ in range(int(DEADLINE / 4 / 0.05)):
                writer.write(b"a")
                await writer.drain()
                await asyncio.sleep(0.05)
            await asyncio.sleep(10 * DEADLINE)  # the body never completes

    async def answer() -> bytes:
        try:
            return await reader.read()  # to EOF: a 408 closes the connection (RFC 9110 §15.5.9)
        finally:
            writer.close()

    return asyncio.create_task(answer()), asyncio.create_task(drip())


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/refresh", "/auth/callback/dev"])
async def test_a_trickled_body_gets_408_and_nothing_is_done(
    served: Served, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A POST whose body trickles in gets 408 at the deadline, with one log line; nothing is done,
    and meanwhile the server answers others at once."""
    session_id = logged_in(served)
    session = served.auth.sessions.load(session_id)
    keys = set(served.store._data)
    journal_mark = max((e.id for e in served.idp.journal.entries()), default=0)
    headers = {"Cookie": f"auth_session={session_id}", "X-CSRF-Token": csrf_token(COOKIE_SECRET, session_id)}
    caplog.set_level(logging.INFO, logger="streamlit_authlib_login")
    started = time.monotonic()
    answer, drip = await trickle(served.url, path, headers)
    async with httpx2.AsyncClient(base_url=served.url, cookies={"auth_session": session_id}) as other:
        me = await other.get("/auth/me", timeout=DEADLINE)
    assert me.status_code == 200
    assert not answer.done()  # the other request was answered while this body was still coming
    response = await asyncio.wait_for(answer, 10 * DEADLINE)
    elapsed = time.monotonic() - started
    drip.cancel()
    head = response.split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 408"), response[:300]
    assert "connection: close" in head
    assert DEADLINE <= elapsed < 3 * DEADLINE
    assert served.auth.sessions.load(session_id) == session  # not logged out, not refreshed
    assert set(served.store._data) == keys  # no failure record either
    assert [e.path for e in served.idp.journal.entries(since=journal_mark)] == []
    slow = [r.getMessage() for r in caplog.records if "too slow" in r.getMessage()]
    assert len(slow) == 1, slow
    assert path in slow[0]


# --- an outage of accepts in a real `streamlit run` ------------------------------------------
FD_LIMIT = 128  # the app under test: RLIMIT_NOFILE, soft and hard
OUTAGE = "accept() is failing"
RECOVERED = "accept() works again"


def low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def test_an_accept_outage_is_one_log_line_and_the_app_answers_after_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """With every descriptor held by half-sent requests, accept() fails; the log says so once
    (asyncio logged a traceback for each failed accept: thousands a second), and once more when
    the connections go and the app answers again."""
    cwd = scratch_checkout(tmp_path_factory.mktemp("outage"))
    log = cwd / "streamlit.log"
    env = {**os.environ, "HOME": str(cwd)}
    with streamlit_app(cwd, log, env=env, preexec_fn=low_fd_limit) as url:
        port = int(urlsplit(url).port or 0)
        held = []
        try:
            for _ in range(FD_LIMIT + 32):  # more than the app can accept
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")  # headers never finished
                held.append(sock)
            wait_for(lambda: OUTAGE in log.read_text(errors="replace"), 10, "the outage is logged")
            with pytest.raises(httpx2.TransportError):
                httpx2.get(f"{url}/_stcore/health", timeout=1)  # the outage is real: no answer
            time.sleep(2)  # asyncio's once-a-second retries fail too: still the one line
        finally:
            for sock in held:
                sock.close()
        wait_for(lambda: _healthy(url), 10, "the app answers again")
        wait_for(lambda: RECOVERED in log.read_text(errors="replace"), 10, "the recovery is logged")
    text = log.read_text(errors="replace")
    assert text.count(OUTAGE) == 1
    assert text.count(RECOVERED) == 1
    assert text.count("Too many open files") == 1, f"{text.count('Too many open files')} lines"
    assert "Traceback" not in text
    assert len(text) < 10_000


def _healthy(url: str) -> bool:
    try:
        return httpx2.get(f"{url}/_stcore/health", timeout=1).status_code == 200
    except httpx2.TransportError:
        return False
