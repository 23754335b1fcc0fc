"""Who may come in, decided from claims alone (streamlit_authlib_login/_core/access.py and
roles.py): provider quirks that the development provider's personas do not carry (Entra's
groups overage, the nOAuth pattern, Keycloak's nested roles) are tried here on claim dicts;
every rule family also logs in end to end in test_admission.py."""

from __future__ import annotations

import pytest

from streamlit_authlib_login._core.access import Memberships, Person, decide
from streamlit_authlib_login._core.presets import PRESETS
from streamlit_authlib_login._core.profile import normalize
from streamlit_authlib_login._core.roles import parse_roles, roles_of
from streamlit_authlib_login._core.rules import AccessRules, parse_rules, rules_for

ALICE = Person(claims={"sub": "a"}, email="Alice@Example.com", email_verified=True)


def rules(family: str = "", scope: str = "openid", **table: object) -> AccessRules:
    """Rules as a provider table of ``family`` would configure them (checked as load_config does)."""
    return rules_for("p", "The provider", family, scope, {}, parse_rules("[auth.p]", table))


def refused_by(r: AccessRules, person: Person, family: str = "") -> str:  # "" when admitted
    return decide(r, person, family=family, label="The provider").refused_by


def test_no_rules_admit_anyone_even_without_an_email() -> None:
    """A provider without rules admits any account, and says no rule did it."""
    decision = decide(
        AccessRules(), Person(claims={}, email=None, email_verified=False), family="", label="X"
    )
    assert decision.allowed and decision.admitted_by == ()


def test_emails_match_case_insensitively_and_only_when_verified() -> None:
    """The list and the address are compared in lower case; an unverified or missing one never matches."""
    r = rules(allowed_emails=["ALICE@example.COM"])
    assert refused_by(r, ALICE) == ""
    unverified = decide(
        r, Person(claims={}, email="alice@example.com", email_verified=False), family="", label="X"
    )
    assert unverified.refused_by == "allowed_emails" and "does not vouch" in unverified.reason
    missing = decide(r, Person(claims={}, email=None, email_verified=False), family="", label="X")
    assert "gave this app no email" in missing.reason
    other = decide(r, Person(claims={}, email="eve@example.com", email_verified=True), family="", label="X")
    assert other.refused_by == "allowed_emails" and "alice" not in other.reason.lower()


def test_all_rules_must_hold_and_one_value_of_each_is_enough() -> None:
    """AND across rules, OR inside one: the domain passes on its second value, the group refuses."""
    r = rules(allowed_domains=["example.org", "example.com"], allowed_groups=["admins", "ops"])
    staff = Person(claims={"groups": ["staff"]}, email="alice@example.com", email_verified=True)
    ops = Person(claims={"groups": ["ops"]}, email="alice@example.com", email_verified=True)
    assert refused_by(r, staff) == "allowed_groups"
    assert decide(r, ops, family="", label="X").admitted_by == ("allowed_domains", "allowed_groups")


def test_a_domain_is_the_whole_part_after_the_at_sign() -> None:
    """example.com admits neither a subdomain nor a look-alike that ends the same way."""
    r = rules(allowed_domains=["example.com"])
    for email in ("a@mail.example.com", "a@evilexample.com", "example.com@evil.test"):
        assert refused_by(r, Person(claims={}, email=email, email_verified=True)) == "allowed_domains", email


def test_google_domains_need_the_workspace_hd_claim() -> None:
    """A verified example.com address without hd is a personal Google account: refused, saying why."""
    r = rules("google", allowed_domains=["example.com"])
    member = Person(claims={"hd": "example.com"}, email="alice@example.com", email_verified=True)
    personal = Person(claims={}, email="alice@example.com", email_verified=True)
    other_workspace = Person(claims={"hd": "evil.test"}, email="alice@example.com", email_verified=True)
    assert refused_by(r, member, "google") == ""
    decision = decide(r, personal, family="google", label="Google")
    assert decision.refused_by == "allowed_domains" and "`hd` claim" in decision.reason
    assert refused_by(r, other_workspace, "google") == "allowed_domains"
    assert refused_by(r, personal, "") == ""  # not Google: hd means nothing


