"""Re-execute the tutorial notebooks in place and save their outputs.

    python -m notebooks.run            # every notebook, in reading order
    python -m notebooks.run 04 06      # only those whose name starts so

Each notebook runs top to bottom in a fresh kernel, against the dev provider
only (real-provider credentials are removed from its environment; those cells
print why they skip). Cells tagged ``raises-exception`` may fail; any other
failure stops the run. A notebook whose outputs would show a secret is not saved.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
CELL_TIMEOUT = 60  # seconds; every notebook as a whole should take well under a minute

# What must never appear in an output: the demo secrets (public, but printed masked
# all the same), their Basic-auth encodings, and any whole JWT.
LEAKS = {
    "demo client secret": re.compile(r"demo-(?:web|m2m)-secret"),
    "Basic credentials": re.compile(r"ZGVtby13ZWI6|ZGVtby1tMm06"),
    "whole JWT": re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]*"),
}


def notebook_paths(prefixes: list[str] | None = None) -> list[Path]:
    """The numbered notebooks, in reading order."""
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        found = [p for p in found if any(p.name.startswith(prefix) for prefix in prefixes)]
    return found


def dev_only_environment() -> dict[str, str]:
    """This environment without real-provider credentials (``AUTH_*``), so every notebook runs
    against the dev provider alone: no browser opens, and no real account's data is saved."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AUTH_") and k != "FLASK_SECRET_KEY"}


def execute(path: Path, timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Run a notebook top to bottom, in its own folder, and return it with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env=dev_only_environment())
    return notebook


def _output_text(output: nbformat.NotebookNode) -> str:
    parts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    parts += [value if isinstance(value, str) else "" for value in output.get("data", {}).values()]
    return "\n".join(parts)


def leaks(notebook: nbformat.NotebookNode) -> list[str]:
    """Where the outputs show something secret: 'cell N: what'."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = _output_text(output)
            found += [f"cell {index}: {what}" for what, pattern in LEAKS.items() if pattern.search(text)]
    return found


def failed_on_purpose(notebook: nbformat.NotebookNode) -> list[int]:
    """Indexes of the cells tagged ``raises-exception`` that did NOT raise (a stale tag)."""
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if "raises-exception" in cell.get("metadata", {}).get("tags", [])
        and not any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notebooks.run", description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose name starts so (e.g. 04)")
    args = parser.parse_args(argv)
    status = 0
    for path in notebook_paths(args.prefixes):
        started = time.perf_counter()
        notebook = execute(path)
        elapsed = time.perf_counter() - started
        problems = leaks(notebook) + [
            f"cell {i}: tagged raises-exception but ran" for i in failed_on_purpose(notebook)
        ]
        if problems:
            print(f"{path.name}: NOT saved ({elapsed:.1f} s): {'; '.join(problems)}", file=sys.stderr)
            status = 1
            continue
        nbformat.write(notebook, path)
        print(f"{path.name}: {elapsed:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
