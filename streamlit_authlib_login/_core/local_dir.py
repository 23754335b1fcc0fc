"""The local directory (``.local/`` beside the app): the generated cookie secret and the
SQLite session store.

It holds a secret, so it is private to its owner (0700) and keeps itself out of git: a
``.gitignore`` of ``*`` inside it, so an app that never heard of ``.local/`` does not commit
its cookie secret with ``git add .``.
"""

from __future__ import annotations

import os
from pathlib import Path

IGNORE_EVERYTHING = (
    "# Written by streamlit-authlib-login: a cookie secret and sessions; never commit them.\n*\n"
)


def make_local_dir(path: Path) -> None:
    """Create ``path`` (0700) if missing, with its ``.gitignore`` if that is missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: two first starts racing write it once, and a .gitignore someone edited stays.
        fd = os.open(path / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as file:
        file.write(IGNORE_EVERYTHING)
