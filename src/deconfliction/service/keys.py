"""Signing keys of the parties and of the server, for the hotline record.

Each party's Ed25519 private key is a PKCS#8 PEM file ``KEYS_DIR/<party>.pem``
(mode 0600), made the first time the party signs; its public key goes into the
``party_keys`` table, from which anyone can verify the record. The server signs the
events it causes itself (delivery, escalation, missed check-in) with the key of
:data:`SERVER_SIGNER`.

The server holds these keys, so the signatures prove that an entry was written by this
server on the party's behalf and has not been changed since by anyone without the
keys (a database administrator, a restored backup, a copied database). Parties that
keep the entry hashes they receive on the stream can also detect a rewrite by anyone.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Connection, insert, select

from deconfliction.errors import ConflictError, InputError
from deconfliction.hotline import record
from deconfliction.store.tables import party_keys

SERVER_SIGNER: str = "server"


class KeyRing:
    """Private keys on disk, public keys in the store."""

    def __init__(self, keys_dir: str | os.PathLike[str]) -> None:
        self._dir = Path(keys_dir)
        self._cache: dict[str, Ed25519PrivateKey] = {}

    @property
    def directory(self) -> Path:
        """Where the key files are."""
        return self._dir

    def private_key(
        self, conn: Connection, signer: str, now_t_s: float
    ) -> Ed25519PrivateKey:
        """The signer's key, made (and its public key registered) on first use.

        Raises:
            ConflictError: if the store has a public key for the signer but its
                private key file is gone (the record could no longer be verified).
            InputError: if the key file is not a readable Ed25519 private key.
        """
        if signer in self._cache:
            return self._cache[signer]
        path = self._dir / f"{signer}.pem"
        stored = conn.execute(
            select(party_keys.c.public_key).where(party_keys.c.party_id == signer)
        ).scalar()
        if path.exists():
            key = _read_key(path)
        elif stored is not None:
            raise ConflictError(
                f"the signing key of {signer!r} is registered but {path} is missing; "
                "restore it from backup"
            )
        else:
            key = record.generate_key()
            self._dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(record.private_key_to_pem(key))
        public = record.public_key_to_text(key.public_key())
        if stored is None:
            conn.execute(
                insert(party_keys).values(
                    party_id=signer, public_key=public, created_t_s=now_t_s
                )
            )
        elif stored != public:
            raise ConflictError(f"the key file of {signer!r} does not match the store")
        self._cache[signer] = key
        return key


def _read_key(path: Path) -> Ed25519PrivateKey:
    """A private key file, or an error naming it (damaged, truncated, not a key)."""
    try:
        return record.private_key_from_pem(path.read_bytes())
    except InputError as exc:
        raise InputError(
            [replace(p, source=os.fspath(path)) for p in exc.problems]
        ) from None


def public_keys(conn: Connection) -> dict[str, Ed25519PublicKey]:
    """Every registered public key, by signer."""
    rows = conn.execute(select(party_keys.c.party_id, party_keys.c.public_key)).all()
    return {r.party_id: record.public_key_from_text(r.public_key) for r in rows}


def public_keys_text(conn: Connection) -> dict[str, str]:
    """Every registered public key as text, by signer (for export)."""
    rows = conn.execute(select(party_keys.c.party_id, party_keys.c.public_key)).all()
    return {r.party_id: r.public_key for r in rows}


def key_file_mismatches(
    conn: Connection, keys_dir: str | os.PathLike[str]
) -> list[str]:
    """Signers whose registered public key is not the one of their key file.

    A public key replaced in ``party_keys`` (to pass off a chain re-signed with new
    keys) shows here as long as the key files were left alone. Signers without a
    key file in ``keys_dir`` are not checked.

    Raises:
        InputError: for a key file that cannot be read.
    """
    out = []
    for signer, public in sorted(public_keys_text(conn).items()):
        path = Path(keys_dir) / f"{signer}.pem"
        if not path.exists():
            continue
        key = record.private_key_from_pem(path.read_bytes())
        if record.public_key_to_text(key.public_key()) != public:
            out.append(signer)
    return out


def ensure_signing_key(
    conn: Connection, keys_dir: str | os.PathLike[str], signer: str, now_t_s: float
) -> str:
    """Make the signer's key if it has none (file and registered public key), and
    return the fingerprint of its public key, to exchange out of band.

    Raises:
        ConflictError: as :meth:`KeyRing.private_key`.
    """
    from deconfliction.hotline.checkpoints import key_fingerprint

    key = KeyRing(keys_dir).private_key(conn, signer, now_t_s)
    return key_fingerprint(key.public_key())
