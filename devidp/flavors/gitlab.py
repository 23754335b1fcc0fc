"""GitLab: OpenID Connect, on gitlab.com or any self-hosted host.

The issuer is ``https://HOST``, whatever the host: a self-hosted GitLab at
``https://gitlab.example.com`` is emulated at ``{idp}/flavors/gitlab/gitlab.example.com/``.
Quirks emulated: ``sub`` is the numeric user id as a string, with ``sub_legacy``
beside it; ``nickname`` is the username; groups come as ``groups_direct`` in the
ID token and ``groups`` from userinfo; the token response has ``created_at``;
refresh tokens rotate; errors are Doorkeeper's.
"""

from __future__ import annotations

from typing import ClassVar

from ..config import Client
from ..personas import Persona
from ..server import HttpResponse
from .accounts import stable_digits, stable_hex
from .base import Call, Endpoint, Flavor
from .responses import json_response
from .state import Grant

ERRORS: dict[str, str] = {
    "invalid_grant": (
        "The provided authorization grant is invalid, expired, revoked, does not match the "
        "redirection URI used in the authorization request, or was issued to another client."
    ),
    "invalid_client": (
        "Client authentication failed due to unknown client, no client authentication included, "
        "or unsupported authentication method."
    ),
}


class GitLab(Flavor):
    name = "gitlab"
    label = "GitLab"
    description = "GitLab (gitlab.com or self-hosted at any host): OIDC, numeric sub, groups"
    issuer = "https://{host}"
    entry_url = "https://gitlab.com/.well-known/openid-configuration"
    endpoints = (
        Endpoint("https://{host}/.well-known/openid-configuration", "discovery"),
        Endpoint("https://{host}/oauth/authorize", "authorize", ("GET", "POST")),
        Endpoint("https://{host}/oauth/token", "token", ("POST",)),
        Endpoint("https://{host}/oauth/userinfo", "userinfo", ("GET", "POST")),
        Endpoint("https://{host}/oauth/discovery/keys", "jwks"),
        Endpoint("https://{host}/oauth/revoke", "revoke", ("POST",)),
        Endpoint("https://{host}/api/v4/user", "api_user"),
        Endpoint("https://{host}/uploads/-/system/user/avatar/{id}/avatar.png", "avatar"),
    )
    discovery_document: ClassVar[dict[str, object]] = {
        "issuer": "https://{host}",
        "authorization_endpoint": "https://{host}/oauth/authorize",
        "token_endpoint": "https://{host}/oauth/token",
        "revocation_endpoint": "https://{host}/oauth/revoke",
        "userinfo_endpoint": "https://{host}/oauth/userinfo",
        "jwks_uri": "https://{host}/oauth/discovery/keys",
        "scopes_supported": ["openid", "profile", "email", "read_user"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claim_types_supported": ["normal"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "sub_legacy",
            "name",
            "nickname",
            "preferred_username",
            "email",
            "email_verified",
            "website",
            "profile",
            "picture",
            "groups",
            "groups_direct",
        ],
        "code_challenge_methods_supported": ["S256"],
    }
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {
        "openid": ("openid",),
        "profile": ("profile",),
        "email": ("email",),
        "read_user": ("profile", "email", "groups"),
    }
    response_modes = ("query", "form_post")
    access_token_ttl = 7200
    access_token_format = ("", 64)
    refresh_token_format = ("", 64)

    def account_id(self, persona: Persona) -> str:
        return stable_digits(self.name, persona, 8)

    def identity(self, call: Call, user: Persona, scope: str) -> dict[str, object]:
        words = scope.split()
        claims: dict[str, object] = {
            "sub": self.account_id(user),
            "sub_legacy": stable_hex("gitlab-legacy", user, 64),
        }
        if "profile" in words:
            claims |= {
                "name": user.name,
                "nickname": user.username,
                "preferred_username": user.username,
                "website": "",
                "profile": self.twin(call, f"https://{{host}}/{user.username}"),
                "picture": self.twin(
                    call, f"https://{{host}}/uploads/-/system/user/avatar/{self.account_id(user)}/avatar.png"
                ),
            }
        if "email" in words and user.email:
            claims |= {"email": user.email, "email_verified": user.email_verified}
        return claims

    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        ordered = (
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "scope",
            "created_at",
            "id_token",
        )
        body = body | {"scope": " ".join(self.requested_scopes(grant)), "created_at": call.server.now()}
        return {key: body[key] for key in ordered if key in body}

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        description = ERRORS.get(error, str(body.get("error_description", "")))
        return super().token_error(call, status, {"error": error, "error_description": description})

    def id_token_claims(
        self, call: Call, grant: Grant, claims: dict[str, object], client: Client, scope: str
    ) -> dict[str, object]:
        user = grant.user
        out = self.protocol_claims(claims, "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash")
        out |= self.identity(call, user, scope)
        if "groups" in scope.split():
            out["groups_direct"] = list(user.groups)
        return out

    def userinfo(self, call: Call) -> HttpResponse:
        caller = self.bearer(call)
        info = self.identity(call, caller.user, " ".join(caller.scopes))
        if "groups" in caller.scopes:
            info["groups"] = list(caller.user.groups)
        return json_response(info)

    def api_user(self, call: Call) -> HttpResponse:
        """GET /api/v4/user: the REST API's view of the person (needs read_user)."""
        caller = self.bearer(call, "groups")
        user, user_id = caller.user, int(self.account_id(caller.user))
        return json_response(
            {
                "id": user_id,
                "username": user.username,
                "name": user.name,
                "state": "active",
                "locked": False,
                "avatar_url": self.twin(
                    call, f"https://{{host}}/uploads/-/system/user/avatar/{user_id}/avatar.png"
                ),
                "web_url": self.twin(call, f"https://{{host}}/{user.username}"),
                "created_at": "2020-02-02T12:00:00.000Z",
                "email": user.email,
                "public_email": None,
                "confirmed_at": "2020-02-02T12:05:00.000Z" if user.email_verified else None,
            }
        )
