"""Who may come in, enforced: at the callback (``callback.py``), after every check and before a
session exists, and again at each refresh (``refresh.py``) with the new claims and userinfo.

``Admission`` gathers what a provider's rules need (the normalized profile's email and whether
the provider vouches for it; the ID token's claims merged with userinfo; GitHub's organizations
and teams from its API, fetched only when a rule asks), decides (``access.decide``), and raises
``NotAllowed`` (counted where the login or refresh ends: ``metrics.py``). A person let in gets
the rules that admitted them and their roles (``roles.py``), which the session keeps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .access import Decision, Memberships, Person, decide
from .config import ProviderSettings
from .errors import NotAllowed
from .profile import normalize
from .provider import ProviderClient
from .roles import RoleMap, roles_of
from .rules import GITHUB_ORG_SCOPES, GITHUB_RULES
from .trace import Trace

PER_PAGE = 100  # GitHub's largest page
MAX_PAGES = 10  # so at most 1,000 organizations or teams are read for one person
# Provider calls a refresh may add for the rules: userinfo (and GitHub's emails), the lists.
EXTRA_CALLS = 4


@dataclass(frozen=True)
class Admitted:
    """A person let in: by which rules (" and "-joined; "" when the provider has none, and so
    admits anyone with an account there) and with which roles."""

    admitted_by: str
    roles: tuple[str, ...]


class Admission:
    """Decides, for each login and refresh, whether the person may come in, and their roles."""

    def __init__(self, roles: RoleMap) -> None:
        self.roles = roles

    def applies(self, settings: ProviderSettings) -> bool:
        """Whether a refresh must read the person afresh: the provider has rules, or roles are mapped."""
        return bool(settings.access) or bool(self.roles)

    async def admit(
        self,
        client: ProviderClient,
        *,
        claims: Mapping[str, object],
        userinfo: Mapping[str, object],
        access_token: str,
        granted_scope: str | None,
        trace: Trace | None = None,
    ) -> Admitted:
        """Let the person in (their admitting rules and roles) or raise ``NotAllowed``."""
        settings = client.settings
        rules, label, family = settings.access, settings.label, settings.family
        profile = normalize(claims, userinfo, settings.preset)
        email = profile.get("email")
        person = Person(
            claims={**claims, **userinfo},
            email=email if isinstance(email, str) else None,
            email_verified=profile.get("email_verified") is True,
        )
        wants_github = any(rule in rules.allowed for rule in GITHUB_RULES)
        # The lists cost API calls: only for a person the other rules admit.
        if wants_github and decide(rules.without(GITHUB_RULES), person, family=family, label=label).allowed:
            github = await self._memberships(client, access_token, granted_scope)
            person = replace(person, github=github)
        decision = decide(rules, person, family=family, label=label)
        if trace is not None:
            trace.check("admitted by the app's access rules", decision.allowed, _detail(decision))
        if not decision.allowed:
            raise NotAllowed(decision.reason, rule=decision.refused_by)
        roles = roles_of(self.roles, rules, person, family=family, label=label)
        return Admitted(admitted_by=" and ".join(decision.admitted_by), roles=roles)

    async def _memberships(
        self, client: ProviderClient, access_token: str, granted_scope: str | None
    ) -> Memberships:
        """GitHub's ``GET /user/orgs`` and ``GET /user/teams``, which need ``read:org``: the
        token response says which scopes were granted (comma-separated), so a token without it
        is not sent to be refused."""
        if granted_scope is not None and not GITHUB_ORG_SCOPES & set(re.split(r"[ ,]+", granted_scope)):
            return Memberships(granted=False)
        preset, rules = client.settings.preset, client.settings.access
        orgs: set[str] = set()
        teams: set[str] = set()
        if "allowed_orgs" in rules.allowed and preset.orgs_url:
            for org in await _pages(client, preset.orgs_url, "organization list", access_token):
                orgs.add(str(org.get("login", "")).lower())
        if "allowed_teams" in rules.allowed and preset.teams_url:
            for team in await _pages(client, preset.teams_url, "team list", access_token):
                owner = team.get("organization")
                org = owner.get("login", "") if isinstance(owner, Mapping) else ""
                teams.add(f"{org}/{team.get('slug', '')}".lower())
        return Memberships(orgs=frozenset(orgs), teams=frozenset(teams))


async def _pages(
    client: ProviderClient, url: str, what: str, access_token: str
) -> list[Mapping[str, object]]:
    """Every item of a GitHub list, a page of ``PER_PAGE`` at a time (a short page is the last)."""
    items: list[Mapping[str, object]] = []
    for page in range(1, MAX_PAGES + 1):
        data = await client.get_json(
            f"{client.url(url)}?per_page={PER_PAGE}&page={page}", what, bearer=access_token
        )
        batch = data if isinstance(data, list) else []
        items += [item for item in batch if isinstance(item, Mapping)]
        if len(batch) < PER_PAGE:
            break
    return items


def _detail(decision: Decision) -> str:
    if not decision.allowed:
        return f"refused by {decision.refused_by}"
    if not decision.admitted_by:
        return "no rules: anyone with an account at this provider"
    return "passed " + " and ".join(decision.admitted_by)
