"""The attack notebooks' stage: an honest provider and the attacker's own (two dev providers on
loopback), the naive client's and this project's browsers (each its own cookie jar), the
project's login module in-process, and an attacker on the back channel. Nothing leaves loopback.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2
import pandas as pd
import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from requests.adapters import HTTPAdapter
from starlette.applications import Starlette

import devidp
from streamlit_authlib_login._core.config import AuthConfig, ProviderSettings
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.sessions import SessionManager
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._routes import auth_routes
from streamlit_authlib_login._core.refusals import fixed_record
from streamlit_authlib_login._core.validation import ValidationReport
from devidp.personas import BY_SUB

APP_URL = "http://localhost:5000"  # the recipe: demo-web's registered callback is /authorize here
OUR_URL = "http://localhost:8501"  # this project's login module
OUR_CLIENT = "streamlit-app"
EVIL_CLIENT = "evil-app"  # the attacker's own app at the honest provider
EVIL_CALLBACK = "http://127.0.0.1:9/evil/callback"  # never served: the attacker reads the redirect
RECIPE_AT_ATTACKER = "recipe"  # the recipe's client at the attacker's provider
VICTIM, ATTACKER = "alice", "mallory"

Token = dict[str, object]


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def with_query(url: str, drop: tuple[str, ...] = (), **params: str) -> str:
    """``url`` with ``params`` set and ``drop`` removed from its query."""
    kept = {k: v for k, v in query(url).items() if k not in drop} | params
    return f"{url.split('?', 1)[0]}?{urlencode(kept)}"


def username(user: object) -> str | None:
    """The persona a set of claims or a profile is about (by ``sub``), or None."""
    sub = user.get("sub") if isinstance(user, dict) else None
    persona = BY_SUB.get(str(sub)) if sub else None
    return persona.username if persona else None


@dataclass(frozen=True)
class Creds:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Lab:
    """The two providers, and the clients registered at them."""

    honest: devidp.RunningProvider
    attacker: devidp.RunningProvider
    our_secrets: dict[str, str] = field(default_factory=dict)
    evil_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def __post_init__(self) -> None:
        for name, idp in (("honest", self.honest), ("attacker", self.attacker)):
            self.our_secrets[name] = secrets.token_urlsafe(16)
            self.register(idp, OUR_CLIENT, self.our_secrets[name], f"{OUR_URL}/auth/callback/{name}")
        self.register(self.honest, EVIL_CLIENT, self.evil_secret, EVIL_CALLBACK)
        self.register(self.attacker, RECIPE_AT_ATTACKER, "recipe-secret", f"{APP_URL}/authorize")

    @staticmethod
    def register(idp: devidp.RunningProvider, client_id: str, secret: str, *redirect_uris: str) -> None:
        idp.server.register_client(
            devidp.Client(
                client_id=client_id,
                client_secret=secret,
                name=client_id,
                redirect_uris=redirect_uris,
                post_logout_redirect_uris=redirect_uris,
                skip_consent=True,
            )
        )

    @contextmanager
    def fault(self, name: str) -> Iterator[None]:
        """The honest provider with one fault switch on, for the block."""
        self.honest.server.faults.set({name})
        try:
            yield
        finally:
            self.honest.server.faults.set(set())

    def issue(self, creds: Creds, persona: str, nonce: str) -> Token:
        """A genuine token response of the honest provider: ``persona`` logs in to ``creds``' client."""
        url = with_query(
            f"{self.honest.url}/authorize",
            response_type="code",
            client_id=creds.client_id,
            redirect_uri=creds.redirect_uri,
            scope="openid email profile",
            state=secrets.token_urlsafe(8),
            nonce=nonce,
            login_hint=persona,
        )
        location = requests.get(url, allow_redirects=False, timeout=5).headers["location"]
        response = requests.post(
            f"{self.honest.url}/token",
            data={"grant_type": "authorization_code", "code": query(location)["code"]}
            | {"redirect_uri": creds.redirect_uri},
            auth=(creds.client_id, creds.client_secret),
            timeout=5,
        )
        return dict(response.json())

    def our_creds(self) -> Creds:
        return Creds(OUR_CLIENT, self.our_secrets["honest"], f"{OUR_URL}/auth/callback/honest")


