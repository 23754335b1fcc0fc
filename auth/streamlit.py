"""Streamlit helpers: read the session, gate pages, draw login and logout controls.

The only module of ``auth`` that imports ``streamlit``. ``current_session`` runs
on every rerun, so it is one cookie read, one keyed store read and one decrypt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from html import escape
from typing import TypeVar
from urllib.parse import urlencode

import streamlit as st

from .flow import Authenticator, safe_next
from .routes import csrf_token, session_id_from
from .sessions import Session

_authenticator: Authenticator | None = None
_loop: asyncio.AbstractEventLoop | None = None
T = TypeVar("T")


def install(authenticator: Authenticator) -> None:
    """Make ``authenticator`` the one the helpers use (``app.py`` calls this once)."""
    global _authenticator
    _authenticator = authenticator


def attach_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The server's event loop: the provider clients' connection pools live there."""
    global _loop
    _loop = loop


def run(coro: Coroutine[object, object, T], timeout: float = 20) -> T:
    """Run an ``Authenticator`` coroutine from a page script, on the server's loop."""
    if _loop is None:
        coro.close()
        raise RuntimeError("The server's event loop is not attached yet (see app.py's lifespan).")
    return asyncio.run_coroutine_threadsafe(coro, _loop).result(timeout)


def authenticator() -> Authenticator:
    if _authenticator is None:
        raise RuntimeError("No Authenticator installed: run the app with `streamlit run app.py`.")
    return _authenticator


def secrets_table() -> Mapping[str, object]:
    """``st.secrets`` as a plain mapping; empty when there is no secrets file."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}


def current_session() -> Session | None:
    """The logged-in session of this browser, or None."""
    return authenticator().sessions.load(session_id_from(dict(st.context.cookies)))


def require_login() -> Session:
    """Return the session; without one, show the login buttons and stop the page."""
    session = current_session()
    if session is None:
        st.info("Please log in to see this page.")
        login_buttons(next_path=_current_path())
        st.stop()
    return session


def origin() -> str:
    """The app's origin as this browser sees it (scheme://host:port)."""
    url = st.context.url or "http://localhost"
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _current_path() -> str:
    url = st.context.url or "/"
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url
    return safe_next(path)


_BUTTON_CSS = (
    "<style>a.login{display:block;padding:.6rem 1rem;margin:.4rem 0;border-radius:.5rem;"
    "border:1px solid rgba(128,128,128,.4);text-decoration:none;font-weight:600}"
    "a.login .dev{font-size:.75rem;font-weight:400;padding:.1rem .4rem;border-radius:.3rem;"
    "background:#fef3c7;color:#78350f;margin-left:.4rem}</style>"
)


def _login_anchor(name: str, next_path: str, label: str, badge: str = "") -> str:
    href = f"/auth/login/{escape(name)}?{urlencode({'next': safe_next(next_path)})}"
    return f'<a class="login" href="{href}">{escape(label)}{badge}</a>'


def login_buttons(next_path: str = "/") -> None:
    """One button per configured provider. Plain links: they navigate this tab, where
    ``st.link_button`` would open a new one and lose the login on the way back."""
    links = [
        _login_anchor(
            p.name,
            next_path,
            f"Log in with {p.label}",
            ' <span class="dev">development</span>' if p.is_dev else "",
        )
        for p in authenticator().config.providers
    ]
    st.html(_BUTTON_CSS + "".join(links))


def login_link(provider: str, next_path: str, label: str) -> None:
    """One same-tab login button for ``provider``."""
    st.html(_BUTTON_CSS + _login_anchor(provider, next_path, label))


def _post_button(session: Session, action: str, label: str, next_path: str | None = None) -> None:
    token = csrf_token(authenticator().config.cookie_secret, session.id)
    extra = f'<input type="hidden" name="next" value="{escape(next_path)}">' if next_path else ""
    st.html(
        f'<form method="post" action="/auth/{action}" style="margin:0">'
        f'<input type="hidden" name="csrf" value="{token}">{extra}'
        f'<button type="submit" style="padding:.4rem .9rem;border-radius:.5rem;'
        f'border:1px solid rgba(128,128,128,.5);background:transparent;color:inherit;cursor:pointer">'
        f"{escape(label)}</button></form>"
    )


def logout_button(session: Session) -> None:
    """A same-origin POST /auth/logout with the session's CSRF token."""
    _post_button(session, "logout", "Log out")


def refresh_button(session: Session, next_path: str = "/") -> None:
    _post_button(session, "refresh", "Refresh tokens", next_path=safe_next(next_path))


def login_failure() -> dict[str, object] | None:
    """The failed login this page was sent here to explain (``?failure=<id>``), if any."""
    failure_id = st.query_params.get("failure")
    return authenticator().sessions.failure(failure_id) if failure_id else None
