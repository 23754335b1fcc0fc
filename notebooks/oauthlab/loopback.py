"""A browser on the reader's machine and a one-shot server on loopback: how a notebook (like a
CLI) receives a real provider's redirect (RFC 8252 §7.3)."""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


class _QuietHandler(WSGIRequestHandler):
    # The default handler writes an access log line to stderr, into the notebook's output.
    def log_message(self, format: str, *args: object) -> None:
        return None


def serve_until(
    app: WSGIApplication,
    *,
    start_url: str,
    done_path: str,
    port: int,
    host: str = "127.0.0.1",
    open_browser: Callable[[str], object] = webbrowser.open,
    timeout: float = 300.0,
) -> None:
    """Serve a WSGI ``app`` on loopback, open ``start_url`` in a browser, and return once
    a request to ``done_path`` has been answered (RFC 8252 §7.3: loopback redirects)."""
    done = threading.Event()

    def watched(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = list(app(environ, start_response))
        if environ.get("PATH_INFO") == done_path:
            done.set()
        return body

    server = make_server(host, port, watched, handler_class=_QuietHandler)
    server.timeout = 0.5  # wake up twice a second to check the deadline
    # Opening the browser may block (some openers wait for the browser); the server must listen.
    threading.Thread(target=open_browser, args=(start_url,), daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while not done.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no request to {done_path} within {timeout:.0f} s")
            server.handle_request()
    finally:
        server.server_close()


def catch_redirect(
    authorization_url: str,
    redirect_uri: str,
    *,
    open_browser: Callable[[str], object] = webbrowser.open,
    timeout: float = 300.0,
) -> str:
    """Open ``authorization_url`` in a browser and return the URL the provider redirects it to,
    caught by a one-shot server on the loopback ``redirect_uri`` (as CLIs and notebooks do)."""
    caught: list[str] = []
    parts = urlsplit(redirect_uri)

    def callback(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("PATH_INFO") == parts.path:
            caught.append(f"{redirect_uri}?{environ.get('QUERY_STRING', '')}")
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"You are logged in. You can close this tab and go back to the notebook."]

    serve_until(
        callback,
        start_url=authorization_url,
        done_path=parts.path,
        port=parts.port or 80,
        host=parts.hostname or "127.0.0.1",
        open_browser=open_browser,
        timeout=timeout,
    )
    return caught[0]
