"""Fault switches: make the provider misbehave on purpose.

Each switch breaks one thing a relying party must check, so a person can log
in with it on and watch which validation step refuses the login.
"""

from __future__ import annotations

import base64
import json
import threading

from joserfc import jws
from joserfc.jwk import RSAKey

from .keys import new_rsa_key

FAULTS: dict[str, str] = {
    "wrong_iss": "ID token `iss` names another issuer (OIDC Core §3.1.3.7 step 2)",
    "wrong_aud": "ID token `aud` is another client (OIDC Core §3.1.3.7 step 3)",
    "bad_signature": "ID token signature is tampered with (OIDC Core §3.1.3.7 step 6)",
    "unknown_key": "ID token is signed by a key not in the JWKS (OIDC Core §10.1.1)",
    "alg_none": "ID token is unsigned, `alg: none` (OIDC Core §3.1.3.7 step 7)",
    "expired": "ID token expired an hour ago (OIDC Core §3.1.3.7 step 9)",
    "wrong_nonce": "ID token `nonce` is not the one the app sent (OIDC Core §3.1.3.7 step 11)",
    "bad_at_hash": "ID token `at_hash` does not match the access token (OIDC Core §3.2.2.9)",
    "wrong_iss_param": "authorization response `iss` names another issuer (RFC 9207 §2.4)",
    "reused_code": "authorization response replays the previous code and state (RFC 6749 §10.5)",
    "userinfo_other_sub": "userinfo answers for another user (OIDC Core §5.3.2)",
    "slow_token": "the token endpoint answers half a second late, like a provider under load",
    "pkce_downgrade": (
        "token endpoint ignores a `code_verifier` sent for a code issued without `code_challenge` "
        "(RFC 9700 §4.8.2); only a PKCE downgrade attack shows it (notebook 10)"
    ),
}

EVIL_ISSUER = "https://evil.example.com"


class FaultSwitches:
    """The set of faults switched on. Thread-safe; sticky until switched off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._on: set[str] = set()

    def set(self, names: set[str] | frozenset[str]) -> None:
        unknown = set(names) - FAULTS.keys()
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self._on = set(names)

    def active(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._on)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._on


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def break_id_token(id_token: str, faults: frozenset[str], now: int, signing_key: RSAKey) -> str:
    """Re-issue ``id_token`` with the switched-on ID-token faults applied."""
    token_faults = faults & {
        "wrong_iss",
        "wrong_aud",
        "bad_signature",
        "unknown_key",
        "alg_none",
        "expired",
        "wrong_nonce",
        "bad_at_hash",
    }
    if not token_faults:
        return id_token
    compact = jws.extract_compact(id_token.encode())
    header = dict(compact.headers())
    claims = json.loads(compact.payload)
    if "wrong_iss" in faults:
        claims["iss"] = EVIL_ISSUER
    if "wrong_aud" in faults:
        claims["aud"] = "some-other-client"
    if "expired" in faults:
        claims["iat"], claims["exp"] = now - 7200, now - 3600
    if "wrong_nonce" in faults:
        claims["nonce"] = "not-the-nonce-you-sent"
    if "bad_at_hash" in faults:
        claims["at_hash"] = _b64(b"not-the-access-token")
    payload = json.dumps(claims, separators=(",", ":"))
    if "alg_none" in faults:
        return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(payload.encode())}."
    key = signing_key
    if "unknown_key" in faults:
        key = new_rsa_key()
        header["kid"] = key.kid
    token = jws.serialize_compact(header, payload, key)
    if "bad_signature" in faults:
        head, body, signature = token.split(".")
        flipped = "A" if signature[10] != "A" else "B"
        token = f"{head}.{body}.{signature[:10]}{flipped}{signature[11:]}"
    return token
