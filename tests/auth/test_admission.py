"""Who may come in, end to end against the development provider and its twins
(streamlit_authlib_login/_core/admission.py): each rule family admitting and refusing, the
refusal page, log line and count, the roles a session keeps, and a refresh after the provider
took someone out of the group."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
from login_harness import (
    COOKIE_SECRET,
    DEV_CLIENT_SECRET,
    BuildApp,
    LoginApp,
    cookie_value,
    dev_config,
    set_cookies,
    through_the_provider,
)

from devidp import Client, DevAuthorizationServer
from devidp.flavors.microsoft import CONTOSO
from devidp.personas import BY_SUB, BY_USERNAME
from streamlit_authlib_login._core.access import WORDS
from streamlit_authlib_login._core.config import AuthConfig, ProviderSettings, load_config, with_rules
from streamlit_authlib_login._core.errors import NotAllowed
from streamlit_authlib_login._core.rules import AccessRules, parse_rules
from streamlit_authlib_login._devmode import DEV_MODE, emulated_providers, throwaway_apple_key
from streamlit_authlib_login._routes import csrf_token

IDP = "http://localhost/idp/.well-known/openid-configuration"
APPLE_KEY = throwaway_apple_key()  # the twins come as a set, Apple's with its key


def with_dev(tmp_path: Path, **auth: object) -> AuthConfig:
    """load_config with the development provider alone and these [auth] keys."""
    secrets = {"auth": {"cookie_secret": COOKIE_SECRET, "emulated_providers": False, **auth}}
    return load_config(secrets, {}, local_dir=tmp_path, dev_mode=DEV_MODE)


async def attempt(
    app: LoginApp, persona: str, provider: str = "dev"
) -> tuple[httpx2.AsyncClient, httpx2.Response]:
    browser = app.browser()
    url = await app.start(browser, provider=provider)
    return browser, await through_the_provider(app, browser, url, persona)


async def admitted(app: LoginApp, persona: str, provider: str = "dev") -> dict[str, object]:
    """``persona`` logs in and gets a session: what /auth/me says of it."""
    browser, response = await attempt(app, persona, provider)
    assert response.status_code == 302, app.refusal(response.headers["location"], browser)
    return (await browser.get("/auth/me")).json()


async def refused(app: LoginApp, persona: str, provider: str = "dev") -> dict[str, object]:
    """``persona`` is refused, gets no session, and lands on a page saying why: its record."""
    browser, response = await attempt(app, persona, provider)
    assert response.status_code == 303, response.headers.get("location")
    assert app.session_cookie not in set_cookies(response)
    assert (await browser.get("/auth/me")).status_code == 401
    record = app.refusal(response.headers["location"], browser)
    assert record is not None and record["error"] == "not_allowed"
    return record


async def test_domains_admit_alice_and_jiwoo_and_refuse_bob_and_casey(
    build_app: BuildApp, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Verified emails at an allowed domain come in; the page names the rule, never the list,
    beside one log line with the rule and the request id, and the refusals are counted."""
    app = build_app(config=with_dev(tmp_path, allowed_domains=["example.com", "Example.KR"]))
    assert (await admitted(app, "alice"))["admitted_by"] == "allowed_domains"
    await admitted(app, "jiwoo")
    with caplog.at_level(logging.WARNING, logger="streamlit_authlib_login"):
        bob = await refused(app, "bob")  # bob@example.org, unverified
        casey = await refused(app, "noemail")
    assert bob["check"] == casey["check"] == "not_allowed/allowed_domains"
    assert str(bob["description"]).startswith(WORDS["allowed_domains"])
    assert "does not vouch" in str(bob["description"]) and "no email" in str(casey["description"])
    assert not any("example" in str(r["description"]) for r in (bob, casey))
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("streamlit_authlib_login")]
    assert len(lines) == 2 and all("check=not_allowed/allowed_domains request_id=" in line for line in lines)
    assert str(bob["request_id"]) in lines[0]
    assert app.auth.metrics.refusals() == {("dev", "allowed_domains"): 2}


async def test_an_unverified_email_at_an_allowed_domain_is_refused(
    build_app: BuildApp, tmp_path: Path
) -> None:
    """bob@example.org is not verified: example.org being allowed does not let him in."""
    app = build_app(config=with_dev(tmp_path, allowed_domains=["example.org"]))
    assert "does not vouch" in str((await refused(app, "bob"))["description"])


async def test_emails_admit_whoever_is_listed(build_app: BuildApp, tmp_path: Path) -> None:
    """allowed_emails: jiwoo (listed, in another case) comes in, alice (verified, not listed) does not."""
    app = build_app(config=with_dev(tmp_path, allowed_emails=["JIWOO@example.kr"]))
    await admitted(app, "jiwoo")
    assert (await refused(app, "alice"))["check"] == "not_allowed/allowed_emails"


