"""Whether the hotline's tables say what its signed record says.

The API serves messages, receipts and suspensions from their tables
(``hotline_messages``, ``hotline_receipts``, ``hotline_suspensions``, and the missed
check-ins of ``hotline_checkins_missed``); the record is the hash chain in
``hotline_log``. Every column of those tables is implied by the entries of the chain:
:func:`expected_rows` replays the entries into the rows they imply, each value with
the seq of the entry that set it, and :func:`audit_store` compares them with the
tables. A text, a time, a party or a reference edited in a table directly (by whoever
can write to the database) then names the entry it contradicts; a row that no entry
made, or an acknowledgement whose entry was cut off the end, is named too.

Entries written before the ``sent`` entry carried ``alert_id``, ``operation_id`` and
``sender_label`` leave those three columns unchecked for their messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, Table, select

from deconfliction.hotline.record import LogEntry
from deconfliction.store.tables import (
    events,
    hotline_checkins_missed,
    hotline_messages,
    hotline_receipts,
    hotline_suspensions,
)

AUDITED_TABLES: Final[tuple[Table, ...]] = (
    hotline_messages,
    hotline_receipts,
    hotline_suspensions,
    hotline_checkins_missed,
)
JSON_COLUMNS: Final = frozenset({"facts_json"})  # compared as the JSON they hold
# What a hotline event on the stream shows of a message, and the column it is from.
STREAM_MESSAGE_FIELDS: Final = {
    "id": "id",
    "from": "sender_party",
    "from_label": "sender_label",
    "to": "recipient",
    "kind": "kind",
    "priority": "priority",
    "sent_t_s": "sent_t_s",
    "original_lang": "lang",
    "facts": "facts",
    "remarks": "remarks",
    "incident_id": "incident_id",
    "alert_id": "alert_id",
    "operation_id": "operation_id",
    "reply_to": "reply_to",
}
STREAM_SUSPENSION_FIELDS: Final = {
    "id": "id",
    "party": "party_id",
    "scope": "scope",
    "reason": "reason",
    "start_t_s": "start_t_s",
}

Key = tuple[Any, ...]
Row = dict[str, tuple[Any, int]]  # column -> (value, seq of the entry that set it)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A value of the store that the record does not support.

    Attributes:
        seq: the entry that sets the value the store contradicts (for a time the
            record does not have, such as an acknowledgement whose entry was cut
            off, the entry that left it empty); None for a row no entry made.
        table: the table.
        row: which row, in words (``message 3``, ``receipt of message 3 by b``).
        column: the column, None for a whole row.
        message: what differs.
    """

    seq: int | None
    table: str
    row: str
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.table + ("" if self.column is None else f".{self.column}")
        return f"{where} of {self.row}: {self.message}"


@dataclass
class _Replay:
    rows: dict[str, dict[Key, Row]] = field(
        default_factory=lambda: {t.name: {} for t in AUDITED_TABLES}
    )
    problems: list[Discrepancy] = field(default_factory=list)
    channel_suspended: set[int] = field(default_factory=set)


def _sent(state: _Replay, entry: LogEntry) -> None:
    body, seq = entry.body, entry.seq
    message_id = body["message_id"]
    templated = "rendered" in body
    row: Row = {
        "id": (message_id, seq),
        "sender_party": (body["from"], seq),
        "recipient": (body["to"], seq),
        "kind": (body["kind"], seq),
        "priority": (body["priority"], seq),
        "lang": (body["lang"], seq),
        "facts_json": (body["facts"], seq),
        "text": (body.get("remarks", "") if templated else body.get("text"), seq),
        "incident_id": (body.get("incident_id"), seq),
        "reply_to": (body.get("reply_to"), seq),
        "sent_t_s": (entry.t_s, seq),
    }
    for name in ("alert_id", "operation_id", "sender_label"):
        if name in body:
            row[name] = (body[name], seq)
    state.rows[hotline_messages.name][(message_id,)] = row
    for party in body["recipients"]:
        state.rows[hotline_receipts.name][(message_id, party)] = {
            "message_id": (message_id, seq),
            "party_id": (party, seq),
            "deadline_t_s": (body["deadline_t_s"], seq),
            "delivered_t_s": (None, seq),
            "acknowledged_t_s": (None, seq),
            "acknowledged_by": (None, seq),
            "escalated_t_s": (None, seq),
        }


def _receipt(state: _Replay, entry: LogEntry) -> Row | None:
    key = (entry.body.get("message_id"), entry.body.get("party"))
    receipt = state.rows[hotline_receipts.name].get(key)
    if receipt is None:
        state.problems.append(
            Discrepancy(
                entry.seq,
                hotline_receipts.name,
                f"message {key[0]} to {key[1]}",
                None,
                f"the entry is about a message not sent to {key[1]} on the record",
            )
        )
    return receipt


