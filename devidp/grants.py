"""Authlib's grants and OIDC extensions, subclassed for this provider.

Only storage and policy live here; every protocol check is Authlib's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar, cast

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import DeviceCodeGrant as _DeviceCodeGrant
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from joserfc import jws
from joserfc.jwk import RSAKey

from .config import Client
from .faults import break_id_token
from .journal import fingerprint
from .models import AuthorizationCode, Token
from .personas import BY_SUB, Persona
from .policy import MAIN_POLICY

if TYPE_CHECKING:
    from authlib.oauth2.rfc6749 import OAuth2Request

    from .server import DevAuthorizationServer

PUBLIC_AND_CONFIDENTIAL = ["client_secret_basic", "client_secret_post", "none"]


def _server(grant: object) -> DevAuthorizationServer:
    return cast("DevAuthorizationServer", grant.server)  # type: ignore[attr-defined]


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only, and mandatory for public clients."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: grants.BaseGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        client = cast(Client, grant.request.client)
        if challenge and data.get("code_challenge_method", "plain") != "S256":
            # RFC 9700 §2.1.1: plain would hand the verifier to whoever sees the request.
            raise InvalidRequestError(
                "code_challenge_method must be S256; 'plain' is refused (RFC 9700 section 2.1.1).",
                redirect_uri=redirect_uri,
            )
        if not challenge and client.is_public:
            # RFC 9700 §2.1.1: public clients MUST use PKCE.
            raise InvalidRequestError(
                "Public clients must send a PKCE code_challenge (RFC 9700 section 2.1.1).",
                redirect_uri=redirect_uri,
            )
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: grants.BaseGrant, result: object) -> None:
        code = grant.request.authorization_code
        unbound = code is not None and not self.get_authorization_code_challenge(code)
        if unbound and "pkce_downgrade" in _server(grant).faults:
            # The fault: a verifier for a code that no challenge bound is ignored, so a code
            # obtained by stripping code_challenge can be injected (RFC 9700 §4.8.2 forbids it).
            return
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        server = _server(self)
        now = server.now()
        data = request.payload.data
        server.store.save_code(
            AuthorizationCode(
                code=code,
                client_id=cast(Client, request.client).client_id,
                redirect_uri=data["redirect_uri"],
                scope=request.scope or "",
                user_sub=cast(Persona, request.user).sub,
                issued_at=now,
                expires_at=now + server.config.code_ttl,
                auth_time=getattr(request, "auth_time", now),
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        store = _server(self).store
        if family := store.family_of_redeemed_code(code):
            # RFC 6749 §4.1.2: a reused code SHOULD revoke the tokens issued for it.
            store.revoke_family(family)
            raise InvalidGrantError(
                "This authorization code was already used; the tokens issued for it "
                "are now revoked (RFC 6749 section 4.1.2)."
            )
        found = store.get_code(code)
        if found is None:
            ttl = _server(self).config.code_ttl
            raise InvalidGrantError(f"Unknown or expired authorization code (codes live {ttl} seconds).")
        if found.client_id != client.client_id:
            raise InvalidGrantError("This authorization code was issued to another client.")
        return found

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        _server(self).store.redeem_code(authorization_code.code, family_of(authorization_code.code))

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Persona:
        return authorization_code.user


def family_of(code: str) -> str:
    return "code:" + fingerprint(code)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    @property
    def INCLUDE_NEW_REFRESH_TOKEN(self) -> bool:  # type: ignore[override]
        # The token policy decides: the main provider rotates (RFC 9700 §4.14.2), some emulated ones don't.
        return _server(self).token_policy.rotates_refresh_tokens()

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        server = _server(self)
        token = server.store.by_refresh_token(refresh_token)
        if token is None:
            return None
        if token.refresh_used or token.refresh_revoked:
            if token.refresh_used:
                server.store.revoke_family(token.family)
                raise InvalidGrantError(
                    "This refresh token was already used. Refresh tokens rotate: reusing "
                    "one means it leaked, so every token of this login is now revoked "
                    "(RFC 9700 section 4.14.2)."
                )
            raise InvalidGrantError("This refresh token was revoked.")
        if token.refresh_expires_at is not None and server.now() >= token.refresh_expires_at:
            raise InvalidGrantError("This refresh token has expired.")
        return token

    def authenticate_user(self, refresh_token: Token) -> Persona | None:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: Token) -> None:
        server = _server(self)
        if server.token_policy.rotates_refresh_tokens():
            server.store.update_token(refresh_token, refresh_used=True)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    # Authlib's default is basic only; discovery advertises client_secret_post too.
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]


class DeviceCodeGrant(_DeviceCodeGrant):
    def query_device_credential(self, device_code: str) -> object:
        return _server(self).store.device_by_code(device_code)

    def query_user_grant(self, user_code: str) -> tuple[Persona, bool] | None:
        found = _server(self).store.device_grant(user_code)
        return (BY_SUB[found[0]], found[1]) if found else None

    def should_slow_down(self, credential: object) -> bool:
        server = _server(self)
        now = server.now()
        code = credential.device_code  # type: ignore[attr-defined]
        previous, interval = server.store.record_poll(code, now)
        # RFC 8628 §3.5: polling faster than the interval earns slow_down, and the
        # interval grows by 5 seconds "for this and all subsequent requests".
        if previous is not None and now - previous < interval:
            server.store.slow_down(code)
            return True
        return False

    def create_token_response(self) -> tuple[int, dict[str, object], list[tuple[str, str]]]:
        response = super().create_token_response()
        # RFC 8628 §3.5: a device code is good for one token response.
        _server(self).store.consume_device(self.request.payload.data["device_code"])
        return response


class _IDTokenIssuer(OpenIDToken):
    """How this provider signs ID tokens: RS256, the active key's kid, its own clock."""

    def __init__(self, server: DevAuthorizationServer, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.server = server

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.server.keys.active

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.server.keys.active_kid, "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, object]:
        now = self.server.now()
        return {
            "iss": self.server.issuer,
            "aud": client.client_id,
            "iat": now,
            "exp": now + self.server.config.id_token_ttl,
            "auth_time": now,
        }

    def generate_user_info(self, user: Persona, scope: str) -> UserInfo:
        return user.claims(scope, self.server.issuer)

    def encode_id_token(self, token: dict[str, object], request: OAuth2Request) -> str:
        id_token = super().encode_id_token(token, request)
        policy = self.server.token_policy
        if policy is not MAIN_POLICY:
            # Authlib built the claims; an emulated provider reshapes them, then faults apply.
            compact = jws.extract_compact(id_token.encode())
            claims = policy.id_token_claims(
                json.loads(compact.payload),
                cast(Persona, request.user),
                cast(Client, request.client),
                str(token.get("scope", "")),
            )
            payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False)
            id_token = jws.serialize_compact(dict(compact.headers()), payload, self.server.keys.active)
        return break_id_token(
            id_token, self.server.faults.active(), self.server.now(), self.server.keys.active
        )


class OpenIDCodeExtension(_IDTokenIssuer, OpenIDCode):
    def __init__(self, server: DevAuthorizationServer) -> None:
        super().__init__(server, require_nonce=False)

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return self.server.store.nonce_in_use(request.payload.client_id, nonce)


class OpenIDDeviceExtension(_IDTokenIssuer):
    """ID tokens for the device flow too, so a CLI learns who logged in."""


class OpenIDRefreshExtension(_IDTokenIssuer):
    """A fresh ID token with each refresh, as Google, Microsoft and Keycloak send one (OIDC Core
    §12.2): same ``iss``, ``sub`` and ``aud``, a new ``iat``, and no ``nonce``. ``auth_time`` is
    left out: it would have to be the original login's, which the refresh token does not keep."""

    def get_client_claims(self, client: Client) -> dict[str, object]:
        claims = super().get_client_claims(client)
        claims.pop("auth_time", None)
        return claims
