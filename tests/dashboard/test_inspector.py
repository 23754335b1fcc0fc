"""The JWT inspector decodes, explains, verifies and checks any JWT, with clear words for bad input."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from dashboard.fetch import Reach
from dashboard.inspector import (
    SIGNING,
    InspectError,
    compare,
    decode,
    discover,
    keys_from_text,
    keys_from_url,
    new_key,
    oidc_checks,
    public_jwks,
    signing_key,
    verify_signature,
    warnings,
)
from dashboard.inspector import sign as sign_here
from dashboard.untrusted import code
from devidp import ProviderConfig, serve

NOW = 1_800_000_000


@pytest.fixture(scope="module")
def key() -> RSAKey:
    generated = RSAKey.generate_key(2048, private=True)
    generated.ensure_kid()
    return generated


def sign(key: RSAKey, claims: dict[str, object], **header: object) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid, **header}, claims, key)


def test_decode_splits_header_and_claims(key):
    """A pasted token, even with line breaks, decodes to its header and claims."""
    token = sign(key, {"sub": "alice", "iat": NOW})
    decoded = decode(token[:20] + "\n  " + token[20:])
    assert decoded.header["kid"] == key.kid
    assert decoded.claims == {"sub": "alice", "iat": NOW}


@pytest.mark.parametrize(
    ("pasted", "words"),
    [
        ("", "Paste a JWT"),
        ("abc.def", "three parts"),
        ("a.b.c.d.e", "encrypted JWT"),
        ("!!!.e30.sig", "header is not base64url-encoded JSON"),
        (base64.urlsafe_b64encode(b"[1]").decode().rstrip("=") + ".e30.x", "not an object"),
        ("x" * 20_000, "limited to"),
    ],
)
def test_malformed_input_is_named_in_words(pasted, words):
    """Each malformed paste gets a sentence saying what is wrong."""
    with pytest.raises(InspectError, match=words):
        decode(pasted)


@pytest.mark.parametrize(
    ("pasted", "reason"),
    [
        ("!!!.e30.sig", "holds characters other than"),
        ("__4.e30.sig", "bytes, not UTF-8 text"),  # b"\xff\xfe"
        ("bm90.e30.sig", "text that is not JSON"),  # b"not"
    ],
)
def test_an_undecodable_part_says_why_in_words_not_an_exception_class(pasted, reason):
    """The reason a header does not decode is a phrase a learner can act on, never "(Error)"."""
    with pytest.raises(InspectError, match=reason) as raised:
        decode(pasted)
    assert "Error" not in str(raised.value)


def test_time_claims_and_unsigned_tokens_warn(key):
    """Expired, not-yet-valid, future iat, string dates, alg none and odd typ all warn."""
    expired = decode(sign(key, {"exp": NOW - 3600, "nbf": NOW + 3600, "iat": NOW + 3600}, typ="weird"))
    found = " ".join(warnings(expired, now=NOW))
    for words in ("Expired", "Not yet valid", "`iat` is in the future", "Unexpected `typ`"):
        assert words in found
    unsigned = "eyJhbGciOiJub25lIn0." + base64.urlsafe_b64encode(b'{"exp":"soon"}').decode().rstrip("=") + "."
    found = " ".join(warnings(decode(unsigned), now=NOW))
    assert "not signed" in found and "NumericDate" in found
    assert warnings(decode(sign(key, {"exp": NOW + 60, "iat": NOW})), now=NOW) == []


def test_values_from_the_token_are_quoted_never_markup(key):
    """A `typ` or a date claim holding markup comes back in a code span it cannot close."""
    hostile = "x` ![i](http://127.0.0.1:1/i.png) `x"
    found = [w for w in warnings(decode(sign(key, {"exp": hostile}, typ=hostile)), now=NOW) if "![i]" in w]
    assert len(found) == 2
    assert all(code(hostile) in w and w.count("![i]") == 1 for w in found)


def test_signature_verifies_with_pasted_jwks_pem_or_jwk(key):
    """The right key verifies, whether pasted as a JWKS, one JWK, or PEM."""
    token = sign(key, {"sub": "alice"})
    public = key.as_dict(private=False)
    for pasted in (json.dumps({"keys": [public]}), json.dumps(public), key.as_pem(private=False).decode()):
        assert verify_signature(token, keys_from_text(pasted))


def test_a_tampered_or_foreign_token_does_not_verify(key):
    """A changed payload, another key, or an HMAC token are refused in words."""
    token = sign(key, {"sub": "alice"})
    head, body, signature = token.split(".")
    body = base64.urlsafe_b64encode(b'{"sub":"mallory"}').decode().rstrip("=")
    forged = f"{head}.{body}.{signature}"
    with pytest.raises(InspectError, match="does not verify"):
        verify_signature(forged, KeySet([key]))
    other = RSAKey.generate_key(2048, private=True)
    with pytest.raises(InspectError, match="No key with kid"):
        verify_signature(token, KeySet([other]))
    hmac_token = jwt.encode({"alg": "HS256"}, {"sub": "x"}, OctKey.import_key("s" * 32))
    with pytest.raises(InspectError, match="only asymmetric"):
        verify_signature(hmac_token, KeySet([key]))


def test_unreadable_keys_are_named(key):
    """Garbage where keys should be gets a sentence, not a traceback."""
    with pytest.raises(InspectError, match="Paste a JWKS"):
        keys_from_text("hello")
    with pytest.raises(InspectError, match="cannot be read"):
        keys_from_text('{"kty": "RSA"}')


def test_oidc_checks_report_each_check(key):
    """The inspector runs the login's own OIDC checks and returns the report even on failure."""
    claims = {"iss": "https://idp", "aud": "app", "sub": "alice", "iat": NOW, "exp": NOW + 60, "nonce": "n"}
    token = sign(key, claims)
    good = oidc_checks(token, keys=KeySet([key]), issuer="https://idp", audience="app", nonce="n",
                       access_token=None, now=NOW)  # fmt: skip
    assert good.passed
    bad = oidc_checks(token, keys=KeySet([key]), issuer="https://idp", audience="other", nonce="n",
                      access_token=None, now=NOW)  # fmt: skip
    assert not bad.passed
    assert bad.first_failure is not None and bad.first_failure.name == "aud"


