"""Signing keys: tokens verify against the published JWKS before and after rotation,
and a rotated-out key stays published for its grace period only (devidp/keys.py)."""

from __future__ import annotations

import httpx2
import pytest
from joserfc.errors import InvalidKeyIdError
from relying_party import LOGGED_OUT_URI, SteppedClockConfig, published_kids, sign_in, unverified, verify

from devidp import ProviderConfig


def rotate(idp_url: str) -> str:
    response = httpx2.post(f"{idp_url}/keys/rotate", json={})
    assert response.status_code == 200
    return response.json()["active_kid"]


def test_tokens_are_signed_by_the_published_key(idp, rp):
    """The ID token and the access token name the one published kid and verify with it."""
    login = sign_in(idp.url, rp("demo-spa"))
    [kid] = published_kids(idp.url)
    for token in (login.token["id_token"], login.token["access_token"]):
        decoded = verify(token, idp.url)
        assert decoded.header["kid"] == kid
        assert decoded.header["alg"] == "RS256"


def test_jwks_publishes_only_public_rsa_signing_keys(idp):
    """Each JWK says what it is for and carries no private parts (RFC 7517 §4, RFC 7518 §6.3.2)."""
    [key] = httpx2.get(f"{idp.url}/jwks.json").json()["keys"]
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert {"n", "e"} <= key.keys()
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()


def test_rotation_keeps_the_old_key_published_during_the_grace_period(start_idp, rp):
    """After rotation, old tokens still verify and new tokens carry the new kid."""
    idp = start_idp()
    app = rp("demo-spa")
    before = sign_in(idp.url, app)
    [old_kid] = published_kids(idp.url)

    new_kid = rotate(idp.url)
    assert new_kid != old_kid
    assert published_kids(idp.url) == [new_kid, old_kid]
    assert verify(before.token["id_token"], idp.url).header["kid"] == old_kid
    assert verify(before.token["access_token"], idp.url).header["kid"] == old_kid

    after = sign_in(idp.url, app)
    assert verify(after.token["id_token"], idp.url).header["kid"] == new_kid
    assert verify(after.token["access_token"], idp.url).header["kid"] == new_kid


def test_without_grace_period_the_old_key_is_gone_at_once(start_idp, rp):
    """With key_grace_period=0 the JWKS drops the old key, and its tokens no longer verify."""
    idp = start_idp(ProviderConfig(key_grace_period=0))
    before = sign_in(idp.url, rp("demo-spa"))
    new_kid = rotate(idp.url)

    assert published_kids(idp.url) == [new_kid]
    with pytest.raises(InvalidKeyIdError):
        verify(before.token["id_token"], idp.url)
    with pytest.raises(InvalidKeyIdError):
        verify(before.token["access_token"], idp.url)


def test_the_old_key_leaves_the_jwks_when_its_grace_period_ends(start_idp):
    """A retired key is published for key_grace_period seconds after rotation, not a second longer."""
    config = SteppedClockConfig(key_grace_period=3600)
    idp = start_idp(config)
    [old_kid] = published_kids(idp.url)
    new_kid = rotate(idp.url)

    config.advance(3599)
    assert published_kids(idp.url) == [new_kid, old_kid]
    config.advance(1)
    assert published_kids(idp.url) == [new_kid]


def test_logout_accepts_an_id_token_hint_signed_by_a_retired_key(start_idp, rp):
    """During the grace period, an ID token from before the rotation is still a good id_token_hint."""
    idp = start_idp()
    login = sign_in(idp.url, rp("demo-web"))
    [old_kid] = published_kids(idp.url)
    assert rotate(idp.url) != old_kid
    assert unverified(login.token["id_token"])[0]["kid"] == old_kid

    response = httpx2.get(
        f"{idp.url}/logout",
        params={"id_token_hint": login.token["id_token"], "post_logout_redirect_uri": LOGGED_OUT_URI},
    )
    assert response.status_code == 302
    assert response.headers["location"] == LOGGED_OUT_URI


def test_rotation_wants_a_json_post(start_idp):
    """A form POST to /keys/rotate is 415 and rotates nothing: a cross-site form cannot rotate keys."""
    idp = start_idp()
    kids = published_kids(idp.url)
    response = httpx2.post(f"{idp.url}/keys/rotate", data={"rotate": "yes"})
    assert response.status_code == 415
    assert published_kids(idp.url) == kids
