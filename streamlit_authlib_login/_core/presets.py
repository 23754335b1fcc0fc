"""Known providers, as data. Adding one is adding an entry here, not writing code.

Each preset says where the provider's endpoints are, what to ask for, how its
profile maps onto our one shape, and the quirks the login must know about.
The endpoint URLs are the real ones (checked against each provider's docs in 2025).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, kw_only=True)
class Preset:
    name: str
    label: str
    kind: Literal["oidc", "oauth2"]
    authorize_url: str
    token_url: str
    scope: str
    server_metadata_url: str | None = None  # OIDC: endpoints come from discovery
    profile_url: str | None = None  # OAuth 2.0: the profile API
    emails_url: str | None = None  # GitHub: the verified primary email lives here
    # GitHub: a person's organizations and teams, read only for allowed_orgs/allowed_teams (rules.py)
    orgs_url: str | None = None
    teams_url: str | None = None
    revocation_url: str | None = None
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    response_mode: Literal["query", "form_post"] = "query"
    issuer_template: str | None = None  # Microsoft's {tenantid}
    # Our profile field → where it is in the provider's JSON ("a|b": first present; "a.b": nested).
    profile: Mapping[str, str] = field(default_factory=dict)
    profile_envelope: str | None = None  # Naver wraps the profile in {"response": {...}}
    avatar_template: str | None = None  # Discord sends a hash, not a URL
    email_verified_when_present: bool = False  # the provider only ever releases verified emails
    register_at: str = ""
    notes: str = ""


OIDC_PROFILE: Mapping[str, str] = {
    "id": "sub", "name": "name|preferred_username|nickname", "username": "preferred_username|nickname",
    "email": "email", "email_verified": "email_verified", "avatar": "picture", "locale": "locale",
}  # fmt: skip

GENERIC_OIDC = Preset(
    name="oidc", label="OpenID Connect", kind="oidc", authorize_url="", token_url="",
    scope="openid email profile", profile=OIDC_PROFILE,
    notes="Any standards OpenID Connect provider (Auth0, Okta, Keycloak, Authentik…) by its discovery URL.",
)  # fmt: skip

# Any OAuth 2.0 provider by its endpoints (Authlib's keys in its table: endpoints.py). Its profile
# API's JSON is its own: ``profile_map`` says where each field is. Without one, the common names;
# never `email_verified`, which only a profile_map that names it can vouch for.
GENERIC_OAUTH2 = Preset(
    name="oauth2", label="OAuth 2.0", kind="oauth2", authorize_url="", token_url="", scope="",
    profile={"id": "sub|id", "name": "name|preferred_username|username|login", "email": "email",
             "username": "preferred_username|username|login", "avatar": "picture|avatar_url",
             "locale": "locale"},
    notes="Any OAuth 2.0 provider without a discovery document, by its endpoints and a profile_map.",
)  # fmt: skip
GENERIC = (GENERIC_OIDC.name, GENERIC_OAUTH2.name)  # no provider's own preset

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="google",
            label="Google",
            kind="oidc",
            server_metadata_url="https://accounts.google.com/.well-known/openid-configuration",
            authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
            token_url="https://oauth2.googleapis.com/token",
            revocation_url="https://oauth2.googleapis.com/revoke",
            scope="openid email profile",
            # Google returns a refresh token only for offline access, and after the first
            # consent only when asked to show consent again.
            authorize_params={"access_type": "offline", "prompt": "consent"},
            profile=OIDC_PROFILE,
            register_at="https://console.cloud.google.com/apis/credentials",
        ),
        Preset(
            name="github",
            label="GitHub",
            kind="oauth2",
            authorize_url="https://github.com/login/oauth/authorize",
            token_url="https://github.com/login/oauth/access_token",
            profile_url="https://api.github.com/user",
            emails_url="https://api.github.com/user/emails",
            orgs_url="https://api.github.com/user/orgs",
            teams_url="https://api.github.com/user/teams",
            scope="read:user user:email",
            profile={
                "id": "id",
                "name": "name|login",
                "username": "login",
                "email": "email",
                "email_verified": "email_verified",  # set by the login from /user/emails
                "avatar": "avatar_url",
            },
            register_at="https://github.com/settings/developers",
            notes="No ID token: the profile comes from /user, the verified email from /user/emails.",
        ),
        Preset(
            name="facebook",
            label="Facebook",
            kind="oauth2",
            authorize_url="https://www.facebook.com/v21.0/dialog/oauth",
            token_url="https://graph.facebook.com/v21.0/oauth/access_token",
            profile_url="https://graph.facebook.com/v21.0/me?fields=id,name,email,picture",
            scope="public_profile email",
            profile={"id": "id", "name": "name", "email": "email", "avatar": "picture.data.url"},
            token_auth_method="client_secret_post",  # Facebook documents only parameters
            # Facebook releases only confirmed emails, and may release none.
            email_verified_when_present=True,
            register_at="https://developers.facebook.com/apps/",
        ),
        Preset(
            name="microsoft",
            label="Microsoft",
            kind="oidc",
            server_metadata_url="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
            authorize_url="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            token_url="https://login.microsoftonline.com/common/oauth2/v2.0/token",
            scope="openid email profile offline_access",
            issuer_template="https://login.microsoftonline.com/{tenantid}/v2.0",
            # Entra sends no email_verified for most tenants; its optional claim xms_edov (the
            # email's domain is verified by the tenant) is the proof that counts instead.
            profile={**OIDC_PROFILE, "id": "sub", "email_verified": "email_verified|xms_edov"},
            register_at="https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade",
            notes="The common endpoint's issuer is a template: `iss` is checked against the token's `tid`.",
        ),
        Preset(
            name="apple",
            label="Apple",
            kind="oidc",
            server_metadata_url="https://appleid.apple.com/.well-known/openid-configuration",
            authorize_url="https://appleid.apple.com/auth/authorize",
            token_url="https://appleid.apple.com/auth/token",
            revocation_url="https://appleid.apple.com/auth/revoke",
            scope="openid name email",
            response_mode="form_post",
            authorize_params={"response_mode": "form_post"},
            token_auth_method="client_secret_post",  # the only method Apple's discovery lists
            profile=OIDC_PROFILE,
            register_at="https://developer.apple.com/account/resources/identifiers/list/serviceId",
            notes="The client secret is an ES256 JWT made from your key; the name comes only at first login.",
        ),
        Preset(
            name="gitlab",
            label="GitLab",
            kind="oidc",
            server_metadata_url="https://gitlab.com/.well-known/openid-configuration",
            authorize_url="https://gitlab.com/oauth/authorize",
            token_url="https://gitlab.com/oauth/token",
            scope="openid email profile",
            profile=OIDC_PROFILE,
            register_at="https://gitlab.com/-/user_settings/applications",
            notes="Self-hosted: set `base_url` in [auth.gitlab].",
        ),
        Preset(
            name="discord",
            label="Discord",
            kind="oauth2",
            authorize_url="https://discord.com/oauth2/authorize",
            token_url="https://discord.com/api/oauth2/token",
            profile_url="https://discord.com/api/users/@me",
            revocation_url="https://discord.com/api/oauth2/token/revoke",
            scope="identify email",
            profile={
                "id": "id",
                "name": "global_name|username",
                "username": "username",
                "email": "email",
                "email_verified": "verified",
                "locale": "locale",
            },
            avatar_template="https://cdn.discordapp.com/avatars/{id}/{avatar}.png",
            register_at="https://discord.com/developers/applications",
        ),
        Preset(
            name="kakao",
            label="Kakao",
            kind="oidc",
            server_metadata_url="https://kauth.kakao.com/.well-known/openid-configuration",
            authorize_url="https://kauth.kakao.com/oauth/authorize",
            token_url="https://kauth.kakao.com/oauth/token",
            scope="openid profile_nickname profile_image account_email",
            token_auth_method="client_secret_post",
            profile=OIDC_PROFILE,
            register_at="https://developers.kakao.com/console/app",
            notes="Turn on OpenID Connect and the client secret in the app's Kakao Login settings.",
        ),
        Preset(
            name="naver",
            label="Naver",
            kind="oauth2",
            authorize_url="https://nid.naver.com/oauth2.0/authorize",
            token_url="https://nid.naver.com/oauth2.0/token",
            profile_url="https://openapi.naver.com/v1/nid/me",
            scope="",
            token_auth_method="client_secret_post",
            profile={
                "id": "id",
                "name": "name|nickname",
                "username": "nickname",
                "email": "email",
                "avatar": "profile_image",
            },
            profile_envelope="response",
            register_at="https://developers.naver.com/apps/#/register",
        ),
    )
}


def lookup(data: Mapping[str, object], path: str) -> object:
    """``"a|b"``: the first of a, b present; ``"a.b"``: data["a"]["b"]."""
    for alternative in path.split("|"):
        value: object = data
        for part in alternative.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value not in (None, ""):
            return value
    return None
