"""Roles: the names an app's pages are shown to. A person holds a role when the provider says so
(the token's ``roles`` claim, or the claim at ``roles_claim``: Entra's app roles, Keycloak's
``realm_access.roles``), or when ``[auth.roles]`` in the secrets gives it to them::

    [auth.roles]
    admin = ["alice@example.com", "group:admins"]
    staff = ["@example.com"]

Each entry is one of: an email (the person's verified email, case-insensitive), ``@domain`` (a
verified email at that domain; for Google, in that domain's Workspace, as ``allowed_domains``),
or ``group:<name>`` (that group in the provider's ``groups_claim``). Emails count only as the
access rules count them (``access.email_refusal``): unverified or unproven, never.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .access import Person, claim_values, email_refusal, hosted_domain_refusal
from .config_keys import ROLES_TABLE
from .errors import ConfigError
from .rules import AccessRules

WHERE = f"[auth.{ROLES_TABLE}]"


@dataclass(frozen=True)
class RoleEntry:
    """Who one entry of ``[auth.roles]`` names."""

    kind: Literal["email", "domain", "group"]
    value: str


RoleMap = Mapping[str, tuple[RoleEntry, ...]]


def parse_roles(table: object) -> dict[str, tuple[RoleEntry, ...]]:
    """``[auth.roles]``: each role a list of entries; ``ConfigError`` names a bad one."""
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError(f'{WHERE} must be a table of roles, like admin = ["group:admins"].')
    roles: dict[str, tuple[RoleEntry, ...]] = {}
    for role, entries in table.items():
        if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip() for e in entries):
            raise ConfigError(
                f"{WHERE} `{role}` must be a list of who has the role, like {role} = "
                '["alice@example.com", "@example.com", "group:admins"] ([auth.roles] is the role '
                "table: no provider can be named roles)."
            )
        roles[str(role)] = tuple(_entry(str(role), e.strip()) for e in entries)
    return roles


def _entry(role: str, text: str) -> RoleEntry:
    if text.startswith("group:") and text[len("group:") :].strip():
        return RoleEntry("group", text[len("group:") :].strip())
    if text.startswith("@") and "." in text and text.count("@") == 1:
        return RoleEntry("domain", text[1:].lower())
    if text.count("@") == 1 and not text.endswith("@") and ":" not in text:
        return RoleEntry("email", text.lower())
    raise ConfigError(f'{WHERE} `{role}` holds {text!r}: an entry is an email, "@domain" or "group:<name>".')


def roles_of(
    role_map: RoleMap, rules: AccessRules, person: Person, *, family: str, label: str
) -> tuple[str, ...]:
    """The person's roles, sorted: the provider's (``roles_claim``) and ``[auth.roles]``'s."""
    held = set(claim_values(person.claims, rules.roles_claim) or ())
    groups = set(claim_values(person.claims, rules.groups_claim) or ())
    vouched = email_refusal(person, family, label) is None
    email = str(person.email or "").strip().lower()
    for role, entries in role_map.items():
        for entry in entries:
            if (
                (entry.kind == "group" and entry.value in groups)
                or (vouched and entry.kind == "email" and email == entry.value)
                or (
                    vouched
                    and entry.kind == "domain"
                    and email.rpartition("@")[2] == entry.value
                    and hosted_domain_refusal(person, (entry.value,), family) is None
                )
            ):
                held.add(role)
                break
    return tuple(sorted(held))
