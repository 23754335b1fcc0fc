"""Every grant end to end over a loopback socket, with Authlib's httpx client as the app,
and each refusal with the exact OAuth error code (devidp/grants.py)."""

from __future__ import annotations

import time

import httpx2
import pytest
from authlib.integrations.base_client import OAuthError
from relying_party import (
    REDIRECT_URI,
    SteppedClockConfig,
    answer_device,
    at_hash,
    authorization_params,
    authorize,
    introspect,
    pkce_pair,
    poll_device,
    query_of,
    sign_in,
    validate_id_token,
    verify,
    without_query,
)

from devidp.personas import BY_USERNAME

ALICE = BY_USERNAME["alice"]
BOB = BY_USERNAME["bob"]


def token_error(response: httpx2.Response) -> str:
    return response.json()["error"]


# --- authorization code with PKCE -----------------------------------------------------


@pytest.mark.parametrize("client_id", ["demo-spa", "demo-web"])
def test_authorization_code_with_pkce_logs_the_persona_in(idp, rp, client_id):
    """A public and a confidential app each trade a PKCE-bound code for tokens about alice."""
    app = rp(client_id)
    login = sign_in(idp.url, app, "alice")

    assert login.authorization.response.status_code == 302
    assert without_query(login.authorization.location) == REDIRECT_URI
    assert login.authorization.params.keys() == {"code", "state", "iss"}
    assert login.authorization.params["state"] == login.authorization.state
    assert login.authorization.params["iss"] == idp.url
    assert login.token["token_type"] == "Bearer"
    assert {"access_token", "refresh_token", "id_token"} <= login.token.keys()
    assert validate_id_token(login, idp.url, client_id)["sub"] == ALICE.sub
    assert verify(login.token["access_token"], idp.url).claims["sub"] == ALICE.sub


def test_confidential_client_may_authenticate_with_client_secret_post(idp, rp):
    """demo-web sends its secret in the form body instead of the Authorization header."""
    app = rp("demo-web", token_endpoint_auth_method="client_secret_post")
    login = sign_in(idp.url, app, "bob")
    assert validate_id_token(login, idp.url, "demo-web")["sub"] == BOB.sub


def test_id_token_carries_what_the_app_must_check(idp, rp):
    """nonce, at_hash, auth_time, acr, amr, aud and iss are there and right (OIDC Core §2, §3.1.3.6)."""
    app = rp("demo-spa")
    before = int(time.time())
    login = sign_in(idp.url, app, "alice")
    claims = verify(login.token["id_token"], idp.url).claims
    issuer = httpx2.get(f"{idp.url}/.well-known/openid-configuration").json()["issuer"]

    assert claims["iss"] == issuer
    assert claims["aud"] == "demo-spa"
    assert claims["nonce"] == login.authorization.nonce
    assert claims["at_hash"] == at_hash(login.token["access_token"])
    assert claims["acr"] == "0"
    assert claims["amr"] == ["user"]
    assert before <= claims["auth_time"] <= claims["iat"] < claims["exp"]


