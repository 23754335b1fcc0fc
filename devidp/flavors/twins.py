"""Real provider URLs and their emulated twins.

``https://HOST/PATH?QUERY`` is served by the dev provider at
``{idp}/flavors/{flavor}/HOST/PATH?QUERY``; ``{name}`` in a real URL stands for
one host or path segment (a tenant, a self-hosted GitLab's host, a user id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def emulated_url(real_url: str, idp_base: str, flavor: str) -> str:
    """The dev provider's twin of a real provider URL.

    >>> emulated_url("https://api.github.com/user", "http://localhost:8501/idp", "github")
    'http://localhost:8501/idp/flavors/github/api.github.com/user'
    """
    parts = urlsplit(real_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {real_url!r}")
    twin = f"{idp_base.rstrip('/')}/flavors/{flavor}/{parts.netloc}{parts.path}"
    if parts.query:
        twin += f"?{parts.query}"
    if parts.fragment:
        twin += f"#{parts.fragment}"
    return twin


@dataclass(frozen=True)
class UrlPattern:
    """A real URL, possibly with ``{name}`` placeholders, matched against a twin's ``HOST/PATH``."""

    template: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        without_scheme = self.template.split("://", 1)[1]
        pieces = _PLACEHOLDER.split(without_scheme)
        regex = "".join(
            re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>[^/]+)" for i, piece in enumerate(pieces)
        )
        object.__setattr__(self, "_regex", re.compile(regex))

    def match(self, host_and_path: str) -> dict[str, str] | None:
        found = self._regex.fullmatch(host_and_path)
        return found.groupdict() if found else None


def fill(template: str, values: dict[str, str]) -> str:
    """Put matched values into a real URL template; unknown placeholders stay as they are."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
