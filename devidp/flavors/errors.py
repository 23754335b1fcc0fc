"""What an emulated provider refuses, as data; each flavour renders it in its provider's format.

FlavorError                 error (snake_case), description, status
├── AuthorizationRefused    the provider refuses an authorization request outright
│                           (the dev provider shows its error page; nothing goes back to the app)
├── TokenRefused            the token endpoint refuses a request before the grant runs
└── ApiRefused              a profile API refuses a call (missing, unknown or foreign
                            token, or a scope it needs was not granted)
"""

from __future__ import annotations


class FlavorError(Exception):
    """Base class: a refusal of an emulated provider."""

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


class AuthorizationRefused(FlavorError):
    """The authorization request breaks a rule of the real provider."""


class TokenRefused(FlavorError):
    """The token request fails a check of the emulated provider (a foreign code, an Apple secret)."""


class ApiRefused(FlavorError):
    """A bearer-protected API refuses the call."""
