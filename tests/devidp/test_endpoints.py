"""Userinfo, revocation, introspection, device authorization and RP-initiated logout
over a loopback socket (devidp/endpoints.py)."""

from __future__ import annotations

import httpx2
import pytest
from relying_party import (
    LOGGED_OUT_URI,
    hidden_field,
    introspect,
    query_of,
    sign_in,
    verify,
)

from devidp.personas import BY_USERNAME, SCOPE_CLAIMS

ALICE = BY_USERNAME["alice"]
PROFILE = set(SCOPE_CLAIMS["profile"])
EMAIL = {"email", "email_verified"}
GROUPS = {"groups", "roles"}


# --- userinfo (OIDC Core §5.3) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "released"),
    [
        ("openid", set()),
        ("openid profile", PROFILE),
        ("openid email", EMAIL),
        ("openid groups", GROUPS),
        ("openid profile email groups", PROFILE | EMAIL | GROUPS),
    ],
)
def test_userinfo_releases_the_claims_of_each_scope(idp, rp, scope, released):
    """Userinfo answers with exactly the claims the granted scopes release, about the ID token's sub."""
    app = rp("demo-spa", scope=scope)
    login = sign_in(idp.url, app, "alice")
    response = app.get(f"{idp.url}/userinfo")

    assert response.status_code == 200
    info = response.json()
    assert info.keys() == {"sub"} | released
    assert info["sub"] == verify(login.token["id_token"], idp.url).claims["sub"] == ALICE.sub


def test_userinfo_tells_the_persona_as_it_is(idp, rp):
    """Alice's name, verified email and groups come back as the persona defines them."""
    app = rp("demo-web", scope="openid profile email groups")
    sign_in(idp.url, app, "alice")
    info = app.get(f"{idp.url}/userinfo").json()
    assert info["name"] == "Alice Anderson"
    assert info["preferred_username"] == "alice"
    assert info["email"] == "alice@example.com"
    assert info["email_verified"] is True
    assert info["groups"] == ["staff", "admins"]
    assert info["picture"] == f"{idp.url}/avatars/alice.svg"


def test_userinfo_leaves_out_an_email_the_persona_does_not_have(idp, rp):
    """A persona without email releases no email claims, even with the email scope."""
    app = rp("demo-spa", scope="openid email")
    sign_in(idp.url, app, "noemail")
    assert app.get(f"{idp.url}/userinfo").json() == {"sub": BY_USERNAME["noemail"].sub}


def test_userinfo_wants_a_live_bearer_token(idp, rp):
    """No token, or a revoked one, is a 401 invalid_token (RFC 6750 §3.1)."""
    assert httpx2.get(f"{idp.url}/userinfo").status_code == 401

    app = rp("demo-spa")
    login = sign_in(idp.url, app)
    app.revoke_token(f"{idp.url}/revoke", login.token["access_token"])
    response = app.get(f"{idp.url}/userinfo")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


# --- introspection (RFC 7662) and revocation (RFC 7009) ----------------------------------------


def test_introspection_describes_a_live_access_token(idp, rp):
    """A resource server learns who, for which client, with which scope, and until when."""
    app = rp("demo-spa", scope="openid profile")
    login = sign_in(idp.url, app, "alice")
    answer = introspect(idp.url, login.token["access_token"])
    claims = verify(login.token["access_token"], idp.url).claims

    assert answer["active"] is True
    assert answer["client_id"] == "demo-spa"
    assert answer["sub"] == ALICE.sub
    assert answer["username"] == "alice"
    assert answer["scope"] == "openid profile"
    assert answer["iss"] == idp.url
    assert answer["exp"] == claims["exp"]


def test_introspection_of_an_unknown_token_is_just_inactive(idp):
    """An unknown token gets {"active": false} and nothing else (RFC 7662 §2.2)."""
    assert introspect(idp.url, "not-a-token") == {"active": False}


