"""The authorization server: Authlib's ``AuthorizationServer`` with this
provider's storage, keys, clock, faults and journal. No web framework here:
requests come in as ``HttpRequest`` and leave as ``HttpResponse``."""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import cast

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.requests import JsonPayload, JsonRequest
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oauth2.rfc9207 import IssuerParameter
from joserfc.jwk import KeySet

from .config import Client, ProviderConfig
from .endpoints import (
    DeviceAuthorizationEndpoint,
    EndSessionEndpoint,
    IntrospectionEndpoint,
    RevocationEndpoint,
    UserInfoEndpoint,
    bearer_protector,
    current_request,
)
from .faults import EVIL_ISSUER, FaultSwitches
from .grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    DeviceCodeGrant,
    OpenIDCodeExtension,
    OpenIDDeviceExtension,
    OpenIDRefreshExtension,
    RefreshTokenGrant,
    S256CodeChallenge,
    family_of,
)
from .journal import Journal
from .keys import ALGORITHM, KeyRing
from .models import Token
from .personas import SCOPE_CLAIMS, Persona
from .policy import MAIN_POLICY, TokenPolicy
from .store import Store

_request_issuer: ContextVar[str] = ContextVar("request_issuer")
# An emulated provider serving a request acts as its own issuer, with its own token policy.
_acting_issuer: ContextVar[str | None] = ContextVar("acting_issuer", default=None)
_token_policy: ContextVar[TokenPolicy] = ContextVar("token_policy", default=MAIN_POLICY)

Pairs = Sequence[tuple[str, str]]
# The ID token's own claims (OIDC Core §2, at_hash §3.1.3.6); discovery lists them before the
# claims each scope releases (personas.SCOPE_CLAIMS, OIDC Core §5.4).
_ID_TOKEN_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash")


@dataclass(frozen=True, kw_only=True)
class HttpRequest:
    """An HTTP request as the server needs it, already read from the socket."""

    method: str
    url: str
    headers: Mapping[str, str]
    query: Pairs = ()
    form: Pairs = ()
    body: bytes = b""  # as read, bounded by the route (devidp/routes.py)


@dataclass(kw_only=True)
class HttpResponse:
    status: int
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)

    # Authlib's RFC 9207 hook rewrites ``response.location``.
    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))


class _Payload(OAuth2Payload):
    def __init__(self, pairs: Pairs) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _OAuth2Request(OAuth2Request):
    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self._query = dict(request.query)
        self._form = dict(request.form)
        # Like Flask's request.values: query first, then form (Authlib's reference integration).
        self.payload = _Payload([*request.query, *request.form])

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _JsonRequest(JsonRequest):
    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request.method, request.url, request.headers)
        payload = JsonPayload()
        payload.data = {}  # type: ignore[misc]
        self.payload = payload


class _IssuerParameter(IssuerParameter):
    def __init__(self, server: DevAuthorizationServer) -> None:
        self.server = server

    def get_issuer(self) -> str:
        if "wrong_iss_param" in self.server.faults:
            return EVIL_ISSUER
        return self.server.issuer


