"""The Playground's logins against the real embedded provider: hand-picked parameters reach the
provider, the module's own cannot be overridden, and the outcome is a result for the session that
asked, which it replaces only when told to."""

from __future__ import annotations

import json
import time

import httpx2
import pytest
from login_harness import LoginApp, cookie_value, query_of, set_cookies

from devidp import DevAuthorizationServer, ProviderConfig
from streamlit_authlib_login._core.errors import PlaygroundRequestError
from streamlit_authlib_login._core.playground import PlaygroundRequest, start_playground
from streamlit_authlib_login._routes import csrf_token

CLAIMS = json.dumps({"id_token": {"email": {"essential": True}}})


async def send(app: LoginApp, browser: httpx2.AsyncClient, session_id: str, **fields: str) -> httpx2.Response:
    """The Playground's Send: POST /auth/playground with the session's CSRF token."""
    form = {"provider": "dev", "next": "/playground", **fields}
    form["csrf"] = csrf_token(app.auth.config.cookie_secret, session_id)
    return await browser.post("/auth/playground", data=form)


async def provider_url(app: LoginApp, browser: httpx2.AsyncClient, session_id: str, **fields: str) -> str:
    response = await send(app, browser, session_id, **fields)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{app.issuer}/authorize?"), location
    return location


async def play(
    app: LoginApp, browser: httpx2.AsyncClient, session_id: str, persona: str = "bob", **fields: str
) -> httpx2.Response:
    """A whole Playground login as ``persona``; the callback's response."""
    callback = await app.authorize(browser, await provider_url(app, browser, session_id, **fields), persona)
    return await browser.get(callback)


def result_of(app: LoginApp, response: httpx2.Response, session_id: str) -> dict[str, object]:
    location = response.headers["location"]
    assert location.startswith("/playground?result="), location
    record = app.auth.sessions.notices.playground_result(query_of(location)["result"], session_id)
    assert record is not None
    return record


async def me(browser: httpx2.AsyncClient) -> str:
    response = await browser.get("/auth/me")
    assert response.status_code == 200, response.text
    return str(response.json()["profile"]["username"])


async def test_extra_parameters_reach_the_providers_authorize_request(login_app: LoginApp) -> None:
    """Scope, max_age, acr_values, claims and an extra parameter arrive at /authorize beside the
    module's own state, nonce and S256 challenge."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    mark = login_app.mark()
    url = await provider_url(
        login_app,
        browser,
        session_id,
        scope="openid email",
        max_age="300",
        acr_values="0",
        claims=CLAIMS,
        extra="ui_locales=ko\nclaims_locales = ko",
    )
    await login_app.authorize(browser, url)
    [entry] = login_app.requests_since(mark, "/authorize", ui_locales="ko")
    sent = entry.params  # type: ignore[attr-defined]
    assert sent["scope"] == "openid email" and sent["max_age"] == "300" and sent["acr_values"] == "0"
    assert json.loads(sent["claims"]) == json.loads(CLAIMS) and sent["claims_locales"] == "ko"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert len(sent["state"]) >= 32 and len(sent["nonce"]) >= 32
    assert sent["redirect_uri"] == login_app.redirect_uri and sent["response_type"] == "code"


@pytest.mark.parametrize(
    "line",
    [
        "state=chosen-by-me",
        "nonce=chosen-by-me",
        "code_challenge=abc",
        "code_challenge_method=plain",
        "redirect_uri=https://evil.example/cb",
        "client_id=another-app",
        "response_type=token",
        # Names are case-sensitive (RFC 6749 §3.1), but a server may read them in any case.
        "STATE=chosen-by-me",
        "Nonce=chosen-by-me",
        "Code_Challenge_Method=plain",
        "REDIRECT_URI=https://evil.example/cb",
        "Client_ID=another-app",
    ],
)
async def test_the_modules_own_parameters_cannot_be_overridden(login_app: LoginApp, line: str) -> None:
    """state, nonce, PKCE, redirect_uri, client_id and response_type in the extras are refused,
    saying why, and nothing goes to the provider."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    mark = login_app.mark()
    response = await send(login_app, browser, session_id, extra=line)
    assert response.status_code == 303
    record = result_of(login_app, response, session_id)
    name = line.partition("=")[0]
    assert record["passed"] is False and f"`{name}` cannot be set here" in str(record["description"])
    assert login_app.requests_since(mark, "/authorize") == []
    assert await me(browser) == "alice"


