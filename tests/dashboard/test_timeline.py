"""The ID-token timeline: every moment on a row of its own, the access token's expiry included."""

from __future__ import annotations

import re

from dashboard.timeline import moments, timeline_svg

NOW = 1_767_225_600


def test_each_moment_has_its_own_row_even_when_two_share_a_second():
    """iat and auth_time in the same second still get two rows, two names and two dots."""
    claims = {"iat": NOW - 5, "auth_time": NOW - 5, "exp": NOW + 3595, "nbf": NOW - 5}
    points = moments(claims, NOW, access_expires_at=NOW + 3595)
    assert [m.name for m in points] == ["iat", "auth_time", "nbf", "now", "exp", "access_exp"]
    svg = timeline_svg(points, NOW)
    rows = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert len(rows) == len(set(rows)) == 6  # no dot, and so no label beside it, shares a row
    for label in (
        "iat · issued",
        "auth_time · you logged in",
        "exp · ID token expires",
        "access token expires",
    ):
        assert label in svg
    assert "in 59 min" in svg and "5 s ago" in svg


def test_labels_stay_inside_the_picture():
    """Names end left of the axis and times start right of it, inside the viewBox, for any span."""
    for exp in (NOW + 1, NOW + 86_400 * 30):
        svg = timeline_svg(moments({"iat": NOW, "exp": exp}, NOW), NOW)
        width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
        for cx in re.findall(r'<circle cx="([\d.]+)"', svg):
            assert 200 <= float(cx) <= 500 < width
