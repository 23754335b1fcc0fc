"""The local directory (``.local/`` beside the app): the generated cookie secret and the
SQLite session store.

It holds a secret, so it is private to its owner (0700) and keeps itself out of git: a
``.gitignore`` of ``*`` inside it, so an app that never heard of ``.local/`` does not commit
its cookie secret with ``git add .``.
"""

from __future__ import annotations

import os
import secrets
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


def local_cookie_secret(local_dir: Path) -> str:
    """The cookie secret kept in ``local_dir`` (made there on the first start)."""
    path = local_dir / "cookie_secret"
    if path.exists():
        return path.read_text().strip()
    make_local_dir(local_dir)
    value = secrets.token_urlsafe(48)
    # Owner-only from its first byte (O_EXCL with mode 0600, whatever the umask), and published
    # whole by a link: nobody ever reads it world-readable or half-written, and when two first
    # starts race, the link fails for the second and both use the first one's secret.
    draft = local_dir / f".cookie_secret.{secrets.token_hex(8)}"
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(value)
    try:
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    return value
