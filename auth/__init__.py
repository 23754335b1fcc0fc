"""Social login for Streamlit, built on Authlib, as a backend-for-frontend.

The browser holds an opaque session cookie; tokens stay on the server.
``app = st.App("my_script.py", **with_login())`` in an entry file is the whole wiring
(``streamlit run`` that file; ``create_app`` for other ASGI servers). Pages use the helpers
in ``auth.streamlit``, or Streamlit's own ``st.login``, ``st.user`` and ``st.logout``, which
this module answers (``stlogin.py``).

Where things are: the protocol core is ``flow.py`` (start and finish a login), ``callback.py``
(the callback's checks, one method per step), ``refresh.py``, ``logout.py``, ``provider.py``
(one provider's calls and caches) and ``validation.py``; ``config.py`` loads the secrets,
``config_keys.py`` checks them key by key; ``routes/`` is the Starlette glue, ``streamlit/``
the page helpers and ``with_login``; ``devmode.py`` is everything the module knows about the
development provider.
"""

from typing import TYPE_CHECKING

from .config import AuthConfig, ProviderSettings, load_config
from .errors import LoginError
from .flow import Authenticator
from .routes import auth_routes, csrf_token
from .sessions import Session, SessionManager
from .store import KeyValueStore, MemoryStore, SQLiteStore, open_store
from .validation import ValidationReport, check_id_token, validate_id_token

__all__ = [
    "AuthConfig",
    "Authenticator",
    "KeyValueStore",
    "LoginError",
    "MemoryStore",
    "ProviderSettings",
    "SQLiteStore",
    "Session",
    "SessionManager",
    "ValidationReport",
    "auth_routes",
    "check_id_token",
    "create_app",
    "csrf_token",
    "load_config",
    "open_store",
    "validate_id_token",
    "with_login",
]


if TYPE_CHECKING:
    from .streamlit.app import create_app, with_login


def __getattr__(name: str) -> object:
    # Lazily: the protocol core (and the notebooks, and the tests) never import Streamlit.
    if name in ("create_app", "with_login"):
        from .streamlit import app

        return getattr(app, name)
    raise AttributeError(f"module 'auth' has no attribute {name!r}")
