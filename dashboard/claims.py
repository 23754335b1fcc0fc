"""What each JWT claim means, with where the spec defines it, and times for people."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

OIDC = "https://openid.net/specs/openid-connect-core-1_0.html"
JWT = "https://www.rfc-editor.org/rfc/rfc7519"
AT_JWT = "https://www.rfc-editor.org/rfc/rfc9068"
INTROSPECTION = "https://www.rfc-editor.org/rfc/rfc7662"
GOOGLE_ID_TOKEN = "https://developers.google.com/identity/openid-connect/openid-connect#an-id-tokens-payload"
ENTRA_ID_TOKEN = "https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference"
ENTRA_OPTIONAL = "https://learn.microsoft.com/en-us/entra/identity-platform/optional-claims-reference"

MEANINGS: dict[str, tuple[str, str]] = {
    "iss": ("Issuer: who made and signed this token", f"{OIDC}#IDToken"),
    "sub": (
        "Subject: the user's stable id at this provider (never reuse email for this); "
        "for a machine's token, the client",
        f"{OIDC}#IDToken",
    ),
    "aud": ("Audience: who the token is for; an ID token must name this app's client id", f"{OIDC}#IDToken"),
    "exp": ("Expires at: refuse the token after this time", f"{OIDC}#IDToken"),
    "iat": ("Issued at: when the provider made the token", f"{OIDC}#IDToken"),
    "nbf": ("Not before: refuse the token before this time", f"{JWT}#section-4.1.5"),
    "auth_time": ("When the user actually authenticated at the provider", f"{OIDC}#IDToken"),
    "nonce": (
        "The value this app sent in the login request; ties the token to that login",
        f"{OIDC}#IDToken",
    ),
    "acr": ('Authentication context class: how strong the login was ("0": no assurance)', f"{OIDC}#IDToken"),
    "amr": (
        "Authentication methods used (RFC 8176: pwd, otp, mfa, user…)",
        "https://www.rfc-editor.org/rfc/rfc8176",
    ),
    "azp": ("Authorized party: the client the token was issued to", f"{OIDC}#IDToken"),
    "at_hash": (
        "Half of the access token's hash: binds the access token to this ID token",
        f"{OIDC}#CodeIDToken",
    ),
    "c_hash": ("Half of the code's hash (hybrid flow)", f"{OIDC}#HybridIDToken"),
    "sid": (
        "Session id at the provider, for logout",
        "https://openid.net/specs/openid-connect-frontchannel-1_0.html",
    ),
    "jti": ("Unique id of this token", f"{JWT}#section-4.1.7"),
    "scope": ("Scopes this access token grants", f"{AT_JWT}#section-2.2.3"),
    "client_id": ("The client the access token was issued to", f"{AT_JWT}#section-2.2"),
    "name": ("Full name, for display", f"{OIDC}#StandardClaims"),
    "given_name": ("Given (first) name", f"{OIDC}#StandardClaims"),
    "family_name": ("Family (last) name", f"{OIDC}#StandardClaims"),
    "preferred_username": ("Shorthand name; not unique, may change", f"{OIDC}#StandardClaims"),
    "picture": ("URL of a profile picture", f"{OIDC}#StandardClaims"),
    "email": ("Email address; trust it only when email_verified is true", f"{OIDC}#StandardClaims"),
    "email_verified": ("Whether the provider verified the email address", f"{OIDC}#StandardClaims"),
    "locale": ("Language and region (BCP 47)", f"{OIDC}#StandardClaims"),
    "zoneinfo": ("Time zone (IANA)", f"{OIDC}#StandardClaims"),
    "updated_at": ("When the profile last changed", f"{OIDC}#StandardClaims"),
    # RFC 9068 §2.2.3.1 names groups and roles (after SCIM); what goes in them is the provider's.
    "groups": (
        "Groups the user belongs to (provider-specific: names, or Entra's group object ids)",
        f"{AT_JWT}#section-2.2.3.1",
    ),
    "roles": (
        "Roles the user holds (provider-specific; Entra: app roles, assigned in the user's own tenant)",
        f"{AT_JWT}#section-2.2.3.1",
    ),
    "hd": (
        "Hosted domain (Google): the Workspace domain that manages this account; absent for "
        "personal accounts, whatever their email",
        GOOGLE_ID_TOKEN,
    ),
    "tid": (
        "Tenant id (Microsoft Entra ID): the organisation the account belongs to; consumers' "
        "tenant for personal accounts",
        ENTRA_ID_TOKEN,
    ),
    "oid": (
        "Object id (Microsoft Entra ID): the user in their tenant, the same for every app (sub is per app)",
        ENTRA_ID_TOKEN,
    ),
    "xms_edov": (
        "Email domain owner verified (Entra optional claim): whether the email's domain is "
        "verified by the user's tenant; without it, the email is unproven",
        ENTRA_OPTIONAL,
    ),
    "_claim_names": (
        "Claims left out of the token, each named with its source (Entra: groups past 200, "
        "the groups overage)",
        f"{OIDC}#AggregatedDistributedClaims",
    ),
    "_claim_sources": (
        "Where the claims named in _claim_names can be fetched (Entra: Microsoft Graph)",
        f"{OIDC}#AggregatedDistributedClaims",
    ),
    "hasgroups": (
        "Entra: the user is in more groups than fit in the URL (implicit flow); fetch them from Graph",
        ENTRA_ID_TOKEN,
    ),
    # RFC 7662 §2.2: what an introspection response says besides the claims above.
    "active": (
        "Whether the token is usable right now; if false, nothing else is said",
        f"{INTROSPECTION}#section-2.2",
    ),
    "token_type": (
        "Type of the token, as the token response named it (e.g. Bearer)",
        f"{INTROSPECTION}#section-2.2",
    ),
    "username": (
        "Human-readable identifier of the user who authorized the token",
        f"{INTROSPECTION}#section-2.2",
    ),
}

# An access token is for the resource server (the API), not for this app: the same claim names
# mean other things there. RFC 9068 §2.2 says what each names; §4 is the API's checks, and §6
# says the client must not read them at all (the format may change without notice).
ACCESS_TOKEN_MEANINGS: dict[str, tuple[str, str]] = {
    **MEANINGS,
    "iss": (
        "Issuer: the authorization server that made this token; the API accepts only issuers it trusts",
        f"{AT_JWT}#section-2.2",
    ),
    "sub": (
        "Subject: the user who granted the access; for a client-credentials token, the client itself",
        f"{AT_JWT}#section-2.2",
    ),
    "aud": (
        "Audience: the resource server (API) the token is for, not this app; that API checks it is named",
        f"{AT_JWT}#section-4",
    ),
    "exp": ("Expires at: the API refuses the token after this time", f"{AT_JWT}#section-2.2"),
    "iat": ("Issued at: when the authorization server made the token", f"{AT_JWT}#section-2.2"),
    "jti": ("Unique id of this token, so an API can spot a replay", f"{AT_JWT}#section-2.2"),
    "client_id": ("The client the token was issued to: this app, which sends it", f"{AT_JWT}#section-2.2"),
    "auth_time": ("When the user last authenticated at the provider", f"{AT_JWT}#section-2.2.1"),
    "acr": ("How strong that authentication was", f"{AT_JWT}#section-2.2.1"),
    "amr": ("Authentication methods used (RFC 8176)", f"{AT_JWT}#section-2.2.1"),
}
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §2.1

HEADER_MEANINGS: dict[str, str] = {
    "alg": "Signature algorithm",
    "kid": "Which of the provider's keys signed it (look it up in the JWKS)",
    "typ": "Token type (JWT for ID tokens, at+jwt for RFC 9068 access tokens)",
}

TIME_CLAIMS = frozenset({"exp", "iat", "nbf", "auth_time", "updated_at"})


@dataclass(frozen=True)
class ClaimRow:
    claim: str
    value: str
    meaning: str
    when: str
    spec: str


def spec_label(url: str) -> str:
    """A spec link's words: "RFC 7519 §4.1.5", "OIDC Core"."""
    if url.startswith("https://www.rfc-editor.org/rfc/rfc"):
        number, _, section = url.removeprefix("https://www.rfc-editor.org/rfc/rfc").partition("#section-")
        return f"RFC {number}" + (f" §{section}" if section else "")
    if url.startswith(OIDC):
        return "OIDC Core" + (f" ({url.partition('#')[2]})" if "#" in url else "")
    return url.removeprefix("https://").split("/", 1)[0] if url else ""


