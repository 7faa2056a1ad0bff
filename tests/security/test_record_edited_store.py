"""Attack: edit what the API serves (a message's text, its times, parties, kinds,
references, receipts, suspensions) directly in the database, leaving the signed
chain alone, so that ``hotline verify`` still says "record intact".

Every column of the hotline's tables is edited in turn, on SQLite and PostgreSQL;
``deconfliction hotline verify`` must fail and name the entry that the store now
contradicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, delete, insert, select, update
from typer.testing import CliRunner

from deconfliction.cli import hotline as hotline_cli
from deconfliction.service import auth, hotline, protocols, record_audit
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.hotline import (
    MessageKind,
    Outgoing,
    Priority,
    SuspensionScope,
)
from deconfliction.service.keys import KeyRing
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import (
    events,
    hotline_checkins_missed,
    hotline_log,
    hotline_messages,
    hotline_receipts,
    hotline_suspensions,
)
from tests.integration.helpers import protocol_text, store_alert, store_operation

T0 = datetime(2017, 12, 13, 5, 0, tzinfo=UTC).timestamp()  # check-in due 06:00Z
COALITION = Principal("coalition", Role.OFFICER)
RUSSIA = Principal("russia", Role.OFFICER)

# Columns that are not edited, and why.
NOT_EDITED = {
    ("hotline_messages", "id"): "the receipts' foreign key holds it in place",
}


@dataclass
class Conversation:
    engine: Engine
    keys_dir: Path
    m1: int  # coalition -> russia, delivered and acknowledged
    m2: int  # russia -> coalition, escalated
    m3: int  # coalition -> russia, open while the channel was suspended
    suspension: int

    def seq_of(self, event: str, **body: Any) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(hotline_log.c.seq, hotline_log.c.body_json)
                .where(hotline_log.c.event == event)
                .order_by(hotline_log.c.seq)
            ).all()
        for seq, text in rows:
            found = json.loads(text)
            if all(found.get(k) == v for k, v in body.items()):
                return int(seq)
        raise AssertionError(f"no {event} entry with {body}")


def _send(
    conn: Any, keys: KeyRing, who: Principal, now: float, **kw: Any
) -> dict[str, Any]:
    label = kw.pop("sender_label", "")
    message = Outgoing(
        to=kw.pop("to"),
        kind=kw.pop("kind", MessageKind.FREE_TEXT),
        priority=kw.pop("priority", Priority.ROUTINE),
        facts=kw.pop("facts", {}),
        text=kw.pop("text", "Request you confirm receipt."),
        **kw,
    )
    return hotline.send(conn, keys, who, message, now, sender_label=label)


@pytest.fixture
def conversation(database_url: str, tmp_path: Path) -> Iterator[Conversation]:
    engine = store_engine.make_engine(database_url)
    store_engine.upgrade(engine)
    clock = ManualClock(T0 - 3600)
    keys_dir = tmp_path / "keys"
    keys = KeyRing(keys_dir)
    with engine.begin() as conn:
        for party, lang in (("coalition", "en"), ("russia", "ru"), ("syria", "ar")):
            auth.ensure_party(conn, party, party.title(), lang, clock.now_t_s())
        protocols.propose(conn, COALITION, protocol_text(1), clock.now_t_s())
        protocols.accept(conn, RUSSIA, "euphrates-2017", 1, clock.now_t_s())
    clock.t_s = T0
    try:
        with engine.begin() as conn:
            store_alert(conn, "alert-1", "VIPER11", "RF93", clock.now_t_s())
            store_operation(conn, "op-1", "coalition", clock.now_t_s())
            m1 = _send(
                conn,
                keys,
                COALITION,
                clock.now_t_s(),
                to="russia",
                text="we will NOT cross",
                alert_id="alert-1",
                operation_id="op-1",
                sender_label="Al Udeid desk",
            )["id"]
        clock.advance(20)
        with engine.begin() as conn:
            hotline.get_message(conn, keys, RUSSIA, m1, clock.now_t_s())
        clock.advance(20)
        with engine.begin() as conn:
            hotline.acknowledge(conn, keys, RUSSIA, m1, clock.now_t_s())
            m2 = _send(
                conn,
                keys,
                RUSSIA,
                clock.now_t_s(),
                to="coalition",
                priority=Priority.FLASH,
                text="Понял.",
                reply_to=m1,
            )["id"]
        clock.advance(301)
        with engine.begin() as conn:
            assert hotline.escalate_due(conn, keys, clock.now_t_s()) == 1
            m3 = _send(conn, keys, COALITION, clock.now_t_s(), to="russia")["id"]
        clock.t_s = T0 + 3600 + 60  # 06:01Z: nobody checked in
        with engine.begin() as conn:
            assert hotline.check_missed_checkins(conn, keys, clock.now_t_s()) == 2
            suspension = hotline.suspend(
                conn,
                keys,
                RUSSIA,
                SuspensionScope.CHANNEL,
                "consultations",
                clock.now_t_s(),
            )["id"]
        clock.advance(600)
        with engine.begin() as conn:
            hotline.resume(conn, keys, RUSSIA, suspension, clock.now_t_s())
        yield Conversation(engine, keys_dir, m1, m2, m3, suspension)
    finally:
        engine.dispose()


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)
    hotline_cli.register(app)
    return app


def _verify(c: Conversation) -> Any:
    url = c.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(
        _cli(),
        ["hotline", "verify", "--database", url, "--keys-dir", str(c.keys_dir)],
    )


def _edits(c: Conversation) -> list[tuple[Any, dict[str, Any], str, Any, int]]:
    """(table, key, column, new value, the entry the edit contradicts)."""
    sent1 = c.seq_of("sent", message_id=c.m1)
    delivered = c.seq_of("delivered", message_id=c.m1)
    acknowledged = c.seq_of("acknowledged", message_id=c.m1)
    escalated = c.seq_of("escalated", message_id=c.m2)
    suspended = c.seq_of("suspended", suspension_id=c.suspension)
    resumed = c.seq_of("resumed", suspension_id=c.suspension)
    checkin = c.seq_of("checkin_missed", party="russia")
    m1 = {"id": c.m1}
    r1 = {"message_id": c.m1, "party_id": "russia"}
    s = {"id": c.suspension}
    k = {"party_id": "russia", "day": "2017-12-13"}
    return [
        (hotline_messages, m1, "sender_party", "syria", sent1),
        (hotline_messages, m1, "sender_label", "Hmeimim desk", sent1),
        (hotline_messages, m1, "recipient", "syria", sent1),
        (hotline_messages, m1, "kind", "reply", sent1),
        (hotline_messages, m1, "priority", "flash", sent1),
        (hotline_messages, m1, "lang", "ru", sent1),
        (hotline_messages, m1, "facts_json", '{"party": "russia"}', sent1),
        (hotline_messages, m1, "text", "we WILL cross", sent1),
        (hotline_messages, m1, "incident_id", 7, sent1),
        (hotline_messages, m1, "alert_id", "alert-2", sent1),
        (hotline_messages, m1, "operation_id", "op-2", sent1),
        (hotline_messages, m1, "reply_to", c.m3, sent1),
        (hotline_messages, m1, "sent_t_s", T0 - 60, sent1),
        (hotline_receipts, r1, "message_id", c.m2, sent1),
        (hotline_receipts, r1, "party_id", "syria", sent1),
        (hotline_receipts, r1, "deadline_t_s", T0 + 99_999, sent1),
        (hotline_receipts, r1, "delivered_t_s", T0 + 1, delivered),
        (hotline_receipts, r1, "acknowledged_t_s", T0 + 1, acknowledged),
        (hotline_receipts, r1, "acknowledged_by", "syria officer", acknowledged),
        (hotline_receipts, r1, "escalated_t_s", T0 + 1, sent1),
        (
            hotline_receipts,
            {"message_id": c.m2, "party_id": "coalition"},
            "escalated_t_s",
            T0 + 9_999,
            escalated,
        ),
        (
            hotline_receipts,
            {"message_id": c.m3, "party_id": "russia"},
            "deadline_t_s",
            T0 + 3600,
            resumed,
        ),
        (hotline_suspensions, s, "id", 99, suspended),
        (hotline_suspensions, s, "party_id", "coalition", suspended),
        (hotline_suspensions, s, "scope", "protocol", suspended),
        (hotline_suspensions, s, "reason", "none given", suspended),
        (hotline_suspensions, s, "start_t_s", T0, suspended),
        (hotline_suspensions, s, "end_t_s", T0 + 99_999, resumed),
        (hotline_suspensions, s, "protocol_id", "another", suspended),
        (hotline_checkins_missed, k, "party_id", "syria", checkin),
        (hotline_checkins_missed, k, "day", "2017-12-12", checkin),
        (hotline_checkins_missed, k, "t_s", T0, checkin),
    ]


def _where(table: Any, key: dict[str, Any]) -> list[Any]:
    return [table.c[name] == value for name, value in key.items()]


class TestEditedStore:
    def test_the_record_implies_every_column(self, conversation: Conversation) -> None:
        with conversation.engine.connect() as conn:
            expected, problems = record_audit.expected_rows(hotline.log_entries(conn))
        assert problems == []
        for table in record_audit.AUDITED_TABLES:
            implied = {col for row in expected[table.name].values() for col in row}
            assert implied == {c.name for c in table.columns}, table.name

    def test_every_column_edited_is_named(self, conversation: Conversation) -> None:
        intact = _verify(conversation)
        assert intact.exit_code == 0, intact.output
        assert "record intact" in intact.output
        edits = _edits(conversation)
        edited = {(t.name, col) for t, _, col, _, _ in edits}
        every = {
            (t.name, c.name) for t in record_audit.AUDITED_TABLES for c in t.columns
        }
        assert every - edited == set(NOT_EDITED)
        for table, key, column, value, seq in edits:
            engine = conversation.engine
            with engine.begin() as conn:
                before = conn.execute(
                    select(table.c[column]).where(*_where(table, key))
                ).scalar_one()
                conn.execute(
                    update(table).where(*_where(table, key)).values({column: value})
                )
            broken = _verify(conversation)
            with engine.begin() as conn:
                moved = {**key, column: value} if column in key else key
                conn.execute(
                    update(table).where(*_where(table, moved)).values({column: before})
                )
            assert broken.exit_code == 1, (table.name, column, broken.output)
            assert f"at entry {seq}:" in broken.output, (table.name, column)
            assert "store differs from the record" in broken.output
        assert _verify(conversation).exit_code == 0

    def test_a_deleted_receipt_and_an_added_message(
        self, conversation: Conversation
    ) -> None:
        c = conversation
        with c.engine.begin() as conn:
            conn.execute(
                delete(hotline_receipts).where(
                    hotline_receipts.c.message_id == c.m3,
                    hotline_receipts.c.party_id == "russia",
                )
            )
        broken = _verify(c)
        assert broken.exit_code == 1
        assert f"at entry {c.seq_of('sent', message_id=c.m3)}:" in broken.output
        assert "missing from the store" in broken.output
        with c.engine.begin() as conn:
            row = dict(
                conn.execute(
                    select(hotline_messages).where(hotline_messages.c.id == c.m1)
                )
                .mappings()
                .one()
            )
            conn.execute(insert(hotline_messages).values({**row, "id": 999}))
            conn.execute(delete(hotline_messages).where(hotline_messages.c.id == c.m3))
        broken = _verify(c)
        assert broken.exit_code == 1
        assert "message 999: in the store, not on the record" in broken.output.replace(
            "\n", " "
        )


class TestEditedStream:
    """The hotline events kept for the stream are what a client that reconnects is
    sent again: they are checked against the record too."""

    def _event(self, c: Conversation, message_id: int) -> tuple[int, dict[str, Any]]:
        with c.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.id, events.c.payload_json)
                .where(events.c.type == "hotline.sent")
                .order_by(events.c.id)
            ).all()
        for event_id, text in rows:
            payload = json.loads(text)
            if payload["message"]["id"] == message_id:
                return int(event_id), payload
        raise AssertionError("no event")

    def _store(self, c: Conversation, event_id: int, payload: dict[str, Any]) -> None:
        with c.engine.begin() as conn:
            conn.execute(
                update(events)
                .where(events.c.id == event_id)
                .values(payload_json=json.dumps(payload))
            )

    def test_an_edited_message_on_the_stream(self, conversation: Conversation) -> None:
        c = conversation
        event_id, payload = self._event(c, c.m1)
        original = json.loads(json.dumps(payload))
        payload["message"]["original_text"] = "we WILL cross"
        payload["message"]["priority"] = "flash"
        self._store(c, event_id, payload)
        broken = _verify(c)
        assert broken.exit_code == 1
        assert f"at entry {c.seq_of('sent', message_id=c.m1)}:" in broken.output
        assert "payload.priority" in broken.output
        assert "payload.original_text" in broken.output
        self._store(c, event_id, original)
        assert _verify(c).exit_code == 0

    def test_an_event_past_the_end_of_the_record(
        self, conversation: Conversation
    ) -> None:
        c = conversation
        event_id, payload = self._event(c, c.m3)
        payload["record"]["seq"] = 10_000
        self._store(c, event_id, payload)
        broken = _verify(c)
        assert broken.exit_code == 1
        assert "carries entry 10000, which is not on the record" in broken.output
