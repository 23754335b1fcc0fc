"""Kakao Login: OpenID Connect (카카오 로그인).

Quirks emulated: the token endpoint authenticates clients with
``client_secret_post`` only (HTTP Basic credentials are ignored); ``sub`` is a
numeric id as a string, and the legacy ``/v2/user/me`` answers it as a number
inside ``kakao_account``; scopes are Kakao's consent items (``profile_nickname``,
``profile_image``, ``account_email``); the token response has
``refresh_token_expires_in``; refresh tokens do not rotate; errors carry a
Kakao ``error_code`` (KOE...), API errors ``{"msg", "code": -401}``.
"""

from __future__ import annotations

from typing import ClassVar

from ..config import Client
from ..personas import Persona
from ..server import HttpResponse
from .accounts import stable_digits
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused
from .responses import json_response
from .state import Grant

KAUTH = "https://kauth.kakao.com"
KAPI = "https://kapi.kakao.com"
ERROR_CODES = {"invalid_client": ("KOE010", "Bad client credentials"), "invalid_grant": ("KOE320", "")}


class Kakao(Flavor):
    name = "kakao"
    label = "Kakao"
    description = "Kakao Login: OIDC, client_secret_post, numeric sub, nickname and kakao_account"
    issuer = KAUTH
    entry_url = f"{KAUTH}/.well-known/openid-configuration"
    endpoints = (
        Endpoint(f"{KAUTH}/.well-known/openid-configuration", "discovery"),
        Endpoint(f"{KAUTH}/oauth/authorize", "authorize", ("GET", "POST")),
        Endpoint(f"{KAUTH}/oauth/token", "token", ("POST",)),
        Endpoint(f"{KAUTH}/.well-known/jwks.json", "jwks"),
        Endpoint(f"{KAPI}/v1/oidc/userinfo", "userinfo", ("GET", "POST")),
        Endpoint(f"{KAPI}/v2/user/me", "user_me", ("GET", "POST")),
        Endpoint("https://k.kakaocdn.net/dn/{id}/img_640x640.jpg", "avatar"),
    )
    discovery_document: ClassVar[dict[str, object]] = {
        "issuer": KAUTH,
        "authorization_endpoint": f"{KAUTH}/oauth/authorize",
        "token_endpoint": f"{KAUTH}/oauth/token",
        "userinfo_endpoint": f"{KAPI}/v1/oidc/userinfo",
        "jwks_uri": f"{KAUTH}/.well-known/jwks.json",
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "request_uri_parameter_supported": False,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "iss",
            "aud",
            "sub",
            "auth_time",
            "exp",
            "iat",
            "nonce",
            "nickname",
            "picture",
            "email",
        ],
    }
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {
        "openid": ("openid",),
        "profile_nickname": ("profile",),
        "profile_image": ("profile",),
        "account_email": ("email",),
    }
    client_secret_basic = False
    rotates_refresh_tokens = False
    access_token_ttl = 21599
    access_token_format = ("", 54)
    refresh_token_format = ("", 54)

    def account_id(self, persona: Persona) -> str:
        return stable_digits(self.name, persona, 10)

    def nickname(self, persona: Persona) -> str:
        return persona.given_name

    def picture(self, call: Call, persona: Persona) -> str:
        return self.twin(call, f"https://k.kakaocdn.net/dn/{self.account_id(persona)}/img_640x640.jpg")

    # --- tokens ---------------------------------------------------------------------------------
    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        out: dict[str, object] = {"token_type": "bearer", "access_token": body["access_token"]}
        out |= {k: body[k] for k in ("id_token", "expires_in", "refresh_token") if k in body}
        if "refresh_token" in body:
            out["refresh_token_expires_in"] = 5183999
        out["scope"] = " ".join(s for s in self.requested_scopes(grant) if s in self.scopes)
        return out

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        code, description = ERROR_CODES.get(error, ("KOE006", ""))
        out = {"error": error, "error_description": description or str(body.get("error_description", ""))}
        return super().token_error(
            call, 401 if error == "invalid_client" else 400, out | {"error_code": code}
        )

    def id_token_claims(
        self, call: Call, grant: Grant, claims: dict[str, object], client: Client, scope: str
    ) -> dict[str, object]:
        user = grant.user
        out = self.protocol_claims(claims, "aud")
        out["sub"] = self.account_id(user)
        out |= self.protocol_claims(claims, "auth_time", "iss")
        words = set(self.requested_scopes(grant))
        if "profile_nickname" in words:
            out["nickname"] = self.nickname(user)
        if "profile_image" in words:
            out["picture"] = self.picture(call, user)
        out |= self.protocol_claims(claims, "exp", "iat", "nonce", "at_hash")
        if "email" in scope.split() and user.email:
            out["email"] = user.email
        return out

    # --- Kakao APIs -------------------------------------------------------------------------------
    def userinfo(self, call: Call) -> HttpResponse:
        caller = self.bearer(call)
        persona, asked = caller.user, set(self.requested_scopes(caller.grant))
        info: dict[str, object] = {"sub": self.account_id(persona)}
        if "profile_nickname" in asked:
            info["nickname"] = self.nickname(persona)
        if "profile_image" in asked:
            info["picture"] = self.picture(call, persona)
        if "account_email" in asked and persona.email:
            info |= {"email": persona.email, "email_verified": persona.email_verified}
        return json_response(info)

    def user_me(self, call: Call) -> HttpResponse:
        """GET /v2/user/me: Kakao's own user API, with what was not agreed to flagged."""
        caller = self.bearer(call)
        persona, asked = caller.user, set(self.requested_scopes(caller.grant))
        picture = self.picture(call, persona)
        account: dict[str, object] = {
            "profile_nickname_needs_agreement": "profile_nickname" not in asked,
            "profile_image_needs_agreement": "profile_image" not in asked,
        }
        profile: dict[str, object] = {}
        if "profile_nickname" in asked:
            profile |= {"nickname": self.nickname(persona), "is_default_nickname": False}
        if "profile_image" in asked:
            profile |= {
                "thumbnail_image_url": picture,
                "profile_image_url": picture,
                "is_default_image": False,
            }
        account["profile"] = profile
        account["has_email"] = persona.email is not None
        if persona.email:
            account["email_needs_agreement"] = "account_email" not in asked
            if "account_email" in asked:
                account |= {
                    "is_email_valid": True,
                    "is_email_verified": persona.email_verified,
                    "email": persona.email,
                }
        return json_response(
            {
                "id": int(self.account_id(persona)),
                "connected_at": "2025-01-01T00:00:00Z",
                "kakao_account": account,
            }
        )

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        return json_response({"msg": "this access token does not exist", "code": -401}, 401)
