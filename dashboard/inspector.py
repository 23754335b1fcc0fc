"""The JWT inspector's logic: decode any JWT, find keys, verify, run the OIDC checks.

Every failure is a ``InspectError`` with a sentence a person can act on, in markdown:
whatever the token, its keys or a server put into it is quoted with ``dashboard.untrusted``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, OctKey, RSAKey, import_key

from dashboard.claims import as_json
from dashboard.fetch import FetchError, Reach, get_json
from dashboard.untrusted import code
from dashboard.untrusted import text as literal
from streamlit_authlib_login.teaching import (
    SAFE_ALGORITHMS,
    ValidationReport,
    allowed_algorithms,
    check_id_token,
    is_loopback_url,
    verifying_key,
)

MAX_TOKEN = 16_384
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
PUBLIC = Reach()
EXPECTED_TYP = {"JWT", "at+jwt", "application/at+jwt", "id_token+jwt", None}


class InspectError(Exception):
    """Bad input for the inspector, described in words."""


@dataclass(frozen=True)
class Decoded:
    header: dict[str, object]
    claims: dict[str, object]
    parts: tuple[str, str, str]


def _b64json(part: str, what: str) -> dict[str, object]:
    # RFC 7515 §2: base64url without padding; anything else in a part is not a JWS.
    if not _BASE64URL.fullmatch(part) or len(part) % 4 == 1:
        raise InspectError(
            f"The {what} is not base64url-encoded JSON: it holds characters other than "
            "A–Z, a–z, 0–9, `-` and `_`, or is cut short."
        )
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InspectError(
            f"The {what} is not base64url-encoded JSON: it decodes to bytes, not UTF-8 text."
        ) from error
    except ValueError as error:
        raise InspectError(
            f"The {what} is not base64url-encoded JSON: it decodes to text that is not JSON."
        ) from error
    if not isinstance(data, dict):
        raise InspectError(f"The {what} is JSON but not an object.")
    return data


def decode(token: str) -> Decoded:
    """Split and decode a compact JWS without verifying it."""
    token = "".join(token.split())
    if not token:
        raise InspectError("Paste a JWT: three base64url parts separated by dots.")
    if len(token) > MAX_TOKEN:
        raise InspectError(f"That is {len(token)} characters; JWTs here are limited to {MAX_TOKEN}.")
    parts = token.split(".")
    if len(parts) == 5:
        raise InspectError("This is an encrypted JWT (JWE, five parts); it cannot be read without the key.")
    if len(parts) != 3:
        raise InspectError(f"A JWT has three parts separated by dots; this has {len(parts)}.")
    return Decoded(
        _b64json(parts[0], "header"), _b64json(parts[1], "payload"), (parts[0], parts[1], parts[2])
    )


def warnings(decoded: Decoded, now: int | None = None, leeway: int = 60) -> list[str]:
    now = int(time.time()) if now is None else now
    out = []
    claims, header = decoded.claims, decoded.header
    if header.get("alg") == "none":
        out.append("`alg` is none: this token is not signed; trust nothing in it.")
    elif header.get("alg") not in SAFE_ALGORITHMS:
        out.append(f"`alg` {code(header.get('alg'))} is not an asymmetric signature this app would accept.")
    if header.get("typ") not in EXPECTED_TYP:
        out.append(f"Unexpected `typ` {code(header.get('typ'))}: check this is the kind of token you expect.")
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if isinstance(exp, int) and exp + leeway < now:
        out.append("Expired: `exp` is in the past.")
    if isinstance(nbf, int) and nbf - leeway > now:
        out.append("Not yet valid: `nbf` is in the future.")
    if isinstance(iat, int) and iat - leeway > now:
        out.append("`iat` is in the future: the issuer's clock or the token is wrong.")
    for claim in ("exp", "iat", "nbf", "auth_time"):
        if claim in claims and not isinstance(claims[claim], int):
            out.append(f"`{claim}` should be a number of seconds (NumericDate), not {code(claims[claim])}.")
    return out


def _import_pem(text: str) -> Key:
    # Name the key type: joserfc warns that guessing it is not safe, and rightly.
    for key_type in ("RSA", "EC", "OKP"):
        try:
            return import_key(text, key_type)  # type: ignore[arg-type]
        except (ValueError, JoseError, TypeError):
            continue
    raise InspectError("That PEM is not an RSA, EC or OKP public key.")


def keys_from_text(text: str) -> KeySet:
    """A JWKS (JSON), a single JWK (JSON) or a PEM public key."""
    text = text.strip()
    try:
        if text.startswith("{"):
            data = json.loads(text)
            if "keys" in data:
                return KeySet.import_key_set(data)
            return KeySet([import_key(data)])
        if "BEGIN" in text:
            return KeySet([_import_pem(text)])
    except (ValueError, JoseError, TypeError, KeyError) as error:
        raise InspectError(f"Those keys cannot be read: {literal(error)}") from error
    raise InspectError("Paste a JWKS (JSON with `keys`), one JWK (JSON), or a PEM public key.")


def _fetch_json(url: str, what: str, reach: Reach) -> Mapping[str, object]:
    # Keys over plain http could be anyone's: http:// only for this machine (and only where
    # ``reach`` allows it, which is this app's own development provider).
    scheme = urlsplit(url).scheme
    if scheme != "https" and not (scheme == "http" and is_loopback_url(url)):
        raise InspectError(f"The {what} URL must be https:// (http:// only for localhost): {code(url)}.")
    try:
        return get_json(url, what, reach)
    except FetchError as error:
        raise InspectError(str(error)) from error


def keys_from_url(url: str, reach: Reach = PUBLIC) -> KeySet:
    """The JWKS at ``url``, fetched within ``reach`` (the public internet unless it says more)."""
    try:
        return KeySet.import_key_set(_fetch_json(url, "JWKS", reach))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InspectError(f"The JWKS at {code(url)} is malformed: {literal(error)}") from error


def discover(issuer: str, reach: Reach = PUBLIC) -> Mapping[str, object]:
    """The issuer's discovery document, checked to name the same issuer."""
    metadata = _fetch_json(
        issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document", reach
    )
    if metadata.get("issuer") != issuer.rstrip("/"):
        raise InspectError(
            f"The discovery document names issuer {code(metadata.get('issuer'))}, not {code(issuer)} "
            "(OIDC Discovery §4.3)."
        )
    return metadata


