"""The hotline between nodes (issue 16, item 4): a common record no node can rewrite.

A message is written on its author's node, signed there with that node's key, and
sent to the addressee's node through the durable outbox (:mod:`.outbox`). The
addressee's node checks the signature against the signing key in the author's
pinned certificate, keeps the entry, and answers with its own signed ``delivered``
entry; its officer's acknowledgement is a signed ``acknowledged`` entry, sent back
the same way. No node holds another party's private key.

The common record of two nodes is two signed hash chains, one per author node (the
chain of :mod:`deconfliction.hotline.record`: seq from 1, ``prev_hash``, hash and
Ed25519 signature per entry). Both nodes hold both chains; an entry is taken only
as the next one of its chain, so both hold the same entries in the same order, and
the record is shown merged by (time, author, seq), the same on both.

Every link interval each node fetches its peer's signed checkpoint (for each chain:
the last seq and the head hash the peer holds, the hashes recomputed from the
stored entries) and compares it with its own record. A node that finds a chain
differing (an entry changed, dropped, or signed twice with other contents) fetches
the peer's copy of that chain, names the first entry that differs, keeps both
versions and the signed checkpoint as evidence (``federation_equivocations``) and
raises an ``equivocation`` event on its party's stream.

Notices of operation: an operation filed on a node sends its notice to every other
party of the agreement on that node's own hotline (``service/planning_notices.py``),
with the facts the sharing level lets that party see (below ``plans`` only what the
protocol's ``notice_discloses`` names). Every link round :func:`forward_notices`
writes each such notice addressed to a peer's party, not written yet, as this node's
next signed ``sent`` entry of the record with that peer (kind
``notice_of_operation``, the same facts, the operation's id, the receipt's deadline),
under an id made from the notice's own (:func:`notice_message_id`), so it is written
once; the outbox takes it there in order, through link cuts, like any message.
When the peer's node delivers it and its officer acknowledges it there, the signed
answers coming back set the notice's receipt on the filer's node
(:func:`_settle_notice`), so the operation is accepted as on one server.

Deadlines: a message not acknowledged by its deadline is ``overdue`` when the
addressee's node had it (delivered), ``undelivered`` when it never got there (the
link was down): it was not ignored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, insert, select, text, update

from deconfliction.errors import (
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    Problem,
)
from deconfliction.federation import certs, outbox
from deconfliction.hotline import record, templates
from deconfliction.service import events, protocols
from deconfliction.service.auth import Principal
from deconfliction.service.keys import KeyRing
from deconfliction.store.tables import (
    federation_equivocations,
    federation_record,
    hotline_messages,
    hotline_receipts,
    operation_notices,
)

if TYPE_CHECKING:
    from deconfliction.federation.link import Federation
    from deconfliction.federation.node_dir import Node

log = logging.getLogger(__name__)

ENTRY_KIND: str = "hotline_entry"  # the outbox kind of an entry for the peer
CHECKPOINT_FORMAT: str = "deconfliction.federation.checkpoint/1"
MAX_TEXT_CHARS: int = 8000
MESSAGE_ID_BYTES: int = 8  # 64 random bits: ids never collide between nodes
PRIORITIES: tuple[str, ...] = ("routine", "urgent", "flash")
# Without a protocol in effect: the defaults of a protocol's [hotline].
DEFAULT_DEADLINE_S: dict[str, float] = {
    "routine": 3600.0,
    "urgent": 900.0,
    "flash": 300.0,
}
DIFFERS: str = "differs"  # receive(): another entry with that seq is held
EVENT_SENT: str = "sent"
EVENT_DELIVERED: str = "delivered"
EVENT_ACKNOWLEDGED: str = "acknowledged"
FREE_TEXT: str = "free_text"  # the kind of a message an officer writes
NOTICE_OF_OPERATION: str = "notice_of_operation"
MAX_NOTICES_PER_ROUND: int = 100


# --- the chains ---------------------------------------------------------------------


def _entry(row: Any) -> record.LogEntry:
    return record.LogEntry(
        seq=int(row.seq),
        t_s=float(row.t_s),
        event=row.event,
        signer=row.author,
        body=json.loads(row.body_json),
        prev_hash=row.prev_hash,
        hash=row.hash,
        signature=row.signature,
    )


def chain(conn: Connection, peer: str, author: str) -> list[record.LogEntry]:
    """The entries of ``author``'s chain in the record held with ``peer``, by seq."""
    rows = conn.execute(
        select(federation_record)
        .where(federation_record.c.peer == peer, federation_record.c.author == author)
        .order_by(federation_record.c.seq)
    ).all()
    return [_entry(r) for r in rows]


