"""The routes that log a browser in: ours per provider, st.login's, and the Playground's."""

from __future__ import annotations

import secrets
import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .._core.errors import (
    LoginError,
    PlaygroundRequestError,
    StoreUnavailable,
    UnknownProvider,
)
from .._core.eventlog import event
from .._core.flow import page_next, safe_next
from .._core.metrics import OK
from .._core.playground import PlaygroundRequest, start_playground, with_result
from .._core.stlogin import provider_from_token, same_origin_navigation
from .._core.trace import fingerprint
from .common import (
    BINDING_COOKIE,
    CALLBACK_BODY_LIMIT,
    LOGOUT_COOKIE,
    NEXT_COOKIE,
    PLAYGROUND_BODY_LIMIT,
    SESSION_COOKIE,
    RoutesBase,
    _small_form,
    log,
)


class LoginRoutes(RoutesBase):
    """Starting a login and answering its callback, the three ways a login can start."""

    async def login(self, request: Request) -> Response:
        return await self._start(request, request.path_params["provider"], request.query_params.get("next"))

    async def st_login(self, request: Request) -> Response:
        """``st.login(name)``: its signed provider token names the provider (_core/stlogin.py)."""
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
            return await self._to_login_page(request, error, "st.login", next_path)
        return await self._start(request, settings.name, next_path)

    def _referring_page(self, request: Request) -> str:
        """The app page st.login() was called on, so the login comes back to it (Streamlit's
        own goes to the home page); a page outside the app's sub-path is no page of the app."""
        referer = request.headers.get("referer", "")
        if not same_origin_navigation({"referer": referer}, self._origins(request)):
            return "/"
        path = "/" + referer.split("://", 1)[-1].partition("/")[2]
        return page_next(path.partition("#")[0], self.auth.config.base_path)

    async def _start(self, request: Request, provider: str, next_param: str | None) -> Response:
        next_path = safe_next(next_param)
        origin = self._origin(request)
        public = self.auth.public_origin(origin)
        if public != origin:
            # Start on the public host, so the login cookie lands where the callback will arrive.
            return RedirectResponse(f"{public}{request.url.path}?{request.url.query}", 302)
        binding = self._binding(request)
        try:
            started = await self.auth.start_login(
                provider, origin=origin, next_path=next_path, binding_cookie=binding
            )
        except LoginError as error:
            return await self._to_login_page(request, error, provider, next_path)
        settings = self.auth.config.provider(provider)
        form_post = settings is not None and settings.preset.response_mode == "form_post"
        return self._to_provider(
            request, started.url, binding, 302, form_post=form_post, next_cookie=started.next_cookie
        )

    def _binding(self, request: Request) -> str:
        """One binding per browser, reused: logins started in two tabs must both be able to finish."""
        existing = self._cookie(request, BINDING_COOKIE) or ""
        return existing if len(existing) >= 32 else secrets.token_urlsafe(32)

    def _to_provider(
        self,
        request: Request,
        url: str,
        binding: str,
        status: int,
        *,
        form_post: bool,
        next_cookie: str | None = None,
    ) -> Response:
        """The redirect to the provider, with the cookie that binds the callback to this browser,
        and the one that carries the login's next (a Playground login's is stored instead)."""
        response = RedirectResponse(url, status)
        ttl = self.auth.config.session.state_ttl
        self._set(response, request, BINDING_COOKIE, binding, ttl, cross_site=form_post)
        if next_cookie is not None:
            self._set(response, request, NEXT_COOKIE, next_cookie, ttl, cross_site=form_post)
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
            if isinstance(form, Response):
                return form
            params |= form
        if "code" not in params and "error" not in params:
            # Neither a success nor an error response (RFC 6749 §4.1.2): the browser is back
            # from the provider's logout, at the URI this app sent as post_logout_redirect_uri.
            return await self._logout_return(request, provider, params)
        binding = self._cookie(request, BINDING_COOKIE)
        next_cookie = self._cookie(request, NEXT_COOKIE)
        try:
            finished = await self.auth.finish_login(
                provider, params, binding_cookie=binding, next_cookie=next_cookie
            )
        except LoginError as error:
            name = error.provider or provider or "-"
            # A real callback: its state matched a pending login (finish_login then gives the
            # error its trace) of a provider configured here. Only then is a record kept.
            real = error.trace is not None and self.auth.config.provider(name) is not None
            response = await self._to_login_page(
                request, error, name, error.next_path, trace=error.trace, binding=binding if real else None
            )
        except Exception:  # a bug must still not leave a half-made session or a 500
            error = LoginError("The login failed unexpectedly; the server log has the details.")
            response = await self._to_login_page(request, error, provider or "-", "/", unexpected=True)
        else:
            session, next_path = finished.session, finished.next_path
            if finished.result is not None:
                check = finished.refused.error if finished.refused else None
                log.info(
                    "playground login: result=%s %s",
                    finished.result[:8],
                    f"refused: check={check}" if check else "passed",
                    extra=event(
                        "playground_login", provider=session.provider if session else None, check=check
                    ),
                )
            if session is None:  # a Playground login kept as a result: the session is untouched
                return RedirectResponse(self._here(next_path), 303)
            provider = session.provider
            if previous := self._cookie(request, SESSION_COOKIE):
                # A new login replaces this browser's old session: end it server-side too.
                await self.auth.sessions.run(self.auth.sessions.delete, previous)
            subject = session.claims.get("sub") or session.profile.get("sub")
            sub = fingerprint(str(subject)) if subject else "-"
            log.info(
                "login: provider=%s sub=%s",
                provider,
                sub,
                extra=event("login", provider=provider, sub_fingerprint=sub),
            )
            started = finished.started_at
            self.auth.metrics.login(provider, OK, seconds=time.time() - started if started else None)
            response = RedirectResponse(self._here(next_path), 302)
            # The session's own max age (its provider's, or [auth]'s session_max_age).
            max_age = self.auth.sessions.cookie_max_age(session)
            self._set(response, request, SESSION_COOKIE, session.id, max_age)
            self._clear(response, request, LOGOUT_COOKIE)
        if self.auth.sessions.sealing.next_from_cookie(params.get("state", ""), next_cookie) is not None:
            # This login's next is used up. Another's (a newer login, in another tab) stays for it.
            self._clear(response, request, NEXT_COOKIE)
        return response

    async def _logout_return(
        self, request: Request, provider: str | None, params: dict[str, str]
    ) -> Response:
        try:
            provider = (await self.auth.sessions.run(self.auth.finish_logout, provider, params)).provider
        except LoginError as error:
            return await self._to_login_page(request, error, provider or "-", "/", kind="logout")
        log.info(
            "logout: provider=%s confirmed by the provider (state matched)",
            provider,
            extra=event("logout_confirmed", provider=provider),
        )
        response = RedirectResponse(self._after_logout({"logged_out": "1", "at": provider}), 303)
        self._clear(response, request, LOGOUT_COOKIE)
        return response

    async def playground(self, request: Request) -> Response:
        """The Playground's Send: a login with hand-picked parameters (``_core.playground``),
        started like ``GET /auth/login/{provider}`` but as a CSRF-protected POST from a
        logged-in page. A request the module will not send comes back to ``next`` explained."""

        async def act(session_id: str, form: dict[str, str]) -> Response:
            next_path = safe_next(form.get("next"))
            origin = self._origin(request)
            binding = self._binding(request)
            try:
                if self.auth.public_origin(origin) != origin:
                    raise PlaygroundRequestError(
                        f"Open the app at {self.auth.base_url(origin)} to use the Playground: the "
                        "provider sends the browser back there."
                    )
                wanted = PlaygroundRequest.from_form(form)
                url = await start_playground(
                    self.auth,
                    wanted,
                    origin=origin,
                    next_path=next_path,
                    binding_cookie=binding,
                    session_id=session_id,
                )
            except StoreUnavailable:
                raise
            except LoginError as error:
                notices = self.auth.sessions.notices
                result = await self.auth.sessions.run(
                    notices.save_playground_result,
                    notices.owner(session_id),
                    {"passed": False, "sent": False, "error": error.error, "description": error.description},
                )
                return RedirectResponse(self._here(with_result(next_path, result)), 303)
            form_post = wanted.params.get("response_mode") == "form_post"
            return self._to_provider(request, url, binding, 303, form_post=form_post)

        return await self._post(request, act, PLAYGROUND_BODY_LIMIT)
