"""The event log behind the live stream: one row per event and audience party.

Every event is written, already reduced to what its party may see, inside the same
transaction as the change it reports. Each party's events are numbered on their own
(``seq``, the id a client sees): a gap in a party's numbers would count the events
of the others, the ones hidden from it included. Numbers only grow (the last one
given is kept in ``event_counters``, pruned events or not), so a client that
reconnects with the last id it processed gets everything after it exactly once. On
PostgreSQL the writers take a lock on the table first, so that numbers commit in the
order they were drawn and a reader never sees 11 before 10 is visible; SQLite has
one writer at a time anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from deconfliction.store.tables import event_counters, events

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
    publish_many(conn, [(event_type, per_party)], now_t_s)


def publish_many(
    conn: Connection,
    changes: Sequence[tuple[str, Mapping[str, dict[str, Any] | None]]],
    now_t_s: float,
) -> None:
    """:func:`publish` for each ``(event_type, per_party)`` in order, in one
    statement (ids follow that order)."""
    append_rows(conn, event_rows(changes, now_t_s))


def event_rows(
    changes: Sequence[tuple[str, Mapping[str, dict[str, Any] | None]]],
    now_t_s: float,
) -> list[dict[str, Any]]:
    """The rows :func:`publish_many` appends, made without touching the store (a
    caller holding the write lock makes them first)."""
    return [
        {
            "party_id": party_id,
            "type": event_type,
            "payload_json": json.dumps(payload, separators=(",", ":"), sort_keys=True),
            "created_t_s": now_t_s,
        }
        for event_type, per_party in changes
        for party_id, payload in sorted(per_party.items())
        if payload is not None
    ]


def append_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append rows made by :func:`event_rows`, in their order, each numbered in
    its party's sequence (one counter write per party)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE"))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["party_id"]] = counts.get(row["party_id"], 0) + 1
    next_seq = {
        party: _take_seqs(conn, party, n) - n + 1 for party, n in counts.items()
    }
    numbered = []
    for row in rows:
        party = row["party_id"]
        numbered.append({**row, "seq": next_seq[party]})
        next_seq[party] += 1
    conn.execute(insert(events), numbered)


def _take_seqs(conn: Connection, party_id: str, n: int) -> int:
    """Take the party's next ``n`` event numbers: one write that counts up by
    ``n`` (or starts at ``n``), so two writers never draw the same number. Returns
    the last of them."""
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        upsert(event_counters)
        .values(party_id=party_id, last_seq=n)
        .on_conflict_do_update(
            index_elements=[event_counters.c.party_id],
            set_={"last_seq": event_counters.c.last_seq + n},
        )
    )
    return int(
        conn.execute(
            select(event_counters.c.last_seq).where(
                event_counters.c.party_id == party_id
            )
        ).scalar_one()
    )


def fetch(
    conn: Connection,
    party_id: str,
    after_id: int,
    limit: int = MAX_FETCH,
    max_bytes: int = MAX_FETCH_BYTES,
) -> list[StreamEvent]:
    """The party's events numbered above ``after_id``, oldest first: at most
    ``limit`` of them and, but for the first, ``max_bytes`` of JSON (the sizes are
    read first, so a reader never holds more than that of payloads)."""
    mine = (events.c.party_id == party_id, events.c.seq > after_id)
    sizes = conn.execute(
        select(events.c.seq, func.length(events.c.payload_json))
        .where(*mine)
        .order_by(events.c.seq)
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
        select(events.c.seq, events.c.type, events.c.created_t_s, events.c.payload_json)
        .where(*mine, events.c.seq <= upto)
        .order_by(events.c.seq)
    ).all()
    return [
        StreamEvent(
            id=int(r.seq),
            type=r.type,
            created_t_s=r.created_t_s,
            data=json.loads(r.payload_json),
        )
        for r in rows
    ]
