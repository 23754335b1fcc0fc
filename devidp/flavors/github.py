"""GitHub: OAuth 2.0 only (an OAuth app), no ID token, no discovery.

Quirks emulated: the token response is form-encoded unless the request says
``Accept: application/json``; token errors come back as HTTP 200; scopes in the
token response are comma-separated; the token request needs no ``grant_type``
nor ``redirect_uri``; ``/user`` shows a private email as null, so the email is
in ``/user/emails`` (which needs ``user:email``, and answers 404 without it);
some people have no verified email at all; the API wants a User-Agent;
organisations and teams come from ``/user/orgs`` and ``/user/teams``, paginated,
with ``read:org`` (or ``user``), and ``/users/{login}/orgs`` shows only public
memberships (``github_orgs.py``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import partial
from typing import ClassVar
from urllib.parse import urlencode

from authlib.oauth2.rfc6750.errors import InsufficientScopeError

from ..config import AUTH_CODE
from ..personas import Persona
from ..server import HttpRequest, HttpResponse
from .accounts import stable_digits
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused
from .github_orgs import (
    ACCEPTED_SCOPES,
    ORG_SCOPES,
    ORGS,
    org_avatar,
    org_json,
    orgs_of,
    paginate,
    team_json,
    teams_of,
)
from .responses import NO_STORE, json_response, with_authorization
from .state import Grant

DOCS = "https://docs.github.com"
TOKEN_ERRORS_DOC = f"{DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"


@dataclass(frozen=True)
class GitHubAccount:
    login: str
    public_email: bool  # shown on the profile; otherwise /user says "email": null
    shows_name: bool = True  # many GitHub users never set a name: "name": null


ACCOUNTS: dict[str, GitHubAccount] = {
    "alice": GitHubAccount("alice-anderson", public_email=True),
    # Only an unverified email: no verified email at all.
    "bob": GitHubAccount("bobbrown", public_email=False),
    "dana": GitHubAccount("dana-dubois", public_email=False),  # only her unverified address
    "erin": GitHubAccount("erin-eriksen", public_email=True),
    # A private email: null on the profile, verified and primary in /user/emails.
    "jiwoo": GitHubAccount("jiwoo-kim", public_email=False),
    # No email and no name.
    "noemail": GitHubAccount("casey-n", public_email=False, shows_name=False),
    "longname": GitHubAccount("adelheid-vh", public_email=True),
    "mallory": GitHubAccount("m4llory", public_email=False),  # GitHub shows only verified ones
}


class GitHub(Flavor):
    name = "github"
    label = "GitHub"
    description = "GitHub OAuth app: OAuth 2.0 only, profile from /user, emails from /user/emails"
    entry_url = "https://github.com/login/oauth/authorize"
    endpoints = (
        Endpoint("https://github.com/login/oauth/authorize", "authorize", ("GET", "POST")),
        Endpoint("https://github.com/login/oauth/access_token", "token", ("POST",)),
        Endpoint("https://api.github.com/user", "user"),
        Endpoint("https://api.github.com/user/emails", "emails"),
        Endpoint("https://api.github.com/user/orgs", "orgs"),
        Endpoint("https://api.github.com/user/teams", "teams"),
        Endpoint("https://api.github.com/users/{login}/orgs", "public_orgs"),
        Endpoint("https://avatars.githubusercontent.com/u/{id}", "avatar"),
    )
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {
        "read:user": ("profile",),
        "user:email": ("email",),
        "user": ("profile", "email"),
        "read:org": ("groups",),
    }
    scope_separators = " ,"
    default_response_type = "code"
    implied_grant_type = AUTH_CODE
    fills_redirect_uri = True
    access_token_ttl = 365 * 24 * 3600  # OAuth app tokens do not expire
    access_token_format = ("gho_", 36)

    def account_id(self, persona: Persona) -> str:
        return stable_digits(self.name, persona, 8)

    def avatar(self, call: Call) -> HttpResponse:
        """Organisations have pictures at the same URLs as users."""
        org = next((o for o in ORGS.values() if str(o.id) == call.params.get("id")), None)
        if org is None:
            return super().avatar(call)
        return HttpResponse(
            status=200,
            body=org_avatar(org),
            headers=[("Content-Type", "image/svg+xml"), ("Cache-Control", "public, max-age=3600")],
        )

    # --- token endpoint: form-encoded by default, errors with HTTP 200 ---------------------------
    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        self.discard_refresh_token(call, body)  # OAuth apps get no refresh token
        granted = [s for s in self.requested_scopes(grant) if s in self.scopes]
        return {"access_token": body["access_token"], "scope": ",".join(granted), "token_type": "bearer"}

    def token_reply(self, call: Call, body: dict[str, object]) -> HttpResponse:
        if "application/json" in call.request.headers.get("accept", ""):
            return json_response(body, headers=NO_STORE)
        return HttpResponse(
            status=200,
            body=urlencode(body),
            headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), *NO_STORE],
        )

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        description = str(body.get("error_description", ""))
        if error == "invalid_client":
            error, description = (
                "incorrect_client_credentials",
                "The client_id and/or client_secret passed are incorrect.",
            )
        elif error == "invalid_grant" and "redirect_uri" in description:
            error, description = (
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            )
        elif error == "invalid_grant":
            error, description = "bad_verification_code", "The code passed is incorrect or expired."
        anchor = error.replace("_", "-")
        return self.token_reply(
            call,
            {"error": error, "error_description": description, "error_uri": f"{TOKEN_ERRORS_DOC}#{anchor}"},
        )

    def redirect_params(self, call: Call, answer: dict[str, str], grant: Grant | None) -> dict[str, str]:
        if answer.get("error") == "access_denied":
            answer["error_description"] = "The user has denied your application access."
            answer["error_uri"] = (
                f"{DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied"
            )
        return answer

    # --- the REST API ------------------------------------------------------------------------------
    def api_request(self, call: Call) -> HttpRequest:
        auth = call.request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "token":  # GitHub's own scheme, alongside Bearer
            return HttpRequest(
                method=call.request.method,
                url=call.request.url,
                headers=with_authorization(call.request.headers, f"Bearer {token}"),
                query=call.request.query,
            )
        return call.request

    def _scope_headers(self, grant: Grant, accepted: str) -> list[tuple[str, str]]:
        granted = [s for s in self.requested_scopes(grant) if s in self.scopes]
        return [
            ("X-OAuth-Scopes", ", ".join(granted)),
            ("X-Accepted-OAuth-Scopes", accepted),
            ("X-GitHub-Media-Type", "github.v3; format=json"),
        ]

    def _needs_user_agent(self, call: Call) -> HttpResponse | None:
        if call.request.headers.get("user-agent"):
            return None
        return HttpResponse(
            status=403,
            body=(
                "Request forbidden by administrative rules. Please make sure your request has a "
                f"User-Agent header ({DOCS}/rest/overview/resources-in-the-rest-api#user-agent-required)."
            ),
            headers=[("Content-Type", "text/plain; charset=utf-8")],
        )

    def user(self, call: Call) -> HttpResponse:
        """GET /user: the authenticated user's profile."""
        if refused := self._needs_user_agent(call):
            return refused
        caller = self.bearer(call)
        persona, account = caller.user, ACCOUNTS[caller.user.username]
        user_id = int(self.account_id(persona))
        profile: dict[str, object] = {
            "login": account.login,
            "id": user_id,
            "node_id": "U_kgDO" + base64.b64encode(user_id.to_bytes(4, "big")).decode().rstrip("="),
            "avatar_url": self.twin(call, f"https://avatars.githubusercontent.com/u/{user_id}?v=4"),
            "gravatar_id": "",
            "url": self.twin(call, f"https://api.github.com/users/{account.login}"),
            "html_url": self.twin(call, f"https://github.com/{account.login}"),
            "type": "User",
            "site_admin": False,
            "name": persona.name if account.shows_name else None,
            "company": None,
            "blog": "",
            "location": None,
            "email": persona.email if account.public_email else None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": 3,
            "public_gists": 0,
            "followers": 1,
            "following": 1,
            "created_at": "2020-02-02T12:00:00Z",
            "updated_at": "2025-01-01T12:00:00Z",
        }
        return json_response(profile, headers=self._scope_headers(caller.grant, ""))

    def emails(self, call: Call) -> HttpResponse:
        """GET /user/emails: every address, with primary, verified and visibility; needs user:email."""
        if refused := self._needs_user_agent(call):
            return refused
        caller = self.bearer(call)
        if "email" not in caller.scopes:
            # GitHub hides what a token may not see behind a 404.
            raise ApiRefused(InsufficientScopeError.error, "Not Found", 404)
        persona, account = caller.user, ACCOUNTS[caller.user.username]
        emails = (
            [
                {
                    "email": persona.email,
                    "primary": True,
                    "verified": persona.email_verified,
                    "visibility": "public" if account.public_email else "private",
                }
            ]
            if persona.email
            else []
        )
        return json_response(emails, headers=self._scope_headers(caller.grant, "user"))

    def orgs(self, call: Call) -> HttpResponse:
        """GET /user/orgs: the user's organisations, public and private; needs read:org or user."""
        return self._memberships(
            call,
            "orgs",
            "rest/orgs/orgs#list-organizations-for-the-authenticated-user",
            # GitHub's own words (seen in the wild, e.g. octokit issues):
            "You need at least read:org scope or user scope to list your organizations.",
        )

    def teams(self, call: Call) -> HttpResponse:
        """GET /user/teams: the user's teams in every organisation; needs read:org or user."""
        return self._memberships(
            call,
            "teams",
            "rest/teams/teams#list-teams-for-the-authenticated-user",
            # The twin's words: GitHub documents the 403, not its message.
            "You need at least read:org scope or user scope to list your teams.",
        )

    def _memberships(self, call: Call, kind: str, doc: str, refusal: str) -> HttpResponse:
        if refused := self._needs_user_agent(call):
            return refused
        caller = self.bearer(call)
        headers = self._scope_headers(caller.grant, ACCEPTED_SCOPES)
        if not ORG_SCOPES & set(self.requested_scopes(caller.grant)):
            # GitHub's documented answer to an OAuth app token without either scope.
            body = {"message": refusal, "documentation_url": f"{DOCS}/{doc}", "status": "403"}
            return json_response(body, 403, headers=headers)
        twin = partial(self.twin, call)
        username = caller.user.username
        items = (
            [org_json(org, twin) for org in orgs_of(username)]
            if kind == "orgs"
            else [team_json(team, twin) for team in teams_of(username)]
        )
        page = paginate(items, dict(call.request.query), f"https://api.github.com/user/{kind}", twin)
        link = [("Link", page.link)] if page.link else []
        return json_response(page.items, headers=[*headers, *link])

    def public_orgs(self, call: Call) -> HttpResponse:
        """GET /users/{login}/orgs: only the memberships the person made public; no scope needed."""
        if refused := self._needs_user_agent(call):
            return refused
        login = call.params.get("login", "").lower()
        username = next((u for u, a in ACCOUNTS.items() if a.login.lower() == login), None)
        if username is None:
            doc = f"{DOCS}/rest/orgs/orgs#list-organizations-for-a-user"
            return json_response({"message": "Not Found", "documentation_url": doc, "status": "404"}, 404)
        twin = partial(self.twin, call)
        items = [org_json(org, twin) for org in orgs_of(username, public_only=True)]
        real = f"https://api.github.com/users/{ACCOUNTS[username].login}/orgs"
        page = paginate(items, dict(call.request.query), real, twin)
        return json_response(page.items, headers=[("Link", page.link)] if page.link else [])

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        if refusal.status == 404:
            message, doc = "Not Found", "rest/users/emails#list-email-addresses-for-the-authenticated-user"
        elif refusal.error == "missing_authorization":
            message, doc = "Requires authentication", "rest/users/users#get-the-authenticated-user"
        else:
            message, doc = "Bad credentials", "rest"
        status = 404 if refusal.status == 404 else 401
        return json_response(
            {"message": message, "documentation_url": f"{DOCS}/{doc}", "status": str(status)}, status
        )
