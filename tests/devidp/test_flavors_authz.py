"""What allow-lists read, at the provider and its twins (issue 23): Dana's unverified and Erin's
verified address at example.com (devidp/personas.py), Google's `hd`
(devidp/flavors/google.py), Entra's tenants, `xms_edov`, the nOAuth account, groups, app
roles and the overage (devidp/flavors/microsoft.py, microsoft_accounts.py), GitHub's
organisations and teams (devidp/flavors/github.py, github_orgs.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from relying_party import pkce_pair, query_of, sign_in, validate_id_token

import devidp
from devidp import Client, RunningProvider
from devidp.flavors import FLAVORS, apple, emulated_url, github, github_orgs, microsoft_accounts
from devidp.flavors.microsoft_accounts import CONSUMERS, CONTOSO, FABRIKAM, NORTHWIND, group_id
from devidp.personas import BY_USERNAME

APP = "authz-app"
SECRET = "authz-app-secret"
CALLBACK = "http://127.0.0.1:8501/auth/callback/{}"
MICROSOFT = "https://login.microsoftonline.com/common/oauth2/v2.0/{}"
GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GITHUB_AUTHORIZE = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GRAPH = "https://graph.microsoft.com/v1.0"


class Twins:
    """The app's side against the twins: one keep-alive HTTP client for the whole module."""

    def __init__(self, provider: RunningProvider, http: httpx2.Client) -> None:
        self.provider = provider
        self.http = http

    def url(self, flavor: str, real_url: str) -> str:
        return emulated_url(real_url, self.provider.url, flavor)

    def tokens(self, flavor: str, authorize: str, token: str, persona: str, scope: str) -> dict[str, str]:
        """The code flow with PKCE through a twin, unattended (login_hint); the token response."""
        verifier, challenge = pkce_pair()
        callback = CALLBACK.format(flavor)
        nonce = secrets.token_urlsafe(12)
        response = self.http.get(
            self.url(flavor, authorize),
            params={
                "client_id": APP,
                "redirect_uri": callback,
                "response_type": "code",
                "scope": scope,
                "state": "st",
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "login_hint": persona,
            },
        )
        assert response.status_code == 302, response.text
        answer = self.http.post(
            self.url(flavor, token),
            data={
                "grant_type": "authorization_code",
                "code": query_of(response.headers["location"])["code"],
                "redirect_uri": callback,
                "code_verifier": verifier,
            },
            auth=(APP, SECRET),
            headers={"Accept": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json()) | {"nonce": nonce}

    def id_token(self, flavor: str, keys_url: str, issued: dict[str, str]) -> dict[str, object]:
        """The ID token's claims, its signature checked against the twin's JWKS."""
        keys = KeySet.import_key_set(self.http.get(self.url(flavor, keys_url)).json())
        claims = jwt.decode(issued["id_token"], keys, algorithms=["RS256"]).claims
        assert claims["aud"] == APP and claims["nonce"] == issued["nonce"]
        return claims

    def get(self, flavor: str, real_url: str, token: str | None = None) -> httpx2.Response:
        return self.http.get(self.url(flavor, real_url), headers=bearer(token))

    def post(self, url: str, token: str | None = None, **kwargs: object) -> httpx2.Response:
        return self.http.post(url, headers=bearer(token), **kwargs)  # type: ignore[arg-type]


def bearer(token: str | None) -> dict[str, str]:
    agent = {"User-Agent": "authz-test"}  # GitHub's API refuses a request without one
    return agent | ({"Authorization": f"Bearer {token}"} if token else {})


@pytest.fixture(scope="module")
def twins() -> Iterator[Twins]:
    """A provider of this module's own, with one app registered for every flavour's callback."""
    with devidp.serve() as running, httpx2.Client() as http:
        callbacks = tuple(CALLBACK.format(name) for name in FLAVORS)
        running.server.register_client(
            Client(client_id=APP, client_secret=SECRET, name="Allow-list app", redirect_uris=callbacks)
        )
        yield Twins(running, http)


# --- the personas at the provider itself -----------------------------------------------------------


def test_every_persona_has_an_account_at_each_twin_that_keeps_per_person_data():
    """A persona without one would break that twin's login with a KeyError (Mallory did, before)."""
    everyone = set(BY_USERNAME)
    assert set(apple.ACCOUNTS) == everyone
    assert set(github.ACCOUNTS) == everyone
    assert set(github_orgs.MEMBERSHIPS) == everyone
    assert set(microsoft_accounts.ACCOUNTS) == everyone


@pytest.mark.parametrize(
    ("persona", "email", "verified", "groups"),
    [
        ("alice", "alice@example.com", True, ["staff", "admins"]),
        ("dana", "dana@example.com", False, ["staff"]),
        ("erin", "erin@example.com", True, ["contractors"]),
        ("jiwoo", "jiwoo@example.kr", True, ["users"]),
        ("bob", "bob@example.org", False, ["staff"]),
        ("noemail", None, None, []),
    ],
)
def test_personas_cover_the_allow_list_cases(idp, rp, persona, email, verified, groups):
    """With `groups` in the scope, who is an admin and whose address is verified: Alice passes
    `allowed_groups = ["admins"]`, Alice, 김지우 and Erin pass `allowed_domains` for example.com
    and example.kr, and Dana (unverified at example.com), Bob and Casey pass neither."""
    login = sign_in(idp.url, rp("demo-web", scope="openid email groups"), persona)
    claims = validate_id_token(login, idp.url, "demo-web")
    assert claims.get("email") == email
    assert claims.get("email_verified") is verified
    assert claims["groups"] == groups


# --- Google: hd ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "hd"), [("alice", "example.com"), ("erin", None), ("dana", None)])
def test_google_hd_only_for_the_workspace_account(twins, persona, hd):
    """Alice's account is example.com's Workspace; Erin's verified address there is a personal
    account's, and Dana's unverified one too: neither carries `hd`, in the ID token or userinfo."""
    issued = twins.tokens("google", GOOGLE_AUTHORIZE, GOOGLE_TOKEN, persona, "openid email profile")
    claims = twins.id_token("google", "https://www.googleapis.com/oauth2/v3/certs", issued)
    userinfo = twins.get(
        "google", "https://openidconnect.googleapis.com/v1/userinfo", issued["access_token"]
    ).json()
    person = BY_USERNAME[persona]
    for seen in (claims, userinfo):
        assert seen.get("hd") == hd
        assert seen["email"] == person.email and seen["email_verified"] is person.email_verified


# --- Microsoft: tid, xms_edov, nOAuth, groups, roles, overage ---------------------------------------


def microsoft_login(twins: Twins, persona: str) -> tuple[dict[str, str], dict[str, object]]:
    authorize, token = MICROSOFT.format("authorize"), MICROSOFT.format("token")
    issued = twins.tokens("microsoft", authorize, token, persona, "openid profile email")
    keys = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
    return issued, twins.id_token("microsoft", keys, issued)


@pytest.mark.parametrize(
    ("persona", "tid", "edov"),
    [
        ("alice", CONTOSO, True),  # Contoso verified example.com
        ("bob", CONTOSO, False),  # example.org is nobody's verified domain there
        ("dana", FABRIKAM, False),
        ("erin", CONSUMERS, True),  # personal accounts: Microsoft verified the address
        ("jiwoo", CONSUMERS, True),
        ("mallory", NORTHWIND, False),
        ("noemail", FABRIKAM, None),  # no email claim, so no xms_edov either
    ],
)
def test_microsoft_tenant_and_xms_edov_per_account(twins, persona, tid, edov):
    """Each account's tid is its tenant's (and iss names it); xms_edov comes only with `email`."""
    _, claims = microsoft_login(twins, persona)
    assert claims["tid"] == tid
    assert str(claims["iss"]).endswith(f"/login.microsoftonline.com/{tid}/v2.0")
    assert claims.get("xms_edov") is edov
    assert ("email" in claims) is (edov is not None)
    assert "email_verified" not in claims


def test_microsoft_noauth_another_tenant_claims_alices_email(twins):
    """Mallory's own tenant hands her alice@example.com: the same `email` as Alice's, from
    another tid, with another oid, and xms_edov false; Graph's /me says the same."""
    _, alice = microsoft_login(twins, "alice")
    issued, mallory = microsoft_login(twins, "mallory")
    assert mallory["email"] == alice["email"] == "alice@example.com"  # a naive check lets her in
    assert (mallory["tid"], alice["tid"]) == (NORTHWIND, CONTOSO)
    assert mallory["oid"] != alice["oid"] and mallory["sub"] != alice["sub"]
    assert (mallory["xms_edov"], alice["xms_edov"]) == (False, True)
    assert mallory["roles"] == ["admin"]  # she assigned it to herself, in her tenant
    me = twins.get("microsoft", f"{GRAPH}/me", issued["access_token"]).json()
    assert me["mail"] == "alice@example.com"
    assert me["userPrincipalName"] == "mallory@northwind.onmicrosoft.com"


def test_microsoft_groups_are_object_ids_and_roles_are_app_roles(twins):
    """Alice's groups are her tenant's group ids (names are not unique); personal accounts have
    neither groups nor roles; a group of the same name in another tenant has another id."""
    _, alice = microsoft_login(twins, "alice")
    assert alice["groups"] == [group_id(CONTOSO, "staff"), group_id(CONTOSO, "admins")]
    assert alice["roles"] == ["admin"]
    _, mallory = microsoft_login(twins, "mallory")
    assert group_id(NORTHWIND, "staff") in mallory["groups"]
    assert group_id(CONTOSO, "staff") not in mallory["groups"]
    _, jiwoo = microsoft_login(twins, "jiwoo")
    assert {"groups", "roles", "_claim_names", "hasgroups"}.isdisjoint(jiwoo)


def test_microsoft_groups_overage_points_at_graph(twins):
    """In 242 groups, Adelheid's ID token has no `groups` but the overage indicator; its
    endpoint (Graph's getMemberObjects) lists all 242 for her own token, and nobody else's."""
    issued, claims = microsoft_login(twins, "longname")
    assert "groups" not in claims and "hasgroups" not in claims
    assert claims["_claim_names"] == {"groups": "src1"}
    endpoint = twins.url("microsoft", f"{GRAPH}/users/{claims['oid']}/getMemberObjects")
    assert claims["_claim_sources"] == {"src1": {"endpoint": endpoint}}
    assert claims["roles"] == ["auditor", "billing", "support"]  # app roles have no overage

    body = {"securityEnabledOnly": True}
    listed = twins.post(endpoint, issued["access_token"], json=body)
    assert listed.status_code == 200
    assert len(listed.json()["value"]) == 242
    assert group_id(CONTOSO, "project-01") in listed.json()["value"]
    assert twins.post(endpoint, json=body).status_code == 401

    alices, _ = microsoft_login(twins, "alice")
    refused = twins.post(endpoint, alices["access_token"], json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert twins.post(endpoint, issued["access_token"], content=b"[").status_code == 400


# --- GitHub: organisations and teams --------------------------------------------------------------


def github_token(twins: Twins, persona: str, scope: str) -> str:
    return twins.tokens("github", GITHUB_AUTHORIZE, GITHUB_TOKEN, persona, scope)["access_token"]


def github_get(twins: Twins, path: str, token: str | None = None) -> httpx2.Response:
    return twins.get("github", f"https://api.github.com{path}", token)


@pytest.mark.parametrize(
    ("persona", "orgs", "teams"),
    [
        ("alice", ["examplecorp"], ["examplecorp/admins", "examplecorp/staff"]),
        ("bob", ["examplecorp"], ["examplecorp/staff"]),
        ("jiwoo", ["seoul-devs"], ["seoul-devs/maintainers"]),
        ("mallory", ["example-corp"], ["example-corp/admins"]),  # a look-alike organisation
        ("noemail", [], []),
    ],
)
def test_github_orgs_and_teams_with_read_org(twins, persona, orgs, teams):
    """With read:org, /user/orgs lists organisations by login and /user/teams teams by slug,
    each with its organisation's login, in GitHub's shapes."""
    token = github_token(twins, persona, "read:user read:org")
    listed_orgs = github_get(twins, "/user/orgs", token)
    listed_teams = github_get(twins, "/user/teams", token)
    assert listed_orgs.status_code == listed_teams.status_code == 200
    assert listed_orgs.headers["x-oauth-scopes"] == "read:user, read:org"
    assert [o["login"] for o in listed_orgs.json()] == orgs
    assert [f"{t['organization']['login']}/{t['slug']}" for t in listed_teams.json()] == teams
    for org in listed_orgs.json():
        assert isinstance(org["id"], int) and org["node_id"].startswith("O_")
        assert twins.http.get(org["avatar_url"]).headers["content-type"] == "image/svg+xml"
    for team in listed_teams.json():
        assert isinstance(team["id"], int) and team["organization"]["type"] == "Organization"


def test_github_look_alike_organisation_differs_only_in_its_login(twins):
    """Mallory's example-corp has Example Corp's display name: only the login tells them apart."""
    alice = github_get(twins, "/user/orgs", github_token(twins, "alice", "read:org")).json()
    mallory = github_get(twins, "/user/teams", github_token(twins, "mallory", "read:org")).json()
    assert mallory[0]["slug"] == "admins" and mallory[0]["organization"]["name"] == "Example Corp"
    assert mallory[0]["organization"]["login"] != alice[0]["login"]
    assert mallory[0]["organization"]["id"] != alice[0]["id"]


def test_github_orgs_and_teams_need_read_org_or_user(twins):
    """Without read:org or user both answer 403 saying which scope is missing; `user` suffices."""
    token = github_token(twins, "alice", "read:user user:email")
    for path in ("/user/orgs", "/user/teams"):
        refused = github_get(twins, path, token)
        assert refused.status_code == 403
        assert "read:org" in refused.json()["message"]
        assert refused.headers["x-accepted-oauth-scopes"] == "admin:org, read:org, repo, user, write:org"
    assert github_get(twins, "/user/orgs", token).json()["message"] == (
        "You need at least read:org scope or user scope to list your organizations."
    )
    with_user = github_token(twins, "alice", "user")
    assert [o["login"] for o in github_get(twins, "/user/orgs", with_user).json()] == ["examplecorp"]
    assert github_get(twins, "/user/orgs").status_code == 401


def links(response: httpx2.Response) -> dict[str, str]:
    """The Link header (RFC 8288) by relation."""
    pairs = (part.split("; rel=") for part in response.headers["link"].split(", "))
    return {rel.strip('"'): url.strip("<>") for url, rel in pairs}


def test_github_teams_come_30_to_a_page(twins):
    """Adelheid's 36 teams: 30 on the first page, `curators` on the second, found by the Link
    header's `next`; per_page=100 gives them all at once, with no Link."""
    token = github_token(twins, "longname", "read:org")
    first = github_get(twins, "/user/teams", token)
    assert len(first.json()) == 30
    assert "curators" not in [t["slug"] for t in first.json()]
    assert links(first) == {
        "next": twins.url("github", "https://api.github.com/user/teams?page=2"),
        "last": twins.url("github", "https://api.github.com/user/teams?page=2"),
    }
    second = twins.http.get(links(first)["next"], headers=bearer(token))
    assert len(second.json()) == 6 and second.json()[-1]["slug"] == "curators"
    assert set(links(second)) == {"prev", "first"}
    everything = github_get(twins, "/user/teams?per_page=100", token)
    assert len(everything.json()) == 36 and "link" not in everything.headers


@pytest.mark.parametrize(
    ("login", "public", "private"),
    [("alice-anderson", ["examplecorp"], []), ("bobbrown", [], ["examplecorp"])],
)
def test_github_users_orgs_lists_only_public_memberships(twins, login, public, private):
    """/users/{login}/orgs (the profile's organizations_url) needs no token and shows only public
    memberships: Bob's private one in examplecorp is missing there, not in /user/orgs."""
    listed = github_get(twins, f"/users/{login}/orgs")
    assert listed.status_code == 200
    assert [o["login"] for o in listed.json()] == public
    persona = next(u for u, a in github.ACCOUNTS.items() if a.login == login)
    token = github_token(twins, persona, "read:org")
    assert [o["login"] for o in github_get(twins, "/user/orgs", token).json()] == public + private
    assert github_get(twins, "/users/nobody-here/orgs").status_code == 404
