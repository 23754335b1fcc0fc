"""The whole wiring of the login module in front of a Streamlit script, in one call.

    # entry.py, served by `streamlit run entry.py`
    import streamlit as st
    from streamlit_authlib_login import with_login

    app = st.App("my_script.py", **with_login())

``with_login`` gives ``st.App`` everything the login needs: the routes (ours and st.login's),
the lifespan that owns the provider connections, and the secrets st.login's own check looks
for; it builds the configuration from ``.streamlit/secrets.toml`` (st.login's layout), the
session store, the embedded development provider when no real provider is configured, and
``st.user`` read from our sessions.

Why not ``app = create_app("my_script.py")``: ``streamlit run`` finds the app by *reading*
the entry file (``streamlit/web/server/app_discovery.py`` parses it, without running it, for
an assignment from ``st.App(...)``, FastAPI or Starlette); any other call is run as a plain
page script. ``create_app`` is that same app for other ASGI servers (``uvicorn entry:app``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypedDict

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from .._core.config import load_config
from .._core.config_keys import url_base_path
from .._core.errors import ConfigError
from .._core.flow import Authenticator
from .._core.playground import PURPOSE as PLAYGROUND
from .._core.playground import PlaygroundFinisher
from .._core.proxies import CONNECTION_SCOPE_KEY
from .._core.sessions import SessionManager
from .._core.stlogin import st_login_secrets, st_user
from .._core.store import KeyValueStore, open_store
from .._devmode import DEV_MODE, LocalProviders
from .._routes import auth_routes
from . import (
    attach_loop,
    console_log,
    install,
    log_access,
    log_registrations,
    origin,
    secrets_table,
    user_session,
)
from .accept_outage import install_accept_outage_log
from .internals import check_streamlit_version, in_page_script, install_user_info, keep_connection
from .nodelay import set_listener_nodelay


class AppOptions(TypedDict):
    """The keyword arguments of ``st.App`` that ``with_login`` fills in."""

    routes: list[BaseRoute]
    middleware: list[Middleware]
    lifespan: Callable[[object], AbstractAsyncContextManager[None]]
    secrets: Mapping[str, object]


def with_login(
    *,
    store: KeyValueStore | None = None,
    routes: Sequence[BaseRoute] = (),
    middleware: Sequence[Middleware] = (),
    login_page: str | None = None,
    keep_login_details: bool = False,
) -> AppOptions:
    """``st.App``'s keyword arguments for a script behind this login module.

    ``store`` holds sessions and pending logins (default: ``[auth] session_store``, Redis, or
    SQLite under ``.local/``);
    ``routes`` and ``middleware`` are the app's own, mounted beside the login's;
    ``login_page`` is the page of the app that explains refused logins (``?failure=<id>``),
    None for an app without one (an st.login app): the login module draws its own;
    ``keep_login_details`` stores each login's validation report and trace with its session
    (``session.report``, ``session.trace``; some 6 KiB more a session), for an app with pages
    that show them; without it they are None and an empty trace.
    The routes are served under Streamlit's ``server.baseUrlPath``, where it serves the pages.
    A configuration error stops the start with one message naming every problem, one line each;
    a Streamlit outside the versions this was verified on (``internals.VERIFIED_STREAMLIT``), with
    one line.
    """
    check_streamlit_version()
    _refuse_page_script()
    secrets = secrets_table()
    # Where Streamlit serves the pages (and its own st.login routes), under any ASGI server:
    # `streamlit run --server.baseUrlPath app`, or its config file or environment variable.
    base_path = url_base_path(st.get_option("server.baseUrlPath"))
    try:
        # Development mode is injected: its providers join only when the secrets want it.
        config = load_config(secrets, dev_mode=DEV_MODE, base_path=base_path)
    except ConfigError as error:
        # Every problem at once, one line each naming its key, not a traceback through the loader.
        raise SystemExit(_refusal(error)) from None
    config = replace(config, session=replace(config.session, keep_login_details=keep_login_details))
    local = None
    if config.dev_provider_enabled:
        # Development mode: the embedded provider at /idp, loaded only then: never in production.
        try:
            local = LocalProviders.for_config(
                config,
                server_address=st.get_option("server.address"),
                allow_non_loopback=os.environ.get("DEVIDP_ALLOW_NON_LOOPBACK") == "1",
            )
        except ConfigError as error:
            raise SystemExit(f"Development provider refused: {error.description}") from None
    sessions = SessionManager(store or open_store(config), config.cookie_secret, config.session)
    finishers = {PLAYGROUND: PlaygroundFinisher(sessions.notices)}  # POST /auth/playground's logins
    authenticator = Authenticator(config, sessions, local=local, finishers=finishers)
    install(authenticator, local)
    # Refused and completed logins, and logouts, one line each on this console (JSON lines on request).
    log = console_log(config.log_format)
    if not keep_connection(CONNECTION_SCOPE_KEY):  # before uvicorn wraps the app: internals.py says why
        log.warning(
            "uvicorn's ProxyHeadersMiddleware was not found: a request's peer and scheme are judged as "
            "uvicorn hands them over, X-Forwarded-* from 127.0.0.1 included"
        )
    port = int(st.get_option("server.port"))
    log_registrations(authenticator, port=port)
    log_access(authenticator)  # who each provider admits; the [auth] keys left to the app
    install_user_info(  # st.user, read from our session on every rerun; its access token kept fresh
        lambda: st_user(
            user_session(config.expose_tokens),
            origin=authenticator.public_origin(origin()),
            expose_tokens=config.expose_tokens,
        )
    )

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        attach_loop(asyncio.get_running_loop())
        if config.tcp_nodelay:  # before uvicorn accepts: no response waits for a delayed ACK
            set_listener_nodelay(port)
        install_accept_outage_log()  # an outage of accepts: two log lines, not a traceback per accept
        yield
        await authenticator.aclose()

    auth_table = secrets.get("auth", {})
    return AppOptions(
        routes=[
            *auth_routes(authenticator, login_page=login_page),
            *(local.routes if local else []),
            *routes,
        ],
        middleware=list(middleware),
        lifespan=lifespan,
        # What st.login()'s own check looks for in the page: the secrets file's [auth], completed.
        secrets={
            "auth": st_login_secrets(auth_table if isinstance(auth_table, Mapping) else {}, config, port=port)
        },
    )


def create_app(
    script: str | Path,
    *,
    store: KeyValueStore | None = None,
    routes: Sequence[BaseRoute] = (),
    middleware: Sequence[Middleware] = (),
    login_page: str | None = None,
    keep_login_details: bool = False,
) -> st.App:
    """``st.App(script, **with_login(...))``, for ASGI servers that import the app object
    (``uvicorn entry:app``). ``streamlit run`` needs the ``st.App(...)`` call written in the
    entry file itself: see this module's docstring. A sub-path is Streamlit's own option here
    too (``STREAMLIT_SERVER_BASE_URL_PATH=app``, or ``baseUrlPath`` in ``.streamlit/config.toml``):
    Streamlit serves the pages under it, so the login reads it from there rather than from a
    parameter of its own that could disagree."""
    _refuse_page_script()
    options = with_login(
        store=store,
        routes=routes,
        middleware=middleware,
        login_page=login_page,
        keep_login_details=keep_login_details,
    )
    return st.App(script, **options)


def _refusal(error: ConfigError) -> str:
    """What the console says of a configuration that cannot start: its one problem on one line,
    or all of them, counted, one a line. Under ``streamlit run`` it comes after Streamlit's "You
    can now view your Streamlit app" (printed before the entry file is imported), so it says
    that the app did not start."""
    if len(error.problems) > 1:
        lines = "\n".join(f"  - {p.line}" for p in error.problems)
        return (
            f"Login configuration errors ({len(error.problems)}); the app did not start. Fix each:\n{lines}"
        )
    return f"Login configuration error: {error.description}"


def _refuse_page_script() -> None:
    """Called inside a page script, the entry file was not recognised as an app: say how."""
    if in_page_script():
        raise ConfigError(
            "The login wiring ran inside a page script: `streamlit run` serves an entry file as an "
            "app only when the file itself assigns `app = st.App(...)`. Write "
            '`app = st.App("my_script.py", **with_login())` in the entry file (see the README).'
        )
