"""The tutorial notebooks, read for a page of the app: each cell's source and its saved outputs.

Only the numbered notebooks of ``notebooks/`` are read (by name, never by a path a visitor
types), and only their saved outputs: nothing here runs a kernel.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass(frozen=True)
class Output:
    kind: str  # "text", "html", "svg", "error"
    content: str


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    source: str
    outputs: tuple[Output, ...] = ()


def names() -> list[str]:
    """The notebooks in reading order, as paths such as ``notebooks/01_from_the_blog_recipe.ipynb``
    (the steps' pointers): every numbered one in the folder, those no step points to (the
    attacks) included."""
    return [f"notebooks/{path.name}" for path in sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))]


# pandas writes a table with a named index as two header rows: the column names over a blank
# corner, then the index's names over blank cells. Jupyter readers know it; on the page it looks
# like a stray row. One row holds both: the index's names, then the columns'.
_THEAD = re.compile(r"<thead>(.*?)</thead>", re.S)
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<th>(.*?)</th>", re.S)


def one_header_row(html: str) -> str:
    """``html`` with each pandas table's two-row header (named index) made one row; any other
    header (one row, or several column levels) is left as it is."""

    def merge(head: re.Match[str]) -> str:
        rows = _ROW.findall(head.group(1))
        if len(rows) != 2:
            return head.group(0)
        columns, index = (_CELL.findall(row) for row in rows)
        named = [bool(c.strip()) for c in columns]
        corner = named.index(True) if True in named else 0  # the index's levels
        shaped = (
            0 < corner < len(columns) == len(index)
            and all(named[corner:])
            and all(c.strip() for c in index[:corner])
            and not any(c.strip() for c in index[corner:])
        )
        if not shaped:
            return head.group(0)
        cells = "".join(f"<th>{c}</th>" for c in index[:corner] + columns[corner:])
        return f'<thead><tr style="text-align: right;">{cells}</tr></thead>'

    return _THEAD.sub(merge, html)


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _output(raw: dict[str, object]) -> Output | None:
    if raw.get("output_type") == "stream":
        return Output("text", _text(raw.get("text", "")))
    if raw.get("output_type") == "error":
        return Output("error", f"{raw.get('ename')}: {raw.get('evalue')}")
    data = raw.get("data")
    if not isinstance(data, dict):
        return None
    for mime, kind in (("image/svg+xml", "svg"), ("text/html", "html"), ("text/plain", "text")):
        if mime in data:
            content = _text(data[mime])
            return Output(kind, one_header_row(content) if kind == "html" else content)
    return None


def read(name: str) -> list[Cell]:
    """The cells of notebook ``name`` (one of ``names()``); ``KeyError`` for any other name."""
    if name not in names():
        raise KeyError(name)
    notebook = json.loads((FOLDER / Path(name).name).read_text(encoding="utf-8"))
    cells = []
    for raw in notebook.get("cells", []):
        outputs = tuple(o for o in map(_output, raw.get("outputs", [])) if o is not None)
        cells.append(Cell(raw.get("cell_type", "markdown"), _text(raw.get("source", "")), outputs))
    return cells
