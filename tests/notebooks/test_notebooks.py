"""The tutorial notebooks (issue 5) and the attack lab (issue 15): each runs top to bottom against the dev provider,
started in-process by the notebook itself, and shows nothing secret."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from notebooks.run import execute, failed_on_purpose, leaks, notebook_paths

NOTEBOOKS = notebook_paths()


def test_the_notebooks_are_numbered_in_reading_order():
    """01 to 09 one flow each, then 10 and 11 the attack lab (issue 15)."""
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{n:02d}" for n in range(1, 12)]
    assert [p.stem for p in NOTEBOOKS[9:]] == ["10_attacks_login", "11_attacks_id_token"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_outputs_and_no_secret(path: Path):
    """What readers see on the web came from a real run and shows no secret."""
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert all(c.execution_count is not None for c in code), "re-run: python -m notebooks.run"
    assert leaks(notebook) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path):
    """Every cell runs; only cells tagged raises-exception fail, and those do fail."""
    notebook = execute(path)
    assert leaks(notebook) == []
    assert failed_on_purpose(notebook) == []
