"""The provider's HTTP face: Starlette routes over ``DevAuthorizationServer``.

This is the only module of the package that imports Starlette.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from .faults import FAULTS
from .flavors import REGISTRY as FLAVORS
from .flavors import emulated_url
from .flavors.base import Call
from .flavors.errors import AuthorizationRefused
from .journal import authorization_warnings, fingerprint, logout_warnings, masked
from .personas import BY_USERNAME, PERSONAS, SCOPE_DESCRIPTIONS, Persona, avatar_svg
from .server import DevAuthorizationServer, HttpRequest, HttpResponse

SESSION_COOKIE = "devidp_session"
CSRF_COOKIE = "devidp_csrf"
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)

Handler = Callable[[Request, HttpRequest], Awaitable[Response]]

# The real provider an emulated request is for, named on every page it renders.
_emulating: ContextVar[str | None] = ContextVar("emulating", default=None)


def is_loopback(host: str | None) -> bool:
    if host in (None, "localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def mounted_url(request: Request) -> str:
    """Where this app is mounted, as an absolute URL: the issuer follows the real port and path."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


class _Provider:
    """Route handlers bound to one authorization server."""

    def __init__(self, server: DevAuthorizationServer) -> None:
        self.server = server

    # --- plumbing ------------------------------------------------------------------
    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Read the request once, set the issuer, guard loopback, and journal the exchange."""

        async def run(request: Request) -> Response:
            started = time.perf_counter()
            self.server.use_issuer(mounted_url(request))
            form: list[tuple[str, str]] = []
            if request.method == "POST":
                content_type = request.headers.get("content-type", "")
                if content_type.startswith("application/x-www-form-urlencoded"):
                    form = [(k, str(v)) for k, v in (await request.form()).multi_items()]
            http_request = HttpRequest(
                method=request.method,
                url=str(request.url),
                headers=request.headers,
                query=list(request.query_params.multi_items()),
                form=form,
            )
            client_host = request.client.host if request.client else None
            if not self.server.config.allow_non_loopback and not is_loopback(client_host):
                response: Response = self.page(
                    "Not available",
                    "This development provider only answers on loopback.",
                    status=403,
                    kind="error",
                )
            elif request.url.scheme != "https" and not is_loopback(request.url.hostname):
                # RFC 6749 §3.1, §3.2: beyond loopback OAuth needs TLS, and Authlib refuses plain http.
                response = self.page(
                    "HTTPS required",
                    "Beyond loopback this provider must be served over https (put a TLS proxy in front).",
                    status=400,
                    kind="error",
                )
            else:
                response = await handler(request, http_request)
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

    @staticmethod
    def reply(response: HttpResponse) -> Response:
        out = Response(response.body, status_code=response.status)
        for key, value in response.headers:
            out.headers.append(key, value)
        return out

    def page(
        self, title: str, message: str, *, status: int = 200, kind: str = "", detail: str = ""
    ) -> HTMLResponse:
        return self.render(
            "message.html", title=title, message=message, kind=kind, detail=detail, status=status
        )

    def render(self, template: str, *, status: int = 200, **context: object) -> HTMLResponse:
        html = _templates.get_template(template).render(
            issuer=self.server.issuer, emulating=_emulating.get(), **context
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def _session_user(self, request: Request) -> tuple[Persona | None, int]:
        session = self.server.store.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None, 0
        from .personas import BY_SUB

        return BY_SUB.get(session.user_sub), session.auth_time

    @staticmethod
    def _csrf_ok(request: Request, http_request: HttpRequest) -> bool:
        sent = dict(http_request.form).get("csrf", "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return bool(cookie) and hmac.compare_digest(sent, cookie)

    @staticmethod
    def _with_csrf(request: Request) -> str:
        return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)

    def _cookies(self, response: Response, request: Request, csrf: str, sid: str | None = None) -> Response:
        secure = request.url.scheme == "https"
        path = urlsplit(self.server.issuer).path or "/"
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="lax", secure=secure, path=path)
        if sid:
            response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", secure=secure, path=path)
        return response

    # --- authorization endpoint ------------------------------------------------------
    async def authorize(self, request: Request, http_request: HttpRequest) -> Response:
        query = dict(http_request.query)
        client = self.server.query_client(query.get("client_id", ""))
        request.state.warnings = authorization_warnings(query, bool(client and client.is_public))
        user, auth_time = self._session_user(request)
        form = dict(http_request.form)
        if request.method == "POST" and not self._csrf_ok(request, http_request):
            return self.page(
                "Form expired", "Please start the login again from the app.", status=400, kind="error"
            )
        new_login = False
        if request.method == "POST" and form.get("persona") in BY_USERNAME:
            chosen = BY_USERNAME[form["persona"]]
            if user is None or user.sub != chosen.sub or "consent" not in form:
                user, auth_time, new_login = chosen, self.server.now(), True
        elif query.get("login_hint") in BY_USERNAME and request.method == "GET":
            user, auth_time, new_login = BY_USERNAME[query["login_hint"]], self.server.now(), True
        try:
            grant = self.server.get_consent_grant(http_request, end_user=user)
        except OAuth2Error as error:
            return self._authorization_error(http_request, error)

        prompt = query.get("prompt", "").split()
        csrf = self._with_csrf(request)
        sid = self.server.store.open_session(user.sub).sid if user is not None and new_login else None
        if request.method == "POST" and "consent" in form:
            decision = user if form["consent"] == "allow" else None
            return self._cookies(
                self.reply(self.server.authorize(grant, decision, auth_time)), request, csrf, sid
            )
        if (
            user is not None
            and ("login_hint" in query or "none" in prompt or (client and client.skip_consent))
            and "login" not in prompt
            and "consent" not in prompt
        ):
            return self._cookies(
                self.reply(self.server.authorize(grant, user, auth_time)), request, csrf, sid
            )
        context = {
            "client": client,
            "csrf": csrf,
            "params": masked(query),
            "warnings": request.state.warnings,
        }
        if user is None or ("login" in prompt and request.method == "GET"):
            response = self.render("login.html", title="Sign in", personas=PERSONAS, **context)
        else:
            scopes = [(s, SCOPE_DESCRIPTIONS.get(s, s)) for s in (grant.request.scope or "").split()]
            response = self.render(
                "consent.html", title="Allow access?", persona=user, scopes=scopes, **context
            )
        return self._cookies(response, request, csrf, sid)

    def _authorization_error(self, http_request: HttpRequest, error: OAuth2Error) -> Response:
        if error.redirect_uri:
            # RFC 6749 §4.1.2.1: the redirect URI was validated, so report there, with iss (RFC 9207 §2).
            error.state = dict(http_request.query).get("state")
            response = self.server.handle_error_response(None, error)
            if response.location:
                response.location = add_params_to_uri(response.location, {"iss": self.server.issuer})
            return self.reply(response)
        # RFC 6749 §4.1.2.1: never redirect to an unverified URI; tell the user instead.
        return self.page(
            "The app's login request is invalid",
            f"{error.error}: {error.description or 'malformed request'}",
            status=400,
            kind="error",
            detail="The app that sent you here needs fixing; nothing was shared with it.",
        )

    # --- JSON endpoints ------------------------------------------------------------
    async def token(self, request: Request, http_request: HttpRequest) -> Response:
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

    # --- device verification page (RFC 8628 §3.3) ------------------------------------
    async def device(self, request: Request, http_request: HttpRequest) -> Response:
        values = dict(http_request.query) | dict(http_request.form)
        csrf = self._with_csrf(request)
        user_code = values.get("user_code", "")
        context: dict[str, object] = {"csrf": csrf, "user_code": user_code, "personas": PERSONAS}
        if request.method == "POST" and not self._csrf_ok(request, http_request):
            context["error"] = "The form expired; enter the code again."
            return self._cookies(
                self.render("device.html", title="Connect a device", **context), request, csrf
            )
        credential = self.server.store.device_by_user_code(user_code) if user_code else None
        if user_code and request.method == "POST" and (credential is None or credential.is_expired()):
            context["error"] = "That code is unknown or has expired. Check the code on your device."
            credential = None
        if credential is not None and request.method == "POST" and "persona" in values:
            persona = BY_USERNAME.get(values["persona"])
            self.server.store.grant_device(
                credential.user_code, persona.sub if persona else PERSONAS[0].sub, persona is not None
            )
            message = (
                "Done. You can go back to your device." if persona else "Denied. The device gets nothing."
            )
            return self.page("Device connected" if persona else "Device denied", message)
        if credential is not None and request.method == "POST":
            client = self.server.query_client(credential.client_id)
            scopes = [(s, SCOPE_DESCRIPTIONS.get(s, s)) for s in credential.scope.split()]
            context.update(credential=credential, client=client, scopes=scopes)
        return self._cookies(self.render("device.html", title="Connect a device", **context), request, csrf)

    # --- RP-initiated logout -----------------------------------------------------------
    async def logout(self, request: Request, http_request: HttpRequest) -> Response:
        values = dict(http_request.query) | dict(http_request.form)
        request.state.warnings = logout_warnings(values)
        try:
            validated = self.server.validate_endpoint_request("end_session", http_request)
        except OAuth2Error as error:
            return self.page(
                "Logout request refused", f"{error.error}: {error.description}", status=400, kind="error"
            )
        confirmed = (
            request.method == "POST"
            and values.get("confirm") == "yes"
            and self._csrf_ok(request, http_request)
        )
        if validated.needs_confirmation and not confirmed:
            csrf = self._with_csrf(request)
            hidden = {k: v for k, v in values.items() if k not in ("csrf", "confirm")}
            response = self.render(
                "logout.html",
                title="Sign out?",
                client=validated.client,
                hidden=hidden,
                csrf=csrf,
                warnings=request.state.warnings,
            )
            return self._cookies(response, request, csrf)
        self.server.store.close_session(request.cookies.get(SESSION_COOKIE))
        result = self.server.create_endpoint_response("end_session", validated)
        response = (
            self.reply(result)
            if result is not None
            else self.page("Signed out", "You are signed out of the development provider.")
        )
        response.delete_cookie(SESSION_COOKIE, path=urlsplit(self.server.issuer).path or "/")
        return response

    # --- emulated providers (devidp.flavors) ------------------------------------------------
    async def flavor(self, request: Request, http_request: HttpRequest) -> Response:
        """Answer a twin of a real provider's URL: the flavour rewrites, the main flow runs."""
        flavor = FLAVORS.get(request.path_params["flavor"])
        found = flavor.match(request.method, request.path_params["rest"]) if flavor else None
        if flavor is None or found is None:
            return JSONResponse({"message": "Not Found", "flavors": sorted(FLAVORS)}, status_code=404)
        endpoint, params = found
        call = Call(server=self.server, request=http_request, idp=self.server.issuer, params=params)
        label = _emulating.set(flavor.label)
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
            _emulating.reset(label)

    # --- teaching aids -----------------------------------------------------------------
    async def index(self, request: Request, http_request: HttpRequest) -> Response:
        issuer = self.server.issuer
        return self.render(
            "index.html",
            title="Development OpenID Provider",
            personas=PERSONAS,
            clients=self.server.clients,
            flavors=[(f, emulated_url(f.entry_url, issuer, f.name)) for f in FLAVORS.values()],
        )

    async def avatar(self, request: Request, http_request: HttpRequest) -> Response:
        persona = BY_USERNAME.get(request.path_params["username"])
        if persona is None:
            return Response("unknown persona", status_code=404)
        return Response(
            avatar_svg(persona), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=3600"}
        )

    async def log(self, request: Request, http_request: HttpRequest) -> Response:
        query = dict(http_request.query)
        entries = self.server.journal.entries(
            state=query.get("state"),
            code_fingerprint=query.get("code_fingerprint"),
            since=int(query["since"]) if query.get("since", "").isdigit() else 0,
        )
        return JSONResponse({"entries": [e.as_dict() for e in entries]})

    async def faults(self, request: Request, http_request: HttpRequest) -> Response:
        if request.method == "POST":
            # A JSON body needs a CORS preflight we never grant: no cross-site flips.
            if not request.headers.get("content-type", "").startswith("application/json"):
                return JSONResponse({"error": 'send JSON: {"faults": [...]}'}, status_code=415)
            try:
                wanted = json.loads(await request.body()).get("faults", [])
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
        Route("/authorize", e(p.authorize), methods=["GET", "POST"]),
        Route("/token", e(p.token), methods=["POST"]),
        Route("/userinfo", e(named("userinfo")), methods=["GET", "POST"]),
        Route("/revoke", e(named("revocation")), methods=["POST"]),
        Route("/introspect", e(named("introspection")), methods=["POST"]),
        Route("/device_authorization", e(named("device_authorization")), methods=["POST"]),
        Route("/device", e(p.device), methods=["GET", "POST"]),
        Route("/logout", e(p.logout), methods=["GET", "POST"]),
        Route("/avatars/{username}.svg", e(p.avatar)),
        Route("/log", e(p.log)),
        Route("/faults", e(p.faults), methods=["GET", "POST"]),
        Route("/keys/rotate", e(p.rotate_keys), methods=["POST"]),
        Route("/flavors/{flavor}/{rest:path}", e(p.flavor), methods=["GET", "POST"]),
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
