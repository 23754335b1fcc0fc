"""Social login for Streamlit, built on Authlib, as a backend-for-frontend.

The browser holds an opaque session cookie; tokens stay on the server.
``app = st.App("my_script.py", **with_login())`` in an entry file is the whole wiring
(``streamlit run`` that file; ``create_app`` for other ASGI servers). Pages use the helpers
named here, or Streamlit's own ``st.login``, ``st.user`` and ``st.logout``, which this package
answers.

Everything not in ``__all__`` is internal and may change in any release: the protocol core
(``_core/``: configuration, flow, callback, refresh, logout, validation, sessions), the
Starlette routes (``_routes/``), the Streamlit glue (``_streamlit/``) and development mode
(``_devmode.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._core.errors import LoginError
from ._core.sessions import Session

__all__ = [
    "LoginError",
    "Session",
    "create_app",
    "current_session",
    "login_buttons",
    "logout_button",
    "require_login",
    "with_login",
]

if TYPE_CHECKING:
    from ._streamlit import current_session, login_buttons, logout_button, require_login
    from ._streamlit.app import create_app, with_login

# Imported on first use: the protocol core (and the notebooks, and the tests) never import Streamlit.
_STREAMLIT = {
    "create_app": "app",
    "with_login": "app",
    "current_session": "",
    "login_buttons": "",
    "logout_button": "",
    "require_login": "",
}


def __getattr__(name: str) -> object:
    if name in _STREAMLIT:
        from importlib import import_module

        module = import_module("._streamlit" + ("." + _STREAMLIT[name] if _STREAMLIT[name] else ""), __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