def verify_signature(token: str, keys: KeySet) -> str:
    """Which key verified the signature; raises InspectError when none does."""
    decoded = decode(token)
    alg = str(decoded.header.get("alg"))
    if alg not in SAFE_ALGORITHMS:
        raise InspectError(
            f"Refusing to verify `alg` {code(alg)}: only asymmetric algorithms prove who signed."
        )
    kid = decoded.header.get("kid")
    candidates = [k for k in keys if kid is None or k.kid == kid]
    if not candidates:
        raise InspectError(f"No key with kid {code(kid)} among the {len(keys.keys)} key(s) given.")
    if key := verifying_key("".join(token.split()), KeySet(candidates)):
        return str(key.kid or key.thumbprint())
    raise InspectError(
        "The signature does not verify with the given key(s): the token was altered, or it is another key."
    )


def oidc_checks(
    token: str,
    *,
    keys: KeySet,
    issuer: str,
    audience: str,
    nonce: str | None,
    access_token: str | None,
    algorithms: frozenset[str] = SAFE_ALGORITHMS,
    now: int | None = None,
) -> ValidationReport:
    """OIDC Core §3.1.3.7, the same code the login uses; returns the report even when it fails."""
    return check_id_token(
        "".join(token.split()),
        jwks=keys,
        issuer=issuer,
        client_id=audience,
        nonce=nonce or None,
        algorithms=algorithms,
        now=int(time.time()) if now is None else now,
        access_token=access_token or None,
    )


