"""Claims are explained in words and times are shown for people."""

from dashboard.claims import claim_rows, human_time, relative, spec_label


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
