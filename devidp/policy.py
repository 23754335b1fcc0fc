"""How the tokens of one request look.

The main provider issues RFC 9068 JWT access tokens, rotates refresh tokens and
lets Authlib build its ID tokens. An emulated provider (``devidp.flavors``)
serves its token requests through the same grants with its own policy: opaque
tokens in the real provider's format, its lifetimes, its rotation rule and its
ID-token claims.
"""

from __future__ import annotations

from authlib.common.security import generate_token

from .config import Client
from .personas import Persona


class TokenPolicy:
    """The main provider's policy; subclass and override to issue tokens like someone else."""

    def rotates_refresh_tokens(self) -> bool:
        # RFC 9700 §4.14.2: rotate refresh tokens, so a stolen one is detected on reuse.
        return True

    def access_token_ttl(self, default: int) -> int:
        return default

    def access_token(self) -> str | None:
        """An opaque access token, or None for an RFC 9068 JWT."""
        return None

    def refresh_token(self) -> str:
        return generate_token(48)

    def id_token_claims(
        self, claims: dict[str, object], user: Persona, client: Client, scope: str
    ) -> dict[str, object]:
        """The ID token's claims as Authlib built them, reshaped before signing."""
        return claims


MAIN_POLICY = TokenPolicy()
