"""Strava: OAuth 2.0 only, no discovery document; the shape of a provider known only by its
endpoints (the login's generic OAuth 2.0 provider: ``streamlit_authlib_login/_core/endpoints.py``).

What is emulated, from Strava's authentication docs (developers.strava.com/docs/authentication)
and its API's answers as developers report them: the authorization page at ``/oauth/authorize``
(scopes such as ``read,activity:read`` separated by commas, spaces accepted too; the accepted
scopes come back comma-separated in the redirect's ``scope``, and ``state`` always comes back,
empty when none was sent); the token endpoint at ``/oauth/token`` and ``/api/v3/oauth/token``,
taking the client's credentials as form fields, answering ``token_type``, ``expires_at``,
``expires_in``, ``refresh_token`` and ``access_token`` (six hours), plus the summary
``athlete`` for an authorization code and not for a refresh; refresh tokens that do not rotate;
errors as Strava's Fault, ``{"message": "Bad Request", "errors": [{"resource", "field",
"code"}]}`` (400 for an unknown client or a bad code or refresh token, 401 for a known client's
wrong secret); ``GET /api/v3/athlete`` with a numeric ``id``, ``firstname``, ``lastname``, a
``username`` that is often null, ``profile`` and ``profile_medium`` picture URLs (the relative
the relative ``"avatar/athlete/large.png"`` for an athlete without one), the detailed representation
(``resource_state`` 3) only with ``profile:read_all``, and no email at all.

Not emulated: Strava documents no PKCE, and this twin, being the development provider, checks a
``code_challenge`` when one is sent (and accepts a confidential client's login without one);
a refresh a long way from expiry returning the same access token; rate-limit headers;
``/oauth/deauthorize`` and ``/oauth/revoke``.
"""

from __future__ import annotations

from typing import ClassVar

from ..config import AUTH_CODE
from ..personas import Persona
from ..server import HttpResponse
from .accounts import stable_digits
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused
from .responses import NO_STORE, json_response
from .state import Grant

WWW = "https://www.strava.com"
PICTURES = "https://dgalywyr863hv.cloudfront.net/pictures/athletes/{id}"
NO_PICTURE = "avatar/athlete/large.png"  # what Strava sends for an athlete without a picture
# Strava usernames are optional: most of the personas have none.
USERNAMES = {"alice": "alice_rides", "jiwoo": "jiwoo_runs", "mallory": "m4llory"}
SCOPES = ("read", "read_all", "profile:read_all", "profile:write", "activity:read", "activity:read_all")


def fault(status: int, message: str, resource: str, field: str, code: str = "invalid") -> HttpResponse:
    """Strava's error format (its API's ``Fault`` model)."""
    body = {"message": message, "errors": [{"resource": resource, "field": field, "code": code}]}
    return json_response(body, status, headers=NO_STORE)


class Strava(Flavor):
    name = "strava"
    label = "Strava"
    description = "Strava: OAuth 2.0 only, athlete in the token response, /api/v3/athlete, no email"
    entry_url = f"{WWW}/oauth/authorize"
    endpoints = (
        Endpoint(f"{WWW}/oauth/authorize", "authorize", ("GET", "POST")),
        Endpoint(f"{WWW}/oauth/mobile/authorize", "authorize", ("GET", "POST")),
        Endpoint(f"{WWW}/oauth/token", "token", ("POST",)),
        Endpoint(f"{WWW}/api/v3/oauth/token", "token", ("POST",)),
        Endpoint(f"{WWW}/api/v3/athlete", "athlete"),
        Endpoint(f"{PICTURES}/large.jpg", "avatar"),
        Endpoint(f"{PICTURES}/medium.jpg", "avatar"),
    )
    # Every scope reads the athlete's profile; activity scopes have no API here.
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {scope: ("profile",) for scope in SCOPES}
    scope_separators = ", "
    client_secret_basic = False  # Strava documents the credentials as form fields only
    fills_redirect_uri = True  # its documented token request has no redirect_uri
    rotates_refresh_tokens = False
    access_token_ttl = 6 * 3600
    access_token_format = ("", 40)
    refresh_token_format = ("", 40)

    def account_id(self, persona: Persona) -> str:
        return stable_digits(self.name, persona, 8)

    def redirect_params(self, call: Call, answer: dict[str, str], grant: Grant | None) -> dict[str, str]:
        if "error" in answer:
            return {"state": answer.get("state", ""), "error": answer["error"]}
        granted = [s for s in self.requested_scopes(grant) if s in self.scopes] if grant else []
        return {"state": answer.get("state", ""), "code": answer.get("code", ""), "scope": ",".join(granted)}

    # --- the token endpoint ------------------------------------------------------------------
    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        expires_in = int(str(body["expires_in"]))
        out: dict[str, object] = {
            "token_type": "Bearer",
            "expires_at": call.server.now() + expires_in,
            "expires_in": expires_in,
            # Strava sends the refresh token with every answer: after a refresh, the same one.
            "refresh_token": body.get("refresh_token") or call.values.get("refresh_token"),
            "access_token": body["access_token"],
        }
        if grant_type == AUTH_CODE:  # the athlete comes with a code's tokens only, never a refresh's
            out["athlete"] = self.summary(call, grant.user)
        return out

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        if error == "invalid_client":
            if call.server.query_client(call.values.get("client_id", "")) is None:
                return fault(400, "Bad Request", "Application", "client_id")
            return fault(401, "Authorization Error", "Application", "")  # a known client, a wrong secret
        if error == "invalid_grant" and call.values.get("grant_type") == "refresh_token":
            return fault(400, "Bad Request", "RefreshToken", "refresh_token")
        if error == "invalid_grant":
            return fault(400, "Bad Request", "AuthorizationCode", "code")
        return fault(400, "Bad Request", "Application", error or "request")

    # --- the API ---------------------------------------------------------------------------------
    def picture(self, call: Call, persona: Persona) -> str:
        if persona.username == "noemail":
            return NO_PICTURE
        return self.twin(call, PICTURES.format(id=self.account_id(persona)) + "/large.jpg")

    def summary(self, call: Call, persona: Persona) -> dict[str, object]:
        """The summary representation (``resource_state`` 2), as the token response carries it."""
        picture = self.picture(call, persona)
        return {
            "id": int(self.account_id(persona)),
            "username": USERNAMES.get(persona.username),
            "resource_state": 2,
            "firstname": persona.given_name,
            "lastname": persona.family_name,
            "bio": None,
            "city": None,
            "state": None,
            "country": None,
            "sex": None,
            "premium": False,
            "summit": False,
            "created_at": "2020-02-02T12:00:00Z",
            "updated_at": "2025-01-01T12:00:00Z",
            "badge_type_id": 0,
            "weight": None,
            "profile_medium": picture.replace("/large.jpg", "/medium.jpg"),
            "profile": picture,
            "friend": None,
            "follower": None,
        }

    def athlete(self, call: Call) -> HttpResponse:
        """GET /api/v3/athlete: the token's athlete; detailed only with ``profile:read_all``."""
        caller = self.bearer(call)
        athlete = self.summary(call, caller.user)
        if "profile:read_all" in self.requested_scopes(caller.grant):
            athlete |= {
                "resource_state": 3,
                "follower_count": 1,
                "friend_count": 1,
                "measurement_preference": "meters",
                "ftp": None,
                "clubs": [],
                "bikes": [],
                "shoes": [],
            }
        return json_response(athlete)

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        return fault(401, "Authorization Error", "Athlete", "access_token")