@pytest.mark.parametrize(
    ("claims", "admitted"),
    [
        ({}, False),
        ({"email_verified": False, "xms_edov": True}, False),
        ({"xms_edov": True}, True),
        ({"email_verified": True}, True),
    ],
    ids=["no-proof", "email-verified-false-wins", "xms-edov", "email-verified"],
)
def test_microsoft_email_is_never_matched_without_proof(claims: dict[str, object], admitted: bool) -> None:
    """The nOAuth pattern: Entra's `email` alone is not proof (xms_edov or email_verified is);
    the refusal names it."""
    claims = {"sub": "s", "email": "alice@example.com", **claims}
    profile = normalize(claims, {}, PRESETS["microsoft"])
    person = Person(
        claims=claims, email="alice@example.com", email_verified=profile["email_verified"] is True
    )
    r = rules("microsoft", allowed_emails=["alice@example.com"])
    decision = decide(r, person, family="microsoft", label="Microsoft")
    assert decision.allowed is admitted
    if not admitted:
        assert "nOAuth" in decision.reason and "xms_edov" in decision.reason


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "https://graph"}}},
         "groups overage"),
        ({"hasgroups": True}, "groups overage"),
        ({}, "sent no `groups` claim"),
        ({"groups": ["staff"]}, "none of them"),
    ],
    ids=["claim-names", "hasgroups", "absent", "other-groups"],
)  # fmt: skip
def test_entra_groups_overage_is_refused_naming_it(claims: dict[str, object], words: str) -> None:
    """No groups claim but a pointer to them: refused as an overage, never as "not a member"."""
    r = rules("microsoft", allowed_groups=["admins"])
    decision = decide(
        r, Person(claims=claims, email=None, email_verified=False), family="microsoft", label="Microsoft"
    )
    assert decision.refused_by == "allowed_groups" and words in decision.reason


def test_groups_at_a_dotted_path_and_at_a_claim_with_dots_in_its_name() -> None:
    """Keycloak's realm_access.roles is a path; Auth0's namespaced claim is one name."""
    keycloak = rules(allowed_groups=["admins"], groups_claim="realm_access.roles")
    auth0 = rules(allowed_groups=["admins"], groups_claim="https://app.example.com/roles")
    nested = Person(claims={"realm_access": {"roles": ["admins"]}}, email=None, email_verified=False)
    flat = Person(claims={"https://app.example.com/roles": ["admins"]}, email=None, email_verified=False)
    assert refused_by(keycloak, nested) == "" and refused_by(keycloak, flat) == "allowed_groups"
    assert refused_by(auth0, flat) == ""


def test_tenants_compare_the_tid_claim() -> None:
    """One of the allowed tenant ids, in any case; another tenant or no tid is refused."""
    tenant = "4a3c7f52-9b1e-4d8a-a6f0-3e2d1c0b9a87"
    r = rules("microsoft", allowed_tenants=[tenant.upper()])
    assert refused_by(r, Person(claims={"tid": tenant}, email=None, email_verified=False), "microsoft") == ""
    for claims in ({"tid": "9188040d-6c67-4c5b-b112-36a304b66dad"}, {}):
        assert (
            refused_by(r, Person(claims=claims, email=None, email_verified=False), "microsoft")
            == "allowed_tenants"
        )


def test_github_rules_read_the_memberships_and_say_when_read_org_is_missing() -> None:
    """Orgs and teams compare case-insensitively; a token without read:org is named as the cause."""
    r = rules(
        "github", "read:user read:org", allowed_orgs=["Example-Org"], allowed_teams=["example-org/admins"]
    )
    member = Person(
        claims={}, email=None, email_verified=False,
        github=Memberships(orgs=frozenset({"example-org"}), teams=frozenset({"example-org/admins"})),
    )  # fmt: skip
    assert refused_by(r, member, "github") == ""
    unlisted = Person(claims={}, email=None, email_verified=False, github=Memberships(granted=False))
    no_scope = decide(r, unlisted, family="github", label="GitHub")
    assert no_scope.refused_by == "allowed_orgs" and "read:org" in no_scope.reason


def test_roles_come_from_the_token_and_from_the_mapping() -> None:
    """[auth.roles] entries: a verified email, @domain, group:<name>; the provider's roles claim too."""
    role_map = parse_roles(
        {
            "admin": ["ALICE@example.com"],
            "staff": ["@example.com"],
            "ops": ["group:ops"],
            "none": ["@other.test"],
        }
    )
    person = Person(
        claims={"roles": ["editor"], "groups": ["ops"]}, email="alice@example.com", email_verified=True
    )
    assert roles_of(role_map, AccessRules(), person, family="", label="X") == (
        "admin",
        "editor",
        "ops",
        "staff",
    )
    unverified = Person(claims={}, email="alice@example.com", email_verified=False)
    assert roles_of(role_map, AccessRules(), unverified, family="", label="X") == ()
    keycloak = AccessRules(roles_claim="realm_access.roles")
    nested = Person(claims={"realm_access": {"roles": ["admin"]}}, email=None, email_verified=False)
    assert roles_of({}, keycloak, nested, family="", label="X") == ("admin",)