def relative(seconds: int) -> str:
    span = abs(seconds)
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if span >= size:
            amount = f"{span // size} {unit}{'s' if unit == 'day' and span // size > 1 else ''}"
            break
    else:
        amount = f"{span} s"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def human_time(timestamp: int, now: int) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{moment} ({relative(timestamp - now)})"


def as_json(value: object) -> str:
    """A claim's value as the token carries it: a string as its characters, anything else as
    JSON (``true``, ``["staff", "admins"]``), never Python's ``True`` or ``['staff']``."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def meanings_for(header: Mapping[str, object]) -> dict[str, tuple[str, str]]:
    """The meanings for a JWT with this header: an RFC 9068 access token's (``typ`` at+jwt),
    or an ID token's."""
    typ = header.get("typ")
    return ACCESS_TOKEN_MEANINGS if isinstance(typ, str) and typ.lower() in ACCESS_TOKEN_TYPES else MEANINGS


def claim_rows(
    claims: Mapping[str, object], now: int, meanings: Mapping[str, tuple[str, str]] = MEANINGS
) -> list[ClaimRow]:
    """One row per claim; ``meanings`` are an ID token's unless given (``ACCESS_TOKEN_MEANINGS``)."""
    rows = []
    for claim, value in claims.items():
        meaning, spec = meanings.get(claim, ("", ""))
        when = human_time(value, now) if claim in TIME_CLAIMS and isinstance(value, int) else ""
        rows.append(ClaimRow(claim, as_json(value), meaning, when, spec))
    return rows