async def test_the_core_refuses_overrides_even_without_the_form(login_app: LoginApp) -> None:
    """start_playground itself refuses a `state` however the request was built."""
    request = PlaygroundRequest(provider="dev", params={"state": "mine"})
    with pytest.raises(PlaygroundRequestError, match="`state` cannot be set here"):
        await start_playground(
            login_app.auth,
            request,
            origin="http://localhost",
            next_path="/",
            binding_cookie="b" * 32,
            session_id="s",
        )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"response_mode": "fragment"}, "cannot come back to this app"),
        ({"claims": "{not json"}, "`claims` is not JSON"),
        ({"claims": '["email"]'}, "JSON object with `userinfo` and/or `id_token`"),
        ({"max_age": "-5"}, "`max_age` is a number of seconds"),
        ({"max_age": "²"}, "`max_age` is a number of seconds"),  # str.isdigit() says yes, int() no
        ({"max_age": "٣"}, "`max_age` is a number of seconds"),  # int() reads 3; the provider may not
        ({"max_age": "１２"}, "`max_age` is a number of seconds"),
        ({"prompt": "none login"}, "cannot be combined"),
        ({"extra": "no equals sign"}, "write `name=value`"),
        ({"scope": "openid", "extra": "SCOPE=openid email"}, "`SCOPE` is given twice"),
        ({"extra": "Response_Mode=fragment"}, "cannot come back to this app"),
        ({"extra": "MAX_AGE=²"}, "`max_age` is a number of seconds"),
    ],
)
def test_a_request_that_cannot_work_is_refused_before_sending(fields: dict[str, str], says: str) -> None:
    """Response modes the callback cannot receive, claims that are not JSON, and the like."""
    with pytest.raises(PlaygroundRequestError) as caught:
        PlaygroundRequest.from_form({"provider": "dev", **fields})
    assert says in caught.value.description


async def test_a_playground_login_keeps_the_session_unless_asked(login_app: LoginApp) -> None:
    """Logged in as Alice, a Playground login as Bob passes every check, comes back to the
    Playground with its result, and Alice's session stays, untouched."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    response = await play(login_app, browser, session_id, persona="bob", scope="openid profile")
    assert response.status_code == 303
    assert login_app.session_cookie not in set_cookies(response)
    assert await me(browser) == "alice"
    record = result_of(login_app, response, session_id)
    assert record["passed"] is True and record["replaced"] is False
    assert record["claims"]["preferred_username"] == "bob"  # type: ignore[index]
    assert record["report"]["passed"] is True  # type: ignore[index]
    assert "…" in str(record["token_response"]["access_token"])  # type: ignore[index]  # masked
    # Another session cannot read it, though it has the id.
    other = await login_app.logged_in(login_app.browser())
    assert (
        login_app.auth.sessions.notices.playground_result(
            query_of(response.headers["location"])["result"], other
        )
        is None
    )


async def test_a_playground_login_replaces_the_session_when_asked(login_app: LoginApp) -> None:
    """With replace ticked, Bob's login becomes the session: a new id, and Alice's is ended."""
    browser = login_app.browser()
    old = await login_app.logged_in(browser)
    response = await play(login_app, browser, old, persona="bob", replace="1")
    assert response.status_code == 302
    new = cookie_value(set_cookies(response)[login_app.session_cookie])
    assert new != old
    assert login_app.auth.sessions.load(old) is None
    assert await me(browser) == "bob"
    record = result_of(login_app, response, new)
    assert record["passed"] is True and record["replaced"] is True


async def test_a_refused_playground_login_keeps_the_session_and_says_why(
    build_app: object, idp: DevAuthorizationServer
) -> None:
    """With `wrong_aud` on, a Playground login is refused by the `aud` check, lands back on the
    Playground with the report, and Alice is still logged in, even though she asked to replace."""
    app = build_app(idp)  # type: ignore[operator]
    browser = app.browser()
    session_id = await app.logged_in(browser)
    idp.faults.set({"wrong_aud"})
    response = await play(app, browser, session_id, replace="1")
    assert response.status_code == 303
    assert app.session_cookie not in set_cookies(response)
    assert await me(browser) == "alice"
    record = result_of(app, response, session_id)
    assert record["passed"] is False and record["check"] == "id_token_invalid/aud"
    assert "not this app's client id" in str(record["description"])
    assert record["report"]["passed"] is False  # type: ignore[index]


async def test_max_age_makes_the_callback_check_auth_time(login_app: LoginApp, build_app: object) -> None:
    """max_age sent: the report has an auth_time row, passed for a fresh sign-in, and a sign-in
    older than max_age is refused by that row (the provider here signed Bob in 1000 s ago)."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    fresh = result_of(login_app, await play(login_app, browser, session_id, max_age="300"), session_id)
    rows = {c["name"]: c for c in fresh["report"]["checks"]}  # type: ignore[index]
    assert rows["auth_time"]["passed"] is True

    old = build_app(DevAuthorizationServer(ProviderConfig(fixed_time=int(time.time()) - 1000)))  # type: ignore[operator]
    browser = old.browser()
    session_id = await old.logged_in(browser)  # no max_age: a sign-in of 1000 s ago is fine
    record = result_of(old, await play(old, browser, session_id, max_age="60"), session_id)
    assert record["passed"] is False and record["check"] == "id_token_invalid/auth_time"
    assert "longer ago than `max_age`" in str(record["description"])
    assert await me(browser) == "alice"


