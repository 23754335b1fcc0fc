"""The app side of the auth tests: the composition of ``app.py``, driven like a browser.

``LoginApp`` holds our routes and the real embedded provider in one Starlette
app, as ``app.py`` composes them: the ``Authenticator`` reaches the dev provider
by its in-process transport (``devidp.embed``) and any other provider through
the app itself, so nothing needs a socket. Nothing here stands in for Authlib or
the provider: every helper talks to the real thing.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx2
from joserfc import jwt
from joserfc.jwk import OctKey
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from devidp import Client, DevAuthorizationServer, embed, runner
from streamlit_authlib_login._core.config import AuthConfig, HttpSettings, ProviderSettings, SessionSettings
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.playground import PURPOSE as PLAYGROUND
from streamlit_authlib_login._core.playground import PlaygroundFinisher
from streamlit_authlib_login._core.refusals import fixed_record
from streamlit_authlib_login._core.sessions import SessionManager
from streamlit_authlib_login._core.store import KeyValueStore, MemoryStore
from streamlit_authlib_login._devmode import LocalProviders, dev_provider_settings
from streamlit_authlib_login._routes import auth_routes, cookie_name

COOKIE_SECRET = "test-cookie-secret-0123456789abcdefghijklmnopqrstuvwxyz"
DEV_CLIENT_SECRET = "test-dev-client-secret"
LOGIN_PAGE = "/login"  # the dashboard's, which app.py passes to with_login; the library has none
INTROSPECTOR = ("demo-web", "demo-web-secret")
SESSION_COOKIE = "auth_session"
BINDING_COOKIE = "auth_login"


BuildApp = Callable[..., "LoginApp"]


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def with_params(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def set_cookies(response: httpx2.Response) -> dict[str, str]:
    """The Set-Cookie headers of a response, by cookie name (whole header as value)."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def cookie_value(header: str) -> str:
    return header.split("=", 1)[1].split(";", 1)[0]


