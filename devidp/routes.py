"""The provider's HTTP face: Starlette routes over ``DevAuthorizationServer``.

This module and ``pages.py`` (the HTML pages for people) are the package's only
Starlette code; ``routes.py`` holds the plumbing, the JSON endpoints and the app.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from .faults import FAULTS
from .flavors import REGISTRY as FLAVORS
from .flavors.base import Call
from .flavors.errors import AuthorizationRefused
from .journal import fingerprint, masked
from .pages import BrowserPages, emulating
from .server import DevAuthorizationServer, HttpRequest, HttpResponse

Handler = Callable[[Request, HttpRequest], Awaitable[Response]]
SLOW_TOKEN_DELAY = 0.5  # seconds, under the "slow_token" fault
FORM = "application/x-www-form-urlencoded"

# The most of a request body each endpoint reads (larger: 413, unread when its length says so).
# A form carrying one token and a client's credentials: the longest token issued here, the
# longname persona's ID token, is 2.1 KB as an id_token_hint; Apple's client_secret is a ~0.5 KB JWT.
TOKEN_BODY = 8 * 1024
# An authorization request may come as a POST (OIDC Core §3.1.2.1), with what a URL could carry:
# uvicorn's h11 reads at most 16 KiB of request line and headers. The consent form adds a few fields.
AUTHORIZE_BODY = 16 * 1024
# Everything else: the fault switches' JSON (every fault's name fits in 1 KB) and the small forms of
# the pages (persona, csrf, user_code).
SMALL_BODY = 4 * 1024

# No page of a provider that logs anyone in at one click may sit in another page's frame: a
# framed login or consent page lends its buttons to whoever framed it (RFC 6749 §10.13,
# clickjacking). CSP Level 3 `frame-ancestors` for today's browsers, RFC 7034 for older ones.
NEVER_FRAMED = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def is_loopback(host: str | None) -> bool:
    if host in (None, "localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


# A server in front of this app rewrites the peer address and scheme from these headers before
# the app sees them: uvicorn trusts X-Forwarded-For and -Proto from 127.0.0.1 and ::1 unless told
# otherwise (FORWARDED_ALLOW_IPS), and Streamlit runs it so. The original values are gone by then.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host")


def forwarded(request: Request) -> bool:
    """The request says a proxy forwarded it: its peer and scheme may be the header's, not the
    connection's, and its sender is beyond loopback (or the proxy would not be needed)."""
    return any(name in request.headers for name in FORWARDING_HEADERS)


async def _body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None past ``limit`` bytes: refused on its declared length unread,
    else read no further than the chunk that crosses the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _count(value: str) -> int:
    """A count from a query, 0 unless ASCII digits: str.isdigit() also takes "²", which int()
    refuses, and int() refuses more than 4,300 digits (CPython's int_max_str_digits)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else 0


def mounted_url(request: Request) -> str:
    """Where this app is mounted, as an absolute URL: the issuer follows the real port and path."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


