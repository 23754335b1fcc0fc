"""Google: OpenID Connect.

Quirks emulated: a refresh token only when the authorization request said
``access_type=offline``, and after the first one for a person and app only
with ``prompt=consent`` too; refresh tokens do not rotate; the granted scope
comes back as URLs (``https://www.googleapis.com/auth/userinfo.email``); the
ID token has ``azp``, no ``auth_time``, and ``hd`` only for Workspace accounts;
the authorization response carries ``iss``, ``scope``, ``authuser`` and
``prompt``; the revocation endpoint needs no client authentication; the endpoints before v2
(``/o/oauth2/auth``, ``/o/oauth2/token``) answer as the current ones do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from ..config import Client
from ..personas import Persona
from ..server import HttpResponse
from .accounts import stable_digits
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused, TokenRefused
from .responses import json_response, with_authorization
from .state import Grant

USERINFO_EMAIL = "https://www.googleapis.com/auth/userinfo.email"
USERINFO_PROFILE = "https://www.googleapis.com/auth/userinfo.profile"
# `hd` is "the domain associated with the Google Cloud organization of the user. Provided
# only if the user belongs to a Google Cloud organization" (Google's OpenID Connect guide):
# a Workspace or Cloud Identity account. Alice's account is example.com's. Erin's address at
# example.com is verified, but her account is a personal one (Google calls it unmanaged), so
# she has no `hd`: an address at a domain is not membership of its organisation. Bob, Dana,
# Jiwoo and the others have personal accounts too.
HOSTED_DOMAINS = {"alice": "example.com"}


class Google(Flavor):
    name = "google"
    label = "Google"
    description = "Google: OIDC; refresh tokens need access_type=offline (and prompt=consent)"
    issuer = "https://accounts.google.com"
    entry_url = "https://accounts.google.com/.well-known/openid-configuration"
    endpoints = (
        Endpoint("https://accounts.google.com/.well-known/openid-configuration", "discovery"),
        Endpoint("https://accounts.google.com/o/oauth2/v2/auth", "authorize", ("GET", "POST")),
        Endpoint("https://oauth2.googleapis.com/token", "token", ("POST",)),
        # The endpoints before v2 (the blog post's, in Authlib's old examples): still answered.
        Endpoint("https://accounts.google.com/o/oauth2/auth", "authorize", ("GET", "POST")),
        Endpoint("https://accounts.google.com/o/oauth2/token", "token", ("POST",)),
        Endpoint("https://openidconnect.googleapis.com/v1/userinfo", "userinfo", ("GET", "POST")),
        Endpoint("https://www.googleapis.com/oauth2/v3/userinfo", "userinfo", ("GET", "POST")),
        Endpoint("https://www.googleapis.com/oauth2/v3/certs", "jwks"),
        Endpoint("https://oauth2.googleapis.com/revoke", "revoke", ("POST",)),
        Endpoint("https://lh3.googleusercontent.com/a/{id}=s96-c", "avatar"),
    )
    discovery_document: ClassVar[dict[str, object]] = {
        "issuer": "https://accounts.google.com",
        "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_endpoint": "https://oauth2.googleapis.com/token",
        "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
        "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": [
            "aud",
            "email",
            "email_verified",
            "exp",
            "family_name",
            "given_name",
            "iat",
            "iss",
            "name",
            "picture",
            "sub",
        ],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
    }
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {
        "openid": ("openid",),
        "email": ("email",),
        "profile": ("profile",),
        USERINFO_EMAIL: ("email",),
        USERINFO_PROFILE: ("profile",),
    }
    sends_iss = True
    rotates_refresh_tokens = False
    access_token_ttl = 3599
    access_token_format = ("ya29.a0", 160)
    refresh_token_format = ("1//0g", 98)

    def account_id(self, persona: Persona) -> str:
        return stable_digits(self.name, persona, 21)

    def picture(self, call: Call, persona: Persona) -> str:
        return self.twin(call, f"https://lh3.googleusercontent.com/a/{self.account_id(persona)}=s96-c")

    def granted_scope(self, scope: str) -> str:
        """The scope as Google reports it: email and profile as their URLs."""
        words = scope.split()
        urls = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}
        return " ".join(urls.get(w, w) for w in ("openid", "email", "profile") if w in words)

    def identity(self, call: Call, user: Persona, scope: str) -> dict[str, object]:
        claims: dict[str, object] = {"sub": self.account_id(user)}
        if hd := HOSTED_DOMAINS.get(user.username):
            claims["hd"] = hd
        if "email" in scope.split() and user.email:
            claims |= {"email": user.email, "email_verified": user.email_verified}
        if "profile" in scope.split():
            claims |= {
                "name": user.name,
                "picture": self.picture(call, user),
                "given_name": user.given_name,
                "family_name": user.family_name,
            }
        return claims

    # --- authorization ------------------------------------------------------------------------
    def redirect_params(self, call: Call, answer: dict[str, str], grant: Grant | None) -> dict[str, str]:
        if "code" in answer:
            scope = self.main_scope(grant.scope if grant else "")
            answer["scope"] = self.granted_scope(scope)
            answer["authuser"] = "0"
            answer["prompt"] = "consent" if "consent" in call.values else "none"
        return answer

    # --- tokens -------------------------------------------------------------------------------------
    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        if grant_type == "authorization_code":
            offline = grant.request.get("access_type") == "offline"
            consented = "consent" in grant.request.get("prompt", "").split()
            mark = ("google-offline", grant.client_id, grant.user_sub)
            if offline and (consented or not call.state.seen(*mark)):
                call.state.first_time(*mark)
            else:
                self.discard_refresh_token(call, body)
        ordered = ("access_token", "expires_in", "refresh_token", "scope", "token_type", "id_token")
        out = {key: body[key] for key in ordered if key in body}
        out["scope"] = self.granted_scope(str(body.get("scope", "")))
        return out

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        description = str(body.get("error_description", ""))
        if error == "invalid_grant" and "redirect_uri" in description:
            error, description = "redirect_uri_mismatch", "Bad Request"
        elif error == "invalid_grant":
            description = "Bad Request"
        elif error == "invalid_client":
            status, description = 401, "Unauthorized"
        return super().token_error(call, status, {"error": error, "error_description": description})

    def id_token_claims(
        self, call: Call, grant: Grant, claims: dict[str, object], client: Client, scope: str
    ) -> dict[str, object]:
        user = grant.user
        kept = self.protocol_claims(claims, "iss", "azp", "aud", "nonce", "at_hash")
        kept["azp"] = client.client_id
        return kept | self.identity(call, user, scope) | self.protocol_claims(claims, "iat", "exp")

    # --- userinfo and revocation -----------------------------------------------------------------
    def userinfo(self, call: Call) -> HttpResponse:
        caller = self.bearer(call)
        return json_response(self.identity(call, caller.user, " ".join(caller.scopes)))

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        return json_response(
            {"error": "invalid_request", "error_description": "Invalid Credentials"},
            401,
            headers=[("WWW-Authenticate", f'Bearer realm="{self.issuer}/", error="invalid_token"')],
        )

    def revocation_request(self, call: Call, values: dict[str, str]) -> dict[str, str]:
        # Google revokes any token it issued without client authentication: the flavour
        # vouches for the client that holds the token, and the server does the rest.
        token = call.values.get("token", "")
        store = call.server.store
        found = store.by_access_token(token) or store.by_refresh_token(token)
        grant = call.state.recall(token)
        if found is None or grant is None or grant.flavor != self.name or found.is_revoked():
            raise TokenRefused("invalid_token", "Token expired or revoked")
        credentials = {"client_id": found.client.client_id}
        if found.client.client_secret:
            credentials["client_secret"] = found.client.client_secret
        # Revoking either token ends the grant: revoke by refresh token, which takes the whole
        # family with it (RFC 7009 §2.1), when there is one.
        return {"token": found.refresh_token or token} | credentials

    def revoke(self, call: Call) -> HttpResponse:
        unauthenticated = replace(call.request, headers=with_authorization(call.request.headers, None))
        response = super().revoke(replace(call, request=unauthenticated))
        if response.status == 200:
            return json_response({})
        return response
