"""Kept-alive connections to a provider, and the request that crosses the provider's close of one.

A server closes a connection that stayed idle past its own timeout (uvicorn, Node.js, Apache:
5 s; gunicorn: 2 s). If the client sends its next request on that connection as the server
closes it, the two cross (RFC 9112 §9.5): the server never reads the request, and the client
reads end-of-file or a reset where the answer should be (httpx2's ``RemoteProtocolError``,
"Server disconnected without sending a response", or ``ReadError``). A login would be refused
as ``provider_unreachable`` though the provider is fine.

Two measures. ``LIMITS`` keeps an idle connection 1 s, under those timeouts, so the race needs a
server with a shorter one, or one that closes idle connections as it shuts down. For those,
``KeepAliveRetry`` sends the request again, once (RFC 9112 §9.3.1), when
httpcore2's ``trace`` extension shows the cut-off request was the crossing kind: it went out on
a reused connection (none was opened for it) and failed while awaiting the answer's head, and no
head had arrived in this ``send``. A request on a connection opened for it, an answer cut off
after its head, and a timeout are never sent again: the provider may have acted on them.

httpx2's own ``retries=`` does not cover this: httpcore2 retries only the connecting of a new
connection (``ConnectError``, ``ConnectTimeout``), never a request. And this is a client, not
a transport wrapper, because passing a transport makes httpx2 ignore the proxy variables of
the environment (``HTTPS_PROXY``, ``NO_PROXY``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx2

from .eventlog import event

log = logging.getLogger(__name__)

# httpx2's defaults but the expiry (5 s), which equals the common server timeouts it must undercut.
LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=1.0)

Tracer = Callable[[str, dict[str, object]], Awaitable[None]]
# httpcore2's words for end-of-file where an answer's head should be; other protocol errors mean
# the server did send something.
DISCONNECTED = "Server disconnected without sending a response"


class _Attempt:
    """One ``send`` as httpcore2's ``trace`` extension tells it (``prefix.step.started`` etc.)."""

    def __init__(self, outer: Tracer | None) -> None:
        self.outer = outer  # a trace the caller set, still told everything
        self.connected = False  # a connection was opened for the request
        self.answered = False  # an answer's head arrived (before a redirect, say)
        self.head_failed = False  # the connection failed while the head was awaited

    async def __call__(self, event: str, info: dict[str, object]) -> None:
        step = event.split(".")[1:]
        if step in (["connect_tcp", "started"], ["connect_unix_socket", "started"]):
            self.connected = True
        elif step == ["receive_response_headers", "complete"]:
            self.answered = True
        elif event == "http11.receive_response_headers.failed":
            self.head_failed = True
        if self.outer:
            await self.outer(event, info)

    def crossed_a_close(self, request: httpx2.Request, error: httpx2.TransportError) -> bool:
        reused = self.head_failed and not self.connected and not self.answered
        # End-of-file or a reset (ReadError), not a timeout: a slow provider may still act.
        closed = isinstance(error, httpx2.ReadError) or str(error).startswith(DISCONNECTED)
        # The body must be bytes in memory to be sent again; a form or JSON body is.
        return reused and closed and isinstance(request.stream, httpx2.ByteStream)


class KeepAliveRetry(httpx2.AsyncClient):
    """An ``AsyncClient`` that sends a request again, once, if it crossed the server's close of
    the idle connection it went out on (when exactly: the module's docstring).

    Safe for the token POST, which is not idempotent (RFC 9110 §9.2.2 allows retrying one only
    with "some means to detect that the original request was never applied"): a server that
    closes an idle connection has not read what crossed its close. What the trace cannot tell
    apart (a server that read the request, acted and died before a byte of answer, or whose
    answer broke off inside its head) costs at most a less clear error: a second redemption of
    the one-time code is refused (``invalid_grant``; RFC 6749 §4.1.2 also has the provider revoke
    the tokens of the first, which never reached us), a replayed refresh token likewise (RFC 9700
    §4.14.2) when the first's new one was lost anyway, revocation answers 200 for a token already
    revoked (RFC 7009 §2.2), introspection changes nothing. One retry only: "A client SHOULD NOT
    automatically retry a failed automatic retry" (RFC 9110 §9.2.2).
    """

    async def send(self, request: httpx2.Request, **options: object) -> httpx2.Response:
        attempt = _Attempt(request.extensions.get("trace"))
        request.extensions["trace"] = attempt
        try:
            return await super().send(request, **options)  # type: ignore[arg-type]
        except (httpx2.RemoteProtocolError, httpx2.ReadError) as error:
            if not attempt.crossed_a_close(request, error):
                raise
            log.info(
                "%s %s%s: the provider closed the idle connection it went out on (%s); "
                "sending it again (RFC 9112 §9.3.1).",
                request.method,
                request.url.host,
                request.url.path,
                error,
                extra=event("provider_connection_retried"),
            )
        finally:
            request.extensions.pop("trace")
            if attempt.outer:
                request.extensions["trace"] = attempt.outer
        return await super().send(request, **options)  # type: ignore[arg-type]
