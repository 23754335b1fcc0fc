"""auth/streamlit.py in Streamlit's own script runner (``AppTest``): what a page shows when the
session store is down."""

from __future__ import annotations

import socket

from streamlit.testing.v1 import AppTest


def page_with_a_dead_store(url: str) -> None:
    """A page on a store nobody answers at, sent to explain a failed login (the login page's
    first store read; without a cookie, current_session() needs no store)."""
    import streamlit as st

    from auth import Authenticator, SessionManager
    from auth.config import AuthConfig
    from auth.redis_store import RedisStore
    from auth.streamlit import install, login_failure

    config = AuthConfig(cookie_secret="x" * 40, providers=(), session_store=url)
    install(Authenticator(config, SessionManager(RedisStore(url), config.cookie_secret, config.session)))
    login_failure()
    st.write("after the store read")  # never reached


def test_a_page_says_the_store_is_down_instead_of_a_traceback() -> None:
    """A store read with Redis unreachable: an error that says what happened, and the page stops."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    app = AppTest.from_function(page_with_a_dead_store, args=(url,), default_timeout=10)
    app.query_params["failure"] = "some-failure-id"
    app.run()
    assert not app.exception
    assert [e.value for e in app.error] == [
        "The session store (Redis) is not answering, so no login or session can be checked right now. "
        "Try again in a moment; the operator's log names the cause."
    ]
    assert not app.markdown
