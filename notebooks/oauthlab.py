"""What the tutorial notebooks share: the dev provider, a printer of HTTP exchanges
with secrets masked, tables of tokens and claims, sequence diagrams, and the bridge
to a real provider (credentials from the environment, a browser, a loopback callback).

Protocol steps stay in the notebooks; only the plumbing lives here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, unquote_plus, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

# The notebooks run with notebooks/ as their working directory; the project's
# packages (devidp, auth) live one level up.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402

import devidp  # noqa: E402
from auth.errors import TokenValidationError  # noqa: E402
from auth.trace import mask, masked_params  # noqa: E402
from auth.validation import ValidationReport, validate_id_token  # noqa: E402

__all__ = [
    "ROOT",
    "RealProvider",
    "TracedOAuth2Session",
    "catch_redirect",
    "claims_table",
    "decode_jwt",
    "hidden_fields",
    "jwt_table",
    "log_in",
    "mask",
    "params_table",
    "poll_for_token",
    "provider_log",
    "real_login",
    "real_provider",
    "report_table",
    "sequence",
    "serve_until",
    "show",
    "start_provider",
    "stop_provider",
    "trace",
    "validation_report",
    "watch",
]

# --- the dev provider, running for the whole notebook ----------------------------------

_running = ExitStack()


def start_provider(config: devidp.ProviderConfig | None = None) -> devidp.RunningProvider:
    """Start the dev provider on a free loopback port; it runs until ``stop_provider()``."""
    stop_provider()
    return _running.enter_context(devidp.serve(config))


def stop_provider() -> None:
    _running.close()


def provider_log(idp: devidp.RunningProvider, since: int = 0) -> pd.DataFrame:
    """What the provider saw (its own journal, already masked), with its spec warnings."""
    entries = requests.get(f"{idp.url}/log", params={"since": since}, timeout=5).json()["entries"]
    rows = [
        {
            "id": e["id"],
            "request": f"{e['method']} {e['path']}",
            "status": e["status"],
            "warnings": "\n".join(e["warnings"]) or "",
        }
        for e in entries
        if e["path"] != "/log"
    ]
    return pd.DataFrame(rows, columns=["id", "request", "status", "warnings"]).set_index("id")


# --- printing HTTP exchanges with secrets masked -----------------------------------------

SECRET_FIELDS = frozenset({"client_secret", "password", "csrf"})
SHOWN_REQUEST_HEADERS = ("authorization", "content-type", "cookie", "accept")
SHOWN_RESPONSE_HEADERS = ("location", "content-type", "cache-control", "set-cookie", "www-authenticate")
HEADER_NAMES = {"www-authenticate": "WWW-Authenticate"}


def _masked(params: Mapping[str, object]) -> dict[str, object]:
    out = masked_params(params)
    return {k: "••••••" if k in SECRET_FIELDS else v for k, v in out.items()}


def _header(name: str, value: str) -> str:
    lower = name.lower()
    if lower == "authorization":
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            # RFC 6749 §2.3.1: client_id:client_secret, base64. Show who, never the secret.
            client_id = base64.b64decode(credentials).decode().split(":", 1)[0]
            return f"Basic base64({client_id}:••••••)"
        return f"{scheme} {mask(credentials)}"
    if lower in ("cookie", "set-cookie"):
        return re.sub(
            r"=([^;,\s]+)", lambda m: "=" + ("••••••" if len(m.group(1)) > 8 else m.group(1)), value
        )
    if lower == "location":
        return _masked_url(value)
    return value


def _clip(line: str, width: int = 150) -> str:
    return line if len(line) <= width else f"{line[: width - 12]} … {line[-8:]}"


def _masked_url(url: str) -> str:
    """The URL with tokens in its query masked; everything else exactly as sent."""
    base, _, query = url.partition("?")
    if not query:
        return url
    pairs = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        name = unquote_plus(key)
        shown = _masked({name: unquote_plus(value)})[name]
        pairs.append(pair if shown == unquote_plus(value) else f"{key}={shown}")
    return f"{base}?{'&'.join(pairs)}"


def _body(content: bytes | str | None, content_type: str) -> str:
    if not content:
        return ""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            return text[:500]
        if not isinstance(data, dict) or not data:
            return _clip(json.dumps(data, ensure_ascii=False))
        lines = [f'  "{k}": {json.dumps(v, ensure_ascii=False)}' for k, v in _masked(data).items()]
        return "{\n" + ",\n".join(_clip(line) for line in lines) + "\n}"
    if "x-www-form-urlencoded" in content_type:
        return "\n".join(f"{k}={v}" for k, v in _masked(dict(parse_qsl(text))).items())
    if "html" in content_type:
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        fields = sorted(hidden_fields(text))
        shown = f"<HTML page, {len(text)} characters"
        if title:
            shown += f", titled {title.group(1).strip()!r}"
        if fields:
            shown += f"; hidden form fields: {', '.join(fields)}"
        return shown + ">"
    return text[:500]


def show(response: requests.Response, title: str = "") -> None:
    """Print one exchange: method, URL, status, the headers that matter, bodies; secrets masked."""
    request = response.request
    heading = f"── {title} " if title else ""
    print(heading + "─" * max(4, 78 - len(heading)))
    print(f"→ {request.method} {_masked_url(str(request.url))}")
    for name in SHOWN_REQUEST_HEADERS:
        if name in request.headers and not (name == "accept" and request.headers[name] == "*/*"):
            print(f"  {name.title()}: {_header(name, request.headers[name])}")
    sent = _body(request.body, request.headers.get("content-type", ""))
    if sent:
        print("  " + sent.replace("\n", "\n  "))
    print(f"← {response.status_code} {response.reason}")
    for name in SHOWN_RESPONSE_HEADERS:
        if name in response.headers:
            print(f"  {HEADER_NAMES.get(name, name.title())}: {_header(name, response.headers[name])}")
    received = _body(response.content, response.headers.get("content-type", ""))
    if received:
        print("  " + received.replace("\n", "\n  "))


def _on_response(response: requests.Response, *args: object, **kwargs: object) -> None:
    show(response)


def trace(session: requests.Session) -> requests.Session:
    """Make ``session`` print every exchange it makes (a requests response hook)."""
    session.hooks["response"].append(_on_response)
    return session


class TracedOAuth2Session(OAuth2Session):
    """Authlib's requests client that prints every exchange, for clients Authlib creates itself."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        trace(self)


