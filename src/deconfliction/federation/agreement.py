"""A protocol version agreed between nodes.

A node's officer proposes a version on their own node: the node signs the
version's digest with its Ed25519 key and offers the text, with its certificate and
signature, to every other node the version names. Each of those nodes checks the
offer (its own node is named with its own certificate; the proposer's certificate
has the fingerprint the version names and signed the digest) and keeps it as
proposed; its officer accepts it on that node, which signs the digest too and sends
its signature to every other node. A version is in effect on a node when that node
holds the signature of every node the version names; every node holds all of them.

The digest is the SHA-256 of the version's TOML text; what is signed is
:data:`DIGEST_CONTEXT` followed by its 32 bytes (so that the signature is good for
nothing else signed with the same key).

An offer comes over TLS that pins the receiver, without a client certificate: the
receiver does not know the proposer yet, and cannot tell before its officer
reviews the text (with the fingerprints in it) whether to. It trusts the nodes a
version names only once its own party accepted it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Connection, and_, select, update

from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.domain.protocol import REFEREE, Protocol
from deconfliction.errors import ConflictError, ForbiddenError, InputError, Problem
from deconfliction.federation import certs, outbox
from deconfliction.federation.link import Federation
from deconfliction.service import auth, protocols
from deconfliction.service.keys import KeyRing
from deconfliction.store.tables import protocol_acceptances, protocol_versions

DIGEST_CONTEXT: bytes = b"deconfliction.protocol/1\x00"
OFFER: str = "offer"
ACCEPTANCE: str = "acceptance"
MAX_OFFER_TOML_CHARS: int = 2_000_000


def digest_message(sha256_hex: str) -> bytes:
    """What a node signs to agree to a version."""
    return DIGEST_CONTEXT + bytes.fromhex(sha256_hex)


def sign_digest(key: Ed25519PrivateKey, sha256_hex: str) -> str:
    """The node's signature of a version's digest, base64."""
    return base64.b64encode(key.sign(digest_message(sha256_hex))).decode("ascii")


def digest_signed(key: Ed25519PublicKey, sha256_hex: str, signature: str) -> bool:
    """True when ``signature`` is ``key``'s of the digest."""
    try:
        key.verify(
            base64.b64decode(signature, validate=True), digest_message(sha256_hex)
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _refuse(field: str, message: str) -> InputError:
    return InputError([Problem("protocol", None, field, message)])


def check_names_this_node(protocol: Protocol, fed: Federation) -> None:
    """A node only takes versions that name the nodes of every party, its own
    with its own certificate.

    Raises:
        InputError: otherwise.
    """
    node = fed.node
    referee = protocol.referee
    if protocol.federated and referee is not None and node.party == REFEREE:
        if referee.address.fingerprint != node.fingerprint:
            raise _refuse(
                "nodes.referee.fingerprint",
                f"{referee.address.fingerprint} is not this node's certificate "
                f"({node.fingerprint})",
            )
        return
    if not protocol.federated:
        raise _refuse(
            "nodes",
            "this server is the node of "
            f"{node.party!r}: the protocol must name every party's node ([nodes.P])",
        )
    mine = protocol.nodes.get(node.party)
    if mine is None:
        raise _refuse("nodes", f"names no node of {node.party!r}, whose node this is")
    if mine.fingerprint != node.fingerprint:
        raise _refuse(
            f"nodes.{node.party}.fingerprint",
            f"{mine.fingerprint} is not this node's certificate ({node.fingerprint})",
        )


def _receivers(protocol: Protocol) -> list[str]:
    """The nodes a version goes to: every party's, and the referee's (which needs
    the version, and every signature, to run it)."""
    referee = [REFEREE] if protocol.referee is not None else []
    return [*protocol.nodes, *referee]


def _register_parties(conn: Connection, protocol: Protocol, now_t_s: float) -> None:
    for party in protocol.parties.values():
        auth.ensure_party(conn, party.id, party.name, party.language, now_t_s)


def _sign_and_send(
    conn: Connection,
    fed: Federation,
    version: protocols.ProtocolVersion,
    kind: str,
    extra: dict[str, Any],
    now_t_s: float,
) -> str:
    key = KeyRing(fed.node.keys_dir).private_key(conn, fed.node.party, now_t_s)
    signature = sign_digest(key, version.sha256)
    conn.execute(
        update(protocol_acceptances)
        .where(
            and_(
                protocol_acceptances.c.version_pk == version.pk,
                protocol_acceptances.c.party_id == fed.node.party,
            )
        )
        .values(signature=signature)
    )
    body = {
        "protocol_id": version.protocol.id,
        "version": version.protocol.version,
        "sha256": version.sha256,
        "party": fed.node.party,
        "signature": signature,
        **extra,
    }
    for party in _receivers(version.protocol):
        if party != fed.node.party:
            outbox.enqueue(conn, party, kind, body, now_t_s)
    return signature


def propose(
    conn: Connection,
    fed: Federation,
    who: auth.Principal,
    toml_text: str,
    now_t_s: float,
) -> protocols.ProtocolVersion:
    """An officer of this node proposes a version: stored, signed, offered to the
    other nodes it names.

    Raises:
        InputError: the version does not name this node, or is not valid.
        ForbiddenError, ConflictError: as :func:`service.protocols.propose`.
    """
    protocol = parse_protocol(toml_text, "proposal")
    check_names_this_node(protocol, fed)
    if who.party_id != fed.node.party:
        raise ForbiddenError(f"this is the node of {fed.node.party!r}")
    _register_parties(conn, protocol, now_t_s)
    version = protocols.propose(conn, who, toml_text, now_t_s)
    _sign_and_send(
        conn,
        fed,
        version,
        OFFER,
        {"toml": toml_text, "certificate": fed.node.certificate().decode("ascii")},
        now_t_s,
    )
    return version


def accept(
    conn: Connection,
    fed: Federation,
    who: auth.Principal,
    protocol_id: str,
    version_no: int,
    now_t_s: float,
) -> protocols.ProtocolVersion:
    """An officer of this node accepts a version: signed, sent to the other nodes.

    Raises:
        as :func:`service.protocols.accept`.
    """
    current = protocols.get_visible(conn, who, protocol_id, version_no)
    check_names_this_node(current.protocol, fed)
    already = who.party_id in current.accepted_by
    version = protocols.accept(conn, who, protocol_id, version_no, now_t_s)
    if not already:
        _sign_and_send(conn, fed, version, ACCEPTANCE, {}, now_t_s)
    return version


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError([Problem("request", None, name, f"must be a {kind.__name__}")])
    return value


def refuse_anonymous(conn: Connection, fed: Federation, body: dict[str, Any]) -> None:
    """Refuse an offer that came without a pinned client certificate for a
    protocol this node's party accepted a version of: its next versions come only
    from the peers that version pinned (no one else may take a version number).

    Raises:
        ForbiddenError: if it is such an offer.
        InputError: the offer's text is missing or not a protocol.
    """
    toml_text = _field(body, "toml", str)
    if len(toml_text) > MAX_OFFER_TOML_CHARS:
        raise _refuse("toml", "too large")
    protocol = parse_protocol(toml_text, "offer")
    accepted = protocols.accepted_by_party(conn, fed.node.party)
    if any(v.protocol.id == protocol.id for v in accepted):
        raise ForbiddenError(
            f"{fed.node.party!r} accepted a version of {protocol.id!r}: its next "
            "versions are taken only from the nodes it pinned, over mutual TLS"
        )


def receive_offer(
    conn: Connection, fed: Federation, body: dict[str, Any], now_t_s: float
) -> protocols.ProtocolVersion:
    """A peer's offer of a version: checked, kept as proposed with its signature.

    Raises:
        InputError: the offer is not well formed, does not name this node, or its
            certificate or signature is not the proposer's.
        ConflictError: this node has another text under that id and version.
    """
    toml_text = _field(body, "toml", str)
    if len(toml_text) > MAX_OFFER_TOML_CHARS:
        raise _refuse("toml", "too large")
    sender = _field(body, "party", str)
    signature = _field(body, "signature", str)
    pem = _field(body, "certificate", str).encode("ascii", errors="replace")
    protocol = parse_protocol(toml_text, "offer")
    check_names_this_node(protocol, fed)
    if sender == fed.node.party or sender not in protocol.nodes:
        raise _refuse("party", f"{sender!r} is not another node the protocol names")
    ident = certs.identity(pem, "offer")
    if ident.party != sender or ident.fingerprint != protocol.nodes[sender].fingerprint:
        raise _refuse(
            "certificate",
            f"not the certificate the protocol pins for {sender!r} "
            f"({protocol.nodes[sender].fingerprint})",
        )
    sha = hashlib.sha256(toml_text.encode("utf-8")).hexdigest()
    if not digest_signed(ident.signing_key, sha, signature):
        raise _refuse("signature", f"not the signature of {sender!r}'s node")
    existing = conn.execute(
        select(protocol_versions.c.sha256).where(
            protocol_versions.c.protocol_id == protocol.id,
            protocol_versions.c.version == protocol.version,
        )
    ).scalar()
    if existing is not None and existing != sha:
        raise ConflictError(
            f"{protocol.id} v{protocol.version} is another text on this node"
        )
    _register_parties(conn, protocol, now_t_s)
    if existing is None:
        protocols.propose(
            conn, auth.Principal(sender, auth.Role.OFFICER), toml_text, now_t_s
        )
    return _keep_signature(
        conn, fed, protocol.id, protocol.version, sender, sha, signature, now_t_s
    )


def receive_acceptance(
    conn: Connection, fed: Federation, peer: str, body: dict[str, Any], now_t_s: float
) -> protocols.ProtocolVersion:
    """A peer node's signature of a version's digest (mutual TLS: ``peer`` is who
    sent it).

    Raises:
        InputError: not the peer's own, or not its node's signature.
        NotFoundError: no such version here.
        ConflictError: the digest is not this node's text of the version.
    """
    if _field(body, "party", str) != peer:
        raise ForbiddenError("a node sends its own acceptances only")
    protocol_id = _field(body, "protocol_id", str)
    version_no = _field(body, "version", int)
    sha = _field(body, "sha256", str)
    signature = _field(body, "signature", str)
    pem = fed.peers.pem(peer)
    assert pem is not None  # the TLS handshake took its pinned certificate
    if not digest_signed(certs.identity(pem).signing_key, sha, signature):
        raise _refuse("signature", f"not the signature of {peer!r}'s node")
    return _keep_signature(
        conn, fed, protocol_id, version_no, peer, sha, signature, now_t_s
    )


def _keep_signature(
    conn: Connection,
    fed: Federation,
    protocol_id: str,
    version_no: int,
    party: str,
    sha: str,
    signature: str,
    now_t_s: float,
) -> protocols.ProtocolVersion:
    # Read as the signer (a party of the version): a referee is none.
    who = auth.Principal(party, auth.Role.OBSERVER)
    current = protocols.get_visible(conn, who, protocol_id, version_no)
    if current.sha256 != sha:
        raise ConflictError(
            f"{protocol_id} v{version_no} is another text on this node "
            f"(sha256 {current.sha256})"
        )
    if party not in current.protocol.nodes:
        raise ForbiddenError(f"{protocol_id} v{version_no} names no node of {party!r}")
    if party not in current.accepted_by:
        current = protocols.accept(
            conn,
            auth.Principal(party, auth.Role.OFFICER),
            protocol_id,
            version_no,
            now_t_s,
        )
    conn.execute(
        update(protocol_acceptances)
        .where(
            protocol_acceptances.c.version_pk == current.pk,
            protocol_acceptances.c.party_id == party,
        )
        .values(signature=signature)
    )
    return current


def signatures(conn: Connection, version_pk: int) -> dict[str, str | None]:
    """Every node's signature of a version's digest, by party."""
    rows = conn.execute(
        select(protocol_acceptances.c.party_id, protocol_acceptances.c.signature).where(
            protocol_acceptances.c.version_pk == version_pk
        )
    ).all()
    return {r.party_id: r.signature for r in rows}