class _AccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 JWT access tokens, so a learner can decode what they were given."""

    def __init__(self, server: DevAuthorizationServer) -> None:
        super().__init__(
            issuer="",
            alg=ALGORITHM,
            refresh_token_generator=lambda **_: server.token_policy.refresh_token(),
            expires_generator=lambda client, grant_type: server.token_policy.access_token_ttl(
                server.config.access_token_ttl
            ),
        )
        self.server = server

    def generate(
        self,
        grant_type: str,
        client: Client,
        user: Persona | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, object]:
        token = dict(super().generate(grant_type, client, user, scope, expires_in, include_refresh_token))
        if self.server.config.refresh_expires_in and "refresh_token" in token:
            token["refresh_expires_in"] = self.server.config.refresh_token_ttl
        return token

    def access_token_generator(
        self, client: Client, grant_type: str, user: Persona | None, scope: str
    ) -> str:
        opaque = self.server.token_policy.access_token()
        return opaque or str(super().access_token_generator(client, grant_type, user, scope))

    def get_jwks(self) -> KeySet:
        return KeySet([self.server.keys.active])

    def get_audiences(self, client: Client, user: Persona | None, scope: str) -> str:
        return f"{self.server.issuer}/userinfo"

    def get_extra_claims(
        self, client: Client, grant_type: str, user: Persona | None, scope: str
    ) -> dict[str, object]:
        now = self.server.now()
        return {"iss": self.server.issuer, "iat": now, "exp": now + self.server.config.access_token_ttl}


class DevAuthorizationServer(AuthorizationServer):
    """The development provider's authorization server."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._clients = {c.client_id: c for c in config.clients}
        scopes = sorted({s for c in config.clients for s in c.scope.split()})
        super().__init__(scopes_supported=scopes)
        self.now = config.clock()
        self.store = Store(self.now, session_ttl=config.session_ttl)
        self.keys = KeyRing(self.now, config.key_grace_period)
        self.faults = FaultSwitches()
        self.journal = Journal()
        self._last_authorization: dict[str, str] = {}
        self._bearer = bearer_protector(self)

        self.register_token_generator("default", _AccessTokens(self))
        self.register_grant(
            AuthorizationCodeGrant, [S256CodeChallenge(required=True), OpenIDCodeExtension(self)]
        )
        self.register_grant(RefreshTokenGrant, [OpenIDRefreshExtension(self)])
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(DeviceCodeGrant, [OpenIDDeviceExtension(self)])
        self.register_extension(_IssuerParameter(self))
        for endpoint in (
            RevocationEndpoint,
            IntrospectionEndpoint,
            DeviceAuthorizationEndpoint,
            EndSessionEndpoint,
        ):
            self.register_endpoint(endpoint)
        self.register_endpoint(UserInfoEndpoint(self))
        device = cast(DeviceAuthorizationEndpoint, self._endpoints["device_authorization"][0])
        device.EXPIRES_IN = config.device_code_ttl
        device.INTERVAL = config.device_poll_interval

    # --- the issuer ---------------------------------------------------------------
    @property
    def issuer(self) -> str:
        if acting := _acting_issuer.get():
            return acting
        if self.config.issuer:
            return self.config.issuer
        try:
            return _request_issuer.get()
        except LookupError:
            raise RuntimeError(
                "The issuer follows the request URL: read it while serving a request, "
                "or set ProviderConfig(issuer=...)."
            ) from None

    def use_issuer(self, issuer: str) -> None:
        """Set the issuer for the request being served (derived from its URL)."""
        _request_issuer.set(issuer)

    @property
    def token_policy(self) -> TokenPolicy:
        """How the tokens of the request being served look (``MAIN_POLICY`` unless emulating)."""
        return _token_policy.get()

    @contextmanager
    def acting_as(self, issuer: str, policy: TokenPolicy) -> Iterator[None]:
        """Serve the block as another issuer with its token policy (an emulated provider)."""
        issuer_reset = _acting_issuer.set(issuer)
        policy_reset = _token_policy.set(policy)
        try:
            yield
        finally:
            _token_policy.reset(policy_reset)
            _acting_issuer.reset(issuer_reset)

    # --- Authlib's storage and framework hooks ------------------------------------------
    def query_client(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    @property
    def clients(self) -> tuple[Client, ...]:
        return tuple(self._clients.values())

    def register_client(self, client: Client) -> None:
        """Add or replace a client while serving (the app registers its own callback URLs)."""
        self._clients[client.client_id] = client

    def save_token(self, token: dict[str, object], request: OAuth2Request) -> None:
        now = self.now()
        if request.refresh_token is not None:
            family = cast(Token, request.refresh_token).family
        elif request.authorization_code is not None:
            family = family_of(request.authorization_code.code)
        else:
            family = "grant:" + secrets.token_hex(8)
        user = cast(Persona | None, request.user)
        code = request.authorization_code
        refresh = cast(str | None, token.get("refresh_token"))
        self.store.save_token(
            Token(
                client=cast(Client, request.client),
                access_token=str(token["access_token"]),
                refresh_token=refresh,
                refresh_expires_at=now + self.config.refresh_token_ttl if refresh else None,
                scope=str(token.get("scope", "")),
                issued_at=now,
                expires_in=int(str(token.get("expires_in", self.config.access_token_ttl))),
                family=family,
                user_sub=user.sub if user else None,
                auth_time=code.auth_time if code else None,
            )
        )

    def create_oauth2_request(self, request: HttpRequest | OAuth2Request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        oauth_request = _OAuth2Request(request)
        current_request.set(oauth_request)
        return oauth_request

    def create_json_request(self, request: HttpRequest) -> JsonRequest:
        return _JsonRequest(request)

    def handle_response(self, status: int, body: object, headers: Sequence[tuple[str, str]]) -> HttpResponse:
        text = json.dumps(body) if isinstance(body, dict) else str(body or "")
        return HttpResponse(status=status, body=text, headers=list(headers))

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        return None

    # --- what the routes call ------------------------------------------------------------
    def authorize(self, grant: object, user: Persona | None, auth_time: int) -> HttpResponse:
        """Finish an authorization request for ``user`` (None: the user said no)."""
        request = cast(OAuth2Request, grant.request)  # type: ignore[attr-defined]
        request.auth_time = auth_time  # type: ignore[attr-defined]
        response = cast(
            HttpResponse, self.create_authorization_response(request, grant_user=user, grant=grant)
        )
        client_id = request.payload.client_id
        previous = self._last_authorization.get(client_id)
        if response.status == 302 and response.location and "code=" in response.location:
            self._last_authorization[client_id] = response.location
            if "reused_code" in self.faults and previous:
                response.location = previous
        return response

    def bearer_token(self, request: HttpRequest, scope: str | None = None) -> Token:
        """The live access token an API request carries (RFC 6750 §2.1) with ``scope``;
        raises Authlib's ``OAuth2Error`` (missing, unknown, expired, revoked, insufficient scope)."""
        oauth_request = self.create_oauth2_request(request)
        return cast(Token, self._bearer.validate_request([scope] if scope else None, oauth_request))

    def metadata(self) -> dict[str, object]:
        """OpenID Provider Metadata (OIDC Discovery §3, RFC 8414 §2)."""
        iss = self.issuer
        return {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "userinfo_endpoint": f"{iss}/userinfo",
            "jwks_uri": f"{iss}/jwks.json",
            "revocation_endpoint": f"{iss}/revoke",
            "introspection_endpoint": f"{iss}/introspect",
            "device_authorization_endpoint": f"{iss}/device_authorization",
            "end_session_endpoint": f"{iss}/logout",
            "scopes_supported": self.scopes_supported,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": sorted({g for c in self.clients for g in c.grant_types}),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [*_ID_TOKEN_CLAIMS, *(c for claims in SCOPE_CLAIMS.values() for c in claims)],
            "acr_values_supported": ["0"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "authorization_response_iss_parameter_supported": True,
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
        }