def algorithms_of(metadata: Mapping[str, object] | None) -> frozenset[str]:
    """The signing algorithms a provider's discovery document allows, as the login reads them."""
    advertised = (metadata or {}).get("id_token_signing_alg_values_supported")
    return allowed_algorithms([str(a) for a in advertised] if isinstance(advertised, list) else None)


def compare(
    left: Mapping[str, object], right: Mapping[str, object], *, names: tuple[str, str]
) -> list[dict[str, str]]:
    """Claim-by-claim comparison of two claim sets, each side under its name ("ID token" and
    "userinfo", "before refresh" and "after refresh"); a claim one side lacks is "only in" the other."""
    first, second = names
    rows = []
    for claim in sorted(set(left) | set(right)):
        if claim not in right:
            verdict = f"only in {first}"
        elif claim not in left:
            verdict = f"only in {second}"
        else:
            verdict = "same" if left[claim] == right[claim] else "differs"
        shown = [as_json(side[claim]) if claim in side else "—" for side in (left, right)]
        rows.append({"claim": claim, first: shown[0], second: shown[1], "": verdict})
    return rows


SIGNING = ("RS256", "ES256", "HS256")


def new_key(alg: str) -> Key:
    """A fresh key for ``alg``: RSA 2048, EC P-256, or a 256-bit HMAC secret."""
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg == "HS256":
        return OctKey.generate_key(256)
    raise InspectError(f"Signing with {code(alg)} is not offered here: pick one of {', '.join(SIGNING)}.")


def signing_key(alg: str, text: str) -> Key:
    """A pasted private key for ``alg``: a JWK (JSON), a PEM, or for HS256 any secret text."""
    text = text.strip()
    kinds = {"RS256": "RSA", "ES256": "EC", "HS256": "oct"}
    try:
        if text.startswith("{"):
            key = import_key(json.loads(text))
        elif alg == "HS256":
            # RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash, 256 bits.
            if len(text.encode()) < 32:
                raise InspectError(
                    f"An HS256 secret needs 32 bytes or more (RFC 7518 §3.2); that has {len(text.encode())}."
                )
            return OctKey.import_key(text.encode())
        else:
            key = import_key(text, kinds[alg])  # type: ignore[arg-type]
    except (ValueError, JoseError, TypeError, KeyError) as error:
        raise InspectError(f"That key cannot be read: {literal(error)}") from error
    if key.key_type != kinds.get(alg):
        raise InspectError(f"{code(alg)} needs an {kinds.get(alg)} key; that one is {code(key.key_type)}.")
    if alg != "HS256" and not key.is_private:
        raise InspectError("That is a public key: signing needs the private key.")
    return key


def sign(header_text: str, payload_text: str, key: Key, alg: str) -> str:
    """A compact JWS of the given header and payload (JSON objects), signed with ``key``."""
    header, payload = (
        _json_object(t, what) for t, what in ((header_text, "header"), (payload_text, "payload"))
    )
    header["alg"] = alg
    if alg != "HS256":
        key.ensure_kid()  # RFC 7638 thumbprint, the kid public_jwks() publishes
        header.setdefault("kid", key.kid)
    try:
        return jws.serialize_compact(
            header, json.dumps(payload, separators=(",", ":")), key, algorithms=[alg]
        )
    except (JoseError, ValueError) as error:
        raise InspectError(f"Signing failed: {literal(error)}") from error


def _json_object(text: str, what: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InspectError(f"The {what} is not JSON: {literal(error)}") from error
    if not isinstance(data, dict):
        raise InspectError(f"The {what} must be a JSON object, {{...}}.")
    return data


def public_jwks(key: Key) -> dict[str, object]:
    """The JWKS that verifies what ``key`` signs (an HMAC secret has no public half)."""
    if key.key_type == "oct":
        raise InspectError("HS256 has no public key: whoever verifies holds the same secret.")
    key.ensure_kid()
    return {"keys": [key.as_dict(private=False)]}
