"""Values a provider (or a pasted token) controls, made safe to put on a page.

Claims are data, not markup. Streamlit parses markdown in ``st.markdown``, titles,
captions and alerts alike, so a ``name`` of ``![x](https://tracker.example/x.png)``
would make every visitor's browser load that image, and a backtick in a group would
close the code span around it. Every such value goes through ``text`` or ``code``.
(Streamlit's GFM still turns a bare URL or email in ``text`` into a link, after the
escapes are read: the link shows its own target and loads nothing; ``code`` avoids even that.)
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
WEB_SCHEMES = frozenset({"https", "http"})
MAX_URL = 2048


def text(value: object) -> str:
    """``value`` as markdown that renders as exactly its characters, on one line."""
    return _PUNCTUATION.sub(r"\\\1", _LINE_ENDINGS.sub(" ", str(value)))


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
