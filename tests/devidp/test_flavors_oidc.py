"""The OpenID Connect flavours end to end, as a generic relying party does it: discovery,
Authlib's client, ID tokens checked against the flavour's JWKS and issuer. Google,
Microsoft, GitLab and Kakao (devidp/flavors/google.py, microsoft.py, gitlab.py, kakao.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc6749 import OAuth2Token
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from relying_party import hidden_field, pkce_pair, query_of

import devidp
from devidp import Client, RunningProvider
from devidp.flavors import FLAVORS, emulated_url
from devidp.flavors.microsoft import CONSUMERS, CONTOSO

APP = "oidc-app"
OTHER_APP = "oidc-other-app"
SECRET = "oidc-app-secret"
CALLBACK = "http://127.0.0.1:8501/auth/callback/{}"
GOOGLE = "https://accounts.google.com/.well-known/openid-configuration"
MICROSOFT = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
KAKAO = "https://kauth.kakao.com/.well-known/openid-configuration"


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    """A provider of this module's own, with two apps registered for every flavour's callback."""
    with devidp.serve() as running:
        callbacks = tuple(CALLBACK.format(name) for name in FLAVORS)
        for client_id in (APP, OTHER_APP):
            running.server.register_client(
                Client(client_id=client_id, client_secret=SECRET, name=client_id, redirect_uris=callbacks)
            )
        yield running


@dataclass
class Login:
    """What the app holds after a login: the callback it saw, the tokens and the discovery document."""

    callback: dict[str, str]
    token: OAuth2Token
    metadata: dict[str, object]
    nonce: str


def discover(provider: RunningProvider, flavor: str, real_url: str) -> dict[str, object]:
    return httpx2.get(emulated_url(real_url, provider.url, flavor)).json()


def sign_in(
    provider: RunningProvider,
    flavor: str,
    discovery: str,
    persona: str,
    scope: str = "openid profile email",
    client_id: str = APP,
    auth_method: str = "client_secret_basic",
    **params: str,
) -> Login:
    """Discovery, the authorization code flow with PKCE and nonce, the token request: Authlib does it all."""
    metadata = discover(provider, flavor, discovery)
    nonce, verifier = secrets.token_urlsafe(12), pkce_pair()[0]
    with OAuth2Client(
        client_id,
        SECRET,
        redirect_uri=CALLBACK.format(flavor),
        scope=scope,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    ) as client:
        url, state = client.create_authorization_url(
            str(metadata["authorization_endpoint"]),
            code_verifier=verifier,
            nonce=nonce,
            login_hint=persona,
            **params,
        )
        location = httpx2.get(url).headers["location"]
        token = client.fetch_token(
            str(metadata["token_endpoint"]), authorization_response=location, code_verifier=verifier
        )
    callback = query_of(location)
    assert callback["state"] == state
    return Login(callback, token, metadata, nonce)


def id_token_claims(login: Login, issuer: str | None = None) -> CodeIDToken:
    """OIDC Core §3.1.3.7: signature against the flavour's JWKS, iss, aud, nonce and at_hash."""
    keys = KeySet.import_key_set(httpx2.get(str(login.metadata["jwks_uri"])).json())
    decoded = jwt.decode(login.token["id_token"], keys, algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={
            "iss": {"essential": True, "value": issuer or login.metadata["issuer"]},
            "aud": {"essential": True, "value": APP},
        },
        params={"nonce": login.nonce, "access_token": login.token["access_token"], "client_id": APP},
    )
    claims.validate()
    return claims


def bearer_get(url: object, token: OAuth2Token) -> httpx2.Response:
    return httpx2.get(str(url), headers={"Authorization": f"Bearer {token['access_token']}"})


# --- Google ---------------------------------------------------------------------------------------


