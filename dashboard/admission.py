"""Who let a person in, in words for the Profile page: a session's ``admitted_by`` (the access
rules that held at the login or the last refresh, " and "-joined; empty when the provider has
none) and its roles. Each line is markdown with every stored value quoted as code
(``untrusted.code``): roles come from the provider's claims."""

from __future__ import annotations

from collections.abc import Sequence

from .untrusted import code, text

NO_RULES = "no rules: anyone with an account at this provider"

# What each rule admits (the README's table, "Who may come in").
RULES: dict[str, str] = {
    "allowed_emails": "a verified email on the app's list",
    "allowed_domains": "a verified email at one of the app's domains (Google: in that domain's Workspace)",
    "allowed_groups": "one of the app's groups in the token's groups claim",
    "allowed_orgs": "a member of one of the app's GitHub organizations",
    "allowed_teams": "a member of one of the app's GitHub teams",
    "allowed_tenants": "an account of one of the app's Microsoft Entra tenants (the tid claim)",
}


def admitted_by_lines(admitted_by: str, provider_label: str) -> list[str]:
    """One markdown line per rule that let the person in, or one saying there are none."""
    if not admitted_by:
        return [f"{NO_RULES.capitalize()} ({text(provider_label)})."]
    return [f"{code(rule)}: {RULES.get(rule, 'a rule of this app')}" for rule in admitted_by.split(" and ")]


def roles_line(roles: Sequence[str]) -> str:
    """The person's roles as code spans, or that they have none."""
    return ", ".join(code(role) for role in roles) if roles else "none"
