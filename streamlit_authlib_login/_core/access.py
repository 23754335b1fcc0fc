"""Who may come in, decided for one person: ``decide`` checks a provider's rules (``rules.py``)
against what its login says of them (``Person``): pure, so any claims can be tried on it.
``admission.py`` gathers that (GitHub's memberships over its API) and enforces the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .presets import lookup
from .rules import RULES, AccessRules

# What a refused person reads: the rule in words, never its list.
WORDS = {
    "allowed_emails": "This app admits only people whose verified email is on its list of allowed emails.",
    "allowed_domains": "This app admits only people whose verified email is at one of its allowed domains.",
    "allowed_groups": "This app admits only members of its allowed groups.",
    "allowed_orgs": "This app admits only members of its allowed GitHub organizations.",
    "allowed_teams": "This app admits only members of its allowed GitHub teams.",
    "allowed_tenants": "This app admits only accounts of its allowed Microsoft Entra tenants.",
}


@dataclass(frozen=True)
class Memberships:
    """A GitHub account's organizations and teams (``<org>/<team-slug>``), lower-case; ``granted``
    False when the token lacks ``read:org``, so GitHub would not list them."""

    orgs: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    granted: bool = True


@dataclass(frozen=True, kw_only=True)
class Person:
    """What the rules are checked against: the ID token's claims merged with userinfo (the
    normalized profile's email and whether the provider vouches for it), and GitHub's lists."""

    claims: Mapping[str, object]
    email: str | None
    email_verified: bool
    github: Memberships | None = None


@dataclass(frozen=True)
class Decision:
    """Admitted (``refused_by`` empty) by the rules in ``admitted_by`` (none: there are none), or
    refused by one rule, with the reason in words."""

    admitted_by: tuple[str, ...] = ()
    refused_by: str = ""
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return not self.refused_by


def claim_values(claims: Mapping[str, object], path: str) -> list[str] | None:
    """The strings at a claim (``groups``) or dotted path (``realm_access.roles``); a claim
    whose own name has dots (``https://example.com/roles``) is found first. None: absent."""
    value = claims[path] if path in claims else lookup(claims, path)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if isinstance(v, str | int)] if isinstance(value, list) else []


def decide(rules: AccessRules, person: Person, *, family: str, label: str) -> Decision:
    """Every rule, in ``RULES`` order; the first that fails refuses, with its reason."""
    for rule in RULES:
        values = rules.allowed.get(rule)
        if values is None:
            continue
        reason = _refusal(rule, values, rules, person, family, label)
        if reason is not None:
            return Decision(refused_by=rule, reason=f"{WORDS[rule]} {reason}")
    return Decision(admitted_by=tuple(r for r in RULES if r in rules.allowed))


def _refusal(
    rule: str, values: tuple[str, ...], rules: AccessRules, person: Person, family: str, label: str
) -> str | None:
    """Why ``person`` fails ``rule``, or None if they pass it."""
    if rule in ("allowed_emails", "allowed_domains"):
        if (unvouched := email_refusal(person, family, label)) is not None:
            return unvouched
        email = str(person.email).strip().lower()
        if rule == "allowed_emails":
            return None if email in values else "Your verified email is not on it."
        if email.rpartition("@")[2] not in values:
            return "Your verified email is at another domain."
        return hosted_domain_refusal(person, values, family)
    if rule == "allowed_groups":
        return groups_refusal(person.claims, rules.groups_claim, values, label)
    if rule == "allowed_tenants":
        tid = str(person.claims.get("tid", "")).lower()
        if not tid:
            return "The ID token has no `tid` claim, so the account's tenant is unknown."
        return None if tid in values else "Your account belongs to another tenant."
    github = person.github or Memberships(granted=False)
    if not github.granted:
        return (
            "GitHub lists organizations and teams only to an app granted `read:org`, and this login "
            "was not: the app's owner must add `read:org` to its scope."
        )
    held = github.orgs if rule == "allowed_orgs" else github.teams
    if held & set(values):
        return None
    return (
        "Your GitHub account is in none of them (or the organization does not let this app see its "
        "members: GitHub hides organizations that restrict third-party apps)."
    )


def email_refusal(person: Person, family: str, label: str) -> str | None:
    """Why the email cannot be matched at all (missing, or not vouched for), or None."""
    if not person.email:
        return f"{label} gave this app no email for your account."
    if person.email_verified:
        return None
    if family == "microsoft":
        # The "nOAuth" pattern: Entra lets a tenant's admin set any address as a user's email, so
        # an unproven `email` claim lets another tenant's account pose as anyone.
        return (
            "Microsoft does not verify the `email` claim for every tenant, so matching it unproven "
            "would let an account of another tenant claim any address (the nOAuth pattern); without "
            "proof (the `xms_edov` optional claim, or `email_verified`, true) it is never matched."
        )
    return f"{label} does not vouch that your email is verified, so it is not matched."


def hosted_domain_refusal(person: Person, domains: tuple[str, ...], family: str) -> str | None:
    """Google: an email at a domain is a member of that domain's Workspace only with ``hd``.
    Google's OpenID Connect guide (developers.google.com/identity/openid-connect/openid-connect):
    hd is "provided only if the user belongs to a Google Cloud organization", and "be sure to
    validate that the returned ID token has an hd claim value that matches what you expect"; a
    personal Google account may carry a verified address at any domain."""
    if family != "google":
        return None
    if str(person.claims.get("hd", "")).lower() in domains:
        return None
    return (
        "A Google account is a member of a domain's Google Workspace only when Google says so (the "
        "`hd` claim): this one is not in the Workspace of an allowed domain, whatever its email."
    )


def groups_refusal(
    claims: Mapping[str, object], claim: str, groups: tuple[str, ...], label: str
) -> str | None:
    """Why no allowed group is in ``claim``, or None. A claim left out for a pointer elsewhere
    (OIDC Core §5.6.2 distributed claims: ``_claim_names``; Entra's groups overage, past 200
    groups, or ``hasgroups``) is named as that: this module does not fetch the groups there."""
    found = claim_values(claims, claim)
    if found is not None:
        return None if set(found) & set(groups) else f"Your account is in none of them (the `{claim}` claim)."
    pointers = claims.get("_claim_names")
    pointed = isinstance(pointers, Mapping) and (claim in pointers or claim.split(".")[0] in pointers)
    if pointed or claims.get("hasgroups") in (True, "true"):
        return (
            f"{label} left the groups out of the token and pointed elsewhere instead (a groups "
            "overage: Microsoft Entra does this past 200 groups, with `_claim_names` or `hasgroups`). "
            "This app does not fetch them, so it cannot tell whether you are in an allowed group; "
            "its owner can have Entra send only the groups assigned to the app, or use app roles."
        )
    return f"{label} sent no `{claim}` claim (the app may need to ask for it in its scope)."
