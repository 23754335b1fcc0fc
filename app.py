"""The ASGI entry point: ``streamlit run app.py`` serves this ``st.App``.

It wires the login module (``auth``) and, when no real provider is
configured, the embedded development provider (``devidp``) at ``/idp``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st

from auth import Authenticator, SessionManager, SQLiteStore, auth_routes, load_config
from auth.streamlit import attach_loop, install, secrets_table
from devidp import Client, DevAuthorizationServer, ProviderConfig, mount

config = load_config(secrets_table())
routes = []
register = None
dev = next((p for p in config.providers if p.is_dev), None)
if dev is not None:
    idp = DevAuthorizationServer(ProviderConfig())
    routes += mount(idp, "/idp")

    def register(redirect_uri: str, post_logout_redirect_uri: str) -> None:
        """Register this app's callback for the origin it is served on (exact matching)."""
        known = idp.query_client(dev.client_id)
        idp.register_client(
            Client(
                client_id=dev.client_id,
                client_secret=dev.client_secret,
                name="This Streamlit app",
                redirect_uris=tuple({*(known.redirect_uris if known else ()), redirect_uri}),
                post_logout_redirect_uris=tuple(
                    {*(known.post_logout_redirect_uris if known else ()), post_logout_redirect_uri}
                ),
            )
        )


authenticator = Authenticator(
    config,
    SessionManager(SQLiteStore(config.store_path), config.cookie_secret, config.session),
    register_dev_client=register,
)
install(authenticator)


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    attach_loop(asyncio.get_running_loop())
    yield
    await authenticator.aclose()


app = st.App("streamlit_app.py", routes=auth_routes(authenticator) + routes, lifespan=lifespan)
