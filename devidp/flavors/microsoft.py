"""Microsoft Entra ID (v2.0 endpoints): OpenID Connect, multi-tenant.

Quirks emulated: on ``common`` and ``organizations`` the discovery document's
``issuer`` is a template, ``https://login.microsoftonline.com/{tenantid}/v2.0``,
and each ID token's ``iss`` is that template with the person's tenant (``tid``)
filled in, so an app must check ``iss`` against ``tid``; personal accounts all
share one consumer tenant; ``sub`` is pairwise (different for each app) while
``oid`` is the person in their tenant; ``email`` may be present without being
verified (there is no ``email_verified``); a refresh token only with
``offline_access``; errors carry ``AADSTS`` codes.

The twin answers as for one multi-tenant app registration that configured the
optional claim ``xms_edov``, ``groupMembershipClaims`` (``SecurityGroup``: group
object ids in ``groups``) and app roles (``roles``), and that still receives
unverified emails (``removeUnverifiedEmailClaim`` false, as apps that signed
people in before June 2023 do). So ``email`` is whatever a tenant's admin typed:
Mallory's own tenant gives her alice@example.com, the "nOAuth" account takeover;
``xms_edov`` says whether the email's domain is verified (by the person's tenant,
or because the account is a personal Microsoft account). Past 200 groups a JWT
carries no ``groups`` but the overage indicator (``_claim_names`` pointing into
``_claim_sources``, OIDC Core §5.6.2), whose endpoint, the twin of Graph's
``getMemberObjects``, lists them. ``hasgroups`` replaces ``groups`` only in the
implicit flow's fragment, which this twin does not offer (code flow only).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import ClassVar

from ..config import Client
from ..personas import Persona
from ..server import HttpResponse
from .accounts import stable_uuid
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused
from .microsoft_accounts import (
    ACCOUNTS,
    CONSUMERS,
    CONTOSO,
    DOMAINS,
    FABRIKAM,
    GROUPS_IN_A_JWT,
    NORTHWIND,
    app_roles,
    group_ids,
    mail_of,
)
from .responses import json_response
from .state import Grant

LOGIN = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"
ISSUER_TEMPLATE = f"{LOGIN}/{{tenantid}}/v2.0"
__all__ = ["CONSUMERS", "CONTOSO", "FABRIKAM", "NORTHWIND", "Microsoft"]

# AADSTS codes for the server's RFC 6749 errors.
AADSTS: dict[str, tuple[int, str]] = {
    "invalid_client": (
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID.",
    ),
    "invalid_grant": (
        70008,
        "The provided authorization code or refresh token has expired due to inactivity. Send a "
        "new interactive authorization request for this user and resource.",
    ),
    "invalid_request": (900144, "The request body must contain the following parameter: 'grant_type'."),
    "unsupported_grant_type": (70003, "The app requested an unsupported grant type."),
}
ALREADY_REDEEMED = (
    54005,
    "OAuth2 Authorization code was already redeemed, please retry with a new valid code.",
)
VERIFIER_MISMATCH = (
    501481,
    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
)


def _graph_error(code: str, message: str, status: int) -> HttpResponse:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    inner = {"date": now, "request-id": "00000000-0000-4000-8000-000000000000"}
    return json_response({"error": {"code": code, "message": message, "innerError": inner}}, status)


class Microsoft(Flavor):
    name = "microsoft"
    label = "Microsoft"
    description = "Microsoft Entra ID (common): OIDC, templated issuer {tenantid}, per-tenant iss and tid"
    issuer = ISSUER_TEMPLATE
    entry_url = f"{LOGIN}/common/v2.0/.well-known/openid-configuration"
    endpoints = (
        Endpoint(f"{LOGIN}/{{tenant}}/v2.0/.well-known/openid-configuration", "discovery"),
        Endpoint(f"{LOGIN}/{{tenant}}/oauth2/v2.0/authorize", "authorize", ("GET", "POST")),
        Endpoint(f"{LOGIN}/{{tenant}}/oauth2/v2.0/token", "token", ("POST",)),
        Endpoint(f"{LOGIN}/{{tenant}}/discovery/v2.0/keys", "jwks"),
        Endpoint(f"{GRAPH}/oidc/userinfo", "userinfo", ("GET", "POST")),
        Endpoint(f"{GRAPH}/v1.0/me", "me"),
        Endpoint(f"{GRAPH}/v1.0/me/photo/$value", "photo"),
        Endpoint(f"{GRAPH}/v1.0/me/getMemberObjects", "member_objects", ("POST",)),
        Endpoint(f"{GRAPH}/v1.0/users/{{id}}/getMemberObjects", "member_objects", ("POST",)),
    )
    discovery_document: ClassVar[dict[str, object]] = {
        "token_endpoint": f"{LOGIN}/{{tenant}}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": f"{LOGIN}/{{tenant}}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": ISSUER_TEMPLATE,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{GRAPH}/oidc/userinfo",
        "authorization_endpoint": f"{LOGIN}/{{tenant}}/oauth2/v2.0/authorize",
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "email",
        ],
        "tenant_region_scope": None,
        "cloud_instance_name": "microsoftonline.com",
        "msgraph_host": "graph.microsoft.com",
    }
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {
        "openid": ("openid",),
        "profile": ("profile",),
        "email": ("email",),
        "offline_access": ("offline_access",),
        "User.Read": ("profile",),
        f"{GRAPH}/User.Read": ("profile",),
    }
    response_modes = ("query", "form_post")
    access_token_ttl = 3599
    access_token_format = ("EwBwA8l6BAAU", 200)
    refresh_token_format = ("M.C5", 300)

    def tenant_of(self, persona: Persona) -> str:
        return ACCOUNTS[persona.username].tenant

    @staticmethod
    def mail(persona: Persona) -> str | None:
        return mail_of(persona)

    def oid(self, persona: Persona) -> str:
        return stable_uuid("ms-oid", persona)

    def membership_claims(self, call: Call, persona: Persona) -> dict[str, object]:
        """``groups`` and ``roles``, or past 200 groups the overage indicator in their place."""
        claims: dict[str, object] = {}
        groups = group_ids(persona)
        if len(groups) > GROUPS_IN_A_JWT:
            # OIDC Core §5.6.2 distributed claims, as Entra writes them: no access token in the
            # source; the app calls Graph with its own.
            endpoint = f"{GRAPH}/v1.0/users/{self.oid(persona)}/getMemberObjects"
            claims["_claim_names"] = {"groups": "src1"}
            claims["_claim_sources"] = {"src1": {"endpoint": self.twin(call, endpoint)}}
        elif groups:
            claims["groups"] = groups
        if roles := app_roles(persona):
            claims["roles"] = roles
        return claims

    def issuer_url(self, call: Call) -> str:
        tenant = call.params.get("tenant", "common")
        if tenant in ("common", "organizations"):
            return self.twin(call, ISSUER_TEMPLATE)  # literally with {tenantid}
        tid = CONSUMERS if tenant == "consumers" else tenant
        return self.twin(call, ISSUER_TEMPLATE.replace("{tenantid}", tid))

    def pairwise_sub(self, persona: Persona, client_id: str) -> str:
        digest = hashlib.sha256(f"{client_id}:{persona.sub}".encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:43]

    def username(self, persona: Persona) -> str:
        tenant = self.tenant_of(persona)
        if tenant == CONSUMERS and persona.email:
            return persona.email
        return f"{persona.username}@{DOMAINS.get(tenant, 'outlook.com')}"

    # --- authorization and tokens ------------------------------------------------------------------
    def redirect_params(self, call: Call, answer: dict[str, str], grant: Grant | None) -> dict[str, str]:
        if "code" in answer and grant:
            answer["session_state"] = stable_uuid("ms-session", grant.user)
        return answer

    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        requested = self.requested_scopes(grant)
        if "offline_access" not in requested:
            self.discard_refresh_token(call, body)
        out: dict[str, object] = {
            "token_type": "Bearer",
            "scope": " ".join(s for s in requested if s != "offline_access"),
            "expires_in": body["expires_in"],
            "ext_expires_in": body["expires_in"],
            "access_token": body["access_token"],
        }
        return out | {k: body[k] for k in ("refresh_token", "id_token") if k in body}

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", "invalid_request"))
        description = str(body.get("error_description", ""))
        code, message = AADSTS.get(error, (90014, description))
        if error == "invalid_grant" and "already used" in description:
            code, message = ALREADY_REDEEMED
        elif error == "invalid_grant" and "code_verifier" in description:
            code, message = VERIFIER_MISMATCH
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace = "Trace ID: 0 Correlation ID: 0"
        return super().token_error(
            call,
            401 if error == "invalid_client" else 400,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {message} {trace} Timestamp: {now}",
                "error_codes": [code],
                "timestamp": now,
                "trace_id": "00000000-0000-4000-8000-000000000000",
                "correlation_id": "00000000-0000-4000-8000-000000000000",
                "error_uri": f"{LOGIN}/error?code={code}",
            },
        )

    def id_token_claims(
        self, call: Call, grant: Grant, claims: dict[str, object], client: Client, scope: str
    ) -> dict[str, object]:
        user = grant.user
        tid = self.tenant_of(user)
        out: dict[str, object] = {
            "aud": client.client_id,
            "iss": self.twin(call, ISSUER_TEMPLATE.replace("{tenantid}", tid)),
            **self.protocol_claims(claims, "iat"),
            "nbf": claims.get("iat"),
            **self.protocol_claims(claims, "exp"),
        }
        membership = self.membership_claims(call, user)
        out |= {k: membership.pop(k) for k in ("_claim_names", "_claim_sources") if k in membership}
        mail = self.mail(user) if "email" in scope.split() else None
        if mail:
            out["email"] = mail  # not necessarily verified: Entra ID has no email_verified
        if "groups" in membership:
            out["groups"] = membership["groups"]
        out |= {
            "name": user.name,
            **self.protocol_claims(claims, "nonce", "at_hash"),
            "oid": self.oid(user),
            "preferred_username": self.username(user),
            "rh": "0.AAAA",
            **({"roles": membership["roles"]} if "roles" in membership else {}),
            "sub": self.pairwise_sub(user, client.client_id),
            "tid": tid,
            "uti": "devidp",
            "ver": "2.0",
        }
        if mail:
            # Only next to `email` (Entra's optional-claims reference): whether the email's
            # domain is verified by the person's tenant, or the account is a personal one.
            out["xms_edov"] = ACCOUNTS[user.username].email_domain_verified
        return out

    # --- Microsoft Graph ---------------------------------------------------------------------------
    def userinfo(self, call: Call) -> HttpResponse:
        caller = self.bearer(call)
        persona = caller.user
        info: dict[str, object] = {
            "sub": self.pairwise_sub(persona, caller.grant.client_id),
            "name": persona.name,
            "family_name": persona.family_name,
            "given_name": persona.given_name,
            "picture": self.twin(call, f"{GRAPH}/v1.0/me/photo/$value"),
        }
        if "email" in caller.scopes and (mail := self.mail(persona)):
            info["email"] = mail
        return json_response(info)

    def me(self, call: Call) -> HttpResponse:
        """GET /v1.0/me: the Graph user (needs User.Read, which sign-in grants)."""
        persona = self.bearer(call).user
        return json_response(
            {
                "@odata.context": f"{GRAPH}/v1.0/$metadata#users/$entity",
                "businessPhones": [],
                "displayName": persona.name,
                "givenName": persona.given_name,
                "jobTitle": None,
                "mail": self.mail(persona),
                "mobilePhone": None,
                "officeLocation": None,
                "preferredLanguage": persona.locale,
                "surname": persona.family_name,
                "userPrincipalName": self.username(persona),
                "id": stable_uuid("ms-oid", persona),
            }
        )

    def photo(self, call: Call) -> HttpResponse:
        return self.picture_of(self.bearer(call).user)

    def member_objects(self, call: Call) -> HttpResponse:
        """POST getMemberObjects, where the overage indicator points: the ids of the groups the
        signed-in user is in. Graph lets User.Read, which sign-in grants, read one's own; another
        user's needs directory permissions this twin never grants. Personal accounts are not
        supported (the twin's refusal for them is its own wording)."""
        persona = self.bearer(call).user
        denied = _graph_error(
            "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", 403
        )
        wanted = call.params.get("id")
        if wanted is not None and wanted not in (self.oid(persona), self.username(persona)):
            return denied
        if self.tenant_of(persona) == CONSUMERS:
            return denied
        try:
            body = json.loads(call.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("securityEnabledOnly", False), bool):
            expected = 'Expected a JSON body such as {"securityEnabledOnly": true}.'
            return _graph_error("BadRequest", expected, 400)
        return json_response(
            {
                "@odata.context": f"{GRAPH}/v1.0/$metadata#Collection(Edm.String)",
                "value": group_ids(persona),
            }
        )

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        if refusal.error == "missing_authorization":
            return _graph_error("InvalidAuthenticationToken", "Access token is empty.", 401)
        return _graph_error("InvalidAuthenticationToken", "IDX14100: JWT is not well formed.", 401)
