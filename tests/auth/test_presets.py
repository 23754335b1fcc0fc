"""Each provider preset logs in end to end against its emulated twin, and builds real login URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from login_harness import DEV_CLIENT_SECRET, BuildApp, LoginApp, dev_config, query_of, through_the_provider

from devidp import PERSONAS, DevAuthorizationServer, ProviderConfig
from devidp.flavors import register_apple_client
from streamlit_authlib_login._core.config import AppleKey, ProviderSettings
from streamlit_authlib_login._core.presets import PRESETS
from streamlit_authlib_login._devmode import emulated_providers, throwaway_apple_key

BY_USERNAME = {p.username: p for p in PERSONAS}


@pytest.fixture(scope="module")
def apple_key() -> AppleKey:
    return throwaway_apple_key()


@pytest.fixture
def emulated_app(build_app: BuildApp, apple_key: AppleKey) -> LoginApp:
    idp = DevAuthorizationServer(ProviderConfig())
    app = build_app(idp, config=dev_config(providers=emulated_providers(DEV_CLIENT_SECRET, apple_key)))
    register_apple_client(
        idp, client_id="streamlit-app", team_id=apple_key.team_id, key_id=apple_key.key_id,
        public_key=apple_key.private_key,
    )  # fmt: skip
    return app


async def log_in(app: LoginApp, preset: str, persona: str) -> tuple[httpx2.Response, dict[str, object]]:
    browser = app.browser()
    url = await app.start(browser, provider=f"emulated-{preset}")
    response = await through_the_provider(app, browser, url, persona)
    me = await browser.get("/auth/me")
    return response, (me.json() if me.status_code == 200 else {"status": me.status_code, **me.json()})


@pytest.mark.parametrize("preset", sorted(PRESETS))
async def test_each_preset_logs_alice_in_against_its_twin(emulated_app: LoginApp, preset: str) -> None:
    """Alice logs in through every emulated provider and gets one normalized profile."""
    alice = BY_USERNAME["alice"]
    response, me = await log_in(emulated_app, preset, "alice")
    assert response.status_code == 302, query_of(response.headers.get("location", ""))
    assert response.headers["location"].endswith("/x")
    profile = me["profile"]
    # Apple: from its first-login `user` field; Discord and Kakao release a nickname only.
    assert profile["name"] == (alice.given_name if preset in ("discord", "kakao") else alice.name), profile
    assert profile["id"]
    assert profile["email"] == alice.email
    # Naver has no verified flag: its email must read as unverified, never be trusted for
    # linking. Microsoft's `email` claim counts only with proof (the "nOAuth" lesson): Alice's
    # tenant vouches for her domain with `xms_edov` (test_admission.py refuses Mallory, whose
    # tenant does not).
    assert profile["email_verified"] is (preset != "naver"), profile
    if PRESETS[preset].kind == "oidc":
        claims = me["claims"]
        assert claims["aud"] == "streamlit-app" or "streamlit-app" in claims["aud"]
        assert str(claims["iss"]).startswith(f"{emulated_app.base_url}/idp/flavors/{preset}/")
    else:
        assert me["claims"] == {}  # OAuth 2.0 only: no ID token, no claims to trust


async def test_microsoft_issuer_is_checked_against_the_tokens_tenant(emulated_app: LoginApp) -> None:
    """The {tenantid} template is filled from the token's own tid, per user."""
    _, alice = await log_in(emulated_app, "microsoft", "alice")
    _, jiwoo = await log_in(emulated_app, "microsoft", "jiwoo")
    for me in (alice, jiwoo):
        tid = me["claims"]["tid"]
        assert me["claims"]["iss"].endswith(f"/login.microsoftonline.com/{tid}/v2.0")
    assert alice["claims"]["tid"] != jiwoo["claims"]["tid"]


async def test_microsoft_token_from_another_tenant_issuer_is_refused(emulated_app: LoginApp) -> None:
    """A wrong iss still fails for Microsoft: the template never switches the check off."""
    await emulated_app.set_faults("wrong_iss")
    browser = emulated_app.browser()
    url = await emulated_app.start(browser, provider="emulated-microsoft")
    response = await through_the_provider(emulated_app, browser, url, "alice")
    assert response.status_code == 303 and (await browser.get("/auth/me")).status_code == 401
    record = emulated_app.refusal(response.headers["location"], browser)
    assert record is not None and "`iss` is not the issuer" in str(record["description"])
    await emulated_app.set_faults()


