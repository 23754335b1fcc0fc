"""ID-token validation, exactly as OpenID Connect Core 1.0 §3.1.3.7 asks.

Every check becomes a row of a ``ValidationReport`` (name, passed, expected,
actual, spec reference), kept with the session so the dashboard can show why
a token is trusted. Checks keep running after a failure, so a report shows
everything that is wrong, not just the first thing.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TypedDict, TypeGuard

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet
from joserfc.jws import extract_compact

from .errors import TokenValidationError
from .records import rebuild_all

# Asymmetric algorithms only: `none` proves nothing, and an HMAC "verified" with
# a key from the JWKS would be keyed with public material (RFC 8725 §3.1, §2.2).
SAFE_ALGORITHMS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
    }
)
DEFAULT_LEEWAY = 60


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    expected: str
    actual: str
    spec: str
    message: str = ""


@dataclass(frozen=True)
class ValidationReport:
    checks: tuple[Check, ...] = ()
    header: Mapping[str, object] = field(default_factory=dict)
    claims: Mapping[str, object] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if not c.passed), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "header": dict(self.header),
            "claims": dict(self.claims),
            "checks": [asdict(c) for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ValidationReport:
        checks, header, claims = data.get("checks"), data.get("header"), data.get("claims")
        return cls(
            tuple(rebuild_all(Check, checks)),
            dict(header) if isinstance(header, Mapping) else {},
            dict(claims) if isinstance(claims, Mapping) else {},
        )


def _is_numeric_date(value: object) -> TypeGuard[int | float]:
    # RFC 7519 §2: a NumericDate is any JSON number, fractions included (but not a boolean).
    return isinstance(value, int | float) and not isinstance(value, bool)


def allowed_algorithms(advertised: Iterable[str] | None) -> frozenset[str]:
    """The provider's advertised algorithms we are willing to verify (RS256 by default)."""
    return frozenset(advertised or ["RS256"]) & SAFE_ALGORITHMS


def unverified_header(id_token: str) -> dict[str, object]:
    try:
        return dict(extract_compact(id_token.encode()).headers())
    except (JoseError, ValueError) as error:
        raise TokenValidationError(
            f"The ID token is not a JWT in compact form: {error}", ValidationReport()
        ) from error


