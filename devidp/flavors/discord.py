"""Discord: OAuth 2.0, profile from ``/api/users/@me``.

Quirks emulated: the user ``id`` is a snowflake (a number as a string);
``username`` is the unique lowercase handle with ``discriminator`` "0", and
``global_name`` the display name; ``avatar`` is an image hash or null; ``email``
and ``verified`` appear only with the ``email`` scope, and ``email`` may be null;
tokens last a week and refresh tokens rotate; API errors are
``{"message": "401: Unauthorized", "code": 0}``.
"""

from __future__ import annotations

from typing import ClassVar

from ..personas import Persona
from ..server import HttpResponse
from .accounts import stable_digits, stable_hex
from .base import Call, Endpoint, Flavor
from .errors import ApiRefused
from .responses import json_response
from .state import Grant

API = "https://discord.com/api"
LOCALES = {"en-US": "en-US", "en-GB": "en-GB", "ko-KR": "ko", "fr-FR": "fr", "de-DE": "de"}


class Discord(Flavor):
    name = "discord"
    label = "Discord"
    description = "Discord: OAuth 2.0, /api/users/@me with snowflake ids, email only with the email scope"
    entry_url = "https://discord.com/oauth2/authorize"
    endpoints = (
        Endpoint("https://discord.com/oauth2/authorize", "authorize", ("GET", "POST")),
        Endpoint(f"{API}/oauth2/authorize", "authorize", ("GET", "POST")),
        Endpoint(f"{API}/oauth2/token", "token", ("POST",)),
        Endpoint(f"{API}/v10/oauth2/token", "token", ("POST",)),
        Endpoint(f"{API}/oauth2/token/revoke", "revoke", ("POST",)),
        Endpoint(f"{API}/users/@me", "me"),
        Endpoint(f"{API}/v10/users/@me", "me"),
        Endpoint("https://cdn.discordapp.com/avatars/{id}/{file}", "avatar"),
    )
    scopes: ClassVar[dict[str, tuple[str, ...]]] = {"identify": ("profile",), "email": ("email",)}
    access_token_ttl = 7 * 24 * 3600
    access_token_format = ("", 30)
    refresh_token_format = ("", 30)

    def account_id(self, persona: Persona) -> str:
        return stable_digits(self.name, persona, 18)

    def avatar_hash(self, persona: Persona) -> str | None:
        return None if persona.username == "noemail" else stable_hex("discord-avatar", persona)

    def token_body(
        self, call: Call, body: dict[str, object], grant: Grant, grant_type: str
    ) -> dict[str, object]:
        ordered = ("token_type", "access_token", "expires_in", "refresh_token", "scope")
        body = body | {"scope": " ".join(self.requested_scopes(grant))}
        return {key: body[key] for key in ordered if key in body}

    def token_error(self, call: Call, status: int, body: dict[str, object]) -> HttpResponse:
        error = str(body.get("error", ""))
        if error == "invalid_client":
            return super().token_error(call, 401, {"error": "invalid_client"})
        if error == "invalid_grant":
            body = {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'}
        return super().token_error(call, status, body)

    def me(self, call: Call) -> HttpResponse:
        """GET /users/@me: needs ``identify``; ``email`` and ``verified`` need ``email``."""
        caller = self.bearer(call, "profile")
        persona = caller.user
        user: dict[str, object] = {
            "id": self.account_id(persona),
            "username": persona.username,
            "avatar": self.avatar_hash(persona),
            "discriminator": "0",
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "global_name": persona.given_name,
            "avatar_decoration_data": None,
            "banner_color": None,
            "mfa_enabled": False,
            "locale": LOCALES.get(persona.locale, "en-US"),
            "premium_type": 0,
        }
        if "email" in caller.scopes:
            user["email"] = persona.email
            user["verified"] = bool(persona.email and persona.email_verified)
        return json_response(user)

    def api_error(self, call: Call, refusal: ApiRefused) -> HttpResponse:
        return json_response({"message": "401: Unauthorized", "code": 0}, 401)
