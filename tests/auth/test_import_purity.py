"""The protocol core stands alone: ``streamlit_authlib_login/_core/`` imports neither Streamlit
nor Starlette nor the development provider, and a production app never loads ``devidp``
(``streamlit_authlib_login/_core/config.py``'s ``DevMode``, implemented by
``streamlit_authlib_login/_devmode.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("streamlit", "starlette", "devidp")

# Run in a fresh interpreter: this one has imported all of them already.
LOADED = """
import json, sys

def loaded():
    return sorted(name for name in sys.modules if name.split(".")[0] in {forbidden!r})

{body}
"""

CORE = """
import pkgutil, importlib
from pathlib import Path
import streamlit_authlib_login._core as core

modules = [m.name for m in pkgutil.walk_packages(core.__path__, core.__name__ + ".")]
for name in modules:
    importlib.import_module(name)
from streamlit_authlib_login._core.config import load_config

config = load_config({}, {}, local_dir=Path(sys.argv[1]))
print(json.dumps({"modules": modules, "dev": config.dev_provider_enabled, "loaded": loaded()}))
"""

PACKAGE = """
import streamlit_authlib_login
print(json.dumps({"loaded": loaded()}))
"""

PRODUCTION = """
from pathlib import Path
from streamlit_authlib_login._core.config import load_config
from streamlit_authlib_login._devmode import DEV_MODE

google = {"client_id": "id", "client_secret": "secret",
          "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}
local = Path(sys.argv[1])
config = load_config({"auth": {"google": google}}, {}, local_dir=local, dev_mode=DEV_MODE)
production = {"providers": [p.name for p in config.providers], "loaded": loaded()}
config = load_config({}, {}, local_dir=local, dev_mode=DEV_MODE)
development = {"providers": [p.name for p in config.providers][:1], "loaded": loaded()}
print(json.dumps({"production": production, "development": development}))
"""


def run(body: str, *args: str) -> dict[str, object]:
    script = LOADED.format(forbidden=FORBIDDEN, body=body)
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_protocol_core_imports_no_framework_and_no_dev_provider(tmp_path: Path) -> None:
    """Every module of _core/, and load_config with no provider configured, load none of
    Streamlit, Starlette or devidp; the config still says development mode is wanted."""
    found = run(CORE, str(tmp_path))
    assert "streamlit_authlib_login._core.flow" in found["modules"]  # type: ignore[operator]
    assert "streamlit_authlib_login._core.config" in found["modules"]  # type: ignore[operator]
    assert found["dev"] is True
    assert found["loaded"] == []


def test_importing_the_package_loads_no_framework_and_no_dev_provider() -> None:
    """`import streamlit_authlib_login` alone loads none of Streamlit, Starlette or devidp."""
    assert run(PACKAGE)["loaded"] == []


def test_development_mode_loads_the_provider_only_when_the_secrets_want_it(tmp_path: Path) -> None:
    """Given development mode, as with_login gives it, a config with a real provider loads no
    devidp; one without any provider does (the check above would see it)."""
    found = run(PRODUCTION, str(tmp_path))
    assert found["production"] == {"providers": ["google"], "loaded": []}
    development = found["development"]
    assert development["providers"] == ["dev"]  # type: ignore[index]
    assert "devidp" in development["loaded"]  # type: ignore[index]
