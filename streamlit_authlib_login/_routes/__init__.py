"""The login module's HTTP contract, as Starlette routes over ``Authenticator``.

    GET  /auth/login/{provider}?next=/page   302 to the provider
    GET  /auth/callback/{provider}           session cookie + 302 to next, or 303 to the login page
    POST /auth/callback/{provider}           the same, for response_mode=form_post (Apple)
    GET  /auth/me                            200 the session (never the raw tokens), 401 without one
    POST /auth/refresh                       refresh the tokens (single flight)
    POST /auth/logout                        end the session, revoke tokens, RP-initiated logout
    POST /auth/playground                    303 to the provider with a hand-built request (logged in)
    GET  /auth/metrics                       Prometheus, with [auth] metrics_token as a bearer token
    GET  /auth/health                        200 ok / 503 unavailable: whether the session store answers

and, in place of Streamlit's own, what ``st.login()`` / ``st.logout()`` navigate to:

    GET  /auth/login?provider=<token>        st.login(name): 302 to the provider (_core/stlogin.py)
    GET  /oauth2callback                     st.login's one callback URI: the provider is the state's
    GET  /auth/logout                        st.logout(): as POST /auth/logout, from the app's pages only
    GET  /auth/failed?failure=<id>           why a login was refused, for an app with no login page
                                             (or ?refused=<check>&request_id=<id>: _core.refusals)

Under a sub-path (Streamlit's ``server.baseUrlPath``, ``AuthConfig.base_path``) every route is
there too (``/app/auth/me``), as Streamlit serves its own st.login routes, and every path the
routes build starts with it.

The routes are ``login.py``, ``session.py`` and ``monitoring.py`` (the operator's two), over
``common.py`` (cookies, refusals, limits) and ``fallback_pages.py`` (what an app without a login
page shows). The protocol core never
imports Starlette; outside this package only ``_streamlit.app`` and ``_devmode.py`` do, for
its route and middleware types. User routes are matched before Streamlit's, so these answer
st.login's paths instead of Streamlit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._core.flow import Authenticator
from .common import (
    BINDING_COOKIE,
    CALLBACK_BODY_LIMIT,
    FAILURE_PAGE,
    FAILURE_TEXT_LIMIT,
    LOGOUT_COOKIE,
    NO_FRAMING,
    PLAYGROUND_BODY_LIMIT,
    POST_BODY_LIMIT,
    SESSION_COOKIE,
    _guarded,
    cookie_name,
    cookie_path,
    csrf_token,
    scheme_cookie,
    session_id_from,
)
from .login import LoginRoutes
from .monitoring import MonitoringRoutes
from .session import SessionRoutes

__all__ = [
    "BINDING_COOKIE",
    "CALLBACK_BODY_LIMIT",
    "FAILURE_PAGE",
    "FAILURE_TEXT_LIMIT",
    "LOGOUT_COOKIE",
    "NO_FRAMING",
    "PLAYGROUND_BODY_LIMIT",
    "POST_BODY_LIMIT",
    "SESSION_COOKIE",
    "auth_routes",
    "cookie_name",
    "cookie_path",
    "csrf_token",
    "scheme_cookie",
    "session_id_from",
]


class _Routes(LoginRoutes, SessionRoutes, MonitoringRoutes):
    """Every route, over one ``Authenticator``."""

    pass


def auth_routes(auth: Authenticator, *, login_page: str | None = None) -> list[Route]:
    """The routes to pass to ``st.App(routes=...)``. ``login_page`` is the app's page that
    explains refused logins (``?failure=<id>``) and finished logouts; None: the app has none,
    and refusals are explained at ``/auth/failed``, logouts land on the home page."""
    r = _Routes(auth, login_page)

    def guard(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        return _guarded(endpoint, auth, login_page)

    at = auth.config.base_path  # Streamlit's server.baseUrlPath: where it serves the app's pages
    return [
        Route(f"{at}/auth/login/{{provider}}", guard(r.login), methods=["GET"]),
        Route(f"{at}/auth/callback/{{provider}}", guard(r.callback), methods=["GET", "POST"]),
        Route(f"{at}/auth/me", guard(r.me), methods=["GET"]),
        Route(f"{at}/auth/refresh", guard(r.refresh), methods=["POST"]),
        Route(f"{at}/auth/logout", guard(r.logout_either), methods=["GET", "POST"]),
        Route(f"{at}/auth/playground", guard(r.playground), methods=["POST"]),
        Route(f"{at}/auth/login", guard(r.st_login), methods=["GET"]),
        Route(f"{at}/oauth2callback", guard(r.st_callback), methods=["GET", "POST"]),
        Route(f"{at}{FAILURE_PAGE}", guard(r.failed), methods=["GET"]),
        Route(f"{at}/auth/metrics", guard(r.metrics), methods=["GET"]),
        Route(f"{at}/auth/health", guard(r.health), methods=["GET"]),
    ]
