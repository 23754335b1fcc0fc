"""The app's side of the devidp tests: what a relying party does against the provider.

Tokens are checked the way an app must check them: signatures against the
published JWKS (joserfc), ID-token claims with Authlib's own ``CodeIDToken``
rules. Nothing here stands in for the provider; every helper talks to a real one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import httpx2
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc6749 import OAuth2Token
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from devidp import ProviderConfig
from devidp.config import Clock

REDIRECT_URI = "http://127.0.0.1:8765/callback"
LOGGED_OUT_URI = "http://127.0.0.1:8765/logged-out"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OIDC_SCOPE = "openid profile email groups offline_access"
SECRETS = {"demo-web": "demo-web-secret", "demo-m2m": "demo-m2m-secret"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    """A code_verifier and its S256 code_challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def at_hash(access_token: str) -> str:
    """The at_hash of an access token next to an RS256 ID token (OIDC Core §3.1.3.6)."""
    return b64url(hashlib.sha256(access_token.encode()).digest()[:16])


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def without_query(url: str) -> str:
    return url.split("?", 1)[0]


def hidden_field(html: str, name: str) -> str:
    """The value a browser would submit for a hidden form field."""
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} on the page"
    return match.group(1)


def unverified(token: str) -> tuple[dict[str, object], dict[str, object]]:
    """A JWT's header and claims, read without checking anything."""

    def part(segment: str) -> dict[str, object]:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))

    header, claims, _ = token.split(".")
    return part(header), part(claims)


def relying_party(client_id: str, scope: str = OIDC_SCOPE, **kwargs: str) -> OAuth2Client:
    """Authlib's httpx client registered as ``client_id``; public when it has no secret."""
    return OAuth2Client(
        client_id,
        SECRETS.get(client_id),
        redirect_uri=REDIRECT_URI,
        scope=scope,
        code_challenge_method="S256",
        **kwargs,
    )


def authorization_params(client_id: str, **overrides: str | None) -> dict[str, str]:
    """A hand-made authorization request with PKCE S256; ``None`` drops a parameter."""
    _, challenge = pkce_pair()
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "login_hint": "alice",
    } | overrides
    return {key: value for key, value in params.items() if value is not None}


@dataclass
class Authorization:
    """An authorization request the app made, and where the provider sent the browser back."""

    response: httpx2.Response
    state: str
    nonce: str
    verifier: str

    @property
    def location(self) -> str:
        return self.response.headers["location"]

    @property
    def params(self) -> dict[str, str]:
        return query_of(self.location)

    @property
    def code(self) -> str:
        return self.params["code"]


@dataclass
class Login:
    authorization: Authorization
    token: OAuth2Token


def authorize(idp_url: str, rp: OAuth2Client, persona: str = "alice", **params: str) -> Authorization:
    """Send a browser to /authorize with ``login_hint``, which skips the login page."""
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(
        f"{idp_url}/authorize", code_verifier=verifier, nonce=nonce, login_hint=persona, **params
    )
    return Authorization(httpx2.get(url), state, nonce, verifier)


def sign_in(idp_url: str, rp: OAuth2Client, persona: str = "alice", **params: str) -> Login:
    """The authorization code flow with PKCE, from the redirect to the token response."""
    authorization = authorize(idp_url, rp, persona, **params)
    token = rp.fetch_token(
        f"{idp_url}/token",
        authorization_response=authorization.location,
        code_verifier=authorization.verifier,
    )
    return Login(authorization, token)


def published_keys(idp_url: str) -> KeySet:
    return KeySet.import_key_set(httpx2.get(f"{idp_url}/jwks.json").json())


def published_kids(idp_url: str) -> list[str]:
    return [key["kid"] for key in httpx2.get(f"{idp_url}/jwks.json").json()["keys"]]


def verify(token: str, idp_url: str) -> jwt.Token:
    """Decode a JWT, checking its signature against the provider's published JWKS."""
    return jwt.decode(token, published_keys(idp_url), algorithms=["RS256"])


def validate_id_token(login: Login, issuer: str, client_id: str, *, now: int | None = None) -> CodeIDToken:
    """Everything OIDC Core §3.1.3.7 asks of the app, with Authlib's claim rules."""
    decoded = verify(login.token["id_token"], issuer)
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}},
        params={
            "nonce": login.authorization.nonce,
            "access_token": login.token["access_token"],
            "client_id": client_id,
        },
    )
    claims.validate(now=now)
    return claims


def introspect(idp_url: str, token: str) -> dict[str, object]:
    """Ask about a token as a resource server would (RFC 7662), authenticated as demo-web."""
    with relying_party("demo-web") as resource_server:
        return resource_server.introspect_token(f"{idp_url}/introspect", token).json()


def poll_device(idp_url: str, device_code: str) -> httpx2.Response:
    """The device's token request (RFC 8628 §3.4), as the public client demo-cli."""
    return httpx2.post(
        f"{idp_url}/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "demo-cli"},
    )


def answer_device(idp_url: str, user_code: str, persona: str | None) -> httpx2.Response:
    """What the person does at /device: enter the code, then pick who they are.

    ``persona=""`` presses Deny; ``None`` stops after entering the code.
    """
    with httpx2.Client() as browser:
        csrf = hidden_field(browser.get(f"{idp_url}/device").text, "csrf")
        chooser = browser.post(f"{idp_url}/device", data={"csrf": csrf, "user_code": user_code})
        if persona is None:
            return chooser
        return browser.post(
            f"{idp_url}/device",
            data={"csrf": csrf, "user_code": hidden_field(chooser.text, "user_code"), "persona": persona},
        )


@dataclass(frozen=True, kw_only=True)
class SteppedClockConfig(ProviderConfig):
    """A provider whose clock moves only when the test calls ``advance``."""

    start: int = 1_800_000_000  # 2027-01-15, any fixed instant will do
    elapsed: list[int] = field(default_factory=lambda: [0], compare=False)

    def clock(self) -> Clock:
        return lambda: self.start + self.elapsed[0]

    def advance(self, seconds: int) -> None:
        self.elapsed[0] += seconds
