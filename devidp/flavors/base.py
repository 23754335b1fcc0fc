"""What every emulated provider shares.

A flavour is mostly data: its real URLs, its scopes in the main provider's
words, its token format and lifetimes. Its authorization endpoint rewrites the
request for the main flow (login page, consent, personas, ``login_hint``) and
reshapes the answer; its token endpoint runs the server's Authlib grants,
acting as the flavour's issuer with the flavour's token policy, and reshapes
the JSON; its APIs authenticate bearer tokens with Authlib's resource protector.
No web framework here: requests and responses are ``HttpRequest``/``HttpResponse``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error

from ..config import AUTH_CODE, REFRESH, Client
from ..faults import EVIL_ISSUER
from ..personas import BY_SUB, BY_USERNAME, PERSONAS, Persona, avatar_svg
from ..policy import TokenPolicy
from ..server import DevAuthorizationServer, HttpRequest, HttpResponse
from .accounts import stable_digits
from .errors import ApiRefused, AuthorizationRefused, TokenRefused
from .responses import NO_STORE, form_post_page, json_response, with_authorization
from .state import FlavorState, Grant, state_of
from .twins import UrlPattern, emulated_url, fill

BY_EMAIL: dict[str, Persona] = {p.email.lower(): p for p in PERSONAS if p.email}


@dataclass(frozen=True)
class Endpoint:
    """One real URL of the provider and the flavour method that answers it."""

    url: str
    handler: str
    methods: tuple[str, ...] = ("GET",)
    pattern: UrlPattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", UrlPattern(self.url))


@dataclass(frozen=True, kw_only=True)
class Call:
    """One request to a flavour's endpoint."""

    server: DevAuthorizationServer
    request: HttpRequest
    idp: str  # the dev provider's base URL: every twin hangs off it
    params: Mapping[str, str] = field(default_factory=dict)  # placeholders matched in the real URL

    @property
    def values(self) -> dict[str, str]:
        return dict(self.request.query) | dict(self.request.form)

    @property
    def state(self) -> FlavorState:
        return state_of(self.server)


@dataclass(frozen=True)
class Caller:
    """Who an API call is from: the persona, their authorization and the token's scopes."""

    user: Persona
    grant: Grant
    scopes: frozenset[str]  # in the main provider's words


class _Issuance(TokenPolicy):
    """A flavour's token policy for one call."""

    def __init__(self, flavor: Flavor, call: Call, grant: Grant) -> None:
        self.flavor = flavor
        self.call = call
        self.grant = grant

    def rotates_refresh_tokens(self) -> bool:
        return self.flavor.rotates_refresh_tokens

    def access_token_ttl(self, default: int) -> int:
        return self.flavor.access_token_ttl

    def access_token(self) -> str:
        prefix, length = self.flavor.access_token_format
        return prefix + generate_token(length)

    def refresh_token(self) -> str:
        prefix, length = self.flavor.refresh_token_format
        return prefix + generate_token(length)

    def id_token_claims(
        self, claims: dict[str, object], user: Persona, client: Client, scope: str
    ) -> dict[str, object]:
        return self.flavor.id_token_claims(self.call, self.grant, claims, client, scope)


