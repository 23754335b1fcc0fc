"""Authlib's registration keys in a provider table: where the browser, the code and the profile
go when the table says so, instead of the discovery document's or the preset's endpoints.

    [auth.strava]                   # any OAuth 2.0 provider, known only by its endpoints
    client_id = "..."
    client_secret = "..."
    authorize_url = "https://www.strava.com/oauth/authorize"
    access_token_url = "https://www.strava.com/oauth/token"  # `token_url`, the blog post's spelling, too
    api_base_url = "https://www.strava.com/api/v3/"
    userinfo_endpoint = "athlete"   # relative: joined to api_base_url (urljoin, as Authlib does)
    profile_map = { id = "id", name = "firstname", username = "username", avatar = "profile" }

In a preset's or an OpenID Connect provider's table the same keys replace its endpoints one by
one, and the start-up log names each that differs from the preset's current one. ``jwks_uri``
replaces only a discovery document's: without one there is no issuer to check an ID token
against (OIDC Core §3.1.3.7 (2)), so such a provider may not ask for one (`openid`).

Each ``parse_*``/``refuse_*`` function here raises at most one ``ConfigError`` naming the table,
the key, what is wrong and what to write instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from .config_keys import PKCE_OFF, PROFILE_MAP, TOKEN_URL_ALIAS, is_loopback_url, near_miss
from .errors import ConfigError
from .presets import GENERIC, Preset

# The normalized profile's fields (profile.py), the keys a profile_map may have.
PROFILE_FIELDS = ("id", "name", "username", "email", "email_verified", "avatar", "locale", "groups")
_EXAMPLES = {
    "authorize_url": "https://provider.example/oauth/authorize",
    "access_token_url": "https://provider.example/oauth/token",
    "api_base_url": "https://api.provider.example/v1/",
    "userinfo_endpoint": "https://api.provider.example/v1/me",
    "jwks_uri": "https://provider.example/.well-known/jwks.json",
}
# RFC 6749 §5.1's fields of a token response, and OIDC's id_token: what is not the profile in it.
TOKEN_FIELDS = frozenset(
    {"access_token", "token_type", "expires_in", "expires_at", "refresh_token", "scope", "id_token"}
)


@dataclass(frozen=True, kw_only=True)
class Endpoints:
    """The endpoints a provider table names itself (Authlib's keys); None: not given there."""

    authorize_url: str | None = None
    access_token_url: str | None = None
    api_base_url: str | None = None
    userinfo_endpoint: str | None = None  # as written: absolute, or relative to api_base_url
    jwks_uri: str | None = None

    @property
    def userinfo_url(self) -> str | None:
        """``userinfo_endpoint``, joined to ``api_base_url`` when it is relative (as Authlib's
        ``api_base_url`` does for every relative URL: ``urljoin``)."""
        if not self.userinfo_endpoint:
            return None
        if self.api_base_url and not urlsplit(self.userinfo_endpoint).scheme:
            return urljoin(self.api_base_url, self.userinfo_endpoint)
        return self.userinfo_endpoint

    def as_metadata(self) -> dict[str, str]:
        """The given endpoints under their discovery names (OIDC Discovery §3, RFC 8414 §2)."""
        named = {
            "authorization_endpoint": self.authorize_url,
            "token_endpoint": self.access_token_url,
            "userinfo_endpoint": self.userinfo_url,
            "jwks_uri": self.jwks_uri,
        }
        return {key: value for key, value in named.items() if value}

    def __bool__(self) -> bool:
        return any((self.authorize_url, self.access_token_url, self.userinfo_endpoint, self.jwks_uri))


def parse_url(where: str, key: str, value: object) -> str | None:
    """An absolute endpoint URL, https unless on loopback; None when the key is absent."""
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{where} `{key}` must be an absolute https:// URL, like {_EXAMPLES[key]!r} (got {value!r})."
        )
    if parts.scheme != "https" and not is_loopback_url(str(value)):
        raise ConfigError(
            f"{where} `{key}` must be https:// (got {value!r}): only localhost may use http, since "
            "codes, tokens and the client secret travel there."
        )
    return str(value)


