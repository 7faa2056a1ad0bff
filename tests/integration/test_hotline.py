"""The hotline on a real database (SQLite and PostgreSQL) with a controllable clock,
and a two-party conversation through the API of a real server process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, delete, select, update
from typer.testing import CliRunner

from deconfliction.cli import hotline as hotline_cli
from deconfliction.errors import (
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
)
from deconfliction.service import (
    auth,
    events,
    hotline,
    incidents,
    protocols,
    record_audit,
)
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.hotline import (
    MessageKind,
    Outgoing,
    Priority,
    SuspensionScope,
)
from deconfliction.service.incidents import AircraftPoint, IncidentFacts, IncidentKind
from deconfliction.service.keys import KeyRing
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import hotline_log
from deconfliction.store.tables import incidents as incidents_table
from tests.conftest import Server, add_party
from tests.integration.helpers import (
    StreamReader,
    protocol_text,
    put_in_effect,
    store_alert,
)
from tests.security.world import agreement_text

DAY = "2017-12-13"
T0 = datetime(2017, 12, 13, 5, 0, tzinfo=UTC).timestamp()  # 05:00Z, check-in due 06:00Z
COALITION = Principal("coalition", Role.OFFICER)
RUSSIA = Principal("russia", Role.OFFICER)
RUSSIA_OBSERVER = Principal("russia", Role.OBSERVER)

COMPLAINT_FACTS: dict[str, Any] = {
    "incident_id": 1,
    "offending_party": "russia",
    "boundary_kind": "line",
    "boundary_id": "euphrates",
    "boundary_name": "Euphrates",
    "entry_t_s": T0 - 900,
    "exit_t_s": T0 - 300,
    "duration_s": 600.0,
    "lat_deg": 35.6,
    "lon_deg": 39.8,
    "alt_ft": 25000.0,
    "depth_nm": 14.2,
    "aircraft_id": "RF93",
}


@dataclass
class Desk:
    """A store, a clock and a key ring: the hotline without a server."""

    engine: Engine
    clock: ManualClock
    keys: KeyRing

    def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with self.engine.begin() as conn:
            return fn(conn, *args, **kwargs)

    def events_of(self, party: str) -> list[events.StreamEvent]:
        with self.engine.connect() as conn:
            return events.fetch(conn, party, 0, limit=10_000)


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    engine = store_engine.make_engine(database_url)
    store_engine.upgrade(engine)
    clock = ManualClock(T0 - 3600)
    with engine.begin() as conn:
        for party, lang in (("coalition", "en"), ("russia", "ru"), ("syria", "ar")):
            auth.ensure_party(conn, party, party.title(), lang, clock.now_t_s())
        protocols.propose(conn, COALITION, protocol_text(1), clock.now_t_s())
        protocols.accept(conn, RUSSIA, "euphrates-2017", 1, clock.now_t_s())
    clock.t_s = T0
    try:
        yield Desk(engine, clock, KeyRing(tmp_path / "keys"))
    finally:
        engine.dispose()


def _send(desk: Desk, who: Principal, **kw: Any) -> dict[str, Any]:
    message = Outgoing(
        to=kw.pop("to", "russia"),
        kind=kw.pop("kind", MessageKind.FREE_TEXT),
        priority=kw.pop("priority", Priority.ROUTINE),
        facts=kw.pop("facts", {}),
        text=kw.pop("text", "Request you confirm receipt."),
        **kw,
    )
    return desk.run(hotline.send, desk.keys, who, message, desk.clock.now_t_s())


class TestMessages:
    def test_deadline_escalation_and_acknowledgement(self, desk: Desk) -> None:
        sent = _send(desk, COALITION, priority=Priority.FLASH)
        (receipt,) = sent["receipts"]
        assert receipt["deadline_t_s"] == T0 + 300  # flash: 5 minutes in the protocol
        desk.clock.advance(299)
        assert desk.run(hotline.escalate_due, desk.keys, desk.clock.now_t_s()) == 0
        desk.clock.advance(2)
        assert desk.run(hotline.escalate_due, desk.keys, desk.clock.now_t_s()) == 1
        assert desk.run(hotline.escalate_due, desk.keys, desk.clock.now_t_s()) == 0
        for party in ("coalition", "russia"):
            assert "hotline.escalated" in [e.type for e in desk.events_of(party)]
        view = desk.run(
            hotline.get_message, desk.keys, COALITION, sent["id"], desk.clock.now_t_s()
        )
        assert view["overdue"] is True
        with pytest.raises(ForbiddenError):
            desk.run(
                hotline.acknowledge,
                desk.keys,
                RUSSIA_OBSERVER,
                sent["id"],
                desk.clock.now_t_s(),
            )
        acked = desk.run(
            hotline.acknowledge, desk.keys, RUSSIA, sent["id"], desk.clock.now_t_s()
        )
        assert acked["receipts"][0]["acknowledged_t_s"] == T0 + 301
        assert acked["overdue"] is False
        assert "hotline.acknowledged" in [e.type for e in desk.events_of("coalition")]

    def test_only_sender_and_recipients_see_a_message(self, desk: Desk) -> None:
        sent = _send(desk, COALITION)
        syria = Principal("syria", Role.OFFICER)
        with pytest.raises(NotFoundError):
            desk.run(
                hotline.get_message, desk.keys, syria, sent["id"], desk.clock.now_t_s()
            )
        assert (
            desk.run(hotline.list_messages, desk.keys, syria, desk.clock.now_t_s())
            == []
        )
        with pytest.raises(NotFoundError):
            desk.run(
                hotline.acknowledge,
                desk.keys,
                COALITION,
                sent["id"],
                desk.clock.now_t_s(),
            )
        assert not any(e.type.startswith("hotline.") for e in desk.events_of("syria"))

    def test_templates_render_in_the_reader_language(self, desk: Desk) -> None:
        sent = _send(
            desk,
            COALITION,
            kind=MessageKind.VIOLATION_COMPLAINT,
            facts=COMPLAINT_FACTS,
            text="",
        )
        assert sent["lang"] == "en" and sent["dir"] == "ltr"
        ru = desk.run(
            hotline.get_message,
            desk.keys,
            RUSSIA,
            sent["id"],
            desk.clock.now_t_s(),
            "ru",
        )
        ar = desk.run(
            hotline.get_message,
            desk.keys,
            RUSSIA,
            sent["id"],
            desk.clock.now_t_s(),
            "ar",
        )
        assert ru["lang"] == "ru" and ru["text"] != sent["text"]
        assert any("\u0400" <= ch <= "\u04ff" for ch in ru["text"])
        assert ar["dir"] == "rtl" and any(
            "\u0600" <= ch <= "\u06ff" for ch in ar["text"]
        )
        assert ru["original_text"] == sent["text"]

    @pytest.mark.parametrize(
        ("kind", "facts", "words"),
        [
            (
                MessageKind.MANOEUVRE_INTENTION,
                {
                    "alert_id": "9f3c2a",
                    "aircraft_id": "VIPER11",
                    "manoeuvre": "turn_right",
                    "heading_deg": 95.0,
                },
                {
                    "en": "will turn right to 095°",
                    "ru": "выполнит правый разворот на курс 095°",
                    "ar": "يميناً إلى الاتجاه",
                },
            ),
            (
                MessageKind.REQUEST_FOR_MANOEUVRE,
                {"alert_id": "9f3c2a", "manoeuvre": "descend", "alt_ft": 23000.0},
                {
                    "en": "your aircraft descend to FL230",
                    "ru": "выполнить снижение до эшелон 230",
                    "ar": "نطلب أن تهبط طائرتكم إلى مستوى الطيران",
                },
            ),
        ],
    )
    def test_manoeuvre_messages_read_and_acknowledged(
        self,
        desk: Desk,
        kind: MessageKind,
        facts: dict[str, Any],
        words: dict[str, str],
    ) -> None:
        """#17.5: what we will do and what we ask of you, in each reader's language,
        acknowledged like every message; the person who sent it decided."""
        desk.run(store_alert, "9f3c2a", "VIPER11", "RF93", desk.clock.now_t_s())
        sent = _send(
            desk, COALITION, kind=kind, facts=facts, text="", priority=Priority.FLASH
        )
        assert words["en"] in sent["text"]
        assert "Decided by our duty officer" in sent["text"]
        for lang in ("ru", "ar"):
            shown = desk.run(
                hotline.get_message,
                desk.keys,
                RUSSIA,
                sent["id"],
                desk.clock.now_t_s(),
                lang,
            )
            assert words[lang] in shown["text"], shown["text"]
            assert shown["dir"] == ("rtl" if lang == "ar" else "ltr")
        acked = desk.run(
            hotline.acknowledge, desk.keys, RUSSIA, sent["id"], desk.clock.now_t_s()
        )
        assert acked["receipts"][0]["acknowledged_t_s"] == T0
        assert "hotline.acknowledged" in [e.type for e in desk.events_of("coalition")]

    def test_free_text_stays_as_written(self, desk: Desk) -> None:
        sent = _send(desk, RUSSIA, to="coalition", text="Прошу подтвердить.")
        shown = desk.run(
            hotline.get_message,
            desk.keys,
            COALITION,
            sent["id"],
            desk.clock.now_t_s(),
            "en",
        )
        assert shown["text"] == "Прошу подтвердить."

    def test_bad_messages(self, desk: Desk) -> None:
        with pytest.raises(InputError):
            _send(desk, COALITION, kind=MessageKind.VIOLATION_COMPLAINT, facts={})
        with pytest.raises(InputError):
            _send(desk, COALITION, to="nobody")
        with pytest.raises(InputError):
            _send(desk, COALITION, text="   ")
        with pytest.raises(ForbiddenError):
            _send(desk, RUSSIA_OBSERVER, to="coalition")

    def test_to_all_needs_every_party_to_acknowledge(self, desk: Desk) -> None:
        sent = _send(desk, RUSSIA, to="*", text="Exercise area active.")
        assert [r["party"] for r in sent["receipts"]] == ["coalition"]


class TestCheckins:
    def test_missed_checkin_is_an_event_once(self, desk: Desk) -> None:
        _send(
            desk,
            COALITION,
            kind=MessageKind.DAILY_CHECKIN,
            facts={"party": "coalition", "date": DAY},
            text="",
        )
        desk.clock.t_s = T0 + 3600 + 60  # 06:01Z
        assert (
            desk.run(hotline.check_missed_checkins, desk.keys, desk.clock.now_t_s())
            == 1
        )
        assert (
            desk.run(hotline.check_missed_checkins, desk.keys, desk.clock.now_t_s())
            == 0
        )
        missed = [
            e for e in desk.events_of("coalition") if e.type == "hotline.checkin_missed"
        ]
        assert [(e.data["party"], e.data["day"]) for e in missed] == [("russia", DAY)]


class TestComplaintFromIncident:
    def test_the_complaint_names_both_depths(self, desk: Desk) -> None:
        # Issue 13: 28.4 NM across the line went out as "38.4 NM" (the 10 NM buffer
        # plus the line), unnamed.
        sharing = desk.run(protocols.current_sharing)
        facts = IncidentFacts(
            source_key="test|2",
            kind=IncidentKind.LINE_VIOLATION,
            party_id="russia",
            involved=("coalition",),
            boundary_id="euphrates",
            start_t_s=T0 - 900,
            end_t_s=T0 - 300,
            severity_nm=38.4,
            aircraft=(AircraftPoint("russia", "RF93", T0 - 600, 35.6, 39.8, 25000.0),),
            depths=(
                ("depth_across_line_nm", 28.4),
                ("depth_from_buffer_edge_nm", 38.4),
            ),
        )
        incident_id = desk.run(incidents.record, facts, T0 - 300, sharing)
        shown = desk.run(incidents.get_visible, COALITION, incident_id, sharing)
        assert (shown["depth_across_line_nm"], shown["depth_from_buffer_edge_nm"]) == (
            28.4,
            38.4,
        )
        assert shown["depth_inside_zone_nm"] is None
        sent = desk.run(
            hotline.complaint_from_incident,
            desk.keys,
            COALITION,
            incident_id,
            Priority.URGENT,
            desk.clock.now_t_s(),
        )
        assert {k: sent["facts"].get(k) for k in ("depth_nm", "buffer_nm")} == {
            "depth_nm": None,
            "buffer_nm": 10.0,
        }
        assert (
            "28.4 NM across the line, 38.4 NM from the edge of its 10.0 NM buffer"
            in sent["text"]
        )

    def test_incident_follows_the_message(self, desk: Desk) -> None:
        sharing = desk.run(protocols.current_sharing)
        facts = IncidentFacts(
            source_key="test|1",
            kind=IncidentKind.LINE_VIOLATION,
            party_id="russia",
            involved=("coalition",),
            boundary_id="euphrates",
            start_t_s=T0 - 900,
            end_t_s=T0 - 300,
            severity_nm=14.2,
            aircraft=(AircraftPoint("russia", "RF93", T0 - 600, 35.6, 39.8, 25000.0),),
        )
        incident_id = desk.run(incidents.record, facts, T0 - 300, sharing)
        sent = desk.run(
            hotline.complaint_from_incident,
            desk.keys,
            COALITION,
            incident_id,
            Priority.URGENT,
            desk.clock.now_t_s(),
        )
        assert sent["to"] == "russia" and sent["incident_id"] == incident_id
        assert sent["facts"]["depth_nm"] == pytest.approx(14.2)
        assert "aircraft_id" not in sent["facts"], "under conflicts the id is not known"

        def status() -> str:
            with desk.engine.connect() as conn:
                return conn.execute(
                    select(incidents_table.c.status).where(
                        incidents_table.c.id == incident_id
                    )
                ).scalar_one()

        assert status() == "reported"
        desk.run(
            hotline.acknowledge, desk.keys, RUSSIA, sent["id"], desk.clock.now_t_s()
        )
        assert status() == "acknowledged"
        with pytest.raises(InputError):
            desk.run(
                hotline.complaint_from_incident,
                desk.keys,
                RUSSIA,
                incident_id,
                Priority.URGENT,
                desk.clock.now_t_s(),
            )


class TestSuspension:
    def test_channel_suspension_pauses_deadlines(self, desk: Desk) -> None:
        sent = _send(desk, COALITION, priority=Priority.FLASH)
        desk.clock.advance(100)
        suspension = desk.run(
            hotline.suspend,
            desk.keys,
            RUSSIA,
            SuspensionScope.CHANNEL,
            "consultations",
            desk.clock.now_t_s(),
        )
        with pytest.raises(ConflictError):
            _send(desk, COALITION)
        desk.clock.advance(1000)  # well past the 300 s deadline, while suspended
        assert desk.run(hotline.escalate_due, desk.keys, desk.clock.now_t_s()) == 0
        with pytest.raises(NotFoundError):
            desk.run(
                hotline.resume,
                desk.keys,
                COALITION,
                suspension["id"],
                desk.clock.now_t_s(),
            )
        desk.run(
            hotline.resume, desk.keys, RUSSIA, suspension["id"], desk.clock.now_t_s()
        )
        view = desk.run(
            hotline.get_message, desk.keys, COALITION, sent["id"], desk.clock.now_t_s()
        )
        assert view["receipts"][0]["deadline_t_s"] == pytest.approx(T0 + 300 + 1000)
        desk.clock.advance(199)
        assert desk.run(hotline.escalate_due, desk.keys, desk.clock.now_t_s()) == 0
        desk.clock.advance(2)
        assert desk.run(hotline.escalate_due, desk.keys, desk.clock.now_t_s()) == 1
        types = [e.type for e in desk.events_of("coalition")]
        assert "hotline.suspended" in types and "hotline.resumed" in types

    def test_a_suspension_holds_only_its_agreements_deadlines(self, desk: Desk) -> None:
        """Russia is also in an agreement with Syria; Syria suspends its channel:
        coalition-Russia's deadlines run on (escalated, shown overdue), missed
        check-ins are still recorded there, and Syria's resumption moves on
        Russia-Syria's deadlines only (#14.3)."""
        syria = Principal("syria", Role.OFFICER)
        text = agreement_text("r-s", ("russia", "syria"))
        desk.run(protocols.propose, RUSSIA, text, desk.clock.now_t_s())
        desk.run(protocols.accept, syria, "r-s", 1, desk.clock.now_t_s())
        to_russia = _send(desk, COALITION, priority=Priority.FLASH)
        to_syria = _send(desk, RUSSIA, to="syria", priority=Priority.FLASH)
        suspension = desk.run(
            hotline.suspend,
            desk.keys,
            syria,
            SuspensionScope.CHANNEL,
            "consultations",
            desk.clock.now_t_s(),
        )
        desk.clock.advance(1000)  # past both deadlines
        # Only coalition-Russia's receipt is escalated; Russia-Syria's is held.
        assert desk.run(hotline.escalate_due, desk.keys, desk.clock.now_t_s()) == 1
        view = desk.run(
            hotline.get_message,
            desk.keys,
            COALITION,
            to_russia["id"],
            desk.clock.now_t_s(),
        )
        assert view["receipts"][0]["overdue"] is True
        held = desk.run(
            hotline.get_message, desk.keys, RUSSIA, to_syria["id"], desk.clock.now_t_s()
        )
        assert held["receipts"][0]["overdue"] is False
        # 06:00Z passed with no check-in: recorded under coalition-Russia.
        desk.clock.t_s = T0 + 3600 + 60
        assert (
            desk.run(hotline.check_missed_checkins, desk.keys, desk.clock.now_t_s())
            == 2
        )
        desk.run(
            hotline.resume, desk.keys, syria, suspension["id"], desk.clock.now_t_s()
        )
        moved = desk.run(
            hotline.get_message, desk.keys, RUSSIA, to_syria["id"], desk.clock.now_t_s()
        )["receipts"][0]["deadline_t_s"]
        assert moved == pytest.approx(
            to_syria["receipts"][0]["deadline_t_s"] + desk.clock.now_t_s() - T0
        )
        # and the record replays to the same store (hotline verify).
        with desk.engine.connect() as conn:
            found = record_audit.audit_store(conn, hotline.log_entries(conn))
        assert found == []

    def test_protocol_suspension_is_recorded(self, desk: Desk) -> None:
        desk.run(
            hotline.suspend,
            desk.keys,
            RUSSIA,
            SuspensionScope.PROTOCOL,
            "Shayrat",
            desk.clock.now_t_s(),
        )
        assert desk.run(hotline.protocol_suspended) is True
        assert desk.run(hotline.channel_suspended) is False
        _send(desk, COALITION)  # the channel still works


