"""The package's public surface (streamlit_authlib_login/__init__.py and teaching.py): a few
names, each there, and a demo dashboard that uses nothing else."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import streamlit_authlib_login
from streamlit_authlib_login import teaching

ROOT = Path(__file__).resolve().parents[2]
DEMO = [
    ROOT / "app.py",
    ROOT / "streamlit_app.py",
    *(ROOT / "views").glob("*.py"),
    *(ROOT / "dashboard").glob("*.py"),
]
ALLOWED = {"streamlit_authlib_login": streamlit_authlib_login, "streamlit_authlib_login.teaching": teaching}


def test_the_package_names_what_an_app_uses_and_little_else() -> None:
    """At most 16 names, the wiring and the page helpers among them."""
    assert len(streamlit_authlib_login.__all__) <= 16
    assert {
        "with_login",
        "create_app",
        "current_session",
        "require_login",
        "require_role",
        "role_page",
        "Session",
        "LoginError",
    } <= set(streamlit_authlib_login.__all__)


@pytest.mark.parametrize("module", ALLOWED.values(), ids=ALLOWED.keys())
def test_every_listed_name_is_there(module: object) -> None:
    """Each name of ``__all__`` resolves, the lazily imported Streamlit helpers too."""
    for name in module.__all__:  # type: ignore[attr-defined]
        assert getattr(module, name) is not None, name


def package_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for each name ``path`` imports from the package; name "" for ``import``."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, a.name) for a in node.names]
    return [(module, name) for module, name in found if module.split(".")[0] == "streamlit_authlib_login"]


def test_the_demo_uses_only_the_public_names_and_the_teaching_module() -> None:
    """views/, dashboard/, app.py and streamlit_app.py import nothing internal of the package."""
    internal = [
        f"{path.name}: {module}.{name}"
        for path in DEMO
        for module, name in package_imports(path)
        if module not in ALLOWED or name not in ALLOWED[module].__all__
    ]
    assert internal == []


def test_the_glue_lists_what_it_offers() -> None:
    """``_streamlit``'s ``__all__`` is every public function it defines."""
    glue = importlib.import_module("streamlit_authlib_login._streamlit")
    source = ast.parse(Path(str(glue.__file__)).read_text())
    defined = {n.name for n in source.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    assert set(glue.__all__) == defined