def parse_token_url(where: str, table: Mapping[str, object]) -> tuple[str | None, bool]:
    """``access_token_url``, or the blog post's ``token_url`` for it: (the URL, whether it was
    spelt ``token_url``, which the start-up log then says once)."""
    if TOKEN_URL_ALIAS in table and "access_token_url" in table:
        raise ConfigError(
            f"{where} has both `{TOKEN_URL_ALIAS}` and `access_token_url`, one setting twice "
            f"(`{TOKEN_URL_ALIAS}` is the blog post's spelling of Authlib's `access_token_url`): keep "
            "`access_token_url` only."
        )
    if TOKEN_URL_ALIAS in table:
        return parse_url(where, "access_token_url", table[TOKEN_URL_ALIAS]), True
    return parse_url(where, "access_token_url", table.get("access_token_url")), False


def parse_userinfo(where: str, value: object, api_base_url: str | None) -> str | None:
    """``userinfo_endpoint``: an absolute URL, or a path relative to ``api_base_url``."""
    if value is None or (isinstance(value, str) and value and urlsplit(value).scheme):
        return parse_url(where, "userinfo_endpoint", value)
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{where} `userinfo_endpoint` must be a URL, or a path relative to `api_base_url` "
            f"(got {value!r})."
        )
    if api_base_url is None:
        raise ConfigError(
            f"{where} `userinfo_endpoint` {value!r} is relative: set `api_base_url` too (it is joined "
            f"to it, as Authlib does), or write the whole URL, like {_EXAMPLES['userinfo_endpoint']!r}."
        )
    return value


def refuse_jwks_without_discovery(where: str, jwks_uri: str | None, *, discovery: bool) -> None:
    if jwks_uri and not discovery:
        raise ConfigError(
            f"{where} `jwks_uri` checks ID tokens, and an ID token is checked against its issuer, "
            "which only a discovery document names here (OIDC Core §3.1.3.7): add "
            "`server_metadata_url`, or leave `jwks_uri` out for an OAuth 2.0 provider."
        )


def _is_path(path: str) -> bool:
    parts = [part for alternative in path.split("|") for part in alternative.split(".")]
    return all(part and part.strip() == part for part in parts)


