"""A node's directory, made by ``deconfliction node init --party P --dir NODE_DIR``.

::

    NODE_DIR/node.toml         the party this node runs for
    NODE_DIR/keys/P.pem        the node's Ed25519 signing key (mode 0600)
    NODE_DIR/tls/node.pem      its self-signed TLS certificate (names P and the key)
    NODE_DIR/tls/node.key      the certificate's private key (mode 0600)
    NODE_DIR/peers/Q.pem       certificates of peers, pinned by their fingerprints
    NODE_DIR/node.db           the node's store, unless serve is given --database

Back the whole directory up with the store: without ``keys/`` the node's record
can no longer be signed, without ``tls/`` its peers no longer recognise it.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deconfliction.errors import InputError, Problem
from deconfliction.federation import certs
from deconfliction.hotline import record

NODE_FILE: str = "node.toml"
NODE_FORMAT: str = "deconfliction.node/1"
PARTY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DEFAULT_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class Node:
    """A node's directory, read.

    Attributes:
        dir: the directory.
        party: the party the node runs for.
        fingerprint: ``sha256:...`` of its TLS certificate.
    """

    dir: Path
    party: str
    fingerprint: str

    @property
    def keys_dir(self) -> Path:
        """Where its signing key is (a ``KeyRing`` directory)."""
        return self.dir / "keys"

    @property
    def cert_file(self) -> Path:
        """Its TLS certificate (PEM)."""
        return self.dir / "tls" / "node.pem"

    @property
    def key_file(self) -> Path:
        """The certificate's private key (PEM)."""
        return self.dir / "tls" / "node.key"

    @property
    def peers_dir(self) -> Path:
        """Pinned certificates of peers, ``PARTY.pem``."""
        return self.dir / "peers"

    @property
    def database_url(self) -> str:
        """The default store: a SQLite file in the directory."""
        return f"sqlite:///{(self.dir / 'node.db').resolve()}"

    def certificate(self) -> bytes:
        """Its TLS certificate, PEM."""
        return self.cert_file.read_bytes()


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def init_node(directory: str | os.PathLike[str], party: str, hosts: list[str]) -> Node:
    """Make a node's directory: its signing key and self-signed certificate.

    Raises:
        InputError: for a bad party id, or a directory that already holds a node.
    """
    path = Path(directory)
    if not PARTY_ID.fullmatch(party):
        raise InputError(
            [
                Problem(
                    "command line",
                    None,
                    "--party",
                    "lower-case letters, digits, - and _ only",
                )
            ]
        )
    if (path / NODE_FILE).exists() or (path / "tls").exists():
        raise InputError(
            [
                Problem(
                    os.fspath(path),
                    None,
                    "--dir",
                    "already holds a node (its keys would be lost): choose another",
                )
            ]
        )
    path.mkdir(parents=True, exist_ok=True)
    signing = record.generate_key()
    _write_private(path / "keys" / f"{party}.pem", record.private_key_to_pem(signing))
    cert_pem, key_pem = certs.make_certificate(
        party, signing.public_key(), list(dict.fromkeys([*DEFAULT_HOSTS, *hosts]))
    )
    _write_private(path / "tls" / "node.key", key_pem)
    (path / "tls" / "node.pem").write_bytes(cert_pem)
    (path / "peers").mkdir(exist_ok=True)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (path / NODE_FILE).write_text(
        f'format = "{NODE_FORMAT}"\nparty = "{party}"\ncreated = "{created}"\n',
        encoding="utf-8",
    )
    return load_node(path)


def load_node(directory: str | os.PathLike[str]) -> Node:
    """Read a node's directory.

    Raises:
        InputError: naming the file that is missing or wrong.
    """
    path = Path(directory)
    node_file = path / NODE_FILE
    if not node_file.is_file():
        raise InputError(
            [
                Problem(
                    os.fspath(path),
                    None,
                    "--node",
                    "not a node directory (make one with deconfliction node init)",
                )
            ]
        )
    try:
        data = tomllib.loads(node_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(os.fspath(node_file), None, "", str(exc))]) from None
    party = data.get("party")
    if data.get("format") != NODE_FORMAT or not isinstance(party, str):
        raise InputError(
            [Problem(os.fspath(node_file), None, "party", "not a node file")]
        )
    problems = [
        Problem(os.fspath(f), None, "", "missing")
        for f in (path / "tls" / "node.pem", path / "tls" / "node.key")
        if not f.is_file()
    ]
    if problems:
        raise InputError(problems)
    cert_file = path / "tls" / "node.pem"
    ident = certs.identity(cert_file.read_bytes(), os.fspath(cert_file))
    if ident.party != party:
        raise InputError(
            [
                Problem(
                    os.fspath(cert_file),
                    None,
                    "certificate",
                    f"names party {ident.party!r}, the node is {party!r}'s",
                )
            ]
        )
    return Node(path, party, ident.fingerprint)


def pinned_peers(node: Node) -> dict[str, bytes]:
    """The peers' certificates this node pinned, by party."""
    if not node.peers_dir.is_dir():
        return {}
    return {p.stem: p.read_bytes() for p in sorted(node.peers_dir.glob("*.pem"))}


def save_peer(node: Node, party: str, pem: bytes) -> None:
    """Keep a peer's certificate (checked against its fingerprint by the caller)."""
    node.peers_dir.mkdir(parents=True, exist_ok=True)
    tmp = node.peers_dir / f".{party}.pem.tmp"
    tmp.write_bytes(pem)
    tmp.replace(node.peers_dir / f"{party}.pem")