def entries(conn: Connection, peer: str) -> list[record.LogEntry]:
    """The common record with ``peer``: both chains merged by (time, author, seq),
    the same order on both nodes."""
    rows = conn.execute(
        select(federation_record)
        .where(federation_record.c.peer == peer)
        .order_by(
            federation_record.c.t_s,
            federation_record.c.author,
            federation_record.c.seq,
        )
    ).all()
    return [_entry(r) for r in rows]


def recomputed_hashes(items: list[record.LogEntry]) -> list[str]:
    """The hash of each entry of a chain recomputed from what is stored (content
    and the recomputed hash before it), so that any stored change shows.

    >>> recomputed_hashes([])
    []
    """
    out: list[str] = []
    previous = record.GENESIS_HASH
    for entry in items:
        previous = record.entry_digest(
            entry.seq, entry.t_s, entry.event, entry.signer, entry.body, previous
        )
        out.append(previous)
    return out


def _insert(conn: Connection, peer: str, entry: record.LogEntry) -> None:
    conn.execute(
        insert(federation_record).values(
            peer=peer,
            author=entry.signer,
            seq=entry.seq,
            t_s=entry.t_s,
            event=entry.event,
            body_json=record.canonical_json(entry.body).decode("utf-8"),
            prev_hash=entry.prev_hash,
            hash=entry.hash,
            signature=entry.signature,
        )
    )


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE federation_record IN EXCLUSIVE MODE"))


def _append(
    conn: Connection,
    fed: Federation,
    peer: str,
    event: str,
    body: dict[str, Any],
    now_t_s: float,
) -> record.LogEntry:
    """Sign and keep this node's next entry of the record with ``peer``, and queue
    it for the peer (same transaction)."""
    _lock(conn)
    me = fed.node.party
    mine = chain(conn, peer, me)
    key = KeyRing(fed.node.keys_dir).private_key(conn, me, now_t_s)
    t_s = max(now_t_s, mine[-1].t_s if mine else now_t_s)
    entry = record.make_entry(mine[-1] if mine else None, t_s, event, me, body, key)
    _insert(conn, peer, entry)
    outbox.enqueue(conn, peer, ENTRY_KIND, entry.as_json(), now_t_s)
    return entry


def _peer_key(fed: Federation, peer: str) -> Ed25519PublicKey:
    pem = fed.peers.pem(peer)
    if pem is None:
        raise ConflictError(f"the node of {peer!r} is not pinned yet")
    return certs.identity(pem, peer).signing_key


def public_keys(fed: Federation) -> dict[str, Ed25519PublicKey]:
    """The signing keys of this node and of every pinned peer, by party."""
    keys = {fed.node.party: certs.identity(fed.node.certificate()).signing_key}
    for party in fed.peers.parties():
        pem = fed.peers.pem(party)
        if pem is not None:
            keys[party] = certs.identity(pem, party).signing_key
    return keys


# --- messages -----------------------------------------------------------------------


def _deadline_s(conn: Connection, priority: str) -> float:
    version = protocols.in_effect(conn)
    if version is None:
        return DEFAULT_DEADLINE_S[priority]
    return float(
        version.protocol.hotline.ack_deadline_s.get(
            priority, DEFAULT_DEADLINE_S[priority]
        )
    )


