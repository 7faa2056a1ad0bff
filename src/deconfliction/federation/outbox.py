"""The durable outbox of a node: what it has to send to each peer, in order.

An item is written in the same transaction as the change it reports (a version
proposed, accepted...), so a node that stops (or is killed) between the change and
the sending still sends it when it comes back. Items go to each peer in the order
they were queued; one that cannot be delivered holds back those after it (for that
peer only). Receivers are idempotent, so an item sent twice (the node stopped
after sending, before noting it) changes nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from deconfliction.store.engine import inserted_pk
from deconfliction.store.tables import federation_outbox

MAX_ERROR_CHARS: int = 500


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to send to one peer."""

    id: int
    peer: str
    kind: str
    body: dict[str, Any]
    created_t_s: float
    attempts: int


def enqueue(
    conn: Connection, peer: str, kind: str, body: dict[str, Any], now_t_s: float
) -> int:
    """Queue ``body`` for ``peer``; returns the item's id."""
    return int(
        inserted_pk(
            conn.execute(
                insert(federation_outbox).values(
                    peer=peer,
                    kind=kind,
                    body_json=json.dumps(body, separators=(",", ":")),
                    created_t_s=now_t_s,
                )
            )
        )
    )


def pending(conn: Connection, peer: str, limit: int = 100) -> list[Item]:
    """The peer's items not sent yet, oldest first."""
    rows = conn.execute(
        select(federation_outbox)
        .where(federation_outbox.c.peer == peer, federation_outbox.c.sent_t_s.is_(None))
        .order_by(federation_outbox.c.id)
        .limit(limit)
    ).all()
    return [
        Item(
            int(r.id),
            r.peer,
            r.kind,
            json.loads(r.body_json),
            r.created_t_s,
            int(r.attempts),
        )
        for r in rows
    ]


def mark_sent(
    conn: Connection, item_id: int, now_t_s: float, refused: str | None = None
) -> None:
    """The peer took the item (or refused it for good, saying why)."""
    conn.execute(
        update(federation_outbox)
        .where(federation_outbox.c.id == item_id)
        .values(
            sent_t_s=now_t_s,
            attempts=federation_outbox.c.attempts + 1,
            last_error=None if refused is None else refused[:MAX_ERROR_CHARS],
        )
    )


def mark_failed(conn: Connection, item_id: int, error: str) -> None:
    """A try that did not get through; the item stays queued."""
    conn.execute(
        update(federation_outbox)
        .where(federation_outbox.c.id == item_id)
        .values(
            attempts=federation_outbox.c.attempts + 1,
            last_error=error[:MAX_ERROR_CHARS],
        )
    )


def backlog(conn: Connection) -> dict[str, tuple[int, float]]:
    """By peer: how many items wait, and since when the oldest has."""
    rows = conn.execute(
        select(
            federation_outbox.c.peer,
            func.count(),
            func.min(federation_outbox.c.created_t_s),
        )
        .where(federation_outbox.c.sent_t_s.is_(None))
        .group_by(federation_outbox.c.peer)
    ).all()
    return {r[0]: (int(r[1]), float(r[2])) for r in rows}
