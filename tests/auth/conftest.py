"""Fixtures for the auth suite: the real embedded provider, and our app composed around it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack

import pytest
from login_harness import BuildApp, HungProvider, LoginApp, build_login_app, serve_asgi

from devidp import DevAuthorizationServer, ProviderConfig
from tests.redis_fixtures import own_redis, redis_store, shared_redis

__all__ = ["own_redis", "redis_store", "shared_redis"]  # fixtures of tests.redis_fixtures, for this suite


@pytest.fixture(scope="session")
def shared_idp() -> DevAuthorizationServer:
    """One provider for the tests that leave no mark on it: no faults, no key rotation."""
    return DevAuthorizationServer(ProviderConfig())


@pytest.fixture
def idp() -> Iterator[DevAuthorizationServer]:
    """A provider of the test's own, for tests that flip faults or rotate keys."""
    server = DevAuthorizationServer(ProviderConfig())
    yield server
    server.faults.set(set())


@pytest.fixture
async def build_app(shared_idp: DevAuthorizationServer) -> AsyncIterator[BuildApp]:
    """Compose our routes and a provider (the shared one unless given) like ``app.py``; closed after."""
    built: list[LoginApp] = []

    def build(idp: DevAuthorizationServer | None = None, **kwargs: object) -> LoginApp:
        app = build_login_app(idp or shared_idp, **kwargs)  # type: ignore[arg-type]
        built.append(app)
        return app

    yield build
    for app in built:
        await app.aclose()


@pytest.fixture
async def login_app(build_app: BuildApp) -> LoginApp:
    """The default composition: dev provider only, memory store, http://localhost."""
    return build_app()


@pytest.fixture
def hung_provider() -> Iterator[Callable[..., HungProvider]]:
    """Start providers on loopback that hang on the given paths; released and stopped after the test."""
    with ExitStack() as stack:

        def start(*hang: str) -> HungProvider:
            provider = HungProvider(frozenset(hang))
            provider.url = stack.enter_context(serve_asgi(provider))
            stack.callback(provider.release)  # runs first: the server then stops at once
            return provider

        yield start