def unverified_claims(id_token: str) -> dict[str, object]:
    try:
        claims = json.loads(extract_compact(id_token.encode()).payload)
    except (JoseError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def verifying_key(token: str, jwks: KeySet, algorithms: frozenset[str] = SAFE_ALGORITHMS) -> Key | None:
    """The key of ``jwks`` whose signature ``token`` carries (matched by ``kid`` when it names
    one), under an allowed algorithm; None when no key verifies it."""
    header = unverified_header(token)
    alg, kid = str(header.get("alg")), header.get("kid")
    if alg not in algorithms:
        return None
    for key in (k for k in jwks if kid is None or k.kid == kid):
        try:
            jwt.decode(token, key, algorithms=[alg])
        except JoseError:
            continue
        return key
    return None


class Expected(TypedDict):
    issuer: str
    issuer_check: str | None
    algorithms: frozenset[str]


def expected_from_discovery(metadata: Mapping[str, object], id_token: str) -> Expected:
    """What the provider's discovery document says a valid ID token of its carries."""
    issuer = str(metadata.get("issuer", ""))
    issuer_check = None
    if "{tenantid}" in issuer:
        # Microsoft: the template's tenant comes from the token's own `tid`. Never skip
        # the `iss` check: without a `tid` the expected issuer is unmatchable.
        tid = unverified_claims(id_token).get("tid")
        issuer_check = issuer.replace("{tenantid}", tid if isinstance(tid, str) and tid else "(no tid)")
    advertised = metadata.get("id_token_signing_alg_values_supported")
    algorithms = allowed_algorithms([str(a) for a in advertised] if isinstance(advertised, list) else None)
    return Expected(issuer=issuer, issuer_check=issuer_check, algorithms=algorithms)


def validate_id_token(
    id_token: str,
    *,
    jwks: KeySet,
    issuer: str,
    client_id: str,
    nonce: str | None,
    algorithms: frozenset[str],
    now: int,
    access_token: str | None = None,
    leeway: int = DEFAULT_LEEWAY,
    issuer_check: str | None = None,
    max_age: int | None = None,
) -> ValidationReport:
    """Validate ``id_token``: the report when every check passes, else ``TokenValidationError``
    carrying it. ``check_id_token`` takes the same arguments and returns the report either way."""
    report = check_id_token(
        id_token,
        jwks=jwks,
        issuer=issuer,
        client_id=client_id,
        nonce=nonce,
        algorithms=algorithms,
        now=now,
        access_token=access_token,
        leeway=leeway,
        issuer_check=issuer_check,
        max_age=max_age,
    )
    failure = report.first_failure
    if failure is not None:
        raise TokenValidationError(f"ID token refused: {failure.message} ({failure.spec}).", report)
    return report


def check_id_token(
    id_token: str,
    *,
    jwks: KeySet,
    issuer: str,
    client_id: str,
    nonce: str | None,
    algorithms: frozenset[str],
    now: int,
    access_token: str | None = None,
    leeway: int = DEFAULT_LEEWAY,
    issuer_check: str | None = None,
    max_age: int | None = None,
) -> ValidationReport:
    """Run every check on ``id_token`` and return the report, passed or not (never raises,
    but for a token that is not a JWT at all: ``TokenValidationError`` with an empty report).

    ``issuer_check`` replaces the exact ``iss`` comparison for providers whose
    issuer is a template (Microsoft's ``{tenantid}``): pass the resolved issuer.
    ``max_age``: the authorization request's, when it sent one; the ``auth_time`` row checks it.
    """
    header = unverified_header(id_token)
    claims = unverified_claims(id_token)
    checks: list[Check] = []

    def check(name: str, passed: bool, expected: object, actual: object, spec: str, message: str) -> None:
        checks.append(Check(name, passed, str(expected), str(actual), spec, "" if passed else message))

    alg = str(header.get("alg"))
    check(
        "alg",
        alg in algorithms,
        " or ".join(sorted(algorithms)) or "(none allowed)",
        alg,
        "OIDC Core §3.1.3.7 (7); RFC 8725 §3.1",
        f"the ID token is signed with `{alg}`, which this app does not accept",
    )
    kid = header.get("kid")
    candidates = [k for k in jwks if kid is None or k.kid == kid]
    check(
        "kid",
        bool(candidates),
        "a key in the provider's JWKS",
        kid or "(no kid)",
        "OIDC Core §10.1.1",
        f"the ID token's signing key `{kid}` is not in the provider's JWKS, even after re-fetching it",
    )
    verified = verifying_key(id_token, jwks, algorithms) is not None
    check(
        "signature",
        verified,
        "valid with the provider's key",
        "valid" if verified else "invalid",
        "OIDC Core §3.1.3.7 (6)",
        "the ID token's signature does not verify with the provider's JWKS",
    )
    sub = claims.get("sub")
    check(
        "sub",
        isinstance(sub, str) and bool(sub),
        "the user's identifier",
        sub,
        "OIDC Core §2",
        "the ID token has no `sub`: it does not say who logged in",
    )
    iss = claims.get("iss")
    expected_iss = issuer_check or issuer
    check(
        "iss",
        iss == expected_iss,
        expected_iss,
        iss,
        "OIDC Core §3.1.3.7 (2)",
        "the ID token's `iss` is not the issuer from discovery",
    )
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
    check(
        "aud",
        client_id in audiences and len(audiences) == 1,
        client_id,
        aud,
        "OIDC Core §3.1.3.7 (3)",
        "the ID token's `aud` is not this app's client id"
        if client_id not in audiences
        else "the ID token's `aud` also names other, untrusted audiences",
    )
    if "azp" in claims or len(audiences) > 1:
        azp = claims.get("azp")
        check(
            "azp",
            azp == client_id,
            client_id,
            azp,
            "OIDC Core §3.1.3.7 (4), (5)",
            "the ID token's `azp` is not this app's client id",
        )
    exp = claims.get("exp")
    check(
        "exp",
        _is_numeric_date(exp) and now < exp + leeway,
        f"after now ({now})",
        exp,
        "OIDC Core §3.1.3.7 (9)",
        "the ID token has expired",
    )
    iat = claims.get("iat")
    check(
        "iat",
        _is_numeric_date(iat) and iat <= now + leeway,
        f"not after now ({now}) + {leeway}s",
        iat,
        "OIDC Core §3.1.3.7 (10)",
        "the ID token's `iat` is missing or in the future",
    )
    got_nonce = claims.get("nonce")
    nonce_ok = nonce is None or (
        isinstance(got_nonce, str) and hmac.compare_digest(got_nonce.encode(), nonce.encode())
    )
    check(
        "nonce",
        nonce_ok,
        nonce or "(none sent)",
        got_nonce,
        "OIDC Core §3.1.3.7 (11)",
        "the ID token's `nonce` is not the one this login sent",
    )
    if max_age is not None:
        # OIDC Core §3.1.2.1: with max_age the ID token MUST carry auth_time; §3.1.3.7 (13): the
        # client checks it and re-authenticates when too much time has passed.
        auth_time = claims.get("auth_time")
        check(
            "auth_time",
            _is_numeric_date(auth_time) and now - auth_time <= max_age + leeway,
            f"present, at most max_age {max_age}s (+ {leeway}s) before now ({now})",
            auth_time if auth_time is not None else "(no auth_time)",
            "OIDC Core §3.1.3.7 (13), §3.1.2.1",
            "the ID token has no `auth_time` although `max_age` was sent"
            if auth_time is None
            else "the person authenticated longer ago than `max_age` allows",
        )
    at_hash = claims.get("at_hash")
    if at_hash is not None and access_token is not None:
        computed = create_half_hash(access_token, alg) if alg in algorithms else None
        ok = computed is not None and hmac.compare_digest(computed, str(at_hash).encode())
        check(
            "at_hash",
            ok,
            computed.decode() if computed else "(cannot compute)",
            at_hash,
            "OIDC Core §3.2.2.9, §3.1.3.8",
            "the ID token's `at_hash` does not match the access token",
        )
    return ValidationReport(tuple(checks), header, claims)