class _Forms(HTMLParser):
    """The forms of a page: action, method and the fields they would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action") or "", "fields": {}})
        elif tag in ("input", "button") and self.forms and values.get("name"):
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            if tag == "input" or values["name"] == "consent":
                fields.setdefault(values["name"], values.get("value") or "")


def forms(html: str) -> list[dict[str, object]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def dev_config(
    *,
    providers: Sequence[ProviderSettings] = (),
    dev: bool = True,
    base_url: str | None = None,
    redirect_uri: str | None = None,
    session: SessionSettings | None = None,
    http: HttpSettings | None = None,
    base_path: str = "",
) -> AuthConfig:
    """An AuthConfig with the embedded dev provider (fixed client secret) plus ``providers``;
    ``redirect_uri``: st.login's one callback URI for all of them; ``base_path``: the sub-path
    the server serves the app under (Streamlit's ``server.baseUrlPath``)."""
    listed = (*providers, dev_provider_settings(DEV_CLIENT_SECRET)) if dev else tuple(providers)
    return AuthConfig(
        cookie_secret=COOKIE_SECRET,
        providers=listed,
        base_url=base_url,
        base_path=base_path,
        redirect_uri=redirect_uri,
        dev_provider_enabled=dev,
        session=session or SessionSettings(),
        http=http or HttpSettings(),
    )


def second_provider(idp: DevAuthorizationServer) -> ProviderSettings:
    """Another OIDC provider beside the dev one: the same server, a client of its own."""
    idp.register_client(
        Client(
            client_id="second-app",
            client_secret="second-secret",
            name="second",
            redirect_uris=("http://localhost/auth/callback/second",),
        )
    )
    return ProviderSettings(
        name="second",
        client_id="second-app",
        client_secret="second-secret",
        server_metadata_url="http://localhost/idp/.well-known/openid-configuration",
    )


class Latency(httpx2.AsyncBaseTransport):
    """A provider some milliseconds away: in-process calls otherwise never overlap."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(self.seconds)
        return await self.inner.handle_async_request(request)


@dataclass
class TestLocalProviders(LocalProviders):
    """Development mode as app.py has it, and a provider some milliseconds away."""

    latency: float = 0.0

    def transport(self, settings: ProviderSettings) -> httpx2.AsyncBaseTransport | None:
        inner = super().transport(settings)
        return Latency(inner, self.latency) if inner is not None and self.latency else inner


def compose(
    idp: DevAuthorizationServer,
    config: AuthConfig,
    store: KeyValueStore,
    *,
    transport: httpx2.AsyncBaseTransport | None,
    dev_in_process: bool = False,
    latency: float = 0.0,
    extra_routes: Sequence[BaseRoute] = (),
    login_page: str | None = LOGIN_PAGE,
) -> tuple[Authenticator, list[BaseRoute]]:
    """What ``app.py`` builds: an Authenticator, and the routes (ours, then the provider at /idp).

    ``transport`` carries the app's calls to providers (None: the network); with
    ``dev_in_process`` the dev provider is reached by its own in-process transport, as in app.py.
    """
    provider = embed(f"{config.base_path}/idp", server=idp)  # as _devmode.py mounts it
    local = (
        TestLocalProviders(provider, "The app under test", in_process=dev_in_process, latency=latency)
        if config.dev_provider_enabled
        else None
    )
    if latency:
        transport = transport and Latency(transport, latency)
    sessions = SessionManager(store, config.cookie_secret, config.session)
    finishers = {PLAYGROUND: PlaygroundFinisher(sessions.notices)}
    authenticator = Authenticator(config, sessions, transport=transport, local=local, finishers=finishers)
    routes = auth_routes(authenticator, login_page=login_page)
    return authenticator, [*routes, *provider.routes, *extra_routes]


@dataclass
class LoginApp:
    """Our routes and the real provider in one in-process app, plus browser-like helpers."""

    idp: DevAuthorizationServer
    auth: Authenticator
    app: Starlette
    transport: httpx2.ASGITransport
    base_url: str = "http://localhost"
    _browsers: list[httpx2.AsyncClient] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/idp"

    def browser(self) -> httpx2.AsyncClient:
        """A new user agent: its own cookie jar, redirects not followed."""
        client = httpx2.AsyncClient(transport=self.transport, base_url=self.base_url)
        self._browsers.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._browsers:
            await client.aclose()
        await self.auth.aclose()

    # --- the steps of a login ----------------------------------------------------------
    async def start(self, browser: httpx2.AsyncClient, next_path: str = "/x", provider: str = "dev") -> str:
        """GET /auth/login/{provider}: the authorization URL the browser is sent to. With
        st.login's ``redirect_uri`` configured, as ``st.login`` starts it: GET /auth/login with
        Streamlit's signed provider token, from the page at ``next_path``."""
        if self.st_login:
            response = await browser.get(
                "/auth/login",
                params={"provider": st_login_token(provider, self.auth.config.cookie_secret)},
                headers={"referer": f"{self.base_url}{next_path}"},
            )
        else:
            response = await browser.get(f"/auth/login/{provider}", params={"next": next_path})
        assert response.status_code == 302, (response.status_code, response.text)
        return response.headers["location"]

    @property
    def st_login(self) -> bool:
        return self.auth.config.redirect_uri is not None

    @property
    def callback_path(self) -> str:
        """Where the dev provider's callbacks arrive: its own URI, or st.login's one."""
        return "/oauth2callback" if self.st_login else "/auth/callback/dev"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}{self.callback_path}"

    async def authorize(self, browser: httpx2.AsyncClient, authorize_url: str, persona: str = "alice") -> str:
        """At the provider, as ``persona`` (login_hint skips its login page): the callback URL."""
        response = await browser.get(with_params(authorize_url, login_hint=persona))
        assert response.status_code == 302, (response.status_code, response.text)
        return response.headers["location"]

    async def login(
        self,
        browser: httpx2.AsyncClient,
        next_path: str = "/x",
        persona: str = "alice",
        provider: str = "dev",
    ) -> httpx2.Response:
        """A whole login; returns the callback's response (302 to next on success)."""
        callback = await self.authorize(browser, await self.start(browser, next_path, provider), persona)
        return await browser.get(callback)

    async def logged_in(self, browser: httpx2.AsyncClient, persona: str = "alice") -> str:
        """Log ``browser`` in; return the session id from its cookie."""
        response = await self.login(browser, persona=persona)
        assert response.status_code == 302, response.headers.get("location")
        return cookie_value(set_cookies(response)[self.session_cookie])

    @property
    def session_cookie(self) -> str:
        return self.cookie(SESSION_COOKIE)

    @property
    def binding_cookie(self) -> str:
        return self.cookie(BINDING_COOKIE)

    def cookie(self, base: str) -> str:
        """The name cookie ``base`` has here: __Host- over https, the sub-path's under one."""
        return cookie_name(base, self.base_url.startswith("https"), self.auth.config.base_path)

    def refusal(self, location: str, browser: httpx2.AsyncClient) -> dict[str, object] | None:
        """What the login page shows ``browser`` for a refusal it was sent to: the stored record
        (readable with that browser's binding cookie only), or the fixed sentence of a refusal
        nothing was stored for (``streamlit_authlib_login/_core/refusals.py``)."""
        query = query_of(location)
        if "failure" in query:
            # The app's own cookie, not one a test set without a domain beside it.
            cookies = sorted(
                (c for c in browser.cookies.jar if c.name == self.binding_cookie), key=lambda c: not c.domain
            )
            binding = cookies[0].value if cookies else None
            return self.auth.sessions.notices.failure(query["failure"], binding)
        return fixed_record(query)

    # --- the provider's side ---------------------------------------------------------------
    def mark(self) -> int:
        """The provider journal's newest entry id: count what happens after it."""
        return max((e.id for e in self.idp.journal.entries()), default=0)

    def requests_since(self, mark: int, path: str, **params: str) -> list[object]:
        return [
            e
            for e in self.idp.journal.entries(since=mark)
            if e.path == f"/idp{path}" and all(e.params.get(k) == v for k, v in params.items())
        ]

    async def introspect(self, token: str) -> dict[str, object]:
        async with httpx2.AsyncClient(transport=self.transport, base_url=self.base_url) as client:
            response = await client.post("/idp/introspect", data={"token": token}, auth=INTROSPECTOR)
        assert response.status_code == 200, response.text
        return response.json()

    async def set_faults(self, *faults: str) -> None:
        async with httpx2.AsyncClient(transport=self.transport, base_url=self.base_url) as client:
            response = await client.post("/idp/faults", json={"faults": list(faults)})
        assert response.status_code == 200, response.text

    async def rotate_keys(self) -> str:
        async with httpx2.AsyncClient(transport=self.transport, base_url=self.base_url) as client:
            response = await client.post("/idp/keys/rotate", json={})
        assert response.status_code == 200, response.text
        return str(response.json()["active_kid"])


