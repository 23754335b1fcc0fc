"""The notebook reader's logic: every pointer of the login trace names a notebook it can read."""

from __future__ import annotations

import pytest

from dashboard.notebooks import FOLDER, names, read
from dashboard.steps import explain


def test_every_step_pointer_is_a_readable_notebook():
    """Each notebook a trace step points to opens, with markdown and code cells and saved outputs."""
    titles = ("Authorization request", "PKCE verifier checked by the provider", "ID token validated")
    for title in (*titles, "admitted by the app's access rules"):
        _, pointer = explain(title)
        assert pointer in names()
        cells = read(pointer)
        assert {c.kind for c in cells} == {"markdown", "code"}
        assert any(c.outputs for c in cells)


def test_only_the_tutorial_notebooks_are_read():
    """A name that is not one of the numbered notebooks is refused, not opened as a path."""
    for name in ("notebooks/../README.md", "/etc/passwd", "notebooks/run.py"):
        with pytest.raises(KeyError):
            read(name)


def test_the_page_lists_every_numbered_notebook():
    """The attack notebooks (10, 11) have no trace step pointing to them, and are listed too."""
    listed = names()
    assert listed == sorted(listed)
    assert {"notebooks/10_attacks_login.ipynb", "notebooks/11_attacks_id_token.ipynb"} <= set(listed)
    assert len(listed) == len(list(FOLDER.glob("[0-9][0-9]_*.ipynb"))) >= 12
