"""Each fault switch breaks exactly the one thing it names, and the app's checks catch it
(devidp/faults.py, switched over HTTP at /faults)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx2
import pytest
from authlib.oauth2.rfc6749.errors import MismatchingStateException
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    UnsupportedAlgorithmError,
)
from relying_party import (
    Login,
    at_hash,
    authorize,
    hidden_field,
    published_kids,
    sign_in,
    unverified,
    validate_id_token,
    verify,
)

import devidp
from devidp import FAULTS, RunningProvider
from devidp.faults import EVIL_ISSUER
from devidp.personas import BY_USERNAME

# The ID-token faults, each with the one check of OIDC Core §3.1.3.7 it must trip.
ID_TOKEN_FAULTS = {
    "wrong_iss": "iss",
    "wrong_aud": "aud",
    "bad_signature": "signature",
    "unknown_key": "kid",
    "alg_none": "alg",
    "expired": "exp",
    "wrong_nonce": "nonce",
    "bad_at_hash": "at_hash",
}
OTHER_FAULTS = {"wrong_iss_param", "reused_code", "userinfo_other_sub", "slow_token", "pkce_downgrade"}

# What Authlib's and joserfc's validation raise for each of them.
REFUSALS: dict[str, type[JoseError]] = {
    "wrong_iss": InvalidClaimError,
    "wrong_aud": InvalidClaimError,
    "bad_signature": BadSignatureError,
    "unknown_key": InvalidKeyIdError,
    "alg_none": UnsupportedAlgorithmError,
    "expired": ExpiredTokenError,
    "wrong_nonce": InvalidClaimError,
    "bad_at_hash": InvalidClaimError,
}


@pytest.fixture(scope="module")
def faulty_idp() -> Iterator[RunningProvider]:
    """This module's own provider: fault switches are server-wide and sticky."""
    with devidp.serve() as running:
        yield running


@pytest.fixture
def switch(faulty_idp: RunningProvider) -> Iterator[Callable[..., None]]:
    """Flip fault switches through the HTTP API; everything is switched off again afterwards."""

    def flip(*names: str) -> None:
        response = httpx2.post(f"{faulty_idp.url}/faults", json={"faults": list(names)})
        assert response.status_code == 200
        assert response.json()["active"] == sorted(names)

    yield flip
    flip()


def id_token_problems(login: Login, issuer: str, client_id: str) -> set[str]:
    """The ID-token checks an app makes that fail; the signature checks stop at the first failure."""
    id_token = login.token["id_token"]
    header, claims = unverified(id_token)
    problems = set()
    if header.get("alg") != "RS256":
        problems.add("alg")
    elif header.get("kid") not in published_kids(issuer):
        problems.add("kid")
    else:
        try:
            verify(id_token, issuer)
        except BadSignatureError:
            problems.add("signature")
    expected = {
        "iss": issuer,
        "aud": client_id,
        "nonce": login.authorization.nonce,
        "at_hash": at_hash(login.token["access_token"]),
    }
    problems |= {name for name, value in expected.items() if claims.get(name) != value}
    if not int(str(claims["exp"])) > time.time():
        problems.add("exp")
    return problems


def test_every_fault_has_a_test():
    """A new fault switch fails this until someone says what it must break."""
    assert set(ID_TOKEN_FAULTS) | OTHER_FAULTS == set(FAULTS)


def test_without_faults_the_id_token_passes_every_check(faulty_idp, switch, rp):
    """The control: with no switch on, the app's checks and Authlib's validation all pass."""
    switch()
    login = sign_in(faulty_idp.url, rp("demo-web"))
    assert id_token_problems(login, faulty_idp.url, "demo-web") == set()
    validate_id_token(login, faulty_idp.url, "demo-web")
    assert login.authorization.params["iss"] == faulty_idp.url


@pytest.mark.parametrize("fault", sorted(ID_TOKEN_FAULTS))
def test_id_token_fault_breaks_exactly_its_check(faulty_idp, switch, rp, fault):
    """Each ID-token fault trips exactly the check it names; the access token stays sound."""
    switch(fault)
    login = sign_in(faulty_idp.url, rp("demo-web"))

    assert id_token_problems(login, faulty_idp.url, "demo-web") == {ID_TOKEN_FAULTS[fault]}
    with pytest.raises(REFUSALS[fault]) as refused:
        validate_id_token(login, faulty_idp.url, "demo-web")
    if isinstance(refused.value, InvalidClaimError):
        assert refused.value.claim == ID_TOKEN_FAULTS[fault]
    assert verify(login.token["access_token"], faulty_idp.url).claims["aud"] == f"{faulty_idp.url}/userinfo"


def test_alg_none_is_an_unsigned_token(faulty_idp, switch, rp):
    """alg_none sends a token with header alg none and an empty signature."""
    switch("alg_none")
    id_token = sign_in(faulty_idp.url, rp("demo-spa")).token["id_token"]
    header, claims = unverified(id_token)
    assert header["alg"] == "none"
    assert id_token.endswith(".")
    assert claims["aud"] == "demo-spa"


