"""The authorization server as a whole: discovery, the issuer it derives from where it is
served, RFC 9068 access tokens and the fixed clock (devidp/server.py)."""

from __future__ import annotations

import httpx2
import pytest
from authlib.oauth2 import rfc9207
from authlib.oidc import rpinitiated
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet
from relying_party import (
    REDIRECT_URI,
    authorization_params,
    pkce_pair,
    query_of,
    sign_in,
    validate_id_token,
    verify,
)
from starlette.applications import Starlette

import devidp
from devidp import DevAuthorizationServer, ProviderConfig
from devidp.personas import BY_USERNAME

FROZEN = 1_767_225_600  # 2026-01-01T00:00:00Z


def test_discovery_passes_authlibs_metadata_validation(idp):
    """The metadata is valid OpenID Provider Metadata, with RFC 9207 and RP-Initiated Logout."""
    metadata = OpenIDProviderMetadata(httpx2.get(f"{idp.url}/.well-known/openid-configuration").json())
    metadata.validate(
        metadata_classes=[rfc9207.AuthorizationServerMetadata, rpinitiated.OpenIDProviderMetadata]
    )
    assert metadata["issuer"] == idp.url
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["end_session_endpoint"] == f"{idp.url}/logout"


def test_discovery_names_every_grant_the_clients_use(idp):
    """grant_types_supported lists the four grants of the demo clients, and nothing else."""
    metadata = httpx2.get(f"{idp.url}/.well-known/openid-configuration").json()
    assert metadata["grant_types_supported"] == [
        "authorization_code",
        "client_credentials",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("authorization_endpoint", "GET"),
        ("token_endpoint", "POST"),
        ("userinfo_endpoint", "GET"),
        ("jwks_uri", "GET"),
        ("revocation_endpoint", "POST"),
        ("introspection_endpoint", "POST"),
        ("device_authorization_endpoint", "POST"),
        ("end_session_endpoint", "GET"),
    ],
)
def test_every_advertised_endpoint_is_served(idp, name, method):
    """No URL in discovery is a 404 or a 405."""
    url = httpx2.get(f"{idp.url}/.well-known/openid-configuration").json()[name]
    assert httpx2.request(method, url).status_code not in (404, 405)


def test_rfc8414_alias_serves_the_same_metadata(idp):
    """The standalone provider also answers /.well-known/oauth-authorization-server."""
    oidc = httpx2.get(f"{idp.url}/.well-known/openid-configuration").json()
    assert httpx2.get(f"{idp.url}/.well-known/oauth-authorization-server").json() == oidc


async def test_mounted_provider_takes_its_issuer_from_the_mount_path(in_process_server):
    """Mounted at /idp, the issuer ends in /idp and RFC 8414's URL lives at the host's root."""
    parent = Starlette(routes=devidp.mount(in_process_server, "/idp"))
    transport = httpx2.ASGITransport(app=parent)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8501") as client:
        rfc8414 = await client.get("/.well-known/oauth-authorization-server/idp")
        oidc = await client.get("/idp/.well-known/openid-configuration")
        wrong_place = await client.get("/.well-known/oauth-authorization-server")

    assert rfc8414.status_code == 200
    assert rfc8414.json()["issuer"] == "http://127.0.0.1:8501/idp"
    assert rfc8414.json() == oidc.json()
    assert oidc.json()["token_endpoint"] == "http://127.0.0.1:8501/idp/token"
    assert wrong_place.status_code == 404


async def test_login_through_the_mounted_provider(in_process_server):
    """A login through the mounted app: cookies scoped to /idp, tokens naming the mounted issuer."""
    issuer = "http://127.0.0.1:8501/idp"
    verifier, challenge = pkce_pair()
    params = authorization_params("demo-spa", code_challenge=challenge, login_hint="bob")
    parent = Starlette(routes=devidp.mount(in_process_server, "/idp"))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=parent)) as client:
        redirect = await client.get(f"{issuer}/authorize", params=params)
        code = query_of(redirect.headers["location"])["code"]
        token = await client.post(
            f"{issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": "demo-spa",
                "code_verifier": verifier,
            },
        )
        jwks = KeySet.import_key_set((await client.get(f"{issuer}/jwks.json")).json())

    assert query_of(redirect.headers["location"])["iss"] == issuer
    assert "Path=/idp;" in redirect.headers["set-cookie"]
    claims = jwt.decode(token.json()["id_token"], jwks, algorithms=["RS256"]).claims
    assert claims["iss"] == issuer
    assert claims["nonce"] == params["nonce"]
    assert claims["sub"] == BY_USERNAME["bob"].sub


async def test_configured_issuer_wins_over_the_request_url():
    """ProviderConfig(issuer=...) fixes the issuer, whatever host the request came to."""
    server = DevAuthorizationServer(ProviderConfig(issuer="https://idp.example.test"))
    transport = httpx2.ASGITransport(app=devidp.create_app(server))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:9000") as client:
        metadata = (await client.get("/.well-known/openid-configuration")).json()
    assert metadata["issuer"] == "https://idp.example.test"
    assert metadata["jwks_uri"] == "https://idp.example.test/jwks.json"


def test_access_token_is_an_rfc9068_jwt(idp, rp):
    """Access tokens are at+jwt for the userinfo audience, naming client, user, scope and lifetime."""
    login = sign_in(idp.url, rp("demo-spa", scope="openid email"), "jiwoo")
    decoded = verify(login.token["access_token"], idp.url)
    claims = decoded.claims

    assert decoded.header["typ"] == "at+jwt"
    assert claims["iss"] == idp.url
    assert claims["aud"] == f"{idp.url}/userinfo"
    assert claims["client_id"] == "demo-spa"
    assert claims["sub"] == BY_USERNAME["jiwoo"].sub
    assert claims["scope"] == "openid email"
    assert claims["exp"] - claims["iat"] == login.token["expires_in"] == 3600
    assert claims["jti"]


def test_fixed_clock_makes_token_times_reproducible(start_idp, rp):
    """With fixed_time, every login gets the same iat, exp and auth_time, derived from the frozen time."""
    idp = start_idp(ProviderConfig(fixed_time=FROZEN, id_token_ttl=600, access_token_ttl=300))
    app = rp("demo-web")
    logins = [sign_in(idp.url, app, persona) for persona in ("alice", "bob")]

    for login in logins:
        id_token = validate_id_token(login, idp.url, "demo-web", now=FROZEN)
        assert (id_token["iat"], id_token["exp"], id_token["auth_time"]) == (FROZEN, FROZEN + 600, FROZEN)
        access = verify(login.token["access_token"], idp.url).claims
        assert (access["iat"], access["exp"]) == (FROZEN, FROZEN + 300)
    assert logins[0].token["access_token"] != logins[1].token["access_token"]
