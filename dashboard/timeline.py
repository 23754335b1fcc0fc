"""An ID token's times on one axis, one row each, drawn as SVG: iat, auth_time, nbf, now,
exp, and the access token's expiry. A row per moment, its name on the left and its time on
the right, so no two labels can overlap however close the moments are (``iat`` and
``auth_time`` are often the same second)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from .claims import relative

WIDTH, ROW, TOP = 720, 30, 12
PLOT = (200, 500)  # x range of the time axis; names to its left, times to its right

WHAT = {
    "iat": "iat · issued",
    "auth_time": "auth_time · you logged in",
    "nbf": "nbf · not valid before",
    "now": "now",
    "exp": "exp · ID token expires",
    "access_exp": "access token expires",
}


@dataclass(frozen=True)
class Moment:
    name: str  # a key of WHAT
    at: int


def moments(claims: Mapping[str, object], now: int, access_expires_at: int | None = None) -> list[Moment]:
    """The moments to draw, in time order (ties in WHAT's order)."""
    found = [
        Moment(name, value)
        for name in ("iat", "auth_time", "nbf", "exp")
        if isinstance(value := claims.get(name), int)
    ]
    found.append(Moment("now", now))
    if access_expires_at:
        found.append(Moment("access_exp", access_expires_at))
    order = list(WHAT)
    return sorted(found, key=lambda m: (m.at, order.index(m.name)))


def timeline_svg(points: list[Moment], now: int, *, ink: str = "#1f2937", paper: str = "#ffffff") -> str:
    """One row per moment: its name, a dot on the shared time axis, its time. The ID token's
    validity (iat to exp) is shaded across every row."""
    start, end = min(m.at for m in points), max(m.at for m in points)
    span = max(end - start, 1)

    def x(at: int) -> float:
        return PLOT[0] + (at - start) / span * (PLOT[1] - PLOT[0])

    height = TOP * 2 + ROW * len(points)
    by_name = {m.name: m.at for m in points}
    parts = []
    if "iat" in by_name and "exp" in by_name:
        left, right = x(by_name["iat"]), x(by_name["exp"])
        parts.append(
            f'<rect x="{left:.1f}" y="{TOP - 4}" width="{max(right - left, 1):.1f}" '
            f'height="{ROW * len(points) + 8}" '
            'fill="#16a34a" fill-opacity="0.10"><title>The ID token is valid from iat to exp</title></rect>'
        )
    for row, moment in enumerate(points):
        y = TOP + ROW * row + ROW / 2
        color = "#b91c1c" if moment.name == "now" else "#4f46e5" if moment.name == "access_exp" else ink
        when = datetime.fromtimestamp(moment.at, UTC).strftime("%H:%M:%S")
        ago = "now" if moment.name == "now" else relative(moment.at - now)
        parts.append(
            f'<g><line x1="{PLOT[0]}" y1="{y}" x2="{PLOT[1]}" y2="{y}" stroke="{ink}" stroke-opacity="0.15"/>'
            f'<text x="{PLOT[0] - 12}" y="{y + 4}" text-anchor="end" font-size="13" fill="{color}">'
            f"{escape(WHAT[moment.name])}</text>"
            f'<circle cx="{x(moment.at):.1f}" cy="{y}" r="6" fill="{color}"/>'
            f'<text x="{PLOT[1] + 14}" y="{y + 4}" font-size="13" fill="{color}">'
            f"{when} UTC · {escape(ago)}</text></g>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        'role="img" aria-label="Timeline of the ID token" '
        f'style="max-width:{WIDTH}px;font-family:sans-serif">'
        f'<rect width="{WIDTH}" height="{height}" rx="8" fill="{paper}"/>{"".join(parts)}</svg>'
    )


def describe(points: list[Moment]) -> str:
    """The timeline in words, for the image's alt text."""
    return "Timeline of the ID token: " + ", ".join(
        f"{WHAT[m.name]} {datetime.fromtimestamp(m.at, UTC).strftime('%H:%M:%S')}" for m in points
    )
