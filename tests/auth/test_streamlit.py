"""streamlit_authlib_login/_streamlit/ in Streamlit's own script runner (``AppTest``): what a page
shows when the session store is down, and how the login page explains a refusal."""

from __future__ import annotations

import socket
from pathlib import Path

from streamlit.testing.v1 import AppTest


def page_with_a_dead_store(url: str) -> None:
    """A login page on a store nobody answers at: its first store read is whether a real provider
    has completed a login yet (without a cookie, nothing else on it needs the store)."""
    import streamlit as st

    from streamlit_authlib_login._core.config import AuthConfig, ProviderSettings
    from streamlit_authlib_login._core.flow import Authenticator
    from streamlit_authlib_login._core.redis_store import RedisStore
    from streamlit_authlib_login._core.sessions import SessionManager
    from streamlit_authlib_login._streamlit import install, providers_to_set_up

    provider = ProviderSettings(
        name="corp",
        client_id="app",
        client_secret="secret",
        server_metadata_url="https://corp.example/.well-known/openid-configuration",
    )
    config = AuthConfig(cookie_secret="x" * 40, providers=(provider,), session_store=url)
    install(Authenticator(config, SessionManager(RedisStore(url), config.cookie_secret, config.session)))
    providers_to_set_up()
    st.write("after the store read")  # never reached


def test_a_page_says_the_store_is_down_instead_of_a_traceback() -> None:
    """A store read with Redis unreachable: an error that says what happened, and the page stops."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    app = AppTest.from_function(page_with_a_dead_store, args=(url,), default_timeout=10)
    app.run()
    assert not app.exception
    assert [e.value for e in app.error] == [
        "The session store (Redis) is not answering, so no login or session can be checked right now. "
        "Try again in a moment; the operator's log names the cause."
    ]
    assert not app.markdown


def login_page_explaining(store_path: str) -> None:
    """A page that shows what ``login_failure()`` finds for its query, as views/login.py does."""
    from pathlib import Path

    import streamlit as st

    from dashboard.widgets import login_failure_box
    from streamlit_authlib_login._core.config import AuthConfig
    from streamlit_authlib_login._core.flow import Authenticator
    from streamlit_authlib_login._core.sessions import SessionManager
    from streamlit_authlib_login._core.store import SQLiteStore
    from streamlit_authlib_login._streamlit import install, login_failure

    config = AuthConfig(cookie_secret="x" * 40, providers=())
    store = SQLiteStore(Path(store_path))
    install(Authenticator(config, SessionManager(store, config.cookie_secret, config.session)))
    if failure := login_failure():
        login_failure_box(failure)
    else:
        st.write("no refusal to explain")


def test_the_login_page_explains_a_refusal_from_fixed_text_and_a_record_only_to_its_browser(
    tmp_path: Path,
) -> None:
    """?refused=<code> shows that code's fixed sentence and a well-formed request id, nothing else
    from the link; ?failure=<id> of a real record shows nothing to a browser without its cookie."""
    from streamlit_authlib_login._core.config import AuthConfig
    from streamlit_authlib_login._core.sessions import SessionManager
    from streamlit_authlib_login._core.store import SQLiteStore

    store_path = tmp_path / "sessions.sqlite3"
    config = AuthConfig(cookie_secret="x" * 40, providers=())
    sessions = SessionManager(SQLiteStore(store_path), config.cookie_secret, config.session)
    failure_id = sessions.notices.save_failure(
        {"description": "Someone else's refusal", "kind": "login"}, "b" * 43
    )
    cases = {
        (("refused", "state_mismatch"), ("request_id", "0123456789ab")): "belongs to no login",
        (("refused", "[evil](https://evil.example)"), ("request_id", "# heading")): "was refused",
        (("failure", failure_id),): "no refusal to explain",
    }
    for query, expected in cases.items():
        app = AppTest.from_function(login_page_explaining, args=(str(store_path),), default_timeout=10)
        for key, value in query:
            app.query_params[key] = value
        app.run()
        assert not app.exception
        shown = " ".join(
            [*(e.value for e in app.error), *(m.value for m in app.markdown), *(c.value for c in app.caption)]
        )
        assert expected in shown, (query, shown)
        assert "evil" not in shown and "heading" not in shown and "Someone else" not in shown
        if dict(query).get("request_id") == "0123456789ab":
            assert "0123456789ab" in shown


def login_buttons_in_development_mode(local_dir: str) -> None:
    """The login buttons of an app with nothing configured: the development provider and its twins."""
    from pathlib import Path

    from streamlit_authlib_login._core.config import load_config
    from streamlit_authlib_login._core.flow import Authenticator
    from streamlit_authlib_login._core.sessions import SessionManager
    from streamlit_authlib_login._core.store import MemoryStore
    from streamlit_authlib_login._devmode import DEV_MODE
    from streamlit_authlib_login._streamlit import install, login_buttons

    config = load_config({}, {}, local_dir=Path(local_dir), dev_mode=DEV_MODE)
    install(Authenticator(config, SessionManager(MemoryStore(), config.cookie_secret, config.session)))
    login_buttons(next_path="/profile")


def test_the_login_page_offers_strava_among_the_real_providers_shapes(tmp_path: Path) -> None:
    """Strava's twin (a provider known only by its endpoints) is listed, folded away with the
    presets' twins under "Try a real provider's shape", as a same-tab login link."""
    app = AppTest.from_function(login_buttons_in_development_mode, args=(str(tmp_path),), default_timeout=10)
    app.run()
    assert not app.exception
    [folded] = app.expander
    assert folded.label.startswith("Try a real provider's shape, offline")
    real, twins = app.get("html")  # the real providers' links, then the twins' in the expander
    # The protos' `body`, not `.value`: Streamlit 1.59's AppTest has no element class for st.html.
    assert [e.proto for e in folded.children.values()] == [twins.proto]
    real, twins = real.proto.body, twins.proto.body
    assert '<a class="login" href="/auth/login/emulated-strava?next=%2Fprofile">' in twins
    assert "<span>Log in with Strava (emulated)</span>" in twins
    assert "Log in with Development provider" in real and "strava" not in real
