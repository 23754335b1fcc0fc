"""What to register at a provider, shown before any login works; mismatches recognised."""

from __future__ import annotations

import pytest
from login_harness import DEV_CLIENT_SECRET, BuildApp, LoginApp, dev_config, query_of, with_params

from streamlit_authlib_login._core.config import load_config
from streamlit_authlib_login._core.registration import is_redirect_uri_mismatch
from streamlit_authlib_login._devmode import emulated_providers, throwaway_apple_key

# Each as the provider words it, where it reaches the app (callback `error`, token endpoint answer).
MISMATCHES = {
    "Google": ("redirect_uri_mismatch", "Bad Request"),
    "GitHub": (
        "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
    ),
    "Microsoft": (
        "invalid_request",
        "AADSTS50011: The redirect URI 'http://localhost:8501/auth/callback/microsoft' specified in "
        "the request does not match the redirect URIs configured for the application",
    ),
    "Microsoft, none registered": (
        "invalid_request",
        "AADSTS500113: No reply address is registered for the application.",
    ),
    "Facebook": ("", "Can't Load URL: The domain of this URL isn't included in the app's domains."),
    "Facebook token": (
        "",
        "Error validating verification code. Please make sure your redirect_uri is identical to the "
        "one you used in the OAuth dialog request",
    ),
    "Kakao": ("KOE006", ""),
    "Discord": ("invalid_grant", 'Invalid "redirect_uri" in request.'),
    "Apple": ("invalid_request", "Invalid web redirect url."),
    "Okta": (
        "invalid_request",
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings",
    ),
    "Keycloak": ("invalid_request", "Invalid parameter: redirect_uri"),
    "Auth0": ("", "Callback URL mismatch."),
    "GitLab": ("invalid_redirect_uri", "The redirect uri included is not valid."),
}
NOT_MISMATCHES = {
    "access denied": ("access_denied", "The user denied the request."),
    "expired code": ("invalid_grant", "The code passed is incorrect or expired."),
    "bad secret": ("invalid_client", "AADSTS7000215: Invalid client secret provided."),
    "state": ("", "The callback's `state` is unknown, already used, or expired."),
}


@pytest.mark.parametrize(("code", "description"), MISMATCHES.values(), ids=MISMATCHES.keys())
def test_each_providers_wording_of_a_mismatch_is_recognised(code: str, description: str) -> None:
    assert is_redirect_uri_mismatch(code, description)


@pytest.mark.parametrize(("code", "description"), NOT_MISMATCHES.values(), ids=NOT_MISMATCHES.keys())
def test_other_errors_are_not_taken_for_a_mismatch(code: str, description: str) -> None:
    assert not is_redirect_uri_mismatch(code, description)


async def test_a_mismatch_failure_page_names_the_uris_to_register(build_app: BuildApp) -> None:
    """GitHub sends `error=redirect_uri_mismatch` back; the failure record carries the exact URIs."""
    github = [
        p for p in emulated_providers(DEV_CLIENT_SECRET, throwaway_apple_key()) if p.preset.name == "github"
    ]
    login_app = build_app(config=dev_config(providers=github))
    browser = login_app.browser()
    authorize = await login_app.start(browser, provider="emulated-github")
    state = query_of(authorize)["state"]
    response = await browser.get(
        with_params(
            "/auth/callback/emulated-github",
            state=state,
            error="redirect_uri_mismatch",
            error_description="The redirect_uri MUST match the registered callback URL for this application.",
        )
    )
    assert response.status_code == 303
    record = login_app.refusal(response.headers["location"], browser)
    assert record is not None
    assert record["registration"] == {
        "provider": "emulated-github",
        "label": "GitHub (emulated)",
        "client_id": "streamlit-app",
        "redirect_uri": "http://localhost/auth/callback/emulated-github",
        "post_logout_redirect_uri": None,  # OAuth 2.0 only: no RP-initiated logout
        "register_at": "https://github.com/settings/developers",
    }


async def test_other_failures_carry_no_registration_hint(login_app: LoginApp) -> None:
    browser = login_app.browser()
    state = query_of(await login_app.start(browser))["state"]
    response = await browser.get(
        with_params("/auth/callback/dev", state=state, iss=login_app.issuer, error="access_denied")
    )
    record = login_app.refusal(response.headers["location"], browser)
    assert record is not None and "registration" not in record


async def test_the_first_login_marks_the_provider_working(login_app: LoginApp) -> None:
    """Until a first login works the login page offers set-up help; after it, not."""
    assert not login_app.auth.sessions.notices.provider_working("dev")
    assert (await login_app.login(login_app.browser())).status_code == 302
    assert login_app.auth.sessions.notices.provider_working("dev")
    assert not login_app.auth.sessions.notices.provider_working("second")


async def test_the_uris_to_register_are_the_public_ones_with_a_base_url(build_app: BuildApp) -> None:
    """With base_url set, the URIs to register are the public ones, whatever address the browser used."""
    config = load_config(
        {"auth": {"cookie_secret": "x" * 40, "base_url": "https://app.example", "google": {
            "client_id": "id", "client_secret": "s"}}},
        {},
    )  # fmt: skip
    registration = build_app(config=config).auth.registration("google", "http://127.0.0.1:8501")
    assert registration.redirect_uri == "https://app.example/auth/callback/google"
    assert registration.post_logout_redirect_uri == "https://app.example/auth/callback/google"
    assert registration.log_line() == (
        "Google [auth.google]: register redirect URI https://app.example/auth/callback/google and "
        "post-logout redirect URI https://app.example/auth/callback/google at "
        "https://console.cloud.google.com/apis/credentials"
    )
