"""The deployment recipes are one source of truth each: the README quotes ``deploy/nginx.conf``
and ``deploy/Caddyfile`` verbatim (``tests/browser/test_behind_nginx.py`` and
``tests/deploy/test_behind_caddy.py`` run those files)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def fenced(language: str) -> list[str]:
    """The README's code blocks in ``language``, each as its text."""
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_quotes_deploy_nginx_conf_verbatim() -> None:
    """One nginx block in the README, and it is the tested file."""
    assert fenced("nginx") == [(ROOT / "deploy" / "nginx.conf").read_text()]


def test_the_readme_quotes_deploy_caddyfile_verbatim() -> None:
    assert fenced("caddyfile") == [(ROOT / "deploy" / "Caddyfile").read_text()]
