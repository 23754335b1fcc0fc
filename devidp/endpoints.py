"""Authlib's endpoints (RFC 7009, RFC 7662, RFC 8628, OIDC userinfo and
RP-initiated logout), subclassed for this provider's storage."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from authlib.oauth2.rfc6749 import OAuth2Request, ResourceProtector
from authlib.oauth2.rfc6749.errors import InvalidRequestError, UnauthorizedClientError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint as _DeviceAuthorizationEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint as _UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint as _EndSessionEndpoint
from authlib.oidc.rpinitiated.end_session import EndSessionRequest

from .config import DEVICE_CODE, Client
from .models import DeviceCredential, Token
from .personas import Persona

if TYPE_CHECKING:
    from .server import DevAuthorizationServer

PUBLIC_AND_CONFIDENTIAL = ["client_secret_basic", "client_secret_post", "none"]

# The userinfo endpoint's resource protector needs the request Authlib does not pass it.
current_request: ContextVar[OAuth2Request] = ContextVar("current_request")


@dataclass(frozen=True)
class RefreshTokenView:
    """A refresh token seen on its own, for revocation and introspection."""

    token: Token
    now: int

    def check_client(self, client: Client) -> bool:
        return self.token.check_client(client)

    def is_expired(self) -> bool:
        expires = self.token.refresh_expires_at
        return expires is not None and self.now >= expires

    def is_revoked(self) -> bool:
        return self.token.refresh_used or self.token.refresh_revoked


def _find(server: DevAuthorizationServer, value: str, hint: str | None) -> Token | RefreshTokenView | None:
    if hint != "refresh_token" and (token := server.store.by_access_token(value)):
        return token
    if token := server.store.by_refresh_token(value):
        return RefreshTokenView(token, server.now())
    if hint == "refresh_token":
        return server.store.by_access_token(value)
    return None


class RevocationEndpoint(_RevocationEndpoint):
    # RFC 7009 §2.1: public clients may revoke their own tokens too.
    CLIENT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    def query_token(self, token_string: str, token_type_hint: str | None) -> object:
        return _find(cast("DevAuthorizationServer", self.server), token_string, token_type_hint)

    def revoke_token(self, token: Token | RefreshTokenView, request: OAuth2Request) -> None:
        store = cast("DevAuthorizationServer", self.server).store
        if isinstance(token, RefreshTokenView):
            # RFC 7009 §2.1: revoking a refresh token revokes the grant's access tokens.
            store.revoke_family(token.token.family)
        else:
            store.update_token(token, access_revoked=True)


class IntrospectionEndpoint(_IntrospectionEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> object:
        return _find(cast("DevAuthorizationServer", self.server), token_string, token_type_hint)

    def check_permission(self, token: object, client: Client, request: OAuth2Request) -> bool:
        # Any authenticated confidential client may introspect, like a resource server.
        return True

    def introspect_token(self, token: Token | RefreshTokenView) -> dict[str, object]:
        server = cast("DevAuthorizationServer", self.server)
        base = token.token if isinstance(token, RefreshTokenView) else token
        user = base.get_user()
        exp = (
            base.refresh_expires_at
            if isinstance(token, RefreshTokenView)
            else base.issued_at + base.expires_in
        )
        return {
            "active": True,
            "client_id": base.client_id,
            "token_type": "refresh_token" if isinstance(token, RefreshTokenView) else "Bearer",
            "scope": base.scope,
            "sub": user.sub if user else base.client_id,
            "username": user.username if user else None,
            "iat": base.issued_at,
            "exp": exp,
            "iss": server.issuer,
        }


class DeviceAuthorizationEndpoint(_DeviceAuthorizationEndpoint):
    CLIENT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    def authenticate_client(self, request: OAuth2Request) -> Client:
        client = cast(Client, super().authenticate_client(request))
        if not client.check_grant_type(DEVICE_CODE):
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        return client

    def get_verification_uri(self) -> str:
        return f"{cast('DevAuthorizationServer', self.server).issuer}/device"

    def save_device_credential(self, client_id: str, scope: str | None, data: dict[str, object]) -> None:
        server = cast("DevAuthorizationServer", self.server)
        server.store.save_device(
            DeviceCredential(
                client_id=client_id,
                scope=scope or "",
                device_code=str(data["device_code"]),
                user_code=str(data["user_code"]),
                expires_at=server.now() + int(str(data["expires_in"])),
                interval=int(str(data["interval"])),
            )
        )


class _BearerValidator(BearerTokenValidator):
    def __init__(self, server: DevAuthorizationServer) -> None:
        super().__init__()
        self.server = server

    def authenticate_token(self, token_string: str) -> Token | None:
        return self.server.store.by_access_token(token_string)


class _RequestBoundProtector(ResourceProtector):
    def acquire_token(self, scopes: str) -> Token:
        return cast(Token, self.validate_request([scopes], current_request.get()))


def bearer_protector(server: DevAuthorizationServer) -> ResourceProtector:
    """Authlib's RFC 6750 bearer-token checks over this provider's token store."""
    protector = _RequestBoundProtector()
    protector.register_token_validator(_BearerValidator(server))
    return protector


class UserInfoEndpoint(_UserInfoEndpoint):
    def __init__(self, server: DevAuthorizationServer) -> None:
        super().__init__(server=server, resource_protector=bearer_protector(server))

    def generate_user_info(self, user: Persona | None, scope: str) -> UserInfo:
        server = cast("DevAuthorizationServer", self.server)
        if user is None:
            return UserInfo()
        claims = user.claims(scope, server.issuer)
        if "userinfo_other_sub" in server.faults:
            claims["sub"] = "00000000-0000-0000-0000-000000000000"
        return claims

    def get_issuer(self) -> str:
        return cast("DevAuthorizationServer", self.server).issuer


class EndSessionEndpoint(_EndSessionEndpoint):
    def validate_request(self, request: OAuth2Request) -> EndSessionRequest:
        validated = super().validate_request(request)
        uri = request.payload.data.get("post_logout_redirect_uri")
        client = cast("Client | None", validated.client)
        if uri and client is not None and uri not in client.post_logout_redirect_uris:
            # RP-Initiated Logout 1.0 §3 only forbids redirecting there; a certified provider
            # also says so, instead of leaving the browser on a silent "signed out" page.
            raise InvalidRequestError(
                f"post_logout_redirect_uri not registered: {uri!r} is not among this client's "
                "post_logout_redirect_uris (exact match)."
            )
        return validated

    def get_server_jwks(self) -> dict[str, object]:
        return cast("DevAuthorizationServer", self.server).keys.jwks()

    def end_session(self, end_session_request: object) -> None:
        # The route closes the browser's login session; nothing server-wide to do.
        return None
