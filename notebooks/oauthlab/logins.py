"""Whole logins in one call, for notebooks whose subject comes after the login: the
authorization code flow (PKCE, state, nonce) and the device flow's polling."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session

from .exchanges import is_traced, trace

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4


@dataclass(frozen=True)
class Login:
    """What a finished login leaves the app: the token response, and the nonce it must check."""

    token: dict[str, object]
    nonce: str
    callback_url: str


def authorize(
    session: OAuth2Session,
    metadata: Mapping[str, object],
    follow: Callable[[str], str],
    **params: str,
) -> Login:
    """The authorization code flow around one browser step: ``follow`` takes the authorization
    URL and returns the callback URL the provider redirected to. Authlib checks ``state`` on
    the callback (RFC 6749 §10.12) and sends the PKCE verifier (RFC 7636 §4.5)."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        str(metadata["authorization_endpoint"]), code_verifier=verifier, nonce=nonce, **params
    )
    callback_url = follow(url)
    token = session.fetch_token(
        str(metadata["token_endpoint"]),
        authorization_response=callback_url,
        state=state,
        code_verifier=verifier,
    )
    return Login(dict(token), nonce, callback_url)


def log_in(
    session: OAuth2Session,
    metadata: Mapping[str, object],
    persona: str,
    *,
    browser: requests.Session | None = None,
    **params: str,
) -> Login:
    """Notebook 02's steps in one call, ``login_hint`` standing in for the person: PKCE, state,
    nonce, the provider's redirect, the checked callback, the code exchange. If ``session`` was
    passed through ``trace()``, the browser's and the app's exchanges are printed. Pass a
    ``browser`` to keep the provider's login-session cookie it receives."""
    if browser is None:
        browser = trace(requests.Session()) if is_traced(session) else requests.Session()

    def follow(url: str) -> str:
        # The dev provider logs in the hinted persona at once and redirects: no page to fill in.
        return browser.get(url, allow_redirects=False).headers["location"]

    return authorize(session, metadata, follow, login_hint=persona, **params)


def poll_for_token(
    session: requests.Session,
    token_endpoint: str,
    device_code: str,
    *,
    interval: int,
    expires_in: int,
    client_id: str,
    client_secret: str | None = None,
) -> requests.Response:
    """Poll the token endpoint as RFC 8628 §3.4–3.5 asks: every ``interval`` seconds, five more
    after ``slow_down``, until tokens, ``access_denied`` or ``expired_token`` (or time runs out)."""
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id}
    if client_secret:
        data["client_secret"] = client_secret
    deadline = time.monotonic() + expires_in
    while True:
        time.sleep(interval)
        response = session.post(token_endpoint, data=data)
        error = response.json().get("error") if response.status_code == 400 else None
        if error == "slow_down":
            interval += 5  # RFC 8628 §3.5
        if error not in ("authorization_pending", "slow_down") or time.monotonic() > deadline:
            return response