class _Provider(BrowserPages):
    """Route handlers bound to one authorization server."""

    def __init__(self, server: DevAuthorizationServer) -> None:
        self.server = server

    # --- plumbing ------------------------------------------------------------------
    def endpoint(
        self, handler: Handler, body_limit: int = SMALL_BODY
    ) -> Callable[[Request], Awaitable[Response]]:
        """Guard loopback, read the request once (a body of at most ``body_limit`` bytes), set the
        issuer, forbid framing, and journal the exchange. Every route goes through here, so every
        answer carries NEVER_FRAMED."""

        async def run(request: Request) -> Response:
            started = time.perf_counter()
            self.server.use_issuer(mounted_url(request))
            http_request = HttpRequest(
                method=request.method,
                url=str(request.url),
                headers=request.headers,
                query=list(request.query_params.multi_items()),
            )
            # Both guards judge the connection itself, never a forwarded header, and come before
            # any byte of the body is read: a peer we refuse costs nothing.
            client_host = request.client.host if request.client else None
            local = is_loopback(client_host) and not forwarded(request)
            if not self.server.config.allow_non_loopback and not local:
                response: Response = self.page(
                    "Not available",
                    "This development provider only answers on loopback, and not through a proxy.",
                    status=403,
                    kind="error",
                )
            elif (request.url.scheme != "https" or forwarded(request)) and not (
                local and is_loopback(request.url.hostname)
            ):
                # RFC 6749 §3.1, §3.2: beyond loopback OAuth needs TLS, and Authlib refuses plain http.
                response = self.page(
                    "HTTPS required",
                    "Beyond loopback this provider must be served over https itself (Streamlit's "
                    "server.sslCertFile); it believes no proxy's X-Forwarded-Proto.",
                    status=400,
                    kind="error",
                )
            elif (body := await _body(request, body_limit) if request.method == "POST" else b"") is None:
                response = self.page(
                    "Request too large",
                    f"This endpoint reads at most {body_limit} bytes of a request body.",
                    status=413,
                    kind="error",
                )
            else:
                if request.headers.get("content-type", "").startswith(FORM):
                    form = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
                    http_request = replace(http_request, form=form, body=body)
                else:
                    http_request = replace(http_request, body=body)
                response = await handler(request, http_request)
            response.headers.update(NEVER_FRAMED)
            self._journal(request, http_request, response, started)
            return response

        return run

    def _journal(
        self, request: Request, http_request: HttpRequest, response: Response, started: float
    ) -> None:
        params = dict(http_request.query) | dict(http_request.form)
        location = response.headers.get("location")
        answered = dict(parse_qsl(urlsplit(location).query)) if location else {}
        code = (
            answered.get("code")
            or getattr(request.state, "code", None)
            or (params.get("code") if "grant_type" in params else None)
        )
        warnings: list[str] = getattr(request.state, "warnings", [])
        self.server.journal.record(
            at=time.time(),
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            params=masked(params),
            client_id=params.get("client_id"),
            state=params.get("state") or answered.get("state"),
            code_fingerprint=fingerprint(code) if code else None,
            location=location.split("?")[0] if location else None,
            warnings=tuple(warnings),
        )

    # --- JSON endpoints ------------------------------------------------------------
    async def token(self, request: Request, http_request: HttpRequest) -> Response:
        if "slow_token" in self.server.faults:
            await asyncio.sleep(SLOW_TOKEN_DELAY)  # makes concurrent refreshes certain to overlap
        return self.reply(self.server.create_token_response(http_request))

    async def endpoint_response(self, name: str, http_request: HttpRequest) -> Response:
        return self.reply(self.server.create_endpoint_response(name, http_request))

    async def discovery(self, request: Request, http_request: HttpRequest) -> Response:
        return JSONResponse(self.server.metadata(), headers={"Access-Control-Allow-Origin": "*"})

    async def jwks(self, request: Request, http_request: HttpRequest) -> Response:
        return JSONResponse(
            self.server.keys.jwks(),
            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"},
        )

    # --- emulated providers (devidp.flavors) ------------------------------------------------
    async def flavor(self, request: Request, http_request: HttpRequest) -> Response:
        """Answer a twin of a real provider's URL: the flavour rewrites, the main flow runs."""
        flavor = FLAVORS.get(request.path_params["flavor"])
        found = flavor.match(request.method, request.path_params["rest"]) if flavor else None
        if flavor is None or found is None:
            return JSONResponse({"message": "Not Found", "flavors": sorted(FLAVORS)}, status_code=404)
        endpoint, params = found
        call = Call(server=self.server, request=http_request, idp=self.server.issuer, params=params)
        label = emulating.set(flavor.label)
        try:
            if endpoint.handler != "authorize":
                if endpoint.handler == "token":
                    request.state.code = call.values.get("code")
                return self.reply(flavor.handle(endpoint, call))
            try:
                main = _captured(await self.authorize(request, flavor.authorization_request(call)))
                if main.location:
                    request.state.code = dict(parse_qsl(urlsplit(main.location).query)).get("code")
                return self.reply(flavor.authorization_response(call, main))
            except AuthorizationRefused as refusal:
                return self.page(
                    f"{flavor.label} refuses this login request",
                    f"{refusal.error}: {refusal.description}",
                    status=400,
                    kind="error",
                    detail="The app that sent you here needs fixing; nothing was shared with it.",
                )
        finally:
            emulating.reset(label)

    # --- teaching aids -----------------------------------------------------------------
    async def log(self, request: Request, http_request: HttpRequest) -> Response:
        query = dict(http_request.query)
        entries = self.server.journal.entries(
            state=query.get("state"),
            code_fingerprint=query.get("code_fingerprint"),
            since=_count(query.get("since", "")),
        )
        return JSONResponse({"entries": [e.as_dict() for e in entries]})

    async def faults(self, request: Request, http_request: HttpRequest) -> Response:
        if request.method == "POST" and "csrf" in dict(http_request.form):
            # The home page's "switch all faults off" form. A form needs no preflight, so it
            # carries the double-submitted CSRF pair of the login page, and can only switch off.
            if not self._csrf_ok(request, http_request) or dict(http_request.form).get("faults") != "none":
                return self.page(
                    "Form expired", "Open the provider's home page again.", status=400, kind="error"
                )
            self.server.faults.set(set())
            return RedirectResponse(f"{self.server.issuer}/", 303)
        if request.method == "POST":
            # A JSON body needs a CORS preflight we never grant: no cross-site flips.
            if not request.headers.get("content-type", "").startswith("application/json"):
                return JSONResponse({"error": 'send JSON: {"faults": [...]}'}, status_code=415)
            try:
                wanted = json.loads(http_request.body).get("faults", [])
                self.server.faults.set(set(wanted))
            except (ValueError, AttributeError, TypeError) as error:
                return JSONResponse({"error": str(error), "known": sorted(FAULTS)}, status_code=400)
        return JSONResponse({"active": sorted(self.server.faults.active()), "available": FAULTS})

    async def rotate_keys(self, request: Request, http_request: HttpRequest) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"error": "POST with Content-Type: application/json"}, status_code=415)
        kid = self.server.keys.rotate()
        return JSONResponse({"active_kid": kid, "jwks": self.server.keys.jwks()})


