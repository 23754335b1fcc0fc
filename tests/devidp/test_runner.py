"""Running the provider: only on loopback unless told otherwise (devidp/runner.py, __main__.py)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx2
import pytest

import devidp
from devidp import ProviderConfig
from devidp.__main__ import main
from devidp.runner import NonLoopbackRefused, check_bind_host

REFUSED = ["0.0.0.0", "::", "192.0.2.1", "10.0.0.7", "example.com", ""]
LOOPBACK = ["127.0.0.1", "127.0.0.53", "::1", "localhost"]


@pytest.mark.parametrize("host", REFUSED)
def test_non_loopback_bind_is_refused(host):
    """Binding anywhere a neighbour could reach is refused: the provider logs anyone in."""
    with pytest.raises(NonLoopbackRefused, match="Refusing to serve"):
        check_bind_host(host, ProviderConfig())


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_bind_is_allowed(host):
    """Loopback addresses and localhost pass."""
    check_bind_host(host, ProviderConfig())


@pytest.mark.parametrize("host", REFUSED)
def test_allow_non_loopback_lifts_the_refusal(host):
    """Someone who really means it can set allow_non_loopback."""
    check_bind_host(host, ProviderConfig(allow_non_loopback=True))


def test_serve_refuses_before_binding():
    """serve() on 0.0.0.0 raises before it opens any socket."""
    with pytest.raises(NonLoopbackRefused), devidp.serve(host="0.0.0.0"):
        pytest.fail("the provider must not start")


def test_serve_answers_on_loopback_and_stops_afterwards():
    """serve() yields a URL on a free loopback port that answers, and frees the port when done."""
    with devidp.serve() as running:
        url = urlsplit(running.url)
        assert url.hostname == "127.0.0.1"
        assert url.port
        metadata = httpx2.get(f"{running.url}/.well-known/openid-configuration").json()
        assert metadata["issuer"] == running.url
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", url.port), timeout=1):
        pass


def test_command_line_refuses_a_non_loopback_host(monkeypatch, capsys):
    """python -m devidp --host 0.0.0.0 exits with status 2 and says why."""
    monkeypatch.setattr("sys.argv", ["devidp", "--host", "0.0.0.0"])
    monkeypatch.delenv("DEVIDP_ALLOW_NON_LOOPBACK", raising=False)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "Refusing to serve the development provider on '0.0.0.0'" in capsys.readouterr().err


def test_command_line_client_needs_a_secret_and_a_redirect_uri(monkeypatch, capsys):
    """--client ID:SECRET without --redirect-uri is a usage error that says what is missing."""
    monkeypatch.setattr("sys.argv", ["devidp", "--client", "my-app:my-secret"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "--client needs ID:SECRET and at least one --redirect-uri" in capsys.readouterr().err
