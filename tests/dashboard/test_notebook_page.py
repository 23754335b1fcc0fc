"""The notebook reader's logic: every pointer of the login trace names a notebook it can read."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dashboard.notebooks import FOLDER, names, one_header_row, read
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


def test_a_named_index_makes_one_header_row_not_two():
    """pandas heads a table with a named index by two rows (column names over a blank corner, then
    the index's names); the page shows one: the index's names, then the columns' (issue 26)."""
    frame = pd.DataFrame(
        {"value": ["true"], "meaning": ["m"]}, index=pd.Index(["email_verified"], name="claim")
    )
    html = one_header_row(frame.to_html())
    head = html.split("<thead>")[1].split("</thead>")[0]
    assert head.count("<tr") == 1
    assert re.findall(r"<th>(.*?)</th>", head) == ["claim", "value", "meaning"]
    two_levels = frame.set_index(pd.Index(["payload"], name="part"), append=True).to_html()
    assert re.findall(r"<th>(.*?)</th>", one_header_row(two_levels).split("</thead>")[0]) == [
        "claim", "part", "value", "meaning",
    ]  # fmt: skip
    plain = pd.DataFrame({"a": [1]}).to_html()  # an unnamed index: one row already
    assert one_header_row(plain) == plain


def test_the_saved_notebooks_tables_each_have_one_header_row():
    """Every table of every notebook, as the page reads it, has a single header row."""
    heads = [
        head
        for name in names()
        for cell in read(name)
        for output in cell.outputs
        if output.kind == "html"
        for head in re.findall(r"<thead>(.*?)</thead>", output.content, re.S)
    ]
    assert heads and all(head.count("<tr") == 1 for head in heads)
