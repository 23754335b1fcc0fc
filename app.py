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

from auth import Authenticator, SessionManager, auth_routes, load_config, open_store
from auth.errors import ConfigError
from auth.nodelay import set_listener_nodelay
from auth.streamlit import attach_loop, console_log, install, log_registrations, secrets_table

try:
    config = load_config(secrets_table())
except ConfigError as error:
    # One line that names the key, not a traceback through Streamlit's loader.
    raise SystemExit(f"Login configuration error: {error.description}") from None
local = None
if config.dev_provider_enabled:
    # Development mode: the embedded provider at /idp. Imported only then: never in production.
    from auth.devmode import LocalProviders

    try:
        local = LocalProviders.for_config(
            config,
            server_address=st.get_option("server.address"),
            allow_non_loopback=os.environ.get("DEVIDP_ALLOW_NON_LOOPBACK") == "1",
        )
    except ConfigError as error:
        raise SystemExit(f"Development provider refused: {error.description}") from None
authenticator = Authenticator(
    config,
    SessionManager(open_store(config), config.cookie_secret, config.session),
    local=local,
)
install(authenticator, local)
console_log()  # refused and completed logins, and logouts, one line each on this console
log_registrations(authenticator, port=int(st.get_option("server.port")))


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    attach_loop(asyncio.get_running_loop())
    if config.tcp_nodelay:  # before uvicorn accepts: no response waits for a delayed ACK
        set_listener_nodelay(int(st.get_option("server.port")))
    yield
    await authenticator.aclose()


routes = auth_routes(authenticator) + (local.routes if local else [])
app = st.App("streamlit_app.py", routes=routes, lifespan=lifespan)
