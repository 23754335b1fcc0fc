"""The provider's signing keys, with rotation on demand.

A rotated-out key stays in the JWKS for a grace period, so tokens it signed
still verify while relying parties pick up the new key (OIDC Core §10.1.1).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from joserfc.jwk import RSAKey

from .config import Clock

ALGORITHM = "RS256"


@dataclass(frozen=True)
class _Entry:
    key: RSAKey
    retired_at: int | None = None


def new_rsa_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    # RFC 7638 thumbprint as kid: stable, and unique without bookkeeping.
    key.ensure_kid()
    return key


class KeyRing:
    """The active signing key plus the retired keys still within their grace period."""

    def __init__(self, clock: Clock, grace_period: int) -> None:
        self._clock = clock
        self._grace = grace_period
        self._lock = threading.Lock()
        self._entries: list[_Entry] = [_Entry(new_rsa_key())]

    @property
    def active(self) -> RSAKey:
        return self._entries[-1].key

    @property
    def active_kid(self) -> str:
        return str(self.active.kid)

    def rotate(self) -> str:
        """Sign with a new key from now on; keep the old one published for the grace period."""
        fresh = new_rsa_key()
        now = self._clock()
        with self._lock:
            retired = [_Entry(e.key, e.retired_at or now) for e in self._entries]
            self._entries = [*retired, _Entry(fresh)]
        return str(fresh.kid)

    def _published(self) -> list[RSAKey]:
        now = self._clock()
        with self._lock:
            self._entries = [
                e for e in self._entries if e.retired_at is None or now - e.retired_at < self._grace
            ]
            return [e.key for e in self._entries]

    def jwks(self) -> dict[str, object]:
        """The public JWK Set (RFC 7517 §5), newest key first."""
        keys = []
        for key in reversed(self._published()):
            public = key.as_dict(private=False)
            public.update(use="sig", alg=ALGORITHM, kid=key.kid)
            keys.append(public)
        return {"keys": keys}