def send(
    conn: Connection,
    fed: Federation,
    who: Principal,
    to: str,
    message_text: str,
    priority: str,
    now_t_s: float,
) -> dict[str, Any]:
    """Write, sign and queue a message to ``to``'s node.

    Raises:
        ForbiddenError: an observer, or a token of another party.
        InputError: an unknown peer, priority or an empty or too long text.
    """
    if not who.can_write or who.party_id != fed.node.party:
        raise ForbiddenError("only an officer of this node's party sends messages")
    problems = []
    if to not in fed.peers.parties() or to == fed.node.party:
        problems.append(Problem("message", None, "to", f"{to!r} is not a peer node"))
    if priority not in PRIORITIES:
        problems.append(
            Problem("message", None, "priority", f"one of {', '.join(PRIORITIES)}")
        )
    if not message_text.strip() or len(message_text) > MAX_TEXT_CHARS:
        problems.append(
            Problem("message", None, "text", f"1 to {MAX_TEXT_CHARS} characters")
        )
    if problems:
        raise InputError(problems)
    body = {
        "message_id": secrets.token_hex(MESSAGE_ID_BYTES),
        "from": fed.node.party,
        "to": to,
        "priority": priority,
        "text": message_text,
        "deadline_t_s": now_t_s + _deadline_s(conn, priority),
    }
    entry = _append(conn, fed, to, EVENT_SENT, body, now_t_s)
    return _message_view(entry, None, None, now_t_s)


def notice_message_id(party: str, local_id: int) -> str:
    """The id between nodes of the notice ``local_id`` of ``party``'s node: the
    same every round (written once), not guessable as another node's.

    >>> notice_message_id("coalition", 7) == notice_message_id("coalition", 7)
    True
    >>> len(notice_message_id("coalition", 7))
    16
    """
    digest = hashlib.sha256(f"{party}/notice/{local_id}".encode())
    return digest.hexdigest()[: 2 * MESSAGE_ID_BYTES]


def forward_notices(conn: Connection, fed: Federation, now_t_s: float) -> int:
    """Write, sign and queue for each peer the notices of operation this node's
    party sent to the peer's party and not written to their record yet (oldest
    first, at most :data:`MAX_NOTICES_PER_ROUND`); returns how many."""
    me = fed.node.party
    peers = [p for p in fed.peers.parties() if p != me]
    if not peers:
        return 0
    rows = conn.execute(
        select(
            hotline_messages,
            operation_notices.c.party_id.label("to_party"),
            hotline_receipts.c.deadline_t_s.label("deadline_t_s"),
        )
        .join(
            operation_notices, operation_notices.c.message_id == hotline_messages.c.id
        )
        .join(
            hotline_receipts,
            (hotline_receipts.c.message_id == hotline_messages.c.id)
            & (hotline_receipts.c.party_id == operation_notices.c.party_id),
        )
        .where(
            hotline_messages.c.sender_party == me,
            operation_notices.c.party_id.in_(peers),
        )
        .order_by(hotline_messages.c.sent_t_s, hotline_messages.c.id)
    ).all()
    if not rows:
        return 0
    _lock(conn)
    written = {
        peer: {
            str(e.body.get("message_id"))
            for e in chain(conn, peer, me)
            if e.event == EVENT_SENT and e.body.get("kind") == NOTICE_OF_OPERATION
        }
        for peer in {r.to_party for r in rows}
    }
    done = 0
    for row in rows:
        message_id = notice_message_id(me, int(row.id))
        if message_id in written[row.to_party] or done >= MAX_NOTICES_PER_ROUND:
            continue
        facts = json.loads(row.facts_json)
        body = {
            "message_id": message_id,
            "from": me,
            "to": row.to_party,
            "priority": row.priority,
            "text": templates.render(row.kind, facts, row.lang).body,
            "deadline_t_s": float(row.deadline_t_s),
            "kind": NOTICE_OF_OPERATION,
            "operation_id": row.operation_id,
            "facts": facts,
            "lang": row.lang,
            "notice_id": int(row.id),
        }
        _append(conn, fed, row.to_party, EVENT_SENT, body, now_t_s)
        written[row.to_party].add(message_id)
        done += 1
    return done


def _find_sent(
    conn: Connection, fed: Federation, message_id: str
) -> tuple[str, record.LogEntry] | None:
    for peer in fed.peers.parties():
        for author in (peer, fed.node.party):
            for entry in chain(conn, peer, author):
                if (
                    entry.event == EVENT_SENT
                    and entry.body.get("message_id") == message_id
                ):
                    return peer, entry
    return None


