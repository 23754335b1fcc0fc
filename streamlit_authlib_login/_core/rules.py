"""Who may come in, as configured: the allow-list rules of ``[auth]`` and ``[auth.<name>]``.

    allowed_emails   a verified email, one of these (case-insensitive)
    allowed_domains  a verified email at one of these domains (Google: the Workspace's too)
    allowed_groups   one of these in the claim at ``groups_claim`` (default ``groups``)
    allowed_orgs     GitHub only: a member of one of these organizations
    allowed_teams    GitHub only: a member of one of these teams, ``<org>/<team-slug>``
    allowed_tenants  Microsoft only: an account of one of these tenants (the ``tid`` claim)

A rule in ``[auth]`` holds for every provider; one in ``[auth.<name>]`` replaces it there. All
rules of a provider must hold (AND); the values of one rule are alternatives (OR); a provider
without rules admits anyone with an account there. ``access.py`` decides for one person,
``admission.py`` enforces it at login and at each refresh.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigError

# In the order they are checked: the claims first, the rules that cost API calls last.
RULES = (
    "allowed_tenants",
    "allowed_emails",
    "allowed_domains",
    "allowed_groups",
    "allowed_orgs",
    "allowed_teams",
)
GITHUB_RULES = ("allowed_orgs", "allowed_teams")
PROVIDER_ONLY = {"allowed_orgs": "github", "allowed_teams": "github", "allowed_tenants": "microsoft"}
CLAIM_KEYS = ("groups_claim", "roles_claim")
FAMILIES = {"github": ("GitHub", "GitHub's API"), "microsoft": ("Microsoft", "Microsoft's `tid` claim")}
GITHUB_ORG_SCOPES = frozenset({"read:org", "write:org", "admin:org"})  # write and admin imply read
_TENANT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, kw_only=True)
class AccessRules:
    """One provider's rules, merged from ``[auth]`` and its own table; values normalized
    (emails, domains, orgs, teams and tenants lower-case; groups as written)."""

    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups_claim: str = "groups"
    roles_claim: str = "roles"

    def __bool__(self) -> bool:
        return bool(self.allowed)

    def without(self, rules: tuple[str, ...]) -> AccessRules:
        kept = {k: v for k, v in self.allowed.items() if k not in rules}
        return AccessRules(allowed=kept, groups_claim=self.groups_claim, roles_claim=self.roles_claim)


def family_of(preset_name: str, metadata_url: str) -> str:
    """Which provider's quirks apply: ``google``, ``github``, ``microsoft`` (the preset, or
    Entra's discovery host under the generic preset), or "" for any other."""
    if preset_name in ("google", "github", "microsoft"):
        return preset_name
    return "microsoft" if urlsplit(metadata_url).hostname == "login.microsoftonline.com" else ""


def parse_rules(where: str, table: Mapping[str, object]) -> dict[str, object]:
    """The rule keys of one table, checked and normalized; ``ConfigError`` names a bad one."""
    found: dict[str, object] = {}
    for key in CLAIM_KEYS:
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f'{where} `{key}` must be a claim name or dotted path, like "groups".')
            found[key] = value.strip()
    for key in RULES:
        if key in table:
            found[key] = _values(where, key, table[key])
    return found


def _values(where: str, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f'{where} `{key}` must be a list of strings, like {key} = ["..."].')
    if not value:
        raise ConfigError(
            f"{where} `{key}` is empty, which would admit nobody; leave it out to admit anyone."
        )
    values = [v.strip() if key == "allowed_groups" else v.strip().lower() for v in value]
    for v in values:
        if key == "allowed_emails" and (v.count("@") != 1 or v.startswith("@") or v.endswith("@")):
            raise ConfigError(f"{where} `allowed_emails` holds {v!r}, which is not an email address.")
        if key == "allowed_domains" and ("@" in v or "." not in v):
            raise ConfigError(
                f"{where} `allowed_domains` holds {v!r}: write the domain alone, like example.com."
            )
        if key == "allowed_teams" and (v.count("/") != 1 or not all(v.split("/"))):
            raise ConfigError(
                f"{where} `allowed_teams` holds {v!r}: a team is `org/team-slug`, like my-org/admins."
            )
        if key == "allowed_orgs" and "/" in v:
            raise ConfigError(f"{where} `allowed_orgs` holds {v!r}: an organization's login has no `/`.")
        if key == "allowed_tenants" and not _TENANT.fullmatch(v):
            raise ConfigError(
                f"{where} `allowed_tenants` holds {v!r}: a tenant is its ID (a GUID, the `tid` claim), "
                "not a domain name."
            )
    return tuple(dict.fromkeys(values))


def rules_for(
    name: str, label: str, family: str, scope: str, common: Mapping[str, object], own: Mapping[str, object]
) -> AccessRules:
    """A provider's rules: ``common`` ([auth]'s) with ``own`` ([auth.<name>]'s) replacing keys.
    A rule its provider cannot answer, or one whose scope is missing, is a ``ConfigError``."""
    merged = {**common, **own}
    for key, only in PROVIDER_ONLY.items():
        if key in merged and family != only:
            who, source = FAMILIES[only]
            what = f"a {who}-only rule (only {source} answers it), and {name!r} ({label}) is not {who}"
            raise ConfigError(
                f"[auth.{name}] `{key}` is {what}."
                if key in own
                else f"[auth] `{key}` holds for every provider, but it is {what}: move it to the "
                f"{who} provider's own table, [auth.<name>]."
            )
    wants_orgs = family == "github" and any(k in merged for k in GITHUB_RULES)
    if wants_orgs and not GITHUB_ORG_SCOPES & set(re.split(r"[ ,]+", scope)):
        raise ConfigError(
            f"[auth.{name}] `allowed_orgs`/`allowed_teams` need the `read:org` scope: GitHub lists a "
            "person's organizations and teams only to a token with it. Add it: client_kwargs = "
            '{ scope = "read:user user:email read:org" }.'
        )
    allowed = {k: v for k, v in merged.items() if k in RULES and isinstance(v, tuple)}
    return AccessRules(
        allowed=allowed,
        groups_claim=str(merged.get("groups_claim", "groups")),
        roles_claim=str(merged.get("roles_claim", "roles")),
    )


def startup_lines(providers: Iterable[tuple[str, AccessRules]], app_keys: Iterable[str]) -> list[str]:
    """The start-up log's lines: one per provider, who it admits (rule names and sizes, not
    their values); one naming the keys of [auth] left to the app, if there are any."""
    lines = []
    for name, rules in providers:
        if not rules:
            lines.append(f"access: {name} admits anyone with an account there (no allowed_* rules)")
        else:
            held = ", ".join(f"{k} ({len(v)})" for k, v in rules.allowed.items())
            lines.append(f"access: {name} admits only people who pass all of: {held}")
    if left := sorted(app_keys):
        lines.append(
            f"settings: [auth] keys left to the app (this login module does not use them): {', '.join(left)}"
        )
    return lines
