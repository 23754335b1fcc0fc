"""What to register at a provider, and a redirect-URI mismatch recognised in its own words.

Setting up a real provider needs the exact URIs before the first login can work, so they are
shown without a login: on the login page, in the start-up log, and on the failure page of a
login that a mismatch refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .config import ProviderSettings

# How providers word a redirect URI they do not accept. RFC 6749 §4.1.2.1 has the provider show
# most of these on its own page (the browser never comes back); these are the ones that reach us,
# in a callback's `error` or in the token endpoint's answer, plus the codes people paste.
_MISMATCH = re.compile(
    r"redirect_uri_mismatch"  # Google, GitHub (which redirects back with it)
    r"|AADSTS50011|AADSTS500113"  # Microsoft Entra: reply URL mismatch / none registered
    r"|KOE006"  # Kakao: unregistered redirect URI
    r"|Can't load URL|URL blocked|redirect_uri is identical"  # Facebook (Graph error 191 / 100)
    r"|callback url mismatch"  # Auth0
    r"|invalid (web )?redirect[ _]?ur[il]"  # Apple, Discord
    r"|redirect[ _-]?ur[il]\b[^.]{0,40}?\b(does not|doesn't|must|is not|isn't|not)\b[^.]{0,40}?"
    r"\b(match|registered|valid|allowed|login redirect)"  # Okta, GitLab, Naver, generic
    r"|(invalid|unregistered|unknown|mismatch\w*)( parameter)?:? ?\W*redirect[ _-]?ur[il]",  # Keycloak
    re.IGNORECASE,
)


def is_redirect_uri_mismatch(*texts: str) -> bool:
    """Whether a provider's error code or description says our redirect URI is not registered."""
    return any(_MISMATCH.search(text) for text in texts if text)


@dataclass(frozen=True)
class Registration:
    """What a developer registers at one provider for this app, exactly as written here."""

    provider: str
    label: str
    client_id: str
    redirect_uri: str
    # Only OpenID Connect providers have RP-initiated logout (an end_session_endpoint).
    post_logout_redirect_uri: str | None
    register_at: str | None

    @classmethod
    def of(cls, settings: ProviderSettings, redirect_uri: str, post_logout_uri: str) -> Registration:
        return cls(
            provider=settings.name,
            label=settings.label,
            client_id=settings.client_id,
            redirect_uri=redirect_uri,
            post_logout_redirect_uri=post_logout_uri if settings.is_oidc else None,
            register_at=settings.preset.register_at or None,
        )

    def log_line(self) -> str:
        where = f" at {self.register_at}" if self.register_at else ""
        logout = (
            f" and post-logout redirect URI {self.post_logout_redirect_uri}"
            if self.post_logout_redirect_uri
            else ""
        )
        return (
            f"{self.label} [auth.{self.provider}]: register redirect URI {self.redirect_uri}{logout}{where}"
        )

    def as_dict(self) -> dict[str, str | None]:
        return {
            "provider": self.provider,
            "label": self.label,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "register_at": self.register_at,
        }
