"""Everything that can go wrong in a login, as data.

    LoginError                      base: ``error`` (snake_case) and ``description``
    ├── ConfigError                 the app's auth configuration is broken (carries every problem)
    ├── UnknownProvider             no provider of that name is configured
    ├── StateError                  the callback is not the answer to a login we started
    │   ├── LogoutReturnError       ... nor to a logout we started (RP-Initiated Logout §3)
    │   └── ProviderTokenError      st.login's ``provider`` token is forged or expired
    ├── ProviderError               the provider answered with an OAuth error
    ├── ProviderUnreachable         the provider timed out or answered garbage
    ├── DiscoveryError              the discovery document cannot be trusted
    ├── IssuerMismatch              RFC 9207 ``iss`` in the callback is not the issuer
    ├── TokenValidationError        a check of OIDC Core §3.1.3.7 failed (carries the report)
    ├── UserinfoMismatch            userinfo ``sub`` is not the ID token's ``sub``
    ├── NotAllowed                  the person is not admitted by the app's rules (carries the rule)
    ├── PlaygroundRequestError      a Playground request the module will not send
    ├── NotLoggedIn                 no valid session for this request
    ├── SessionEnded                the session ended: its tokens cannot be renewed (carries the reason)
    └── StoreUnavailable            the session store (Redis) did not answer in time

Pages catch ``LoginError`` and show ``description``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .trace import Trace
    from .validation import ValidationReport


class LoginError(Exception):
    """Base class: a failed login or session operation, with words a developer can act on."""

    error = "login_failed"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description
        # Set by the login flow for the failure page: the login's trace so far, and where it was going.
        self.trace: Trace | None = None
        self.next_path = "/"
        self.provider: str | None = None  # the login's provider, once its state is known

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "description": self.description}


@dataclass(frozen=True)
class Problem:
    """One mistake in the configuration: where it is (``[auth.google]``, ``client_secrte``; key ""
    for the table as a whole), and its ``line``, which names both and says what to write instead.
    ``meant``: the key a misspelt one is a near miss of (``client_secret``), else ""."""

    table: str
    key: str
    line: str
    meant: str = ""


class ConfigError(LoginError):
    """The configuration is broken; ``problems`` lists each mistake (``config_problems.py``),
    ``description`` says them all, one line each. Raised about one key, ``problems`` may be empty."""

    error = "config_error"

    def __init__(self, description: str, *, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(description)
        self.problems = problems


class UnknownProvider(LoginError):
    error = "unknown_provider"


class StateError(LoginError):
    error = "state_mismatch"


class LogoutReturnError(StateError):
    """A return from the provider's logout whose ``state`` is not one this app sent."""


class ProviderTokenError(StateError):
    error = "provider_token_invalid"


class ProviderError(LoginError):
    error = "provider_error"

    def __init__(self, description: str, *, code: str = "") -> None:
        super().__init__(description)
        self.code = code


class ProviderUnreachable(LoginError):
    error = "provider_unreachable"


class DiscoveryError(LoginError):
    error = "discovery_untrusted"


class IssuerMismatch(LoginError):
    error = "issuer_mismatch"


class TokenValidationError(LoginError):
    error = "id_token_invalid"

    def __init__(self, description: str, report: ValidationReport) -> None:
        super().__init__(description)
        self.report = report


class UserinfoMismatch(LoginError):
    error = "userinfo_sub_mismatch"


class NotAllowed(LoginError):
    """The login (or a refresh) passed every check, but the app's access rules (``rules.py``) do
    not admit this person: ``rule`` is the one that refused (``allowed_domains``...)."""

    error = "not_allowed"

    def __init__(self, description: str, *, rule: str) -> None:
        super().__init__(description)
        self.rule = rule
        self.request_id = ""  # set with the log line of a session ended at refresh

    def as_dict(self) -> dict[str, str]:
        return {**super().as_dict(), "rule": self.rule} | (
            {"request_id": self.request_id} if self.request_id else {}
        )


class PlaygroundRequestError(LoginError):
    error = "playground_request_invalid"


class NotLoggedIn(LoginError):
    error = "not_logged_in"


class SessionEnded(LoginError):
    """The session was ended because the app asked for a fresh access token and none can be had:
    the provider refused the refresh token, the login has none, or the access rules no longer
    admit the person (``_core.renewal``). ``reason`` names which (``refresh_refused``,
    ``no_refresh_token``, ``not_allowed/<rule>``); ``request_id`` is that of its log line."""

    error = "session_ended"

    def __init__(self, description: str, *, reason: str, request_id: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.request_id = request_id

    def as_dict(self) -> dict[str, str]:
        return {**super().as_dict(), "reason": self.reason, "request_id": self.request_id}


class StoreUnavailable(LoginError):
    """The shared session store is down or too slow: nothing can be known about any session."""

    error = "session_store_unavailable"
