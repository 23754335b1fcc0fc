"""Claims are explained in words and times are shown for people."""

from dashboard.claims import claim_rows, human_time, relative


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
