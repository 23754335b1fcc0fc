"""``deploy/nginx.conf`` and ``deploy/Caddyfile`` run by a real nginx and a real Caddy, each a
normal process of the test's own, with a self-signed certificate: the deployments the README
quotes, on free loopback ports, with the files' example ports and paths replaced (``render``).

Both run from their binaries (Debian's packages ``nginx`` and ``caddy``; ``.ci/run`` installs
them), never as the system service. nginx: ``-p`` a scratch directory, ``-c`` a main
configuration that holds only what a test needs (``daemon off``, logs and temporary files in the
scratch directory) and includes the repository's file. Caddy: ``caddy run`` on the file, its
admin endpoint off and its data in the scratch directory.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
# What deploy/nginx.conf names as an example, which a run replaces: each must be in the file.
LISTEN = "listen 443 ssl;"
CERTIFICATE = "/etc/nginx/tls/app.crt"
KEY = "/etc/nginx/tls/app.key"
UPSTREAM = "server 127.0.0.1:8501;"
SUB_PATH = "/app/"
# And what deploy/Caddyfile names.
CADDY_GLOBAL = "{\n\tservers {"
CADDY_SITE = "app.example {"
CADDY_UPSTREAM = "127.0.0.1:8501"


def binary(name: str) -> str:
    """The binary of Debian's package ``name``; without it, skip, saying so, or under
    ``CI=true`` fail."""
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        message = f"{name} is not installed (Debian: apt-get install {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must have it: .ci/run installs it")
        pytest.skip(message)
    return found


def render(path: Path, replacements: Mapping[str, str], *, sub_path: bool = True) -> str:
    """The file at ``path`` with each example replaced; without ``sub_path`` the app is at the
    root (``/app/`` becomes ``/``). An example the file lacks is an error: the file and its test
    must not drift apart."""
    text = path.read_text()
    for old, new in replacements.items():
        assert old in text, f"{path.relative_to(ROOT)} no longer says {old!r}"
        text = text.replace(old, new)
    return text if sub_path else text.replace(SUB_PATH, "/")


def self_signed(where: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A certificate for ``host`` and 127.0.0.1, valid for a day, and its key (P-256)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = where / "tls.crt", where / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Proxy:
    url: str  # https://localhost:PORT
    port: int
    log: Path


@contextmanager
def nginx(
    where: Path, *, port: int, upstream_port: int, sub_path: bool = True, source_address: str | None = None
) -> Iterator[Proxy]:
    """``deploy/nginx.conf`` served on ``port`` (TLS) in front of ``upstream_port``, until the
    block ends. ``source_address``: the loopback address nginx connects to the app from
    (``proxy_bind``), so a test can tell its requests from the test's own."""
    nginx_binary = binary("nginx")
    cert, key = self_signed(where)
    site = where / "site.conf"
    replacements = {
        LISTEN: f"listen 127.0.0.1:{port} ssl;",
        CERTIFICATE: str(cert),
        KEY: str(key),
        UPSTREAM: f"server 127.0.0.1:{upstream_port};",
    }
    site.write_text(render(NGINX_CONF, replacements, sub_path=sub_path))
    error_log = where / "error.log"
    temp = "\n".join(
        f"    {kind}_temp_path {where / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = where / "nginx.conf"
    main.write_text(
        "daemon off;\n"
        "worker_processes 1;\n"
        # As root nginx would switch its worker to nobody, who cannot write the scratch directory.
        + ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {where / 'nginx.pid'};\n"
        f"error_log {error_log} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {where / 'access.log'};\n"
        f"{temp}\n"
        + (f"    proxy_bind {source_address};\n" if source_address else "")
        + f"    include {site};\n"
        "}\n"
    )
    command = [nginx_binary, "-p", str(where), "-c", str(main), "-e", str(error_log)]
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, f"nginx -t refused deploy/nginx.conf:\n{checked.stderr}"
    with _running(command, port, error_log, os.environ):
        yield Proxy(f"https://localhost:{port}", port, error_log)


@contextmanager
def caddy(where: Path, *, port: int, upstream_port: int, sub_path: bool = True) -> Iterator[Proxy]:
    """``deploy/Caddyfile`` served on ``port`` (TLS, the test's certificate) in front of
    ``upstream_port``, until the block ends."""
    caddy_binary = binary("caddy")
    cert, key = self_signed(where)
    replacements = {
        # No admin endpoint (its port 2019 is one per machine), no http-to-https redirect on port 80.
        CADDY_GLOBAL: "{\n\tadmin off\n\tauto_https disable_redirects\n\tservers {",
        CADDY_SITE: f"https://localhost:{port} {{\n\ttls {cert} {key}",
        CADDY_UPSTREAM: f"127.0.0.1:{upstream_port}",
    }
    caddyfile = where / "Caddyfile"
    caddyfile.write_text(render(CADDYFILE, replacements, sub_path=sub_path))
    log = where / "caddy.log"
    # Its data (locks, autosaved config) in the scratch directory, not the user's home.
    environment = {
        **os.environ,
        "HOME": str(where),
        "XDG_DATA_HOME": str(where),
        "XDG_CONFIG_HOME": str(where),
    }
    command = [caddy_binary, "run", "--config", str(caddyfile), "--adapter", "caddyfile"]
    with _running(command, port, log, environment):
        yield Proxy(f"https://localhost:{port}", port, log)


@contextmanager
def _running(command: list[str], port: int, log: Path, environment: Mapping[str, str]) -> Iterator[None]:
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=dict(environment))
    try:
        _wait_for_port(port, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{process.args[0]} did not listen on {port}:\n{log.read_text()}"
                ) from None
            time.sleep(0.02)