def watch(flask_app: object) -> None:
    """Print every request Authlib's Flask client makes for ``flask_app`` (not part of any recipe)."""
    registry = flask_app.extensions["authlib.integrations.flask_client"]  # type: ignore[attr-defined]
    for client in registry._clients.values():
        client.client_cls = TracedOAuth2Session


class _HiddenFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden form fields a browser would submit with a page's form."""
    parser = _HiddenFields()
    parser.feed(html)
    return parser.fields


# --- a whole login against the dev provider ------------------------------------------------


@dataclass(frozen=True)
class Login:
    """What a finished login leaves the app: the token response, and the nonce it must check."""

    token: dict[str, object]
    nonce: str
    callback_url: str


def log_in(
    session: OAuth2Session,
    metadata: Mapping[str, object],
    persona: str,
    *,
    browser: requests.Session | None = None,
    **params: str,
) -> Login:
    """Notebook 02's steps in one call, ``login_hint`` standing in for the person: PKCE, state,
    nonce, the provider's redirect, the checked callback, the code exchange. If ``session`` was
    passed through ``trace()``, the browser's and the app's exchanges are printed. Pass a
    ``browser`` to keep the provider's login-session cookie it receives."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        str(metadata["authorization_endpoint"]),
        code_verifier=verifier,
        nonce=nonce,
        login_hint=persona,
        **params,
    )
    if browser is None:
        browser = requests.Session()
        if _on_response in session.hooks["response"]:
            trace(browser)
    callback_url = browser.get(url, allow_redirects=False).headers["location"]
    token = session.fetch_token(
        str(metadata["token_endpoint"]),
        authorization_response=callback_url,
        state=state,
        code_verifier=verifier,
    )
    return Login(dict(token), nonce, callback_url)


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def poll_for_token(
    session: requests.Session,
    token_endpoint: str,
    device_code: str,
    *,
    interval: int,
    expires_in: int,
    client_id: str,
    client_secret: str | None = None,
) -> requests.Response:
    """Poll the token endpoint as RFC 8628 §3.4–3.5 asks: every ``interval`` seconds, five more
    after ``slow_down``, until tokens, ``access_denied`` or ``expired_token`` (or time runs out)."""
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id}
    if client_secret:
        data["client_secret"] = client_secret
    deadline = time.monotonic() + expires_in
    while True:
        time.sleep(interval)
        response = session.post(token_endpoint, data=data)
        error = response.json().get("error") if response.status_code == 400 else None
        if error == "slow_down":
            interval += 5  # RFC 8628 §3.5
        if error not in ("authorization_pending", "slow_down") or time.monotonic() > deadline:
            return response


# --- tables --------------------------------------------------------------------------------

MEANING = {
    "alg": "signature algorithm",
    "kid": "which key of the provider's JWKS signed it",
    "typ": "token type",
    "iss": "issuer: who made the token",
    "sub": "subject: who it is about (the user; for machine tokens, the client)",
    "aud": "audience: who the token is for",
    "azp": "authorized party: the client it was issued to",
    "exp": "expires at",
    "iat": "issued at",
    "nbf": "not valid before",
    "auth_time": "when the user actually logged in",
    "nonce": "the value the app sent, echoed back (replay protection)",
    "at_hash": "left half of SHA-256 of the access token",
    "acr": "authentication context class",
    "amr": "authentication methods used",
    "sid": "login session id at the provider",
    "jti": "unique token id",
    "scope": "what the token allows",
    "client_id": "the client the token was issued to",
    "active": "is the token usable right now",
    "token_type": "how to present the token",
    "username": "the user's login name",
    "name": "full name",
    "given_name": "first name",
    "family_name": "last name",
    "preferred_username": "username (not unique, not stable)",
    "picture": "avatar URL",
    "locale": "language",
    "zoneinfo": "time zone",
    "updated_at": "profile last changed",
    "email": "email address",
    "email_verified": "did the provider verify the email",
    "groups": "groups (a custom claim)",
    "roles": "roles (a custom claim)",
}
TIME_CLAIMS = frozenset({"exp", "iat", "nbf", "auth_time", "updated_at"})


def _value(name: str, value: object) -> str:
    if name in TIME_CLAIMS and isinstance(value, int):
        return f"{value}  ({datetime.fromtimestamp(value, UTC):%Y-%m-%d %H:%M:%S} UTC)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, str) and name in ("nonce", "at_hash", "jti", "sid") and len(value) > 24:
        return mask(value)
    return str(value)


def claims_table(claims: Mapping[str, object]) -> pd.DataFrame:
    """Claims as a table: name, value (times made readable), what it means."""
    rows = [{"claim": k, "value": _value(k, v), "meaning": MEANING.get(k, "")} for k, v in claims.items()]
    return pd.DataFrame(rows, columns=["claim", "value", "meaning"]).set_index("claim")


def params_table(url_or_params: str | Mapping[str, str]) -> pd.DataFrame:
    """The query parameters of a URL (or a dict of parameters) as a table, tokens masked."""
    params = (
        dict(parse_qsl(urlsplit(url_or_params).query)) if isinstance(url_or_params, str) else url_or_params
    )
    rows = [{"parameter": k, "value": v} for k, v in _masked(params).items()]
    return pd.DataFrame(rows, columns=["parameter", "value"]).set_index("parameter")


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode_jwt(token: str) -> tuple[dict[str, object], dict[str, object]]:
    """A JWT's header and claims, read WITHOUT checking anything: for looking, never for trusting."""
    header, payload, _ = token.split(".")
    return json.loads(_b64decode(header)), json.loads(_b64decode(payload))


