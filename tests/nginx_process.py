"""``deploy/nginx.conf`` run by a real nginx, as a normal process of the test's own, with a
self-signed certificate: the deployment the README quotes, on free loopback ports.

nginx runs from its binary (Debian's package ``nginx``; ``.ci/run`` installs it), never as the
system service: ``-p`` a scratch directory, ``-c`` a main configuration that holds only what a
test needs (``daemon off``, logs and temporary files in the scratch directory) and includes the
repository's file with its example ports and paths replaced (``render``).
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
# What deploy/nginx.conf names as an example, which a run replaces: each must be in the file.
LISTEN = "listen 443 ssl;"
CERTIFICATE = "/etc/nginx/tls/app.crt"
KEY = "/etc/nginx/tls/app.key"
UPSTREAM = "server 127.0.0.1:8501;"
SUB_PATH = "/app/"


def nginx_binary() -> str:
    """nginx's binary; without one, skip, saying so, or under ``CI=true`` fail."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found is None:
        message = "nginx is not installed (Debian: apt-get install nginx)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must have it: .ci/run installs it")
        pytest.skip(message)
    return found


def render(text: str, replacements: Mapping[str, str], *, sub_path: bool = True) -> str:
    """``text`` with each example replaced; without ``sub_path`` the app is at the root
    (``location /app/`` becomes ``location /``). An example the text lacks is an error: the
    file and its test must not drift apart."""
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx.conf no longer says {old!r}"
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
class Nginx:
    url: str  # https://localhost:PORT
    port: int
    error_log: Path


@contextmanager
def nginx(
    where: Path, *, port: int, upstream_port: int, sub_path: bool = True, source_address: str | None = None
) -> Iterator[Nginx]:
    """``deploy/nginx.conf`` served on ``port`` (TLS) in front of ``upstream_port``, until the
    block ends. ``source_address``: the loopback address nginx connects to the app from
    (``proxy_bind``), so a test can tell its requests from the test's own."""
    binary = nginx_binary()
    cert, key = self_signed(where)
    site = where / "site.conf"
    replacements = {
        LISTEN: f"listen 127.0.0.1:{port} ssl;",
        CERTIFICATE: str(cert),
        KEY: str(key),
        UPSTREAM: f"server 127.0.0.1:{upstream_port};",
    }
    site.write_text(render(NGINX_CONF.read_text(), replacements, sub_path=sub_path))
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
    command = [binary, "-p", str(where), "-c", str(main), "-e", str(error_log)]
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, f"nginx -t refused deploy/nginx.conf:\n{checked.stderr}"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, error_log)
        yield Nginx(f"https://localhost:{port}", port, error_log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], error_log: Path) -> None:
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{error_log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not listen on {port}:\n{error_log.read_text()}") from None
            time.sleep(0.02)
