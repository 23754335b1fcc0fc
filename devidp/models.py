"""What the provider stores, as frozen dataclasses implementing Authlib's mixins."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oauth2.rfc8628 import DeviceCredentialMixin
from authlib.oidc.core import AuthorizationCodeMixin

from .config import Client
from .personas import BY_SUB, Persona


@dataclass(frozen=True, kw_only=True)
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user_sub: str
    issued_at: int
    expires_at: int
    auth_time: int
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    acr: str = "0"
    amr: tuple[str, ...] = ("user",)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return list(self.amr)

    @property
    def user(self) -> Persona:
        return BY_SUB[self.user_sub]


@dataclass(frozen=True, kw_only=True)
class Token(TokenMixin):
    """One token response: an access token and, optionally, its refresh token.

    ``family`` groups every token descended from one authorization, so a
    replayed refresh token can revoke them all (RFC 9700 §4.14.2).
    """

    client: Client
    access_token: str
    scope: str
    issued_at: int
    expires_in: int
    family: str
    user_sub: str | None = None
    refresh_token: str | None = None
    refresh_expires_at: int | None = None
    auth_time: int | None = None
    access_revoked: bool = False
    refresh_used: bool = False
    refresh_revoked: bool = False
    token_type: str = "Bearer"
    now: int = 0  # set by the store when read, so the mixin can answer without a clock

    def check_client(self, client: Client) -> bool:
        return self.client.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.now >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> Persona | None:
        return BY_SUB.get(self.user_sub) if self.user_sub else None

    def get_client(self) -> Client:
        return self.client

    @property
    def client_id(self) -> str:
        return self.client.client_id


@dataclass(frozen=True, kw_only=True)
class DeviceCredential(DeviceCredentialMixin):
    client_id: str
    scope: str
    device_code: str
    user_code: str
    expires_at: int
    interval: int
    now: int = 0
    last_poll: int | None = None

    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_user_code(self) -> str:
        return self.user_code

    def is_expired(self) -> bool:
        return self.now >= self.expires_at
