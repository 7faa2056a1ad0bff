"""The Ed25519 keys that sign the hotline record: made, stored, shown, compared.

Private keys are PEM (PKCS#8, encrypted with a password when given); public keys
are written ``ed25519:`` and base64 of their 32 raw bytes, and read aloud by their
fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from deconfliction.errors import InputError, Problem

__all__ = [
    "FINGERPRINT_BYTES",
    "PUBLIC_KEY_PREFIX",
    "generate_key",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_fingerprint",
    "public_key_from_text",
    "public_key_to_text",
]

PUBLIC_KEY_PREFIX: Final = "ed25519:"
FINGERPRINT_BYTES: Final = 16  # of SHA-256(raw public key), read aloud to compare


def generate_key() -> Ed25519PrivateKey:
    """A new Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def _password_bytes(password: str | bytes | None) -> bytes | None:
    if password is None or isinstance(password, bytes):
        return password
    return password.encode("utf-8")


def private_key_to_pem(
    key: Ed25519PrivateKey, password: str | bytes | None = None
) -> bytes:
    """The key as PKCS #8 PEM, encrypted with ``password`` when one is given."""
    secret = _password_bytes(password)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret)
        if secret
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=encryption,
    )


def private_key_from_pem(
    data: bytes | str, password: str | bytes | None = None
) -> Ed25519PrivateKey:
    """An Ed25519 key from PKCS #8 PEM.

    Raises:
        InputError: for text that is not a PEM private key, a wrong or missing
            password, or a key of another type.
    """
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        key = serialization.load_pem_private_key(
            raw, password=_password_bytes(password)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(
            [Problem("private key", None, "", f"cannot read the key: {exc}")]
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(
            [
                Problem(
                    "private key", None, "", f"not an Ed25519 key: {type(key).__name__}"
                )
            ]
        )
    return key


def public_key_to_text(key: Ed25519PublicKey) -> str:
    """``ed25519:`` and the 32 raw bytes of the key in base64.

    >>> key = public_key_from_text("ed25519:" + "A" * 43 + "=")
    >>> public_key_to_text(key) == "ed25519:" + "A" * 43 + "="
    True
    """
    raw = key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key from its ``ed25519:BASE64`` form.

    Raises:
        InputError: for text without the prefix, bad base64, or not 32 bytes.
    """
    source = "public key"
    if not isinstance(text, str) or not text.strip().startswith(PUBLIC_KEY_PREFIX):
        raise InputError(
            [Problem(source, None, "", f"must start with {PUBLIC_KEY_PREFIX!r}")]
        )
    encoded = text.strip()[len(PUBLIC_KEY_PREFIX) :]
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InputError([Problem(source, None, "", "not base64")]) from None
    if len(raw) != 32:
        raise InputError([Problem(source, None, "", f"{len(raw)} bytes, expected 32")])
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_fingerprint(key: Ed25519PublicKey) -> str:
    """A short form of a public key to compare by voice: hex groups of SHA-256.

    >>> key = public_key_from_text("ed25519:" + "A" * 43 + "=")
    >>> public_key_fingerprint(key)
    '66687aad f862bd77 6c8fc18b 8e9f8e20'
    """
    raw = key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    digest = hashlib.sha256(raw).hexdigest()[: 2 * FINGERPRINT_BYTES]
    return " ".join(digest[i : i + 8] for i in range(0, len(digest), 8))
