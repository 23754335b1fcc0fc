"""The personas' GitHub organisations and teams, and the JSON GitHub's REST API gives for them.

GitHub has no claim for membership: an app that restricts by organisation or team asks
``GET /user/orgs`` and ``GET /user/teams`` with the ``read:org`` scope (or ``user``), and
reads every page (30 items a page unless ``per_page`` says up to 100). Without one of those
scopes both answer 403. ``GET /users/{login}/orgs`` needs no scope and lists only the
memberships a person made public: the trap of using ``organizations_url`` from ``/user``.

Who is where: Alice (public) and Bob and Dana (private) are members of ``examplecorp``,
Alice in its ``admins`` and ``staff`` teams, Bob and Dana in ``staff``; 김지우 is a public
member of ``seoul-devs`` (team ``maintainers``); Adelheid is a private member of
``museum-collective`` with 36 teams, ``curators`` on the second page; Mallory owns the
look-alike ``example-corp`` and is in its ``admins`` team; Casey and Erin are in none.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

API = "https://api.github.com"
PER_PAGE = 30  # GitHub's default page size
MAX_PER_PAGE = 100
ORG_SCOPES = frozenset({"read:org", "user"})  # either lets a token list the user's orgs and teams
ACCEPTED_SCOPES = "admin:org, read:org, repo, user, write:org"  # X-Accepted-OAuth-Scopes

Twin = Callable[[str], str]  # a real URL to its twin


@dataclass(frozen=True)
class Org:
    login: str
    name: str
    description: str

    @property
    def id(self) -> int:
        return _number(f"org:{self.login}", 8)


@dataclass(frozen=True)
class Team:
    org: str  # the organisation's login
    slug: str
    name: str

    @property
    def id(self) -> int:
        return _number(f"team:{self.org}/{self.slug}", 7)


@dataclass(frozen=True)
class Membership:
    """Where one persona is: organisations (and which of them are public) and teams (``<org>/<slug>``)."""

    orgs: tuple[str, ...] = ()
    public: frozenset[str] = frozenset()
    teams: tuple[str, ...] = ()


ORGS: dict[str, Org] = {
    org.login: org
    for org in (
        Org("examplecorp", "Example Corp", "The people behind example.com"),
        Org("example-corp", "Example Corp", ""),  # Mallory's look-alike: same name, other login
        Org("seoul-devs", "Seoul Devs", "Open source from Seoul"),
        Org("museum-collective", "Museum Collective", "Digitising collections"),
    )
}
_PROJECTS = tuple(f"museum-collective/project-{n:02d}" for n in range(1, 36))
MEMBERSHIPS: dict[str, Membership] = {
    "alice": Membership(
        ("examplecorp",), frozenset({"examplecorp"}), ("examplecorp/admins", "examplecorp/staff")
    ),
    "bob": Membership(("examplecorp",), teams=("examplecorp/staff",)),
    "dana": Membership(("examplecorp",), teams=("examplecorp/staff",)),
    "erin": Membership(),
    "jiwoo": Membership(("seoul-devs",), frozenset({"seoul-devs"}), ("seoul-devs/maintainers",)),
    "noemail": Membership(),
    "longname": Membership(("museum-collective",), teams=(*_PROJECTS, "museum-collective/curators")),
    "mallory": Membership(("example-corp",), frozenset({"example-corp"}), ("example-corp/admins",)),
}


def _team(ref: str) -> Team:
    org, slug = ref.split("/")
    return Team(org, slug, slug.replace("-", " ").title())


TEAMS: dict[str, Team] = {ref: _team(ref) for m in MEMBERSHIPS.values() for ref in m.teams}


def _number(key: str, digits: int) -> int:
    low = 10 ** (digits - 1)
    return low + int.from_bytes(hashlib.sha256(key.encode()).digest(), "big") % (9 * low)


def _node_id(prefix: str, number: int) -> str:
    return prefix + base64.b64encode(number.to_bytes(4, "big")).decode().rstrip("=")


def org_json(org: Org, twin: Twin) -> dict[str, object]:
    """An organisation as ``/user/orgs`` lists it (GitHub's organization-simple)."""
    url = f"{API}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": _node_id("O_kgDO", org.id),
        "url": twin(url),
        "repos_url": twin(f"{url}/repos"),
        "events_url": twin(f"{url}/events"),
        "hooks_url": twin(f"{url}/hooks"),
        "issues_url": twin(f"{url}/issues"),
        "members_url": twin(url) + "/members{/member}",
        "public_members_url": twin(url) + "/public_members{/member}",
        "avatar_url": twin(f"https://avatars.githubusercontent.com/u/{org.id}?v=4"),
        "description": org.description,
    }