def acknowledge(
    conn: Connection, fed: Federation, who: Principal, message_id: str, now_t_s: float
) -> dict[str, Any]:
    """The addressee's officer acknowledges a message (once; again changes nothing).

    Raises:
        ForbiddenError: an observer or another party's token.
        NotFoundError: no such message addressed to this node's party.
    """
    if not who.can_write or who.party_id != fed.node.party:
        raise ForbiddenError("only an officer of this node's party acknowledges")
    _lock(conn)
    found = _find_sent(conn, fed, message_id)
    if found is None or found[1].body.get("to") != fed.node.party:
        raise NotFoundError(f"no message {message_id!r} to {fed.node.party!r}")
    peer, sent = found
    if _answer(conn, peer, fed.node.party, EVENT_ACKNOWLEDGED, message_id) is None:
        _append(
            conn,
            fed,
            peer,
            EVENT_ACKNOWLEDGED,
            {"message_id": message_id, "sent_hash": sent.hash},
            now_t_s,
        )
    return _view_of(conn, peer, sent, now_t_s)


def _answer(
    conn: Connection, peer: str, author: str, event: str, message_id: str
) -> record.LogEntry | None:
    return next(
        (
            e
            for e in chain(conn, peer, author)
            if e.event == event and e.body.get("message_id") == message_id
        ),
        None,
    )


def _message_view(
    sent: record.LogEntry,
    delivered: record.LogEntry | None,
    acknowledged: record.LogEntry | None,
    now_t_s: float,
) -> dict[str, Any]:
    deadline_t_s = float(sent.body["deadline_t_s"])
    due = now_t_s >= deadline_t_s
    if acknowledged is not None:
        status = "acknowledged"
    elif delivered is None:
        status = "undelivered" if due else "queued"
    else:
        status = "overdue" if due and delivered.t_s <= deadline_t_s else "delivered"
    missed = None
    if delivered is None or delivered.t_s > deadline_t_s:
        missed = "undelivered" if due or delivered is not None else None
    elif (acknowledged is None and due) or (
        acknowledged is not None and acknowledged.t_s > deadline_t_s
    ):
        missed = "unacknowledged"
    return {
        "message_id": sent.body["message_id"],
        "from": sent.body["from"],
        "to": sent.body["to"],
        "priority": sent.body["priority"],
        "text": sent.body["text"],
        "sent_t_s": sent.t_s,
        "deadline_t_s": deadline_t_s,
        "delivered_t_s": None if delivered is None else delivered.t_s,
        "acknowledged_t_s": None if acknowledged is None else acknowledged.t_s,
        "status": status,
        "deadline_missed": missed,
        "kind": sent.body.get("kind", FREE_TEXT),
        **(
            {
                "operation_id": sent.body.get("operation_id"),
                "facts": sent.body.get("facts"),
                "lang": sent.body.get("lang"),
            }
            if sent.body.get("kind") == NOTICE_OF_OPERATION
            else {}
        ),
        "entry": {"author": sent.signer, "seq": sent.seq, "hash": sent.hash},
    }


def _view_of(
    conn: Connection, peer: str, sent: record.LogEntry, now_t_s: float
) -> dict[str, Any]:
    addressee = sent.body["to"]
    message_id = sent.body["message_id"]
    return _message_view(
        sent,
        _answer(conn, peer, addressee, EVENT_DELIVERED, message_id),
        _answer(conn, peer, addressee, EVENT_ACKNOWLEDGED, message_id),
        now_t_s,
    )


def messages(conn: Connection, fed: Federation, now_t_s: float) -> list[dict[str, Any]]:
    """Every message between this node and its peers, oldest first, with its
    status (``queued``, ``delivered``, ``acknowledged``, ``overdue``: delivered
    in time and not acknowledged by its deadline, ``undelivered``: its deadline
    passed before it reached the addressee's node) and ``deadline_missed``:
    ``undelivered`` (it was not on the addressee's node by its deadline: the link,
    not the addressee), ``unacknowledged``, or None."""
    out = []
    for entry_ in _all_entries(conn):
        peer, entry = entry_
        if entry.event == EVENT_SENT:
            out.append(_view_of(conn, peer, entry, now_t_s))
    return sorted(out, key=lambda m: (m["sent_t_s"], m["message_id"]))


def _all_entries(conn: Connection) -> list[tuple[str, record.LogEntry]]:
    rows = conn.execute(
        select(federation_record).order_by(
            federation_record.c.t_s, federation_record.c.author, federation_record.c.seq
        )
    ).all()
    return [(r.peer, _entry(r)) for r in rows]


# --- what a peer sends --------------------------------------------------------------