async def through_the_provider(
    app: LoginApp, browser: httpx2.AsyncClient, url: str, persona: str
) -> httpx2.Response:
    """From the authorization URL to our callback's answer, as a browser would: redirects,
    the consent page (Google asks every time with prompt=consent), Apple's form_post page."""
    response = await browser.get(with_params(url, login_hint=persona))
    for _ in range(5):
        if response.status_code in (302, 303):
            location = urljoin(str(response.url), response.headers["location"])
            if "/auth/callback/" in urlsplit(location).path:  # under the app's sub-path, if any
                return await browser.get(location.split("#")[0])
            response = await browser.get(location)
            continue
        assert response.status_code == 200, (response.status_code, response.text[:500])
        page = forms(response.text)
        callback = next((f for f in page if "/auth/callback/" in str(f["action"])), None)
        if callback is not None:  # response_mode=form_post: the page POSTs the code to us
            return await browser.post(str(callback["action"]), data=callback["fields"])  # type: ignore[arg-type]
        consent = next(f for f in page if "consent" in f["fields"])  # type: ignore[operator]
        fields = {**consent["fields"], "consent": "allow"}  # type: ignore[dict-item]
        response = await browser.post(str(response.url), data=fields)
    raise AssertionError("no callback after five steps")


def st_login_token(provider: str, cookie_secret: str, *, expires_in: int = 120) -> str:
    """What ``st.login(provider)`` puts in its link (streamlit/auth_util.py): HS256 over the
    provider and a 2-minute expiry, keyed with the cookie secret."""
    payload = {"provider": provider, "exp": int(time.time()) + expires_in}
    return jwt.encode({"alg": "HS256"}, payload, OctKey.import_key(cookie_secret))


def build_login_app(
    idp: DevAuthorizationServer,
    config: AuthConfig | None = None,
    *,
    store: KeyValueStore | None = None,
    base_url: str = "http://localhost",
    extra_routes: Sequence[BaseRoute] = (),
    over_network: bool = False,
    latency: float = 0.0,
    login_page: str | None = LOGIN_PAGE,
) -> LoginApp:
    """Compose the app in-process, all of it reachable without a socket.

    ``over_network``: the app calls providers over real sockets instead (for providers
    served on loopback). ``latency``: seconds added to each of the app's calls to a provider.
    """
    config = config or dev_config()
    app = Starlette()
    transport = httpx2.ASGITransport(app=app)
    authenticator, routes = compose(
        idp,
        config,
        store or MemoryStore(),
        transport=None if over_network else transport,
        dev_in_process=not over_network,
        latency=latency,
        extra_routes=extra_routes,
        login_page=login_page,
    )
    app.router.routes.extend(routes)
    return LoginApp(idp, authenticator, app, transport, base_url)


# --- real loopback sockets ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_asgi(
    app: object, *, lifespan: Literal["on", "off"] = "off", keep_alive: float = 5
) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread (``devidp.runner.serve_asgi``, as
    ``devidp.serve`` does); at the end, requests still hanging get 2 s before they are cut.
    ``keep_alive``: seconds the server keeps an idle connection open (uvicorn's default 5)."""
    with runner.serve_asgi(
        app,  # type: ignore[arg-type]
        lifespan=lifespan,
        graceful_shutdown=2,
        keep_alive=keep_alive,
        name="test-app",
    ) as url:
        yield url


class HungProvider:
    """An OIDC provider that answers discovery, then hangs on chosen paths until released."""

    def __init__(self, hang: frozenset[str]) -> None:
        self.hang = hang
        self.url = ""
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    async def __call__(self, scope: Mapping[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        path = str(scope["path"])
        if path in self.hang:
            while not self._release.is_set():
                await asyncio.sleep(0.02)
        body = json.dumps(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        ).encode()
        await send(  # type: ignore[operator]
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]
