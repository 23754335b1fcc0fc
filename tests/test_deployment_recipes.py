"""The deployment recipes are one source of truth each, and name only what is there.

The README quotes ``deploy/nginx.conf`` and ``deploy/Caddyfile`` verbatim
(``tests/browser/test_behind_nginx.py`` and ``tests/deploy/test_behind_caddy.py`` run those
files). ``Dockerfile`` and ``compose.yaml`` cannot be run here (no Docker on this machine), so
what can be checked without it is: the Dockerfile's commands are the README's own, and every
path the two name is in the repository, or is one the operator provides, in a folder that is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "compose.yaml").read_text()
NGINX_CONF = (ROOT / "deploy" / "nginx.conf").read_text()
# What compose.yaml mounts that the operator provides, never the repository.
PROVIDED = {".streamlit/secrets.toml", "deploy/tls/app.crt", "deploy/tls/app.key"}


def fenced(language: str) -> list[str]:
    """The README's code blocks in ``language``, each as its text."""
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def instructions(name: str) -> list[str]:
    """The arguments of each of the Dockerfile's ``name`` instructions, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    return [m.strip() for m in re.findall(rf"^{name} (.*)$", text, flags=re.MULTILINE)]


def workdir() -> str:
    (found,) = instructions("WORKDIR")
    return found


def test_the_readme_quotes_deploy_nginx_conf_verbatim() -> None:
    """One nginx block in the README, and it is the tested file."""
    assert fenced("nginx") == [NGINX_CONF]


def test_the_readme_quotes_deploy_caddyfile_verbatim() -> None:
    assert fenced("caddyfile") == [(ROOT / "deploy" / "Caddyfile").read_text()]


def test_the_dockerfile_runs_the_readmes_own_install_and_run_commands() -> None:
    """The README's "Run the app" line is the Dockerfile's install step, then its command."""
    (readme_line,) = re.findall(
        r"^python3 -m venv \.venv && .* && streamlit run app\.py$", README, re.MULTILINE
    )
    installs = [run for run in instructions("RUN") if "pip install" in run]
    (command,) = instructions("CMD")
    assert installs == [readme_line.removesuffix(" && streamlit run app.py")]
    assert " ".join(json.loads(command)) == "streamlit run app.py"


def test_the_dockerfile_names_only_what_the_repository_has() -> None:
    """Its files, its non-root user, .local/ as a volume where the app writes it, and the venv
    on PATH where the install step makes it."""
    for name in ("requirements.txt", "app.py", ".streamlit/config.toml", "pyproject.toml"):
        assert (ROOT / name).is_file(), name
    assert instructions("COPY") == ["--chown=app:app . ."]
    assert instructions("USER") == ["app"]
    assert instructions("VOLUME") == [f"{workdir()}/.local"]
    assert f"PATH={workdir()}/.venv/bin:$PATH" in instructions("ENV")[0]
    assert instructions("EXPOSE") == ["8501"] and "server 127.0.0.1:8501;" in NGINX_CONF
    (health,) = instructions("HEALTHCHECK")
    assert "'/auth/health'" in health and "http://127.0.0.1:8501" in health
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".local", ".streamlit/secrets.toml", "deploy/tls"} <= set(ignored)


def test_compose_names_only_what_the_repository_has_or_the_operator_provides() -> None:
    """Every host path it mounts is in the repository, or is the operator's, in a folder that is."""
    mounted = re.findall(r"^\s+- \./([\w./-]+):([\w./-]+)", COMPOSE, flags=re.MULTILINE)
    assert mounted, "compose.yaml mounts nothing?"
    for host, _ in mounted:
        where = ROOT / host
        assert where.exists() or host in PROVIDED, host
        assert where.parent.is_dir(), host
    targets = dict(mounted)
    assert targets[".streamlit/secrets.toml"] == f"{workdir()}/.streamlit/secrets.toml"
    assert targets["deploy/nginx.conf"] == "/deploy/nginx.conf"
    # nginx reads its certificate where deploy/nginx.conf says, from the folder compose mounts there.
    assert targets["deploy/tls"] == "/etc/nginx/tls"
    for name in ("app.crt", "app.key"):
        assert f"/etc/nginx/tls/{name};" in NGINX_CONF and f"deploy/tls/{name}" in PROVIDED
    assert (ROOT / "deploy" / "tls" / ".gitignore").read_text().splitlines()[1:] == ["*", "!.gitignore"]


def test_compose_serves_what_deploy_nginx_conf_expects() -> None:
    """The one upstream it rewrites, the port nginx listens on, and the sub-path the replicas
    serve are the file's."""
    (sed,) = re.findall(r"sed 's/(.*?)/(.*?)/' /deploy/nginx.conf", COMPOSE)
    assert sed == ("server 127.0.0.1:8501;", "server app:8501;") and sed[0] in NGINX_CONF
    assert '"443:443"' in COMPOSE and "listen 443 ssl;" in NGINX_CONF
    assert "STREAMLIT_SERVER_BASE_URL_PATH: app " in COMPOSE and "location /app/ {" in NGINX_CONF
    assert "AUTH_BASE_URL: https://localhost/app " in COMPOSE
    assert "replicas: 2" in COMPOSE and "AUTH_SESSION_STORE: redis://redis:6379/0" in COMPOSE
    assert "  redis:\n" in COMPOSE and "  nginx:\n" in COMPOSE


def test_the_health_check_command_passes_against_the_login_routes() -> None:
    """The Dockerfile's HEALTHCHECK command itself, its port made the test server's: it exits 0
    against the login routes (GET /auth/health), and not against a server without them."""
    from devidp import DevAuthorizationServer, ProviderConfig
    from tests.auth.login_harness import build_login_app, serve_asgi

    (health,) = instructions("HEALTHCHECK")
    command = json.loads(health.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    app = build_login_app(DevAuthorizationServer(ProviderConfig()))
    for served, healthy in ((app.app, True), (Starlette(), False)):
        with serve_asgi(served) as url:
            code = command[2].replace("http://127.0.0.1:8501", url)
            checked = subprocess.run(
                [sys.executable, "-c", code], env=environment, capture_output=True, check=False
            )
        assert (checked.returncode == 0) is healthy, checked.stderr