def parse_profile_map(where: str, value: object) -> dict[str, str]:
    """``profile_map``: normalized profile field → dotted path into the provider's JSON
    (``"athlete.id"``; ``"a|b"``: the first present), as the presets' own mappings are written."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(
            f'{where} `{PROFILE_MAP}` must be a table, like {{ id = "id", name = "firstname" }}, from '
            f"the profile's fields ({', '.join(PROFILE_FIELDS)}) to where they are in the provider's JSON."
        )
    mapping: dict[str, str] = {}
    for field, path in value.items():
        if field not in PROFILE_FIELDS:
            meant = near_miss(str(field), PROFILE_FIELDS)
            hint = f"did you mean `{meant}`?" if meant else f"the fields are {', '.join(PROFILE_FIELDS)}."
            raise ConfigError(f"{where} {PROFILE_MAP} `{field}` is not a profile field; {hint}")
        if not isinstance(path, str) or not _is_path(path):
            raise ConfigError(
                f"{where} {PROFILE_MAP} `{field}` must be a dotted path into the provider's JSON, like "
                f'"athlete.id" (alternatives with |, like "name|login"); got {path!r}.'
            )
        mapping[str(field)] = path
    return mapping


def refuse_missing_endpoint(where: str, key: str) -> None:
    """An OAuth 2.0 provider with no discovery document and no preset needs both endpoints."""
    raise ConfigError(
        f"{where} needs `{key}` too, like {_EXAMPLES[key]!r}: an OAuth 2.0 provider without a "
        "discovery document (`server_metadata_url`) or a `preset` is known only by its endpoints."
    )


def refuse_missing_profile(where: str, userinfo_given: bool, id_mapped: bool) -> None:
    """Where the profile comes from: a profile API, or the token response read by ``profile_map``."""
    if not userinfo_given and not id_mapped:
        raise ConfigError(
            f"{where} needs `userinfo_endpoint` (the profile API: a URL, or a path relative to "
            f"`api_base_url`), or a `{PROFILE_MAP}` with an `id` read from the token response itself "
            '(Strava\'s `athlete`: profile_map = { id = "athlete.id", … }).'
        )


def refuse_openid_without_discovery(where: str, scope: str) -> None:
    if "openid" in scope.split():
        raise ConfigError(
            f"{where} asks for the `openid` scope, which brings an ID token, but without a discovery "
            "document (`server_metadata_url`) there is no issuer and no keys to check one against "
            "(OIDC Core §3.1.3.7): add `server_metadata_url`, or take `openid` out of client_kwargs' scope."
        )


def with_endpoints(preset: Preset, endpoints: Endpoints, profile_map: Mapping[str, str]) -> Preset:
    """The preset as this table has it: its endpoints replaced by the table's, its profile
    mapping extended by ``profile_map``; the preset itself when the table changes neither."""
    if not endpoints and not profile_map:
        return preset
    return replace(
        preset,
        authorize_url=endpoints.authorize_url or preset.authorize_url,
        token_url=endpoints.access_token_url or preset.token_url,
        profile_url=endpoints.userinfo_url or preset.profile_url,
        profile={**preset.profile, **profile_map},
    )


def startup_notes(
    where: str, preset: Preset, endpoints: Endpoints, *, aliased: bool, pkce: bool
) -> tuple[str, ...]:
    """The start-up log's lines for one table (``preset`` as the preset has it, before the table):
    the ``token_url`` spelling, the endpoints that differ from the preset's current ones (or, for
    a provider known only by its endpoints, all of them), and PKCE switched off."""
    notes = []
    if aliased:
        notes.append(
            f"settings: {where} `{TOKEN_URL_ALIAS}` is read as `access_token_url`, Authlib's name for "
            f"the token endpoint (`{TOKEN_URL_ALIAS}` is the blog post's spelling); rename it to silence "
            "this line"
        )
    if preset.name in GENERIC and preset.kind == "oauth2":
        profile = endpoints.userinfo_url or "the token response"
        notes.append(
            f"endpoints: {where} is an OAuth 2.0 provider known by its endpoints: authorize "
            f"{endpoints.authorize_url}, token {endpoints.access_token_url}, profile {profile}"
        )
    elif changed := _changed(preset, endpoints):
        owner = "its discovery document's" if preset.name in GENERIC else f"{preset.label}'s current"
        line = f"endpoints: {where} replaces {owner} endpoints: {'; '.join(changed)}"
        if preset.kind == "oidc":
            line += "; ID tokens are still checked against the discovery document's issuer"
            line += " and the given jwks_uri" if endpoints.jwks_uri else " and keys"
        notes.append(line)
    if endpoints.api_base_url and endpoints.userinfo_url in (None, endpoints.userinfo_endpoint):
        notes.append(
            f"settings: {where} `api_base_url` is not used: the login reads it only to complete a "
            "relative `userinfo_endpoint`, and there is none"
        )
    if not pkce:
        notes.append(
            f'settings: {where} PKCE is off (client_kwargs code_challenge_method = "{PKCE_OFF}"): keep it '
            "so only for a provider that rejects PKCE (RFC 9700 §2.1.1)"
        )
    return tuple(notes)


def _changed(preset: Preset, endpoints: Endpoints) -> list[str]:
    discovered = "from its discovery document"
    current = {
        "authorize_url": (endpoints.authorize_url, preset.authorize_url or discovered),
        "access_token_url": (endpoints.access_token_url, preset.token_url or discovered),
        "userinfo_endpoint": (endpoints.userinfo_url, preset.profile_url or discovered),
        "jwks_uri": (endpoints.jwks_uri, discovered),
    }
    if preset.kind == "oidc":  # the discovery document is what the login would use, whatever the preset says
        current["userinfo_endpoint"] = (endpoints.userinfo_url, discovered)
    return [
        f"`{key}` {given} (current: {now})" for key, (given, now) in current.items() if given and given != now
    ]


def token_response_profile(tokens: Mapping[str, object]) -> dict[str, object]:
    """What a token response says besides the tokens: the profile of a provider that sends the
    person along (Strava's ``athlete``), for a provider with no profile API configured."""
    return {key: value for key, value in tokens.items() if key not in TOKEN_FIELDS}
