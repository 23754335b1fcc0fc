"""RP-initiated logout against a provider that enforces registered post-logout URIs.

The provider here is the embedded one with a client registered once, as at a real provider:
nothing is added to its lists while the app runs (the dev provider's own client is).
"""

from __future__ import annotations

import httpx2
import pytest
from login_harness import BuildApp, LoginApp, cookie_value, dev_config, query_of, set_cookies

from devidp import Client, DevAuthorizationServer
from streamlit_authlib_login._core.config import ProviderSettings, load_config
from streamlit_authlib_login._core.errors import ConfigError
from streamlit_authlib_login._routes import csrf_token

CALLBACK = "http://localhost/auth/callback/corp"


def corp(
    idp: DevAuthorizationServer, *, post_logout: tuple[str, ...], override: str | None = None
) -> ProviderSettings:
    """A provider with a fixed registration: the callback, and ``post_logout`` as its logout URIs."""
    idp.register_client(
        Client(
            client_id="corp-app",
            client_secret="corp-secret",
            name="corp",
            redirect_uris=(CALLBACK,),
            post_logout_redirect_uris=post_logout,
        )
    )
    return ProviderSettings(
        name="corp",
        client_id="corp-app",
        client_secret="corp-secret",
        server_metadata_url="http://localhost/idp/.well-known/openid-configuration",
        display_name="Corp SSO",
        post_logout_redirect_uri=override,
    )


async def logged_in(app: LoginApp) -> tuple[httpx2.AsyncClient, str]:
    browser = app.browser()
    response = await app.login(browser, provider="corp")
    assert response.status_code == 302, response.headers["location"]
    session_id = cookie_value(set_cookies(response)["auth_session"])
    browser.cookies.set("auth_session", session_id)
    return browser, session_id


async def log_out(app: LoginApp, browser: httpx2.AsyncClient, session_id: str) -> httpx2.Response:
    """Press "Log out": the form post, answered with a redirect to the provider's logout."""
    token = csrf_token(app.auth.config.cookie_secret, session_id)
    response = await browser.post("/auth/logout", data={"csrf": token})
    assert response.status_code == 303
    return response


async def test_logout_comes_back_to_the_app_logged_out(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """With only the callback URI registered, logout returns through it, its state checked, to /login."""
    app = build_app(idp, config=dev_config(providers=[corp(idp, post_logout=(CALLBACK,))], dev=False))
    browser, session_id = await logged_in(app)
    to_provider = await log_out(app, browser, session_id)
    sent = query_of(to_provider.headers["location"])
    assert sent["post_logout_redirect_uri"] == CALLBACK
    assert len(sent["state"]) >= 43
    assert cookie_value(set_cookies(to_provider)["auth_logout"]) == sent["state"]

    back = await browser.get(to_provider.headers["location"])
    assert back.status_code == 302
    assert back.headers["location"] == f"{CALLBACK}?state={sent['state']}"
    landed = await browser.get(back.headers["location"])
    assert landed.status_code == 303
    assert landed.headers["location"] == "/login?logged_out=1&at=corp"
    assert "Max-Age=0" in set_cookies(landed)["auth_logout"]
    assert app.auth.sessions.load(session_id) is None

    replayer = app.browser()
    again = await replayer.get(back.headers["location"])  # the same return, replayed
    assert again.status_code == 303
    record = app.refusal(again.headers["location"], replayer)
    assert record is not None and record["kind"] == "logout" and record["error"] == "state_mismatch"


async def test_a_logout_return_with_a_forged_state_is_refused(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """A state this app never sent, or none, is explained on the login page and creates nothing."""
    app = build_app(idp, config=dev_config(providers=[corp(idp, post_logout=(CALLBACK,))], dev=False))
    for params in ({"state": "forged"}, {}):
        browser = app.browser()
        response = await browser.get("/auth/callback/corp", params=params)
        assert response.status_code == 303
        record = app.refusal(response.headers["location"], browser)
        assert record is not None and record["kind"] == "logout"
        assert "RP-Initiated Logout" in str(record["description"])
        assert "auth_session" not in set_cookies(response)


async def test_a_logout_to_an_unregistered_uri_leaves_the_app_the_uri_to_register(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """The provider refuses an unregistered post-logout URI; the app is logged out all the same and
    keeps, for its login page, which URI to register."""
    app = build_app(idp, config=dev_config(providers=[corp(idp, post_logout=())], dev=False))
    browser, session_id = await logged_in(app)
    to_provider = await log_out(app, browser, session_id)
    at_provider = await browser.get(to_provider.headers["location"])
    assert at_provider.status_code == 400
    assert "post_logout_redirect_uri not registered" in at_provider.text
    assert app.auth.sessions.load(session_id) is None
    state = cookie_value(set_cookies(to_provider)["auth_logout"])
    unfinished = app.auth.unfinished_logout(state, "http://localhost")
    assert unfinished is not None
    assert unfinished.label == "Corp SSO"
    assert unfinished.post_logout_redirect_uri == CALLBACK
    assert app.auth.unfinished_logout("a-state-never-sent", "http://localhost") is None


async def test_the_configured_post_logout_uri_is_sent_instead(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """[auth.<name>] post_logout_redirect_uri overrides the callback, and the provider honours it."""
    bye = "http://localhost/bye"
    provider = corp(idp, post_logout=(bye,), override=bye)
    app = build_app(idp, config=dev_config(providers=[provider], dev=False))
    browser, session_id = await logged_in(app)
    to_provider = await log_out(app, browser, session_id)
    assert query_of(to_provider.headers["location"])["post_logout_redirect_uri"] == bye
    back = await browser.get(to_provider.headers["location"])
    assert back.headers["location"].startswith(f"{bye}?state=")


async def test_the_dev_provider_registers_its_callback_as_the_post_logout_uri(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """The embedded provider's client gets the same URI a real provider needs, nothing else."""
    app = build_app(idp)
    await app.logged_in(app.browser())
    client = idp.query_client("streamlit-app")
    assert client is not None
    assert client.post_logout_redirect_uris == ("http://localhost/auth/callback/dev",)


@pytest.mark.parametrize("value", ["/login", 42, "javascript:alert(1)"])
def test_a_post_logout_uri_must_be_an_absolute_http_url(value: object) -> None:
    """A relative or non-http post_logout_redirect_uri stops start-up, naming the key."""
    table = {"auth": {"cookie_secret": "x" * 40, "corp": {"client_id": "a", "client_secret": "b",
             "server_metadata_url": "https://id.example/.well-known/openid-configuration",
             "post_logout_redirect_uri": value}}}  # fmt: skip
    with pytest.raises(ConfigError, match="post_logout_redirect_uri"):
        load_config(table, {})
