"""A validation report's rows say when, not only how many seconds since 1970 (issue 26)."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from dashboard.report import report_rows
from streamlit_authlib_login.teaching import check_id_token

NOW = 1_800_000_000  # 2027-01-15 08:00:00 UTC


def test_an_expired_tokens_exp_reads_as_a_date_and_how_long_ago():
    """The devidp `expired` fault's token (exp an hour ago): the exp row's actual value is the
    number, its UTC date and "1 h ago"; the check's own moment gets its date; the other rows
    (a nonce of digits, the issuer) are left as they are."""
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    claims = {"iss": "https://idp", "aud": "app", "sub": "123456789012", "iat": NOW - 7200, "exp": NOW - 3600}
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, {**claims, "nonce": "1234567890"}, key)
    report = check_id_token(
        token, jwks=KeySet([key]), issuer="https://idp", client_id="app", nonce="1234567890",
        algorithms=frozenset({"RS256"}), now=NOW,
    )  # fmt: skip
    rows = {r.name: r for r in report_rows(report, NOW)}
    assert not rows["exp"].passed and rows["exp"].message == "the ID token has expired"
    assert rows["exp"].actual == "1799996400 = 2027-01-15 07:00:00 UTC (1 h ago)"
    assert rows["exp"].expected == "after now (1800000000 = 2027-01-15 08:00:00 UTC)"
    assert rows["iat"].actual == "1799992800 = 2027-01-15 06:00:00 UTC (2 h ago)"
    assert rows["nonce"].actual == "1234567890" and rows["sub"].actual == "123456789012"
