"""Sign in with Apple: OpenID Connect with ``response_mode=form_post``.

Quirks emulated: asking for ``name`` or ``email`` requires ``form_post``, so the
authorization response is a page that POSTs ``code`` and ``state`` to the app
(a cross-site POST); the ``user`` field (the name and email as JSON) comes only
with a person's first authorization of the app, and again only after the app
revoked its tokens; the client secret is an ES256 JWT the app signs with its
key (``register_apple_client`` gives the flavour the public half); an ID token
comes even without ``openid``; ``email_verified`` and ``is_private_email`` are
strings ("true") for some accounts and booleans for others; Hide My Email gives
a private relay address; there is no userinfo endpoint; refresh tokens do not
rotate; errors are bare (``{"error": "invalid_client"}``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import ClassVar

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwt import JWTClaimsRegistry

from ..config import Client
from ..personas import Persona
from ..server import DevAuthorizationServer, HttpResponse
from .accounts import stable_digits, stable_hex
from .base import Call, Endpoint, Flavor
from .errors import AuthorizationRefused, TokenRefused
from .state import Grant, state_of

ISSUER = "https://appleid.apple.com"
SIX_MONTHS = 15_777_000  # Apple's limit on a client secret's lifetime, in seconds


@dataclass(frozen=True)
class AppleKey:
    """What Apple knows of an app's Sign in with Apple key: the team, the key id and its public half."""

    team_id: str
    key_id: str
    public_key: ECKey


@dataclass(frozen=True)
class AppleAccount:
    relay_email: str | None = None  # Hide My Email
    string_booleans: bool = True  # "true" as Apple long sent it; newer tokens carry booleans
    real_user_status: int = 2


ACCOUNTS: dict[str, AppleAccount] = {
    "alice": AppleAccount(),
    "bob": AppleAccount(real_user_status=1),
    "dana": AppleAccount(),
    "erin": AppleAccount(),
    "jiwoo": AppleAccount(relay_email="x7k2m9q4pz@privaterelay.appleid.com"),
    "noemail": AppleAccount(real_user_status=0),
    "longname": AppleAccount(string_booleans=False),
    "mallory": AppleAccount(real_user_status=1),
}


def register_apple_client(
    server: DevAuthorizationServer,
    *,
    client_id: str,
    team_id: str,
    key_id: str,
    public_key: ECKey | str | bytes | dict[str, str],
    redirect_uris: tuple[str, ...] = (),
    name: str = "Sign in with Apple app",
) -> None:
    """Register an Apple client: its Services ID, team, key id and EC P-256 public key.

    The Apple flavour verifies each client secret (an ES256 JWT) against this key. The
    client also joins the main registry, keeping any redirect URIs it already has there.
    ``public_key`` may be PEM, a JWK, or a joserfc ``ECKey`` (only its public half is kept).
    """
    key = public_key if isinstance(public_key, ECKey) else ECKey.import_key(public_key)  # type: ignore[arg-type]
    if key.as_dict().get("crv") != "P-256":
        raise ValueError("Sign in with Apple keys are EC P-256 (ES256) keys.")
    public = ECKey.import_key(key.as_dict(private=False))
    state_of(server).apple_keys[client_id] = AppleKey(team_id, key_id, public)
    known = server.query_client(client_id)
    server.register_client(
        Client(
            client_id=client_id,
            name=known.name if known else name,
            # The registry's secret never leaves the provider: the app proves itself with JWTs.
            client_secret=(known.client_secret if known else None) or secrets.token_urlsafe(32),
            redirect_uris=tuple(dict.fromkeys([*(known.redirect_uris if known else ()), *redirect_uris])),
            post_logout_redirect_uris=known.post_logout_redirect_uris if known else (),
        )
    )


