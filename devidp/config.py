"""Configuration of the development provider: its clients and its knobs.

Everything enters here as frozen, keyword-only dataclasses; nothing else in the
package reads the environment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import ClientMixin, list_to_scope, scope_to_list

Clock = Callable[[], int]

AUTH_CODE = "authorization_code"
REFRESH = "refresh_token"
CLIENT_CREDENTIALS = "client_credentials"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True, kw_only=True)
class Client(ClientMixin):
    """A registered OAuth client. A client without a secret is public."""

    client_id: str
    name: str
    client_secret: str | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = (AUTH_CODE, REFRESH)
    scope: str = "openid profile email groups offline_access"
    skip_consent: bool = False

    @property
    def is_public(self) -> bool:
        return self.client_secret is None

    @property
    def token_endpoint_auth_method(self) -> str:
        return "none" if self.is_public else "client_secret_basic"

    @property
    def client_metadata(self) -> dict[str, object]:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris)}

    # Authlib's ClientMixin contract.
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 9700 §4.1.1: no implicit default; every request names its redirect URI.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.scope))
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 9700 §4.1.3: exact string matching, no wildcards, no prefixes.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        import hmac

        return self.client_secret is not None and hmac.compare_digest(
            self.client_secret.encode(), client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and AUTH_CODE in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass(frozen=True, kw_only=True)
class ProviderConfig:
    """How the development provider behaves.

    ``issuer`` is None to derive it from each request (scheme, host and mount
    path), so the provider follows whatever port and base path it is served on.
    ``fixed_time`` freezes the clock for reproducible tokens.
    """

    clients: tuple[Client, ...] = field(default_factory=lambda: demo_clients())
    issuer: str | None = None
    allow_non_loopback: bool = False
    fixed_time: int | None = None
    access_token_ttl: int = 3600
    id_token_ttl: int = 3600
    refresh_token_ttl: int = 14 * 24 * 3600
    # State that lifetime in token responses as Keycloak does (``refresh_expires_in``), which
    # no RFC defines and most providers leave out; off, as for most of them.
    refresh_expires_in: bool = False
    code_ttl: int = 600
    device_code_ttl: int = 600
    device_poll_interval: int = 5
    session_ttl: int = 24 * 3600  # the provider's own login session (its cookie), from sign-in
    key_grace_period: int = 24 * 3600

    def clock(self) -> Clock:
        if self.fixed_time is not None:
            frozen = self.fixed_time
            return lambda: frozen
        return lambda: int(time.time())


NOTEBOOK_REDIRECT_URI = "http://127.0.0.1:8765/callback"


def demo_clients() -> tuple[Client, ...]:
    """The well-known clients the notebooks use. Their secrets are not secret:
    this provider logs anyone in without a password anyway."""
    return (
        Client(
            client_id="demo-web",
            name="Demo web app (confidential)",
            client_secret="demo-web-secret",
            redirect_uris=(NOTEBOOK_REDIRECT_URI, "http://localhost:5000/authorize"),
            post_logout_redirect_uris=("http://127.0.0.1:8765/logged-out",),
        ),
        Client(
            client_id="demo-spa",
            name="Demo single-page app (public, PKCE)",
            redirect_uris=(NOTEBOOK_REDIRECT_URI,),
            post_logout_redirect_uris=("http://127.0.0.1:8765/logged-out",),
        ),
        Client(
            client_id="demo-cli",
            name="Demo command-line tool (device flow)",
            grant_types=(DEVICE_CODE, REFRESH),
        ),
        Client(
            client_id="demo-m2m",
            name="Demo back-end service (client credentials)",
            client_secret="demo-m2m-secret",
            grant_types=(CLIENT_CREDENTIALS,),
            scope="reports:read reports:write",
        ),
    )
