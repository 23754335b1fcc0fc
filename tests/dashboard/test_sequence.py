"""The sequence diagram draws one arrow per exchange and one note per check."""

from base64 import b64decode

from dashboard.sequence import as_image, sequence_svg
from streamlit_authlib_login._core.trace import Step

STEPS = [
    Step(kind="redirect", title="Authorization request", at=0),
    Step(kind="callback", title="Callback", at=0),
    Step(kind="check", title="state matched", passed=True, at=0),
    Step(kind="http", title="Token request", method="POST", url="http://x/idp/token", status=200,
         duration_ms=2.5, at=0),
    Step(kind="check", title="aud <is> wrong", passed=False, at=0),
]  # fmt: skip


def test_each_exchange_is_an_arrow_and_each_check_a_note():
    """1 (the click) + 3 (redirect) + 2 (callback) + 2 (http) + 1 (back to the page) arrows, 2 notes."""
    svg = sequence_svg(STEPS)
    assert svg.count("<line") == 3 + 9  # three lifelines, nine arrows
    assert svg.count("<rect") == 1 + 2  # the paper, two notes
    assert "POST …/token  (Token request)" in svg
    assert "✓ state matched" in svg and "✗ aud &lt;is&gt; wrong" in svg  # escaped


def test_the_ink_follows_the_theme_and_the_image_embeds_the_svg():
    """Ink and paper are the diagram's own; the <img> carries the SVG as a data URI."""
    svg = sequence_svg(STEPS, ink="#e5e7eb", paper="#111111")
    assert "currentColor" not in svg and "#e5e7eb" in svg and 'fill="#111111"' in svg
    image = as_image(svg)
    assert b64decode(image.split("base64,")[1].split('"')[0]).decode() == svg


def test_the_diagram_starts_with_the_browsers_request_not_with_a_302():
    """A 302 answers a request: the first arrow is the browser's, to the app, naming what began the
    login (issue 26); a trace with no redirect (nothing was sent) draws no such arrow."""
    svg = sequence_svg(STEPS, start="GET /auth/login/dev (Log in clicked)")
    first_arrow = svg.split("<line", 4)[4]  # after the three lifelines
    assert (
        'x1="90"' in first_arrow.split("/>")[0] and 'x2="350"' in first_arrow.split("/>")[0]
    )  # Browser → App
    assert svg.index("GET /auth/login/dev (Log in clicked)") < svg.index("302 → provider")
    assert "Log in clicked" not in sequence_svg(STEPS[2:])
