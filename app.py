"""The ASGI entry point: ``streamlit run app.py`` serves this ``st.App``.

It wires the login module (``auth``) and, when no real provider is
configured, the embedded development provider (``devidp``) at ``/idp``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st

import devidp
from auth import Authenticator, SessionManager, SQLiteStore, auth_routes, load_config
from auth.errors import ConfigError
from auth.streamlit import attach_loop, install, secrets_table
from devidp.flavors import register_apple_client
from devidp.runner import NonLoopbackRefused, check_bind_host

try:
    config = load_config(secrets_table())
except ConfigError as error:
    # One line that names the key, not a traceback through Streamlit's loader.
    raise SystemExit(f"Login configuration error: {error.description}") from None
dev = next((p for p in config.providers if p.is_dev), None)
# The dev provider logs anyone in without a password, and its loopback guard trusts what a
# same-host proxy makes look local: it runs only on a loopback-bound server, unless told.
idp_config = devidp.ProviderConfig(allow_non_loopback=os.environ.get("DEVIDP_ALLOW_NON_LOOPBACK") == "1")
address = st.get_option("server.address")  # unset or empty: Streamlit listens on every interface
if dev:
    try:
        check_bind_host(address or "0.0.0.0", idp_config)
    except NonLoopbackRefused:
        raise SystemExit(
            f"Development provider refused: the server listens on {address or 'every interface'} "
            "(server.address), beyond loopback, and the development provider logs anyone in without "
            "a password. Serve on localhost, configure a real provider in .streamlit/secrets.toml, "
            "or set DEVIDP_ALLOW_NON_LOOPBACK=1 if you really mean it."
        ) from None
embedded = devidp.embed("/idp", idp_config) if dev else None

authenticator = Authenticator(
    config,
    SessionManager(SQLiteStore(config.store_path), config.cookie_secret, config.session),
    register_dev_client=(
        embedded.client_registrar(dev.client_id, str(dev.client_secret), "This Streamlit app")
        if embedded and dev
        else None
    ),
    # In-process: same routes, no socket, and none of the ~40 ms Nagle stall that
    # Streamlit's listening socket adds to kept-alive loopback calls.
    dev_transport=embedded.transport if embedded else None,
)
install(authenticator)
if embedded is not None and (apple := next((p for p in config.providers if p.is_dev and p.apple_key), None)):
    # The emulated Apple checks the ES256 client secrets against the public half of this key.
    register_apple_client(
        embedded.server,
        client_id=apple.client_id,
        team_id=apple.apple_key.team_id,
        key_id=apple.apple_key.key_id,
        public_key=apple.apple_key.private_key,
    )


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    attach_loop(asyncio.get_running_loop())
    yield
    await authenticator.aclose()


routes = auth_routes(authenticator) + (embedded.routes if embedded else [])
app = st.App("streamlit_app.py", routes=routes, lifespan=lifespan)
