"""Values a provider (or a pasted token) controls, made safe to put on a page.

Claims are data, not markup. Streamlit parses markdown in ``st.markdown``, titles,
captions and alerts alike, so a ``name`` of ``![x](https://tracker.example/x.png)``
would make every visitor's browser load that image, and a backtick in a group would
close the code span around it. Every such value goes through ``text`` or ``code``.
GFM also turns a bare URL, ``www.`` name or email into a link, and Streamlit's renderer
(remark-gfm) finds those in the text *after* the escapes are read, so ``text`` puts an
invisible word joiner where each would begin: the characters shown stay the same.
A ``picture`` is shown only through ``picture_url``: ``st.image`` reads any string
that names a file on this server and sends it to the browser.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# CommonMark §2.4: every ASCII punctuation character may be backslash-escaped, and is then
# literal. That covers markdown's own syntax and Streamlit's (`:red[…]`, `$math$`) alike.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# CommonMark §2.1: a line ending could start a new block (a heading, a list, a fence).
_LINE_ENDINGS = re.compile(r"[\r\n]+")
_BACKTICK_RUNS = re.compile(r"`+")
# GFM autolink literals (GFM spec §6.9, as mdast-util-gfm-autolink-literal finds them in text:
# `https?://`, `www.` and `local@domain`) each need two characters side by side; U+2060 WORD
# JOINER between them is invisible, adds no line break, and is neither `\w` nor punctuation,
# so none matches. A character reference (`&#58;`) would not do: it is decoded before the search.
WORD_JOINER = "\u2060"
_AUTOLINK_SEAMS = re.compile(r"(?i)(?<=http)(?=:)|(?<=https)(?=:)|(?<=www)(?=\.)|(?=@)")
WEB_SCHEMES = frozenset({"https", "http"})
MAX_URL = 2048


def text(value: object) -> str:
    """``value`` as markdown that renders as exactly its characters, on one line, linking nowhere."""
    flat = _AUTOLINK_SEAMS.sub(WORD_JOINER, _LINE_ENDINGS.sub(" ", str(value)))
    return _PUNCTUATION.sub(r"\\\1", flat)


def code(value: object) -> str:
    """``value`` as a markdown code span that no backtick inside it can close.

    CommonMark §6.1: a code span ends only at a backtick run as long as its opening one,
    so the fence is one longer than the longest run inside; the spaces around the value
    (stripped again by the renderer) keep a backtick at either end off the fence.
    """
    flat = _LINE_ENDINGS.sub(" ", str(value))
    fence = "`" * (max((len(run) for run in _BACKTICK_RUNS.findall(flat)), default=0) + 1)
    return f"{fence} {flat} {fence}"


def prose(value: object) -> str:
    """A sentence that marks names as `code` (an error description quoting a provider's words):
    each backtick-delimited part stays a code span, which holds no markup; the rest is ``text``.
    With an odd number of backticks nothing is taken for code."""
    parts = str(value).split("`")
    if len(parts) % 2 == 0:
        return text(value)
    return "".join(code(part) if i % 2 and part else text(part) for i, part in enumerate(parts))


def picture_url(value: object) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host, else None.

    Anything else (a path such as ``/etc/passwd``, ``file:``, ``data:``, a relative or
    scheme-relative reference) is never handed to ``st.image``, which would read a
    file of that name from this server's disk.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in value) or "\\" in value:
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not host:
        return None
    return value
