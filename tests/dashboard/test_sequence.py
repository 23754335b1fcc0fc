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
    """3 (redirect) + 2 (callback) + 2 (http) + 1 (back to the page) arrows, 2 notes."""
    svg = sequence_svg(STEPS)
    assert svg.count("<line") == 3 + 8  # three lifelines, eight arrows
    assert svg.count("<rect") == 1 + 2  # the paper, two notes
    assert "POST …/token  (Token request)" in svg
    assert "✓ state matched" in svg and "✗ aud &lt;is&gt; wrong" in svg  # escaped


def test_the_ink_follows_the_theme_and_the_image_embeds_the_svg():
    """Ink and paper are the diagram's own; the <img> carries the SVG as a data URI."""
    svg = sequence_svg(STEPS, ink="#e5e7eb", paper="#111111")
    assert "currentColor" not in svg and "#e5e7eb" in svg and 'fill="#111111"' in svg
    image = as_image(svg)
    assert b64decode(image.split("base64,")[1].split('"')[0]).decode() == svg
