"""Provider-controlled values on a page: markdown shown as its characters, pictures only as web URLs."""

from __future__ import annotations

import re
import string

import pytest

from dashboard.untrusted import WORD_JOINER, code, picture_url, prose, text

# Streamlit's own renderer is checked in the browser suite (tests/browser/test_untrusted_text.py).
HOSTILE = [
    "Mallory ![x](http://127.0.0.1:1/x.png) `Markup",
    "ops` ![g](http://127.0.0.1:1/g.png) `ops",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ [link](https://evil.example) <https://evil.example>",
    "# heading\n\n- item\n```\nfence\r\n1. list",
    "$x^2$ :red[colour] :material/home: &amp; \\`",
    "www.evil.example and mallory@example.net",
    "김지우 Þórsdóttir",
    "",
]


def one_line(value: str) -> str:
    return re.sub(r"[\r\n]+", " ", value)


def unescaped(markdown: str) -> str:
    """What CommonMark makes of backslash escapes (§2.4): the character itself; and what a reader
    sees of a word joiner: nothing."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(WORD_JOINER, "")


def test_text_escapes_an_example_exactly() -> None:
    """An image in a name becomes escaped punctuation; letters, digits and spaces stay as they are,
    and a word joiner keeps `http:` from starting an autolink."""
    expected = r"Hi \!\[x\]\(http" + WORD_JOINER + r"\:\/\/h\/x\.png\) \`a\`"
    assert text("Hi ![x](http://h/x.png) `a`") == expected


@pytest.mark.parametrize("value", HOSTILE)
def test_text_escapes_every_punctuation_and_stays_on_one_line(value: str) -> None:
    """Every ASCII punctuation character is escaped, so none can start markup; no line ending is left."""
    escaped = text(value)
    assert "\n" not in escaped and "\r" not in escaped
    for index, char in enumerate(escaped):
        if char in string.punctuation and char != "\\":
            assert escaped[index - 1] == "\\", (escaped, index)
    assert unescaped(escaped) == one_line(value)


@pytest.mark.parametrize(
    ("value", "joined"),
    [
        ("http://evil.example", "http^://evil.example"),
        ("see HTTPS://evil.example/x", "see HTTPS^://evil.example/x"),
        ("www.evil.example and WwW.x.y", "www^.evil.example and WwW^.x.y"),
        ("mallory@example.net", "mallory^@example.net"),
        ("a http://www.b.c/@d", "a http^://www^.b.c/^@d"),
        ("wwwx.example httpx: @", "wwwx.example httpx: ^@"),
    ],
)
def test_text_joins_what_gfm_would_autolink(value: str, joined: str) -> None:
    """GFM's autolink literals (`http://`, `https://`, `www.`, `x@y.z`) are broken by an invisible
    word joiner, so a bare URL or email shows as its characters and links nowhere."""
    assert unescaped(text(value)) == value
    assert re.sub(r"\\(.)", r"\1", text(value)) == joined.replace("^", WORD_JOINER)  # ^: a joiner


@pytest.mark.parametrize("value", HOSTILE)
def test_code_fence_is_longer_than_any_backtick_run_inside(value: str) -> None:
    """CommonMark §6.1: a code span closes only on a run as long as its fence, so none inside can close it."""
    span = code(value)
    fence = re.match(r"`+", span)
    assert fence is not None
    inside = span[len(fence.group()) : -len(fence.group())]
    assert span.endswith(fence.group()) and inside == f" {one_line(value)} "
    assert all(len(run) != len(fence.group()) for run in re.findall(r"`+", inside))
    assert "\n" not in span


@pytest.mark.parametrize(
    "url",
    [
        "https://lh3.googleusercontent.com/a/photo.jpg",
        "http://localhost:8501/idp/avatars/alice.svg",
        "HTTPS://avatars.githubusercontent.com/u/1?v=4",
    ],
)
def test_web_urls_are_pictures(url: str) -> None:
    """An absolute http(s) URL with a host is shown as a picture."""
    assert picture_url(url) == url


@pytest.mark.parametrize(
    "value",
    [
        "/etc/passwd",
        "/some/secret.svg",
        "app.py",
        ".local/cookie_secret",
        "file:///etc/hostname",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "javascript:alert(1)",
        "//evil.example/x.png",
        "https:/etc/passwd",
        "https://",
        "https://[::1/x.png",
        "https://evil.example/x.png\n",
        " https://evil.example/x.png",
        "https://evil.example\\@good.example/x.png",
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "https://example.com/" + "a" * 3000,
        "",
        None,
        42,
        ["https://example.com/x.png"],
    ],
)
def test_anything_else_is_not_a_picture(value: object) -> None:
    """Paths, other schemes, scheme-relative or malformed URLs are never handed to st.image."""
    assert picture_url(value) is None


def test_prose_keeps_our_code_spans_and_makes_the_rest_literal() -> None:
    """An error description: `names` stay code, a provider's markup around them is inert."""
    said = "Provider answered `access_denied`: ![x](http://127.0.0.1:1/x.png) <b>hi</b>"
    shown = prose(said)
    assert "`` access_denied ``" in shown or "` access_denied `" in shown
    assert "![" not in shown and "<b>" not in shown
    assert shown.count("\\!") == 1 and "\\<b\\>" in shown


def test_prose_with_an_odd_backtick_takes_nothing_for_code() -> None:
    assert prose("a ` b") == text("a ` b")
