"""The provider's pages for people: login, consent, device code, logout, home, avatars.

Every page says it is a development provider, and carries the teaching panel
(the request's parameters and the spec recommendations it breaks).
"""

from __future__ import annotations

import hmac
import secrets
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .flavors import REGISTRY as FLAVORS
from .flavors import emulated_url
from .journal import authorization_warnings, logout_warnings, masked
from .personas import BY_SUB, BY_USERNAME, PERSONAS, SCOPE_DESCRIPTIONS, Persona, avatar_svg
from .server import DevAuthorizationServer, HttpRequest, HttpResponse

SESSION_COOKIE = "devidp_session"
CSRF_COOKIE = "devidp_csrf"
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)

# The real provider an emulated request is for, named on every page it renders.
emulating: ContextVar[str | None] = ContextVar("emulating", default=None)


class BrowserPages:
    """The handlers that answer a browser with HTML, bound to one authorization server."""

    server: DevAuthorizationServer

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
            issuer=self.server.issuer, emulating=emulating.get(), **context
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def _session_user(self, request: Request) -> tuple[Persona | None, int]:
        session = self.server.store.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None, 0
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

        csrf = self._with_csrf(request)
        sid = self.server.store.open_session(user.sub).sid if user is not None and new_login else None
        if request.method == "POST" and "consent" in form:
            decision = user if form["consent"] == "allow" else None
            return self._cookies(
                self.reply(self.server.authorize(grant, decision, auth_time)), request, csrf, sid
            )
        asks = self._prompts(query, grant, picked_now=request.method == "POST" and new_login)
        unattended = "login_hint" in query or "none" in query.get("prompt", "").split()
        if user is not None and not asks and (unattended or (client and client.skip_consent)):
            return self._cookies(
                self.reply(self.server.authorize(grant, user, auth_time)), request, csrf, sid
            )
        context = {
            "client": client,
            "csrf": csrf,
            "params": masked(query),
            "warnings": request.state.warnings,
        }
        if user is None or asks & {"login", "select_account"}:
            title = "Choose an account" if "select_account" in asks and user else "Sign in"
            response = self.render("login.html", title=title, personas=PERSONAS, current=user, **context)
        else:
            scopes = [(s, SCOPE_DESCRIPTIONS.get(s, s)) for s in (grant.request.scope or "").split()]
            # OIDC Core §3.1.2.1 `select_account`: the way back to the persona list from here.
            prompt = {*query.get("prompt", "").split(), "select_account"} - {"login"}
            switch = str(request.url.include_query_params(prompt=" ".join(sorted(prompt))))
            response = self.render(
                "consent.html", title="Allow access?", persona=user, scopes=scopes, switch=switch, **context
            )
        return self._cookies(response, request, csrf, sid)

    @staticmethod
    def _prompts(query: dict[str, str], grant: object, *, picked_now: bool) -> set[str]:
        """What the person must still be asked: ``login``, ``select_account``, ``consent``.

        OIDC Core §3.1.2.1: ``prompt=login`` asks to re-authenticate even when signed in,
        ``select_account`` to choose among accounts, ``consent`` to ask again. Authlib's
        OpenIDCode extension reads the parameter into ``grant.prompt`` (its one strongest
        value; "login" when nobody is signed in); the parameter itself covers OAuth-only
        requests, which skip that extension. A persona picked in this very request has
        answered ``login`` and ``select_account``.
        """
        asks = set(query.get("prompt", "").split()) | {getattr(grant, "prompt", None) or "none"}
        asks &= {"login", "select_account", "consent"}
        return asks - {"login", "select_account"} if picked_now else asks

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

    async def index(self, request: Request, http_request: HttpRequest) -> Response:
        issuer = self.server.issuer
        csrf = self._with_csrf(request)
        response = self.render(
            "index.html",
            title="Development OpenID Provider",
            personas=PERSONAS,
            clients=self.server.clients,
            flavors=[(f, emulated_url(f.entry_url, issuer, f.name)) for f in FLAVORS.values()],
            faults_on=sorted(self.server.faults.active()),
            csrf=csrf,
        )
        return self._cookies(response, request, csrf)

    async def avatar(self, request: Request, http_request: HttpRequest) -> Response:
        persona = BY_USERNAME.get(request.path_params["username"])
        if persona is None:
            return Response("unknown persona", status_code=404)
        return Response(
            avatar_svg(persona), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=3600"}
        )