def _captured(response: Response) -> HttpResponse:
    """A Starlette response as the framework-free ``HttpResponse`` a flavour reshapes."""
    headers = [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, value in response.raw_headers
        if key.lower() != b"content-length"
    ]
    return HttpResponse(status=response.status_code, body=bytes(response.body).decode(), headers=headers)


def create_app(server: DevAuthorizationServer) -> Starlette:
    """The provider as an ASGI app, to mount or to serve on its own."""
    p = _Provider(server)
    e = p.endpoint

    def named(name: str) -> Handler:
        async def handler(request: Request, http_request: HttpRequest) -> Response:
            return await p.endpoint_response(name, http_request)

        return handler

    routes = [
        Route("/", e(p.index)),
        Route("/.well-known/openid-configuration", e(p.discovery)),
        Route("/.well-known/oauth-authorization-server", e(p.discovery)),
        Route("/jwks.json", e(p.jwks)),
        Route("/authorize", e(p.authorize, AUTHORIZE_BODY), methods=["GET", "POST"]),
        Route("/token", e(p.token, TOKEN_BODY), methods=["POST"]),
        Route("/userinfo", e(named("userinfo"), TOKEN_BODY), methods=["GET", "POST"]),
        Route("/revoke", e(named("revocation"), TOKEN_BODY), methods=["POST"]),
        Route("/introspect", e(named("introspection"), TOKEN_BODY), methods=["POST"]),
        Route("/device_authorization", e(named("device_authorization"), TOKEN_BODY), methods=["POST"]),
        Route("/device", e(p.device, TOKEN_BODY), methods=["GET", "POST"]),
        Route("/logout", e(p.logout, TOKEN_BODY), methods=["GET", "POST"]),
        Route("/avatars/{username}.svg", e(p.avatar)),
        Route("/log", e(p.log)),
        Route("/faults", e(p.faults), methods=["GET", "POST"]),
        Route("/keys/rotate", e(p.rotate_keys), methods=["POST"]),
        # A twin answers authorization, token and userinfo requests alike: the largest of those.
        Route("/flavors/{flavor}/{rest:path}", e(p.flavor, AUTHORIZE_BODY), methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.server = server
    return app


def mount(server: DevAuthorizationServer, path: str = "/idp") -> list[BaseRoute]:
    """Routes that mount the provider at ``path`` inside another Starlette app.

    Includes RFC 8414 §3.1's metadata URL, which lives at the host's root
    (``/.well-known/oauth-authorization-server/idp``), outside the mount.
    """
    app = create_app(server)
    p = _Provider(server)

    async def rfc8414(request: Request, http_request: HttpRequest) -> Response:
        server.use_issuer(f"{request.url.scheme}://{request.url.netloc}{path}")
        return JSONResponse(server.metadata())

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{path}/", 307)

    return [
        Route(f"/.well-known/oauth-authorization-server{path}", p.endpoint(rfc8414)),
        Route(path, home),  # without it, Streamlit's catch-all answers /idp with the app
        Mount(path, app=app),
    ]
