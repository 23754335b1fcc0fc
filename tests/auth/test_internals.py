"""streamlit_authlib_login/_streamlit/internals.py: Streamlit's private parts, used in that module
only, and a start that stops with one line on a Streamlit they were not verified on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import streamlit

from streamlit_authlib_login import with_login
from streamlit_authlib_login._streamlit.internals import VERIFIED_STREAMLIT, check_streamlit_version

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "streamlit_authlib_login"
FENCE = PACKAGE / "_streamlit" / "internals.py"
# What an app of this repository runs: the package, the provider shipped with it, the demo.
APP_CODE = [
    PACKAGE,
    ROOT / "devidp",
    ROOT / "views",
    ROOT / "dashboard",
    ROOT / "app.py",
    ROOT / "streamlit_app.py",
]
LOWEST, FIRST_UNVERIFIED = VERIFIED_STREAMLIT.removeprefix(">=").split(",<")


def streamlit_imports(path: Path) -> list[str]:
    """The Streamlit modules ``path`` imports (``streamlit``, ``streamlit.user_info``, …)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [name for name in found if name == "streamlit" or name.startswith("streamlit.")]


def python_files() -> list[Path]:
    return sorted(f for place in APP_CODE for f in ([place] if place.is_file() else place.rglob("*.py")))


def test_a_verified_streamlit_starts() -> None:
    """The installed Streamlit, and the range's first and later patch releases, pass the check."""
    for version in (streamlit.__version__, LOWEST, f"{LOWEST}.0", f"{LOWEST}.9"):
        check_streamlit_version(version)


def unverified() -> list[str]:
    """Releases just outside the range, at both ends, and far outside it."""
    major, minor = (int(part) for part in LOWEST.split(".")[:2])
    below = [f"{major}.{minor - 1}.9"] if minor else []
    return ["0.1.0", *below, FIRST_UNVERIFIED, f"{FIRST_UNVERIFIED}.0", f"{FIRST_UNVERIFIED}.0rc1", "99.0"]


@pytest.mark.parametrize("installed", unverified())
def test_outside_the_verified_range_the_start_stops_with_one_line(installed: str) -> None:
    """One line naming the installed version, the verified range, and what to install."""
    with pytest.raises(SystemExit) as stopped:
        check_streamlit_version(installed)
    line = str(stopped.value)
    assert "\n" not in line
    assert f"Streamlit {installed} is installed" in line
    assert VERIFIED_STREAMLIT in line
    assert f"pip install 'streamlit{VERIFIED_STREAMLIT}'" in line


def test_with_login_checks_the_version_before_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """``with_login`` on an unverified Streamlit stops with that line, before reading any secret."""
    monkeypatch.setattr(streamlit, "__version__", "0.1.0")
    with pytest.raises(SystemExit, match=r"^Streamlit 0\.1\.0 is installed"):
        with_login()


def test_only_the_fence_imports_private_streamlit_modules() -> None:
    """Outside internals.py, the package, the provider and the demo import ``streamlit`` only."""
    private = {
        str(path.relative_to(ROOT)): names
        for path in python_files()
        if path != FENCE and (names := [n for n in streamlit_imports(path) if n != "streamlit"])
    }
    assert private == {}
    assert [n for n in streamlit_imports(FENCE) if n != "streamlit"]  # the scan sees them there


def test_only_the_streamlit_glue_imports_streamlit() -> None:
    """In the package, Streamlit is imported by ``streamlit_authlib_login/_streamlit/`` only (as
    its docstring says)."""
    importers = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if streamlit_imports(path) and PACKAGE / "_streamlit" not in path.parents
    }
    assert importers == set()
