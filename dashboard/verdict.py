"""What the JWT inspector's checks prove, given whose keys verified the token.

A signature proves only that the holder of the key's private half signed. With the keys the
issuer publishes (its discovery document's ``jwks_uri``) that holder is the issuer; with keys a
visitor pasted it is whoever made them: anyone can make a key, sign a token naming any ``iss``
and paste the public half (the inspector's own *Make and sign a token* does exactly that). The
login's report (OIDC Core §3.1.3.7) says "the provider's JWKS"; here each row and the verdict
name the keys actually used, and a ``nonce`` nobody gave is said to be unchecked, not passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from streamlit_authlib_login.teaching import ValidationReport

from .untrusted import code


@dataclass(frozen=True)
class KeySource:
    """Where the keys came from: the token's issuer (discovery), a JWKS URL, or pasted text."""

    kind: Literal["issuer", "url", "pasted"]
    where: str = ""  # the issuer, or the URL

    def keys(self, quote: Callable[[object], str] = str) -> str:
        """The keys, named for a sentence; ``quote`` puts ``where`` in it (``code`` for markdown)."""
        if self.kind == "issuer":
            return f"the keys the issuer {quote(self.where)} publishes"
        if self.kind == "url":
            return f"the JWKS at {quote(self.where)}, a URL you chose"
        return "the keys you pasted"

    @property
    def proves(self) -> str:
        """What a signature that verifies with these keys says about the issuer."""
        if self.kind == "issuer":
            return (
                "Its discovery document names that issuer and its `jwks_uri`: the issuer signed this token."
            )
        if self.kind == "url":
            return (
                "That proves the issuer signed it only if this URL is the issuer's own `jwks_uri` "
                "(its discovery document names it)."
            )
        return (
            "Keys you pasted prove nothing about the issuer: anyone can make a key, sign a token "
            "naming any `iss`, and paste the public half here. Fetch the issuer's keys to know."
        )


def for_keys(report: ValidationReport, source: KeySource, *, nonce_given: bool) -> ValidationReport:
    """The login's report, reworded for the inspector: the key rows name ``source``'s keys, and
    without a nonce the ``nonce`` row is left out (nothing was compared, so nothing passed)."""
    checks = []
    for check in report.checks:
        if check.name == "nonce" and not nonce_given:
            continue
        if check.name == "kid":
            check = replace(
                check,
                expected=f"a key among {source.keys()}",
                message="" if check.passed else f"the token's `kid` is not among {source.keys()}",
            )
        elif check.name == "signature":
            check = replace(
                check,
                expected=f"valid with {source.keys()}",
                message="" if check.passed else f"the signature does not verify with {source.keys()}",
            )
        checks.append(check)
    return replace(report, checks=tuple(checks))


Tone = Literal["success", "warning", "error"]


def verdict(report: ValidationReport, source: KeySource, *, nonce_given: bool) -> tuple[Tone, str]:
    """The sentence above the report, and how loud: all passed with the issuer's keys (success),
    all passed with keys that prove nothing about the issuer (warning), or refused (error)."""
    unchecked = "" if nonce_given else " `nonce` was not checked: enter the one your login sent to check it."
    if not report.passed:
        failed = report.first_failure
        named = f" The first failed check: {code(failed.name)}." if failed else ""
        return "error", f"❌ **Refused.**{named}{unchecked}"
    if source.kind == "issuer":
        return "success", f"✅ **All checks pass**, with {source.keys(code)}.{unchecked}"
    return "warning", f"**The checks pass, with {source.keys(code)}.** {source.proves}{unchecked}"