async def test_every_callback_check_holds_for_a_playground_login(login_app: LoginApp) -> None:
    """The trace shows the login's checks; the callback cannot be replayed, nor finished in
    another browser, whose result its session cannot read."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    callback = await login_app.authorize(browser, await provider_url(login_app, browser, session_id))
    response = await browser.get(callback)
    checks = [
        s["title"]
        for s in result_of(login_app, response, session_id)["trace"]["steps"]
        if s["kind"] == "check"
    ]  # type: ignore[index]
    for name in ("state matched", "iss in the callback", "PKCE verifier", "ID token validated"):
        assert any(title.startswith(name) for title in checks), (name, checks)
    replay = await browser.get(callback)
    assert replay.headers["location"].startswith("/login?refused=state_mismatch")  # state is single-use
    # Another browser that gets hold of a fresh callback URL.
    stolen = await login_app.authorize(browser, await provider_url(login_app, browser, session_id))
    thief = login_app.browser()
    thief_session = await login_app.logged_in(thief)
    answer = await thief.get(stolen)
    assert login_app.session_cookie not in set_cookies(answer)
    result_id = query_of(answer.headers["location"])["result"]
    assert login_app.auth.sessions.notices.playground_result(result_id, thief_session) is None
    refused = login_app.auth.sessions.notices.playground_result(result_id, session_id)
    assert refused is not None and refused["error"] == "state_mismatch"
    assert await me(browser) == "alice"


async def test_the_playground_needs_a_session_and_the_csrf_token(login_app: LoginApp) -> None:
    """Logged out: 401; without this session's CSRF token: 403."""
    browser = login_app.browser()
    assert (await browser.post("/auth/playground", data={"provider": "dev"})).status_code == 401
    await login_app.logged_in(browser)
    response = await browser.post("/auth/playground", data={"provider": "dev", "csrf": "forged"})
    assert response.status_code == 403


@pytest.mark.parametrize("max_age", ["²", "٣"])
async def test_a_max_age_that_is_not_ascii_digits_is_refused_in_words(
    login_app: LoginApp, max_age: str
) -> None:
    """Send with max_age=² (a digit to str.isdigit, not to int) is refused like any bad field, never a 500."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    response = await send(login_app, browser, session_id, max_age=max_age)
    assert response.status_code < 500 and "Traceback" not in response.text
    assert "`max_age` is a number of seconds" in json.dumps(result_of(login_app, response, session_id))
