"""What every emulated provider shares (devidp/flavors/base.py, twins.py and the glue in
routes.py): URL twins, discovery and keys, the login page, the journal, PKCE, and
codes and tokens that stay with the flavour that issued them."""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx2
import pytest
from relying_party import hidden_field, pkce_pair, query_of, unverified

import devidp
from devidp import Client, RunningProvider
from devidp.flavors import FLAVORS, REGISTRY, emulated_url

APP = "flavour-app"
SECRET = "flavour-app-secret"
PUBLIC_APP = "flavour-spa"
CALLBACK = "http://127.0.0.1:8501/auth/callback/{}"
OIDC = {
    "google": ("https://accounts.google.com/.well-known/openid-configuration", "https://accounts.google.com"),
    "apple": ("https://appleid.apple.com/.well-known/openid-configuration", "https://appleid.apple.com"),
    "gitlab": ("https://gitlab.com/.well-known/openid-configuration", "https://gitlab.com"),
    "kakao": ("https://kauth.kakao.com/.well-known/openid-configuration", "https://kauth.kakao.com"),
    "microsoft": (
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
        "https://login.microsoftonline.com/{tenantid}/v2.0",
    ),
}


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    """A provider of this module's own, with a confidential and a public app registered for every flavour."""
    with devidp.serve() as running:
        callbacks = tuple(CALLBACK.format(name) for name in FLAVORS)
        running.server.register_client(
            Client(client_id=APP, client_secret=SECRET, name="Flavour test app", redirect_uris=callbacks)
        )
        running.server.register_client(
            Client(client_id=PUBLIC_APP, name="Flavour SPA", redirect_uris=callbacks)
        )
        yield running


def github_authorization(provider: RunningProvider, client_id: str = APP, **params: str) -> httpx2.Response:
    """A browser sent to GitHub's emulated authorize URL."""
    return httpx2.get(
        emulated_url("https://github.com/login/oauth/authorize", provider.url, "github"),
        params={"client_id": client_id, "redirect_uri": CALLBACK.format("github"), "state": "s-1"} | params,
    )


# --- URL twins -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("real", "twin"),
    [
        ("https://api.github.com/user", "http://localhost:8501/idp/flavors/github/api.github.com/user"),
        (
            "https://graph.facebook.com/v21.0/me?fields=id,name,email,picture",
            "http://localhost:8501/idp/flavors/github/graph.facebook.com/v21.0/me?fields=id,name,email,picture",
        ),
        (
            "https://gitlab.example.com:8443/oauth/token",
            "http://localhost:8501/idp/flavors/github/gitlab.example.com:8443/oauth/token",
        ),
        (
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "http://localhost:8501/idp/flavors/github/login.microsoftonline.com/{tenantid}/v2.0",
        ),
    ],
)
def test_emulated_url_rewrites_host_path_and_query(real, twin):
    """Every real URL has its twin under {idp}/flavors/{flavor}/HOST/PATH?QUERY."""
    assert emulated_url(real, "http://localhost:8501/idp/", "github") == twin


def test_emulated_url_refuses_what_is_not_an_absolute_url():
    """A relative path has no host to put in the twin."""
    with pytest.raises(ValueError, match="absolute"):
        emulated_url("/user", "http://127.0.0.1:9000", "github")


def test_every_flavour_is_listed_with_a_description():
    """FLAVORS names the nine providers of issue 6 and Strava (issue 24: a provider no preset
    knows), each with a line saying what it emulates."""
    assert set(FLAVORS) == {
        "google",
        "github",
        "facebook",
        "microsoft",
        "apple",
        "gitlab",
        "discord",
        "kakao",
        "naver",
        "strava",
    }
    assert all(description for description in FLAVORS.values())
    assert FLAVORS.keys() == REGISTRY.keys()


def test_the_index_page_links_each_flavour(provider):
    """The provider's home page lists every emulated provider with the twin of its entry URL."""
    page = httpx2.get(f"{provider.url}/").text
    assert "Emulated providers" in page
    for flavor in REGISTRY.values():
        assert emulated_url(flavor.entry_url, provider.url, flavor.name) in html.unescape(page)