def test_a_hand_computed_s256_challenge_is_accepted(idp):
    """PKCE interop: a verifier and challenge made per RFC 7636 §4.2, without Authlib, redeem fine."""
    verifier, challenge = pkce_pair()
    params = authorization_params("demo-spa", code_challenge=challenge)
    code = query_of(httpx2.get(f"{idp.url}/authorize", params=params).headers["location"])["code"]
    response = httpx2.post(
        f"{idp.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": "demo-spa",
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_confidential_client_may_skip_pkce(idp):
    """PKCE is recommended, not required, for a client that authenticates with a secret."""
    params = authorization_params("demo-web", code_challenge=None, code_challenge_method=None)
    code = query_of(httpx2.get(f"{idp.url}/authorize", params=params).headers["location"])["code"]
    response = httpx2.post(
        f"{idp.url}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=("demo-web", "demo-web-secret"),
    )
    assert response.status_code == 200


# --- authorization request refusals (RFC 9700 §2.1.1) -----------------------------------


def test_plain_pkce_is_refused_at_the_authorization_endpoint(idp):
    """code_challenge_method=plain comes back to the app as invalid_request, with its state and iss."""
    params = authorization_params("demo-spa", code_challenge="a" * 43, code_challenge_method="plain")
    response = httpx2.get(f"{idp.url}/authorize", params=params)

    assert response.status_code == 302
    answer = query_of(response.headers["location"])
    assert answer["error"] == "invalid_request"
    assert "must be S256" in answer["error_description"]
    assert answer["state"] == params["state"]
    assert answer["iss"] == idp.url
    assert "code" not in answer


def test_public_client_without_code_challenge_is_refused(idp):
    """A public client that sends no code_challenge gets invalid_request, never a code."""
    params = authorization_params("demo-spa", code_challenge=None, code_challenge_method=None)
    answer = query_of(httpx2.get(f"{idp.url}/authorize", params=params).headers["location"])
    assert answer["error"] == "invalid_request"
    assert answer["error_description"] == (
        "Public clients must send a PKCE code_challenge (RFC 9700 section 2.1.1)."
    )
    assert "code" not in answer


def test_unknown_scope_is_refused_at_the_authorization_endpoint(idp):
    """Asking for a scope the provider does not know comes back as invalid_scope."""
    params = authorization_params("demo-web", scope="openid bogus")
    answer = query_of(httpx2.get(f"{idp.url}/authorize", params=params).headers["location"])
    assert answer["error"] == "invalid_scope"
    assert answer["state"] == params["state"]


# --- token endpoint refusals -------------------------------------------------------------


def test_wrong_pkce_verifier_is_invalid_grant(idp, rp):
    """A code redeemed with someone else's verifier is refused: the code is bound to the challenge."""
    app = rp("demo-spa")
    authorization = authorize(idp.url, app)
    other_verifier, _ = pkce_pair()
    with pytest.raises(OAuthError) as refused:
        app.fetch_token(
            f"{idp.url}/token", authorization_response=authorization.location, code_verifier=other_verifier
        )
    assert refused.value.error == "invalid_grant"
    assert refused.value.description == "Code challenge failed."


def test_reused_code_is_refused_and_revokes_its_tokens(idp, rp):
    """A code redeemed twice is invalid_grant, and the first redemption's tokens die (RFC 6749 §4.1.2)."""
    app = rp("demo-web")
    login = sign_in(idp.url, app)
    assert introspect(idp.url, login.token["access_token"])["active"] is True

    with pytest.raises(OAuthError) as refused:
        app.fetch_token(
            f"{idp.url}/token", code=login.authorization.code, code_verifier=login.authorization.verifier
        )
    assert refused.value.error == "invalid_grant"
    assert "already used" in refused.value.description
    assert introspect(idp.url, login.token["access_token"]) == {"active": False}
    assert introspect(idp.url, login.token["refresh_token"]) == {"active": False}


def test_code_expires_after_code_ttl(start_idp, rp):
    """A code is good until code_ttl seconds have passed, and refused from then on."""
    config = SteppedClockConfig(code_ttl=60)
    idp = start_idp(config)
    app = rp("demo-spa")

    just_in_time = authorize(idp.url, app)
    config.advance(59)
    token = app.fetch_token(f"{idp.url}/token", code=just_in_time.code, code_verifier=just_in_time.verifier)
    assert "access_token" in token

    too_late = authorize(idp.url, app)
    config.advance(60)
    with pytest.raises(OAuthError) as refused:
        app.fetch_token(f"{idp.url}/token", code=too_late.code, code_verifier=too_late.verifier)
    assert refused.value.error == "invalid_grant"
    assert "expired" in refused.value.description


def test_code_is_bound_to_its_redirect_uri(idp):
    """A code redeemed with another redirect_uri than it was issued for is invalid_grant."""
    verifier, challenge = pkce_pair()
    params = authorization_params("demo-web", code_challenge=challenge)
    code = query_of(httpx2.get(f"{idp.url}/authorize", params=params).headers["location"])["code"]
    response = httpx2.post(
        f"{idp.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:5000/authorize",
            "code_verifier": verifier,
        },
        auth=("demo-web", "demo-web-secret"),
    )
    assert response.status_code == 400
    assert token_error(response) == "invalid_grant"


