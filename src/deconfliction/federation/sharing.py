"""Sharing enforced by the sender (issue 16, item 3): a node's own tracks to peers.

Under ``full`` and ``plans`` a node sends the positions of its own party's aircraft
to the peers the protocol names; nothing else sends them (under ``zones`` and
``conflicts`` no position leaves the node this way). The receiving node stores them
as the sender's party's positions and runs its live detection over its own and the
received aircraft, so its officers get the alerts of their own aircraft; what they
may see of the peer's tracks is still decided by disclosure on that node (``plans``:
the alerts, reduced, not the tracks).

How they go: every link round, the positions of this node's party stored since the
last round are queued in the durable outbox (:mod:`.outbox`) as ranges of their
ids, :data:`BATCH_POSITIONS` at most per item, in the order they were stored. When
an item is sent (:meth:`.link.Federation.send_queued`) the range is read back and
filtered by the sharing in effect *then*, as it applies to each position's time
(:meth:`Sharing.as_recorded`: the lesser of the level when it was recorded and
now), so a level lowered between queuing and sending holds back what it no longer
shares. The outbox is the cursor: nothing else remembers what was sent, and a node
killed between queuing and sending sends the same range again when it comes back.
The receiver takes a batch once (``batch_id`` names the range), as any track batch.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Connection, select

from deconfliction.domain.protocol import SharingLevel
from deconfliction.errors import ForbiddenError, InputError, Problem
from deconfliction.federation import outbox
from deconfliction.federation.link import Federation
from deconfliction.service import ingest, protocols
from deconfliction.service.auth import Principal, Role
from deconfliction.service.disclosure import Sharing
from deconfliction.store.tables import federation_outbox, positions

log = logging.getLogger(__name__)

POSITIONS: str = "positions"
PATH: str = "/v1/federation/positions"
# Positions per item (one request to the peer): about 120 bytes each in JSON, so
# an item stays far below the 2 MB body limit of a node (max_body_bytes).
BATCH_POSITIONS: int = 5_000
# Items queued per peer in one round: a node back from a long cut catches up over
# a few rounds instead of holding one transaction over its whole backlog.
MAX_ITEMS_PER_ROUND: int = 40
# The lowest level under which a node sends its tracks to its peers.
TRACKS_FROM: SharingLevel = SharingLevel.PLANS


def sends_tracks(sharing: Sharing, own: str, peer: str) -> bool:
    """Whether, under ``sharing``, ``own``'s tracks go to ``peer``'s node: the
    agreement binding the two (as recorded, when ``sharing`` is) is ``plans`` or
    more.

    >>> from deconfliction.service.disclosure import Sharing
    >>> ab = frozenset({"a", "b"})
    >>> sends_tracks(Sharing.one(SharingLevel.PLANS, ab), "a", "b")
    True
    >>> sends_tracks(Sharing.one(SharingLevel.CONFLICTS, ab), "a", "b")
    False
    >>> sends_tracks(Sharing.one(SharingLevel.FULL, frozenset({"a"})), "a", "b")
    False
    """
    if own == peer:
        return False
    level = sharing.between(peer, own)
    return level is not None and level.allows(TRACKS_FROM)


def require_sending(sharing: Sharing, peer: str, own: str, what: str) -> None:
    """Refuse what ``peer``'s node sends here (``what``: "tracks", "operations")
    unless ``sharing`` lets ``peer``'s tracks come to ``own``'s node.

    Raises:
        ForbiddenError: naming the level in effect between the two.
    """
    if not sends_tracks(sharing, peer, own):
        level = sharing.between(own, peer)
        raise ForbiddenError(
            f"the sharing in effect ({level.value if level else 'none'}) sends no "
            f"{what} between these nodes"
        )


def _queued_up_to(conn: Connection, peer: str) -> int:
    """The last position id queued for ``peer`` (0: none yet)."""
    body = conn.execute(
        select(federation_outbox.c.body_json)
        .where(
            federation_outbox.c.peer == peer,
            federation_outbox.c.kind == POSITIONS,
        )
        .order_by(federation_outbox.c.id.desc())
        .limit(1)
    ).scalar()
    if body is None:
        return 0
    return int(json.loads(body)["last_id"])


def queue_positions(conn: Connection, fed: Federation, now_t_s: float) -> int:
    """Queue, for every peer that may receive this node's tracks now, the ranges of
    its own positions stored since the last queued; returns the items queued.

    Under a level that does not send tracks nothing is queued for that peer: its
    cursor waits, and what was recorded meanwhile is filtered out when sent (it
    was not shared when recorded).
    """
    sharing = protocols.current_sharing(conn)
    own = fed.node.party
    queued = 0
    for peer in fed.peers.parties():
        if not sends_tracks(sharing, own, peer):
            continue
        after = _queued_up_to(conn, peer)
        for _ in range(MAX_ITEMS_PER_ROUND):
            ids = list(
                conn.execute(
                    select(positions.c.id)
                    .where(positions.c.party_id == own, positions.c.id > after)
                    .order_by(positions.c.id)
                    .limit(BATCH_POSITIONS)
                ).scalars()
            )
            if not ids:
                break
            body = {"first_id": int(ids[0]), "last_id": int(ids[-1])}
            outbox.enqueue(conn, peer, POSITIONS, body, now_t_s)
            queued += 1
            after = int(ids[-1])
    return queued


def expand(conn: Connection, fed: Federation, peer: str, item: outbox.Item) -> Any:
    """The body of a queued range as it goes to ``peer`` now: the positions of this
    node's party in it that the sharing in effect lets ``peer`` receive, each as
    shared when it was recorded (None: nothing of it may go)."""
    first_id = int(item.body["first_id"])
    last_id = int(item.body["last_id"])
    sharing = protocols.current_sharing(conn)
    if not sends_tracks(sharing, fed.node.party, peer):
        return None
    rows = conn.execute(
        select(positions)
        .where(
            positions.c.party_id == fed.node.party,
            positions.c.id >= first_id,
            positions.c.id <= last_id,
        )
        .order_by(positions.c.id)
    ).all()
    out = [
        ingest.stored_row(r)
        for r in rows
        if sends_tracks(sharing.as_recorded(r.t_s), fed.node.party, peer)
    ]
    if not out:
        return None
    return {
        "batch_id": f"federation:{fed.node.party}:{first_id}-{last_id}",
        "positions": out,
    }


def receive_positions(
    conn: Connection,
    own: str,
    peer: str,
    body: Any,
    now_t_s: float,
    future_tolerance_s: float,
) -> ingest.BatchResult:
    """A peer's positions of its own aircraft: stored as that party's, once per
    batch, if the sharing in effect lets the peer send its tracks here.

    Raises:
        ForbiddenError: the sharing in effect sends no tracks between nodes.
        InputError: the body is not a batch, or holds no valid position.
    """
    require_sending(protocols.current_sharing(conn), peer, own, "tracks")
    if not isinstance(body, dict) or not isinstance(body.get("positions"), list):
        raise InputError(
            [Problem("request", None, "positions", "expected {batch_id, positions}")]
        )
    batch_id = body.get("batch_id")
    if not isinstance(batch_id, str):
        raise InputError([Problem("request", None, "batch_id", "must be a str")])
    rows = [r if isinstance(r, dict) else {} for r in body["positions"]]
    # As the peer's officer would post them: rows naming another party refused.
    return ingest.ingest_under_protocol(
        conn,
        Principal(peer, Role.OFFICER),
        batch_id,
        rows,
        now_t_s,
        future_tolerance_s,
    )


def install(fed: Federation) -> None:
    """Wire the sending of tracks into the node's link rounds."""

    def before_send() -> None:
        with fed.engine.begin() as conn:
            queue_positions(conn, fed, fed.clock.now_t_s())

    def body_of(peer: str, item: outbox.Item) -> Any:
        with fed.engine.connect() as conn:
            return expand(conn, fed, peer, item)

    fed.before_send.append(before_send)
    fed.expanders[POSITIONS] = (PATH, body_of)
