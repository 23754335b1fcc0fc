"""What every route of the login module shares: its cookies, redirects into the app, the
refusal record and its one log line, the CSRF check of its POSTs, and the body limits."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .._core.errors import (
    LoginError,
    NotAllowed,
    NotLoggedIn,
    ProviderError,
    StoreUnavailable,
    TokenValidationError,
)
from .._core.eventlog import event
from .._core.flow import Authenticator
from .._core.metrics import outcome_of
from .._core.notices import FAILURE_TTL
from .._core.proxies import CONNECTION_SCOPE_KEY, Connection, Public, public
from .._core.registration import is_redirect_uri_mismatch
from .._core.trace import Trace
from .fallback_pages import store_down_page

log = logging.getLogger(__name__)

SESSION_COOKIE = "auth_session"
BINDING_COOKIE = "auth_login"
LOGOUT_COOKIE = "auth_logout"  # the `state` of a logout gone to the provider and not back yet
NEXT_COOKIE = "auth_next"  # where a login started by this browser lands (Sealing.next_cookie)
FAILURE_PAGE = "/auth/failed"  # drawn here, for an app with no login page of its own
# Request bodies are read only up to these: a callback form post (Apple's carries an ID token
# and a name) and the logout/refresh forms (a CSRF token) are far smaller.
CALLBACK_BODY_LIMIT = 16 * 1024
POST_BODY_LIMIT = 4 * 1024
PLAYGROUND_BODY_LIMIT = 16 * 1024  # a Playground request: a claims JSON and extra parameters
FAILURE_TEXT_LIMIT = 1000
# A body must arrive whole within this, or the request gets 408: a client that trickles it would
# hold a connection (a descriptor) for as long as it likes, since uvicorn times out no body.
# The largest body read here (16 KB) takes 5 s at 26 kbit/s.
BODY_DEADLINE = 5.0
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only, and short: int() refuses 4,301 digits
# Every response of these routes: no page of another origin may frame them (clickjacking).
NO_FRAMING = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


# How the module's cookies are named and scoped (RFC 6265bis, draft-ietf-httpbis-rfc6265bis):
# - At the server's root: over https `__Host-auth_session`, Path=/. §4.1.3.2: a browser keeps a
#   `__Host-` cookie only if it is Secure, set from a secure origin, without Domain and with
#   Path=/, so no sibling host (Domain=.example.com) and no plain-http page can toss one in
#   (§8.6), and the bare name counts for nothing there. Over http, the bare name.
# - Under a sub-path (Streamlit's server.baseUrlPath, say /app): every name carries the sub-path,
#   `__Host-auth_session-app` (percent-encoded: `apps%2Fone` for /apps/one), so two apps on one
#   host, or one at the root and one under it, never read or overwrite each other's session.
#   Over https it stays `__Host-`, which forces Path=/: Path=/app would need `__Secure-`, which
#   allows Domain, and so a sibling host's tossed cookie again. We keep the lock against other
#   hosts, a real boundary, and give up keeping the cookie from the host's other paths, which
#   are not one. Over http, where no prefix protects anything, the cookies are Path=/app too.
# Limits, plainly: apps on one origin are no security boundary for each other, whatever the
# cookies say (§4.1.2.4: Path "cannot be relied upon for security"; §8.5). Over https every app
# on the host receives this app's cookies and could replay them, any of them can set a cookie
# under this app's name, and any page of the origin can script this app in a frame. Apps that
# must not trust each other need hosts of their own.


def cookie_name(base: str, secure: bool, base_path: str = "") -> str:
    """The name cookie ``base`` has for an app served at ``base_path`` (see above)."""
    name = f"{base}-{quote(base_path.strip('/'), safe='')}" if base_path else base
    return f"__Host-{name}" if secure else name


def cookie_path(secure: bool, base_path: str = "") -> str:
    """The Path of the module's cookies: "/" over https (``__Host-``), else the app's sub-path."""
    return base_path if base_path and not secure else "/"


def csrf_token(cookie_secret: str, session_id: str) -> str:
    """The token a same-origin form must send with POST /auth/logout and /auth/refresh."""
    return hmac.new(cookie_secret.encode(), b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def scheme_cookie(cookies: Mapping[str, str], base: str, *, secure: bool, base_path: str = "") -> str | None:
    """The cookie ``base`` under the one name this scheme uses, never the other. Over https a
    bare name can be set by a sibling host or a plain-http page (cookie tossing, RFC 6265bis
    §8.5), so only ``__Host-`` counts; over http a browser keeps no ``__Host-`` cookie at all.
    Under a sub-path, only the name of that sub-path."""
    return cookies.get(cookie_name(base, secure, base_path))


def session_id_from(cookies: Mapping[str, str], *, secure: bool, base_path: str = "") -> str | None:
    return scheme_cookie(cookies, SESSION_COOKIE, secure=secure, base_path=base_path)


async def _small_form(request: Request, limit: int) -> dict[str, str] | Response:
    """An urlencoded body of at most ``limit`` bytes, or the response that refuses it (400, 408,
    413): read in memory, never spooled to disk like Starlette's multipart parser does, and
    within ``BODY_DEADLINE``. Other content types carry no form here."""
    declared = request.headers.get("content-length")
    if declared is not None and not _ASCII_DIGITS.fullmatch(declared):
        # RFC 9110 §8.6: 1*DIGIT. str.isdigit() also takes "²", which int() then refuses.
        return _refused(400, "bad_request", "This request's Content-Length is no number; nothing was done.")
    if declared is not None and int(declared) > limit:
        return _too_large(limit)
    body = b""
    try:
        async with asyncio.timeout(BODY_DEADLINE):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    return _too_large(limit)
    except TimeoutError:
        log.warning(
            "request body too slow: %s %s from %s: not complete in %g s; nothing was done",
            request.method,
            _one_line(request.url.path, 200),
            request.client.host if request.client else "-",
            BODY_DEADLINE,
            extra=event("request_too_slow", check="request_timeout"),
        )
        # RFC 9110 §15.5.9: a 408 closes the connection, which frees its descriptor.
        response = _refused(408, "request_timeout", "This request body came too slowly; nothing was done.")
        response.headers["Connection"] = "close"
        return response
    except ClientDisconnect:  # gone before its body was: nobody reads the answer
        return Response(status_code=400)
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def connection(request: Request) -> Connection:
    """The request as its own connection has it, even where uvicorn has rewritten the scope's
    client and scheme from X-Forwarded-* (``_streamlit.internals.keep_connection`` kept them)."""
    kept = request.scope.get(CONNECTION_SCOPE_KEY)
    client, scheme = kept if isinstance(kept, tuple) else (request.scope.get("client"), request.url.scheme)
    peer = client[0] if isinstance(client, tuple | list) and client else None
    return Connection(peer=peer, scheme=str(scheme), host=request.url.netloc)


def _refused(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "description": description}, status)


def _too_large(limit: int) -> Response:
    return _refused(
        413,
        "request_too_large",
        f"This request body is over {limit // 1024} KB (or not form-encoded); nothing was done.",
    )


def _one_line(text: str, limit: int) -> str:
    """Text for a log line: no line breaks or control characters to forge other lines with."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def app_root(auth: Authenticator) -> str:
    """What the app's paths follow in a Location: the base URL, else the sub-path (or "")."""
    return auth.config.base_url or auth.config.base_path