def test_code_is_bound_to_its_client(idp):
    """demo-web cannot redeem a code the provider issued to demo-spa."""
    verifier, challenge = pkce_pair()
    params = authorization_params("demo-spa", code_challenge=challenge)
    code = query_of(httpx2.get(f"{idp.url}/authorize", params=params).headers["location"])["code"]
    response = httpx2.post(
        f"{idp.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=("demo-web", "demo-web-secret"),
    )
    assert token_error(response) == "invalid_grant"
    assert response.json()["error_description"] == "This authorization code was issued to another client."


def test_wrong_client_secret_is_invalid_client_with_401(idp):
    """HTTP Basic with a wrong secret is invalid_client, 401, with a Basic challenge (RFC 6749 §5.2)."""
    response = httpx2.post(
        f"{idp.url}/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-m2m", "not-the-secret"),
    )
    assert response.status_code == 401
    assert token_error(response) == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_unknown_client_is_invalid_client(idp):
    """A client_id the provider never registered cannot get a token."""
    response = httpx2.post(
        f"{idp.url}/token", data={"grant_type": "client_credentials"}, auth=("nobody", "whatever")
    )
    assert response.status_code == 401
    assert token_error(response) == "invalid_client"


def test_unsupported_grant_type(idp):
    """The resource owner password grant does not exist here (RFC 9700 §2.4)."""
    response = httpx2.post(
        f"{idp.url}/token",
        data={"grant_type": "password", "username": "alice", "password": "x"},
        auth=("demo-web", "demo-web-secret"),
    )
    assert response.status_code == 400
    assert token_error(response) == "unsupported_grant_type"


def test_grant_the_client_is_not_registered_for(idp):
    """demo-web may not use client_credentials: unauthorized_client."""
    response = httpx2.post(
        f"{idp.url}/token", data={"grant_type": "client_credentials"}, auth=("demo-web", "demo-web-secret")
    )
    assert token_error(response) == "unauthorized_client"


def test_invalid_scope_at_the_token_endpoint(idp, rp):
    """A service asking for a scope nobody defined gets invalid_scope."""
    service = rp("demo-m2m", scope="reports:delete")
    with pytest.raises(OAuthError) as refused:
        service.fetch_token(f"{idp.url}/token", grant_type="client_credentials")
    assert refused.value.error == "invalid_scope"


# --- refresh tokens (RFC 9700 §4.14.2) -------------------------------------------------------


