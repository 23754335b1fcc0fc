"""One profile shape for every provider: id, name, email, email_verified, avatar, locale."""

from __future__ import annotations

from collections.abc import Mapping


def normalize(claims: Mapping[str, object], userinfo: Mapping[str, object]) -> dict[str, object]:
    """Merge ID-token claims and userinfo (userinfo wins: it is the fresher source)."""
    merged = {**claims, **userinfo}
    email = merged.get("email")
    return {
        "id": str(merged.get("sub", "")),
        "name": merged.get("name") or merged.get("preferred_username") or email or merged.get("sub"),
        "username": merged.get("preferred_username"),
        "email": email,
        # OIDC Core §5.1: an email is only as trustworthy as email_verified says.
        "email_verified": bool(merged.get("email_verified", False)) if email else False,
        "avatar": merged.get("picture"),
        "locale": merged.get("locale"),
        "groups": merged.get("groups", []),
    }
