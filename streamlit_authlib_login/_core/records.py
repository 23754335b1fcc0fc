"""Frozen dataclasses rebuilt from the JSON this module stored itself.

Sessions, pending logins and login records come back from the store decrypted and
authenticated (AES-GCM), so their field types are the ones we wrote: this is the one place
that tells the type checker so. Keys this version does not know are dropped, so a record
written by a newer release still loads instead of failing every rerun.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def rebuild(cls: type[T], data: Mapping[str, object]) -> T:
    """``cls(**data)`` for a dataclass, keeping only the fields ``cls`` has.

    Runs some twenty times per session lookup, on every rerun. A record this release wrote
    has every field: it is filled in directly, without ``__init__`` (a frozen dataclass's
    sets each field through ``object.__setattr__``, ten times slower); ours have no
    ``__post_init__`` to skip."""
    known = _field_names(cls)
    if known == data.keys():
        record = object.__new__(cls)
        record.__dict__.update(data)
        return record
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    return cls(**values)


def rebuild_all(cls: type[T], items: object) -> list[T]:
    """Each record of a stored list; anything else is no records."""
    if not isinstance(items, list):
        return []
    return [rebuild(cls, item) for item in items if isinstance(item, Mapping)]
