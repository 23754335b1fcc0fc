"""The login itself against the real embedded provider: state, PKCE, nonce, RFC 9207 and the ID token.

Every refusal is asserted the way a user meets it: the callback sends the
browser to the login page with a failure record naming the check, and no
session exists afterwards.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import httpx2
import pytest
from login_harness import (
    DEV_CLIENT_SECRET,
    BuildApp,
    LoginApp,
    cookie_value,
    dev_config,
    query_of,
    second_provider,
    set_cookies,
    with_params,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from devidp import DevAuthorizationServer
from streamlit_authlib_login._core.config import ProviderSettings, SessionSettings
from streamlit_authlib_login._core.errors import LoginError
from streamlit_authlib_login._core.flow import Finished, Outcome


async def refused(app: LoginApp, browser: httpx2.AsyncClient, response: httpx2.Response) -> dict[str, object]:
    """Assert the login was refused the way the contract says; return the stored failure record."""
    assert response.status_code == 303, (response.status_code, response.text)
    location = response.headers["location"]
    assert location.startswith(("/login?failure=", "/login?refused=")), location
    assert app.session_cookie not in set_cookies(response)
    assert "Traceback" not in response.text
    assert (await browser.get("/auth/me")).status_code == 401
    record = app.refusal(location, browser)
    assert record is not None
    return record


@pytest.fixture(params=["own-callback", "st.login-callback"])
def build_app(build_app: BuildApp, request: pytest.FixtureRequest) -> BuildApp:
    """Every test here runs twice: through each provider's own callback URI, and through
    st.login's one ``/oauth2callback`` (an st.login app's secrets), where the provider is the
    state's. Tests that bring their own config keep it."""
    if request.param == "own-callback":
        return build_app

    def build(idp: DevAuthorizationServer | None = None, **kwargs: object) -> LoginApp:
        kwargs.setdefault("config", dev_config(redirect_uri="http://localhost/oauth2callback"))
        return build_app(idp, **kwargs)

    return build


def report_row(record: dict[str, object], name: str) -> dict[str, object]:
    checks = record["report"]["checks"]  # type: ignore[index]
    return next(c for c in checks if c["name"] == name)  # type: ignore[union-attr]


async def test_alice_logs_in_and_lands_on_next_with_a_session(login_app: LoginApp) -> None:
    """A full login as alice ends on ?next with a session cookie, and /auth/me shows her."""
    browser = login_app.browser()
    response = await login_app.login(browser, next_path="/x")
    assert response.status_code == 302
    assert response.headers["location"] == "/x"
    assert login_app.session_cookie in set_cookies(response)
    me = await browser.get("/auth/me")
    assert me.status_code == 200
    assert me.json()["provider"] == "dev"
    assert me.json()["profile"]["username"] == "alice"
    assert me.json()["profile"]["email_verified"] is True


async def test_authorization_request_carries_pkce_s256_nonce_and_state(login_app: LoginApp) -> None:
    """Every authorization request has state, nonce and an S256 code challenge, to our callback."""
    url = await login_app.start(login_app.browser())
    assert url.startswith("http://localhost/idp/authorize?")
    params = query_of(url)
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["redirect_uri"] == login_app.redirect_uri
    assert params["response_type"] == "code"
    assert "openid" in params["scope"].split()


async def test_state_nonce_and_challenge_are_fresh_for_every_login(login_app: LoginApp) -> None:
    """Two logins never share a state, a nonce or a PKCE challenge."""
    browser = login_app.browser()
    first = query_of(await login_app.start(browser))
    second = query_of(await login_app.start(browser))
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name]


