"""The access rules as the secrets configure them (streamlit_authlib_login/_core/rules.py and
roles.py through load_config): where they hold, how a provider's table replaces [auth]'s, and a
clear start-up error for each rule that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamlit_authlib_login._core.config import AuthConfig, load_config
from streamlit_authlib_login._core.errors import ConfigError
from streamlit_authlib_login._core.roles import RoleEntry
from streamlit_authlib_login._core.rules import startup_lines
from streamlit_authlib_login._devmode import DEV_MODE

SECRET = "a-cookie-secret-of-at-least-32-characters"
TENANT = "4a3c7f52-9b1e-4d8a-a6f0-3e2d1c0b9a87"
OIDC = {
    "client_id": "id",
    "client_secret": "s",
    "server_metadata_url": "https://sso.example/.well-known/openid-configuration",
}
GITHUB = {
    "client_id": "id",
    "client_secret": "s",
    "client_kwargs": {"scope": "read:user user:email read:org"},
}
MICROSOFT = {"client_id": "id", "client_secret": "s", "preset": "microsoft"}


def load(auth: dict[str, object], tmp_path: Path) -> AuthConfig:
    return load_config({"auth": {"cookie_secret": SECRET, **auth}}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)


def test_rules_of_auth_hold_for_every_provider_and_a_table_replaces_them(tmp_path: Path) -> None:
    """[auth]'s allowed_domains reaches both; corp's own replaces it key by key, and adds a group."""
    corp = {
        **OIDC,
        "allowed_domains": ["Corp.Example"],
        "allowed_groups": ["admins"],
        "groups_claim": "roles",
    }
    config = load({"allowed_domains": ["example.com"], "allowed_emails": ["A@x.io"], "corp": corp,
                   "other": OIDC}, tmp_path)  # fmt: skip
    rules = {p.name: p.access for p in config.providers}
    assert rules["other"].allowed == {"allowed_domains": ("example.com",), "allowed_emails": ("a@x.io",)}
    assert rules["corp"].allowed == {
        "allowed_domains": ("corp.example",), "allowed_emails": ("a@x.io",), "allowed_groups": ("admins",)
    }  # fmt: skip
    assert rules["corp"].groups_claim == "roles" and rules["other"].groups_claim == "groups"


def test_rules_of_auth_hold_for_the_development_provider_too(tmp_path: Path) -> None:
    """Development mode is no way around them: the dev provider and its twins get [auth]'s rules."""
    config = load({"allowed_emails": ["alice@example.com"]}, tmp_path)
    assert config.providers and all(p.access.allowed for p in config.providers)


def test_st_logins_single_provider_gets_the_rules_of_auth(tmp_path: Path) -> None:
    """[auth] client_id etc. is the provider "default": [auth]'s rules are its rules."""
    config = load({**OIDC, "allowed_emails": ["alice@example.com"]}, tmp_path)
    (default,) = config.providers
    assert default.name == "default" and default.access.allowed == {"allowed_emails": ("alice@example.com",)}


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ({"allowed_emails": "alice@example.com"}, "[auth] `allowed_emails` must be a list of strings"),
        ({"allowed_domains": []}, "`allowed_domains` is empty, which would admit nobody"),
        ({"allowed_domains": ["@example.com"]}, "write the domain alone"),
        ({"allowed_emails": ["example.com"]}, "is not an email address"),
        ({"allowed_groups": ["admins", 3]}, "`allowed_groups` must be a list of strings"),
        ({"groups_claim": ""}, "`groups_claim` must be a claim name"),
        ({"github": {**GITHUB, "allowed_teams": ["admins"]}}, "a team is `org/team-slug`"),
        ({"github": {**GITHUB, "allowed_orgs": ["a/b"]}}, "an organization's login has no `/`"),
        ({"microsoft": {**MICROSOFT, "allowed_tenants": ["contoso.com"]}}, "not a domain name"),
        ({"google": {**OIDC, "preset": "google", "allowed_orgs": ["x"]}},
         "[auth.google] `allowed_orgs` is a GitHub-only rule (only GitHub's API answers it)"),
        ({"allowed_orgs": ["x"], "github": GITHUB, "corp": OIDC},
         "[auth] `allowed_orgs` holds for every provider, but it is a GitHub-only rule"),
        ({"corp": {**OIDC, "allowed_tenants": [TENANT]}}, "is a Microsoft-only rule"),
        ({"github": {**GITHUB, "client_kwargs": {}, "allowed_orgs": ["x"]}}, "need the `read:org` scope"),
        ({"roles": {"admin": "alice@example.com"}}, "[auth.roles] `admin` must be a list"),
        ({"roles": {"admin": ["admins"]}}, 'an entry is an email, "@domain" or "group:<name>"'),
        ({"roles": {"client_id": "x", "client_secret": "y"}}, "no provider can be named roles"),
    ],
    ids=["not-a-list", "empty", "at-domain", "bare-domain-email", "not-strings", "empty-claim", "team-shape",
         "org-slash", "tenant-domain", "orgs-on-google", "orgs-in-auth", "tenants-on-oidc", "no-read-org",
         "role-string", "role-entry", "roles-provider"],
)  # fmt: skip
def test_a_rule_that_cannot_work_stops_the_start(tmp_path: Path, auth: dict[str, object], words: str) -> None:
    """Each names the table, the key and what to write instead."""
    with pytest.raises(ConfigError) as raised:
        load(auth, tmp_path)
    assert words in raised.value.description


def test_entra_through_the_generic_preset_takes_tenant_rules(tmp_path: Path) -> None:
    """An OIDC provider at login.microsoftonline.com is Microsoft, whatever its preset."""
    url = f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
    config = load(
        {"entra": {**OIDC, "server_metadata_url": url, "allowed_tenants": [TENANT.upper()]}}, tmp_path
    )
    (entra,) = config.providers
    assert entra.family == "microsoft" and entra.access.allowed == {"allowed_tenants": (TENANT,)}


def test_roles_table_is_parsed_and_is_no_provider(tmp_path: Path) -> None:
    """[auth.roles] maps roles to emails, @domains and groups; it never becomes a provider."""
    roles = {"admin": ["Alice@Example.com", "group:admins"], "staff": ["@example.com"]}
    config = load({"corp": OIDC, "roles": roles}, tmp_path)
    assert [p.name for p in config.providers] == ["corp"]
    assert config.roles == {
        "admin": (RoleEntry("email", "alice@example.com"), RoleEntry("group", "admins")),
        "staff": (RoleEntry("domain", "example.com"),),
    }


def test_the_start_up_log_says_who_each_provider_admits(tmp_path: Path) -> None:
    """One line per provider (rule names and sizes, never the values), one for the app's keys."""
    config = load({"corp": {**OIDC, "allowed_domains": ["example.com", "example.kr"]}, "mail": OIDC,
                   "admins": ["x@example.com"], "welcome": "Hi"}, tmp_path)  # fmt: skip
    lines = startup_lines(((p.name, p.access) for p in config.providers), config.app_keys)
    assert lines == [
        "access: corp admits only people who pass all of: allowed_domains (2)",
        "access: mail admits anyone with an account there (no allowed_* rules)",
        "settings: [auth] keys left to the app (this login module does not use them): admins, welcome",
    ]
    assert not any("example" in line for line in lines)