def jwt_table(token: str) -> pd.DataFrame:
    """A JWT laid out: header fields, payload claims, and the signature (masked)."""
    header, claims = decode_jwt(token)
    signature = token.rsplit(".", 1)[1]
    rows = [
        *(
            {"part": "header", "name": k, "value": _value(k, v), "meaning": MEANING.get(k, "")}
            for k, v in header.items()
        ),
        *(
            {"part": "payload", "name": k, "value": _value(k, v), "meaning": MEANING.get(k, "")}
            for k, v in claims.items()
        ),
        {
            "part": "signature",
            "name": "",
            "value": f"{mask(signature)}  ({len(_b64decode(signature)) if signature else 0} bytes)",
            "meaning": f"{header.get('alg')} over base64url(header).base64url(payload)",
        },
    ]
    return pd.DataFrame(rows).set_index(["part", "name"])


def validation_report(id_token: str, **expected: object) -> ValidationReport:
    """``auth.validation.validate_id_token``, returning the report whether the token passes or not."""
    try:
        return validate_id_token(id_token, **expected)  # type: ignore[arg-type]
    except TokenValidationError as error:
        return error.report


def report_table(report: ValidationReport) -> pd.DataFrame:
    rows = [
        {
            "check": c.name,
            "ok": "✓" if c.passed else "✗",
            "expected": c.expected,
            "actual": _value(c.name, c.actual) if c.name in ("nonce", "at_hash") else c.actual,
            "spec": c.spec,
        }
        for c in report.checks
    ]
    return pd.DataFrame(rows).set_index("check")


