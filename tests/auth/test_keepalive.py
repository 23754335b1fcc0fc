"""The provider's client and the kept-alive connections a provider closes (``keepalive.py`` in
``streamlit_authlib_login/_core/``).

A token request that crosses the provider's close of the idle connection it went out on is sent
again, once; a request that may have reached the provider is never sent twice, which the
provider's journal shows: it counts the token requests that arrived with the code.

The provider is the development one under a real uvicorn on loopback, which
``tests/latency_proxy.py`` puts some milliseconds away; with a short ``timeout_keep_alive``, its
closing of an idle connection and the client's next request cross every time.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx2
import pytest
from login_harness import query_of, serve_asgi, with_params
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devidp import Client, DevAuthorizationServer, ProviderConfig, create_app
from devidp.journal import fingerprint
from streamlit_authlib_login._core.config import HttpSettings, ProviderSettings
from streamlit_authlib_login._core.errors import ProviderUnreachable
from streamlit_authlib_login._core.keepalive import LIMITS
from streamlit_authlib_login._core.provider import ProviderClient
from tests.latency_proxy import LatencyProxy

RETRY_LOG = "streamlit_authlib_login._core.keepalive"
REDIRECT_URI = "http://localhost/auth/callback/corp"

# The race, timed from the moment the client has read the discovery answer, which the provider
# sent DELAY earlier: the provider closes the idle connection at KEEP_ALIVE - DELAY (0.55 s) and
# the client sees that close at KEEP_ALIVE (0.8 s). A token request sent at IDLE (0.55 s) on the
# pooled connection (our pool keeps it 1 s) reaches the provider at 0.8 s, after its close:
# 0.25 s of margin each way.
KEEP_ALIVE = 0.8
DELAY = 0.25
IDLE = KEEP_ALIVE - DELAY


@dataclass
class Provider:
    idp: DevAuthorizationServer
    url: str  # where the client reaches it: through the proxy, if any
    direct: str
    proxy: LatencyProxy | None

    def client(self) -> ProviderClient:
        settings = ProviderSettings(
            name="corp",
            client_id="keepalive-app",
            client_secret="keepalive-secret",
            server_metadata_url=f"{self.url}/.well-known/openid-configuration",
        )
        return ProviderClient(settings, "http://localhost", HttpSettings())

    def token_requests(self, code: str) -> int:
        """How many token requests with ``code`` reached the provider."""
        entries = self.idp.journal.entries(code_fingerprint=fingerprint(code))
        return sum(entry.path == "/token" for entry in entries)


@contextmanager
def provider(
    *, keep_alive: float, delay: float | None = None, wrap: type[CutShort] | None = None
) -> Iterator[Provider]:
    """The development provider under uvicorn, ``delay`` seconds away (None: no proxy)."""
    idp = DevAuthorizationServer(ProviderConfig())
    idp.register_client(
        Client(
            client_id="keepalive-app",
            client_secret="keepalive-secret",
            name="corp",
            redirect_uris=(REDIRECT_URI,),
            skip_consent=True,
        )
    )
    app = create_app(idp)
    with ExitStack() as stack:
        direct = stack.enter_context(serve_asgi(wrap(app) if wrap else app, keep_alive=keep_alive))
        if delay is None:
            yield Provider(idp, direct, direct, None)
            return
        port = int(direct.rsplit(":", 1)[1])
        proxy = stack.enter_context(LatencyProxy(port, delay))
        yield Provider(idp, proxy.url, direct, proxy)


class CutShort:
    """The provider, but its token answer stops after the head and a few bytes of body, and
    uvicorn closes the connection (the app returned in the middle of its answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/token":
            await self.app(scope, receive, send)
            return

        async def first_bytes(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": message["body"][:8], "more_body": True}
            await send(message)

        await self.app(scope, receive, first_bytes)


async def code_for(client: ProviderClient, provider: Provider) -> tuple[str, str, float]:
    """An authorization code for alice; the client fetches discovery on a pooled connection for it.
    Returns the code, its PKCE verifier and when the client had read the discovery answer."""
    verifier = secrets.token_urlsafe(48)
    url = await client.authorization_url(state="state", code_verifier=verifier, redirect_uri=REDIRECT_URI)
    answered = time.monotonic()
    # The browser's part goes to the provider directly: only the client's calls are timed.
    async with httpx2.AsyncClient() as browser:
        at_provider = url.replace(provider.url, provider.direct)
        response = await browser.get(with_params(at_provider, login_hint="alice"))
    assert response.status_code == 302, response.text
    return query_of(response.headers["location"])["code"], verifier, answered


def retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == RETRY_LOG]


async def test_a_token_request_crossing_the_providers_idle_close_is_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The provider closes the pooled connection as the token request goes out on it: the request
    is sent again on a new connection, the login gets its tokens, the code is redeemed once."""
    caplog.set_level(logging.INFO, logger=RETRY_LOG)
    with provider(keep_alive=KEEP_ALIVE, delay=DELAY) as served:
        client = served.client()
        try:
            code, verifier, answered = await code_for(client, served)
            await asyncio.sleep(answered + IDLE - time.monotonic())
            tokens = await client.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
        finally:
            await client.aclose()
        assert tokens["token_type"] == "Bearer" and tokens["access_token"]
        assert served.token_requests(code) == 1
    # The retry happened: the race was made, not missed.
    assert len(retries(caplog)) == 1, retries(caplog)
    assert "POST" in retries(caplog)[0] and "/token" in retries(caplog)[0]


async def test_a_token_request_cut_off_on_a_new_connection_is_not_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The pool drops a connection idle for over a second, so the token request goes out on a new
    one; the provider redeems the code, but that connection dies before the answer arrives: the
    login fails as unreachable, and the code is not sent a second time."""
    caplog.set_level(logging.INFO, logger=RETRY_LOG)
    with provider(keep_alive=5, delay=0.05) as served:
        assert served.proxy is not None
        client = served.client()
        try:
            code, verifier, answered = await code_for(client, served)
            # The provider would keep the connection 5 s; the pool gives it up after LIMITS' 1 s.
            await asyncio.sleep(answered + LIMITS.keepalive_expiry + 0.1 - time.monotonic())
            served.proxy.hold()
            exchange = asyncio.create_task(
                client.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
            )
            await asyncio.to_thread(served.proxy.wait_held)  # the provider has answered
            served.proxy.cut()
            served.proxy.release()  # a second request would be answered
            with pytest.raises(ProviderUnreachable, match="Server disconnected"):
                await exchange
        finally:
            await client.aclose()
        assert served.token_requests(code) == 1
    assert retries(caplog) == []


async def test_a_token_answer_cut_off_after_its_head_is_not_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On a pooled connection, the token answer's head arrives and then the connection closes:
    the provider has answered, so the request is not sent again."""
    caplog.set_level(logging.INFO, logger=RETRY_LOG)
    with provider(keep_alive=5, wrap=CutShort) as served:
        client = served.client()
        try:
            code, verifier, _ = await code_for(client, served)  # discovery leaves a pooled connection
            with pytest.raises(ProviderUnreachable, match="complete message body"):
                await client.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
        finally:
            await client.aclose()
        assert served.token_requests(code) == 1
    assert retries(caplog) == []