def test_google_login_and_id_token(provider):
    """The ID token verifies with Google's emulated JWKS and issuer; azp is the app; hd only for Workspace."""
    login = sign_in(provider, "google", GOOGLE, "alice")
    claims = id_token_claims(login)
    assert claims["iss"] == emulated_url("https://accounts.google.com", provider.url, "google")
    assert claims["azp"] == claims["aud"] == APP
    assert claims["sub"].isdigit() and len(claims["sub"]) == 21
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert {"name", "picture", "given_name", "family_name"} <= claims.keys()
    assert claims["hd"] == "example.com"
    assert "hd" not in id_token_claims(sign_in(provider, "google", GOOGLE, "jiwoo"))
    assert login.callback["iss"] == login.metadata["issuer"]
    assert login.callback["scope"].split() == [
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    ]


def test_google_userinfo(provider):
    """Userinfo answers the same sub and profile as the ID token, at Google's emulated endpoint."""
    login = sign_in(provider, "google", GOOGLE, "bob")
    info = bearer_get(login.metadata["userinfo_endpoint"], login.token).json()
    assert info["sub"] == id_token_claims(login)["sub"]
    assert info["email"] == "bob@example.org"
    assert info["email_verified"] is False
    assert bearer_get(login.metadata["userinfo_endpoint"], {"access_token": "x"}).status_code == 401


def test_google_refresh_token_only_with_access_type_offline(provider):
    """No refresh token without access_type=offline; the first offline grant gets one."""
    assert "refresh_token" not in sign_in(provider, "google", GOOGLE, "noemail").token
    offline = sign_in(provider, "google", GOOGLE, "noemail", access_type="offline")
    assert offline.token["refresh_token"].startswith("1//")


def test_google_second_offline_grant_needs_prompt_consent(provider):
    """After the first refresh token for a person and app, another comes only with prompt=consent."""
    assert "refresh_token" in sign_in(provider, "google", GOOGLE, "longname", access_type="offline").token
    assert "refresh_token" not in sign_in(provider, "google", GOOGLE, "longname", access_type="offline").token

    metadata = discover(provider, "google", GOOGLE)
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": APP,
        "redirect_uri": CALLBACK.format("google"),
        "scope": "openid email",
        "state": "consent-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "login_hint": "longname",
        "access_type": "offline",
        "prompt": "consent",
    }
    with httpx2.Client() as browser:
        consent = browser.get(str(metadata["authorization_endpoint"]), params=params)
        assert "Allow access?" in consent.text
        assert "Emulating Google" in consent.text
        back = browser.post(
            str(consent.url),
            data={"csrf": hidden_field(consent.text, "csrf"), "persona": "longname", "consent": "allow"},
        )
    callback = query_of(back.headers["location"])
    assert callback["prompt"] == "consent"
    token = httpx2.post(
        str(metadata["token_endpoint"]),
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": CALLBACK.format("google"),
            "code_verifier": verifier,
        },
        auth=(APP, SECRET),
    ).json()
    assert "refresh_token" in token


def test_google_refresh_tokens_do_not_rotate(provider):
    """Refreshing twice with the same refresh token works; no new refresh token is handed out."""
    login = sign_in(provider, "google", GOOGLE, "bob", access_type="offline")
    for _ in range(2):
        refreshed = httpx2.post(
            str(login.metadata["token_endpoint"]),
            data={"grant_type": "refresh_token", "refresh_token": login.token["refresh_token"]},
            auth=(APP, SECRET),
        ).json()
        assert refreshed["access_token"].startswith("ya29.")
        assert "refresh_token" not in refreshed


def test_google_revoke_needs_no_client_authentication(provider):
    """POST /revoke with just the token ends the grant; revoking it again is invalid_token."""
    login = sign_in(provider, "google", GOOGLE, "bob", access_type="offline")
    revoke = str(login.metadata["revocation_endpoint"])
    assert httpx2.post(revoke, data={"token": login.token["access_token"]}).status_code == 200
    assert bearer_get(login.metadata["userinfo_endpoint"], login.token).status_code == 401
    again = httpx2.post(revoke, data={"token": login.token["access_token"]})
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_token", "error_description": "Token expired or revoked"}


