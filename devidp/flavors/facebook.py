"""Facebook Login: OAuth 2.0 and the Graph API, pinned to v21.0.

Quirks emulated: the token endpoint takes GET or POST, with no ``grant_type``,
and credentials as parameters only; tokens last about 60 days and never come
with a refresh token; ``/me`` answers only ``id`` and ``name`` unless asked for
``fields``; ``email`` is missing when the person has no confirmed email or did
not grant ``email``; ``picture`` is ``{"data": {"url": ...}}``; errors are
``{"error": {"message", "type": "OAuthException", "code", "fbtrace_id"}}``; the
redirect back to the app ends in ``#_=_``.
"""

from __future__ import annotations

from typing import ClassVar

from ..config import AUTH_CODE
from ..personas import Persona
from ..server import HttpRequest, HttpResponse
from .accounts import stable_digits
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused
from .responses import NO_STORE, json_response, with_authorization
from .state import Grant

VERSION = "v21.0"
GRAPH = "https://graph.facebook.com"
PICTURE = "https://platform-lookaside.fbsbx.com/platform/profilepic/"
FIELDS = ("id", "name", "first_name", "last_name", "short_name", "email", "picture")


def graph_error(message: str, code: int, status: int = 400, subcode: int | None = None) -> HttpResponse:
    error: dict[str, object] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AdevidpTraceId0000000"
    return json_response({"error": error}, status, headers=NO_STORE)


class Facebook(Flavor):
    name = "facebook"
    label = "Facebook"
    description = f"Facebook Login: OAuth 2.0, Graph API {VERSION} /me?fields=..., email may be missing"
    entry_url = f"https://www.facebook.com/{VERSION}/dialog/oauth"
    endpoints = (
        Endpoint(f"https://www.facebook.com/{VERSION}/dialog/oauth", "authorize", ("GET", "POST")),
        Endpoint(f"{GRAPH}/{VERSION}/oauth/access_token", "token", ("GET", "POST")),
        Endpoint(f"{GRAPH}/oauth/access_token", "token", ("GET", "POST")),
        Endpoint(f"{GRAPH}/{VERSION}/me", "me", ("GET", "POST")),
        Endpoint(f"{GRAPH}/me", "me", ("GET", "POST")),
        Endpoint(PICTURE, "picture"),
    )
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {"public_profile": ("profile",), "email": ("email",)}
    scope_separators = ", "
    always_scopes = ("profile",)  # public_profile is always granted
    redirect_fragment = "#_=_"
    default_response_type = "code"
    implied_grant_type = AUTH_CODE
    grant_types = (AUTH_CODE,)
    token_params_in_query = True
    client_secret_basic = False
    access_token_ttl = 60 * 24 * 3600 - 1
    access_token_format = ("EAAG", 180)

    def account_id(self, persona: Persona) -> str:
        return stable_digits(self.name, persona, 17)  # app-scoped user id

    def redirect_params(self, call: Call, answer: dict[str, str], grant: Grant | None) -> dict[str, str]:
        if answer.get("error") == "access_denied":
            answer = {
                "error": "access_denied",
                "error_code": "200",
                "error_description": "Permissions error",
                "error_reason": "user_denied",
                **({"state": answer["state"]} if "state" in answer else {}),
            }
        return answer

    # --- token endpoint ------------------------------------------------------------------------
    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        self.discard_refresh_token(call, body)
        return {
            "access_token": body["access_token"],
            "token_type": "bearer",
            "expires_in": body["expires_in"],
        }

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        description = str(body.get("error_description", ""))
        if error == "invalid_client":
            return graph_error("Error validating client secret.", 1)
        if error == "invalid_grant" and "already used" in description:
            return graph_error("This authorization code has been used.", 100, subcode=36009)
        if error == "invalid_grant" and "redirect_uri" in description:
            return graph_error(
                "Error validating verification code. Please make sure your redirect_uri is identical "
                "to the one you used in the OAuth dialog request",
                100,
                subcode=36008,
            )
        if error == "invalid_grant":
            return graph_error("Invalid verification code format.", 100, subcode=36007)
        return graph_error(description or error, 100)

    # --- the Graph API ---------------------------------------------------------------------------
    def api_request(self, call: Call) -> HttpRequest:
        # The Graph API takes the token as ?access_token= as well as in the header.
        token = dict(call.request.query).get("access_token")
        if token and "authorization" not in {k.lower() for k in call.request.headers}:
            headers = with_authorization(call.request.headers, f"Bearer {token}")
            return HttpRequest(method=call.request.method, url=call.request.url, headers=headers)
        return call.request

    def picture_url(self, call: Call, persona: Persona) -> str:
        return self.twin(call, f"{PICTURE}?asid={self.account_id(persona)}&height=50&width=50&ext=1767225600")

    def me(self, call: Call) -> HttpResponse:
        """GET /me?fields=...: the person, with only the fields asked for (default id and name)."""
        caller = self.bearer(call)
        persona = caller.user
        # `picture.type(large)` and friends: the field name is what comes before the modifier.
        asked = [f.split(".")[0].split("{")[0] for f in call.values.get("fields", "id,name").split(",") if f]
        if unknown := [f for f in asked if f not in FIELDS]:
            return graph_error(
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (User)", 100
            )
        everything: dict[str, object] = {
            "id": self.account_id(persona),
            "name": persona.name,
            "first_name": persona.given_name,
            "last_name": persona.family_name,
            "short_name": persona.given_name,
            "picture": {
                "data": {
                    "height": 50,
                    "is_silhouette": False,
                    "url": self.picture_url(call, persona),
                    "width": 50,
                }
            },
        }
        if persona.email and persona.email_verified and "email" in caller.scopes:
            everything["email"] = persona.email
        profile = {f: everything[f] for f in dict.fromkeys(asked) if f in everything}
        profile.setdefault("id", everything["id"])  # the Graph API always answers the node id
        return json_response(profile)

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        if refusal.error == "missing_authorization":
            return graph_error(
                "An active access token must be used to query information about the current user.", 2500
            )
        return graph_error("Invalid OAuth access token data.", 190)

    def picture(self, call: Call) -> HttpResponse:
        persona = self.persona_for(call.values.get("asid", ""))
        if persona is None:
            return graph_error("Unsupported get request.", 100)
        return self.picture_of(persona)
