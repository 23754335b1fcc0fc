"""``streamlit run app.py`` in a scratch checkout, for the suites that need the real server.

Starting the subprocess is ``benchmarks.streamlit_process``'s (the benchmark runs it too).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks.streamlit_process import streamlit_run

ROOT = Path(__file__).resolve().parents[1]
KEEP_OUT = {
    ".git",
    ".venv",
    ".local",
    ".streamlit",
    "tests",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
}


def scratch_checkout(where: Path) -> Path:
    """A directory that looks like the repo (code linked in) without its local state or secrets,
    so a test's `.local/` (cookie secret, session store) is its own."""
    for entry in ROOT.iterdir():
        if entry.name not in KEEP_OUT:
            (where / entry.name).symlink_to(entry)
    (where / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", where / ".streamlit" / "config.toml")
    return where


@contextmanager
def streamlit_app(
    cwd: Path,
    log: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[str]:
    """Serve ``app.py`` of ``cwd`` on a free port until the block ends; yields its URL. ``AUTH_*``
    variables are dropped, so a developer's own provider settings never leak into a test."""
    with streamlit_run(
        "app.py", cwd=cwd, log=log, args=args, env=env, timeout=timeout, preexec_fn=preexec_fn
    ) as url:
        yield url
