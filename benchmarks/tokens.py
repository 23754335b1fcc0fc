"""What checking an ID token costs (every check of OIDC Core §3.1.3.7), against its floor:
one RSA signature verification, which no check can skip."""

from __future__ import annotations

import base64

import httpx2
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc.jwk import KeySet, RSAKey

from streamlit_authlib_login._core.sessions import Session
from streamlit_authlib_login._core.validation import (
    expected_from_discovery,
    unverified_header,
    validate_id_token,
)

from .stats import Stats, time_calls


def id_token_costs(session: Session, provider_url: str, client_id: str, n: int) -> dict[str, Stats]:
    """Validation of the session's own ID token, and one RS256 verify of its signature."""
    id_token = str(session.tokens.id_token)
    metadata = httpx2.get(f"{provider_url}/.well-known/openid-configuration").json()
    jwks = KeySet.import_key_set(httpx2.get(str(metadata["jwks_uri"])).json())
    claims = session.claims
    now = int(str(claims["iat"])) + 1

    def validate() -> object:
        return validate_id_token(
            id_token,
            jwks=jwks,
            **expected_from_discovery(metadata, id_token),
            client_id=client_id,
            nonce=str(claims.get("nonce")) if claims.get("nonce") else None,
            now=now,
            access_token=session.tokens.access_token,
        )

    kid = unverified_header(id_token).get("kid")
    key = next(k for k in jwks.keys if k.kid == kid)
    assert isinstance(key, RSAKey)
    public = key.get_op_key("verify")
    assert isinstance(public, RSAPublicKey)
    head, body, signature = id_token.split(".")
    signed, raw_signature = (
        f"{head}.{body}".encode(),
        base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
    )

    def rsa_verify() -> None:
        public.verify(raw_signature, signed, PKCS1v15(), SHA256())

    return {
        "validate_id_token (every check)": time_calls(validate, n, warmup=50),
        "one RS256 signature verification": time_calls(rsa_verify, n, warmup=50),
    }