def _cli() -> typer.Typer:
    app = typer.Typer()
    hotline_cli.register(app)
    return app


class TestRecord:
    def _conversation(self, desk: Desk) -> None:
        for k in range(4):
            sent = _send(desk, COALITION, priority=Priority.URGENT, text=f"message {k}")
            desk.clock.advance(30)
            desk.run(
                hotline.get_message, desk.keys, RUSSIA, sent["id"], desk.clock.now_t_s()
            )
            desk.run(
                hotline.acknowledge, desk.keys, RUSSIA, sent["id"], desk.clock.now_t_s()
            )
            desk.clock.advance(30)

    def _verify(self, desk: Desk) -> Any:
        url = desk.engine.url.render_as_string(hide_password=False)
        keys = str(desk.keys.directory)
        return CliRunner().invoke(
            _cli(), ["hotline", "verify", "--database", url, "--keys-dir", keys]
        )

    def test_intact_then_edited(self, desk: Desk) -> None:
        self._conversation(desk)
        ok = self._verify(desk)
        assert ok.exit_code == 0, ok.output
        assert "12 entries" in ok.stderr
        with desk.engine.begin() as conn:
            body = conn.execute(
                select(hotline_log.c.body_json).where(hotline_log.c.seq == 4)
            ).scalar_one()
            edited = body.replace("message 1", "message one")
            assert edited != body
            conn.execute(
                update(hotline_log)
                .where(hotline_log.c.seq == 4)
                .values(body_json=edited)
            )
        broken = self._verify(desk)
        assert broken.exit_code == 1
        assert "entry 4" in broken.stderr

    def test_deleted_entry(self, desk: Desk) -> None:
        self._conversation(desk)
        with desk.engine.begin() as conn:
            conn.execute(delete(hotline_log).where(hotline_log.c.seq == 7))
        broken = self._verify(desk)
        assert broken.exit_code == 1
        assert "entry 8" in broken.stderr or "entry 7" in broken.stderr

    def test_reordered_entries(self, desk: Desk) -> None:
        self._conversation(desk)
        with desk.engine.begin() as conn:
            rows = conn.execute(
                select(hotline_log).where(hotline_log.c.seq.in_([3, 4]))
            ).all()
            conn.execute(delete(hotline_log).where(hotline_log.c.seq.in_([3, 4])))
            swapped = [{**r._asdict(), "seq": 7 - r.seq} for r in rows]
            conn.execute(hotline_log.insert(), swapped)
        broken = self._verify(desk)
        assert broken.exit_code == 1
        assert "entry 3" in broken.stderr

    def test_export_verifies_with_public_keys_alone(
        self, desk: Desk, tmp_path: Path
    ) -> None:
        self._conversation(desk)
        url = desk.engine.url.render_as_string(hide_password=False)
        out = tmp_path / "export"
        result = CliRunner().invoke(
            _cli(),
            ["hotline", "export", "--day", DAY, "--out", str(out), "--database", url],
        )
        assert result.exit_code == 0, result.output
        transcript = out / f"hotline-{DAY}.json"
        readable = (out / f"hotline-{DAY}.txt").read_text(encoding="utf-8")
        assert "message 3" in readable
        keys = json.loads(transcript.read_text(encoding="utf-8"))["public_keys"]
        keys_file = tmp_path / "keys.json"
        keys_file.write_text(json.dumps(keys), encoding="utf-8")
        ok = CliRunner().invoke(
            _cli(),
            ["hotline", "verify-transcript", str(transcript), "--keys", str(keys_file)],
        )
        assert ok.exit_code == 0, ok.output
        tampered = transcript.read_text(encoding="utf-8").replace(
            "message 2", "message X"
        )
        transcript.write_text(tampered, encoding="utf-8")
        bad = CliRunner().invoke(
            _cli(),
            ["hotline", "verify-transcript", str(transcript), "--keys", str(keys_file)],
        )
        assert bad.exit_code == 1


