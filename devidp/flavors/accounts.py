"""Stable account ids for the personas at each provider: derived from the persona's
``sub``, so a persona has the same Google sub, GitHub id or Discord snowflake on every run."""

from __future__ import annotations

import hashlib
import uuid

from ..personas import Persona


def _digest(namespace: str, persona: Persona) -> bytes:
    return hashlib.sha256(f"{namespace}:{persona.sub}".encode()).digest()


def stable_digits(namespace: str, persona: Persona, digits: int) -> str:
    """A ``digits``-digit number for a persona, the same on every run."""
    low = 10 ** (digits - 1)
    return str(low + int.from_bytes(_digest(namespace, persona), "big") % (9 * low))


def stable_hex(namespace: str, persona: Persona, length: int = 32) -> str:
    return _digest(namespace, persona).hex()[:length]


def stable_uuid(namespace: str, persona: Persona) -> str:
    return str(uuid.UUID(bytes=_digest(namespace, persona)[:16], version=4))
