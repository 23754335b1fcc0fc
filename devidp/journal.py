"""The provider's log of every request it served, with spec warnings.

Entries carry the ``state`` and a fingerprint of any authorization ``code``
they saw, so the app can join them with its own login trace.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

SECRET_FIELDS = frozenset({"client_secret", "password", "csrf"})
TOKEN_FIELDS = frozenset(
    {
        "code",
        "code_verifier",
        "refresh_token",
        "access_token",
        "id_token",
        "id_token_hint",
        "token",
        "device_code",
        "client_assertion",
    }
)


def fingerprint(value: str) -> str:
    """A short, one-way name for a code or token: joinable, not replayable."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def mask(value: str) -> str:
    """Show a token as prefix…suffix, enough to recognise it, not to use it."""
    return value if len(value) <= 12 else f"{value[:6]}…{value[-4:]}"


# What one entry keeps of a request, whatever it sent: the journal holds 1,000 entries, so an
# entry must cost a few KB, not the megabytes a client may send. An authorization request has
# about a dozen parameters, a masked token is 11 characters, a redirect URI well under 256.
MAX_PARAMS = 32
MAX_KEY = 64
MAX_VALUE = 256


def clipped(value: str, limit: int = MAX_VALUE) -> str:
    """``value`` cut to ``limit`` characters, saying how much was left out."""
    return value if len(value) <= limit else f"{value[:limit]}… ({len(value) - limit} more characters)"


def bounded(params: Mapping[str, str]) -> dict[str, str]:
    """At most MAX_PARAMS parameters, each name and value clipped, and a note of what was dropped."""
    kept = {
        clipped(key, MAX_KEY): clipped(value) for key, value in itertools.islice(params.items(), MAX_PARAMS)
    }
    if len(params) > MAX_PARAMS:
        kept["…"] = f"{len(params) - MAX_PARAMS} more parameters, not kept"
    return kept


def masked(params: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for key, value in params.items():
        if key in SECRET_FIELDS:
            out[key] = "••••••"
        elif key in TOKEN_FIELDS:
            out[key] = mask(value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, kw_only=True)
class Entry:
    id: int
    at: float
    method: str
    path: str
    status: int
    duration_ms: float
    params: dict[str, str]
    client_id: str | None = None
    state: str | None = None
    code_fingerprint: str | None = None
    location: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Journal:
    """A bounded, thread-safe log of requests."""

    def __init__(self, size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)

    def record(
        self,
        *,
        params: Mapping[str, str],
        path: str,
        client_id: str | None = None,
        state: str | None = None,
        location: str | None = None,
        **fields: object,
    ) -> Entry:
        """Keep one exchange, bounded whatever the request carried (``bounded``, ``clipped``)."""
        kept = {
            "params": bounded(params),
            "path": clipped(path),
            "client_id": client_id and clipped(client_id),
            "state": state and clipped(state),
            "location": location and clipped(location),
        }
        with self._lock:
            entry = Entry(id=next(self._ids), **kept, **fields)  # type: ignore[arg-type]
            self._entries.append(entry)
        return entry

    def entries(
        self, *, state: str | None = None, code_fingerprint: str | None = None, since: int = 0
    ) -> list[Entry]:
        with self._lock:
            found = [e for e in self._entries if e.id > since]
        if state is not None:
            found = [e for e in found if e.state == state]
        if code_fingerprint is not None:
            found = [e for e in found if e.code_fingerprint == code_fingerprint]
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def authorization_warnings(params: Mapping[str, str], client_is_public: bool) -> list[str]:
    """Spec recommendations an authorization request breaks."""
    warnings = []
    scopes = params.get("scope", "").split()
    if not params.get("state"):
        warnings.append("No `state`: the callback cannot be tied to this browser (RFC 9700 §4.7.1).")
    if "openid" in scopes and not params.get("nonce"):
        warnings.append("No `nonce`: an ID token could be replayed into this login (OIDC Core §3.1.2.1).")
    method = params.get("code_challenge_method")
    if params.get("code_challenge") and method != "S256":
        warnings.append("PKCE `plain` (or no method): use S256 (RFC 9700 §2.1.1); refused here.")
    if not params.get("code_challenge"):
        severity = "refused here" if client_is_public else "recommended for every client"
        warnings.append(f"No PKCE `code_challenge`: {severity} (RFC 9700 §2.1.1).")
    return warnings


def logout_warnings(params: Mapping[str, str]) -> list[str]:
    if not params.get("id_token_hint"):
        return [
            "Logout without `id_token_hint`: the provider cannot tell who asked, so it "
            "must ask the user to confirm (OIDC RP-Initiated Logout §2, §6)."
        ]
    return []
