"""What a logged-in session can do with its tokens: introspect and revoke them."""

from __future__ import annotations

from typing import Literal

from .errors import ProviderError
from .flow import Authenticator
from .sessions import Session

Which = Literal["access_token", "refresh_token"]


def _value(session: Session, which: Which) -> str:
    value = session.tokens.access_token if which == "access_token" else session.tokens.refresh_token
    if not value:
        raise ProviderError(f"This session has no {which.replace('_', ' ')}.")
    return value


async def introspect(
    auth: Authenticator, session: Session, which: Which = "access_token"
) -> dict[str, object]:
    """RFC 7662: ask the provider whether the token is active, and what it means."""
    client = auth.client(auth.settings(session.provider), session.app_base)
    return await client.introspect(_value(session, which), which)


async def revoke(auth: Authenticator, session: Session, which: Which = "access_token") -> int:
    """RFC 7009: revoke the token at the provider; returns the HTTP status (200 means done)."""
    client = auth.client(auth.settings(session.provider), session.app_base)
    return await client.revoke(_value(session, which), which)
