"""Social login for Streamlit, built on Authlib, as a backend-for-frontend.

The browser holds an opaque session cookie; tokens stay on the server.
``app.py`` builds an ``Authenticator`` and mounts ``auth_routes``; pages use
the helpers in ``auth.streamlit``.

Where things are: the protocol core is ``flow.py`` (login: one method per step of the
callback), ``logout.py``, ``provider.py`` (one provider's calls and caches) and
``validation.py``; ``routes.py`` is the Starlette glue, ``streamlit.py`` the page helpers;
``devmode.py`` is everything the module knows about the development provider.
"""

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
    "csrf_token",
    "load_config",
    "open_store",
    "validate_id_token",
]