def receive(
    conn: Connection, fed: Federation, peer: str, data: Any, now_t_s: float
) -> str:
    """Keep an entry the peer's node made (``taken`` or ``duplicate``); a ``sent``
    entry addressed here is answered by this node's signed ``delivered`` entry.
    Another entry with the seq of one held is kept as evidence of equivocation
    (:data:`DIFFERS`), not taken.

    Raises:
        ForbiddenError: the entry is not signed by the peer that sent it.
        InputError: malformed, or its hash or signature does not verify.
        ConflictError: not the next entry of the peer's chain (a gap: sent again
            later).
    """
    entry = record.LogEntry.from_json(data, source="hotline entry")
    if entry.signer != peer:
        raise ForbiddenError(f"the node of {peer!r} sends only its own entries")
    report = record.verify_chain(
        [entry], {peer: _peer_key(fed, peer)}, anchor_prev_hash=entry.prev_hash
    )
    if not report.ok:
        raise InputError(
            [Problem("hotline entry", None, str(entry.seq), report.reason or "")]
        )
    _lock(conn)
    held = chain(conn, peer, peer)
    if entry.seq <= len(held):
        ours = held[entry.seq - 1]
        if ours.hash == entry.hash:
            return "duplicate"
        _keep_evidence(
            conn,
            fed,
            peer,
            peer,
            entry.seq,
            "the peer signed two different entries with this seq",
            ours.as_json(),
            entry.as_json(),
            {"entry": entry.as_json()},
            now_t_s,
        )
        return DIFFERS
    expected_prev = held[-1].hash if held else record.GENESIS_HASH
    if entry.seq != len(held) + 1 or entry.prev_hash != expected_prev:
        raise ConflictError(
            f"entry {entry.seq} of {peer!r} is not the next one "
            f"(held up to {len(held)})"
        )
    _insert(conn, peer, entry)
    me = fed.node.party
    if entry.event == EVENT_SENT and entry.body.get("to") == me:
        _append(
            conn,
            fed,
            peer,
            EVENT_DELIVERED,
            {"message_id": entry.body.get("message_id"), "sent_hash": entry.hash},
            now_t_s,
        )
    if entry.event in (EVENT_SENT, EVENT_DELIVERED, EVENT_ACKNOWLEDGED):
        sent = (
            entry
            if entry.event == EVENT_SENT
            else _find_sent_in(conn, fed, peer, str(entry.body.get("message_id")))
        )
        if sent is not None and entry.event != EVENT_SENT:
            _settle_notice(conn, peer, sent, entry)
        view = None if sent is None else _view_of(conn, peer, sent, now_t_s)
        events.publish(conn, f"federation.hotline.{entry.event}", {me: view}, now_t_s)
    return "taken"


def _settle_notice(
    conn: Connection, peer: str, sent: record.LogEntry, answer: record.LogEntry
) -> None:
    """The peer's node delivered or its officer acknowledged a notice of operation
    this node sent: the notice's receipt here says so (the planning tick then
    accepts the operation once every notice of its version is acknowledged)."""
    if (
        sent.signer == peer
        or sent.body.get("kind") != NOTICE_OF_OPERATION
        or sent.body.get("to") != peer
        or not isinstance(sent.body.get("notice_id"), int)
    ):
        return
    mine = (hotline_receipts.c.message_id == int(sent.body["notice_id"])) & (
        hotline_receipts.c.party_id == peer
    )
    if answer.event == EVENT_DELIVERED:
        conn.execute(
            update(hotline_receipts)
            .where(mine, hotline_receipts.c.delivered_t_s.is_(None))
            .values(delivered_t_s=answer.t_s)
        )
    elif answer.event == EVENT_ACKNOWLEDGED:
        conn.execute(
            update(hotline_receipts)
            .where(mine, hotline_receipts.c.acknowledged_t_s.is_(None))
            .values(
                acknowledged_t_s=answer.t_s,
                acknowledged_by=f"{peer} (its node)",
                delivered_t_s=func.coalesce(
                    hotline_receipts.c.delivered_t_s, answer.t_s
                ),
            )
        )


def _find_sent_in(
    conn: Connection, fed: Federation, peer: str, message_id: str
) -> record.LogEntry | None:
    for author in (peer, fed.node.party):
        for entry in chain(conn, peer, author):
            if entry.event == EVENT_SENT and entry.body.get("message_id") == message_id:
                return entry
    return None