def _receipt_event(state: _Replay, entry: LogEntry) -> None:
    receipt = _receipt(state, entry)
    if receipt is None:
        return
    t_s, seq = entry.t_s, entry.seq
    if entry.event == "delivered":
        receipt["delivered_t_s"] = (t_s, seq)
    elif entry.event == "acknowledged":
        receipt["acknowledged_t_s"] = (t_s, seq)
        receipt["acknowledged_by"] = (entry.body.get("by"), seq)
        if receipt["delivered_t_s"][0] is None:
            receipt["delivered_t_s"] = (t_s, seq)
    else:
        receipt["escalated_t_s"] = (t_s, seq)


def _suspended(state: _Replay, entry: LogEntry) -> None:
    body = entry.body
    sid = body["suspension_id"]
    state.rows[hotline_suspensions.name][(sid,)] = {
        "id": (sid, entry.seq),
        "party_id": (body["party"], entry.seq),
        "scope": (body["scope"], entry.seq),
        "reason": (body.get("reason", ""), entry.seq),
        "start_t_s": (entry.t_s, entry.seq),
        "end_t_s": (None, entry.seq),
        "protocol_id": (body.get("protocol_id"), entry.seq),
    }
    if body["scope"] == "channel":
        state.channel_suspended.add(sid)


def _resumed(state: _Replay, entry: LogEntry) -> None:
    body = entry.body
    sid = body["suspension_id"]
    suspension = state.rows[hotline_suspensions.name].get((sid,))
    if suspension is None:
        state.problems.append(
            Discrepancy(
                entry.seq,
                hotline_suspensions.name,
                f"suspension {sid}",
                None,
                "resumed, but its suspension is not on the record",
            )
        )
        return
    suspension["end_t_s"] = (entry.t_s, entry.seq)
    state.channel_suspended.discard(sid)
    if "deadlines_moved_s" in body:
        moved_s = body["deadlines_moved_s"]
    elif body.get("scope") == "channel" and not state.channel_suspended:
        moved_s = entry.t_s - suspension["start_t_s"][0]  # entries before the field
    else:
        moved_s = None
    if moved_s is None:
        return
    receipts = state.rows[hotline_receipts.name]
    if "deadlines_moved_for" in body:  # those named (per agreement), else all open
        which = [receipts.get((m, p)) for m, p in body["deadlines_moved_for"]]
    else:
        which = list(receipts.values())
    for receipt in which:
        if (
            receipt is not None
            and receipt["acknowledged_t_s"][0] is None
            and receipt["escalated_t_s"][0] is None
        ):
            receipt["deadline_t_s"] = (receipt["deadline_t_s"][0] + moved_s, entry.seq)


def _checkin_missed(state: _Replay, entry: LogEntry) -> None:
    body = entry.body
    state.rows[hotline_checkins_missed.name][(body["party"], body["day"])] = {
        "party_id": (body["party"], entry.seq),
        "day": (body["day"], entry.seq),
        "t_s": (entry.t_s, entry.seq),
    }


_REPLAY = {
    "sent": _sent,
    "delivered": _receipt_event,
    "acknowledged": _receipt_event,
    "escalated": _receipt_event,
    "suspended": _suspended,
    "resumed": _resumed,
    "checkin_missed": _checkin_missed,
}


def expected_rows(
    entries: Iterable[LogEntry],
) -> tuple[dict[str, dict[Key, Row]], list[Discrepancy]]:
    """The rows the record implies, by table and key, each value with its entry.

    Returns:
        The rows, and the entries that contradict the record before them (an
        acknowledgement of a message never sent, a body without its facts).
    """
    state = _Replay()
    for entry in entries:
        step = _REPLAY.get(entry.event)
        if step is None:
            continue
        try:
            step(state, entry)
        except (KeyError, TypeError) as exc:
            state.problems.append(
                Discrepancy(
                    entry.seq,
                    "hotline_log",
                    f"entry {entry.seq}",
                    "body_json",
                    str(exc),
                )
            )
    return state.rows, state.problems


def _row_name(table: str, key: Key) -> str:
    if table == hotline_messages.name:
        return f"message {key[0]}"
    if table == hotline_receipts.name:
        return f"message {key[0]} to {key[1]}"
    if table == hotline_suspensions.name:
        return f"suspension {key[0]}"
    return f"the check-in of {key[0]} on {key[1]}"


def _same(column: str, expected: Any, stored: Any) -> bool:
    """Whether a stored or shown value is the recorded one."""
    if column in JSON_COLUMNS:
        try:
            stored = json.loads(stored)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, bool) or isinstance(stored, bool):
        return expected is stored
    return bool(expected == stored)