async def test_every_rule_must_hold(build_app: BuildApp, tmp_path: Path) -> None:
    """AND: jiwoo's domain is allowed but she is not in admins; alice is both."""
    config = with_dev(
        tmp_path, allowed_domains=["example.com", "example.kr"], allowed_groups=["admins", "ops"]
    )
    app = build_app(config=config)
    assert (await admitted(app, "alice"))["admitted_by"] == "allowed_domains and allowed_groups"
    record = await refused(app, "jiwoo")
    assert record["check"] == "not_allowed/allowed_groups" and "`groups` claim" in str(record["description"])


def register(idp: DevAuthorizationServer, name: str) -> dict[str, object]:
    """A client of its own at the in-process provider, as [auth.<name>] would configure it."""
    idp.register_client(
        Client(
            client_id=f"{name}-app",
            client_secret=f"{name}-secret",
            name=name,
            redirect_uris=(f"http://localhost/auth/callback/{name}",),
        )
    )
    return {"client_id": f"{name}-app", "client_secret": f"{name}-secret", "server_metadata_url": IDP}


async def test_a_providers_table_replaces_the_rule_of_auth(
    build_app: BuildApp, idp: DevAuthorizationServer, tmp_path: Path
) -> None:
    """[auth] allows example.com for both; [auth.mail] replaces it with two domains, and [auth.corp]
    adds a group: jiwoo gets in by mail only, bob by neither, alice by both."""
    corp = {**register(idp, "corp"), "allowed_groups": ["admins"],
            "client_kwargs": {"scope": "openid email profile groups"}}  # fmt: skip
    mail = {**register(idp, "mail"), "allowed_domains": ["example.com", "example.kr"]}
    auth = {"cookie_secret": COOKIE_SECRET, "allowed_domains": ["example.com"], "corp": corp, "mail": mail}
    app = build_app(idp, config=load_config({"auth": auth}, {}, local_dir=tmp_path, dev_mode=DEV_MODE))
    await admitted(app, "alice", "corp")
    await admitted(app, "alice", "mail")
    await admitted(app, "jiwoo", "mail")
    assert (await refused(app, "jiwoo", "corp"))["check"] == "not_allowed/allowed_domains"
    assert (await refused(app, "bob", "corp"))["check"] == "not_allowed/allowed_domains"  # unverified
    assert (await refused(app, "noemail", "mail"))["check"] == "not_allowed/allowed_domains"


async def test_the_session_keeps_its_admitting_rule_and_the_persons_roles(
    build_app: BuildApp, tmp_path: Path
) -> None:
    """Roles from the token's roles claim and from [auth.roles]; both in the stored session."""
    roles = {"staff": ["@example.com"], "ops": ["group:staff"], "auditor": ["bob@example.org"]}
    app = build_app(config=with_dev(tmp_path, roles=roles))
    browser, response = await attempt(app, "alice")
    session = app.auth.sessions.load(cookie_value(set_cookies(response)[app.session_cookie]))
    assert session is not None
    assert session.roles == ("admin", "ops", "staff") and session.admitted_by == ""
    assert (await browser.get("/auth/me")).json()["roles"] == ["admin", "ops", "staff"]
    bob = await admitted(app, "bob")  # unverified: the email entry does not count
    assert bob["roles"] == ["ops", "viewer"]


# --- the twins' quirks ----------------------------------------------------------------------
def twin(preset: str, **table: object) -> ProviderSettings:
    """The emulated ``preset`` with rules, checked as its [auth.<name>] table would be."""
    settings = next(
        p for p in emulated_providers(DEV_CLIENT_SECRET, APPLE_KEY) if p.name == f"emulated-{preset}"
    )
    if "scope" in table:
        settings = replace(settings, scope=str(table.pop("scope")))
    return with_rules(settings, {}, parse_rules(f"[auth.{settings.name}]", table))


async def test_google_domains_need_the_workspace(build_app: BuildApp) -> None:
    """alice is in example.com's Workspace (hd); jiwoo's verified example.kr address is personal."""
    app = build_app(
        config=dev_config(providers=[twin("google", allowed_domains=["example.com", "example.kr"])])
    )
    await admitted(app, "alice", "emulated-google")
    assert "`hd` claim" in str((await refused(app, "jiwoo", "emulated-google"))["description"])


async def test_microsoft_email_without_proof_and_tenants(build_app: BuildApp) -> None:
    """Entra's email claim is matched only with proof (nOAuth): Mallory's own tenant says she is
    alice@example.com, unproven, and is refused; Alice's tenant vouches for the domain
    (``xms_edov``). tid admits Contoso's people only."""
    emails = twin("microsoft", allowed_emails=["alice@example.com"])
    tenants = replace(twin("microsoft", allowed_tenants=[CONTOSO]), name="contoso")
    app = build_app(config=dev_config(providers=[emails, tenants]))
    assert "nOAuth" in str((await refused(app, "mallory", "emulated-microsoft"))["description"])
    await admitted(app, "alice", "emulated-microsoft")
    await admitted(app, "alice", "contoso")
    assert (await refused(app, "jiwoo", "contoso"))["check"] == "not_allowed/allowed_tenants"