class Flavor:
    """An emulated provider. Subclasses set the data and override the hooks they need."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    endpoints: ClassVar[tuple[Endpoint, ...]]
    entry_url: ClassVar[str]  # where a person starts: the discovery document or the authorize URL
    issuer: ClassVar[str | None] = None  # the real issuer (OIDC flavours)
    discovery_document: ClassVar[Mapping[str, object]] = {}

    # Scopes: each of the provider's scopes in the main provider's words; unknown ones pass
    # through, so the main server refuses them (invalid_scope) as it would its own.
    scopes: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    scope_separators: ClassVar[str] = " "
    always_scopes: ClassVar[tuple[str, ...]] = ()  # granted whatever the request says
    sends_iss: ClassVar[bool] = False  # RFC 9207 iss on the authorization response
    response_modes: ClassVar[tuple[str, ...]] = ("query",)
    redirect_fragment: ClassVar[str] = ""
    default_response_type: ClassVar[str | None] = None  # the request may omit response_type

    # The token endpoint.
    grant_types: ClassVar[tuple[str, ...]] = (AUTH_CODE, REFRESH)
    implied_grant_type: ClassVar[str | None] = None  # the request may omit grant_type
    token_params_in_query: ClassVar[bool] = False  # GET, or parameters in the query string
    client_secret_basic: ClassVar[bool] = True  # else credentials only count in the form body
    fills_redirect_uri: ClassVar[bool] = False  # the real token request carries no redirect_uri
    rotates_refresh_tokens: ClassVar[bool] = True
    access_token_ttl: ClassVar[int] = 3600
    access_token_format: ClassVar[tuple[str, int]] = ("", 40)  # prefix, random characters
    refresh_token_format: ClassVar[tuple[str, int]] = ("", 48)

    # --- routing -----------------------------------------------------------------------
    def match(self, method: str, host_and_path: str) -> tuple[Endpoint, dict[str, str]] | None:
        allowed = {method, "GET"} if method == "HEAD" else {method}
        for endpoint in self.endpoints:
            params = endpoint.pattern.match(host_and_path)
            if params is not None and allowed & set(endpoint.methods):
                return endpoint, params
        return None

    def twin(self, call: Call, real_url: str) -> str:
        return emulated_url(fill(real_url, dict(call.params)), call.idp, self.name)

    def issuer_url(self, call: Call) -> str:
        """The emulated issuer: the twin of the real one (non-OIDC flavours get a stand-in)."""
        if self.issuer is None:
            return f"{call.idp.rstrip('/')}/flavors/{self.name}"
        return self.twin(call, self.issuer)

    def handle(self, endpoint: Endpoint, call: Call) -> HttpResponse:
        """Answer a call to any endpoint but the authorization endpoint (see ``authorization_*``)."""
        try:
            return getattr(self, endpoint.handler)(call)  # type: ignore[no-any-return]
        except TokenRefused as refusal:
            return self.token_error(
                call, refusal.status, {"error": refusal.error, "error_description": refusal.description}
            )
        except ApiRefused as refusal:
            return self.api_error(call, refusal)

    # --- the authorization endpoint ---------------------------------------------------------
    def main_scope(self, scope: str | None) -> str:
        words = [w for w in re.split(f"[{re.escape(self.scope_separators)}]+", scope or "") if w]
        mapped = [*self.always_scopes, *(s for w in words for s in self.scopes.get(w, (w,)))]
        return " ".join(dict.fromkeys(mapped))

    def requested_scopes(self, grant: Grant) -> list[str]:
        """The scopes the app asked for, in the provider's words."""
        words = re.split(f"[{re.escape(self.scope_separators)}]+", grant.scope)
        return [w for w in dict.fromkeys(words) if w]

    def check_authorization_request(self, call: Call, params: Mapping[str, str]) -> None:
        """Raise ``AuthorizationRefused`` for what the real provider refuses outright."""

    def authorization_request(self, call: Call) -> HttpRequest:
        """The request in the main provider's words: its scopes, a persona's username as login_hint."""
        params = dict(call.request.query)
        self.check_authorization_request(call, params)
        rewritten = {k: v for k, v in params.items() if k not in ("scope", "response_mode")}
        if scope := self.main_scope(params.get("scope")):
            rewritten["scope"] = scope
        if self.default_response_type:
            rewritten.setdefault("response_type", self.default_response_type)
        hint = params.get("login_hint", "")
        if hint not in BY_USERNAME and (persona := BY_EMAIL.get(hint.lower())):
            rewritten["login_hint"] = persona.username  # real providers take an email
        return replace(call.request, query=list(rewritten.items()))

    def authorization_response(self, call: Call, response: HttpResponse) -> HttpResponse:
        """The main flow's answer as the provider sends it: pages pass through, redirects are reshaped."""
        if response.status != 302 or response.location is None:
            return response
        params = dict(call.request.query)
        redirect_uri = params.get("redirect_uri", "")
        own = dict(parse_qsl(urlsplit(redirect_uri).query))
        answer = {
            k: v for k, v in parse_qsl(urlsplit(response.location).query) if k not in own and k != "iss"
        }
        grant = self._remember_code(call, answer.get("code"), params)
        if self.sends_iss:
            # RFC 9207 §2, and the main provider's fault switch for it.
            evil = "wrong_iss_param" in call.server.faults
            answer["iss"] = EVIL_ISSUER if evil else self.issuer_url(call)
        answer = self.redirect_params(call, answer, grant)
        if params.get("response_mode") == "form_post" and "form_post" in self.response_modes:
            if urlsplit(redirect_uri).scheme not in ("http", "https"):
                # A form posted to a javascript: URI would run in this origin (Authlib refuses it too).
                raise AuthorizationRefused("invalid_request", "form_post needs an http(s) redirect_uri.")
            kept = [(k, v) for k, v in response.headers if k.lower() not in ("location", "content-type")]
            page = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
            return HttpResponse(status=200, body=form_post_page(redirect_uri, answer), headers=kept + page)
        response.location = add_params_to_uri(redirect_uri, list(answer.items())) + self.redirect_fragment
        return response

    def _remember_code(self, call: Call, code: str | None, params: dict[str, str]) -> Grant | None:
        if not code:
            return None
        if known := call.state.recall(code):
            return known
        stored = call.server.store.get_code(code)
        if stored is None:
            return None
        grant = Grant(
            flavor=self.name,
            client_id=stored.client_id,
            user_sub=stored.user_sub,
            scope=params.get("scope", ""),
            request=params,
        )
        call.state.remember(code, grant)
        return grant

    def redirect_params(self, call: Call, answer: dict[str, str], grant: Grant | None) -> dict[str, str]:
        """Hook: the parameters of the authorization response (``code``, ``state`` or ``error``...)."""
        return answer

    # --- the token endpoint ---------------------------------------------------------------
    def token(self, call: Call) -> HttpResponse:
        values = call.values if self.token_params_in_query else dict(call.request.form)
        if self.implied_grant_type:
            values.setdefault("grant_type", self.implied_grant_type)
        grant_type = values.get("grant_type", "")
        if grant_type not in self.grant_types:
            raise TokenRefused("unsupported_grant_type", f"{self.label} does not support {grant_type!r}.")
        credential = "code" if grant_type == AUTH_CODE else "refresh_token"
        grant = call.state.recall(values.get(credential, ""))
        if (grant is None or grant.flavor != self.name) and values.get(credential):
            # Another provider's code or token (the main one's too) is unknown here. The server
            # still checks the client first, so the app gets the error the real provider gives.
            grant, values[credential] = None, f"not-issued-by-{self.name}"
        if grant and grant_type == AUTH_CODE and self.fills_redirect_uri:
            values.setdefault("redirect_uri", grant.request.get("redirect_uri", ""))
        if "scope" in values:
            values["scope"] = self.main_scope(values["scope"])
        values = self.token_request(call, values)
        headers = (
            call.request.headers
            if self.client_secret_basic
            else with_authorization(call.request.headers, None)
        )
        request = HttpRequest(method="POST", url=call.request.url, headers=headers, form=list(values.items()))
        if grant is None:  # nothing this flavour issued: the server refuses it, and says why
            response = call.server.create_token_response(request)
            return self.token_error(call, response.status, json.loads(response.body))
        with call.server.acting_as(self.issuer_url(call), _Issuance(self, call, grant)):
            response = call.server.create_token_response(request)
        body = json.loads(response.body)
        if response.status != 200:
            return self.token_error(call, response.status, body)
        for key in ("access_token", "refresh_token"):
            if key in body:
                call.state.remember(str(body[key]), grant)
        return self.token_reply(call, self.token_body(call, body, grant, grant_type))

    def token_request(self, call: Call, values: dict[str, str]) -> dict[str, str]:
        """Hook: the token request's parameters before the server sees them."""
        return values

    def discard_refresh_token(self, call: Call, body: dict[str, object]) -> None:
        """Take the refresh token out of a response, and make it useless: the provider issues none."""
        refresh = body.pop("refresh_token", None)
        if isinstance(refresh, str):
            if token := call.server.store.by_refresh_token(refresh):
                call.server.store.update_token(token, refresh_revoked=True)
            call.state.forget(refresh)

    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        """Hook: the successful token response's fields, as the provider names and orders them."""
        return body

    def token_reply(self, call: Call, body: dict[str, object]) -> HttpResponse:
        return json_response(body, headers=NO_STORE)

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        """Hook: a token error (RFC 6749 §5.2 from the server) in the provider's format."""
        return json_response(body, status, headers=NO_STORE)

    # --- ID tokens --------------------------------------------------------------------------
    def id_token_claims(
        self, call: Call, grant: Grant, claims: dict[str, object], client: Client, scope: str
    ) -> dict[str, object]:
        """Hook: the ID token's claims, from the ones Authlib built (iss is already this issuer)."""
        return claims

    @staticmethod
    def protocol_claims(claims: Mapping[str, object], *names: str) -> dict[str, object]:
        """The claims Authlib computed that a provider keeps (iss, aud, exp, iat, nonce, at_hash...)."""
        return {n: claims[n] for n in names if n in claims}

    # --- discovery and keys ----------------------------------------------------------------
    def discovery(self, call: Call) -> HttpResponse:
        """OIDC Discovery §3 at the twin of the real URL; every URL in it is a twin too."""
        document = {
            key: self.twin(call, value)
            if isinstance(value, str) and (key == "jwks_uri" or key.endswith("_endpoint"))
            else value
            for key, value in self.discovery_document.items()
        }
        document["issuer"] = self.issuer_url(call)  # OIDC Discovery §4.3: the URL it is served under
        return json_response(document, headers=[("Access-Control-Allow-Origin", "*")])

    def jwks(self, call: Call) -> HttpResponse:
        """The dev provider's own keys: flavour ID tokens are signed with them."""
        return json_response(
            call.server.keys.jwks(),
            headers=[("Access-Control-Allow-Origin", "*"), ("Cache-Control", "public, max-age=60")],
        )

    # --- APIs -----------------------------------------------------------------------------------
    def api_request(self, call: Call) -> HttpRequest:
        """Hook: the API request with its token where Authlib looks (``Authorization: Bearer``)."""
        return call.request

    def bearer(self, call: Call, scope: str | None = None) -> Caller:
        """Who an API call is from; ``scope`` (the main provider's word) must have been granted."""
        try:
            token = call.server.bearer_token(self.api_request(call), scope)
        except OAuth2Error as error:
            raise ApiRefused(str(error.error), str(error.description or ""), error.status_code) from error
        grant = call.state.recall(token.access_token)
        if grant is None or grant.flavor != self.name or token.user_sub is None:
            raise ApiRefused("invalid_token", f"This token was not issued by {self.label}.", 401)
        return Caller(BY_SUB[token.user_sub], grant, frozenset(token.scope.split()))

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        """Hook: an API refusal in the provider's format (default: RFC 6750 §3)."""
        challenge = f'Bearer error="{refusal.error}"'
        return json_response(
            {"error": refusal.error, "error_description": refusal.description},
            refusal.status,
            headers=[("WWW-Authenticate", challenge)],
        )

    # --- revocation (RFC 7009, through the server) ------------------------------------------
    def revocation_request(self, call: Call, values: dict[str, str]) -> dict[str, str]:
        """Hook: the revocation request's parameters before the server sees them."""
        return values

    def revoke(self, call: Call) -> HttpResponse:
        values = self.revocation_request(call, dict(call.request.form))
        headers = (
            call.request.headers
            if self.client_secret_basic
            else with_authorization(call.request.headers, None)
        )
        request = HttpRequest(method="POST", url=call.request.url, headers=headers, form=list(values.items()))
        response = call.server.create_endpoint_response("revocation", request)
        if response.status != 200:
            return self.token_error(call, response.status, json.loads(response.body))
        return HttpResponse(status=200, body="", headers=list(NO_STORE))

    # --- profile pictures --------------------------------------------------------------------
    def account_id(self, persona: Persona) -> str:
        """The persona's id at this provider (what its avatar URL names)."""
        return stable_digits(self.name, persona, 12)

    def persona_for(self, account_id: str) -> Persona | None:
        return next((p for p in PERSONAS if self.account_id(p) == account_id), None)

    def avatar(self, call: Call) -> HttpResponse:
        """The picture at the twin of the provider's image URL for a persona's account id."""
        persona = self.persona_for(call.params.get("id", ""))
        if persona is None:
            return HttpResponse(status=404, body="Not Found", headers=[("Content-Type", "text/plain")])
        return self.picture_of(persona)

    @staticmethod
    def picture_of(persona: Persona) -> HttpResponse:
        """The persona's picture, drawn here: no page loads an image from the internet."""
        return HttpResponse(
            status=200,
            body=avatar_svg(persona),
            headers=[("Content-Type", "image/svg+xml"), ("Cache-Control", "public, max-age=3600")],
        )