async def test_pkce_challenge_is_the_s256_of_the_verifier_the_token_request_sends(
    login_app: LoginApp,
) -> None:
    """The code_challenge is BASE64URL(SHA256(code_verifier)) of the verifier kept for this login."""
    url = await login_app.start(login_app.browser())
    params = query_of(url)
    pending = login_app.auth.sessions.pending.take_login(params["state"])
    assert pending is not None
    digest = hashlib.sha256(pending.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(pending.code_verifier) <= 128  # RFC 7636 §4.1
    assert params["nonce"] == pending.nonce


async def test_each_provider_gets_its_own_redirect_uri(
    build_app: BuildApp, shared_idp: DevAuthorizationServer
) -> None:
    """A second provider logs in through /auth/callback/<its name>, not the dev provider's."""
    second = second_provider(shared_idp)
    app = build_app(config=dev_config(providers=[second]))
    browser = app.browser()
    assert query_of(await app.start(browser, provider="second"))["redirect_uri"] == (
        "http://localhost/auth/callback/second"
    )
    assert query_of(await app.start(browser, provider="dev"))["redirect_uri"] == (
        "http://localhost/auth/callback/dev"
    )
    response = await app.login(app.browser(), provider="second", persona="bob")
    assert response.status_code == 302, response.headers["location"]


async def test_callback_of_one_provider_is_refused_at_another_providers_redirect_uri(
    build_app: BuildApp,
) -> None:
    """A state started with one provider does not complete at another provider's callback."""
    second = ProviderSettings(
        name="second",
        client_id="second-app",
        client_secret="second-secret",
        server_metadata_url="http://localhost/idp/.well-known/openid-configuration",
    )
    app = build_app(config=dev_config(providers=[second]))
    browser = app.browser()
    callback = await app.authorize(browser, await app.start(browser))
    response = await browser.get(callback.replace("/auth/callback/dev", "/auth/callback/second"))
    record = await refused(app, browser, response)
    assert record["error"] == "state_mismatch"
    assert "belongs to a login with 'dev'" in str(record["description"])


# --- state ------------------------------------------------------------------------------------
async def test_replayed_callback_is_refused_and_creates_no_session(login_app: LoginApp) -> None:
    """The same callback delivered twice, with the login cookie put back, is refused the second time."""
    browser = login_app.browser()
    callback = await login_app.authorize(browser, await login_app.start(browser))
    binding = browser.cookies[login_app.binding_cookie]
    assert (await browser.get(callback)).status_code == 302
    attacker = login_app.browser()
    attacker.cookies.set(login_app.binding_cookie, binding)
    record = await refused(login_app, attacker, await attacker.get(callback))
    assert record["error"] == "state_mismatch"
    assert "already used" in str(record["description"])


async def test_callback_delivered_to_another_browser_is_refused(login_app: LoginApp) -> None:
    """A callback that reaches a browser which did not start the login creates no session."""
    victim = login_app.browser()
    callback = await login_app.authorize(victim, await login_app.start(victim))
    other = login_app.browser()
    record = await refused(login_app, other, await other.get(callback))
    assert record["error"] == "state_mismatch"
    assert "different browser" in str(record["description"])


async def test_callback_with_a_forged_login_cookie_is_refused(login_app: LoginApp) -> None:
    """A login cookie of the attacker's own making does not bind someone else's state."""
    victim = login_app.browser()
    callback = await login_app.authorize(victim, await login_app.start(victim))
    other = login_app.browser()
    other.cookies.set(login_app.binding_cookie, "forged-" + "x" * 40)
    record = await refused(login_app, other, await other.get(callback))
    assert "different browser" in str(record["description"])


async def test_state_older_than_its_lifetime_is_refused(login_app: LoginApp) -> None:
    """A pending login older than state_ttl (10 minutes by default) cannot be completed."""
    assert SessionSettings().state_ttl <= 600
    browser = login_app.browser()
    url = await login_app.start(browser)
    sessions = login_app.auth.sessions
    pending = sessions.pending.take_login(query_of(url)["state"])
    assert pending is not None
    sessions.pending.save_login(replace(pending, created_at=pending.created_at - 601))
    callback = await login_app.authorize(browser, url)
    record = await refused(login_app, browser, await browser.get(callback))
    assert "expired" in str(record["description"])


async def test_state_expires_in_the_store_after_state_ttl(build_app: BuildApp) -> None:
    """With state_ttl=0 the pending login is gone by the time the provider answers."""
    app = build_app(config=dev_config(session=SessionSettings(state_ttl=0)))
    browser = app.browser()
    url = await app.start(browser)
    browser.cookies.set(app.binding_cookie, "kept")  # Max-Age=0 made the jar drop it
    response = await browser.get(await app.authorize(browser, url))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?refused=state_mismatch")
    assert app.session_cookie not in set_cookies(response)
    assert (await browser.get("/auth/me")).status_code == 401


async def test_login_cookie_lives_no_longer_than_the_state(login_app: LoginApp) -> None:
    """The browser-binding cookie is HttpOnly, Lax, and expires with the pending login."""
    response = await login_app.browser().get("/auth/login/dev")
    header = set_cookies(response)[login_app.binding_cookie]
    assert "Max-Age=600" in header
    assert "HttpOnly" in header
    assert "samesite=lax" in header.lower()


@pytest.mark.parametrize(
    "params",
    [{}, {"code": "abc"}, {"state": "never-issued", "code": "abc"}, {"error": "access_denied"}],
    ids=["nothing", "code-without-state", "unknown-state", "error-without-state"],
)
async def test_callbacks_we_did_not_ask_for_are_refused(login_app: LoginApp, params: dict[str, str]) -> None:
    """Callbacks without a state of ours land on the login page, not in a session or a 500."""
    browser = login_app.browser()
    record = await refused(login_app, browser, await browser.get(login_app.callback_path, params=params))
    assert record["error"] == "state_mismatch"


# --- the provider's own refusals ---------------------------------------------------------------
async def test_wrong_pkce_verifier_is_refused_by_the_provider_and_explained(login_app: LoginApp) -> None:
    """When the provider refuses the code verifier, the user lands on the login page with its reason."""
    browser = login_app.browser()
    url = await login_app.start(browser)
    sessions = login_app.auth.sessions
    pending = sessions.pending.take_login(query_of(url)["state"])
    assert pending is not None
    sessions.pending.save_login(replace(pending, code_verifier="a-verifier-of-another-login-" + "x" * 30))
    callback = await login_app.authorize(browser, url)
    record = await refused(login_app, browser, await browser.get(callback))
    assert record["error"] == "provider_error"
    assert "refused the token request: invalid_grant" in str(record["description"])


async def test_reused_code_is_refused_by_the_provider_and_explained(login_app: LoginApp) -> None:
    """An already-redeemed code delivered with a fresh state is refused by the provider, clearly."""
    browser = login_app.browser()
    first = await login_app.authorize(browser, await login_app.start(browser))
    assert (await browser.get(first)).status_code == 302
    second = login_app.browser()
    state = query_of(await login_app.start(second))["state"]
    replay = with_params(
        login_app.callback_path, code=query_of(first)["code"], state=state, iss=login_app.issuer
    )
    record = await refused(login_app, second, await second.get(replay))
    assert record["error"] == "provider_error"
    assert "already used" in str(record["description"])


async def test_provider_replaying_an_old_authorization_response_is_refused(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """With the reused_code fault, the replayed response carries a used state: refused, no session."""
    app = build_app(idp)
    assert (await app.login(app.browser())).status_code == 302
    await app.set_faults("reused_code")
    browser = app.browser()
    record = await refused(app, browser, await app.login(browser))
    assert record["error"] == "state_mismatch"


async def test_user_denying_consent_is_explained(login_app: LoginApp) -> None:
    """An error response from the provider (access_denied) reaches the login page with its code."""
    browser = login_app.browser()
    state = query_of(await login_app.start(browser))["state"]
    response = await browser.get(
        login_app.callback_path,
        params={"error": "access_denied", "error_description": "no", "state": state, "iss": login_app.issuer},
    )
    record = await refused(login_app, browser, response)
    assert record["error"] == "provider_error"
    assert "access_denied" in str(record["description"])


# --- RFC 9207 --------------------------------------------------------------------------------
async def test_callback_with_another_issuer_is_refused(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """With the wrong_iss_param fault, the callback's iss names another issuer: a mix-up, refused."""
    app = build_app(idp)
    await app.set_faults("wrong_iss_param")
    browser = app.browser()
    record = await refused(app, browser, await app.login(browser))
    assert record["error"] == "issuer_mismatch"
    assert "https://evil.example.com" in str(record["description"])
    assert "RFC 9207" in str(record["description"])


async def test_callback_without_iss_is_refused_when_the_provider_advertises_it(login_app: LoginApp) -> None:
    """The dev provider advertises RFC 9207, so a callback stripped of iss is refused."""
    browser = login_app.browser()
    callback = await login_app.authorize(browser, await login_app.start(browser))
    params = query_of(callback)
    del params["iss"]
    record = await refused(login_app, browser, await browser.get(login_app.callback_path, params=params))
    assert record["error"] == "issuer_mismatch"


# --- the ID token, one fault switch per check of OIDC Core §3.1.3.7 -------------------------------
@pytest.mark.parametrize(
    ("fault", "row", "words"),
    [
        ("wrong_iss", "iss", "the ID token's `iss` is not the issuer from discovery"),
        ("wrong_aud", "aud", "the ID token's `aud` is not this app's client id"),
        ("bad_signature", "signature", "the ID token's signature does not verify"),
        ("unknown_key", "kid", "is not in the provider's JWKS"),
        ("alg_none", "alg", "the ID token is signed with `none`"),
        ("expired", "exp", "the ID token has expired"),
        ("wrong_nonce", "nonce", "the ID token's `nonce` is not the one this login sent"),
        ("bad_at_hash", "at_hash", "the ID token's `at_hash` does not match the access token"),
    ],
)
async def test_id_token_fault_is_refused_naming_the_check(
    build_app: BuildApp, idp: DevAuthorizationServer, fault: str, row: str, words: str
) -> None:
    """Each ID-token fault is refused, the failed check named in words and failed in the report."""
    app = build_app(idp)
    await app.set_faults(fault)
    browser = app.browser()
    record = await refused(app, browser, await app.login(browser))
    assert record["error"] == "id_token_invalid"
    assert words in str(record["description"])
    assert report_row(record, row)["passed"] is False
    assert record["report"]["passed"] is False  # type: ignore[index]


async def test_unknown_key_also_fails_the_signature_row(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """A token signed by a key not in the JWKS is not 'verified' by some other key."""
    app = build_app(idp)
    await app.set_faults("unknown_key")
    browser = app.browser()
    record = await refused(app, browser, await app.login(browser))
    assert report_row(record, "signature")["passed"] is False


async def test_wrong_audience_report_keeps_the_other_checks(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """The report of a refused token shows every check, passed ones included."""
    app = build_app(idp)
    await app.set_faults("wrong_aud")
    browser = app.browser()
    record = await refused(app, browser, await app.login(browser))
    assert report_row(record, "signature")["passed"] is True
    assert report_row(record, "iss")["passed"] is True
    assert report_row(record, "aud")["actual"] == "some-other-client"
    assert report_row(record, "aud")["expected"] == "streamlit-app"


async def test_userinfo_for_another_user_is_refused(build_app: BuildApp, idp: DevAuthorizationServer) -> None:
    """Userinfo answering for another sub than the ID token's is refused (OIDC Core §5.3.2)."""
    app = build_app(idp)
    await app.set_faults("userinfo_other_sub")
    browser = app.browser()
    record = await refused(app, browser, await app.login(browser))
    assert record["error"] == "userinfo_sub_mismatch"
    assert "Userinfo answered for `sub` '00000000-0000-0000-0000-000000000000'" in str(record["description"])


async def test_a_successful_login_keeps_its_validation_report(login_app: LoginApp) -> None:
    """The session carries a report with one passed row per check, each citing the spec."""
    browser = login_app.browser()
    session_id = await login_app.logged_in(browser)
    session = login_app.auth.sessions.load(session_id)
    assert session is not None
    report = session.report
    assert report is not None and report.passed is True
    rows = {c.name: c for c in report.checks}
    assert {"alg", "kid", "signature", "iss", "aud", "exp", "iat", "nonce", "at_hash"} <= rows.keys()
    assert all(row.passed and row.spec for row in rows.values())
    assert rows["iss"].expected == rows["iss"].actual == "http://localhost/idp"


# --- where logins may and may not start ---------------------------------------------------------
async def test_unknown_provider_is_explained_on_the_login_page(login_app: LoginApp) -> None:
    """GET /auth/login/nosuch lands on the login page saying so (its log line names the provider)."""
    browser = login_app.browser()
    response = await browser.get("/auth/login/nosuch")
    record = await refused(login_app, browser, response)
    assert record["error"] == "unknown_provider"
    assert "No provider of that name" in str(record["description"])


async def test_dev_provider_refuses_to_start_for_a_public_origin(build_app: BuildApp) -> None:
    """The passwordless dev provider does not start a login for a non-loopback origin."""
    app = build_app(base_url="http://app.example.com")
    browser = app.browser()
    record = await refused(app, browser, await browser.get("/auth/login/dev"))
    assert record["error"] == "config_error"  # its log line says the dev provider is loopback-only


async def test_two_logins_of_one_browser_get_two_sessions(login_app: LoginApp) -> None:
    """Logging in again replaces the cookie with a new random session id."""
    browser = login_app.browser()
    first = await login_app.logged_in(browser)
    second = await login_app.logged_in(browser, persona="bob")
    assert first != second
    assert (await browser.get("/auth/me")).json()["profile"]["username"] == "bob"


async def test_planted_session_cookie_is_not_adopted_by_the_login(login_app: LoginApp) -> None:
    """A session id planted before the login (fixation) is not the one the login issues."""
    browser = login_app.browser()
    browser.cookies.set(login_app.session_cookie, "planted-by-an-attacker")
    response = await login_app.login(browser)
    assert cookie_value(set_cookies(response)[login_app.session_cookie]) != "planted-by-an-attacker"
    assert login_app.auth.sessions.load("planted-by-an-attacker") is None


async def test_login_works_against_a_confidential_client_secret(login_app: LoginApp) -> None:
    """The app authenticates at the token endpoint with its own client secret (basic auth)."""
    mark = login_app.mark()
    assert (await login_app.login(login_app.browser())).status_code == 302
    (token,) = login_app.requests_since(mark, "/token")
    assert token.params["grant_type"] == "authorization_code"  # type: ignore[attr-defined]
    assert DEV_CLIENT_SECRET not in str(token.params)  # type: ignore[attr-defined]


async def test_a_provider_answering_nonsense_still_ends_on_the_login_page(build_app: BuildApp) -> None:
    """A token response without access_token (an unforeseen failure) gives the login page, not a 500."""

    async def discovery(request: Request) -> JSONResponse:
        issuer = "http://localhost/broken"
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
            }
        )

    async def token(request: Request) -> JSONResponse:
        return JSONResponse({"token_type": "Bearer"})

    broken = Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/token", token, methods=["POST"]),
        ]
    )
    settings = ProviderSettings(
        name="broken",
        client_id="app",
        client_secret="secret",
        server_metadata_url="http://localhost/broken/.well-known/openid-configuration",
        scope="profile",
    )
    app = build_app(config=dev_config(providers=[settings]), extra_routes=[Mount("/broken", app=broken)])
    browser = app.browser()
    state = query_of(await app.start(browser, provider="broken"))["state"]
    response = await browser.get("/auth/callback/broken", params={"code": "c", "state": state})
    record = await refused(app, browser, response)
    assert record["error"] == "provider_error"
    assert "token response has no `access_token`" in str(record["description"])


# --- what pages ask of a provider: one call each ------------------------------------------------
async def test_a_sessions_tokens_are_introspected_and_revoked_at_its_provider(login_app: LoginApp) -> None:
    """RFC 7662 and RFC 7009 at the session's own provider, by which token of the session."""
    session = login_app.auth.sessions.load(await login_app.logged_in(login_app.browser()))
    assert session is not None
    assert (await login_app.auth.providers.introspect(session))["active"] is True
    assert await login_app.auth.providers.revoke(session, "refresh_token") == 200
    assert (await login_app.auth.providers.introspect(session, "refresh_token"))["active"] is False


async def test_a_providers_description_is_its_checked_discovery_document(login_app: LoginApp) -> None:
    """A provider's metadata, and the URL it was read from, for the app as this browser reaches it."""
    metadata = await login_app.auth.providers.provider_metadata("dev", origin=login_app.base_url)
    assert metadata["issuer"] == login_app.issuer
    entry = login_app.auth.providers.provider_entry_url("dev", origin=login_app.base_url)
    assert entry == f"{login_app.issuer}/.well-known/openid-configuration"


# --- a login for a purpose, finished by the finisher registered for it ------------------------
class Recorder:
    """A finisher that keeps what it was handed and leaves the session as it was."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def finish(self, outcome: Outcome) -> Finished:
        self.outcomes.append(outcome)
        return Finished(session=None, next_path=outcome.pending.next_path, result=f"r{len(self.outcomes)}")


async def test_a_login_for_a_purpose_is_finished_by_the_finisher_registered_for_it(
    login_app: LoginApp,
) -> None:
    """The callback runs every check, then hands the outcome, passed or refused, to the finisher
    of the login's purpose, with what was kept for it; no session is made unless it makes one."""
    recorder = Recorder()
    login_app.auth.finishers["audit"] = recorder
    browser = login_app.browser()
    binding = "b" * 43
    browser.cookies.set(login_app.binding_cookie, binding)

    async def start() -> str:
        return await login_app.auth.start_for(
            "audit",
            "dev",
            origin="http://localhost",
            binding_cookie=binding,
            added={"acr_values": "0"},
            extra={"note": "kept for the finisher"},
            next_path="/audit",
        )

    url = await start()
    assert query_of(url)["acr_values"] == "0"
    passed = await browser.get(await login_app.authorize(browser, url))
    assert passed.status_code == 303 and passed.headers["location"] == "/audit"
    assert login_app.session_cookie not in set_cookies(passed)
    [outcome] = recorder.outcomes
    assert outcome.refused is None and outcome.checked is not None and outcome.new_session is not None
    assert outcome.checked.claims["sub"] and outcome.pending.extra == {"note": "kept for the finisher"}
    assert outcome.pending.purpose == "audit" and outcome.pending.params == {"acr_values": "0"}

    callback = await login_app.authorize(browser, await start())
    browser.cookies.set(login_app.binding_cookie, "c" * 43)  # another browser's
    await browser.get(callback)
    refused_outcome = recorder.outcomes[-1]
    assert refused_outcome.checked is None and refused_outcome.refused is not None
    assert refused_outcome.refused.error == "state_mismatch" and refused_outcome.new_session is None


async def test_a_purpose_with_no_finisher_starts_no_login(login_app: LoginApp) -> None:
    """Nothing finishes such a login, so none starts."""
    with pytest.raises(LoginError, match="finishes no 'nobody' logins"):
        await login_app.auth.start_for(
            "nobody",
            "dev",
            origin="http://localhost",
            binding_cookie="b" * 43,
            added={},
            extra={},
            next_path="/",
        )
