"""Naver Login: OAuth 2.0 (네이버 로그인), profile from ``/v1/nid/me``.

Quirks emulated: ``state`` is required; there are no scopes (the app's consent
items are set in its settings); the token endpoint takes GET or POST with the
credentials as parameters and no ``redirect_uri``; ``expires_in`` is a string;
token errors come back as HTTP 200; ``grant_type=delete`` revokes a token; the
profile is wrapped in ``{"resultcode": "00", "message": "success", "response": ...}``
and a bad token gets ``{"resultcode": "024", ...}``; there is no
email-verification flag.
"""

from __future__ import annotations

import base64
import hashlib

from ..config import AUTH_CODE, REFRESH
from ..personas import Persona
from ..server import HttpRequest, HttpResponse
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused, AuthorizationRefused, TokenRefused
from .responses import NO_STORE, json_response
from .state import Grant

DELETE = "delete"


class Naver(Flavor):
    name = "naver"
    label = "Naver"
    description = "Naver Login: OAuth 2.0, state required, profile in a resultcode envelope"
    entry_url = "https://nid.naver.com/oauth2.0/authorize"
    endpoints = (
        Endpoint("https://nid.naver.com/oauth2.0/authorize", "authorize", ("GET", "POST")),
        Endpoint("https://nid.naver.com/oauth2.0/token", "token", ("GET", "POST")),
        Endpoint("https://openapi.naver.com/v1/nid/me", "me", ("GET", "POST")),
        Endpoint("https://phinf.pstatic.net/contact/profile/{id}.png", "avatar"),
    )
    always_scopes = ("profile", "email")  # consent items live in the app's settings, not the request
    grant_types = (AUTH_CODE, REFRESH, DELETE)
    token_params_in_query = True
    client_secret_basic = False
    fills_redirect_uri = True
    rotates_refresh_tokens = False
    access_token_format = ("AAAAO", 150)
    refresh_token_format = ("", 40)

    def main_scope(self, scope: str | None) -> str:
        return " ".join(self.always_scopes)

    def account_id(self, persona: Persona) -> str:
        digest = hashlib.sha256(f"naver:{persona.sub}".encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def check_authorization_request(self, call: Call, params: dict[str, str]) -> None:
        if not params.get("state"):
            raise AuthorizationRefused("invalid_request", "state is required (CSRF 방지를 위한 상태 토큰)")

    # --- tokens ---------------------------------------------------------------------------------
    def token(self, call: Call) -> HttpResponse:
        if call.values.get("grant_type") == DELETE:
            return self.delete(call)
        return super().token(call)

    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        out: dict[str, object] = {"access_token": body["access_token"]}
        out |= {k: body[k] for k in ("refresh_token",) if k in body}
        return out | {"token_type": "bearer", "expires_in": str(body["expires_in"])}

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        if error == "invalid_grant":
            body = {"error": "invalid_request", "error_description": "no valid data in session"}
        elif error == "invalid_client":
            body = {"error": "invalid_client", "error_description": "Client authentication failed"}
        return json_response(body, 200, headers=NO_STORE)  # Naver reports token errors with HTTP 200

    def delete(self, call: Call) -> HttpResponse:
        """``grant_type=delete``: Naver's way to revoke a token, through the server's RFC 7009 endpoint."""
        values = call.values
        token = values.get("access_token", "")
        grant = call.state.recall(token)
        if grant is None or grant.flavor != self.name:
            raise TokenRefused("invalid_request", "no valid data in session")
        form = {"token": token} | {k: values[k] for k in ("client_id", "client_secret") if k in values}
        request = HttpRequest(method="POST", url=call.request.url, headers={}, form=list(form.items()))
        response = call.server.create_endpoint_response("revocation", request)
        if response.status != 200:
            raise TokenRefused("invalid_client", "Client authentication failed")
        return json_response({"access_token": token, "result": "success"}, headers=NO_STORE)

    # --- the profile API --------------------------------------------------------------------------
    def me(self, call: Call) -> HttpResponse:
        persona = self.bearer(call).user
        profile: dict[str, object] = {
            "id": self.account_id(persona),
            "nickname": persona.given_name,
            "profile_image": self.twin(
                call, f"https://phinf.pstatic.net/contact/profile/{self.account_id(persona)}.png"
            ),
            "name": persona.name,
        }
        if persona.email:
            profile["email"] = persona.email
        return json_response({"resultcode": "00", "message": "success", "response": profile})

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        return json_response(
            {"resultcode": "024", "message": "Authentication failed / 인증에 실패했습니다."}, 401
        )