# --- checkpoints --------------------------------------------------------------------


def _sign(fed: Federation, conn: Connection, body: dict[str, Any], now: float) -> str:
    key = KeyRing(fed.node.keys_dir).private_key(conn, fed.node.party, now)
    return base64.b64encode(key.sign(record.canonical_json(body))).decode("ascii")


def checkpoint(
    conn: Connection, fed: Federation, peer: str, now_t_s: float
) -> dict[str, Any]:
    """This node's signed checkpoint of its record with ``peer``: for each chain
    the last seq it holds and the head hash recomputed from what is stored."""
    chains = {}
    for author in sorted({fed.node.party, peer}):
        hashes = recomputed_hashes(chain(conn, peer, author))
        chains[author] = {
            "seq": len(hashes),
            "hash": hashes[-1] if hashes else record.GENESIS_HASH,
        }
    body = {
        "format": CHECKPOINT_FORMAT,
        "node": fed.node.party,
        "peer": peer,
        "t_s": now_t_s,
        "chains": chains,
    }
    return {**body, "signature": _sign(fed, conn, body, now_t_s)}


def checkpoint_signed(key: Ed25519PublicKey, data: dict[str, Any]) -> bool:
    """Whether a checkpoint's signature verifies with ``key``."""
    body = {k: v for k, v in data.items() if k != "signature"}
    try:
        key.verify(
            base64.b64decode(str(data.get("signature", "")), validate=True),
            record.canonical_json(body),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class Difference:
    """A chain on which a peer's checkpoint disagrees with this node's record."""

    author: str
    reason: str


def differences(
    me: str, peer: str, theirs: dict[str, Any], ours: dict[str, list[str]]
) -> list[Difference]:
    """Chains on which the peer's checkpoint ``theirs`` is inconsistent with the
    recomputed hashes ``ours`` (by author). A chain the peer holds less of than
    this node is consistent when it is this node's own (not delivered yet); one it
    holds more of is consistent when it is the peer's own (not received yet).

    >>> differences("a", "b", {"chains": {"a": {"seq": 1, "hash": "x"},
    ...     "b": {"seq": 0, "hash": "0" * 64}}}, {"a": ["x", "y"], "b": []})
    []
    >>> differences("a", "b", {"chains": {"a": {"seq": 1, "hash": "z"},
    ...     "b": {"seq": 0, "hash": "0" * 64}}}, {"a": ["x"], "b": []})[0].reason
    'entry hashes differ up to entry 1'
    """
    out = []
    for author in (me, peer):
        claim = theirs.get("chains", {}).get(author, {})
        seq, head = int(claim.get("seq", 0)), str(claim.get("hash", ""))
        held = ours.get(author, [])
        if seq > len(held):
            if author == me:
                out.append(
                    Difference(
                        author, f"the peer holds {seq} entries, this node {len(held)}"
                    )
                )
            continue
        if seq < len(held) and author == peer:
            out.append(
                Difference(
                    author,
                    f"the peer shows {seq} of its entries, this node holds {len(held)}",
                )
            )
            continue
        if seq >= 1 and held[seq - 1] != head:
            out.append(Difference(author, f"entry hashes differ up to entry {seq}"))
    return out


def _keep_evidence(
    conn: Connection,
    fed: Federation,
    peer: str,
    author: str,
    seq: int,
    reason: str,
    ours: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    signed: dict[str, Any],
    now_t_s: float,
) -> bool:
    """Keep an equivocation (once per entry) and raise its event; True if new."""
    exists = conn.execute(
        select(federation_equivocations.c.id).where(
            federation_equivocations.c.peer == peer,
            federation_equivocations.c.author == author,
            federation_equivocations.c.seq == seq,
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(
        insert(federation_equivocations).values(
            peer=peer,
            author=author,
            seq=seq,
            detected_t_s=now_t_s,
            reason=reason,
            ours_json=None if ours is None else json.dumps(ours, sort_keys=True),
            theirs_json=None if theirs is None else json.dumps(theirs, sort_keys=True),
            checkpoint_json=json.dumps(signed, sort_keys=True),
        )
    )
    log.warning(
        "equivocation: entry %d of %s's chain with %s differs: %s",
        seq,
        author,
        peer,
        reason,
    )
    events.publish(
        conn,
        "equivocation",
        {
            fed.node.party: {
                "peer": peer,
                "author": author,
                "seq": seq,
                "reason": reason,
                "detected_t_s": now_t_s,
            }
        },
        now_t_s,
    )
    return True


def first_difference(
    ours: list[record.LogEntry], theirs: list[record.LogEntry]
) -> int | None:
    """The seq of the first entry that differs between two copies of a chain
    (content, hash or signature; one missing counts), None if none does."""
    for index in range(max(len(ours), len(theirs))):
        a = ours[index].as_json() if index < len(ours) else None
        b = theirs[index].as_json() if index < len(theirs) else None
        if a != b:
            return index + 1
    return None


def equivocations(conn: Connection) -> list[dict[str, Any]]:
    """Every equivocation this node found, with both versions kept."""
    rows = conn.execute(
        select(federation_equivocations).order_by(federation_equivocations.c.id)
    ).all()
    return [
        {
            "peer": r.peer,
            "author": r.author,
            "seq": r.seq,
            "detected_t_s": r.detected_t_s,
            "reason": r.reason,
            "ours": None if r.ours_json is None else json.loads(r.ours_json),
            "theirs": None if r.theirs_json is None else json.loads(r.theirs_json),
            "checkpoint": json.loads(r.checkpoint_json),
        }
        for r in rows
    ]


def check_peer(fed: Federation, peer: str) -> int:
    """Fetch the peer's signed checkpoint, compare it with this node's record and
    keep evidence of each chain that differs; returns how many new ones.

    Raises:
        httpx.HTTPError: the peer could not be reached.
    """
    answer = fed.request(peer, "GET", "/v1/federation/hotline/checkpoint")
    if answer.status_code != 200:
        return 0
    signed = answer.json()
    me = fed.node.party
    if (
        not isinstance(signed, dict)
        or signed.get("node") != peer
        or signed.get("peer") != me
        or not checkpoint_signed(_peer_key(fed, peer), signed)
    ):
        log.warning("the checkpoint of %s is not signed by its node: ignored", peer)
        return 0
    with fed.engine.connect() as conn:
        held = {a: chain(conn, peer, a) for a in (me, peer)}
    found = differences(
        me, peer, signed, {a: recomputed_hashes(c) for a, c in held.items()}
    )
    new = 0
    now = fed.clock.now_t_s()
    for difference in found:
        got = fed.request(
            peer, "GET", f"/v1/federation/hotline/chains/{difference.author}"
        )
        theirs = (
            [record.LogEntry.from_json(e) for e in got.json()]
            if got.status_code == 200
            else []
        )
        ours = held[difference.author]
        seq = first_difference(ours, theirs)
        if seq is None:  # it changed between the checkpoint and the fetch
            continue
        with fed.engine.begin() as conn:
            new += _keep_evidence(
                conn,
                fed,
                peer,
                difference.author,
                seq,
                difference.reason,
                ours[seq - 1].as_json() if seq <= len(ours) else None,
                theirs[seq - 1].as_json() if seq <= len(theirs) else None,
                signed,
                now,
            )
    if new:
        fed.changed()
    return new


# --- hotline verify --node ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeAudit:
    """What ``hotline verify --node`` found in a node's store.

    Attributes:
        chains: each chain checked: (peer, author, report).
        equivocations: those this node found against its peers.
    """

    chains: list[tuple[str, str, record.ChainReport]]
    equivocations: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """Every chain verifies and no equivocation was found."""
        return not self.equivocations and all(r.ok for _, _, r in self.chains)


def audit(conn: Connection, node: Node) -> NodeAudit:
    """Verify every chain of the node's common records with the signing key of
    its author's certificate (the node's own, or the pinned peer's), and gather
    the equivocations the node found."""
    from deconfliction.federation import node_dir

    keys = {node.party: certs.identity(node.certificate()).signing_key}
    for party, pem in node_dir.pinned_peers(node).items():
        keys[party] = certs.identity(pem, party).signing_key
    pairs = conn.execute(
        select(federation_record.c.peer, federation_record.c.author)
        .distinct()
        .order_by(federation_record.c.peer, federation_record.c.author)
    ).all()
    chains = [
        (peer, author, record.verify_chain(chain(conn, peer, author), keys))
        for peer, author in pairs
    ]
    return NodeAudit(chains, equivocations(conn))
