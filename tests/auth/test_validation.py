"""validate_id_token on tokens signed here with joserfc: one test per check of OIDC Core §3.1.3.7."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from streamlit_authlib_login._core.errors import TokenValidationError
from streamlit_authlib_login._core.validation import ValidationReport, allowed_algorithms, validate_id_token

ISSUER = "https://op.example.com"
CLIENT_ID = "our-app"
NONCE = "n-0S6_WzA2Mj"
ACCESS_TOKEN = "an-access-token-of-this-login"
LEEWAY = 10
NOW = int(time.time())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def half_hash(access_token: str) -> str:
    return b64(hashlib.sha256(access_token.encode()).digest()[:16])


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


@pytest.fixture(scope="module")
def jwks(rsa_key: RSAKey) -> KeySet:
    """What the provider publishes: the public half only."""
    return KeySet.import_key_set({"keys": [rsa_key.as_dict(private=False)]})


def claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT_ID,
        "iat": NOW,
        "exp": NOW + 300,
        "nonce": NONCE,
        "at_hash": half_hash(ACCESS_TOKEN),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: RSAKey | ECKey, alg: str = "RS256", **changes: object) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, claims(**changes), key)


def validate(token: str, jwks: KeySet, **overrides: object) -> ValidationReport:
    arguments: dict[str, object] = {
        "jwks": jwks,
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "nonce": NONCE,
        "algorithms": allowed_algorithms(["RS256"]),
        "now": NOW,
        "access_token": ACCESS_TOKEN,
        "leeway": LEEWAY,
    }
    arguments.update(overrides)
    return validate_id_token(token, **arguments)  # type: ignore[arg-type]


def refusal(token: str, jwks: KeySet, **overrides: object) -> TokenValidationError:
    with pytest.raises(TokenValidationError) as caught:
        validate(token, jwks, **overrides)
    return caught.value


def row(error: TokenValidationError, name: str) -> bool:
    return next(c.passed for c in error.report.checks if c.name == name)


def test_a_well_formed_token_passes_every_check(rsa_key: RSAKey, jwks: KeySet) -> None:
    """A token the provider signed for us, fresh, with our nonce and at_hash, passes every row."""
    report = validate(sign(rsa_key), jwks)
    assert report.passed
    names = [c.name for c in report.checks]
    assert names == ["alg", "kid", "signature", "sub", "iss", "aud", "exp", "iat", "nonce", "at_hash"]
    assert report.claims["sub"] == "user-1"
    assert report.header["kid"] == rsa_key.kid


def test_report_survives_the_round_trip_through_the_session(rsa_key: RSAKey, jwks: KeySet) -> None:
    """A report stored as a dict with the session reads back the same."""
    report = validate(sign(rsa_key), jwks)
    assert ValidationReport.from_dict(json.loads(json.dumps(report.as_dict()))) == report


# --- signature and algorithm ------------------------------------------------------------------
def test_token_signed_by_another_key_with_our_kid_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """A signature by a key that merely claims the provider's kid does not verify."""
    impostor = RSAKey.generate_key(2048, private=True)
    token = jwt.encode({"alg": "RS256", "kid": rsa_key.kid}, claims(), impostor)
    error = refusal(token, jwks)
    assert row(error, "kid") and not row(error, "signature")
    assert "signature does not verify" in error.description


def test_token_signed_by_a_key_missing_from_the_jwks_is_refused(jwks: KeySet) -> None:
    """An unknown kid fails the kid row and the signature row."""
    stranger = RSAKey.generate_key(2048, private=True)
    stranger.ensure_kid()
    error = refusal(sign(stranger), jwks)
    assert not row(error, "kid") and not row(error, "signature")


def test_tampered_payload_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """Changing a claim after signing breaks the signature."""
    head, _, signature = sign(rsa_key).split(".")
    forged = b64(json.dumps(claims(sub="admin")).encode())
    error = refusal(f"{head}.{forged}.{signature}", jwks)
    assert not row(error, "signature")


def test_unsigned_token_is_refused_even_when_discovery_advertises_none(jwks: KeySet) -> None:
    """`alg: none` is refused though the provider lists none among its algorithms."""
    allowed = allowed_algorithms(["none", "RS256"])
    assert allowed == {"RS256"}
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."
    error = refusal(token, jwks, algorithms=allowed)
    assert not row(error, "alg") and not row(error, "signature")
    assert "signed with `none`" in error.description


def test_discovery_advertising_only_none_leaves_nothing_to_accept(rsa_key: RSAKey, jwks: KeySet) -> None:
    """A provider advertising only `none` gets no algorithm at all, so even RS256 is refused."""
    assert allowed_algorithms(["none"]) == frozenset()
    error = refusal(sign(rsa_key), jwks, algorithms=allowed_algorithms(["none"]))
    assert not row(error, "alg")


