"""The login module's HTTP contract, as Starlette routes over ``Authenticator``.

    GET  /auth/login/{provider}?next=/page   302 to the provider
    GET  /auth/callback/{provider}           session cookie + 302 to next, or 303 to the login page
    POST /auth/callback/{provider}           the same, for response_mode=form_post (Apple)
    GET  /auth/me                            200 the session (never the raw tokens), 401 without one
    POST /auth/refresh                       refresh the tokens (single flight)
    POST /auth/logout                        end the session, revoke tokens, RP-initiated logout
    POST /auth/playground                    303 to the provider with a hand-built request (logged in)

and, in place of Streamlit's own, what ``st.login()`` / ``st.logout()`` navigate to:

    GET  /auth/login?provider=<token>        st.login(name): 302 to the provider (auth/stlogin.py)
    GET  /oauth2callback                     st.login's one callback URI: the provider is the state's
    GET  /auth/logout                        st.logout(): as POST /auth/logout, from the app's pages only
    GET  /auth/failed?failure=<id>           why a login was refused, for an app with no login page

This is the only module of ``auth`` that imports Starlette. User routes are matched before
Streamlit's, so these answer st.login's paths instead of Streamlit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .errors import (
    LoginError,
    NotLoggedIn,
    PlaygroundRequestError,
    ProviderError,
    StoreUnavailable,
    TokenValidationError,
    UnknownProvider,
)
from .fallback_pages import failure_page, logout_confirm_page, store_down_page
from .flow import Authenticator, safe_next
from .playground import PlaygroundRequest
from .registration import is_redirect_uri_mismatch
from .stlogin import provider_from_token, same_origin_navigation
from .trace import Trace, fingerprint

log = logging.getLogger(__name__)

SESSION_COOKIE = "auth_session"
BINDING_COOKIE = "auth_login"
LOGOUT_COOKIE = "auth_logout"  # the `state` of a logout gone to the provider and not back yet
LOGIN_PAGE = "/login"  # this repository's dashboard's; create_app's default is None
FAILURE_PAGE = "/auth/failed"  # drawn here, for an app with no login page of its own
# Request bodies are read only up to these: a callback form post (Apple's carries an ID token
# and a name) and the logout/refresh forms (a CSRF token) are far smaller.
CALLBACK_BODY_LIMIT = 16 * 1024
POST_BODY_LIMIT = 4 * 1024
PLAYGROUND_BODY_LIMIT = 16 * 1024  # a Playground request: a claims JSON and extra parameters
FAILURE_TEXT_LIMIT = 1000
# Every response of these routes: no page of another origin may frame them (clickjacking).
NO_FRAMING = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def cookie_name(base: str, secure: bool) -> str:
    # RFC 6265bis §4.1.3.2: __Host- pins the cookie to this host, Secure and Path=/.
    return f"__Host-{base}" if secure else base


def csrf_token(cookie_secret: str, session_id: str) -> str:
    """The token a same-origin form must send with POST /auth/logout and /auth/refresh."""
    return hmac.new(cookie_secret.encode(), b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def session_id_from(cookies: dict[str, str]) -> str | None:
    return cookies.get(f"__Host-{SESSION_COOKIE}") or cookies.get(SESSION_COOKIE)


class _Routes:
    def __init__(self, auth: Authenticator, login_page: str | None) -> None:
        self.auth = auth
        self.login_page = login_page

    def _after_logout(self, query: dict[str, str]) -> str:
        """Where a finished logout lands: the login page saying so, or the app's home page."""
        return self._here(f"{self.login_page}?{urlencode(query)}" if self.login_page else "/")

    def _origin(self, request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def _here(self, path: str) -> str:
        """A URL of this app for a redirect: on the configured base URL, else relative, so a
        forged Host header never becomes a Location elsewhere."""
        return f"{self.auth.config.base_url or ''}{path}"

    def _secure(self, request: Request) -> bool:
        return self.auth.base_url(self._origin(request)).startswith("https://")

    def _set(
        self,
        response: Response,
        request: Request,
        base: str,
        value: str,
        max_age: int,
        *,
        cross_site: bool = False,
    ) -> None:
        secure = self._secure(request)
        response.set_cookie(
            cookie_name(base, secure),
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            # A form_post callback (Apple) is a cross-site POST: a Lax cookie would not come
            # back with it. SameSite=None needs Secure, so only under https.
            samesite="none" if cross_site and secure else "lax",
            secure=secure,
        )

    def _clear(self, response: Response, request: Request, base: str) -> None:
        response.delete_cookie(
            cookie_name(base, self._secure(request)), path="/", secure=self._secure(request)
        )

    def _to_login_page(
        self,
        request: Request,
        error: LoginError,
        provider: str,
        next_path: str,
        *,
        kind: str = "login",
        unexpected: bool = False,
        trace: Trace | None = None,
    ) -> Response:
        """Record a refusal, log one line an operator can act on, and send the browser to
        the login page, which explains it. No token or secret goes into the log."""
        if isinstance(error, StoreUnavailable):
            raise error  # no record can be saved: _store_down answers, and the store logged it
        request_id = secrets.token_hex(6)
        check = error.error
        if isinstance(error, TokenValidationError) and (failed := error.report.first_failure):
            check = f"{check}/{failed.name}"
        if unexpected:
            log.exception("%s with %s failed unexpectedly: request_id=%s", kind, provider, request_id)
        else:
            log.warning(
                "%s refused: provider=%s check=%s request_id=%s: %s",
                kind,
                _one_line(provider, 64),
                check,
                request_id,
                _one_line(error.description, 500),
            )
        # Anyone can make these (a forged callback): small, and gone after FAILURE_TTL.
        record: dict[str, object] = {
            "provider": provider[:64],
            "next": next_path,
            "kind": kind,
            "request_id": request_id,
            "check": check,
            "error": error.error,
            "description": error.description[:FAILURE_TEXT_LIMIT],
        }
        if isinstance(error, TokenValidationError):
            record["report"] = error.report.as_dict()
        code = error.code if isinstance(error, ProviderError) else ""
        if self.auth.config.provider(provider) and is_redirect_uri_mismatch(code, error.description):
            record["registration"] = self.auth.registration(provider, self._origin(request)).as_dict()
        if trace is not None:
            record["trace"] = trace.as_dict()
        failure_id = self.auth.sessions.save_failure(record)
        query = urlencode({"failure": failure_id, "next": next_path})
        return RedirectResponse(self._here(f"{self.login_page or FAILURE_PAGE}?{query}"), 303)

    # --- routes ---------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        return await self._start(request, request.path_params["provider"], request.query_params.get("next"))

    async def st_login(self, request: Request) -> Response:
        """``st.login(name)``: its signed provider token names the provider (auth/stlogin.py)."""
        next_path = self._referring_page(request)
        try:
            name = provider_from_token(request.query_params.get("provider"), self.auth.config.cookie_secret)
            settings = self.auth.config.st_login_provider(name)
            if settings is None:
                raise UnknownProvider(
                    f"st.login({name!r}) names no provider configured here: add [auth.{name}] to "
                    ".streamlit/secrets.toml."
                )
        except LoginError as error:
            return self._to_login_page(request, error, "st.login", next_path)
        return await self._start(request, settings.name, next_path)

    def _referring_page(self, request: Request) -> str:
        """The app page st.login() was called on, so the login comes back to it (Streamlit's
        own goes to the home page)."""
        referer = request.headers.get("referer", "")
        if not same_origin_navigation({"referer": referer}, self._origins(request)):
            return "/"
        return safe_next("/" + referer.split("://", 1)[-1].partition("/")[2])

    def _origins(self, request: Request) -> tuple[str, ...]:
        return (self._origin(request), self.auth.base_url(self._origin(request)))

    async def _start(self, request: Request, provider: str, next_param: str | None) -> Response:
        next_path = safe_next(next_param)
        origin = self._origin(request)
        base = self.auth.base_url(origin)
        if base != origin:
            # Start on the public host, so the login cookie lands where the callback will arrive.
            return RedirectResponse(f"{base}{request.url.path}?{request.url.query}", 302)
        # One binding per browser, reused: logins started in two tabs must both be able to finish.
        existing = request.cookies.get(cookie_name(BINDING_COOKIE, self._secure(request)), "")
        binding = existing if len(existing) >= 32 else secrets.token_urlsafe(32)
        try:
            url = await self.auth.start_login(
                provider, origin=origin, next_path=next_path, binding_cookie=binding
            )
        except LoginError as error:
            return self._to_login_page(request, error, provider, next_path)
        response = RedirectResponse(url, 302)
        settings = self.auth.config.provider(provider)
        form_post = settings is not None and settings.preset.response_mode == "form_post"
        self._set(
            response,
            request,
            BINDING_COOKIE,
            binding,
            self.auth.config.session.state_ttl,
            cross_site=form_post,
        )
        return response

    async def callback(self, request: Request) -> Response:
        return await self._callback(request, request.path_params["provider"])

    async def st_callback(self, request: Request) -> Response:
        """st.login's one ``/oauth2callback``: the login's ``state`` says which provider it is."""
        return await self._callback(request, None)

    async def _callback(self, request: Request, provider: str | None) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":  # response_mode=form_post (OAuth 2.0 Form Post Response Mode §2)
            form = await _small_form(request, CALLBACK_BODY_LIMIT)
            if form is None:
                return _too_large(CALLBACK_BODY_LIMIT)
            params |= form
        if "code" not in params and "error" not in params:
            # Neither a success nor an error response (RFC 6749 §4.1.2): the browser is back
            # from the provider's logout, at the URI this app sent as post_logout_redirect_uri.
            return self._logout_return(request, provider, params)
        binding = request.cookies.get(cookie_name(BINDING_COOKIE, self._secure(request)))
        try:
            finished = await self.auth.finish_login(provider, params, binding_cookie=binding)
        except LoginError as error:
            name = error.provider or provider or "-"
            response = self._to_login_page(request, error, name, error.next_path, trace=error.trace)
        except Exception:  # a bug must still not leave a half-made session or a 500
            error = LoginError("The login failed unexpectedly; the server log has the details.")
            response = self._to_login_page(request, error, provider or "-", "/", unexpected=True)
        else:
            session, next_path = finished.session, finished.next_path
            if finished.playground_result is not None:
                log.info(
                    "playground login: result=%s %s",
                    finished.playground_result[:8],
                    f"refused: check={finished.refused.error}" if finished.refused else "passed",
                )
            if session is None:  # a Playground login kept as a result: the session is untouched
                return RedirectResponse(self._here(next_path), 303)
            provider = session.provider
            if previous := session_id_from(dict(request.cookies)):
                # A new login replaces this browser's old session: end it server-side too.
                self.auth.sessions.delete(previous)
            subject = session.claims.get("sub") or session.profile.get("sub")
            log.info("login: provider=%s sub=%s", provider, fingerprint(str(subject)) if subject else "-")
            response = RedirectResponse(self._here(next_path), 302)
            self._set(
                response, request, SESSION_COOKIE, session.id, self.auth.config.session.absolute_timeout
            )
            self._clear(response, request, LOGOUT_COOKIE)
        return response

    def _logout_return(self, request: Request, provider: str | None, params: dict[str, str]) -> Response:
        try:
            provider = self.auth.finish_logout(provider, params).provider
        except LoginError as error:
            return self._to_login_page(request, error, provider or "-", "/", kind="logout")
        log.info("logout: provider=%s confirmed by the provider (state matched)", provider)
        response = RedirectResponse(self._after_logout({"logged_out": "1", "at": provider}), 303)
        self._clear(response, request, LOGOUT_COOKIE)
        return response

    async def me(self, request: Request) -> Response:
        session = self.auth.sessions.load(session_id_from(dict(request.cookies)))
        if session is None:
            return JSONResponse(NotLoggedIn("No session: log in first.").as_dict(), 401)
        return JSONResponse(session.public(), headers={"Cache-Control": "no-store"})

    def _check_csrf(self, request: Request, session_id: str, form: dict[str, str]) -> bool:
        origin = request.headers.get("origin")
        if origin is not None and origin not in (
            self._origin(request),
            self.auth.base_url(self._origin(request)),
        ):
            return False
        sent = request.headers.get("x-csrf-token") or form.get("csrf", "")
        return hmac.compare_digest(sent, csrf_token(self.auth.config.cookie_secret, session_id))

    async def _post(
        self,
        request: Request,
        action: Callable[[str, dict[str, str]], Awaitable[Response]],
        limit: int = POST_BODY_LIMIT,
    ) -> Response:
        session_id = session_id_from(dict(request.cookies))
        if not session_id or self.auth.sessions.load(session_id) is None:
            return JSONResponse(NotLoggedIn("No session: log in first.").as_dict(), 401)
        form = await _small_form(request, limit)  # only once a session is known
        if form is None:
            return _too_large(limit)
        if not self._check_csrf(request, session_id, form):
            return JSONResponse(
                {
                    "error": "csrf",
                    "description": "Cross-site request refused: send the csrf token from this app.",
                },
                403,
            )
        return await action(session_id, form)

    async def refresh(self, request: Request) -> Response:
        async def act(session_id: str, form: dict[str, str]) -> Response:
            try:
                session = await self.auth.refresh(session_id)
            except StoreUnavailable:
                raise
            except LoginError as error:
                return JSONResponse(error.as_dict(), 401 if isinstance(error, NotLoggedIn) else 400)
            if "next" in form:
                return RedirectResponse(safe_next(form["next"]), 303)
            return JSONResponse(session.public())

        return await self._post(request, act)

    async def logout(self, request: Request) -> Response:
        async def act(session_id: str, _form: dict[str, str]) -> Response:
            return await self._end_session(request, session_id)

        return await self._post(request, act)

    async def playground(self, request: Request) -> Response:
        """The Playground's Send: a login with hand-picked parameters (``auth/playground.py``),
        started like ``GET /auth/login/{provider}`` but as a CSRF-protected POST from a
        logged-in page. A request the module will not send comes back to ``next`` explained."""

        async def act(session_id: str, form: dict[str, str]) -> Response:
            next_path = safe_next(form.get("next"))
            origin = self._origin(request)
            existing = request.cookies.get(cookie_name(BINDING_COOKIE, self._secure(request)), "")
            binding = existing if len(existing) >= 32 else secrets.token_urlsafe(32)
            try:
                if self.auth.base_url(origin) != origin:
                    raise PlaygroundRequestError(
                        f"Open the app at {self.auth.base_url(origin)} to use the Playground: the "
                        "provider sends the browser back there."
                    )
                wanted = PlaygroundRequest.from_form(form)
                url = await self.auth.start_playground(
                    wanted, origin=origin, next_path=next_path, binding_cookie=binding, session_id=session_id
                )
            except StoreUnavailable:
                raise
            except LoginError as error:
                result = self.auth.sessions.save_playground_result(
                    self.auth.sessions.owner(session_id),
                    {"passed": False, "sent": False, "error": error.error, "description": error.description},
                )
                separator = "&" if "?" in next_path else "?"
                return RedirectResponse(
                    self._here(f"{next_path}{separator}{urlencode({'result': result})}"), 303
                )
            response = RedirectResponse(url, 303)
            form_post = wanted.params.get("response_mode") == "form_post"
            self._set(
                response,
                request,
                BINDING_COOKIE,
                binding,
                self.auth.config.session.state_ttl,
                cross_site=form_post,
            )
            return response

        return await self._post(request, act, PLAYGROUND_BODY_LIMIT)

    async def st_logout(self, request: Request) -> Response:
        """``st.logout()`` navigates here (a GET): the same logout as ``POST /auth/logout``, but
        only when the navigation comes from one of the app's own pages, or a link on another
        site would log people out (Fetch Metadata, then Origin/Referer). Otherwise: ask."""
        session_id = session_id_from(dict(request.cookies))
        if not session_id or self.auth.sessions.load(session_id) is None:
            response: Response = RedirectResponse(self._here("/"), 303)
            self._clear(response, request, SESSION_COOKIE)
            return response
        if not same_origin_navigation(request.headers, self._origins(request)):
            log.warning(
                "logout refused: GET /auth/logout from another site (sec-fetch-site=%s); asked instead",
                _one_line(request.headers.get("sec-fetch-site", "-"), 32),
            )
            page = logout_confirm_page(
                csrf=csrf_token(self.auth.config.cookie_secret, session_id), action="/auth/logout"
            )
            return HTMLResponse(page, 403, headers={"Cache-Control": "no-store"})
        return await self._end_session(request, session_id)

    async def _end_session(self, request: Request, session_id: str) -> Response:
        done = await self.auth.logout(session_id, origin=self._origin(request))
        log.info(
            "logout: provider=%s sub=%s revoked=%d provider_logout=%s",
            done.provider or "-",
            done.subject or "-",
            done.revoked,
            "yes" if done.end_session_url else "no",
        )
        end_session = done.end_session_url
        if "application/json" in request.headers.get("accept", ""):
            response: Response = JSONResponse({"logged_out": True, "end_session_url": end_session})
        else:
            response = RedirectResponse(end_session or self._after_logout({"logged_out": "1"}), 303)
        self._clear(response, request, SESSION_COOKIE)
        if done.state:
            # Until the provider sends the browser back, the login page can say why it didn't.
            self._set(response, request, LOGOUT_COOKIE, done.state, self.auth.config.session.state_ttl)
        return response

    async def logout_either(self, request: Request) -> Response:
        return await (self.logout(request) if request.method == "POST" else self.st_logout(request))

    async def failed(self, request: Request) -> Response:
        """Why a login was refused, for an app with no login page of its own."""
        failure_id = request.query_params.get("failure", "")
        record = self.auth.sessions.failure(failure_id) if failure_id else None
        page = failure_page(record, back=self._here(safe_next(request.query_params.get("next"))))
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})