def _store_down(
    request: Request, error: StoreUnavailable, auth: Authenticator, login_page: str | None
) -> Response:
    """The session store (Redis) is down: nothing was done and no session was made. A browser
    goes to the login page, which says so without needing the store; an API client gets 503
    with Retry-After (RFC 9110 §15.6.4), the one status that tells it to try again rather than
    forget its session, as a 401 would. The store logged the cause once, for the operator."""
    me = auth.config.base_path + "/auth/me"
    if request.url.path == me or "application/json" in request.headers.get("accept", ""):
        return JSONResponse(error.as_dict(), 503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
    if login_page is None:  # an app without a login page of its own: say it here
        page = store_down_page(home=f"{app_root(auth)}/")
        return HTMLResponse(page, 503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
    return RedirectResponse(f"{app_root(auth)}{login_page}?unavailable=1", 303)


def _guarded(
    endpoint: Callable[[Request], Awaitable[Response]], auth: Authenticator, login_page: str | None
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except StoreUnavailable as error:
            response = _store_down(request, error, auth, login_page)
        response.headers.update(NO_FRAMING)  # every response: no page of another origin may frame it
        return response

    return guarded


class RoutesBase:
    """The plumbing of the routes: ``Authenticator`` behind them, the app's login page."""

    def __init__(self, auth: Authenticator, login_page: str | None) -> None:
        self.auth = auth
        self.login_page = login_page
        self._said_ignored = False  # the log line on forwarding headers believed from nobody: once

    def _after_logout(self, query: dict[str, str]) -> str:
        """Where a finished logout lands: the login page saying so, or the app's home page."""
        return self._here(f"{self.login_page}?{urlencode(query)}" if self.login_page else "/")

    def _public(self, request: Request) -> Public:
        """The request as the browser made it (``_core.proxies``): forwarding headers count
        only from ``[auth] trusted_proxies``."""
        seen = public(connection(request), request.headers, self.auth.config.trusted_proxies)
        if seen.ignored and not self.auth.config.base_url and not self._said_ignored:
            self._said_ignored = True
            log.warning(
                "forwarding headers (X-Forwarded-*, Forwarded) from %s ignored: [auth] trusted_proxies "
                "does not name it, so this app's public URL is the connection's own, %s. Behind a "
                "proxy set [auth] base_url to the public URL, or name the proxy in trusted_proxies. "
                "(Said once.)",
                _one_line(seen.client or "-", 64),
                _one_line(seen.origin, 200),
            )
        return seen

    def _origin(self, request: Request) -> str:
        return self._public(request).origin

    def _here(self, path: str) -> str:
        """A URL of this app for a redirect, from a path from the app's root: on the configured
        base URL, else relative (its sub-path first), so a forged Host header never becomes a
        Location elsewhere."""
        return f"{app_root(self.auth)}{path}"

    def _route(self, path: str) -> str:
        """The path this server answers one of the module's routes at (``/auth/logout``)."""
        return self.auth.config.base_path + path

    def _secure(self, request: Request) -> bool:
        return self.auth.base_url(self._origin(request)).startswith("https://")

    def _cookie(self, request: Request, base: str) -> str | None:
        base_path = self.auth.config.base_path
        return scheme_cookie(request.cookies, base, secure=self._secure(request), base_path=base_path)

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
        secure, base_path = self._secure(request), self.auth.config.base_path
        response.set_cookie(
            cookie_name(base, secure, base_path),
            value,
            max_age=max_age,
            path=cookie_path(secure, base_path),
            httponly=True,
            # A form_post callback (Apple) is a cross-site POST: a Lax cookie would not come
            # back with it. SameSite=None needs Secure, so only under https.
            samesite="none" if cross_site and secure else "lax",
            secure=secure,
        )

    def _clear(self, response: Response, request: Request, base: str) -> None:
        secure, base_path = self._secure(request), self.auth.config.base_path
        response.delete_cookie(
            cookie_name(base, secure, base_path), path=cookie_path(secure, base_path), secure=secure
        )

    async def _to_login_page(
        self,
        request: Request,
        error: LoginError,
        provider: str,
        next_path: str,
        *,
        kind: str = "login",
        unexpected: bool = False,
        trace: Trace | None = None,
        binding: str | None = None,
    ) -> Response:
        """Log one line an operator can act on, and send the browser to the login page, which
        explains the refusal. No token or secret goes into the log.

        ``binding``: the binding cookie of the browser whose real callback this was (its state
        matched a pending login of a configured provider): the refusal is then kept as a record
        only that browser can read. Without it nothing is stored (anyone can send a forged
        callback, as often as they like): the page says a fixed sentence for the failed check
        (``_core.refusals``). A refused login is counted too (``auth_logins_total``): one count
        for each such log line, and one for a login the store's outage stopped (the store logs
        the outage once)."""
        if kind == "login":
            self.auth.metrics.login(provider, outcome_of(error))
        if isinstance(error, StoreUnavailable):
            raise error  # no record can be saved: _store_down answers, and the store logged it
        request_id = secrets.token_hex(6)
        check = error.error
        if isinstance(error, TokenValidationError) and (failed := error.report.first_failure):
            check = f"{check}/{failed.name}"
        elif isinstance(error, NotAllowed):
            check = f"{check}/{error.rule}"  # the rule, in the log line and on the page
        shown = _one_line(provider, 64)
        if unexpected:
            log.exception(
                "%s with %s failed unexpectedly: request_id=%s",
                kind,
                shown,
                request_id,
                extra=event(f"{kind}_failed", provider=shown, check=check, request_id=request_id),
            )
        else:
            log.warning(
                "%s refused: provider=%s check=%s request_id=%s: %s",
                kind,
                shown,
                check,
                request_id,
                _one_line(error.description, 500),
                extra=event(f"{kind}_refused", provider=shown, check=check, request_id=request_id),
            )
        page = self.login_page or FAILURE_PAGE
        if binding is None:
            query = {"refused": error.error, "request_id": request_id, "next": next_path}
            if kind != "login":
                query["kind"] = kind
            return RedirectResponse(self._here(f"{page}?{urlencode(query)}"), 303)
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
        failure_id = await self.auth.sessions.run(self.auth.sessions.notices.save_failure, record, binding)
        query = {"failure": failure_id, "next": next_path}
        response = RedirectResponse(self._here(f"{page}?{urlencode(query)}"), 303)
        # The login page reads the record with this cookie: it must outlive the record.
        self._set(
            response, request, BINDING_COOKIE, binding, max(FAILURE_TTL, self.auth.config.session.state_ttl)
        )
        return response

    # --- routes ---------------------------------------------------------------------------
    def _origins(self, request: Request) -> tuple[str, ...]:
        return (self._origin(request), self.auth.public_origin(self._origin(request)))

    def _check_csrf(self, request: Request, session_id: str, form: dict[str, str]) -> bool:
        origin = request.headers.get("origin")
        if origin is not None and origin not in self._origins(request):
            return False
        sent = request.headers.get("x-csrf-token") or form.get("csrf", "")
        # As bytes: compare_digest raises on a str with non-ASCII characters, which a client sends.
        expected = csrf_token(self.auth.config.cookie_secret, session_id)
        return hmac.compare_digest(sent.encode(), expected.encode())

    async def _post(
        self,
        request: Request,
        action: Callable[[str, dict[str, str]], Awaitable[Response]],
        limit: int = POST_BODY_LIMIT,
    ) -> Response:
        session_id = self._cookie(request, SESSION_COOKIE)
        if not session_id or await self.auth.sessions.aload(session_id) is None:
            return JSONResponse(NotLoggedIn("No session: log in first.").as_dict(), 401)
        form = await _small_form(request, limit)  # only once a session is known
        if isinstance(form, Response):
            return form
        if not self._check_csrf(request, session_id, form):
            return JSONResponse(
                {
                    "error": "csrf",
                    "description": "Cross-site request refused: send the csrf token from this app.",
                },
                403,
            )
        return await action(session_id, form)