def test_unknown_key_names_a_kid_outside_the_jwks(faulty_idp, switch, rp):
    """unknown_key signs with a key whose kid the JWKS does not publish."""
    switch("unknown_key")
    id_token = sign_in(faulty_idp.url, rp("demo-spa")).token["id_token"]
    header, _ = unverified(id_token)
    assert header["alg"] == "RS256"
    assert header["kid"] not in published_kids(faulty_idp.url)


def test_faults_combine(faulty_idp, switch, rp):
    """Two switches on at once break both checks, and only those."""
    switch("wrong_aud", "wrong_nonce")
    login = sign_in(faulty_idp.url, rp("demo-spa"))
    assert id_token_problems(login, faulty_idp.url, "demo-spa") == {"aud", "nonce"}


def test_wrong_iss_param_names_another_issuer_in_the_authorization_response(faulty_idp, switch, rp):
    """The redirect's iss is not the issuer (RFC 9207 §2.4), while the ID token is sound."""
    switch("wrong_iss_param")
    login = sign_in(faulty_idp.url, rp("demo-web"))
    assert login.authorization.params["iss"] == EVIL_ISSUER != faulty_idp.url
    assert id_token_problems(login, faulty_idp.url, "demo-web") == set()


def test_reused_code_replays_the_previous_authorization_response(faulty_idp, switch, rp):
    """The second login comes back with the first one's code and state; the app's state check catches it."""
    app = rp("demo-web")
    first = authorize(faulty_idp.url, app)
    switch("reused_code")
    second = authorize(faulty_idp.url, app)

    assert second.location == first.location
    assert second.params["state"] == first.state != second.state
    with pytest.raises(MismatchingStateException):
        app.fetch_token(
            f"{faulty_idp.url}/token",
            authorization_response=second.location,
            state=second.state,
            code_verifier=second.verifier,
        )


def test_userinfo_other_sub_answers_for_someone_else(faulty_idp, switch, rp):
    """Userinfo's sub differs from the ID token's (OIDC Core §5.3.2), the rest is still alice."""
    app = rp("demo-spa")
    login = sign_in(faulty_idp.url, app, "alice")
    switch("userinfo_other_sub")
    info = app.get(f"{faulty_idp.url}/userinfo").json()
    assert info["sub"] != verify(login.token["id_token"], faulty_idp.url).claims["sub"]
    assert info["name"] == BY_USERNAME["alice"].name


def test_slow_token_delays_the_token_endpoint_and_nothing_else(faulty_idp, switch, rp):
    """The token response comes at least half a second late, and is still a good one."""
    switch("slow_token")
    started = time.monotonic()
    login = sign_in(faulty_idp.url, rp("demo-web"))
    assert time.monotonic() - started >= 0.5
    validate_id_token(login, faulty_idp.url, "demo-web")


# --- the switchboard itself ---------------------------------------------------------------------


def test_fault_list_names_every_switch(faulty_idp, switch):
    """GET /faults shows what is on and describes every switch."""
    switch("expired")
    answer = httpx2.get(f"{faulty_idp.url}/faults").json()
    assert answer == {"active": ["expired"], "available": FAULTS}


def test_faults_want_a_json_post(faulty_idp, switch):
    """A form POST to /faults is 415 and switches nothing: no cross-site flipping."""
    response = httpx2.post(f"{faulty_idp.url}/faults", data={"faults": "wrong_aud"})
    assert response.status_code == 415
    assert httpx2.get(f"{faulty_idp.url}/faults").json()["active"] == []


def test_the_home_page_shows_the_faults_on_and_switches_them_all_off(faulty_idp, switch):
    """With a fault on, the provider's home page names it; its one button switches every fault off."""
    switch("wrong_aud", "expired")
    with httpx2.Client() as browser:
        home = browser.get(f"{faulty_idp.url}/")
        assert "Faults switched on:" in home.text
        assert "<code>expired</code>, <code>wrong_aud</code>" in home.text
        off = browser.post(
            f"{faulty_idp.url}/faults", data={"csrf": hidden_field(home.text, "csrf"), "faults": "none"}
        )
        assert off.status_code == 303 and off.headers["location"] == f"{faulty_idp.url}/"
        assert "No fault is switched on" in browser.get(f"{faulty_idp.url}/").text
    assert httpx2.get(f"{faulty_idp.url}/faults").json()["active"] == []


def test_the_switch_off_form_needs_its_csrf_pair(faulty_idp, switch):
    """A cross-site form with a made-up CSRF value switches nothing off."""
    switch("wrong_aud")
    response = httpx2.post(f"{faulty_idp.url}/faults", data={"csrf": "forged", "faults": "none"})
    assert response.status_code == 400
    assert httpx2.get(f"{faulty_idp.url}/faults").json()["active"] == ["wrong_aud"]


def test_unknown_fault_is_refused(faulty_idp, switch):
    """An unknown switch name is a 400 listing the known ones, and changes nothing."""
    switch("wrong_aud")
    response = httpx2.post(f"{faulty_idp.url}/faults", json={"faults": ["wrong_aud", "everything"]})
    assert response.status_code == 400
    assert response.json()["known"] == sorted(FAULTS)
    assert httpx2.get(f"{faulty_idp.url}/faults").json()["active"] == ["wrong_aud"]
