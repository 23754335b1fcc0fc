"""The routes of a logged-in browser: its session, refresh, logout (ours and st.logout's), and
the page that explains a refusal to an app without a login page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .._core.errors import (
    LoginError,
    NotAllowed,
    NotLoggedIn,
    StoreUnavailable,
)
from .._core.eventlog import event
from .._core.flow import safe_next
from .._core.refusals import fixed_record
from .._core.stlogin import same_origin_navigation
from .common import (
    BINDING_COOKIE,
    LOGOUT_COOKIE,
    SESSION_COOKIE,
    RoutesBase,
    _one_line,
    csrf_token,
    log,
)
from .fallback_pages import failure_page, logout_confirm_page


class SessionRoutes(RoutesBase):
    """A logged-in browser's own routes: /auth/me, refresh, logout, and /auth/failed."""

    async def me(self, request: Request) -> Response:
        session = await self.auth.sessions.aload(self._cookie(request, SESSION_COOKIE))
        if session is None:
            return JSONResponse(NotLoggedIn("No session: log in first.").as_dict(), 401)
        return JSONResponse(session.public(), headers={"Cache-Control": "no-store"})

    async def refresh(self, request: Request) -> Response:
        async def act(session_id: str, form: dict[str, str]) -> Response:
            try:
                session = await self.auth.refresh(session_id)
            except StoreUnavailable:
                raise
            except NotAllowed as error:
                # The access rules no longer admit the person: the session has ended (refresh.py).
                response = JSONResponse(error.as_dict(), 401)
                self._clear(response, request, SESSION_COOKIE)
                return response
            except LoginError as error:
                return JSONResponse(error.as_dict(), 401 if isinstance(error, NotLoggedIn) else 400)
            if "next" in form:
                return RedirectResponse(self._here(safe_next(form["next"])), 303)
            return JSONResponse(session.public())

        return await self._post(request, act)

    async def logout(self, request: Request) -> Response:
        async def act(session_id: str, _form: dict[str, str]) -> Response:
            return await self._end_session(request, session_id)

        return await self._post(request, act)

    async def st_logout(self, request: Request) -> Response:
        """``st.logout()`` navigates here (a GET): the same logout as ``POST /auth/logout``, but
        only when the navigation comes from one of the app's own pages, or a link on another
        site would log people out (Fetch Metadata, then Origin/Referer). Otherwise: ask."""
        session_id = self._cookie(request, SESSION_COOKIE)
        if not session_id or await self.auth.sessions.aload(session_id) is None:
            response: Response = RedirectResponse(self._here("/"), 303)
            self._clear(response, request, SESSION_COOKIE)
            return response
        if not same_origin_navigation(request.headers, self._origins(request)):
            log.warning(
                "logout refused: GET /auth/logout from another site (sec-fetch-site=%s); asked instead",
                _one_line(request.headers.get("sec-fetch-site", "-"), 32),
                extra=event("logout_refused", check="cross_site"),
            )
            page = logout_confirm_page(
                csrf=csrf_token(self.auth.config.cookie_secret, session_id),
                action=self._route("/auth/logout"),
                home=self._here("/"),
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
            extra=event("logout", provider=done.provider, sub_fingerprint=done.subject),
        )
        if done.provider is not None:  # None: a concurrent logout ended it first, and counted it
            self.auth.metrics.logout(done.provider)
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
        binding = self._cookie(request, BINDING_COOKIE)
        notices = self.auth.sessions.notices
        record = await self.auth.sessions.run(notices.failure, failure_id, binding) if failure_id else None
        record = record or fixed_record(request.query_params)
        page = failure_page(record, back=self._here(safe_next(request.query_params.get("next"))))
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})
