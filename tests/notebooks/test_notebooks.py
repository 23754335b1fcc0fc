"""The tutorial notebooks (issue 5), the attack lab (issue 15) and authorization (issue 23): each runs top to
bottom against the dev provider, started in-process by the notebook itself, and shows nothing secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from notebooks.run import execute, failed_on_purpose, leaks, main, notebook_paths, stable_outputs

NOTEBOOKS = notebook_paths()


def test_the_notebooks_are_numbered_in_reading_order():
    """01 to 09 one flow each, then 10 and 11 the attack lab (issue 15), then 12 authorization (issue 23)."""
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{n:02d}" for n in range(1, 13)]
    assert [p.stem for p in NOTEBOOKS[9:]] == ["10_attacks_login", "11_attacks_id_token", "12_authorization"]


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


def _one_cell(source: str, text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nbformat.v4.new_notebook(cells=[cell])


def test_a_rerun_that_changes_only_ports_tokens_and_times_counts_as_unchanged():
    """Two runs differ in the provider's port, random tokens, masked tokens, clock times and
    table padding, and nothing else: the same; a changed word or source is a change."""
    first = _one_cell(
        "idp = start_provider()",
        "→ POST http://127.0.0.1:39203/token iss=http%3A%2F%2F127.0.0.1%3A39203\n"
        "state   Sh6s3Yoj5_IOAR7wJtKUGSZ5ufCenpOeaDGySFf33Lc\n"
        "iat 1795853147 = 2026-11-28 08:05:47 UTC (0 s ago) token=eyJ0eX…zoUw code RQRT-NQQR",
    )
    second = _one_cell(
        "idp = start_provider()",
        "→ POST http://127.0.0.1:36649/token iss=http%3A%2F%2F127.0.0.1%3A36649\n"
        "state     Iij1fQFXDxMD6GHZ-GzQgVtgH-FMozl9XuBFpCGKRvY\n"
        "iat 1796292436 = 2026-12-03 10:07:16 UTC (2 s ago) token=eyJ0eX…AB3A code TRRB-PJWP",
    )
    assert stable_outputs(first) == stable_outputs(second)
    changed = _one_cell("idp = start_provider()", second.cells[0].outputs[0].text.replace("POST", "GET"))
    assert stable_outputs(first) != stable_outputs(changed)
    assert stable_outputs(first) != stable_outputs(_one_cell("idp = None", first.cells[0].outputs[0].text))


ROOT = Path(__file__).resolve().parents[2]


def test_the_runner_says_what_to_install_in_the_apps_venv():
    """The app's venv (requirements.txt) has no notebook tools: `python -m notebooks.run` says in one
    line what to install, with no traceback (issue 26). nbformat is hidden as absent (None in
    sys.modules) in a fresh interpreter, since the runner imports it first thing."""
    hide = "import sys, runpy; sys.modules['nbformat'] = None; runpy.run_module('notebooks.run', run_name='__main__')"
    ran = subprocess.run(
        [sys.executable, "-c", hide], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )  # fmt: skip
    assert ran.returncode == 1 and ran.stdout == ""
    assert ran.stderr.strip().endswith("pip install -r requirements-dev.txt"), ran.stderr
    assert "'nbformat'" in ran.stderr and "Traceback" not in ran.stderr


def test_the_runner_says_so_before_running_anything_when_the_kernel_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """With nbformat there but no ipykernel (or Flask, for notebook 01), no notebook starts: the
    same one line says what to install."""
    monkeypatch.setitem(sys.modules, "ipykernel", None)
    assert main(["01"]) == 1
    said = capsys.readouterr()
    assert said.out == "" and said.err.startswith("python -m notebooks.run: ipykernel not installed.")
    assert said.err.strip().endswith("pip install -r requirements-dev.txt")