# --- sequence diagrams ------------------------------------------------------------------------


BOX = 'fill="#eef2ff" stroke="#4f46e5"'
LIFELINE = 'stroke="#aaa" stroke-dasharray="3,3"'
ARROW = 'stroke="#333" marker-end="url(#a)"'


@dataclass(frozen=True)
class Sequence:
    """A sequence diagram from lines like ``App -> Provider: POST /token`` (``-->`` for replies).

    Jupyter shows it as SVG; plain-text viewers see the source, which reads fine too.
    """

    source: str

    def _messages(self) -> list[tuple[str, str, str, bool]]:
        found = []
        for line in self.source.strip().splitlines():
            match = re.match(r"\s*(.+?)\s*(-->|->)\s*(.+?)\s*:\s*(.*)", line)
            if match:
                src, arrow, dst, label = match.groups()
                found.append((src, dst, label, arrow == "-->"))
        return found

    def __repr__(self) -> str:
        return "\n".join(line.strip() for line in self.source.strip().splitlines())

    def _repr_svg_(self) -> str:
        messages = self._messages()
        people: list[str] = []
        for src, dst, _, _ in messages:
            people += [p for p in (src, dst) if p not in people]
        longest = max(
            (len(label) / max(1, abs(people.index(s) - people.index(d))) for s, d, label, _ in messages),
            default=0,
        )
        gap, row, top = int(min(340, max(190, 6.4 * longest + 24))), 30, 46
        width, height = gap * len(people), top + row * len(messages) + 20
        x = {p: gap * i + gap // 2 for i, p in enumerate(people)}
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            'font-family="sans-serif" font-size="12">',
            "<style>text { paint-order: stroke; stroke: white; stroke-width: 4px; }</style>",
            '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
            '<path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>',
        ]
        for p in people:
            parts.append(
                f'<rect x="{x[p] - 80}" y="4" width="160" height="26" rx="5" {BOX}/>'
                f'<text x="{x[p]}" y="21" text-anchor="middle" font-weight="bold" stroke="none">'
                f"{escape(p)}</text>"
                f'<line x1="{x[p]}" y1="30" x2="{x[p]}" y2="{height - 4}" {LIFELINE}/>'
            )
        for i, (src, dst, label, reply) in enumerate(messages):
            y = top + row * i + 12
            dash = ' stroke-dasharray="5,3"' if reply else ""
            if src == dst:  # a step the participant takes on its own
                parts.append(
                    f'<path d="M{x[src]},{y - 8} h24 v12 h-22" fill="none" {ARROW}/>'
                    f'<text x="{x[src] + 30}" y="{y}">{escape(label)}</text>'
                )
                continue
            parts.append(
                f'<line x1="{x[src]}" y1="{y}" x2="{x[dst]}" y2="{y}"{dash} {ARROW}/>'
                f'<text x="{(x[src] + x[dst]) / 2}" y="{y - 4}" text-anchor="middle">{escape(label)}</text>'
            )
        parts.append("</svg>")
        return "".join(parts)


