"""Fixtures for the devidp suite: providers on real loopback sockets, and in-process ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack

import httpx2
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from relying_party import relying_party

import devidp
from devidp import DevAuthorizationServer, ProviderConfig, RunningProvider

StartProvider = Callable[..., RunningProvider]
MakeRelyingParty = Callable[..., OAuth2Client]


@pytest.fixture(scope="session")
def idp() -> Iterator[RunningProvider]:
    """One provider shared by the tests that leave no mark on it: no faults, no rotation, real clock."""
    with devidp.serve() as running:
        yield running


@pytest.fixture
def start_idp() -> Iterator[StartProvider]:
    """A provider of the test's own, for tests that flip faults, rotate keys or move the clock."""
    with ExitStack() as stack:

        def start(config: ProviderConfig | None = None) -> RunningProvider:
            return stack.enter_context(devidp.serve(config))

        yield start


@pytest.fixture
def rp() -> Iterator[MakeRelyingParty]:
    """Authlib's httpx OAuth2Client as the relying party, closed after the test."""
    with ExitStack() as stack:

        def make(client_id: str, **kwargs: str) -> OAuth2Client:
            return stack.enter_context(relying_party(client_id, **kwargs))

        yield make


@pytest.fixture
def browser() -> Iterator[httpx2.Client]:
    """A user agent with a cookie jar that does not follow redirects (the app's callback is not running)."""
    with httpx2.Client() as client:
        yield client


@pytest.fixture(scope="session")
def in_process_server() -> DevAuthorizationServer:
    """One framework-free server for the in-process tests (each builds its own ASGI app over it)."""
    return DevAuthorizationServer(ProviderConfig())


@pytest.fixture
async def asgi(in_process_server: DevAuthorizationServer) -> AsyncIterator[httpx2.AsyncClient]:
    """The provider app in-process through httpx2's ASGI transport, seen from 127.0.0.1."""
    transport = httpx2.ASGITransport(app=devidp.create_app(in_process_server))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:9000") as client:
        yield client