async def _small_form(request: Request, limit: int) -> dict[str, str] | None:
    """An urlencoded body of at most ``limit`` bytes, or None: read in memory, never spooled
    to disk like Starlette's multipart parser does. Other content types carry no form here."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _too_large(limit: int) -> Response:
    return JSONResponse(
        {
            "error": "request_too_large",
            "description": f"This request body is over {limit // 1024} KB (or not form-encoded); "
            "nothing was done.",
        },
        413,
    )


def _one_line(text: str, limit: int) -> str:
    """Text for a log line: no line breaks or control characters to forge other lines with."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def _store_down(
    request: Request, error: StoreUnavailable, base_url: str | None, login_page: str | None
) -> Response:
    """The session store (Redis) is down: nothing was done and no session was made. A browser
    goes to the login page, which says so without needing the store; an API client gets 503
    with Retry-After (RFC 9110 §15.6.4), the one status that tells it to try again rather than
    forget its session, as a 401 would. The store logged the cause once, for the operator."""
    if request.url.path == "/auth/me" or "application/json" in request.headers.get("accept", ""):
        return JSONResponse(error.as_dict(), 503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
    if login_page is None:  # an app without a login page of its own: say it here
        return HTMLResponse(store_down_page(), 503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
    return RedirectResponse(f"{base_url or ''}{login_page}?unavailable=1", 303)


def _guarded(
    endpoint: Callable[[Request], Awaitable[Response]], base_url: str | None, login_page: str | None
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except StoreUnavailable as error:
            response = _store_down(request, error, base_url, login_page)
        response.headers.update(NO_FRAMING)  # every response: no page of another origin may frame it
        return response

    return guarded


def auth_routes(auth: Authenticator, *, login_page: str | None = LOGIN_PAGE) -> list[Route]:
    """The routes to pass to ``st.App(routes=...)``. ``login_page`` is the app's page that
    explains refused logins (``?failure=<id>``) and finished logouts; None: the app has none,
    and refusals are explained at ``/auth/failed``, logouts land on the home page."""
    r = _Routes(auth, login_page)

    def guard(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        return _guarded(endpoint, auth.config.base_url, login_page)

    return [
        Route("/auth/login/{provider}", guard(r.login), methods=["GET"]),
        Route("/auth/callback/{provider}", guard(r.callback), methods=["GET", "POST"]),
        Route("/auth/me", guard(r.me), methods=["GET"]),
        Route("/auth/refresh", guard(r.refresh), methods=["POST"]),
        Route("/auth/logout", guard(r.logout_either), methods=["GET", "POST"]),
        Route("/auth/playground", guard(r.playground), methods=["POST"]),
        Route("/auth/login", guard(r.st_login), methods=["GET"]),
        Route("/oauth2callback", guard(r.st_callback), methods=["GET", "POST"]),
        Route(FAILURE_PAGE, guard(r.failed), methods=["GET"]),
    ]
