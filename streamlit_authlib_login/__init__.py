"""Social login for Streamlit, built on Authlib, as a backend-for-frontend.

The browser holds an opaque session cookie; tokens stay on the server.
``app = st.App("my_script.py", **with_login())`` in an entry file is the whole wiring
(``streamlit run`` that file; ``create_app`` for other ASGI servers). Pages use the helpers
named here, or Streamlit's own ``st.login``, ``st.user`` and ``st.logout``, which this package
answers: ``current_session``/``require_login`` (a ``Session``), ``require_role`` and
``role_page`` (pages for some roles only: ``Session.roles``), ``login_buttons``,
``logout_button``, ``refresh_button``/``refresh_tokens``, and ``login_failure`` for an app that
explains refused logins on its own page (``with_login(login_page=...)``). An app calling an API
as the person uses ``Session.access_token()``, valid a minute more however long ago the login
was (or ``st.user.tokens``, with ``[auth] expose_tokens``). ``KeyValueStore`` is what
``with_login(store=...)`` takes; helpers raise ``LoginError``.

Everything not in ``__all__`` is internal and may change in any release: the protocol core
(``_core/``: configuration, flow, callback, refresh, logout, validation, sessions), the
Starlette routes (``_routes/``), the Streamlit glue (``_streamlit/``) and development mode
(``_devmode.py``). ``teaching.py`` is the one extension module: what this repository's
dashboard shows of a login beyond a session (the trace, the ID token report, the Playground,
the development provider's log and faults).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._core.errors import LoginError
from ._core.sessions import Session
from ._core.store import KeyValueStore

__all__ = [
    "KeyValueStore",
    "LoginError",
    "Session",
    "create_app",
    "current_session",
    "login_buttons",
    "login_failure",
    "logout_button",
    "refresh_button",
    "refresh_tokens",
    "require_login",
    "require_role",
    "role_page",
    "with_login",
]

if TYPE_CHECKING:
    from ._streamlit import (
        current_session,
        login_buttons,
        login_failure,
        logout_button,
        refresh_button,
        refresh_tokens,
        require_login,
    )
    from ._streamlit.app import create_app, with_login
    from ._streamlit.roles import require_role, role_page

# Imported on first use: the protocol core (and the notebooks, and the tests) never import Streamlit.
_STREAMLIT = {
    "create_app": "._streamlit.app",
    "with_login": "._streamlit.app",
    "current_session": "._streamlit",
    "login_buttons": "._streamlit",
    "login_failure": "._streamlit",
    "logout_button": "._streamlit",
    "refresh_button": "._streamlit",
    "refresh_tokens": "._streamlit",
    "require_login": "._streamlit",
    "require_role": "._streamlit.roles",
    "role_page": "._streamlit.roles",
}


def __getattr__(name: str) -> object:
    if name in _STREAMLIT:
        from importlib import import_module

        return getattr(import_module(_STREAMLIT[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
