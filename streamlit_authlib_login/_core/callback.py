"""The callback, step by step: the ``state`` is ours and this browser's, the answer comes from
the provider we asked (RFC 9207), the code is redeemed with its PKCE verifier, the ID token
passes every check of OIDC Core §3.1.3.7, userinfo is for the same user, and then, with all of
that known, the app's access rules admit the person (``admission.py``).

``CallbackChecks`` runs them for ``Authenticator.finish_login`` (``flow.py``); each step raises
the ``LoginError`` naming what failed.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .admission import Admission, Admitted
from .config import ProviderSettings
from .config_keys import table_name
from .endpoints import token_response_profile
from .errors import (
    IssuerMismatch,
    ProviderError,
    StateError,
    UserinfoMismatch,
)
from .pending import PendingLogin
from .profile import apple_first_login, normalize
from .provider import ProviderClient
from .providers import Providers
from .sessions import SessionManager
from .trace import Trace, fingerprint
from .validation import (
    ValidationReport,
    expected_from_discovery,
    unverified_header,
    validate_id_token,
)


@dataclass(frozen=True, kw_only=True)
class Checked:
    """What a callback that passed every check holds: the token response, the ID token's
    claims and report (None: an OAuth 2.0-only provider), userinfo, and who let the person in."""

    tokens: Mapping[str, object]
    claims: dict[str, object]
    report: ValidationReport | None
    userinfo: dict[str, object]
    admitted: Admitted


class CallbackChecks:
    """The steps of ``Authenticator.finish_login``, in the order it runs them."""

    def __init__(self, providers: Providers, sessions: SessionManager, admission: Admission) -> None:
        self.providers = providers
        self.sessions = sessions
        self.admission = admission

    async def check(
        self,
        name: str,
        pending: PendingLogin,
        params: Mapping[str, str],
        binding_cookie: str | None,
        trace: Trace,
    ) -> Checked:
        """Every step of the callback, in order; raises ``LoginError`` at the first that fails."""
        self._check_browser(name, pending, binding_cookie, trace)
        settings = self.providers.settings(name)
        client = self.providers.client(settings, pending.app_base)
        metadata = await client.metadata()
        code = self._authorization_code(settings, metadata, params, trace)
        tokens = await self._redeem(client, code, pending, trace)
        claims, report = await self._id_token(client, metadata, tokens, pending, trace)
        userinfo = await self._userinfo(client, metadata, tokens, claims, params, trace)
        # Last: the rules read what every check before vouched for, and no session exists yet.
        scope = tokens.get("scope")
        admitted = await self.admission.admit(
            client,
            claims=claims,
            userinfo=userinfo,
            access_token=str(tokens["access_token"]),
            granted_scope=scope if isinstance(scope, str) else None,
            trace=trace,
        )
        return Checked(tokens=tokens, claims=claims, report=report, userinfo=userinfo, admitted=admitted)

    def take_pending(self, params: Mapping[str, str]) -> PendingLogin:
        """The login this callback answers, removed: a state is good for one callback."""
        state = params.get("state")
        if not state:
            raise StateError(
                "The callback has no `state`, so it cannot be matched to a login this app started."
            )
        pending = self.sessions.pending.take_login(state)
        if pending is None:
            raise StateError(
                "The callback's `state` is unknown, already used, or expired (a login must finish "
                "within 10 minutes). Start the login again."
            )
        return pending

    def _check_browser(
        self, name: str, pending: PendingLogin, binding_cookie: str | None, trace: Trace
    ) -> None:
        if pending.provider != name:
            raise StateError(f"This `state` belongs to a login with {pending.provider!r}, not {name!r}.")
        bound = binding_cookie is not None and hmac.compare_digest(
            pending.browser_binding, self.sessions.sealing.binding(binding_cookie)
        )
        trace.check("state matched, in the browser that started the login", bound, "RFC 9700 §4.7.1")
        if not bound:
            raise StateError(
                "This callback reached a different browser than the one that started the login "
                "(its login cookie does not match the `state`). Start the login again in one browser."
            )

    def _authorization_code(
        self,
        settings: ProviderSettings,
        metadata: Mapping[str, object],
        params: Mapping[str, str],
        trace: Trace,
    ) -> str:
        """The code, once the response is known to come from this provider (RFC 9207)."""
        issuer = metadata.get("issuer")
        returned_iss = params.get("iss")
        if returned_iss is not None or metadata.get("authorization_response_iss_parameter_supported"):
            ok = returned_iss == issuer
            trace.check("iss in the callback is the provider's issuer", ok, "RFC 9207 §2.4")
            if not ok:
                raise IssuerMismatch(
                    f"The callback's `iss` is {returned_iss!r}, not {issuer!r}: the response may come "
                    "from another provider (a mix-up attack, RFC 9207 §2.4)."
                )
        if "error" in params:
            description = params.get("error_description", "")
            raise ProviderError(
                f"{settings.label} answered `{params['error']}`"
                + (f": {description}" if description else "."),
                code=params["error"],
            )
        code = params.get("code")
        if not code:
            raise ProviderError(f"{settings.label} sent the browser back without a `code`.")
        trace.code_fingerprint = fingerprint(code)
        return code

    async def _redeem(
        self, client: ProviderClient, code: str, pending: PendingLogin, trace: Trace
    ) -> dict[str, object]:
        tokens = await client.exchange_code(
            code=code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
        )
        if not client.settings.pkce:  # switched off in the table: no verifier went, none was checked
            return self._with_access_token(client, tokens)
        # RFC 7636 §4.6: the provider, not the app, verifies PKCE, at its token endpoint; the app
        # only sent the verifier. A token response is the provider's word that it matched.
        trace.check(
            "PKCE verifier checked by the provider",
            True,
            "The app sent its code_verifier with the code; the provider computed "
            f"S256(code_verifier) = {create_s256_code_challenge(pending.code_verifier)} and found the "
            "code_challenge of the authorization request (RFC 7636 §4.6), or it would have refused the code.",
            by="provider",
        )
        return self._with_access_token(client, tokens)

    @staticmethod
    def _with_access_token(client: ProviderClient, tokens: dict[str, object]) -> dict[str, object]:
        if not isinstance(tokens.get("access_token"), str):
            # RFC 6749 §5.1: access_token is REQUIRED in a successful token response.
            raise ProviderError(
                f"{client.settings.label}'s token response has no `access_token` (RFC 6749 §5.1)."
            )
        return tokens

    async def _id_token(
        self,
        client: ProviderClient,
        metadata: Mapping[str, object],
        tokens: Mapping[str, object],
        pending: PendingLogin,
        trace: Trace,
    ) -> tuple[dict[str, object], ValidationReport | None]:
        """OIDC Core §3.1.3.7: every check, or ``TokenValidationError`` with the report."""
        if not client.settings.is_oidc:
            return {}, None
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderError(
                f"{client.settings.label} returned no ID token although `openid` was requested."
            )
        kid = unverified_header(id_token).get("kid")
        report = validate_id_token(
            id_token,
            jwks=await client.jwks(kid=str(kid) if kid else None),
            **expected_from_discovery(metadata, id_token),
            client_id=client.settings.client_id,
            nonce=pending.nonce,
            now=int(time.time()),
            access_token=str(tokens.get("access_token", "")) or None,
            max_age=pending.max_age,
        )
        trace.check(
            "ID token validated (OIDC Core §3.1.3.7)",
            True,
            "all checks passed; nonce matched"
            + ("; auth_time within max_age" if pending.max_age is not None else ""),
        )
        return dict(report.claims), report

    async def _userinfo(
        self,
        client: ProviderClient,
        metadata: Mapping[str, object],
        tokens: Mapping[str, object],
        claims: Mapping[str, object],
        params: Mapping[str, str],
        trace: Trace,
    ) -> dict[str, object]:
        settings = client.settings
        if settings.profile_in_token_response:
            # No profile API configured: the token response, from the same authenticated call that
            # gave the tokens, is the provider's word about the person (Strava's `athlete`).
            userinfo = token_response_profile(tokens)
        else:
            userinfo = await client.profile(metadata, str(tokens["access_token"]))
        if not claims:
            self._check_user_id(settings, userinfo, trace)
        if claims and userinfo and userinfo.get("sub") != claims.get("sub"):
            trace.check("userinfo sub equals the ID token's", False, "OIDC Core §5.3.2")
            raise UserinfoMismatch(
                f"Userinfo answered for `sub` {userinfo.get('sub')!r}, but the ID token is for "
                f"{claims.get('sub')!r}; the profile cannot be trusted (OIDC Core §5.3.2)."
            )
        if first_login := apple_first_login(params):
            # Apple sends the name once, on the first authorization, in the form post.
            userinfo = {**userinfo, **first_login}
        return userinfo

    @staticmethod
    def _check_user_id(settings: ProviderSettings, profile: Mapping[str, object], trace: Trace) -> None:
        """An OAuth 2.0 provider's profile must name the person: its id is the session's subject,
        the one thing that tells two people apart (a `profile_map` pointing elsewhere would make
        everyone the same nobody)."""
        path = settings.preset.profile.get("id", "id")
        found = bool(normalize({}, profile, settings.preset)["id"])
        trace.check("the profile names the user", found, f"profile_map id = {path!r}")
        if not found:
            raise ProviderError(
                f"{settings.label}'s profile has no user id at {path!r} (its fields: "
                f"{', '.join(sorted(map(str, profile))) or 'none'}); set `profile_map` `id` to where "
                f"its JSON has it in {table_name(settings.name)}.",
                code="profile_without_id",
            )