def test_refresh_rotates_the_refresh_token_every_time(idp, rp):
    """Each refresh returns a new access and refresh token; the used refresh token is dead."""
    app = rp("demo-spa")
    first = sign_in(idp.url, app, "jiwoo").token
    second = app.refresh_token(f"{idp.url}/token")
    third = app.refresh_token(f"{idp.url}/token")

    assert len({first["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3
    assert len({first["access_token"], second["access_token"], third["access_token"]}) == 3
    assert verify(third["access_token"], idp.url).claims["sub"] == BY_USERNAME["jiwoo"].sub
    assert introspect(idp.url, second["refresh_token"]) == {"active": False}
    assert introspect(idp.url, third["refresh_token"])["active"] is True


def test_reused_refresh_token_is_refused_and_revokes_the_family(idp, rp):
    """Replaying a rotated refresh token is invalid_grant, and every token of that login dies."""
    app = rp("demo-spa")
    first = sign_in(idp.url, app).token
    latest = app.refresh_token(f"{idp.url}/token")
    assert introspect(idp.url, latest["access_token"])["active"] is True

    with pytest.raises(OAuthError) as refused:
        app.refresh_token(f"{idp.url}/token", refresh_token=first["refresh_token"])
    assert refused.value.error == "invalid_grant"
    assert "already used" in refused.value.description

    assert introspect(idp.url, latest["access_token"]) == {"active": False}
    assert introspect(idp.url, latest["refresh_token"]) == {"active": False}
    with pytest.raises(OAuthError) as also_refused:
        app.refresh_token(f"{idp.url}/token", refresh_token=latest["refresh_token"])
    assert also_refused.value.error == "invalid_grant"


# --- client credentials --------------------------------------------------------------------


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_give_a_service_its_own_token(idp, rp, auth_method):
    """demo-m2m gets an access token about itself: no user, no refresh token, no ID token."""
    service = rp("demo-m2m", scope="reports:read reports:write", token_endpoint_auth_method=auth_method)
    token = service.fetch_token(f"{idp.url}/token", grant_type="client_credentials")

    assert token["scope"] == "reports:read reports:write"
    assert "refresh_token" not in token
    assert "id_token" not in token
    claims = verify(token["access_token"], idp.url).claims
    assert claims["sub"] == claims["client_id"] == "demo-m2m"
    assert introspect(idp.url, token["access_token"])["sub"] == "demo-m2m"


# --- device authorization grant (RFC 8628) ---------------------------------------------------


def start_device(idp_url: str, scope: str = "openid profile offline_access") -> dict[str, str]:
    response = httpx2.post(f"{idp_url}/device_authorization", data={"client_id": "demo-cli", "scope": scope})
    assert response.status_code == 200
    return response.json()


def test_device_flow_from_code_to_tokens(idp):
    """The CLI polls (pending, then slow_down), the person approves at /device, the CLI gets tokens."""
    device = start_device(idp.url)
    assert token_error(poll_device(idp.url, device["device_code"])) == "authorization_pending"
    assert token_error(poll_device(idp.url, device["device_code"])) == "slow_down"

    page = answer_device(idp.url, device["user_code"], "bob")
    assert page.status_code == 200
    assert "Device connected" in page.text

    response = poll_device(idp.url, device["device_code"])
    assert response.status_code == 200
    token = response.json()
    assert {"access_token", "refresh_token", "id_token"} <= token.keys()
    id_token = verify(token["id_token"], idp.url).claims
    assert id_token["sub"] == BOB.sub
    assert id_token["aud"] == "demo-cli"
    assert id_token["at_hash"] == at_hash(token["access_token"])


def test_device_code_is_good_for_one_token_response(idp):
    """Once redeemed, the device code is gone (RFC 8628 §3.5)."""
    device = start_device(idp.url)
    answer_device(idp.url, device["user_code"], "alice")
    assert poll_device(idp.url, device["device_code"]).status_code == 200
    assert token_error(poll_device(idp.url, device["device_code"])) == "invalid_request"


def test_device_flow_denied(idp):
    """When the person presses Deny, the device gets access_denied and no token."""
    device = start_device(idp.url)
    page = answer_device(idp.url, device["user_code"], "")
    assert "Device denied" in page.text
    response = poll_device(idp.url, device["device_code"])
    assert response.status_code == 400
    assert token_error(response) == "access_denied"


def test_slow_down_follows_the_poll_interval_and_raises_it(start_idp):
    """Polling sooner than the interval earns slow_down, which adds 5 s to it (RFC 8628 §3.5)."""
    config = SteppedClockConfig(device_poll_interval=5)
    idp = start_idp(config)
    device = start_device(idp.url)
    assert device["interval"] == 5

    assert token_error(poll_device(idp.url, device["device_code"])) == "authorization_pending"
    config.advance(4)
    assert token_error(poll_device(idp.url, device["device_code"])) == "slow_down"
    config.advance(5)  # the old interval is no longer enough: it is 10 s now
    assert token_error(poll_device(idp.url, device["device_code"])) == "slow_down"
    config.advance(15)  # and 15 s after the second slow_down
    assert token_error(poll_device(idp.url, device["device_code"])) == "authorization_pending"


def test_device_code_expires(start_idp):
    """After device_code_ttl the device gets expired_token and the page no longer takes the code."""
    config = SteppedClockConfig(device_code_ttl=300)
    idp = start_idp(config)
    device = start_device(idp.url)
    assert device["expires_in"] == 300

    config.advance(300)
    assert token_error(poll_device(idp.url, device["device_code"])) == "expired_token"
    page = answer_device(idp.url, device["user_code"], None)
    assert "unknown or has expired" in page.text