@pytest.mark.slow
class TestConversationThroughTheApi:
    def test_two_parties_talk(self, server: Server) -> None:
        tokens = {
            "coalition": add_party(server.database_url, "coalition", "officer"),
            "russia": add_party(server.database_url, "russia", "officer", "ru"),
        }
        put_in_effect(server.url, tokens)
        russia_stream = StreamReader(server.url, tokens["russia"])
        coalition_stream = StreamReader(server.url, tokens["coalition"])
        with (
            server.client(tokens["coalition"]) as c,
            server.client(tokens["russia"]) as r,
        ):
            sent = c.post(
                "/v1/hotline/messages",
                json={
                    "to": "russia",
                    "kind": "violation_complaint",
                    "priority": "urgent",
                    "facts": {
                        **COMPLAINT_FACTS,
                        "entry_t_s": time.time() - 600,
                        "exit_t_s": time.time() - 60,
                    },
                },
            )
            assert sent.status_code == 201, sent.text
            message_id = sent.json()["id"]
            got = russia_stream.collect(
                lambda evs: any(e["type"] == "hotline.sent" for e in evs)
            )
            event = next(e for e in got if e["type"] == "hotline.sent")
            assert event["data"]["message"]["lang"] == "ru"
            assert len(event["data"]["record"]["hash"]) == 64
            inbox = r.get(
                "/v1/hotline/messages", params={"box": "in", "lang": "ar"}
            ).json()
            assert inbox[0]["id"] == message_id and inbox[0]["dir"] == "rtl"
            acked = r.post(f"/v1/hotline/messages/{message_id}/ack")
            assert acked.status_code == 200
            coalition_stream.collect(
                lambda evs: any(e["type"] == "hotline.acknowledged" for e in evs)
            )
            outbox = c.get("/v1/hotline/messages", params={"box": "out"}).json()
            receipt = outbox[0]["receipts"][0]
            assert receipt["delivered_t_s"] is not None
            assert receipt["acknowledged_t_s"] is not None
            bad = c.post(
                "/v1/hotline/messages", json={"to": "russia", "kind": "gossip"}
            )
            assert bad.status_code == 422
            nobody = c.get("/v1/hotline/messages/999")
            assert nobody.status_code == 404
            suspended = r.post(
                "/v1/hotline/suspensions",
                json={"scope": "channel", "reason": "Shayrat"},
            )
            assert suspended.status_code == 201
            blocked = c.post(
                "/v1/hotline/messages",
                json={"to": "russia", "kind": "free_text", "text": "hello?"},
            )
            assert blocked.status_code == 409
            resumed = r.post(f"/v1/hotline/suspensions/{suspended.json()['id']}/resume")
            assert resumed.json()["active"] is False
