"""Sign in with Apple end to end (devidp/flavors/apple.py): form_post with the `user` field
only on the first authorization, and the ES256 client secret, verified and refused."""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from collections.abc import Iterator

import httpx2
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from relying_party import pkce_pair

import devidp
from devidp import Client, RunningProvider
from devidp.flavors import emulated_url, register_apple_client

SERVICE_ID = "com.example.web"
TEAM_ID = "TEAM123456"
KEY_ID = "KEY1234567"
CALLBACK = "http://127.0.0.1:8501/auth/callback/apple"
APPLE = "https://appleid.apple.com"
APP_KEY = ECKey.generate_key("P-256", private=True)


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    """A provider of this module's own, where the app registered its Apple key."""
    with devidp.serve() as running:
        register_apple_client(
            running.server,
            client_id=SERVICE_ID,
            team_id=TEAM_ID,
            key_id=KEY_ID,
            public_key=APP_KEY.as_dict(private=False),
            redirect_uris=(CALLBACK,),
        )
        yield running


def apple(provider: RunningProvider, path: str) -> str:
    return emulated_url(f"{APPLE}{path}", provider.url, "apple")


def client_secret(**overrides: object) -> str:
    """The app's client secret: an ES256 JWT signed with its key (Apple's "Creating a client secret")."""
    header = {"alg": "ES256", "kid": overrides.pop("kid", KEY_ID)}
    key = overrides.pop("key", APP_KEY)
    now = int(time.time())
    claims = {"iss": TEAM_ID, "iat": now, "exp": now + 3600, "aud": APPLE, "sub": SERVICE_ID} | overrides
    return jwt.encode(header, claims, key)


def authorize(provider: RunningProvider, persona: str, **params: str) -> tuple[httpx2.Response, str, str]:
    """The browser at Apple's authorize URL with login_hint; the response, the nonce and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(12)
    response = httpx2.get(
        apple(provider, "/auth/authorize"),
        params={
            "response_type": "code",
            "client_id": SERVICE_ID,
            "redirect_uri": CALLBACK,
            "scope": "name email",
            "response_mode": "form_post",
            "state": "apple-state",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": persona,
        }
        | params,
    )
    return response, nonce, verifier


def form_fields(page: str) -> dict[str, str]:
    """What the browser POSTs to the app when the page's form submits itself."""
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in fields}


def redeem(provider: RunningProvider, code: str, verifier: str, secret: str | None = None) -> httpx2.Response:
    return httpx2.post(
        apple(provider, "/auth/token"),
        data={
            "grant_type": "authorization_code",
            "client_id": SERVICE_ID,
            "client_secret": secret or client_secret(),
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    )


# --- form_post and the user field ------------------------------------------------------------------


def test_name_or_email_scope_requires_form_post(provider):
    """Asking for name and email with the default query response mode is refused on Apple's page."""
    response, _, _ = authorize(provider, "alice", response_mode="query")
    assert response.status_code == 400
    assert "Emulating Apple" in response.text
    assert "response_mode must be form_post" in response.text


def test_first_authorization_posts_code_state_and_user(provider):
    """The first time, an auto-submitting form POSTs code, state and user (name and email) to the app."""
    page, _, _ = authorize(provider, "alice")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<form method="post" action="{CALLBACK}">' in page.text
    assert 'onload="document.forms[0].submit()"' in page.text
    fields = form_fields(page.text)
    assert fields.keys() == {"code", "state", "user"}
    assert fields["state"] == "apple-state"
    assert json.loads(fields["user"]) == {
        "name": {"firstName": "Alice", "lastName": "Anderson"},
        "email": "alice@example.com",
    }
    again, _, _ = authorize(provider, "alice")
    assert form_fields(again.text).keys() == {"code", "state"}


def test_revoking_makes_the_next_sign_in_a_first_one(provider):
    """After the app revokes its token, Apple sends the user field again."""
    first, _, verifier = authorize(provider, "noemail", scope="name")
    assert "user" in form_fields(first.text)
    token = redeem(provider, form_fields(first.text)["code"], verifier).json()
    assert "user" not in form_fields(authorize(provider, "noemail", scope="name")[0].text)
    revoked = httpx2.post(
        apple(provider, "/auth/revoke"),
        data={
            "client_id": SERVICE_ID,
            "client_secret": client_secret(),
            "token": token["refresh_token"],
            "token_type_hint": "refresh_token",
        },
    )
    assert revoked.status_code == 200
    assert "user" in form_fields(authorize(provider, "noemail", scope="name")[0].text)


def test_without_name_or_email_the_query_response_mode_is_fine(provider):
    """With no scope the code comes back in the query, and there is still an ID token."""
    response, _, verifier = authorize(provider, "bob", scope="", response_mode="query")
    assert response.status_code == 302
    code = dict(httpx2.URL(response.headers["location"]).params)["code"]
    token = redeem(provider, code, verifier).json()
    assert "id_token" in token


# --- the token endpoint and the ID token --------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "email", "verified", "private"),
    [
        ("alice", "alice@example.com", "true", "false"),
        ("jiwoo", "x7k2m9q4pz@privaterelay.appleid.com", "true", "true"),
        ("longname", "adelheid.wilhelmina.maximiliane.von.hohenzollern@example.museum", True, False),
    ],
)
def test_id_token_claims_like_apples(provider, persona, email, verified, private):
    """Authlib's client redeems the code with an ES256 secret; the ID token verifies, reads like Apple's."""
    page, nonce, verifier = authorize(provider, persona)
    metadata = httpx2.get(apple(provider, "/.well-known/openid-configuration")).json()
    with OAuth2Client(
        SERVICE_ID,
        client_secret(),
        redirect_uri=CALLBACK,
        token_endpoint_auth_method="client_secret_post",
    ) as client:
        token = client.fetch_token(
            metadata["token_endpoint"], code=form_fields(page.text)["code"], code_verifier=verifier
        )
    assert "userinfo_endpoint" not in metadata
    keys = KeySet.import_key_set(httpx2.get(metadata["jwks_uri"]).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"value": metadata["issuer"]}, "aud": {"value": SERVICE_ID}},
        params={"nonce": nonce, "access_token": token["access_token"]},
    )
    claims.validate()
    assert claims["iss"] == emulated_url(APPLE, provider.url, "apple")
    assert re.fullmatch(r"\d{6}\.[0-9a-f]{32}\.\d{4}", claims["sub"])
    assert claims["email"] == email
    assert claims["email_verified"] == verified
    assert claims["is_private_email"] == private
    assert claims["nonce_supported"] is True
    assert isinstance(claims["auth_time"], int)