async def test_github_organizations_and_teams_come_from_its_api(build_app: BuildApp) -> None:
    """With read:org, GET /user/orgs and /user/teams decide; without it, the page names the scope."""
    scope = "read:user user:email read:org"
    orgs = twin("github", scope=scope, allowed_orgs=["ExampleCorp"])
    teams = replace(twin("github", scope=scope, allowed_teams=["examplecorp/admins"]), name="gh-teams")
    unscoped = replace(orgs, name="gh-unscoped", scope="read:user user:email")  # past the start-up check
    app = build_app(config=dev_config(providers=[orgs, teams, unscoped]))
    mark = app.mark()
    await admitted(app, "alice", "emulated-github")
    await admitted(app, "bob", "emulated-github")  # a private membership: read:org shows it
    assert (await refused(app, "jiwoo", "emulated-github"))["check"] == "not_allowed/allowed_orgs"
    await admitted(app, "alice", "gh-teams")
    assert (await refused(app, "bob", "gh-teams"))["check"] == "not_allowed/allowed_teams"
    # `admins` of the look-alike organisation `example-corp` is not `examplecorp/admins`.
    assert (await refused(app, "mallory", "gh-teams"))["check"] == "not_allowed/allowed_teams"
    assert len(app.requests_since(mark, "/flavors/github/api.github.com/user/orgs")) == 3
    assert "read:org" in str((await refused(app, "alice", "gh-unscoped"))["description"])
    assert len(app.requests_since(mark, "/flavors/github/api.github.com/user/orgs")) == 3  # none sent


# --- refresh ---------------------------------------------------------------------------------
async def logged_in(app: LoginApp, persona: str) -> tuple[httpx2.AsyncClient, str]:
    browser, response = await attempt(app, persona)
    assert response.status_code == 302
    return browser, cookie_value(set_cookies(response)[app.session_cookie])


async def test_a_person_taken_out_of_the_group_is_logged_out_at_the_next_refresh(
    build_app: BuildApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The provider drops alice from admins after her login: her next refresh ends the session,
    and says which rule, with one log line."""
    app = build_app(config=with_dev(tmp_path, allowed_groups=["admins"]))
    browser, session_id = await logged_in(app, "alice")
    alice = BY_USERNAME["alice"]
    monkeypatch.setitem(BY_SUB, alice.sub, replace(alice, groups=("staff",)))  # the directory changes
    with caplog.at_level(logging.WARNING, logger="streamlit_authlib_login"):
        response = await browser.post(
            "/auth/refresh", headers={"x-csrf-token": csrf_token(COOKIE_SECRET, session_id)}
        )
    assert response.status_code == 401
    assert response.json()["error"] == "not_allowed" and response.json()["rule"] == "allowed_groups"
    assert app.session_cookie in set_cookies(response)  # cleared
    assert app.auth.sessions.load(session_id) is None
    (line,) = [r.getMessage() for r in caplog.records if r.name.startswith("streamlit_authlib_login")]
    assert "check=not_allowed/allowed_groups" in line and response.json()["request_id"] in line
    assert app.auth.metrics.refusals() == {("dev", "allowed_groups"): 1}


async def test_a_refresh_brings_the_persons_new_roles(
    build_app: BuildApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Still admitted, with the roles the provider gives now (read afresh from userinfo)."""
    app = build_app(config=with_dev(tmp_path, allowed_groups=["admins"]))
    _, session_id = await logged_in(app, "alice")
    alice = BY_USERNAME["alice"]
    monkeypatch.setitem(BY_SUB, alice.sub, replace(alice, roles=("auditor",)))
    session = await app.auth.refresh(session_id)
    assert session.roles == ("auditor",) and session.admitted_by == "allowed_groups"
    assert app.auth.sessions.load(session_id).roles == ("auditor",)  # type: ignore[union-attr]


async def test_a_refresh_without_rules_keeps_the_session(
    build_app: BuildApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No rules: a refresh never logs anyone out, whatever the provider now says."""
    app = build_app()
    _, session_id = await logged_in(app, "alice")
    alice = BY_USERNAME["alice"]
    monkeypatch.setitem(BY_SUB, alice.sub, replace(alice, groups=()))
    assert (await app.auth.refresh(session_id)).admitted_by == ""


def test_not_allowed_carries_its_rule() -> None:
    """The error names the rule as a typed field, and in its JSON."""
    error = NotAllowed(WORDS["allowed_orgs"], rule="allowed_orgs")
    assert error.as_dict() == {
        "error": "not_allowed",
        "description": WORDS["allowed_orgs"],
        "rule": "allowed_orgs",
    }
    assert AccessRules() == AccessRules() and not AccessRules()
