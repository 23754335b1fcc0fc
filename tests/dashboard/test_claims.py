"""Claims are explained in words and times are shown for people."""

from dashboard.claims import (
    ACCESS_TOKEN_MEANINGS,
    MEANINGS,
    claim_rows,
    human_time,
    meanings_for,
    relative,
    spec_label,
)


def test_relative_times_read_naturally():
    """Seconds, minutes, hours and days, past and future."""
    assert relative(30) == "in 30 s"
    assert relative(-90) == "1 min ago"
    assert relative(7200) == "in 2 h"
    assert relative(-3 * 86400) == "3 days ago"


def test_time_claims_get_a_date_and_every_known_claim_a_meaning():
    """exp gets a UTC date; aud is explained with its spec link; unknown claims keep their value."""
    rows = {r.claim: r for r in claim_rows({"exp": 1_800_000_060, "aud": "app", "x": [1]}, 1_800_000_000)}
    assert rows["exp"].when == f"{human_time(1_800_000_060, 1_800_000_000)}"
    assert "(in 1 min)" in rows["exp"].when
    assert "client id" in rows["aud"].meaning and rows["aud"].spec.startswith("https://openid.net")
    assert rows["x"].value == "[1]" and rows["x"].meaning == ""


def test_the_claims_access_rules_read_are_explained_with_their_reference():
    """Google's hd, Entra's tid, oid, xms_edov and overage pointers, groups and roles: each has a
    meaning and the page that defines it (the ID token page and notebook 12 show them)."""
    claims = ["hd", "tid", "oid", "xms_edov", "_claim_names", "_claim_sources", "groups", "roles"]
    rows = {r.claim: r for r in claim_rows(dict.fromkeys(claims, "x"), 0)}
    assert all(rows[c].meaning and rows[c].spec.startswith("https://") for c in claims)
    assert spec_label(rows["_claim_names"].spec) == "OIDC Core (AggregatedDistributedClaims)"
    assert spec_label(rows["roles"].spec) == "RFC 9068 §2.2.3.1"
    assert spec_label(rows["xms_edov"].spec) == "learn.microsoft.com"


def test_an_access_tokens_claims_are_explained_as_rfc_9068_does():
    """The access token is for the resource server: its aud names the API (not this app's client
    id), and iss, sub, exp, iat cite RFC 9068, not OIDC Core's ID token section (issue 26)."""
    claims = {"iss": "i", "sub": "s", "aud": "https://idp/userinfo", "exp": 1, "iat": 1, "client_id": "app"}
    rows = {r.claim: r for r in claim_rows(claims, 0, ACCESS_TOKEN_MEANINGS)}
    assert "resource server" in rows["aud"].meaning and "client id" not in rows["aud"].meaning
    assert all(spec_label(rows[c].spec).startswith("RFC 9068") for c in claims), {
        c: rows[c].spec for c in claims
    }
    assert "client-credentials" in rows["sub"].meaning
    # An ID token's claims keep OIDC Core's words.
    assert spec_label(claim_rows({"aud": "app"}, 0)[0].spec) == "OIDC Core (IDToken)"


def test_the_header_says_which_meanings_a_pasted_jwt_gets():
    """RFC 9068 §2.1: `typ` at+jwt (or application/at+jwt) marks an access token; anything else is
    read as an ID token."""
    assert meanings_for({"typ": "at+jwt"}) is ACCESS_TOKEN_MEANINGS
    assert meanings_for({"typ": "application/AT+JWT"}) is ACCESS_TOKEN_MEANINGS
    assert meanings_for({"typ": "JWT"}) is MEANINGS
    assert meanings_for({}) is MEANINGS


def test_values_are_shown_as_the_token_carries_them_json_not_python():
    """A boolean, a list, null and an object read as JSON (`true`, `["staff", "admins"]`), not as
    Python's repr (`True`, `['staff', 'admins']`); a string stays its characters (issue 26)."""
    claims = {"email_verified": True, "groups": ["staff", "admins"], "x": None, "addr": {"city": "서울"}}
    rows = {r.claim: r.value for r in claim_rows({**claims, "name": "Ann"}, 0)}
    assert rows == {
        "email_verified": "true",
        "groups": '["staff", "admins"]',
        "x": "null",
        "addr": '{"city": "서울"}',
        "name": "Ann",
    }
