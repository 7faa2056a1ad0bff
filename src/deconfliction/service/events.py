"""The event log behind the live stream: one row per event and audience party.

Every event is written, already reduced to what its party may see, inside the same
transaction as the change it reports. Ids only grow, so a client that reconnects with
the last id it processed gets everything after it exactly once. On PostgreSQL the
writers take a lock on the table first, so that ids commit in the order they were
drawn and a reader never sees id 11 before id 10 is visible; SQLite has one writer
at a time anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from deconfliction.store.tables import events

MAX_FETCH: int = 500  # events handed out per read; the stream reads again at once
MAX_FETCH_BYTES: int = 1_048_576  # and their JSON, so that a client's read is bounded


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event as one party sees it."""

    id: int
    type: str
    created_t_s: float
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "id": self.id,
            "type": self.type,
            "t_s": self.created_t_s,
            "data": self.data,
        }


def publish(
    conn: Connection,
    event_type: str,
    per_party: Mapping[str, dict[str, Any] | None],
    now_t_s: float,
) -> None:
    """Append an event for each party whose view is not None."""
    rows = [
        {
            "party_id": party_id,
            "type": event_type,
            "payload_json": json.dumps(payload, separators=(",", ":"), sort_keys=True),
            "created_t_s": now_t_s,
        }
        for party_id, payload in sorted(per_party.items())
        if payload is not None
    ]
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE"))
    conn.execute(insert(events), rows)


def fetch(
    conn: Connection,
    party_id: str,
    after_id: int,
    limit: int = MAX_FETCH,
    max_bytes: int = MAX_FETCH_BYTES,
) -> list[StreamEvent]:
    """The party's events with ids above ``after_id``, oldest first: at most
    ``limit`` of them and, but for the first, ``max_bytes`` of JSON (the sizes are
    read first, so a reader never holds more than that of payloads)."""
    mine = (events.c.party_id == party_id, events.c.id > after_id)
    sizes = conn.execute(
        select(events.c.id, func.length(events.c.payload_json))
        .where(*mine)
        .order_by(events.c.id)
        .limit(limit)
    ).all()
    if not sizes:
        return []
    total, upto = 0, int(sizes[0][0])
    for event_id, size in sizes:
        total += int(size or 0)
        if total > max_bytes and event_id != sizes[0][0]:
            break
        upto = int(event_id)
    rows = conn.execute(
        select(events.c.id, events.c.type, events.c.created_t_s, events.c.payload_json)
        .where(*mine, events.c.id <= upto)
        .order_by(events.c.id)
    ).all()
    return [
        StreamEvent(
            id=int(r.id),
            type=r.type,
            created_t_s=r.created_t_s,
            data=json.loads(r.payload_json),
        )
        for r in rows
    ]
