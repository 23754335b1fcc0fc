"""The demo people who can log in to the development provider.

Each persona exercises something a real app must handle: a verified and an
unverified email, different locales, groups and roles, a person without an
email, a very long name in several scripts, and claims that are hostile input
(markup in a name, a server file path as a picture). Two test allow-lists by
email domain: Dana's address at example.com is unverified, and Erin's, verified,
belongs to a personal account, not to example.com's organisation (on the Google
twin she has no ``hd``). What each persona is at the emulated providers (tenant,
Workspace domain, organisations and teams) lives with each flavour in
``devidp/flavors/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oidc.core import UserInfo

# OIDC Core §5.4: which claims each scope releases. `groups` is ours, as many providers
# have one (Keycloak, Okta, GitLab): without it no `groups` or `roles` claim is released.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "picture",
        "locale",
        "zoneinfo",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "groups": ("groups", "roles"),
}

SCOPE_DESCRIPTIONS: dict[str, str] = {
    "openid": "Confirm who you are (a stable, opaque user id)",
    "profile": "See your name, username, picture, language and time zone",
    "email": "See your email address and whether it is verified",
    "groups": "See the groups and roles you belong to",
    "offline_access": "Stay signed in: keep access when you are not using the app",
    "reports:read": "Read reports",
    "reports:write": "Create and change reports",
}


@dataclass(frozen=True, kw_only=True)
class Persona:
    """A demo user. ``username`` is what ``login_hint`` selects."""

    username: str
    sub: str
    name: str
    given_name: str
    family_name: str
    email: str | None
    email_verified: bool
    locale: str
    zoneinfo: str
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    color: str = "#4f46e5"
    blurb: str = ""
    updated_at: int = 1_767_225_600  # 2026-01-01T00:00:00Z
    picture: str | None = None  # the `picture` claim; None: the avatar this provider draws

    def get_user_id(self) -> str:
        return self.sub

    def claims(self, scope: str, issuer: str) -> UserInfo:
        """The claims this persona releases for ``scope`` (OIDC Core §5.4)."""
        everything: dict[str, object] = {
            "name": self.name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "preferred_username": self.username,
            "picture": self.picture or f"{issuer}/avatars/{self.username}.svg",
            "locale": self.locale,
            "zoneinfo": self.zoneinfo,
            "updated_at": self.updated_at,
            "email": self.email,
            "email_verified": self.email_verified if self.email else None,
            "groups": list(self.groups),
            "roles": list(self.roles),
        }
        claims: dict[str, object] = {"sub": self.sub}
        for scope_name in scope.split():
            for claim in SCOPE_CLAIMS.get(scope_name, ()):
                if everything[claim] is not None:
                    claims[claim] = everything[claim]
        return UserInfo(claims)


PERSONAS: tuple[Persona, ...] = (
    Persona(
        username="alice",
        sub="4f1c2a9e-0b7d-4c1e-9a55-1d2b3c4d5e6f",
        name="Alice Anderson",
        given_name="Alice",
        family_name="Anderson",
        email="alice@example.com",
        email_verified=True,
        locale="en-US",
        zoneinfo="America/New_York",
        groups=("staff", "admins"),
        roles=("admin",),
        color="#2563eb",
        blurb="Administrator, verified email",
    ),
    Persona(
        username="bob",
        sub="8a3e6f10-55c2-4b8e-8d0f-7e6a5b4c3d2e",
        name="Bob Brown",
        given_name="Bob",
        family_name="Brown",
        email="bob@example.org",
        email_verified=False,
        locale="en-GB",
        zoneinfo="Europe/London",
        groups=("staff",),
        roles=("viewer",),
        color="#16a34a",
        blurb="Unverified email: never trust it for account linking",
    ),
    Persona(
        # An allow-list of domains must refuse her: nothing vouches that she owns the address.
        username="dana",
        sub="99f322b1-98bd-4566-ab1f-5d398400442e",
        name="Dana Dubois",
        given_name="Dana",
        family_name="Dubois",
        email="dana@example.com",
        email_verified=False,
        locale="fr-CA",
        zoneinfo="America/Toronto",
        groups=("staff",),
        roles=("viewer",),
        color="#0891b2",
        blurb="Unverified email at example.com: an allow-list must refuse it",
    ),
    Persona(
        # Her address is verified, but her account is her own, not example.com's: what Google
        # calls an unmanaged account. Only `hd` says who manages an account.
        username="erin",
        sub="64d92b4c-74b7-48e4-852f-5969f5d29581",
        name="Erin Eriksen",
        given_name="Erin",
        family_name="Eriksen",
        email="erin@example.com",
        email_verified=True,
        locale="nb-NO",
        zoneinfo="Europe/Oslo",
        groups=("contractors",),
        roles=("viewer",),
        color="#0d9488",
        blurb="Verified email at example.com, but a personal account (no hd)",
    ),
    Persona(
        username="jiwoo",
        sub="c7d9e1f2-3a4b-4c5d-8e6f-9a0b1c2d3e4f",
        name="김지우",
        given_name="지우",
        family_name="김",
        email="jiwoo@example.kr",
        email_verified=True,
        locale="ko-KR",
        zoneinfo="Asia/Seoul",
        groups=("users",),
        roles=("editor",),
        color="#db2777",
        blurb="Korean name and locale",
    ),
    Persona(
        username="noemail",
        sub="1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b",
        name="Casey Noemail",
        given_name="Casey",
        family_name="Noemail",
        email=None,
        email_verified=False,
        locale="fr-FR",
        zoneinfo="Europe/Paris",
        color="#ca8a04",
        blurb="No email at all, like many GitHub users",
    ),
    Persona(
        username="longname",
        sub="e9f8a7b6-c5d4-4e3f-a2b1-c0d9e8f7a6b5",
        name=(
            "Adelheid Wilhelmina Maximiliane von Hohenzollern-Sigmaringen "
            "Ñúñez de la Fuente y Castañeda-Øverland Þórsdóttir "
            "Αικατερίνη Παπαδοπούλου Екатерина Александровна Романова "
            "محمد بن عبد الله الهاشمي 王小明 山田太郎 김민준 "
            "Wolfeschlegelsteinhausenbergerdorff-Ōkuma-Ngũgĩ wa Thiong'o "
            "of Lower Saxony, the Faroe Islands and the Far Northern Isles"
        ),
        given_name="Adelheid Wilhelmina Maximiliane",
        family_name="von Hohenzollern-Sigmaringen Wolfeschlegelsteinhausenbergerdorff",
        email="adelheid.wilhelmina.maximiliane.von.hohenzollern@example.museum",
        email_verified=True,
        locale="de-DE",
        zoneinfo="Europe/Berlin",
        groups=tuple(f"project-{n:02d}" for n in range(1, 13)),
        roles=("auditor", "billing", "support"),
        color="#7c3aed",
        blurb="Very long name in five scripts, many groups",
    ),
    Persona(
        # A provider's claims are whatever its users typed. An app that puts them into
        # markdown loads her images and breaks its code spans; one that hands `picture`
        # to st.image reads a file from its own server.
        username="mallory",
        sub="5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e",
        name="Mallory ![x](http://127.0.0.1:1/x.png) `Markup",
        given_name="Mallory",
        family_name="`Markup",
        email="mallory@example.net",
        email_verified=False,
        locale="en-US ![l](http://127.0.0.1:1/l.png)",
        zoneinfo="UTC",
        groups=("staff", "ops` ![g](http://127.0.0.1:1/g.png) `ops"),
        roles=("viewer",),
        color="#dc2626",
        blurb="Hostile claims: markup in her name, locale and groups, a server file as her picture",
        picture="/etc/passwd",
    ),
)

BY_USERNAME: dict[str, Persona] = {p.username: p for p in PERSONAS}
BY_SUB: dict[str, Persona] = {p.sub: p for p in PERSONAS}


def avatar_svg(persona: Persona) -> str:
    """An avatar drawn here, so no page of ours loads an image from the internet."""
    initials = "".join(part[0] for part in persona.name.split()[:2]).upper()
    from html import escape

    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" '
        'viewBox="0 0 96 96" role="img" '
        f'aria-label="{escape(persona.name[:60])}">'
        f'<circle cx="48" cy="48" r="48" fill="{persona.color}"/>'
        '<text x="48" y="60" font-family="sans-serif" font-size="36" '
        f'text-anchor="middle" fill="#fff">{escape(initials)}</text></svg>'
    )
