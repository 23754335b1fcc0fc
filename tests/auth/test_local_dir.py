"""The local directory keeps itself out of git: an app that never heard of ``.local/`` does not
commit the generated cookie secret or its sessions with ``git add .``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from streamlit_authlib_login._core.config import load_config
from streamlit_authlib_login._core.store import open_store


def untracked(repo: Path) -> list[str]:
    """What ``git add .`` would take in ``repo``: every untracked file that is not ignored."""
    run = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo, capture_output=True, text=True
    )
    return sorted(line[3:] for line in run.stdout.splitlines())


@pytest.fixture
def app_repo(tmp_path: Path) -> Path:
    """An app's own git repository, with nothing ignoring ``.local/``."""
    if shutil.which("git") is None:
        pytest.fail("these tests need git")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "your_app.py").write_text("import streamlit as st\n")
    return tmp_path


def test_the_generated_cookie_secret_and_the_sessions_stay_out_of_git(app_repo: Path) -> None:
    """A first start with no secrets makes .local/ (cookie secret, SQLite sessions); git sees
    only the app's own file."""
    config = load_config({}, {}, local_dir=app_repo / ".local")
    open_store(config).put("k", b"v", ttl=60)
    assert {"cookie_secret", "sessions.sqlite3"} <= {p.name for p in (app_repo / ".local").iterdir()}
    assert untracked(app_repo) == ["your_app.py"]
    assert (app_repo / ".local" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_the_session_store_alone_also_writes_the_gitignore(app_repo: Path) -> None:
    """A configured cookie secret writes no secret, but the SQLite file is kept out of git too."""
    config = load_config(
        {"auth": {"cookie_secret": "a-configured-cookie-secret-0123456789"}},
        {},
        local_dir=app_repo / ".local",
    )
    open_store(config).put("k", b"v", ttl=60)
    assert untracked(app_repo) == ["your_app.py"]


def test_a_gitignore_someone_edited_is_kept(tmp_path: Path) -> None:
    """The file is written once: an existing .gitignore in .local/ is left as it is."""
    local = tmp_path / ".local"
    local.mkdir()
    (local / ".gitignore").write_text("sessions.sqlite3\n")
    load_config({}, {}, local_dir=local)
    assert (local / ".gitignore").read_text() == "sessions.sqlite3\n"