_running = ExitStack()


def start_lab() -> Lab:
    """Start the honest provider and the attacker's; they run until ``stop_lab()``."""
    stop_lab()
    return Lab(_running.enter_context(devidp.serve()), _running.enter_context(devidp.serve()))


def stop_lab() -> None:
    _running.close()


@contextmanager
def lab_running() -> Iterator[Lab]:
    with devidp.serve() as honest, devidp.serve() as attacker:
        yield Lab(honest, attacker)


@dataclass(frozen=True)
class Outcome:
    """How one attack went against one client; ``check`` names what refused it."""

    attack: str
    client: str
    succeeded: bool
    result: str
    check: str = ""
    description: str = ""
    report: ValidationReport | None = None

    def __repr__(self) -> str:
        verdict = "SUCCEEDED" if self.succeeded else "REFUSED"
        lines = [f"{self.attack} against {self.client}: {verdict}", f"  {self.result}"]
        if self.check:
            lines.append(f"  refused by: {self.check}")
        if self.description:
            lines.append(f"  {self.description}")
        return "\n".join(lines)


def summary(outcomes: list[Outcome]) -> pd.DataFrame:
    """One row per attack and client: did it work, and what refused it."""
    rows = [
        {
            "attack": o.attack,
            "client": o.client if len(o.client) <= 60 else o.client[:59] + "…",
            "outcome": "succeeded" if o.succeeded else "refused",
            "refused by": o.check,
        }
        for o in outcomes
    ]
    return pd.DataFrame(rows).set_index(["attack", "client"])


class BackChannel:
    """The attacker between an app and the provider's token endpoint (a proxy it controls):
    it can answer the next token request itself, from the genuine answer."""

    def __init__(self) -> None:
        self._answer: Callable[[Token], Token] | None = None

    def answer_next(self, answer: Callable[[Token], Token]) -> None:
        self._answer = answer

    def _rewrite(self, url: str, status: int, body: bytes) -> bytes:
        if not url.endswith("/token") or status != 200 or self._answer is None:
            return body
        answer, self._answer = self._answer, None
        return json.dumps(answer(json.loads(body))).encode()

    def transport(self) -> httpx2.AsyncBaseTransport:
        """For this project's ``Authenticator(transport=...)``."""
        return _Transport(self, httpx2.AsyncHTTPTransport())

    def intercept(self, app: Flask) -> None:
        """Route the recipe's Authlib calls through this channel."""
        channel = self

        class Adapter(HTTPAdapter):
            def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:  # type: ignore[override]
                response = super().send(request, **kwargs)  # type: ignore[arg-type]
                response._content = channel._rewrite(str(request.url), response.status_code, response.content)
                return response

        class Intercepted(OAuth2Session):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, **kwargs)
                self.mount("http://", Adapter())

        for client in app.extensions["authlib.integrations.flask_client"]._clients.values():
            client.client_cls = Intercepted


class _Transport(httpx2.AsyncBaseTransport):
    def __init__(self, channel: BackChannel, inner: httpx2.AsyncBaseTransport) -> None:
        self.channel, self.inner = channel, inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        content = self.channel._rewrite(str(request.url), response.status_code, body)
        return httpx2.Response(response.status_code, headers=headers, content=content)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Person:
    """Someone using the recipe: a browser (Flask's test client for the app, requests for the
    provider), with its own cookies."""

    def __init__(self, app: Flask) -> None:
        self.app = app.test_client()
        self.provider = requests.Session()

    def start(self, path: str = "/login") -> str:
        """Open the app's login: the authorization URL it redirects to."""
        return str(self.app.get(path, base_url=APP_URL).location)

    def authorize(self, url: str, persona: str) -> str:
        """At a provider, as ``persona``: the callback URL it redirects to (not followed)."""
        return self.provider.get(
            with_query(url, login_hint=persona), allow_redirects=False, timeout=5
        ).headers["location"]

    def deliver(self, callback_url: str) -> Exception | str:
        """Follow a callback URL to the app: where it redirects, or the exception it raised."""
        try:
            return str(self.app.get(callback_url.removeprefix(APP_URL), base_url=APP_URL).location)
        except Exception as error:  # the recipe's refusals are Authlib's and joserfc's exceptions
            return error

    def whoami(self) -> str | None:
        return username(self.app.get("/me", base_url=APP_URL).json)