# --- discovery and keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OIDC))
def test_oidc_flavours_publish_discovery_with_twin_urls(provider, name):
    """The discovery document sits at the twin of the real one; its issuer and endpoints are twins too."""
    real_discovery, real_issuer = OIDC[name]
    document = httpx2.get(emulated_url(real_discovery, provider.url, name)).json()
    assert document["issuer"] == emulated_url(real_issuer, provider.url, name)
    prefix = f"{provider.url}/flavors/{name}/"
    urls = {k: v for k, v in document.items() if k == "jwks_uri" or k.endswith("_endpoint")}
    assert {"authorization_endpoint", "token_endpoint", "jwks_uri"} <= urls.keys()
    assert all(url.startswith(prefix) for url in urls.values())
    assert httpx2.get(document["jwks_uri"]).json() == provider.server.keys.jwks()


@pytest.mark.parametrize("name", ["github", "facebook", "discord", "naver", "strava"])
def test_oauth_only_flavours_publish_no_discovery(provider, name):
    """GitHub, Facebook, Discord, Naver and Strava have no OIDC discovery document, so neither do
    their twins."""
    host = REGISTRY[name].entry_url.split("/")[2]
    response = httpx2.get(f"{provider.url}/flavors/{name}/{host}/.well-known/openid-configuration")
    assert response.status_code == 404


def test_unknown_flavours_and_paths_are_not_found(provider):
    """Only the real provider's paths exist; GitHub's token endpoint answers POST only."""
    assert httpx2.get(f"{provider.url}/flavors/myspace/myspace.com/login").status_code == 404
    assert httpx2.get(f"{provider.url}/flavors/github/api.github.com/repos").status_code == 404
    token_url = emulated_url("https://github.com/login/oauth/access_token", provider.url, "github")
    assert httpx2.get(token_url).status_code == 404


# --- the login page -----------------------------------------------------------------------------------


def test_login_page_says_which_provider_it_emulates(provider):
    """Without login_hint the person sees the dev provider's login page, naming GitHub, banner and all."""
    _, challenge = pkce_pair()
    page = github_authorization(provider, code_challenge=challenge, code_challenge_method="S256")
    assert page.status_code == 200
    assert "Emulating GitHub" in page.text
    assert "Development provider." in page.text
    assert "logs anyone in without a password" in page.text
    assert 'name="persona" value="alice"' in page.text


def test_picking_a_persona_on_the_login_page_returns_to_the_app(provider):
    """The person clicks a persona on the emulated page and lands on the app's callback with a code."""
    _, challenge = pkce_pair()
    with httpx2.Client() as browser:
        params = {
            "client_id": APP,
            "redirect_uri": CALLBACK.format("github"),
            "state": "s-2",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": "read:user",
        }
        url = emulated_url("https://github.com/login/oauth/authorize", provider.url, "github")
        page = browser.get(url, params=params)
        consent = browser.post(
            str(page.url), data={"csrf": hidden_field(page.text, "csrf"), "persona": "bob"}
        )
        assert "Emulating GitHub" in consent.text
        back = browser.post(
            str(page.url),
            data={"csrf": hidden_field(page.text, "csrf"), "persona": "bob", "consent": "allow"},
        )
    assert back.status_code == 302
    assert query_of(back.headers["location"]).keys() == {"code", "state"}


# --- what stays with its flavour ---------------------------------------------------------------------------


def test_public_clients_must_use_pkce_at_every_flavour(provider):
    """The main provider's PKCE rule holds for flavours: a public app without code_challenge is refused."""
    response = github_authorization(provider, client_id=PUBLIC_APP, login_hint="alice")
    assert query_of(response.headers["location"])["error"] == "invalid_request"


def test_the_code_verifier_is_checked(provider):
    """A code redeemed with the wrong PKCE verifier is refused, in the flavour's own error format."""
    _, challenge = pkce_pair()
    response = github_authorization(
        provider, code_challenge=challenge, code_challenge_method="S256", login_hint="alice"
    )
    token = httpx2.post(
        emulated_url("https://github.com/login/oauth/access_token", provider.url, "github"),
        data={
            "client_id": APP,
            "client_secret": SECRET,
            "code": query_of(response.headers["location"])["code"],
            "code_verifier": pkce_pair()[0],
        },
        headers={"Accept": "application/json"},
    )
    assert token.status_code == 200
    assert token.json()["error"] == "bad_verification_code"


