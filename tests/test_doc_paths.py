"""Every repository path the docs, notebooks and comments name in backticks exists (issue 21).

A move of a folder leaves sentences behind: after auth/ became `streamlit_authlib_login/`, the
README's layout table, a notebook and several docstrings still sent readers to a folder that
was gone. This collects each backticked token that looks like a path from README.md,
docs/*.md, benchmarks/README.md, the notebooks' markdown cells, and the comments and
docstrings of our Python sources, and fails listing every one that names nothing.

A token counts as a path when it has a '/' or a known file suffix and is not a URL, a host
name, a route (routes start with '/', which the token pattern leaves out) or a placeholder
(`HOST/PATH`); in Python only tokens with a '/' that end in a file suffix or a '/'. It is found
when it exists from the repository root, from the naming file's folder (in Python, also from
each package the file sits in), or in the installed libraries (a docstring citing Streamlit's
own `streamlit/web/server/app_discovery.py`). A bare file name (`flow.py`) is found when a
file or folder of that name exists anywhere in the repository, or, in a row of the README's
layout table, under the folder that row describes. `NOT_IN_REPO` lists the few paths named on
purpose that the repository does not hold.
"""

from __future__ import annotations

import ast
import io
import re
import sysconfig
import tokenize
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = ["streamlit_authlib_login", "devidp", "dashboard", "views", "benchmarks", "tests"]
# Not the repository's own files: tools' caches and what a run creates.
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    ".local",
    "test-artifacts",
}

SUFFIXES = (".py", ".md", ".ipynb", ".toml", ".txt", ".json", ".sh", ".yaml", ".yml", ".example")
# In Python comments a '/' alone is too common (`a/b` ratios, `and/or`): only these name files.
PY_SUFFIXES = (".py", ".md", ".toml", ".ipynb")
# One or two backticks (Markdown and reST); a route such as `/auth/login` starts with '/' and
# does not match.
TOKEN = re.compile(r"`([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/?)`")

# Paths the docs name on purpose that the repository does not hold, and why.
NOT_IN_REPO = {
    ".streamlit/secrets.toml": "the user writes it (git-ignored); we ship secrets.toml.example",
    "secrets.toml": "the same file, by its name",
    ".local": "created at the first run: the cookie secret and the SQLite file (git-ignored)",
    "pages": "the layout table says why the pages are not in a pages/ folder",
}


def where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def is_path(token: str, suffixes: tuple[str, ...]) -> bool:
    """Whether a backticked token names a file or folder rather than code, a host or a placeholder."""
    t = token.rstrip("/")
    if not t or t.startswith(("http", "www.", "../", "~")) or ".." in t:
        return False
    if "/" not in token and not t.endswith(suffixes):
        return False
    first = t.split("/")[0]
    if "/" in t and "." in first.strip(".") and not (ROOT / first).exists():
        return False  # a host name such as `your.host/auth`, not a path
    # a placeholder such as `HOST/PATH`
    return not any(seg.isupper() for seg in re.split(r"[/.]", t) if seg)


@cache
def repo_file_names() -> frozenset[str]:
    names: set[str] = set()
    stack = [ROOT]
    while stack:
        for child in stack.pop().iterdir():
            if child.name in SKIPPED_DIRS:
                continue
            names.add(child.name)
            if child.is_dir():
                stack.append(child)
    return frozenset(names)


@cache
def library_dirs() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    return tuple(dict.fromkeys(Path(paths[k]) for k in ("purelib", "platlib", "stdlib")))


def found(token: str, bases: list[Path]) -> bool:
    t = token.rstrip("/")
    if t.split("/")[0] in NOT_IN_REPO or t in NOT_IN_REPO:
        return True
    if "/" not in token:  # a bare file name; `views/` is a folder at a place, not a name
        return t in repo_file_names() or any((b / t).exists() for b in bases)
    return any((b / t).exists() for b in [*bases, ROOT, *library_dirs()])


def layout_folder(line: str) -> Path | None:
    """The folder a README layout-table row describes (`| `views/` | ... |`), if any."""
    m = re.match(r"\|\s*`([^`]+)/`\s*\|", line)
    return ROOT / m.group(1) if m and (ROOT / m.group(1)).is_dir() else None


def below(folder: Path, token: str) -> bool:
    """Whether a token of a layout row names something inside the row's folder."""
    t = token.rstrip("/")
    return (folder / t).exists() or any(True for _ in folder.rglob(t.split("/")[-1]))


def markdown_misses(name: str, text: str, own_dir: Path) -> Iterator[str]:
    for n, line in enumerate(text.splitlines(), 1):
        folder = layout_folder(line)
        for token in TOKEN.findall(line):
            if not is_path(token, SUFFIXES) or found(token, [own_dir]):
                continue
            if folder is not None and below(folder, token):
                continue
            yield f"{name}:{n}: `{token}`"


def comments_and_docstrings(source: str) -> Iterator[tuple[int, str]]:
    """(first line, text) of each comment and docstring of a Python module."""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                yield first.lineno, first.value.value


def python_misses(path: Path) -> Iterator[str]:
    # its own folder and the packages it sits in: a module of a subpackage names a sibling's
    # file from the package's top
    bases = [path.parent, *(p for p in path.parents if (p / "__init__.py").exists())]
    for start, text in comments_and_docstrings(path.read_text()):
        for offset, line in enumerate(text.splitlines()):
            for token in TOKEN.findall(line):
                if "/" not in token or not (token.endswith("/") or token.endswith(PY_SUFFIXES)):
                    continue
                if is_path(token, PY_SUFFIXES) and not found(token, bases):
                    yield f"{where(path)}:{start + offset}: `{token}`"


def test_docs_name_only_paths_that_exist() -> None:
    """README.md, docs/ and benchmarks/README.md name only files and folders that exist."""
    missing = [miss for doc in DOCS for miss in markdown_misses(where(doc), doc.read_text(), doc.parent)]
    assert not missing, "paths named in the docs that do not exist:\n" + "\n".join(missing)


def test_notebook_markdown_names_only_paths_that_exist() -> None:
    """The notebooks' markdown cells name only files and folders that exist."""
    missing = []
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                missing += markdown_misses(f"{where(nb_path)} cell {i}", cell.source, nb_path.parent)
    assert not missing, "paths named in the notebooks that do not exist:\n" + "\n".join(missing)


def test_comments_and_docstrings_name_only_paths_that_exist() -> None:
    """Comments and docstrings of our Python sources name only files and folders that exist."""
    paths = [path for top in SOURCES for path in sorted((ROOT / top).rglob("*.py"))]
    missing = [miss for path in paths for miss in python_misses(path)]
    assert not missing, "paths named in comments or docstrings that do not exist:\n" + "\n".join(missing)