class Apple(Flavor):
    name = "apple"
    label = "Apple"
    description = "Sign in with Apple: OIDC, form_post, ES256 client secret, name only on first login"
    issuer = ISSUER
    entry_url = f"{ISSUER}/.well-known/openid-configuration"
    endpoints = (
        Endpoint(f"{ISSUER}/.well-known/openid-configuration", "discovery"),
        Endpoint(f"{ISSUER}/auth/authorize", "authorize", ("GET", "POST")),
        Endpoint(f"{ISSUER}/auth/token", "token", ("POST",)),
        Endpoint(f"{ISSUER}/auth/keys", "jwks"),
        Endpoint(f"{ISSUER}/auth/revoke", "revoke", ("POST",)),
    )
    discovery_document: ClassVar[dict[str, object]] = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth/authorize",
        "token_endpoint": f"{ISSUER}/auth/token",
        "revocation_endpoint": f"{ISSUER}/auth/revoke",
        "jwks_uri": f"{ISSUER}/auth/keys",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "name"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "claims_supported": [
            "aud",
            "email",
            "email_verified",
            "exp",
            "iat",
            "is_private_email",
            "iss",
            "nonce",
            "nonce_supported",
            "real_user_status",
            "sub",
        ],
    }
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {
        "openid": ("openid",),
        "name": ("profile",),
        "email": ("email",),
    }
    always_scopes = ("openid",)  # Apple sends an ID token whatever the scope
    response_modes = ("query", "form_post")
    client_secret_basic = False
    rotates_refresh_tokens = False
    access_token_format = ("a", 63)
    refresh_token_format = ("r", 63)

    def account_id(self, persona: Persona) -> str:
        number = stable_digits(self.name, persona, 6)
        return f"{number}.{stable_hex(self.name, persona)}.{number[:4]}"

    def email_of(self, persona: Persona) -> str | None:
        return ACCOUNTS[persona.username].relay_email or persona.email

    # --- authorization ------------------------------------------------------------------------
    def check_authorization_request(self, call: Call, params: dict[str, str]) -> None:
        asks_for_user = {"name", "email"} & set(params.get("scope", "").split())
        if asks_for_user and params.get("response_mode") != "form_post":
            raise AuthorizationRefused(
                "invalid_request", "response_mode must be form_post when name or email scope is requested."
            )

    def redirect_params(self, call: Call, answer: dict[str, str], grant: Grant | None) -> dict[str, str]:
        if answer.get("error") == "access_denied":
            answer["error"] = "user_cancelled_authorize"
            answer.pop("error_description", None)
        if grant is None or "code" not in answer:
            return answer
        asked = set(self.requested_scopes(grant))
        first = call.state.first_time("apple-authorized", grant.client_id, grant.user_sub)
        if first and asked & {"name", "email"}:
            persona = grant.user
            user: dict[str, object] = {}
            if "name" in asked:
                user["name"] = {"firstName": persona.given_name, "lastName": persona.family_name}
            if "email" in asked and (email := self.email_of(persona)):
                user["email"] = email
            answer["user"] = json.dumps(user, ensure_ascii=False, separators=(",", ":"))
        return answer

    # --- the client secret: an ES256 JWT signed by the app ------------------------------------------
    def verified_client(self, call: Call, values: dict[str, str]) -> dict[str, str]:
        """The request with the Apple client secret checked and swapped for the registry's."""
        client_id = values.get("client_id", "")
        key = call.state.apple_keys.get(client_id)
        client = call.server.query_client(client_id)
        if key is None or client is None:
            raise TokenRefused("invalid_client", "", 400)
        try:
            token = jwt.decode(values.get("client_secret", ""), key.public_key, algorithms=["ES256"])
            JWTClaimsRegistry(
                now=call.server.now(),
                iss={"essential": True, "value": key.team_id},
                sub={"essential": True, "value": client_id},
                aud={"essential": True, "value": ISSUER},  # the real issuer, even when emulated
                iat={"essential": True},
                exp={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as error:
            raise TokenRefused("invalid_client", "", 400) from error
        lifetime = int(token.claims["exp"]) - int(token.claims["iat"])
        if token.header.get("kid") != key.key_id or lifetime > SIX_MONTHS:
            raise TokenRefused("invalid_client", "", 400)
        swapped = {k: v for k, v in values.items() if k != "client_secret"}
        if client.client_secret:
            swapped["client_secret"] = client.client_secret
        return swapped

    def token_request(self, call: Call, values: dict[str, str]) -> dict[str, str]:
        return self.verified_client(call, values)

    def revocation_request(self, call: Call, values: dict[str, str]) -> dict[str, str]:
        values = self.verified_client(call, values)
        token = values.get("token", "")
        found = call.server.store.by_refresh_token(token) or call.server.store.by_access_token(token)
        if found is not None and found.user_sub:
            # Revoking ends the person's authorization of the app: the next sign-in is a first one.
            call.state.unmark("apple-authorized", found.client_id, found.user_sub)
        return values

    # --- tokens ---------------------------------------------------------------------------------------
    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        ordered = ("access_token", "token_type", "expires_in", "refresh_token", "id_token")
        return {key: body[key] for key in ordered if key in body}

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", "invalid_request"))
        out: dict[str, object] = {"error": error}
        if error == "invalid_grant":
            out["error_description"] = "The code has expired or has been revoked."
        return super().token_error(call, 400, out)

    def id_token_claims(
        self, call: Call, grant: Grant, claims: dict[str, object], client: Client, scope: str
    ) -> dict[str, object]:
        user = grant.user
        account = ACCOUNTS[user.username]

        def flag(value: bool) -> str | bool:
            return ("true" if value else "false") if account.string_booleans else value

        out = self.protocol_claims(claims, "iss", "aud", "exp", "iat")
        out["sub"] = self.account_id(user)
        out |= self.protocol_claims(claims, "nonce", "at_hash")
        if "email" in scope.split() and (email := self.email_of(user)):
            out["email"] = email
            out["email_verified"] = flag(account.relay_email is not None or user.email_verified)
            out["is_private_email"] = flag(account.relay_email is not None)
        out["auth_time"] = claims.get("auth_time", claims.get("iat"))
        out["nonce_supported"] = True
        out["real_user_status"] = account.real_user_status
        return out
