"""The operator's routes: ``GET /auth/metrics`` for Prometheus, behind ``[auth] metrics_token``,
and ``GET /auth/health`` for load balancers. Neither says anything about a person or a secret."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .._core.eventlog import event
from .._core.metrics import CONTENT_TYPE
from .common import RoutesBase, log

NO_STORE = {"Cache-Control": "no-store"}
REALM = "auth-metrics"


class MonitoringRoutes(RoutesBase):
    """``/auth/metrics`` and ``/auth/health``."""

    async def metrics(self, request: Request) -> Response:
        """The Prometheus text format (``_core.metrics``), for ``Authorization: Bearer <token>``
        only (RFC 6750 §2.1); 404 while no token is configured, so nothing is shown by default."""
        token = self.auth.config.metrics_token
        if token is None:
            return PlainTextResponse("Not Found", 404)
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not _same(sent.strip(), token):
            # RFC 6750 §3.1: no error code when no credentials came, invalid_token when wrong ones did.
            challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if sent else "")
            log.warning(
                "metrics refused: %s bearer token from %s",
                "a wrong" if sent else "no",
                request.client.host if request.client else "-",
                extra=event("metrics_refused", check="invalid_token" if sent else "no_token"),
            )
            return PlainTextResponse("Unauthorized", 401, headers={"WWW-Authenticate": challenge, **NO_STORE})
        # It may count the sessions in the store (SQLite): off the event loop, as every store call.
        body = await self.auth.sessions.run(self.auth.metrics.render)
        return Response(body, media_type=CONTENT_TYPE, headers=NO_STORE)

    async def health(self, request: Request) -> Response:
        """200 ``ok`` while the session store answers a read, 503 ``unavailable`` when it does not
        (within its own timeout: ``_core.redis_store``), for a load balancer to send logins
        elsewhere. The store logs why, once; this says nothing more."""
        if await self.auth.sessions.run(self.auth.sessions.reachable):
            return PlainTextResponse("ok", headers=NO_STORE)
        return PlainTextResponse("unavailable", 503, headers={"Retry-After": "5", **NO_STORE})


def _same(sent: str, token: str) -> bool:
    """A comparison in constant time, of digests: neither the token's characters nor its length
    show in how long a wrong guess takes."""
    return hmac.compare_digest(
        hashlib.sha256(sent.encode()).digest(), hashlib.sha256(token.encode()).digest()
    )
