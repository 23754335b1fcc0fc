"""Streamlit helpers: read the session, gate pages, draw login and logout controls, and
everything else a page asks of the login module. Apps reach them through the package's
``__all__``, the demo's teaching views through ``streamlit_authlib_login.teaching``.

``_streamlit/`` is the only part of the package that imports Streamlit, and its
``internals.py`` the only module that touches Streamlit's private parts. ``current_session``
runs on every rerun, so it is one cookie read, one keyed store read and one decrypt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from functools import wraps
from html import escape
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar
from urllib.parse import urlencode

import streamlit as st

from .._core.config import ProviderSettings, is_loopback_url
from .._core.errors import LoginError, NotLoggedIn, SessionEnded, StoreUnavailable
from .._core.eventlog import JsonFormatter
from .._core.flow import Authenticator, page_next, safe_next
from .._core.playground import PlaygroundRequest, playground_url
from .._core.providers import TokenKind
from .._core.refusals import fixed_record
from .._core.registration import Registration
from .._core.rules import startup_lines
from .._core.sessions import MIN_VALID, Session
from .._core.trace import fingerprint
from .._routes import BINDING_COOKIE, LOGOUT_COOKIE, SESSION_COOKIE, csrf_token, scheme_cookie
from .internals import console_logger, in_page_script, json_console_logger

if TYPE_CHECKING:
    from .._devmode import LocalProviders

__all__ = [
    "attach_loop",
    "authenticator",
    "configured_provider",
    "configured_providers",
    "console_log",
    "current_session",
    "dev_faults",
    "dev_faults_on",
    "dev_provider_enabled",
    "dev_provider_here",
    "dev_provider_log",
    "dev_provider_mount",
    "install",
    "introspect",
    "log_access",
    "log_registrations",
    "login_buttons",
    "login_failure",
    "login_link",
    "logout_button",
    "origin",
    "playground_preview",
    "playground_request",
    "playground_result",
    "playground_send_button",
    "provider_entry_url",
    "provider_label",
    "provider_metadata",
    "provider_names",
    "providers_to_set_up",
    "refresh_button",
    "refresh_tokens",
    "refusal_counts",
    "registration",
    "require_login",
    "revoke",
    "run",
    "secrets_table",
    "set_dev_faults",
    "token_fingerprint",
    "unfinished_logout",
    "user_session",
]

_authenticator: Authenticator | None = None
_local: LocalProviders | None = None
_loop: asyncio.AbstractEventLoop | None = None
T = TypeVar("T")
P = ParamSpec("P")


def install(authenticator: Authenticator, local: LocalProviders | None = None) -> None:
    """Make ``authenticator`` (and development mode's ``local`` providers) the ones the helpers
    use, and let the sessions it reads renew their tokens from a page; ``app.py`` calls this once."""
    global _authenticator, _local
    _authenticator, _local = authenticator, local
    authenticator.sessions.renewer = _PageRenewer()


def console_log(log_format: str = "text") -> logging.Logger:
    """The package's logger, printed on the console of ``streamlit run`` in Streamlit's own
    format and at its ``logger.level`` (INFO by default): a library logger without a handler
    would show nothing below WARNING there, so refused and completed logins would leave no trace.
    ``log_format = "json"`` (``[auth] log_format``): one JSON object a line instead
    (``_core.eventlog``), at the ``logger.level`` Streamlit has when this is called."""
    if log_format == "json":
        return json_console_logger("streamlit_authlib_login", JsonFormatter())
    return console_logger("streamlit_authlib_login")


def log_registrations(authenticator: Authenticator, port: int) -> None:
    """At start-up, for each real provider: the exact URIs to register there."""
    origin = authenticator.config.base_url or f"http://localhost:{port}"
    log = logging.getLogger("streamlit_authlib_login")
    for provider in authenticator.config.providers:
        if not provider.served_here:
            log.info("set-up: %s", authenticator.registration(provider.name, origin).log_line())


def log_access(authenticator: Authenticator) -> None:
    """At start-up: who each provider admits (its access rules), one line each, the keys of
    [auth] the login module leaves to the app, and what a provider table says that its reader
    should know (``token_url`` read as ``access_token_url``, endpoints replacing a preset's)."""
    config = authenticator.config
    log = logging.getLogger("streamlit_authlib_login")
    for line in startup_lines(((p.name, p.access) for p in config.providers), config.app_keys):
        log.info("%s", line)
    for provider in config.providers:
        for line in provider.notes:
            log.info("%s", line)


def attach_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The server's event loop: the provider clients' connection pools live there."""
    global _loop
    _loop = loop


def run(coro: Coroutine[object, object, T], timeout: float = 20) -> T:
    """Run an ``Authenticator`` coroutine from a page script, on the server's loop."""
    if _loop is None:
        coro.close()
        raise RuntimeError("The server's event loop is not attached yet (see app.py's lifespan).")
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is _loop:  # waiting here for the loop to run it would wait forever
        coro.close()
        raise RuntimeError("Called on the server's event loop: await the Authenticator's coroutine instead.")
    return asyncio.run_coroutine_threadsafe(coro, _loop).result(timeout)


def authenticator() -> Authenticator:
    """The ``Authenticator`` that ``install`` made current."""
    if _authenticator is None:
        raise RuntimeError("No Authenticator installed: run the app with `streamlit run app.py`.")
    return _authenticator


def secrets_table() -> Mapping[str, object]:
    """``st.secrets`` as a plain mapping; empty when there is no secrets file."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}


def _store_or_stop(helper: Callable[P, T]) -> Callable[P, T]:
    """A helper that reads the session store: with the store down, the page shows why and
    stops, instead of a traceback (the store logs the cause once, for the operator)."""

    @wraps(helper)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return helper(*args, **kwargs)
        except StoreUnavailable as error:
            st.error(error.description, icon=":material/cloud_off:")
            st.stop()
            raise  # st.stop() raises; this line only tells the type checker so

    return guarded


def _cookie(base: str) -> str | None:
    """This browser's cookie ``base`` under the name the app's scheme uses, as the routes read
    it (``routes.scheme_cookie``): over https a tossed bare cookie is no session."""
    auth = authenticator()
    secure = auth.base_url(origin()).startswith("https://")
    return scheme_cookie(dict(st.context.cookies), base, secure=secure, base_path=auth.config.base_path)


@_store_or_stop
def current_session() -> Session | None:
    """The logged-in session of this browser, or None."""
    return authenticator().sessions.load(_cookie(SESSION_COOKIE))


def require_login() -> Session:
    """Return the session; without one, show the login buttons and stop the page (saying why,
    when the module ended this browser's session: ``Session.access_token``)."""
    session = current_session()
    if session is None:
        if ended := _ended_here():
            _stop_at_login(str(ended.get("description", "")))
        st.info("Please log in to see this page.")
        login_buttons(next_path=_current_path())
        st.stop()
    return session


@_store_or_stop
def _ended_here() -> dict[str, object] | None:
    """Why the module ended the session this browser's cookie still names, for a few minutes."""
    return authenticator().sessions.notices.ended(_cookie(SESSION_COOKIE))


def _stop_at_login(reason: str) -> NoReturn:
    """The session has ended: say why, offer the login buttons, and stop the page."""
    st.warning(f"**Your session has ended.** {reason}", icon=":material/logout:")
    login_buttons(next_path=_current_path())
    st.stop()
    raise AssertionError("st.stop() raises")  # for the type checker; never reached in a page


def user_session(expose_tokens: tuple[str, ...]) -> Session | None:
    """The session ``st.user`` shows (``with_login`` installs it). When ``[auth] expose_tokens``
    names the access token, ``st.user.tokens["access"]`` is valid for at least a minute: renewed
    ahead of its expiry, as ``Session.access_token`` renews it, when ``st.user`` is read; until
    then, this is ``current_session`` and nothing more (no provider call, no write of its own). A
    session that cannot be renewed ends, and the page stops with the reason and the login
    buttons; a provider that cannot renew an expired token now stops the page with its error."""
    session = current_session()
    if session is None or "access" not in expose_tokens or not session.tokens.due(MIN_VALID, time.time()):
        return session
    try:
        return _renewing(authenticator().fresh(session.id))
    except NotLoggedIn:
        return None  # logged out meanwhile (another tab): st.user says so
    except LoginError as error:
        st.error(error.description, icon=":material/cloud_off:")
        st.stop()
        raise


def _renewing(coro: Coroutine[object, object, T]) -> T:
    """A renewal (``renewal.py``), run on the server's loop from a page. A session it ended
    stops the page with the reason (``SessionEnded`` elsewhere), and so does one that another
    request ended meanwhile (a rerun in another tab met the same refusal); a session logged out
    meanwhile is ``NotLoggedIn``."""
    try:
        return run(coro)
    except SessionEnded as ended:
        if in_page_script():
            _stop_at_login(ended.description)
        raise
    except NotLoggedIn:
        if in_page_script() and (ended_here := _ended_here()):
            _stop_at_login(str(ended_here.get("description", "")))
        raise
    except TimeoutError:
        raise LoginError("Renewing the access token is taking too long; try again in a moment.") from None


class _PageRenewer:
    """How a session read by a page renews itself (``Session.access_token``, ``fetch_userinfo``):
    in a page, a session gone meanwhile stops it at the login buttons, as ``require_login`` does."""

    def fresh(self, session: Session, min_valid: float) -> Session:
        return self._unless_gone(lambda: _renewing(authenticator().fresh(session.id, min_valid=min_valid)))

    def fetch_userinfo(self, session: Session) -> Mapping[str, object]:
        return self._unless_gone(lambda: _renewing(authenticator().userinfo(session.id)))

    @staticmethod
    def _unless_gone(renew: Callable[[], T]) -> T:
        try:
            return renew()
        except NotLoggedIn:
            if in_page_script():
                _stop_at_login("Log in again.")
            raise


def origin() -> str:
    """The app's origin as this browser sees it (scheme://host:port)."""
    url = st.context.url or "http://localhost"
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _current_path() -> str:
    """This page as a next: its path from the app's root (``/profile`` of ``/app/profile``)."""
    url = st.context.url or "/"
    path = "/" + url.split("://", 1)[-1].partition("/")[2] if "://" in url else url
    return page_next(path, authenticator().config.base_path)


def _route(path: str) -> str:
    """Where the server answers one of the module's routes (``/app/auth/logout``), for links
    and forms: relative to the origin, so the browser stays on the host it is on."""
    return authenticator().config.base_path + path


_BUTTON_CSS = (
    "<style>a.login{display:flex;align-items:center;gap:.6rem;padding:.55rem 1rem;margin:.35rem 0;"
    "border-radius:.5rem;border:1px solid rgba(128,128,128,.4);text-decoration:none;font-weight:600}"
    "a.login .mark{display:inline-grid;place-items:center;width:1.6rem;height:1.6rem;border-radius:50%;"
    "font-size:.85rem;font-weight:700;flex:none}"
    "a.login .dev{font-size:.75rem;font-weight:400;padding:.1rem .4rem;border-radius:.3rem;"
    "background:#fef3c7;color:#78350f}</style>"
)
# Brand colour and initial: a mark drawn here, so the login page loads nothing from outside.
_MARKS: dict[str, tuple[str, str, str]] = {
    "google": ("#4285f4", "#fff", "G"), "github": ("#24292f", "#fff", "GH"),
    "facebook": ("#1877f2", "#fff", "f"), "microsoft": ("#00a4ef", "#fff", "M"),
    "apple": ("#000", "#fff", "A"), "gitlab": ("#fc6d26", "#fff", "GL"),
    "discord": ("#5865f2", "#fff", "D"), "kakao": ("#fee500", "#191919", "K"),
    "naver": ("#03c75a", "#fff", "N"), "oidc": ("#6b7280", "#fff", "ID"), "dev": ("#f59e0b", "#fff", "🧪"),
    "oauth2": ("#6b7280", "#fff", "O2"),
}  # fmt: skip


def _login_anchor(provider: ProviderSettings, next_path: str, label: str | None = None) -> str:
    href = escape(_route(f"/auth/login/{provider.name}?{urlencode({'next': safe_next(next_path)})}"))
    key = "dev" if provider.name == "dev" else provider.preset.name
    background, ink, letter = _MARKS.get(key, _MARKS["oidc"])
    mark = f'<span class="mark" style="background:{background};color:{ink}">{escape(letter)}</span>'
    badge = f' <span class="dev">{escape(provider.badge)}</span>' if provider.badge else ""
    text = escape(label or f"Log in with {provider.label}")
    return f'<a class="login" href="{href}">{mark}<span>{text}</span>{badge}</a>'


def login_buttons(next_path: str = "/") -> None:
    """One button per configured provider. Plain links: they navigate this tab, where
    ``st.link_button`` would open a new one. Emulated providers come last, folded away."""
    providers = authenticator().config.providers
    real = [p for p in providers if not p.secondary]
    st.html(_BUTTON_CSS + "".join(_login_anchor(p, next_path) for p in real))
    emulated = [p for p in providers if p.secondary]
    if emulated:
        with st.expander("Try a real provider's shape, offline (emulated by the development provider)"):
            st.html(_BUTTON_CSS + "".join(_login_anchor(p, next_path) for p in emulated))


def login_link(provider: str, next_path: str, label: str) -> None:
    """One same-tab login button for ``provider``."""
    settings = authenticator().settings(provider)
    st.html(_BUTTON_CSS + _login_anchor(settings, next_path, label))


def _post_button(session: Session, action: str, label: str, next_path: str | None = None) -> None:
    token = csrf_token(authenticator().config.cookie_secret, session.id)
    extra = f'<input type="hidden" name="next" value="{escape(next_path)}">' if next_path else ""
    st.html(
        f'<form method="post" action="{escape(_route(f"/auth/{action}"))}" style="margin:0">'
        f'<input type="hidden" name="csrf" value="{token}">{extra}'
        f'<button type="submit" style="padding:.4rem .9rem;border-radius:.5rem;'
        f'border:1px solid rgba(128,128,128,.5);background:transparent;color:inherit;cursor:pointer">'
        f"{escape(label)}</button></form>"
    )


def logout_button(session: Session) -> None:
    """A same-origin POST /auth/logout with the session's CSRF token."""
    _post_button(session, "logout", "Log out")


def refresh_button(session: Session, next_path: str = "/") -> None:
    """A same-origin POST /auth/refresh with the session's CSRF token, back to ``next_path``."""
    _post_button(session, "refresh", "Refresh tokens", next_path=safe_next(next_path))


# --- the Playground: a login with hand-picked parameters (_core.playground) -------------------
def playground_request(form: Mapping[str, str]) -> PlaygroundRequest:
    """The request the form describes, checked as ``POST /auth/playground`` checks it; raises
    ``LoginError`` saying what cannot be sent."""
    return PlaygroundRequest.from_form(form)


def playground_preview(request: PlaygroundRequest) -> str:
    """The exact URL Send would go to, from the same builder, with a state, nonce and challenge
    of its own (Send makes fresh ones); raises ``LoginError``."""
    return run(playground_url(authenticator(), request, origin=origin()))


def playground_send_button(session: Session, form: Mapping[str, str], next_path: str, label: str) -> None:
    """A same-origin POST /auth/playground carrying the form and the session's CSRF token: the
    browser goes to the provider, and comes back to ``next_path`` with the result."""
    token = csrf_token(authenticator().config.cookie_secret, session.id)
    fields = {**form, "next": safe_next(next_path), "csrf": token}
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )
    st.html(
        f'<form method="post" action="{escape(_route("/auth/playground"))}" style="margin:0">{hidden}'
        '<button type="submit" style="padding:.5rem 1.1rem;border-radius:.5rem;border:0;'
        'background:#ff4b4b;color:#fff;font-weight:600;cursor:pointer">'
        f"{escape(label)}</button></form>"
    )


@_store_or_stop
def playground_result() -> dict[str, object] | None:
    """The Playground login this page came back with (``?result=<id>``), if it is this session's."""
    result_id = st.query_params.get("result")
    if not result_id:
        return None
    return authenticator().sessions.notices.playground_result(result_id, _cookie(SESSION_COOKIE))


def provider_names() -> dict[str, str]:
    """Every configured provider: name → label."""
    return {p.name: p.label for p in authenticator().config.providers}


@_store_or_stop
def providers_to_set_up() -> list[Registration]:
    """Real providers that have never completed a login here, with what to register at each."""
    auth = authenticator()
    return [
        auth.registration(p.name, origin())
        for p in auth.config.providers
        if not p.served_here and not auth.sessions.notices.provider_working(p.name)
    ]


@_store_or_stop
def unfinished_logout() -> Registration | None:
    """A logout of this browser that went to its provider and never came back."""
    state = _cookie(LOGOUT_COOKIE)
    return authenticator().unfinished_logout(state, origin()) if state else None


def provider_label(name: str) -> str:
    """Provider ``name``'s label; the name itself for one no longer configured."""
    found = authenticator().config.provider(name)
    return found.label if found else name


@_store_or_stop
def login_failure() -> dict[str, object] | None:
    """The refused login this page was sent here to explain: its record (``?failure=<id>``),
    shown only to the browser that got it, or the fixed sentence for a refusal nothing was
    stored for (``?refused=<code>&request_id=<id>``, ``_core.refusals``); else why the module
    ended this browser's session, if it did in the last minutes (``kind`` "session":
    ``Session.access_token``); None for none of them."""
    failure_id = st.query_params.get("failure")
    record = (
        authenticator().sessions.notices.failure(failure_id, _cookie(BINDING_COOKIE)) if failure_id else None
    )
    return record or fixed_record(st.query_params.to_dict()) or _ended_here()


# --- tokens -------------------------------------------------------------------------------
def refresh_tokens(session: Session) -> Session:
    """Refresh the session's tokens now (single flight); raises ``LoginError``."""
    return run(authenticator().refresh(session.id))


def introspect(session: Session, which: TokenKind = "access_token") -> dict[str, object]:
    """RFC 7662 at the session's provider; raises ``LoginError``."""
    return run(authenticator().providers.introspect(session, which))


def revoke(session: Session, which: TokenKind = "access_token") -> int:
    """RFC 7009 at the session's provider: its HTTP status (200: done); raises ``LoginError``."""
    return run(authenticator().providers.revoke(session, which))


def token_fingerprint(value: str) -> str:
    """Names a token without showing it (the dev provider's log names it the same way)."""
    return fingerprint(value)


# --- providers ----------------------------------------------------------------------------
def provider_metadata(settings: ProviderSettings) -> dict[str, object]:
    """Its discovery document (checked), or its preset's endpoints; raises ``LoginError``."""
    return run(authenticator().providers.provider_metadata(settings.name, origin=origin()))


def provider_entry_url(settings: ProviderSettings) -> str:
    """Its discovery URL (OpenID Connect), or its authorization endpoint (OAuth 2.0 only)."""
    return authenticator().providers.provider_entry_url(settings.name, origin=origin())


def configured_providers() -> tuple[ProviderSettings, ...]:
    """Every configured provider, in the configuration's order."""
    return authenticator().config.providers


def refusal_counts() -> dict[tuple[str, str], int]:
    """Logins (and refreshes) the access rules refused since this server process started, per
    (provider, rule): this replica's alone (each replica counts its own), read from its
    ``auth_logins_total`` and ``auth_refreshes_total`` (``_core.metrics``)."""
    return authenticator().metrics.refusals()


def configured_provider(name: str) -> ProviderSettings | None:
    """The configured provider ``name``; None for one no longer configured (an older session's)."""
    return authenticator().config.provider(name)


def registration(name: str) -> Registration:
    """The exact URIs to register at provider ``name`` for this app, as this browser reaches it."""
    return authenticator().registration(name, origin())


# --- development mode: the embedded provider, in this process -------------------------------
def dev_provider_enabled() -> bool:
    """Whether development mode is on (no real provider configured): the development provider
    serves logins at ``/idp`` (under the app's sub-path)."""
    return authenticator().config.dev_provider_enabled


def dev_provider_here() -> bool:
    """Whether the development provider runs and this browser reached the app on loopback."""
    return _local is not None and is_loopback_url(origin())


def dev_provider_mount() -> str | None:
    """The path the development provider is served under (``/idp/``, ``/app/idp/`` under the
    sub-path ``/app``), when it runs."""
    return _local.mount_path if _local is not None else None


def dev_provider_log(*, state: str | None, code_fingerprint: str | None) -> list[dict[str, object]]:
    """The provider's own log of one login, joined by its `state` and code fingerprint."""
    return _local.journal(state=state, code_fingerprint=code_fingerprint) if _local is not None else []


def dev_faults() -> dict[str, str]:
    """The provider's fault switches: name → what it breaks."""
    if _local is None:
        return {}
    from devidp import FAULTS  # development mode is on: the provider is loaded already

    return dict(FAULTS)


def dev_faults_on() -> frozenset[str]:
    """The fault switches that are on."""
    return _local.faults_on() if _local is not None else frozenset()


def set_dev_faults(names: set[str]) -> None:
    """Turn on exactly ``names`` (nothing without the development provider)."""
    if _local is not None:
        _local.set_faults(names)
