"""A TCP proxy on loopback that puts a server some milliseconds away, so that a race the tests
drive happens every time rather than by luck, and a benchmark measures a store across a network
(``benchmarks/bench_store.py``: Redis 2 ms away each way).

It lives in ``benchmarks/`` for the reason ``benchmarks/streamlit_process.py`` gives: the tests
may import from here, a benchmark may not import from ``tests/``; ``tests/latency_proxy.py``
re-exports it, so there is one implementation.

``hold()`` also stops the answers (server → client) until ``release()``: a test can let a
request reach the server, do something else meanwhile, and only then let the answer through.
``cut()`` closes the connections open now, dropping what they carry, as a middlebox that dies
would: with ``hold()``, a client is left without the answer the server gave.
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType


class LatencyProxy:
    """Forwards ``127.0.0.1:port`` to ``target_port``, each chunk ``delay`` seconds late each way."""

    def __init__(self, target_port: int, delay: float = 0.2, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        self.port = 0
        self.held = 0  # answers waiting at the gate while held
        self._loop = asyncio.new_event_loop()
        self._gate = asyncio.Event()
        self._gate.set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="latency-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connect, "127.0.0.1", 0), self._loop
        ).result()
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.release()

        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def hold(self) -> None:
        self._loop.call_soon_threadsafe(self._gate.clear)

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._gate.set)

    def cut(self) -> None:
        """Close every connection open now on both sides, dropping held answers; the proxy still
        accepts new connections."""

        async def cut() -> None:
            pipes = list(self._tasks)
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cut(), self._loop).result(5)

    def wait_held(self, timeout: float = 10) -> None:
        """Until an answer waits at the gate: the server has answered a request made since ``hold``."""
        deadline = time.monotonic() + timeout
        while self.held == 0:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer reached the held proxy")
            time.sleep(0.005)

    async def _connect(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        for pipe in (
            self._pipe(client_reader, server_writer, answers=False),
            self._pipe(server_reader, client_writer, answers=True),
        ):
            task = asyncio.create_task(pipe)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, answers: bool
    ) -> None:
        # Chunks are queued with the time they are due, so the delay is latency (each chunk
        # `delay` late), not a throttle (delays adding up).
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - self._loop.time()))
                # A connection closed by the server (an idle keep-alive) is no answer: not held.
                if answers and data and not self._gate.is_set():
                    self.held += 1
                    try:
                        await self._gate.wait()
                    finally:  # cut() may drop it at the gate
                        self.held -= 1
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        delivering = asyncio.create_task(deliver())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((self._loop.time() + self.delay, data))
            queue.put_nowait((self._loop.time() + self.delay, b""))
            await delivering
        except (OSError, asyncio.CancelledError):
            delivering.cancel()
            writer.close()