def own(idp_url: str) -> Reach:
    """Reach the provider on its loopback port, as the app reaches its own dev provider."""
    return Reach(also=(f"{idp_url}/",))


def test_keys_and_discovery_come_from_a_real_provider():
    """Against the dev provider: discovery names its issuer and its JWKS lists its signing key."""
    with serve() as idp:
        metadata = discover(idp.url, own(idp.url))
        keys = keys_from_url(str(metadata["jwks_uri"]), own(idp.url))
        assert [k.kid for k in keys] == [idp.server.keys.active_kid]


def test_a_discovery_document_naming_another_issuer_is_refused():
    """OIDC Discovery §4.3: the document must name the issuer it was fetched for."""
    with (
        serve(ProviderConfig(issuer="https://elsewhere.example")) as idp,
        pytest.raises(InspectError, match=r"names issuer ` https://elsewhere\.example `"),
    ):
        discover(idp.url, own(idp.url))


def test_only_https_or_localhost_keys_are_fetched():
    """An http:// URL that is not loopback is refused before any request."""
    with pytest.raises(InspectError, match="must be https"):
        keys_from_url("http://example.com/jwks.json")


def test_compare_names_each_side_and_says_which_side_has_a_one_sided_claim():
    """ID token vs userinfo: each column is named, and a claim one side lacks is "only in" the other."""
    rows = compare(
        {"sub": "a", "name": "A", "locale": "en"},
        {"sub": "a", "email": "a@x", "locale": "fr"},
        names=("ID token", "userinfo"),
    )
    assert {r["claim"]: r[""] for r in rows} == {
        "email": "only in userinfo",
        "locale": "differs",
        "name": "only in ID token",
        "sub": "same",
    }
    assert rows[0] == {"claim": "email", "ID token": "—", "userinfo": "a@x", "": "only in userinfo"}


def test_compare_shows_values_as_json():
    """Before and after a refresh, a list and a boolean read as JSON, as the token carries them."""
    rows = compare(
        {"groups": ["staff"], "v": True}, {"groups": ["staff", "admins"], "v": True}, names=("a", "b")
    )
    assert rows == [
        {"claim": "groups", "a": '["staff"]', "b": '["staff", "admins"]', "": "differs"},
        {"claim": "v", "a": "true", "b": "true", "": "same"},
    ]


def test_keys_are_never_fetched_from_the_internal_network():
    """A pasted URL on a private or link-local address is refused before any request is sent."""
    for url in (
        "https://10.1.2.3/jwks.json",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/k",
    ):
        with pytest.raises(InspectError, match="internal address"):
            keys_from_url(url)


@pytest.mark.parametrize("alg", SIGNING)
def test_a_token_made_here_decodes_and_an_asymmetric_one_verifies_with_its_published_key(alg):
    """Sign a payload with a new key: the token carries it, and RS256/ES256 verify with the public JWKS."""
    key = new_key(alg)
    token = sign_here('{"typ": "JWT"}', '{"sub": "me", "aud": "some-other-client"}', key, alg)
    decoded = decode(token)
    assert decoded.header["alg"] == alg and decoded.claims["aud"] == "some-other-client"
    if alg == "HS256":
        with pytest.raises(InspectError, match="no public key"):
            public_jwks(key)
    else:
        assert verify_signature(token, KeySet.import_key_set(public_jwks(key))) == decoded.header["kid"]


@pytest.mark.parametrize(
    ("alg", "pasted", "words"),
    [
        ("HS256", "short", "32 bytes or more"),
        ("RS256", '{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}', "needs an RSA key"),
        ("ES256", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----", "cannot be read"),
    ],
)
def test_a_pasted_signing_key_that_cannot_sign_is_named_in_words(alg, pasted, words):
    """A short HMAC secret, a key of the wrong type or an unreadable PEM each get a sentence."""
    with pytest.raises(InspectError, match=words):
        signing_key(alg, pasted)


def test_a_pasted_public_key_is_refused_for_signing():
    """Signing needs the private half; a public JWK says so."""
    public = json.dumps(public_jwks(new_key("ES256"))["keys"][0])
    with pytest.raises(InspectError, match="public key"):
        signing_key("ES256", public)
