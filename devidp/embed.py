"""The provider embedded in another app's server: its routes, an in-process
transport to reach it, and registration of that app's own client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from starlette.routing import BaseRoute

from .config import Client, ProviderConfig
from .routes import create_app, mount
from .server import DevAuthorizationServer


@dataclass(frozen=True)
class Embedded:
    """A provider mounted at ``path`` of a host app."""

    server: DevAuthorizationServer
    path: str
    routes: list[BaseRoute]
    transport: httpx2.ASGITransport

    def client_registrar(self, client_id: str, client_secret: str, name: str) -> Callable[[str, str], None]:
        """A function the host app calls with its callback and post-logout URLs for each
        origin it is served on; each is added to the client's exact-match lists."""

        def register(redirect_uri: str, post_logout_redirect_uri: str) -> None:
            known = self.server.query_client(client_id)
            self.server.register_client(
                Client(
                    client_id=client_id,
                    client_secret=client_secret,
                    name=name,
                    redirect_uris=tuple({*(known.redirect_uris if known else ()), redirect_uri}),
                    post_logout_redirect_uris=tuple(
                        {*(known.post_logout_redirect_uris if known else ()), post_logout_redirect_uri}
                    ),
                )
            )

        return register


def embed(
    path: str = "/idp", config: ProviderConfig | None = None, *, server: DevAuthorizationServer | None = None
) -> Embedded:
    """A provider to mount at ``path`` (a new one, or ``server``). Its ``transport`` reaches it
    in-process (same routes, no socket) for the host app's own back-channel calls."""
    server = server or DevAuthorizationServer(config or ProviderConfig())
    transport = httpx2.ASGITransport(app=create_app(server), root_path=path)
    return Embedded(server, path, mount(server, path), transport)