class OurApp:
    """This project's login module as ``app.py`` mounts it (``auth_routes`` over an
    ``Authenticator``), in-process, with the honest and the attacker's provider configured."""

    def __init__(self, lab: Lab, *, channel: BackChannel | None = None) -> None:
        self.lab = lab
        self.config = AuthConfig(
            cookie_secret=secrets.token_urlsafe(32),
            providers=tuple(
                ProviderSettings(
                    name=name,
                    client_id=OUR_CLIENT,
                    client_secret=lab.our_secrets[name],
                    server_metadata_url=f"{idp.url}/.well-known/openid-configuration",
                )
                for name, idp in (("honest", lab.honest), ("attacker", lab.attacker))
            ),
        )
        sessions = SessionManager(MemoryStore(), self.config.cookie_secret, self.config.session)
        self.auth = Authenticator(self.config, sessions, transport=channel.transport() if channel else None)
        self._asgi = httpx2.ASGITransport(app=Starlette(routes=auth_routes(self.auth, login_page="/login")))
        self._browsers: list[httpx2.AsyncClient] = []

    async def __aenter__(self) -> OurApp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for browser in self._browsers:
            await browser.aclose()
        await self.auth.aclose()

    def browser(self) -> httpx2.AsyncClient:
        """A new browser: its own cookie jar; the app in-process, providers over loopback."""
        client = httpx2.AsyncClient(mounts={OUR_URL: self._asgi}, timeout=5)
        self._browsers.append(client)
        return client

    async def start(self, browser: httpx2.AsyncClient, provider: str = "honest", next_path: str = "/") -> str:
        response = await browser.get(f"{OUR_URL}/auth/login/{provider}", params={"next": next_path})
        return response.headers["location"]

    async def authorize(self, browser: httpx2.AsyncClient, url: str, persona: str) -> str:
        return (await browser.get(with_query(url, login_hint=persona))).headers["location"]

    async def deliver(self, browser: httpx2.AsyncClient, callback_url: str) -> str:
        """Follow a callback URL to the app: where it redirects."""
        return (await browser.get(callback_url)).headers["location"]

    def refusal(self, location: str) -> dict[str, object] | None:
        """What the login page says about the refusal a redirect points to: the record (check,
        description, report) of a real callback, which only the browser that got it can read,
        or the fixed sentence of one nothing was stored for (streamlit_authlib_login/_core/refusals.py)."""
        if not location.startswith("/login?"):
            return None
        found = query(location)
        if "failure" not in found:
            return fixed_record(found)
        for browser in self._browsers:  # whichever of the lab's browsers got it
            record = self.auth.sessions.notices.failure(found["failure"], browser.cookies.get("auth_login"))
            if record is not None:
                return record
        return None

    @staticmethod
    def session_cookie(browser: httpx2.AsyncClient) -> str:
        return str(browser.cookies.get("auth_session"))

    @staticmethod
    def plant(browser: httpx2.AsyncClient, session_id: str) -> None:
        """Put a session cookie in ``browser``'s jar (a stolen one, or one to fixate)."""
        browser.cookies.set("auth_session", session_id, domain="localhost.local")

    async def whoami(self, browser: httpx2.AsyncClient) -> str | None:
        response = await browser.get(f"{OUR_URL}/auth/me")
        return username(response.json().get("claims")) if response.status_code == 200 else None

    def outcome(
        self, attack: str, succeeded: bool, result: str, location: str = "", check: str = ""
    ) -> Outcome:
        record = self.refusal(location) or {}
        report = record.get("report")
        return Outcome(
            attack,
            "this project's login module",
            succeeded,
            result,
            check=str(record.get("check", check)),
            description=str(record.get("description", "")),
            report=ValidationReport.from_dict(report) if isinstance(report, dict) else None,
        )