async def test_github_email_comes_from_the_verified_primary_only(emulated_app: LoginApp) -> None:
    """Bob's GitHub email is unverified: the profile says so instead of trusting it."""
    _, bob = await log_in(emulated_app, "github", "bob")
    assert bob["profile"]["email_verified"] is False
    _, casey = await log_in(emulated_app, "github", "noemail")
    assert casey["profile"]["email"] is None and casey["profile"]["name"]


async def test_apple_sends_the_name_only_at_the_first_login(emulated_app: LoginApp) -> None:
    """The second Apple login has no name from Apple, yet the ID token still identifies the user."""
    _, first = await log_in(emulated_app, "apple", "jiwoo")
    _, second = await log_in(emulated_app, "apple", "jiwoo")
    jiwoo = BY_USERNAME["jiwoo"]
    assert set(str(first["profile"]["name"]).split()) == {jiwoo.given_name, jiwoo.family_name}
    assert second["claims"]["sub"] == first["claims"]["sub"]
    assert jiwoo.given_name not in str(second["profile"]["name"])  # falls back to the email


async def test_facebook_without_email_still_logs_in(emulated_app: LoginApp) -> None:
    """A Facebook user with no email gets a profile without one, not a failed login."""
    response, me = await log_in(emulated_app, "facebook", "noemail")
    assert response.status_code == 302
    assert me["profile"]["email"] is None and me["profile"]["email_verified"] is False


def real(twin: str, preset: str) -> str:
    """The real URL behind an emulated one: /idp/flavors/PRESET/HOST/PATH → https://HOST/PATH."""
    path = urlsplit(twin).path.split(f"/idp/flavors/{preset}/", 1)[1]
    return f"https://{path}"


@pytest.mark.parametrize("preset", sorted(PRESETS))
async def test_login_urls_point_at_the_real_authorization_endpoint(
    emulated_app: LoginApp, preset: str
) -> None:
    """Behind the twin, each login URL is the real endpoint with PKCE S256, state, and the preset's scope."""
    url = await emulated_app.start(emulated_app.browser(), provider=f"emulated-{preset}")
    assert real(url, preset) == PRESETS[preset].authorize_url
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert params["state"] and params["code_challenge"]
    assert params.get("scope", "") == PRESETS[preset].scope
    assert ("nonce" in params) == (PRESETS[preset].kind == "oidc")
    for key, value in PRESETS[preset].authorize_params.items():
        assert params[key] == value


@pytest.mark.parametrize("preset", [name for name, p in sorted(PRESETS.items()) if p.kind == "oauth2"])
async def test_oauth2_presets_build_real_login_urls_with_a_dummy_client_id(
    build_app: BuildApp, preset: str
) -> None:
    """With real endpoints and a made-up client id, no request leaves: the URL is the real one."""
    chosen = PRESETS[preset]
    settings = ProviderSettings(
        name=preset, client_id="dummy-client-id", client_secret="dummy", server_metadata_url="",
        scope=chosen.scope, preset=chosen, authorize_params=chosen.authorize_params,
    )  # fmt: skip
    app = build_app(config=dev_config(providers=[settings]))
    url = await app.start(app.browser(), provider=preset)
    assert url.split("?")[0] == PRESETS[preset].authorize_url
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["client_id"] == "dummy-client-id"
    assert params["redirect_uri"] == f"http://localhost/auth/callback/{preset}"


async def test_microsoft_single_tenant_discovery_names_its_own_issuer(
    build_app: BuildApp, apple_key: AppleKey
) -> None:
    """[auth.microsoft] pointed at one tenant's discovery URL logs that tenant's people in."""
    from dataclasses import replace

    from devidp.flavors.microsoft import CONTOSO

    single = next(
        p for p in emulated_providers(DEV_CLIENT_SECRET, apple_key) if p.name == "emulated-microsoft"
    )
    single = replace(
        single,
        name="contoso",
        server_metadata_url=single.server_metadata_url.replace("/common/", f"/{CONTOSO}/"),
    )
    app = build_app(DevAuthorizationServer(ProviderConfig()), config=dev_config(providers=[single]))
    browser = app.browser()
    response = await through_the_provider(app, browser, await app.start(browser, provider="contoso"), "alice")
    assert response.status_code == 302, query_of(response.headers.get("location", ""))
    me = (await browser.get("/auth/me")).json()
    assert me["claims"]["iss"].endswith(f"/login.microsoftonline.com/{CONTOSO}/v2.0")