def sequence(source: str) -> Sequence:
    return Sequence(source)


# --- pointing a notebook at a real provider -------------------------------------------------


@dataclass(frozen=True)
class RealProvider:
    """A real provider's client registration, read from ``AUTH_<NAME>_*`` environment variables
    (the same names the app reads, see auth/config.py)."""

    name: str
    client_id: str
    client_secret: str | None
    metadata_url: str

    def metadata(self) -> dict[str, object]:
        return dict(requests.get(self.metadata_url, timeout=10).json())


def real_provider(
    name: str, metadata_url: str | None = None, *, discovery: bool = True, secret_required: bool = True
) -> RealProvider | None:
    """The registration from the environment, or None after printing why this part is skipped.

    ``discovery=False`` for OAuth-only providers (GitHub) that publish no metadata.
    """
    prefix = f"AUTH_{name.upper()}_"
    values = {key: os.environ.get(prefix + key, "") for key in ("CLIENT_ID", "CLIENT_SECRET", "METADATA_URL")}
    url = values["METADATA_URL"] or metadata_url or ""
    needed = ["CLIENT_ID", *(["CLIENT_SECRET"] if secret_required else [])]
    missing = [prefix + key for key in needed if not values[key]]
    if discovery and not url:
        missing.append(prefix + "METADATA_URL")
    if missing:
        print(f"Skipped: set {', '.join(missing)} to run this part against {name}.")
        return None
    return RealProvider(name, values["CLIENT_ID"], values["CLIENT_SECRET"] or None, url)


LOOPBACK_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class RealLogin:
    metadata: dict[str, object]
    session: OAuth2Session
    token: dict[str, object]
    nonce: str


def real_login(
    real: RealProvider, scope: str, redirect_uri: str = LOOPBACK_REDIRECT_URI, **params: str
) -> RealLogin:
    """Notebook 02's steps against a real provider, in a real browser: discovery, PKCE, state,
    nonce, the loopback callback, the code exchange. Every exchange is printed."""
    metadata = real.metadata()
    session = trace(
        OAuth2Session(
            real.client_id,
            real.client_secret,
            scope=scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint=str(metadata["token_endpoint"]),
        )
    )
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        str(metadata["authorization_endpoint"]), code_verifier=verifier, nonce=nonce, **params
    )
    landed = catch_redirect(url, redirect_uri)
    token = session.fetch_token(
        str(metadata["token_endpoint"]), authorization_response=landed, state=state, code_verifier=verifier
    )
    return RealLogin(metadata, session, dict(token), nonce)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


def serve_until(
    app: Callable[..., Iterable[bytes]],
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

    def watched(environ: dict[str, object], start_response: Callable[..., object]) -> Iterable[bytes]:
        body = list(app(environ, start_response))
        if environ.get("PATH_INFO") == done_path:
            done.set()
        return body

    server: WSGIServer = make_server(host, port, watched, handler_class=_QuietHandler)
    server.timeout = 0.5
    opener = threading.Thread(target=open_browser, args=(start_url,), daemon=True)
    opener.start()
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

    def callback(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
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
