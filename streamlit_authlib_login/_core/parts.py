"""What the parts of ``Authenticator`` mixed in from other modules (``callback.py``,
``refresh.py``, ``logout.py``) use of it, declared once for the type checker."""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import AuthConfig, ProviderSettings
    from .provider import ProviderClient
    from .registration import Registration
    from .sessions import SessionManager


class AuthenticatorParts:
    config: AuthConfig
    sessions: SessionManager
    _refresh_locks: weakref.WeakValueDictionary[str, asyncio.Lock]

    if TYPE_CHECKING:  # provided by Authenticator (flow.py)

        def settings(self, name: str) -> ProviderSettings: ...
        def client(self, settings: ProviderSettings, app_base: str) -> ProviderClient: ...
        def post_logout_uri(self, name: str, origin: str) -> str: ...
        def registration(self, name: str, origin: str) -> Registration: ...
