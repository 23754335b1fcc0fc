"""What notebook 12 (authorization) says, held without running it: each rule of its sections
admits and refuses the personas it names, through ``oauthlab.door`` (the login module in-process
before the development provider and its twins), and the naive checks it contrasts them with
fall for what the prose says they fall for."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from devidp.flavors.microsoft_accounts import CONTOSO, group_id
from notebooks.oauthlab.door import Door, Visit, close_door, open_door

OpenDoor = Callable[..., Awaitable[Door]]


@pytest.fixture
async def door() -> AsyncIterator[OpenDoor]:
    """``open_door`` for the test, every door it opened closed after it."""
    yield open_door
    await close_door()


def outcomes(visits: list[Visit]) -> dict[str, str]:
    return {v.persona: v.admitted_by if v.admitted else f"refused by {v.rule}" for v in visits}


async def test_without_rules_everyone_comes_in_and_the_naive_checks_fall(door: OpenDoor) -> None:
    """Sections 1, 2 and 4: no rules admits all; an unverified address passes a naive domain check,
    and Mallory's tenant-typed email passes `email == "alice@example.com"`."""
    opened = await door()
    dana = await opened.visit("dana")
    assert (dana.admitted, dana.admitted_by, dana.claims["email_verified"]) == (True, "", False)
    mallory = await opened.visit("mallory", "microsoft")
    assert mallory.claims["email"] == "alice@example.com" and mallory.claims["xms_edov"] is False
    assert "groups" not in (await opened.visit("longname", "microsoft")).claims  # the overage


async def test_each_sections_rule_admits_and_refuses_whom_the_notebook_says(door: OpenDoor) -> None:
    """Domains, Google's hd, nOAuth, tenants, app roles with and without the tenant, the overage,
    GitHub's organisation and team against the look-alike, and the AND of section 8."""
    domains = await door('[auth]\nallowed_domains = ["example.com", "example.kr"]')
    visits = [await domains.visit(p) for p in ("alice", "bob", "dana", "erin", "noemail")]
    assert [v.persona for v in visits if v.admitted] == ["alice", "erin"]
    assert "Development provider gave this app no email" in domains.last_refusal_page()

    google = await door('[auth.google]\nallowed_domains = ["example.com"]')
    erin = await google.visit("erin", "google")
    assert (await google.visit("alice", "google")).admitted and "`hd` claim" in erin.reason

    emails = await door('[auth.microsoft]\nallowed_emails = ["alice@example.com"]')
    mallory = await emails.visit("mallory", "microsoft")
    assert (await emails.visit("alice", "microsoft")).admitted and "nOAuth" in mallory.reason

    roles = '[auth.microsoft]\nallowed_groups = ["admin"]\ngroups_claim = "roles"\n'
    alone = await door(roles)
    assert (await alone.visit("mallory", "microsoft")).admitted  # her own tenant made her admin
    with_tenant = await door(f'{roles}allowed_tenants = ["{CONTOSO}"]')
    assert (await with_tenant.visit("mallory", "microsoft")).rule == "allowed_tenants"

    overage = await door(f'[auth.microsoft]\nallowed_groups = ["{group_id(CONTOSO, "admins")}"]')
    assert (await overage.visit("alice", "microsoft")).admitted
    assert "groups overage" in (await overage.visit("longname", "microsoft")).reason

    scoped = '[auth.github]\nclient_kwargs = { scope = "read:user user:email read:org" }\n'
    orgs = await door(f'{scoped}allowed_orgs = ["examplecorp"]')
    github = outcomes([await orgs.visit(p, "github") for p in ("alice", "bob", "jiwoo", "mallory")])
    assert github == {"alice": "allowed_orgs", "bob": "allowed_orgs"} | dict.fromkeys(
        ("jiwoo", "mallory"), "refused by allowed_orgs"
    )
    teams = await door(f'{scoped}allowed_teams = ["examplecorp/admins"]')
    assert not (await teams.visit("mallory", "github")).admitted  # example-corp/admins is not it

    both = await door(
        '[auth]\nallowed_domains = ["example.com", "example.kr"]\nallowed_groups = ["admins", "users"]'
    )
    assert outcomes([await both.visit(p) for p in ("alice", "erin", "jiwoo", "dana")]) == {
        "alice": "allowed_domains and allowed_groups",
        "erin": "refused by allowed_groups",
        "jiwoo": "allowed_domains and allowed_groups",
        "dana": "refused by allowed_domains",
    }