def test_google_token_errors(provider):
    """A bad code is invalid_grant "Bad Request"; a wrong secret is a 401 invalid_client."""
    token_url = str(discover(provider, "google", GOOGLE)["token_endpoint"])
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK.format("google")}
    bad_code = httpx2.post(token_url, data=form, auth=(APP, SECRET))
    assert bad_code.status_code == 400
    assert bad_code.json() == {"error": "invalid_grant", "error_description": "Bad Request"}
    bad_secret = httpx2.post(token_url, data=form, auth=(APP, "wrong"))
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"


# --- Microsoft ------------------------------------------------------------------------------------


def tenant_issuer(login: Login, tid: str) -> str:
    """What the app must do on `common`: fill the discovery issuer template with the token's tid."""
    return str(login.metadata["issuer"]).replace("{tenantid}", tid)


def test_microsoft_common_discovery_issuer_is_a_template(provider):
    """On the common endpoint, issuer is https://login.microsoftonline.com/{tenantid}/v2.0, literally."""
    metadata = discover(provider, "microsoft", MICROSOFT)
    assert metadata["issuer"] == emulated_url(
        "https://login.microsoftonline.com/{tenantid}/v2.0", provider.url, "microsoft"
    )
    assert metadata["userinfo_endpoint"] == emulated_url(
        "https://graph.microsoft.com/oidc/userinfo", provider.url, "microsoft"
    )


@pytest.mark.parametrize(
    ("tenant", "issuer_tenant"),
    [("organizations", "{tenantid}"), ("consumers", CONSUMERS), (CONTOSO, CONTOSO)],
)
def test_microsoft_tenant_endpoints(provider, tenant, issuer_tenant):
    """organizations has the template too; consumers and a tenant id have a concrete issuer."""
    real = f"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
    metadata = discover(provider, "microsoft", real)
    assert metadata["issuer"] == emulated_url(
        f"https://login.microsoftonline.com/{issuer_tenant}/v2.0", provider.url, "microsoft"
    )
    assert f"/login.microsoftonline.com/{tenant}/oauth2/v2.0/token" in str(metadata["token_endpoint"])


@pytest.mark.parametrize(("persona", "tid"), [("alice", CONTOSO), ("bob", CONTOSO), ("jiwoo", CONSUMERS)])
def test_microsoft_id_token_iss_names_the_persons_tenant(provider, persona, tid):
    """iss is the template with the person's tid: alice and bob share Contoso; jiwoo is a personal account."""
    login = sign_in(provider, "microsoft", MICROSOFT, persona, scope="openid profile email offline_access")
    unverified_tid = jwt.decode(
        login.token["id_token"], KeySet.import_key_set(httpx2.get(str(login.metadata["jwks_uri"])).json())
    ).claims["tid"]
    claims = id_token_claims(login, issuer=tenant_issuer(login, unverified_tid))
    assert claims["tid"] == tid
    assert claims["ver"] == "2.0"
    assert {"oid", "preferred_username", "name"} <= claims.keys()
    assert "session_state" in login.callback and "iss" not in login.callback
    assert login.token["scope"] == "openid profile email"
    assert "refresh_token" in login.token


def test_microsoft_sub_is_pairwise_and_oid_is_not(provider):
    """The same person has a different sub for each app, and the same oid."""
    first = sign_in(provider, "microsoft", MICROSOFT, "alice")
    second = sign_in(provider, "microsoft", MICROSOFT, "alice", client_id=OTHER_APP)
    keys = KeySet.import_key_set(httpx2.get(str(first.metadata["jwks_uri"])).json())
    one, two = (jwt.decode(login.token["id_token"], keys).claims for login in (first, second))
    assert one["sub"] != two["sub"]
    assert one["oid"] == two["oid"]
    assert bearer_get(first.metadata["userinfo_endpoint"], first.token).json()["sub"] == one["sub"]