def wrong_key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(lambda: client_secret(key=wrong_key()), id="signed-by-another-key"),
        pytest.param(lambda: client_secret(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda: client_secret(aud="https://example.com"), id="wrong-aud"),
        pytest.param(lambda: client_secret(iss="OTHERTEAM1"), id="wrong-team"),
        pytest.param(lambda: client_secret(sub="com.example.other"), id="wrong-client"),
        pytest.param(lambda: client_secret(kid="OTHERKEY12"), id="wrong-kid"),
        pytest.param(
            lambda: client_secret(exp=int(time.time()) + 200 * 24 * 3600), id="longer-than-6-months"
        ),
        pytest.param(lambda: "not-a-jwt", id="not-a-jwt"),
        pytest.param(
            lambda: jwt.encode({"alg": "RS256", "kid": KEY_ID}, {"iss": TEAM_ID}, RSAKey.generate_key(2048)),
            id="rs256",
        ),
    ],
)
def test_bad_client_secrets_are_invalid_client(provider, secret):
    """A client secret that is forged, expired, for another audience, team, client or key is refused."""
    page, _, verifier = authorize(provider, "bob")
    response = redeem(provider, form_fields(page.text)["code"], verifier, secret())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client"}


def test_the_emulated_issuer_is_not_the_audience(provider):
    """The client secret's aud is the real https://appleid.apple.com, even when talking to the twin."""
    page, _, verifier = authorize(provider, "bob")
    secret = client_secret(aud=emulated_url(APPLE, provider.url, "apple"))
    assert redeem(provider, form_fields(page.text)["code"], verifier, secret).json() == {
        "error": "invalid_client"
    }


def test_basic_client_credentials_do_not_count(provider):
    """Apple takes client_secret_post only: the secret in an Authorization header is no secret."""
    page, _, verifier = authorize(provider, "bob")
    response = httpx2.post(
        apple(provider, "/auth/token"),
        data={
            "grant_type": "authorization_code",
            "code": form_fields(page.text)["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(SERVICE_ID, client_secret()),
    )
    assert response.json() == {"error": "invalid_client"}


def test_a_used_code_is_an_invalid_grant(provider):
    """Redeeming a code twice: the second time Apple says invalid_grant."""
    page, _, verifier = authorize(provider, "bob")
    code = form_fields(page.text)["code"]
    assert redeem(provider, code, verifier).status_code == 200
    second = redeem(provider, code, verifier)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


# --- registration ------------------------------------------------------------------------------------


def test_register_apple_client_keeps_redirect_uris_and_wants_p256():
    """Registering the key keeps the client's redirect URIs; a key on another curve is refused."""
    server = devidp.DevAuthorizationServer(devidp.ProviderConfig())
    server.register_client(
        Client(client_id=SERVICE_ID, client_secret="x", name="App", redirect_uris=("https://a.example/cb",))
    )
    register_apple_client(
        server,
        client_id=SERVICE_ID,
        team_id=TEAM_ID,
        key_id=KEY_ID,
        public_key=APP_KEY,
        redirect_uris=("https://b.example/cb",),
    )
    client = server.query_client(SERVICE_ID)
    assert client is not None
    assert client.redirect_uris == ("https://a.example/cb", "https://b.example/cb")
    with pytest.raises(ValueError, match="P-256"):
        register_apple_client(
            server,
            client_id=SERVICE_ID,
            team_id=TEAM_ID,
            key_id=KEY_ID,
            public_key=ECKey.generate_key("P-384", private=True),
        )