def compare_rows(
    table: str, expected: Mapping[Key, Row], stored: Mapping[Key, Mapping[str, Any]]
) -> list[Discrepancy]:
    """Every value of ``stored`` that ``expected`` does not support."""
    out: list[Discrepancy] = []
    for key, row in expected.items():
        have = stored.get(key)
        if have is None:
            first_seq = min(seq for _, seq in row.values())
            out.append(
                Discrepancy(
                    first_seq,
                    table,
                    _row_name(table, key),
                    None,
                    "on the record, missing from the store",
                )
            )
            continue
        for column, (value, seq) in row.items():
            if _same(column, value, have.get(column)):
                continue
            if value is None:
                message = f"{have.get(column)!r} in the store, none on the record"
            else:
                message = f"{have.get(column)!r} in the store, {value!r} on the record"
            out.append(Discrepancy(seq, table, _row_name(table, key), column, message))
    for key in stored.keys() - expected.keys():
        out.append(
            Discrepancy(
                None,
                table,
                _row_name(table, key),
                None,
                "in the store, not on the record",
            )
        )
    return out


def _key_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def stored_rows(conn: Connection, table: Table) -> dict[Key, dict[str, Any]]:
    """Every row of ``table`` by primary key."""
    keys = _key_columns(table)
    rows = conn.execute(select(table)).mappings().all()
    return {tuple(r[k] for k in keys): dict(r) for r in rows}


def _stream_message(
    message: Mapping[str, Any], expected: Mapping[Key, Row]
) -> list[tuple[str, Any, Any, int]]:
    """(field, shown, recorded, seq) for each field of a streamed message that
    differs from the record."""
    row = expected.get((message.get("id"),))
    if row is None:
        return [("id", message.get("id"), None, 0)]
    recorded = dict(row)
    recorded["facts"] = row["facts_json"]
    templated = row["kind"][0] != "free_text"
    recorded["remarks"] = row["text"] if templated else ("", row["text"][1])
    out = []
    for name, column in STREAM_MESSAGE_FIELDS.items():
        if name in message and column in recorded:
            value, seq = recorded[column]
            if not _same(name, value, message[name]):
                out.append((name, message[name], value, seq))
    if not templated and "original_text" in message:
        value, seq = row["text"]
        if message["original_text"] != value:
            out.append(("original_text", message["original_text"], value, seq))
    return out


def _stream_suspension(
    shown: Mapping[str, Any], expected: Mapping[Key, Row]
) -> list[tuple[str, Any, Any, int]]:
    row = expected.get((shown.get("id"),))
    if row is None:
        return [("id", shown.get("id"), None, 0)]
    return [
        (name, shown[name], row[column][0], row[column][1])
        for name, column in STREAM_SUSPENSION_FIELDS.items()
        if name in shown and not _same(name, row[column][0], shown[name])
    ]


def audit_stream(
    conn: Connection,
    entries: Iterable[LogEntry],
    expected: Mapping[str, Mapping[Key, Row]],
) -> list[Discrepancy]:
    """Every hotline event kept for the stream (what a client that reconnects is
    sent again) that the record does not support: an entry's seq or hash it
    carries, or what it shows of a message or a suspension."""
    hashes = {e.seq: e.hash for e in entries}
    rows = conn.execute(
        select(events.c.id, events.c.party_id, events.c.payload_json)
        .where(events.c.type.like("hotline.%"))
        .order_by(events.c.id)
    ).all()
    out: list[Discrepancy] = []
    for event_id, party, payload_json in rows:
        where = f"event {event_id} to {party}"
        try:
            payload = json.loads(payload_json)
        except ValueError:
            out.append(
                Discrepancy(None, events.name, where, "payload_json", "not JSON")
            )
            continue
        shown = payload.get("record") if isinstance(payload, dict) else None
        if isinstance(shown, dict):
            seq = shown.get("seq")
            if seq not in hashes:
                message = f"carries entry {seq}, which is not on the record"
                out.append(Discrepancy(None, events.name, where, "record", message))
            elif shown.get("hash") != hashes[seq]:
                message = f"carries another hash for entry {seq}"
                out.append(Discrepancy(seq, events.name, where, "record", message))
        differences: list[tuple[str, Any, Any, int]] = []
        if isinstance(payload, dict) and isinstance(payload.get("message"), dict):
            differences = _stream_message(
                payload["message"], expected[hotline_messages.name]
            )
        elif isinstance(payload, dict) and "scope" in payload:
            differences = _stream_suspension(
                payload, expected[hotline_suspensions.name]
            )
        for name, value, recorded, seq in differences:
            message = (
                f"shows {value!r}, {recorded!r} on the record"
                if seq
                else "shows a message or suspension not on the record"
            )
            out.append(
                Discrepancy(seq or None, events.name, where, f"payload.{name}", message)
            )
    return out


def audit_store(conn: Connection, entries: Iterable[LogEntry]) -> list[Discrepancy]:
    """Every value of the hotline's tables, and of the hotline events kept for the
    stream, that the entries do not support.

    Ordered by the entry each contradicts (those no entry supports last).
    """
    items = list(entries)
    expected, problems = expected_rows(items)
    for table in AUDITED_TABLES:
        problems += compare_rows(
            table.name, expected[table.name], stored_rows(conn, table)
        )
    problems += audit_stream(conn, items, expected)
    return sorted(
        problems,
        key=lambda d: (d.seq is None, d.seq or 0, d.table, d.row, d.column or ""),
    )
