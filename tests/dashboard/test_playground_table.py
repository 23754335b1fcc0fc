"""The Playground's parameter table: every parameter of the URL, who set it, and its spec."""

from __future__ import annotations

from dashboard.playground import parameter_rows

URL = (
    "http://localhost/idp/authorize?response_type=code&client_id=app&scope=openid&state=s&nonce=n"
    "&prompt=login&access_type=offline&x_custom=1&code_challenge=c&code_challenge_method=S256"
)


def test_each_parameter_says_who_set_it_and_what_it_means() -> None:
    """The module's own, the person's, and the provider settings' parameters are told apart."""
    rows = {r.name: r for r in parameter_rows(URL, {"scope": "openid", "prompt": "login", "x_custom": "1"})}
    assert list(rows)[:3] == ["response_type", "client_id", "scope"]
    assert rows["state"].set_by == rows["code_challenge"].set_by == "the module (always)"
    assert rows["prompt"].set_by == "you" and "sign in again" in rows["prompt"].meaning
    assert rows["access_type"].set_by == "the provider's settings"
    assert rows["prompt"].spec.endswith("#AuthRequest")
    assert "may ignore it" in rows["x_custom"].meaning and rows["x_custom"].spec == ""
