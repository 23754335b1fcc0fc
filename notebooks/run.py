"""Re-execute the tutorial notebooks in place and save their outputs.

    python -m notebooks.run            # every notebook, in reading order
    python -m notebooks.run 04 06      # only those whose name starts so

Each notebook runs top to bottom in a fresh kernel, against the dev provider
only (real-provider credentials are removed from its environment; those cells
print why they skip). Cells tagged ``raises-exception`` may fail; any other
failure stops the run. A notebook whose outputs would show a secret is not saved; one whose
outputs differ from the saved ones only in what differs on every run (the provider's port,
random tokens and keys, clock times) is left as it is, so a re-run keeps ``git status`` clean.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import tempfile
import time
from pathlib import Path

try:
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config
except ModuleNotFoundError as missing:
    if __name__ != "__main__":
        raise
    # The app's venv: its requirements.txt leaves the notebook tools out, to stay lean.
    sys.exit(
        f"python -m notebooks.run: no module named {missing.name!r}. The notebooks need the tools "
        "the app's requirements.txt leaves out: pip install -r requirements-dev.txt"
    )

HERE = Path(__file__).resolve().parent
# What the notebooks' kernel imports beyond the app: the kernel itself, the blog post's Flask
# app (notebook 01), requests (Authlib's requests client); all in requirements-dev.txt.
KERNEL_NEEDS = ("ipykernel", "flask", "requests")
CELL_TIMEOUT = 60  # seconds; every notebook as a whole should take well under a minute

# What must never appear in an output: the demo secrets (public, but printed masked
# all the same), their Basic-auth encodings, and any whole JWT.
LEAKS = {
    "demo client secret": re.compile(r"demo-(?:web|m2m)-secret"),
    "Basic credentials": re.compile(r"ZGVtby13ZWI6|ZGVtby1tMm06"),
    "whole JWT": re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]*"),
}


# What changes on every run though nothing did: each run starts the provider on a free port
# (a fixed one could be taken), and its keys, tokens, ids and clock are real. Compared as
# placeholders; the committed outputs keep the values of the run that last changed something.
VOLATILE = [
    (re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(:|%3A)\d{2,5}"), r"\1\2PORT"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"), "DATETIME"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(\.\d+)?"), "TIME"),
    (re.compile(r"\b1[6-9]\d{8}(\.\d+)?\b"), "EPOCH"),
    (re.compile(r"\b[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4}"), "HTTPDATE"),  # RFC 9110 §5.6.7
    (re.compile(r"\b\d+(\.\d+)?( |&nbsp;)?(ms|s|min|h|days?)\b"), "DURATION"),
    (re.compile(r"[\w-]{1,12}…[\w-]{1,12}"), "MASKED"),
    (re.compile(r"(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{12,}"), "TOKEN"),
    (re.compile(r"(?=[\w-]*[A-Z])(?=[\w-]*[a-z])[\w-]{16,}"), "TOKEN"),
    (re.compile(r"\b[B-DF-HJ-NP-TV-Z]{4}-[B-DF-HJ-NP-TV-Z]{4}\b"), "USER_CODE"),  # RFC 8628 §6.1
]


def stable_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """Each cell's source and outputs, with what changes on every run replaced by placeholders."""
    cells = []
    for cell in notebook.cells:
        text = "\n".join(_output_text(output) for output in cell.get("outputs", []))
        for pattern, placeholder in VOLATILE:
            text = pattern.sub(placeholder, text)
        text = " ".join(text.split())  # a table's padding follows the width of what it holds
        cells.append(f"{cell.get('source', '')}\n=>\n{text}")
    return cells


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
    # IPC, not TCP: no port open to other users of the machine, and no ipykernel warning, once
    # per notebook, that TCP without CurveZMQ is unencrypted. The sockets are files: an absolute
    # path, since the kernel runs in the notebook's folder and this process elsewhere.
    with tempfile.TemporaryDirectory(prefix="nbrun-") as sockets:
        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
            config=Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}}),
        ).execute(env=dev_only_environment())
    return notebook


def _output_text(output: nbformat.NotebookNode) -> str:
    parts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    # By MIME type: a notebook read from disk has them sorted, one just run in the order made.
    parts += [value if isinstance(value, str) else "" for _, value in sorted(output.get("data", {}).items())]
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


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ValueError:  # in sys.modules as None: import blocked
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notebooks.run", description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose name starts so (e.g. 04)")
    args = parser.parse_args(argv)
    if missing := [name for name in KERNEL_NEEDS if not _installed(name)]:
        print(
            f"python -m notebooks.run: {', '.join(missing)} not installed. The notebooks need the tools "
            "the app's requirements.txt leaves out: pip install -r requirements-dev.txt",
            file=sys.stderr,
        )
        return 1
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
        if stable_outputs(notebook) == stable_outputs(nbformat.read(path, as_version=4)):
            print(f"{path.name}: {elapsed:.1f} s, unchanged (only ports, tokens and times differ)")
            continue
        nbformat.write(notebook, path)
        print(f"{path.name}: {elapsed:.1f} s, saved")
    return status


if __name__ == "__main__":
    sys.exit(main())