def team_json(team: Team, twin: Twin) -> dict[str, object]:
    """A team as ``/user/teams`` lists it (GitHub's team-full, its organisation included)."""
    org = ORGS[team.org]
    url = f"{API}/organizations/{org.id}/team/{team.id}"
    full_org = org_json(org, twin) | {
        "name": org.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 2,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": twin(f"https://github.com/{org.login}"),
        "created_at": "2019-03-01T09:00:00Z",
        "updated_at": "2025-01-01T09:00:00Z",
        "type": "Organization",
    }
    return {
        "id": team.id,
        "node_id": _node_id("T_kwDO", team.id),
        "url": twin(url),
        "html_url": twin(f"https://github.com/orgs/{org.login}/teams/{team.slug}"),
        "name": team.name,
        "slug": team.slug,
        "description": "",
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": twin(url) + "/members{/member}",
        "repositories_url": twin(f"{url}/repos"),
        "parent": None,
        "members_count": 2,
        "repos_count": 1,
        "created_at": "2019-03-01T09:00:00Z",
        "updated_at": "2025-01-01T09:00:00Z",
        "organization": full_org,
    }


def org_avatar(org: Org) -> str:
    """An organisation's picture, drawn here like the personas': a square with its initial."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" '
        f'role="img" aria-label="{escape(org.name)}"><rect width="96" height="96" rx="12" '
        'fill="#334155"/><text x="48" y="60" font-family="sans-serif" font-size="36" '
        f'text-anchor="middle" fill="#fff">{escape(org.login[:1].upper())}</text></svg>'
    )


def orgs_of(username: str, *, public_only: bool = False) -> list[Org]:
    membership = MEMBERSHIPS[username]
    return [ORGS[o] for o in membership.orgs if not public_only or o in membership.public]


def teams_of(username: str) -> list[Team]:
    return [TEAMS[ref] for ref in MEMBERSHIPS[username].teams]


@dataclass(frozen=True)
class Page:
    items: list[object]
    link: str | None  # the Link header (RFC 8288), when there is more than one page


def paginate(items: Sequence[object], query: dict[str, str], real_url: str, twin: Twin) -> Page:
    """One page of ``items`` as GitHub serves lists: ``page`` from 1, ``per_page`` up to 100,
    and a Link header (``prev``, ``next``, ``last``, ``first``) that keeps the request's query."""
    per_page = min(_positive(query.get("per_page"), PER_PAGE), MAX_PER_PAGE)
    page = _positive(query.get("page"), 1)
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    if last == 1:
        return Page(chunk, None)

    def at(number: int) -> str:
        return twin(f"{real_url}?{urlencode(query | {'page': str(number)})}")

    relations = []
    if page > 1:
        relations.append((min(page - 1, last), "prev"))
    if page < last:
        relations += [(page + 1, "next"), (last, "last")]
    if page > 1:
        relations.append((1, "first"))
    return Page(chunk, ", ".join(f'<{at(number)}>; rel="{rel}"' for number, rel in relations))


def _positive(value: str | None, default: int) -> int:
    # Not a positive whole number: the twin uses the default (GitHub's own answer may differ).
    return int(value) if value and value.isdigit() and int(value) > 0 else default
