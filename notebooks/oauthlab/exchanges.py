"""HTTP exchanges printed as they happen: method, URL, status, the headers that matter and
the bodies, secrets masked. A ``requests`` response hook, so the notebook's own calls stay
plain ``requests`` and Authlib calls."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qsl

import requests
from authlib.integrations.requests_client import OAuth2Session

from .masking import masked, masked_header, masked_url

if TYPE_CHECKING:
    from flask import Flask

SHOWN_REQUEST_HEADERS = ("authorization", "content-type", "cookie", "accept")
SHOWN_RESPONSE_HEADERS = ("location", "content-type", "cache-control", "set-cookie", "www-authenticate")
HEADER_NAMES = {"www-authenticate": "WWW-Authenticate"}  # str.title() would say Www-Authenticate
WIDTH = 78

Session = TypeVar("Session", bound=requests.Session)


def show(response: requests.Response, title: str = "") -> None:
    """Print one exchange: method, URL, status, the headers that matter, bodies; secrets masked."""
    request = response.request
    heading = f"── {title} " if title else ""
    print(heading + "─" * max(4, WIDTH - len(heading)))
    print(f"→ {request.method} {masked_url(str(request.url))}")
    for name in SHOWN_REQUEST_HEADERS:
        # requests sends Accept: */* on every call; it says nothing about the protocol.
        if name in request.headers and not (name == "accept" and request.headers[name] == "*/*"):
            print(f"  {name.title()}: {masked_header(name, request.headers[name])}")
    _print_body(request.body, request.headers.get("content-type", ""))
    print(f"← {response.status_code} {response.reason}")
    for name in SHOWN_RESPONSE_HEADERS:
        if name in response.headers:
            shown = masked_header(name, response.headers[name])
            print(f"  {HEADER_NAMES.get(name, name.title())}: {shown}")
    _print_body(response.content, response.headers.get("content-type", ""))


def _print_body(content: bytes | str | None, content_type: str) -> None:
    if text := _body(content, content_type):
        print("  " + text.replace("\n", "\n  "))


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
        lines = [f'  "{k}": {json.dumps(v, ensure_ascii=False)}' for k, v in masked(data).items()]
        return "{\n" + ",\n".join(_clip(line) for line in lines) + "\n}"
    if "x-www-form-urlencoded" in content_type:
        return "\n".join(f"{k}={v}" for k, v in masked(dict(parse_qsl(text))).items())
    if "html" in content_type:
        return _page(text)
    return text[:500]


def _page(html: str) -> str:
    # A login page's markup is noise here; its title and the fields its form posts are the story.
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    fields = sorted(hidden_fields(html))
    shown = f"<HTML page, {len(html)} characters"
    if title:
        shown += f", titled {title.group(1).strip()!r}"
    if fields:
        shown += f"; hidden form fields: {', '.join(fields)}"
    return shown + ">"


def _clip(line: str, width: int = 150) -> str:
    return line if len(line) <= width else f"{line[: width - 12]} … {line[-8:]}"


def _on_response(response: requests.Response, *args: object, **kwargs: object) -> None:
    show(response)


def trace(session: Session) -> Session:
    """Make ``session`` print every exchange it makes (a requests response hook)."""
    session.hooks["response"].append(_on_response)
    return session


def is_traced(session: requests.Session) -> bool:
    """Whether ``trace()`` was applied to ``session``."""
    return _on_response in session.hooks["response"]


class TracedOAuth2Session(OAuth2Session):
    """Authlib's requests client that prints every exchange, for clients Authlib creates itself."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        trace(self)


def watch(flask_app: Flask) -> None:
    """Print every request Authlib's Flask client makes for ``flask_app`` (not part of any recipe)."""
    # Authlib builds its session per request from ``client_cls``; swapping the class is the
    # only way in without changing the recipe's code.
    registry = flask_app.extensions["authlib.integrations.flask_client"]
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