def test_microsoft_refresh_token_needs_offline_access_and_errors_carry_aadsts(provider):
    """Without offline_access no refresh token; a bad code is invalid_grant with an AADSTS code."""
    login = sign_in(provider, "microsoft", MICROSOFT, "noemail")
    assert "refresh_token" not in login.token
    assert "email" not in id_token_claims(login, issuer=tenant_issuer(login, id_token_tid(login)))
    bad = httpx2.post(
        str(login.metadata["token_endpoint"]),
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK.format("microsoft")},
        auth=(APP, SECRET),
    ).json()
    assert bad["error"] == "invalid_grant"
    assert bad["error_description"].startswith("AADSTS")
    assert bad["error_codes"] == [70008]


def id_token_tid(login: Login) -> str:
    keys = KeySet.import_key_set(httpx2.get(str(login.metadata["jwks_uri"])).json())
    return str(jwt.decode(login.token["id_token"], keys).claims["tid"])


# --- GitLab ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["gitlab.com", "gitlab.example.com:8443"])
def test_gitlab_login_on_gitlab_com_and_self_hosted(provider, host):
    """The issuer follows the host; sub is a numeric id, with nickname and groups_direct."""
    discovery = f"https://{host}/.well-known/openid-configuration"
    login = sign_in(provider, "gitlab", discovery, "alice", scope="openid profile email read_user")
    assert login.metadata["issuer"] == emulated_url(f"https://{host}", provider.url, "gitlab")
    claims = id_token_claims(login)
    assert claims["sub"].isdigit()
    assert claims["nickname"] == "alice"
    assert claims["groups_direct"] == ["staff", "admins"]
    assert login.token["scope"] == "openid profile email read_user"
    assert isinstance(login.token["created_at"], int)
    info = bearer_get(login.metadata["userinfo_endpoint"], login.token).json()
    assert info["sub"] == claims["sub"]
    assert info["groups"] == ["staff", "admins"]


# --- Kakao ----------------------------------------------------------------------------------------


def test_kakao_login_with_client_secret_post(provider):
    """Kakao takes the client credentials in the form body; the ID token has a numeric sub and nickname."""
    login = sign_in(
        provider,
        "kakao",
        KAKAO,
        "jiwoo",
        scope="openid profile_nickname profile_image account_email",
        auth_method="client_secret_post",
    )
    claims = id_token_claims(login)
    assert claims["sub"].isdigit()
    assert claims["nickname"] == "지우"
    assert claims["picture"].startswith(f"{provider.url}/flavors/kakao/k.kakaocdn.net/")
    assert claims["email"] == "jiwoo@example.kr"
    assert login.token["token_type"] == "bearer"
    assert "refresh_token_expires_in" in login.token
    info = bearer_get(login.metadata["userinfo_endpoint"], login.token).json()
    assert info == {
        "sub": claims["sub"],
        "nickname": "지우",
        "picture": claims["picture"],
        "email": "jiwoo@example.kr",
        "email_verified": True,
    }
    me = bearer_get(
        emulated_url("https://kapi.kakao.com/v2/user/me", provider.url, "kakao"), login.token
    ).json()
    assert me["id"] == int(claims["sub"])
    assert me["kakao_account"]["email"] == "jiwoo@example.kr"


def test_kakao_ignores_basic_client_credentials(provider):
    """HTTP Basic credentials do not count at Kakao: the client is unauthenticated (KOE010)."""
    with pytest.raises(Exception, match="invalid_client"):
        sign_in(provider, "kakao", KAKAO, "alice", scope="openid account_email")
    response = httpx2.get(emulated_url("https://kapi.kakao.com/v1/oidc/userinfo", provider.url, "kakao"))
    assert response.status_code == 401
    assert response.json()["code"] == -401


def test_kakao_user_me_flags_what_was_not_agreed(provider):
    """Without account_email, /v2/user/me says the email needs agreement and leaves it out."""
    login = sign_in(
        provider, "kakao", KAKAO, "alice", scope="openid profile_nickname", auth_method="client_secret_post"
    )
    me = bearer_get(
        emulated_url("https://kapi.kakao.com/v2/user/me", provider.url, "kakao"), login.token
    ).json()
    account = me["kakao_account"]
    assert account["has_email"] is True
    assert account["email_needs_agreement"] is True
    assert "email" not in account
    assert account["profile"]["nickname"] == "Alice"
