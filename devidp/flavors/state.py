"""What the emulated providers remember, per dev provider: which flavour issued each
code and token and for what request, one-time events (Apple's first authorization,
Google's first offline grant), and the registered Apple client keys."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from ..personas import BY_SUB, Persona

if TYPE_CHECKING:
    from ..server import DevAuthorizationServer
    from .apple import AppleKey


@dataclass(frozen=True, kw_only=True)
class Grant:
    """One authorization through a flavour, followed from its code to its tokens."""

    flavor: str
    client_id: str
    user_sub: str
    scope: str  # as the app asked for it, in the provider's own words
    request: Mapping[str, str]  # the authorization request's parameters

    @property
    def user(self) -> Persona:
        return BY_SUB[self.user_sub]


class FlavorState:
    """Thread-safe memory of the flavours of one dev provider."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}  # by code, access token and refresh token
        self._marks: set[tuple[str, ...]] = set()
        self.apple_keys: dict[str, AppleKey] = {}  # by client_id

    def remember(self, key: str, grant: Grant) -> None:
        with self._lock:
            self._grants[key] = grant

    def recall(self, key: str) -> Grant | None:
        with self._lock:
            return self._grants.get(key)

    def forget(self, key: str) -> None:
        with self._lock:
            self._grants.pop(key, None)

    def first_time(self, *mark: str) -> bool:
        """True the first time ``mark`` is seen; it is seen from then on."""
        with self._lock:
            new = mark not in self._marks
            self._marks.add(mark)
            return new

    def seen(self, *mark: str) -> bool:
        with self._lock:
            return mark in self._marks

    def unmark(self, *mark: str) -> None:
        with self._lock:
            self._marks.discard(mark)


_states: WeakKeyDictionary[DevAuthorizationServer, FlavorState] = WeakKeyDictionary()
_states_lock = threading.Lock()


def state_of(server: DevAuthorizationServer) -> FlavorState:
    """The flavours' memory for ``server``, created on first use."""
    with _states_lock:
        if server not in _states:
            _states[server] = FlavorState()
        return _states[server]