def hs256_token(secret: bytes, kid: str | None) -> str:
    header = b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def test_hmac_keyed_with_the_providers_public_key_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """The key-confusion attack: HS256 'signed' with the public key's PEM is refused (RFC 8725 §2.2)."""
    public_pem = rsa_key.as_pem(private=False)
    token = hs256_token(public_pem, rsa_key.kid)
    assert allowed_algorithms(["RS256", "HS256"]) == {"RS256"}
    error = refusal(token, jwks, algorithms=allowed_algorithms(["RS256", "HS256"]))
    assert not row(error, "alg") and not row(error, "signature")


def test_hmac_is_not_verified_with_an_rsa_key_even_if_a_caller_allows_hs256(
    rsa_key: RSAKey, jwks: KeySet
) -> None:
    """Even a caller passing HS256 explicitly gets no HMAC verified with an RSA public key."""
    token = hs256_token(rsa_key.as_pem(private=False), rsa_key.kid)
    error = refusal(token, jwks, algorithms=frozenset({"HS256", "RS256"}))
    assert not row(error, "signature")


def test_es256_is_accepted_when_the_provider_uses_it() -> None:
    """An EC provider's ES256 token verifies, and its at_hash uses SHA-256."""
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    keyset = KeySet.import_key_set({"keys": [key.as_dict(private=False)]})
    report = validate(sign(key, "ES256"), keyset, algorithms=allowed_algorithms(["ES256"]))
    assert report.passed


def test_algorithm_not_advertised_by_the_provider_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """An RS256 token from a provider that advertises only ES256 is refused on alg."""
    error = refusal(sign(rsa_key), jwks, algorithms=allowed_algorithms(["ES256"]))
    assert not row(error, "alg")


def test_garbage_is_not_a_token(jwks: KeySet) -> None:
    """A value that is not a compact JWS is refused with words, not a crash."""
    with pytest.raises(TokenValidationError, match="not a JWT"):
        validate("not-a-jwt", jwks)


# --- claims ----------------------------------------------------------------------------------
def test_token_without_sub_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """An ID token must say who logged in (OIDC Core §2: `sub` is required)."""
    error = refusal(sign(rsa_key, sub=None), jwks)
    assert not row(error, "sub")


def test_token_from_another_issuer_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """iss must be exactly the issuer from discovery."""
    error = refusal(sign(rsa_key, iss="https://evil.example.com"), jwks)
    assert not row(error, "iss")
    assert "`iss` is not the issuer from discovery" in error.description


def test_templated_issuer_is_checked_against_the_resolved_one(rsa_key: RSAKey, jwks: KeySet) -> None:
    """issuer_check replaces the comparison for providers whose discovery issuer is a template."""
    tenant = "https://login.example.com/tenant-42/v2.0"
    report = validate(
        sign(rsa_key, iss=tenant),
        jwks,
        issuer="https://login.example.com/{tenantid}/v2.0",
        issuer_check=tenant,
    )
    assert report.passed


def test_token_for_another_client_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """aud naming another client is refused."""
    error = refusal(sign(rsa_key, aud="another-app"), jwks)
    assert not row(error, "aud")
    assert "`aud` is not this app's client id" in error.description


def test_token_for_another_client_is_refused_even_when_azp_names_us(rsa_key: RSAKey, jwks: KeySet) -> None:
    """aud = another client with azp = us is refused: azp does not make us an audience."""
    error = refusal(sign(rsa_key, aud="another-app", azp=CLIENT_ID), jwks)
    assert not row(error, "aud")
    assert row(error, "azp")


def test_authlib_alone_accepts_the_token_we_refuse_for_its_aud(rsa_key: RSAKey) -> None:
    """Why the aud check is ours: Authlib's CodeIDToken accepts aud = another client when azp = us."""
    token = CodeIDToken(
        claims(aud="another-app", azp=CLIENT_ID),
        {"alg": "RS256"},
        {"iss": {"values": [ISSUER]}},
        {"nonce": NONCE, "client_id": CLIENT_ID, "access_token": ACCESS_TOKEN},
    )
    token.validate(now=NOW, leeway=120)  # no exception: it would let this login through


def test_token_in_a_list_naming_only_us_is_accepted(rsa_key: RSAKey, jwks: KeySet) -> None:
    """aud may be a one-element list."""
    assert validate(sign(rsa_key, aud=[CLIENT_ID]), jwks).passed


def test_token_for_several_audiences_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """aud naming us and an untrusted other audience is refused, azp or not."""
    error = refusal(sign(rsa_key, aud=[CLIENT_ID, "another-app"], azp=CLIENT_ID), jwks)
    assert not row(error, "aud") and row(error, "azp")
    assert "other, untrusted audiences" in error.description


def test_several_audiences_without_azp_fail_azp_too(rsa_key: RSAKey, jwks: KeySet) -> None:
    """With several audiences, azp is required and must name us (OIDC Core §3.1.3.7 (4))."""
    error = refusal(sign(rsa_key, aud=[CLIENT_ID, "another-app"]), jwks)
    assert not row(error, "azp")


def test_azp_naming_another_client_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """A present azp must be our client id."""
    error = refusal(sign(rsa_key, azp="another-app"), jwks)
    assert row(error, "aud") and not row(error, "azp")