def test_public_client_may_not_introspect(idp):
    """Introspection needs an authenticated client; the public demo-spa is invalid_client."""
    response = httpx2.post(f"{idp.url}/introspect", data={"token": "x", "client_id": "demo-spa"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_revoked_access_token_introspects_inactive(idp, rp):
    """The app revokes its access token (RFC 7009); introspection then says inactive (RFC 7662)."""
    app = rp("demo-spa")
    login = sign_in(idp.url, app)
    assert introspect(idp.url, login.token["access_token"])["active"] is True

    response = app.revoke_token(f"{idp.url}/revoke", login.token["access_token"])
    assert response.status_code == 200
    assert introspect(idp.url, login.token["access_token"]) == {"active": False}


def test_revoking_the_refresh_token_revokes_the_whole_grant(idp, rp):
    """Revoking a refresh token also kills the access tokens of that login (RFC 7009 §2.1)."""
    app = rp("demo-web")
    login = sign_in(idp.url, app)
    app.revoke_token(f"{idp.url}/revoke", login.token["refresh_token"], token_type_hint="refresh_token")
    assert introspect(idp.url, login.token["refresh_token"]) == {"active": False}
    assert introspect(idp.url, login.token["access_token"]) == {"active": False}


def test_a_client_cannot_revoke_another_clients_token(idp, rp):
    """demo-web's attempt to revoke demo-spa's token is refused, and the token lives on."""
    login = sign_in(idp.url, rp("demo-spa"))
    response = rp("demo-web").revoke_token(f"{idp.url}/revoke", login.token["access_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert introspect(idp.url, login.token["access_token"])["active"] is True


# --- device authorization (RFC 8628 §3.1, §3.2) ---------------------------------------------------


def test_device_authorization_answers_with_codes_and_where_to_go(idp):
    """The device learns a device_code, a short user_code, and the page under the issuer to visit."""
    response = httpx2.post(
        f"{idp.url}/device_authorization", data={"client_id": "demo-cli", "scope": "openid"}
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["verification_uri"] == f"{idp.url}/device"
    assert answer["verification_uri_complete"] == f"{idp.url}/device?user_code={answer['user_code']}"
    assert len(answer["device_code"]) >= 32
    assert answer["expires_in"] == 600
    assert answer["interval"] == 5


def test_device_authorization_only_for_device_clients(idp):
    """demo-spa is not registered for the device grant: unauthorized_client."""
    response = httpx2.post(f"{idp.url}/device_authorization", data={"client_id": "demo-spa"})
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


# --- RP-initiated logout (OIDC RP-Initiated Logout 1.0) -----------------------------------------


def test_logout_with_id_token_hint_redirects_back_with_state(idp, rp):
    """With a valid id_token_hint and a registered URI, the provider redirects there with the state."""
    login = sign_in(idp.url, rp("demo-web"))
    response = httpx2.get(
        f"{idp.url}/logout",
        params={
            "id_token_hint": login.token["id_token"],
            "post_logout_redirect_uri": LOGGED_OUT_URI,
            "state": "see-you",
        },
    )
    assert response.status_code == 302
    assert response.headers["location"] == f"{LOGGED_OUT_URI}?state=see-you"


def test_logout_without_id_token_hint_asks_the_user(idp):
    """Without id_token_hint the provider cannot tell who asked, so it shows a confirmation page."""
    params = {"client_id": "demo-web", "post_logout_redirect_uri": LOGGED_OUT_URI, "state": "s"}
    response = httpx2.get(f"{idp.url}/logout", params=params)
    assert response.status_code == 200
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Sign out?" in response.text
    assert "Demo web app (confidential)" in response.text
    assert "Logout without `id_token_hint`" in response.text


def test_confirmed_logout_without_hint_signs_out_but_does_not_redirect(idp, browser):
    """Pressing Sign out ends the session; without a hint, the URI is not trusted, so no redirect."""
    params = {"client_id": "demo-web", "post_logout_redirect_uri": LOGGED_OUT_URI}
    page = browser.get(f"{idp.url}/logout", params=params)
    form = {"csrf": hidden_field(page.text, "csrf"), "confirm": "yes", **params}
    response = browser.post(f"{idp.url}/logout", data=form)
    assert response.status_code == 200
    assert "location" not in response.headers
    assert "You are signed out" in response.text


def test_logout_to_an_unregistered_uri_is_refused_with_the_reason(idp, rp):
    """Even with a valid hint, an unregistered post_logout_redirect_uri gets no redirect (§3),
    and the page says why, as a certified provider does."""
    login = sign_in(idp.url, rp("demo-web"))
    response = httpx2.get(
        f"{idp.url}/logout",
        params={
            "id_token_hint": login.token["id_token"],
            "post_logout_redirect_uri": "https://evil.example/",
        },
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "post_logout_redirect_uri not registered" in response.text


def test_logout_refuses_a_hint_for_another_client(idp, rp):
    """client_id must match the id_token_hint's aud (RP-Initiated Logout §2)."""
    login = sign_in(idp.url, rp("demo-spa"))
    response = httpx2.get(
        f"{idp.url}/logout",
        params={
            "id_token_hint": login.token["id_token"],
            "client_id": "demo-web",
            "post_logout_redirect_uri": LOGGED_OUT_URI,
        },
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "does not match" in response.text


def test_logout_ends_the_providers_session(idp, rp, browser):
    """After logout the provider forgets the browser, even if it replays its old session cookie."""
    app = rp("demo-web")
    url, _ = app.create_authorization_url(
        f"{idp.url}/authorize", code_verifier="v" * 43, nonce="n1", login_hint="alice"
    )
    code = query_of(browser.get(url).headers["location"])["code"]
    token = app.fetch_token(f"{idp.url}/token", code=code, code_verifier="v" * 43)
    session = browser.cookies["devidp_session"]

    again, _ = app.create_authorization_url(f"{idp.url}/authorize", code_verifier="w" * 43, nonce="n2")
    assert "<h1>Allow access?</h1>" in browser.get(again).text  # remembered: straight to consent

    browser.get(f"{idp.url}/logout", params={"id_token_hint": token["id_token"]})
    assert "devidp_session" not in browser.cookies
    replayed = httpx2.get(again, cookies={"devidp_session": session})
    assert "<h1>Sign in</h1>" in replayed.text
