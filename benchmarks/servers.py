"""The servers a login benchmark talks to, each on a real loopback socket.

``serve_provider`` runs a standalone dev provider; ``streamlit_with_secrets`` runs a script
(``app.py``, or the tiny ``st.login`` app of ``streamlit_login_app``) with ``streamlit run``
in a subprocess, configured through a generated secrets file. Our own app runs under
``devidp.runner.serve_asgi``, on a ``bind_socket()`` socket: that one names ``IPPROTO_TCP``,
so asyncio turns Nagle's algorithm off (``TCP_NODELAY``), which Streamlit 1.67's own
listener does not (section 5 of the benchmark shows the ~40 ms stall that costs).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import OctKey

import devidp
from devidp.runner import bind_socket, serve_asgi

from .streamlit_process import streamlit_run

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]

ST_LOGIN_SCRIPT = """\
import streamlit as st

if st.user.is_logged_in:
    st.write(f"Hello, {st.user.name}")
    st.button("Log out", on_click=st.logout)
else:
    st.button("Log in", on_click=st.login)
"""


@contextmanager
def serve_provider(config: devidp.ProviderConfig, *, as_shipped: bool) -> Iterator[devidp.RunningProvider]:
    """A standalone dev provider on loopback: ``devidp.serve`` itself when ``as_shipped``,
    else the same app under ``serve_asgi`` on a ``bind_socket()`` socket."""
    if as_shipped:
        with devidp.serve(config) as running:
            yield running
        return
    server = devidp.DevAuthorizationServer(config)
    with serve_asgi(devidp.create_app(server), bind_socket(LOOPBACK), name="bench-provider") as url:
        yield devidp.RunningProvider(url, server)


@dataclass(frozen=True)
class StreamlitLoginApp:
    """A running ``streamlit run`` of ``ST_LOGIN_SCRIPT``."""

    url: str
    cookie_secret: str

    def provider_token(self, provider: str = "default") -> str:
        """What ``st.login()`` hands the browser: an HS256 JWT of the provider name,
        signed with ``cookie_secret``, good for two minutes (``streamlit.auth_util``)."""
        claims = {"provider": provider, "exp": int(time.time()) + 120}
        return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(self.cookie_secret))


@contextmanager
def streamlit_login_app(
    *, port: int, client_id: str, client_secret: str, server_metadata_url: str
) -> Iterator[StreamlitLoginApp]:
    """``streamlit run`` a one-button ``st.login`` app on ``localhost:port`` until the block ends."""
    cookie_secret = secrets.token_urlsafe(48)
    url = f"http://localhost:{port}"
    secrets_toml = (
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{client_id}"\n'
        f'client_secret = "{client_secret}"\n'
        f'server_metadata_url = "{server_metadata_url}"\n'
        # st.login sends prompt=select_account unless told otherwise, and the dev provider then
        # shows its account chooser, as Google does; our logins send no prompt. `none` (with the
        # benchmark's login_hint) makes both sides skip every page: the same provider work.
        'client_kwargs = { prompt = "none" }\n'
    )
    with tempfile.TemporaryDirectory(prefix="bench-st-login-") as scratch:
        script = Path(scratch) / "streamlit_app.py"
        script.write_text(ST_LOGIN_SCRIPT)
        with streamlit_with_secrets(script, cwd=Path(scratch), port=port, secrets_toml=secrets_toml):
            yield StreamlitLoginApp(url=url, cookie_secret=cookie_secret)


@contextmanager
def streamlit_with_secrets(script: Path, *, cwd: Path, port: int, secrets_toml: str) -> Iterator[str]:
    """``streamlit run script`` on ``localhost:port`` with ``secrets_toml`` (written to
    ``.streamlit/secrets.toml`` under ``cwd``) until the block ends; yields the app's URL. Neither
    ``AUTH_*`` nor ``STREAMLIT_*`` variables reach it: the secrets file is its whole config."""
    secrets_file = cwd / ".streamlit" / "secrets.toml"
    secrets_file.parent.mkdir(exist_ok=True)
    secrets_file.write_text(secrets_toml)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    with streamlit_run(
        script,
        cwd=cwd,
        log=cwd / "streamlit.log",
        port=port,
        args=("--server.address", LOOPBACK, "--secrets.files", str(secrets_file)),
        env=env,
        timeout=60,
    ) as url:
        yield url
