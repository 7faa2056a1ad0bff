"""Operations between nodes (issue 16, item 6), under ``plans`` and ``full``.

An operation is filed on its filer's node (``POST /v1/operations``, checked there
against the operations that node holds). Under a sharing level that sends tracks
between the two nodes (``plans`` or more, :func:`.sharing.sends_tracks`) each
version of it also goes to the peer's node through the durable outbox: every link
round a node queues, for each such peer, the versions of its own party's operations
not queued yet (kind ``operation``: id and version); when an item goes out the
operation is read back as it is *then* (its newest version, its state) and sent only
if the sharing in effect still lets it go. The peer's node (``POST
/v1/federation/operations``, mutual TLS, same version) refuses it (403) unless the
sharing in effect there sends tracks from that peer, keeps it as that party's
operation (a version not newer than the one it holds changes nothing: the link may
send twice) and checks it against its own party's operations: each node thus
finds the conflicts between its party's operations and the peer's, and its officers
see them as on one server.

Under ``conflicts`` and ``zones`` nothing of an operation leaves its node yet but its
notice (below): the filer's node finds no conflict with the other party's operations
(docs/federation.md, "Not built yet").

At every level the notice of each version goes to the peers' nodes over the hotline
between nodes, with the facts the level allows (:func:`.hotline.forward_notices`,
run each round before the outbox is sent).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from deconfliction.adapters.operation_file import operation_from_json, operation_to_json
from deconfliction.domain.planning import OperationState
from deconfliction.errors import ForbiddenError, InputError, Problem
from deconfliction.federation import hotline, outbox
from deconfliction.federation.link import Federation
from deconfliction.federation.sharing import require_sending, sends_tracks
from deconfliction.service import planning, protocols
from deconfliction.store.tables import federation_outbox, operations

OPERATION: str = "operation"
PATH: str = "/v1/federation/operations"
MAX_ITEMS_PER_ROUND: int = 100


def _queued(conn: Connection, peer: str) -> set[tuple[str, int]]:
    """(id, version) of the operations already queued for ``peer``."""
    bodies = conn.execute(
        select(federation_outbox.c.body_json).where(
            federation_outbox.c.peer == peer, federation_outbox.c.kind == OPERATION
        )
    ).scalars()
    out = set()
    for body in bodies:
        data = json.loads(body)
        out.add((str(data["id"]), int(data["version"])))
    return out


def queue_operations(conn: Connection, fed: Federation, now_t_s: float) -> int:
    """Queue, for every peer that may receive this node's operations now, the
    versions of its own party's operations not queued for it yet (oldest change
    first); returns the items queued."""
    sharing = protocols.current_sharing(conn)
    own = fed.node.party
    rows = conn.execute(
        select(operations.c.id, operations.c.version)
        .where(operations.c.party_id == own)
        .order_by(operations.c.updated_t_s, operations.c.pk)
    ).all()
    queued = 0
    for peer in fed.peers.parties():
        if not sends_tracks(sharing, own, peer):
            continue
        done = _queued(conn, peer)
        for row in rows:
            if (row.id, int(row.version)) in done or queued >= MAX_ITEMS_PER_ROUND:
                continue
            body = {"id": row.id, "version": int(row.version)}
            outbox.enqueue(conn, peer, OPERATION, body, now_t_s)
            queued += 1
    return queued


def expand(conn: Connection, fed: Federation, peer: str, item: outbox.Item) -> Any:
    """The operation of a queued item as it goes to ``peer`` now (its newest
    version and state), or None when the sharing in effect no longer lets it go."""
    sharing = protocols.current_sharing(conn)
    if not sends_tracks(sharing, fed.node.party, peer):
        return None
    row = conn.execute(
        select(operations).where(
            operations.c.id == str(item.body["id"]),
            operations.c.party_id == fed.node.party,
        )
    ).first()
    if row is None:
        return None
    op = planning._load(row)
    return {"operation": operation_to_json(op), "state": row.state}


def receive_operation(
    conn: Connection, own: str, peer: str, body: Any, now_t_s: float
) -> dict[str, Any]:
    """A peer's operation of its own party: kept and checked against this node's
    operations, if the sharing in effect lets the peer send it here.

    Raises:
        ForbiddenError: the sharing in effect sends no operations between the
            nodes, the operation is another party's than the peer's, or its id is
            taken here by another party's.
        InputError: the body is not an operation.
    """
    require_sending(protocols.current_sharing(conn), peer, own, "operations")
    if not isinstance(body, dict) or not isinstance(body.get("operation"), dict):
        raise InputError(
            [Problem("request", None, "operation", "expected {operation, state}")]
        )
    op = operation_from_json(body["operation"], "request")
    if op.party != peer:
        raise ForbiddenError(f"node of {peer!r} cannot send {op.party!r}'s operation")
    try:
        state = OperationState(str(body.get("state")))
    except ValueError:
        raise InputError(
            [Problem("request", None, "state", f"not a state: {body.get('state')!r}")]
        ) from None
    kept = planning.keep_peer_operation(conn, op, state, now_t_s)
    return {"id": op.id, "version": op.version, "kept": kept}


def install(fed: Federation) -> None:
    """Wire the sending of operations, and of their notices over the hotline
    between nodes (:func:`.hotline.forward_notices`), into the node's link rounds."""

    def before_send() -> None:
        with fed.engine.begin() as conn:
            queue_operations(conn, fed, fed.clock.now_t_s())
        with fed.engine.begin() as conn:
            hotline.forward_notices(conn, fed, fed.clock.now_t_s())

    def body_of(peer: str, item: outbox.Item) -> Any:
        with fed.engine.connect() as conn:
            return expand(conn, fed, peer, item)

    fed.before_send.append(before_send)
    fed.expanders[OPERATION] = (PATH, body_of)
