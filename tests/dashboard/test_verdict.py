"""The inspector's verdict names whose keys verified the token: the issuer's prove who signed it,
keys a visitor pasted prove nothing about the issuer, and a nonce nobody gave is not "passed"."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from dashboard.inspector import oidc_checks
from dashboard.verdict import KeySource, for_keys, verdict

NOW = 1_800_000_000
GOOGLE = "https://accounts.google.com"
CLAIMS = {"iss": GOOGLE, "aud": "app", "sub": "alice", "iat": NOW, "exp": NOW + 60, "nonce": "n-1"}


def new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


@pytest.fixture(scope="module")
def forged() -> tuple[str, KeySet]:
    """A token naming Google as its issuer, signed with a key made a moment ago, and that key."""
    key = new_key()
    return jwt.encode({"alg": "RS256", "kid": key.kid}, CLAIMS, key), KeySet([key])


def checked(token: str, keys: KeySet, source: KeySource, nonce: str) -> tuple[str, str, dict[str, str]]:
    report = oidc_checks(
        token, keys=keys, issuer=GOOGLE, audience="app", nonce=nonce, access_token=None, now=NOW
    )
    report = for_keys(report, source, nonce_given=bool(nonce))
    tone, sentence = verdict(report, source, nonce_given=bool(nonce))
    return tone, sentence, {c.name: c.expected for c in report.checks}


def test_pasted_keys_pass_every_check_yet_the_verdict_says_they_prove_nothing_about_the_issuer(forged):
    """A brand-new key signs a token naming Google: every check passes with that key pasted, and
    the verdict is a warning naming the pasted keys, never "All checks pass"; the rows name them
    too, not "the provider's" JWKS, and the nonce nobody entered is not a passed row."""
    token, keys = forged
    tone, sentence, rows = checked(token, keys, KeySource("pasted"), nonce="")
    assert tone == "warning"
    assert "All checks pass" not in sentence
    assert "keys you pasted" in sentence and "prove nothing about the issuer" in sentence
    assert "`nonce` was not checked" in sentence
    assert rows["kid"] == "a key among the keys you pasted"
    assert rows["signature"] == "valid with the keys you pasted"
    assert "nonce" not in rows
    assert not any("provider's" in expected for expected in rows.values())


def test_a_jwks_url_is_named_as_the_visitors_choice(forged):
    """Keys from a URL the visitor typed prove the issuer only if it is the issuer's jwks_uri."""
    token, keys = forged
    tone, sentence, rows = checked(token, keys, KeySource("url", "https://evil.example/jwks"), nonce="n-1")
    assert tone == "warning" and "a URL you chose" in sentence and "`jwks_uri`" in sentence
    assert rows["signature"] == "valid with the JWKS at https://evil.example/jwks, a URL you chose"
    assert rows["nonce"] == "n-1" and "not checked" not in sentence


def test_the_issuers_own_keys_and_the_nonce_sent_make_all_checks_pass(forged):
    """With the keys from the issuer's discovery document and the nonce given, every check
    passes and the verdict says so, naming the issuer."""
    token, keys = forged  # the keys stand in for the issuer's: what differs is where they came from
    tone, sentence, _ = checked(token, keys, KeySource("issuer", GOOGLE), nonce="n-1")
    assert tone == "success"
    assert sentence.startswith("✅ **All checks pass**, with the keys the issuer")
    assert GOOGLE in sentence


def test_a_failed_check_is_refused_and_named(forged):
    """Another key's signature: refused, the first failure named, the rows naming the pasted keys."""
    token, _ = forged
    other = KeySet([new_key()])
    report = oidc_checks(token, keys=other, issuer=GOOGLE, audience="app", nonce="n-1", access_token=None,
                         now=NOW)  # fmt: skip
    report = for_keys(report, KeySource("pasted"), nonce_given=True)
    tone, sentence = verdict(report, KeySource("pasted"), nonce_given=True)
    assert tone == "error" and "Refused" in sentence and "` kid `" in sentence
    failed = {c.name: c.message for c in report.checks if not c.passed}
    assert failed["kid"] == "the token's `kid` is not among the keys you pasted"
