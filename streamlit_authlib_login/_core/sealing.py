"""Sealing what the store keeps, and the values derived from ``cookie_secret``.

The store holds records under an HMAC of their id, encrypted with AES-GCM under a key derived
from ``cookie_secret``: a copy of the store alone yields neither usable cookies nor tokens. The
same secret derives, under keys of their own, the browser binding, a login's nonce and PKCE
verifier, and the tag of the cookie that carries a login's ``next``.

What is encrypted is the record's JSON, compressed first where that makes it shorter: the
plaintext's first byte says which (``{``: JSON as it is, ``z``: zlib of it). Records sealed
before compression existed start with ``{`` too, so they still open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import zlib
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"streamlit-authlib", info=purpose).derive(
        secret.encode()
    )


COMPRESSED = b"z"  # the plaintext's first byte when zlib follows; JSON objects start with "{"
COMPRESS_FROM = 256  # bytes of JSON: below this, zlib's header and checksum outweigh its gain


def _pack(data: Mapping[str, object], compress: bool) -> bytes:
    plain = json.dumps(data, separators=(",", ":")).encode()
    if compress and len(plain) >= COMPRESS_FROM:
        # Compression before encryption shows the content's redundancy in the ciphertext's
        # length (the CRIME/BREACH concern). Only a reader of the store sees these lengths, and no
        # request lets anyone add text beside a record's secrets and watch its size change.
        packed = COMPRESSED + zlib.compress(plain, 6)
        if len(packed) < len(plain):
            return packed
    return plain


def _unpack(plain: bytes) -> object:
    if plain[:1] == COMPRESSED:
        plain = zlib.decompress(plain[1:])
    return json.loads(plain)


class Sealing:
    """The keys derived from ``cookie_secret``, and what is made with them."""

    def __init__(self, cookie_secret: str, *, compress: bool = True) -> None:
        """``compress=False`` seals as releases before compression did (the storage benchmark's
        "before"); both kinds open either way."""
        self._compress = compress
        self._aead = AESGCM(_derive(cookie_secret, b"store-encryption"))
        self._mac_key = _derive(cookie_secret, b"store-keys")
        self._login_key = _derive(cookie_secret, b"login-secrets")

    def key(self, kind: str, value: str) -> str:
        """The store key of record ``value`` of ``kind``: the id itself is never stored."""
        return self.prefix(kind) + hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def prefix(kind: str) -> str:
        """What every store key of ``kind`` starts with."""
        return kind + ":"

    def seal(self, key: str, data: Mapping[str, object]) -> bytes:
        nonce = os.urandom(12)
        plain = _pack(data, self._compress)
        # The store key is the associated data: a row moved under another key won't decrypt.
        return nonce + self._aead.encrypt(nonce, plain, key.encode())

    def open(self, key: str, blob: bytes | None) -> dict[str, object] | None:
        if blob is None:
            return None
        try:
            plain = self._aead.decrypt(blob[:12], blob[12:], key.encode())
        except Exception:  # cryptography raises InvalidTag; any failure means "no session"
            return None
        data = _unpack(plain)  # authenticated: ours, so well-formed
        return data if isinstance(data, dict) else None

    def binding(self, cookie_value: str) -> str:
        return base64.urlsafe_b64encode(
            hmac.new(self._mac_key, b"binding:" + cookie_value.encode(), hashlib.sha256).digest()
        ).decode()

    def login_secrets(self, state: str) -> tuple[str, str]:
        """The nonce and PKCE verifier of the login sent with ``state``: HMACs of it under a key
        derived from ``cookie_secret``, so they need no storing and are as unguessable as random
        ones to anyone without that secret. The verifier is 32 octets in base64url, the 43
        characters RFC 7636 §4.1 and §7.1 ask for; the nonce the same (OIDC Core §15.5.2)."""

        def derive(purpose: bytes) -> str:
            digest = hmac.new(self._login_key, purpose + state.encode(), hashlib.sha256).digest()
            return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

        return derive(b"nonce:"), derive(b"pkce-verifier:")

    def next_cookie(self, state: str, next_path: str) -> str:
        """The value of the cookie that carries the ``next`` of the login sent with ``state``:
        the path (base64url: any printable text fits a cookie, in at most 2.8 KB for 512
        characters) after a MAC of it and the state, so neither another login's cookie nor one
        tossed in by someone else lends a callback its path."""
        encoded = base64.urlsafe_b64encode(next_path.encode()).rstrip(b"=").decode()
        return f"{self._next_tag(state, encoded)}.{encoded}"

    def next_from_cookie(self, state: str, value: str | None) -> str | None:
        """The ``next`` in cookie ``value`` if it was made for the login sent with ``state``."""
        tag, _, encoded = (value or "").partition(".")
        # As bytes: compare_digest refuses str with non-ASCII characters, which a cookie may carry.
        if not hmac.compare_digest(tag.encode(), self._next_tag(state, encoded).encode()):
            return None
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()  # ours: it matched

    def _next_tag(self, state: str, encoded: str) -> str:
        # The state's digest has a fixed length: no other (state, path) pair spells the same input.
        data = b"next:" + hashlib.sha256(state.encode()).digest() + encoded.encode()
        digest = hmac.new(self._mac_key, data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()  # 128 bits
