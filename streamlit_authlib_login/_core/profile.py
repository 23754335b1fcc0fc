"""One profile shape for every provider: id, name, username, email, email_verified,
avatar, locale, groups. Each preset's ``profile`` mapping says where those are (extended by a
table's ``profile_map``: endpoints.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from .presets import GENERIC_OIDC, OIDC_PROFILE, Preset, lookup


def _as_bool(value: object) -> bool:
    # Apple sends email_verified as the string "true".
    return value is True or (isinstance(value, str) and value.lower() == "true")


def normalize(
    claims: Mapping[str, object], userinfo: Mapping[str, object], preset: Preset = GENERIC_OIDC
) -> dict[str, object]:
    """Map ID-token claims and the profile API's answer onto one shape (the API wins:
    it is the fresher source)."""
    merged = {**claims, **userinfo}
    mapping = preset.profile or OIDC_PROFILE
    email = lookup(merged, mapping.get("email", "email"))
    if "email_verified" in mapping:
        verified = _as_bool(lookup(merged, mapping["email_verified"]))
    else:
        verified = preset.email_verified_when_present
    avatar = lookup(merged, mapping["avatar"]) if "avatar" in mapping else None
    if preset.avatar_template and merged.get("avatar"):
        avatar = preset.avatar_template.format(**{k: merged.get(k) for k in ("id", "avatar")})
    user_id = lookup(merged, mapping.get("id", "sub"))
    return {
        "id": str(user_id) if user_id is not None else "",
        "name": lookup(merged, mapping.get("name", "name")) or email or user_id,
        "username": lookup(merged, mapping.get("username", "preferred_username")),
        "email": email,
        # OIDC Core §5.1: an email is only as trustworthy as email_verified says.
        "email_verified": bool(email) and verified,
        "avatar": avatar,
        "locale": lookup(merged, mapping.get("locale", "locale")),
        "groups": _groups(lookup(merged, mapping["groups"]) if "groups" in mapping else merged.get("groups")),
    }


def _groups(value: object) -> list[object]:
    # A list of names; a single one (a provider's one `role`) counts as a list of one.
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, str) and value else []


def apple_first_login(params: Mapping[str, str]) -> dict[str, object]:
    """Apple sends the name once, at the first authorization, as JSON in the form post's `user`."""
    try:
        user = json.loads(params.get("user", "") or "{}")
    except ValueError:
        return {}
    name = user.get("name") if isinstance(user, dict) else None
    if not isinstance(name, dict):
        return {}
    full = " ".join(str(part) for part in (name.get("firstName"), name.get("lastName")) if part)
    return {"name": full, "given_name": name.get("firstName"), "family_name": name.get("lastName")}
