"""The login as a sequence diagram (browser, app, provider), drawn as SVG."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Sequence
from html import escape
from urllib.parse import urlsplit

from streamlit_authlib_login.teaching import Step

LANES = {"Browser": 90, "App": 350, "Provider": 610}
ROW = 34
TOP = 56


def _arrow(y: int, source: str, target: str, label: str, dashed: bool = False) -> str:
    x1, x2 = LANES[source], LANES[target]
    head = -8 if x2 > x1 else 8
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    mid = (x1 + x2) / 2
    return (
        f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="currentColor"{dash}/>'
        f'<polygon points="{x2},{y} {x2 + head},{y - 4} {x2 + head},{y + 4}" fill="currentColor"/>'
        f'<text x="{mid}" y="{y - 6}" text-anchor="middle" font-size="12" fill="currentColor">'
        f"{escape(label[:64])}</text>"
    )


def _note(y: int, text: str, passed: bool | None) -> str:
    color = "#15803d" if passed else "#b91c1c" if passed is False else "#6b7280"
    mark = "✓" if passed else "✗" if passed is False else "•"
    return (
        f'<rect x="{LANES["App"] - 190}" y="{y - 14}" width="380" height="22" rx="5" '
        f'fill="{color}" fill-opacity="0.12" stroke="{color}"/>'
        f'<text x="{LANES["App"]}" y="{y + 1}" text-anchor="middle" font-size="12" fill="{color}">'
        f"{mark} {escape(text[:60])}</text>"
    )


Row = tuple[str, tuple[object, ...]]


LOGIN_CLICKED = "GET /auth/login/… (Log in clicked)"


def _rows(steps: Sequence[Step], start: str) -> list[Row]:
    rows: list[Row] = []
    if any(step.kind == "redirect" for step in steps):
        # The browser asks first: the app's 302 answers the request a click on "Log in" sent.
        rows.append(("arrow", ("Browser", "App", start, False)))
    for step in steps:
        kind, title = step.kind, step.title
        if kind == "redirect":
            rows.append(("arrow", ("App", "Browser", "302 → provider's /authorize", True)))
            rows.append(("arrow", ("Browser", "Provider", "GET /authorize (state, nonce, PKCE)", False)))
            rows.append(("arrow", ("Provider", "Browser", "login page · consent", True)))
        elif kind == "callback":
            rows.append(("arrow", ("Provider", "Browser", "302 → app's callback (code, state, iss)", True)))
            rows.append(("arrow", ("Browser", "App", "GET /auth/callback", False)))
        elif kind == "http":
            path = urlsplit(step.url or "").path.rsplit("/", 1)[-1] or "/"
            rows.append(("arrow", ("App", "Provider", f"{step.method} …/{path}  ({title})", False)))
            reply = f"{step.status} · {step.duration_ms} ms"
            rows.append(("arrow", ("Provider", "App", reply, True)))
        elif kind == "check":
            rows.append(("note", (title, step.passed)))
    return rows


def sequence_svg(
    steps: Sequence[Step],
    *,
    logged_in: bool = True,
    start: str = LOGIN_CLICKED,
    ink: str = "#1f2937",
    paper: str = "#ffffff",
) -> str:
    """An SVG of the exchanges in ``steps`` (a login trace's steps), top to bottom, from
    ``start``, the browser's request that began the login.

    ``ink`` colours lines and text, on ``paper``: the diagram brings its own background,
    so it reads the same in light and dark themes.
    """
    rows = _rows(steps, start)
    if logged_in:
        rows.append(("arrow", ("App", "Browser", "302 → next page + session cookie", True)))
    height = TOP + ROW * (len(rows) + 1)
    body = []
    for index, (kind, args) in enumerate(rows):
        y = TOP + ROW * (index + 1)
        body.append(_arrow(y, *args) if kind == "arrow" else _note(y, *args))  # type: ignore[arg-type]
    lanes = "".join(
        f'<text x="{x}" y="24" text-anchor="middle" font-weight="bold" font-size="14" '
        f'fill="currentColor">{name}</text>'
        f'<line x1="{x}" y1="34" x2="{x}" y2="{height - 10}" stroke="currentColor" stroke-opacity="0.35"/>'
        for name, x in LANES.items()
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 700 {height}" width="100%" '
        f'role="img" aria-label="Sequence diagram of the login" '
        f'style="max-width:760px;font-family:sans-serif">'
        f'<rect width="700" height="{height}" rx="8" fill="{paper}"/>{lanes}{"".join(body)}</svg>'
    ).replace("currentColor", ink)


def as_image(svg: str) -> str:
    """An <img> with the SVG inline as a data URI: renders anywhere HTML does."""
    data = b64encode(svg.encode()).decode()
    return f'<img alt="Sequence diagram of the login" src="data:image/svg+xml;base64,{data}">'
