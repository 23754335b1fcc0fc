"""What a logged-in session can do with its tokens: introspect and revoke them."""

from __future__ import annotations

from typing import Literal

import httpx2

from .errors import ProviderError, ProviderUnreachable
from .flow import Authenticator
from .sessions import Session

Which = Literal["access_token", "refresh_token"]


def _value(session: Session, which: Which) -> str:
    value = session.tokens.access_token if which == "access_token" else session.tokens.refresh_token
    if not value:
        raise ProviderError(f"This session has no {which.replace('_', ' ')}.")
    return value


async def _post(
    auth: Authenticator, session: Session, endpoint_key: str, which: Which, what: str
) -> httpx2.Response:
    client = auth.client(auth.settings(session.provider), session.app_base)
    metadata = await client.metadata()
    endpoint = metadata.get(endpoint_key)
    if not endpoint:
        raise ProviderError(
            f"{client.settings.label} does not advertise {what} ({endpoint_key} in discovery)."
        )
    method = (
        client.client.introspect_token
        if endpoint_key == "introspection_endpoint"
        else client.client.revoke_token
    )
    try:
        return await method(str(endpoint), token=_value(session, which), token_type_hint=which)
    except httpx2.HTTPError as error:
        raise ProviderUnreachable(f"{client.settings.label}: {what} failed: {error}.") from error


async def introspect(
    auth: Authenticator, session: Session, which: Which = "access_token"
) -> dict[str, object]:
    """RFC 7662: ask the provider whether the token is active, and what it means."""
    response = await _post(auth, session, "introspection_endpoint", which, "token introspection")
    if response.status_code != 200:
        raise ProviderError(f"Introspection answered HTTP {response.status_code}: {response.text[:200]}")
    data = response.json()
    return data if isinstance(data, dict) else {}


async def revoke(auth: Authenticator, session: Session, which: Which = "access_token") -> int:
    """RFC 7009: revoke the token at the provider; returns the HTTP status (200 means done)."""
    response = await _post(auth, session, "revocation_endpoint", which, "token revocation")
    return response.status_code