def test_a_code_from_one_flavour_is_refused_by_another(provider):
    """A GitHub code taken to Discord's token endpoint is an invalid grant there."""
    verifier, challenge = pkce_pair()
    response = github_authorization(
        provider, code_challenge=challenge, code_challenge_method="S256", login_hint="alice"
    )
    token = httpx2.post(
        emulated_url("https://discord.com/api/oauth2/token", provider.url, "discord"),
        data={
            "grant_type": "authorization_code",
            "code": query_of(response.headers["location"])["code"],
            "redirect_uri": CALLBACK.format("github"),
            "code_verifier": verifier,
        },
        auth=(APP, SECRET),
    )
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


def test_the_main_providers_code_and_token_are_not_githubs(provider):
    """A code of the dev provider itself is a bad code at GitHub, and its access token bad credentials."""
    verifier, challenge = pkce_pair()
    main = httpx2.get(
        f"{provider.url}/authorize",
        params={
            "response_type": "code",
            "client_id": APP,
            "redirect_uri": CALLBACK.format("github"),
            "scope": "profile",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": "alice",
        },
    )
    code = query_of(main.headers["location"])["code"]
    at_github = httpx2.post(
        emulated_url("https://github.com/login/oauth/access_token", provider.url, "github"),
        data={"client_id": APP, "client_secret": SECRET, "code": code, "code_verifier": verifier},
        headers={"Accept": "application/json"},
    )
    assert at_github.json()["error"] == "bad_verification_code"
    token = httpx2.post(
        f"{provider.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK.format("github"),
            "code_verifier": verifier,
        },
        auth=(APP, SECRET),
    ).json()["access_token"]
    user = httpx2.get(
        emulated_url("https://api.github.com/user", provider.url, "github"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert user.status_code == 401
    assert user.json()["message"] == "Bad credentials"


# --- the journal -------------------------------------------------------------------------------------


def test_the_journal_records_flavour_requests(provider):
    """The authorization and token requests at a flavour are journaled, joined by state and code."""
    verifier, challenge = pkce_pair()
    response = github_authorization(
        provider,
        code_challenge=challenge,
        code_challenge_method="S256",
        login_hint="jiwoo",
        state="journal-1",
    )
    code = query_of(response.headers["location"])["code"]
    httpx2.post(
        emulated_url("https://github.com/login/oauth/access_token", provider.url, "github"),
        data={"client_id": APP, "client_secret": SECRET, "code": code, "code_verifier": verifier},
    )
    authorization = provider.server.journal.entries(state="journal-1")
    assert [e.path for e in authorization] == ["/flavors/github/github.com/login/oauth/authorize"]
    exchange = provider.server.journal.entries(code_fingerprint=authorization[0].code_fingerprint)
    assert [e.path for e in exchange] == [
        "/flavors/github/github.com/login/oauth/authorize",
        "/flavors/github/github.com/login/oauth/access_token",
    ]
    assert exchange[1].params["client_secret"] == "••••••"


# --- faults ------------------------------------------------------------------------------------------


def test_fault_switches_apply_to_flavours(start_idp):
    """wrong_iss breaks a Google ID token's iss, and wrong_iss_param the iss on Google's redirect."""
    running = start_idp()
    running.server.register_client(
        Client(client_id=APP, client_secret=SECRET, name="App", redirect_uris=(CALLBACK.format("google"),))
    )
    running.server.faults.set({"wrong_iss", "wrong_iss_param"})
    verifier, challenge = pkce_pair()
    response = httpx2.get(
        emulated_url("https://accounts.google.com/o/oauth2/v2/auth", running.url, "google"),
        params={
            "response_type": "code",
            "client_id": APP,
            "redirect_uri": CALLBACK.format("google"),
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": "alice",
        },
    )
    callback = query_of(response.headers["location"])
    assert callback["iss"] == "https://evil.example.com"
    token = httpx2.post(
        emulated_url("https://oauth2.googleapis.com/token", running.url, "google"),
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": CALLBACK.format("google"),
            "code_verifier": verifier,
        },
        auth=(APP, SECRET),
    ).json()
    assert unverified(token["id_token"])[1]["iss"] == "https://evil.example.com"