def test_exp_within_leeway_is_accepted_and_past_it_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """exp is honoured up to `leeway` seconds of clock skew, and not one second more."""
    assert validate(sign(rsa_key, exp=NOW - LEEWAY + 1), jwks).passed
    error = refusal(sign(rsa_key, exp=NOW - LEEWAY), jwks)
    assert not row(error, "exp")
    assert "has expired" in error.description


def test_iat_in_the_future_within_leeway_is_accepted_and_beyond_refused(
    rsa_key: RSAKey, jwks: KeySet
) -> None:
    """iat a little in the future (skew) passes; further in the future is refused."""
    assert validate(sign(rsa_key, iat=NOW + LEEWAY), jwks).passed
    error = refusal(sign(rsa_key, iat=NOW + LEEWAY + 1), jwks)
    assert not row(error, "iat")


@pytest.mark.parametrize("missing", ["exp", "iat"])
def test_token_without_exp_or_iat_is_refused(rsa_key: RSAKey, jwks: KeySet, missing: str) -> None:
    """exp and iat are required claims."""
    error = refusal(sign(rsa_key, **{missing: None}), jwks)
    assert not row(error, missing)


def test_fractional_numeric_dates_are_accepted(rsa_key: RSAKey, jwks: KeySet) -> None:
    """RFC 7519 §2 NumericDate may carry a fraction: a fresh token with one is valid."""
    assert validate(sign(rsa_key, iat=NOW + 0.5, exp=NOW + 300.25), jwks).passed


def test_default_leeway_is_small(rsa_key: RSAKey, jwks: KeySet) -> None:
    """Without an explicit leeway, a token expired five minutes ago is refused."""
    with pytest.raises(TokenValidationError):
        validate_id_token(
            sign(rsa_key, exp=NOW - 300),
            jwks=jwks,
            issuer=ISSUER,
            client_id=CLIENT_ID,
            nonce=NONCE,
            algorithms=allowed_algorithms(["RS256"]),
            now=NOW,
        )


def test_nonce_of_another_login_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """nonce must be the one this login sent."""
    error = refusal(sign(rsa_key, nonce="another-login"), jwks)
    assert not row(error, "nonce")


def test_token_without_the_nonce_we_sent_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """A token lacking nonce when we sent one is refused (replay of a token from elsewhere)."""
    error = refusal(sign(rsa_key, nonce=None), jwks)
    assert not row(error, "nonce")


def test_at_hash_of_another_access_token_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """at_hash must be the left half of SHA-256 of the access token that came with it."""
    error = refusal(sign(rsa_key, at_hash=half_hash("some-other-access-token")), jwks)
    assert not row(error, "at_hash")


def test_token_without_at_hash_is_accepted_in_the_code_flow(rsa_key: RSAKey, jwks: KeySet) -> None:
    """at_hash is optional in the code flow (OIDC Core §3.1.3.6), checked only when present."""
    report = validate(sign(rsa_key, at_hash=None), jwks)
    assert report.passed and "at_hash" not in [c.name for c in report.checks]


def test_every_failure_is_reported_not_just_the_first(rsa_key: RSAKey, jwks: KeySet) -> None:
    """Checks keep running: a token wrong in three ways shows three failed rows."""
    error = refusal(sign(rsa_key, iss="https://evil.example.com", aud="x", nonce="y"), jwks)
    failed = {c.name for c in error.report.checks if not c.passed}
    assert failed == {"iss", "aud", "nonce"}
    assert error.report.first_failure is not None and error.report.first_failure.name == "iss"
    failure = error.report.first_failure
    assert failure.spec == "OIDC Core §3.1.3.7 (2)"
    assert failure.expected == ISSUER and failure.actual == "https://evil.example.com"


# --- auth_time, when max_age was sent ----------------------------------------------------------
def test_auth_time_is_checked_only_when_max_age_was_sent(rsa_key: RSAKey, jwks: KeySet) -> None:
    """Without max_age there is no auth_time row; with it, a recent auth_time passes the row."""
    token = sign(rsa_key, auth_time=NOW - 30)
    assert "auth_time" not in [c.name for c in validate(token, jwks).checks]
    report = validate(token, jwks, max_age=60)
    assert next(c for c in report.checks if c.name == "auth_time").passed


def test_auth_time_older_than_max_age_is_refused(rsa_key: RSAKey, jwks: KeySet) -> None:
    """A login older than max_age (beyond the leeway) fails the auth_time row."""
    error = refusal(sign(rsa_key, auth_time=NOW - 60 - LEEWAY - 1), jwks, max_age=60)
    assert not row(error, "auth_time")
    assert "longer ago than `max_age`" in error.description


def test_missing_auth_time_is_refused_when_max_age_was_sent(rsa_key: RSAKey, jwks: KeySet) -> None:
    """OIDC Core §3.1.2.1: max_age sent, auth_time is required."""
    error = refusal(sign(rsa_key), jwks, max_age=3600)
    assert not row(error, "auth_time")
    assert "no `auth_time`" in error.description
