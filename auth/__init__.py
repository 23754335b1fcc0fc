"""Social login for Streamlit, built on Authlib, as a backend-for-frontend.

The browser holds an opaque session cookie; tokens stay on the server.
``app.py`` builds an ``Authenticator`` and mounts ``auth_routes``; pages use
the helpers in ``auth.streamlit``.
"""

from .config import AuthConfig, ProviderSettings, load_config
from .errors import LoginError
from .flow import Authenticator
from .routes import auth_routes, csrf_token
from .sessions import Session, SessionManager
from .store import KeyValueStore, MemoryStore, SQLiteStore
from .validation import ValidationReport, validate_id_token

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
    "csrf_token",
    "load_config",
    "validate_id_token",
]
