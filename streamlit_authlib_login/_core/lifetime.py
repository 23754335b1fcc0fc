"""How long a session lives, as configured: ``session_idle_timeout`` and ``session_max_age``.

    [auth]
    session_idle_timeout = "30m"   # ends after this long without a page, refresh or request
    session_max_age = "8h"         # ends this long after the login, however active

    [auth.keycloak]
    session_max_age = "refresh"    # ends when this provider's grant to the app does

A duration is a string of whole numbers with units, largest first: ``"90s"``, ``"30m"``,
``"8h"``, ``"7d"``, ``"1h30m"``. Both keys hold for every provider in ``[auth]``; the same key in
a provider's table replaces it there (as the access rules do, ``rules.py``). Unset, a session
ends after 8 hours idle or 7 days in all.

``session_max_age = "refresh"`` ties the session to the provider's grant: it ends when the
refresh token expires, when the provider states that lifetime (Keycloak's ``refresh_expires_in``;
``refresh_token_expires_in`` from GitHub Apps, LinkedIn, Kakao, and Microsoft where it sends
it), renewed at each refresh; without a refresh token, when the access token expires
(``expires_in``: nothing can renew it); and at the first refresh the provider refuses with
``invalid_grant`` (RFC 6749 §5.2: the refresh token expired or was revoked). Never later than
``GRANT_CEILING`` after the login: the session cookie needs a ``Max-Age``, and providers that
state no lifetime (Google, Microsoft's web apps) keep refresh tokens for months. ``sessions.py``
applies all of it; this module only reads the keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigError

IDLE = "session_idle_timeout"
MAX_AGE = "session_max_age"
LIFETIME_KEYS = frozenset({IDLE, MAX_AGE})
GRANT = "refresh"  # session_max_age = "refresh": the provider's grant decides

DEFAULT_IDLE = 8 * 3600
DEFAULT_MAX_AGE = 7 * 24 * 3600
# A session tied to the grant ends 30 days after its login at the latest: st.login's own
# cookie lifetime, which its users know.
GRANT_CEILING = 30 * 24 * 3600
MINIMUM = 60  # shorter would end sessions between two reruns of a page someone is reading
# Browsers cut a cookie's Max-Age to 400 days (draft-ietf-httpbis-rfc6265bis §5.5): a longer
# session would outlive its cookie.
MAXIMUM = 400 * 24 * 3600

UNITS = {"d": 24 * 3600, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
EXAMPLES = '"30m", "8h", "7d" or "1h30m" (units d, h, m, s, largest first)'


@dataclass(frozen=True, kw_only=True)
class Lifetime:
    """One provider's session lifetime, in seconds: ``idle`` without use, ``max_age`` in all.
    With ``ends_with_grant`` (``session_max_age = "refresh"``), ``max_age`` is ``GRANT_CEILING``
    and the grant's own end (``sessions.Tokens.grant_ends_at``) comes first when it is known."""

    idle: int = DEFAULT_IDLE
    max_age: int = DEFAULT_MAX_AGE
    ends_with_grant: bool = False


def format_duration(seconds: int) -> str:
    """``seconds`` as the settings write it: 5400 is "1h30m"."""
    parts = []
    for unit, size in UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def parse_duration(where: str, key: str, value: object, *, also: str = "") -> int:
    """A duration in seconds, between ``MINIMUM`` and ``MAXIMUM``; ``ConfigError`` names the
    table and key and says what to write (``also``: what else the key takes, for the message)."""
    if not isinstance(value, str):
        # A bare number could mean seconds or minutes: the unit is always written.
        shown = (
            f'like "{format_duration(value)}" if you meant {value} seconds'
            if type(value) is int and value > 0
            else f"like {EXAMPLES}{also}"
        )
        raise ConfigError(
            f"{where} `{key}` is {value!r}: write a duration as a string with its unit, {shown}."
        )
    found = _DURATION.fullmatch(value.strip())
    written = f'"{value}"'  # as the secrets file has it
    if not value.strip() or found is None:
        raise ConfigError(f"{where} `{key}` is {written}, not a duration: write one like {EXAMPLES}{also}.")
    seconds = sum(int(n) * size for n, size in zip(found.groups(), UNITS.values(), strict=True) if n)
    if seconds < MINIMUM:
        raise ConfigError(
            f"{where} `{key}` is {written}, under a minute: sessions would end between two reruns "
            'of a page. Write "1m" or more.'
        )
    if seconds > MAXIMUM:
        raise ConfigError(
            f"{where} `{key}` is {written}, over 400 days: browsers drop a cookie after 400 days "
            'whatever it asks. Write "400d" or less.'
        )
    return seconds


def parse_lifetime(where: str, table: Mapping[str, object]) -> dict[str, int | str]:
    """The lifetime keys ``table`` holds, each checked alone: seconds, or ``"refresh"``."""
    found: dict[str, int | str] = {}
    if IDLE in table:
        if table[IDLE] == GRANT:
            raise ConfigError(
                f'{where} `{IDLE}` cannot be "refresh": only `{MAX_AGE}` can follow the provider\'s '
                f"refresh token. Write a duration like {EXAMPLES}."
            )
        found[IDLE] = parse_duration(where, IDLE, table[IDLE])
    if MAX_AGE in table:
        value = table[MAX_AGE]
        also = ', or "refresh" to end with the provider\'s refresh token'
        found[MAX_AGE] = GRANT if value == GRANT else parse_duration(where, MAX_AGE, value, also=also)
    return found


def lifetime_for(where: str, common: Mapping[str, int | str], own: Mapping[str, int | str]) -> Lifetime:
    """A provider's lifetime: ``common`` ([auth]'s keys) with ``own`` (its table's, ``where``)
    replacing them. An idle timeout inherited from ``[auth]`` or the default is cut to a
    shorter max age; one written in the same table as a shorter max age is a ``ConfigError``,
    since it could never take effect."""
    merged = {**common, **own}
    max_age = merged.get(MAX_AGE, DEFAULT_MAX_AGE)
    ends_with_grant = max_age == GRANT
    ceiling = GRANT_CEILING if ends_with_grant else int(max_age)
    idle = int(merged.get(IDLE, DEFAULT_IDLE))
    if idle > ceiling and IDLE in own and MAX_AGE in own:
        limit = (
            "the 30 days a session tied to the refresh token lasts at most"
            if ends_with_grant
            else f'`{MAX_AGE}` "{format_duration(ceiling)}"'
        )
        raise ConfigError(
            f'{where} `{IDLE}` "{format_duration(idle)}" is longer than {limit}: a session ends at its '
            f'max age, so it is never idle that long. Write `{IDLE}` = "{format_duration(ceiling)}" or '
            "less, or leave it out."
        )
    return Lifetime(idle=min(idle, ceiling), max_age=ceiling, ends_with_grant=ends_with_grant)
