"""Planned operations on a real database (SQLite and PostgreSQL) with a controllable
clock: checking, advance notice, lifecycle, concurrent updates, disclosure; and
filing through the API of a real server process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import distinct, func, insert, select

from deconfliction.domain import geodesy
from deconfliction.domain.planning import Circle, Operation, Volume3D, Volume4D
from deconfliction.errors import ConflictError, ForbiddenError, NotFoundError
from deconfliction.service import auth, events, hotline, planning, protocols
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.keys import KeyRing
from deconfliction.service.live import LiveDetection
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import operation_cells, positions
from tests.conftest import Server, add_party
from tests.integration.helpers import protocol_text, put_in_effect

T0 = datetime(2017, 12, 13, 8, 0, tzinfo=UTC).timestamp()
COALITION = Principal("coalition", Role.OFFICER)
RUSSIA = Principal("russia", Role.OFFICER)

# East of the Euphrates near al-Hawl (coalition side) and west of it near Hama.
EAST = (36.30, 41.00)
FAR_EAST = (36.05, 42.10)  # 60 NM further east, still the coalition's side


class Desk:
    """Store, clock and keys: the planning service without a server."""

    def __init__(self, database_url: str, keys_dir: Path, sharing: str) -> None:
        self.engine = store_engine.make_engine(database_url)
        store_engine.upgrade(self.engine)
        self.clock = ManualClock(T0 - 7200)
        self.keys = KeyRing(keys_dir)
        with self.engine.begin() as conn:
            for party, lang in (("coalition", "en"), ("russia", "ru")):
                auth.ensure_party(conn, party, party.title(), lang, self.clock.t_s)
            protocols.propose(
                conn, COALITION, protocol_text(1, sharing), self.clock.t_s
            )
            protocols.accept(conn, RUSSIA, "euphrates-2017", 1, self.clock.t_s)
        self.clock.t_s = T0

    def run(self, fn: Any, *args: Any) -> Any:
        with self.engine.begin() as conn:
            return fn(conn, *args)

    def events_of(self, party: str) -> list[events.StreamEvent]:
        with self.engine.connect() as conn:
            return events.fetch(conn, party, 0, limit=10_000)


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    d = Desk(database_url, tmp_path / "keys", "plans")
    try:
        yield d
    finally:
        d.engine.dispose()


def op(
    op_id: str,
    party: str,
    center: tuple[float, float],
    radius_nm: float = 10.0,
    start_h: float = 2.0,
    hours: float = 2.0,
    floor_ft: float = 15000.0,
    ceiling_ft: float = 25000.0,
    kind: str = "air_patrol",
) -> Operation:
    volume = Volume4D(
        Volume3D(Circle(center[0], center[1], radius_nm), floor_ft, ceiling_ft),
        T0 + start_h * 3600,
        T0 + (start_h + hours) * 3600,
    )
    return Operation(op_id, party, kind, (volume,))


def shifted(center: tuple[float, float], east_nm: float) -> tuple[float, float]:
    lat, lon = geodesy.destination(center[0], center[1], 90.0, east_nm)
    return float(lat), float(lon)


class TestChecking:
    def test_clear_operation_waits_for_its_notice(self, desk: Desk) -> None:
        filed = desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST),
            ["VIPER11"],
            desk.clock.t_s,
        )
        assert filed["state"] == "pending" and filed["conflicts"] == []
        assert filed["short_notice"] is False
        (notice,) = filed["notices"]
        assert notice["party"] == "russia" and notice["acknowledged_t_s"] is None
        inbox = desk.run(hotline.list_messages, desk.keys, RUSSIA, desk.clock.t_s, "ru")
        assert inbox[0]["kind"] == "notice_of_operation"
        assert inbox[0]["operation_id"] == "c1"
        desk.run(hotline.acknowledge, desk.keys, RUSSIA, inbox[0]["id"], desk.clock.t_s)
        desk.run(planning.tick, desk.clock.t_s)
        now = desk.run(planning.get_visible, COALITION, "c1")
        assert now["state"] == "accepted"
        assert now["notices"][0]["acknowledged_t_s"] is not None
        assert now["notices"][0]["approved_t_s"] is None, "acknowledged is not approved"
        desk.run(planning.approve, RUSSIA, "c1", desk.clock.t_s)
        assert desk.run(planning.get_visible, COALITION, "c1")["notices"][0][
            "approved_t_s"
        ]

    @pytest.mark.parametrize(
        ("aircraft", "sentence"),
        [
            ([], "The number of aircraft taking part was not given."),
            (["VIPER11", "VIPER12"], "2 aircraft will take part."),
        ],
    )
    def test_the_notice_counts_the_aircraft_named(
        self, desk: Desk, aircraft: list[str], sentence: str
    ) -> None:
        desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST),
            aircraft,
            desk.clock.t_s,
        )
        (notice,) = desk.run(
            hotline.list_messages, desk.keys, RUSSIA, desk.clock.t_s, "en"
        )
        assert sentence in notice["text"]
        assert "1 aircraft" not in notice["text"]

    def test_accepted_when_the_notice_deadline_passes(self, desk: Desk) -> None:
        desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST),
            [],
            desk.clock.t_s,
        )
        desk.clock.advance(899)
        desk.run(planning.tick, desk.clock.t_s)
        assert desk.run(planning.get_visible, COALITION, "c1")["state"] == "pending"
        desk.clock.advance(2)  # urgent notice: 900 s
        desk.run(planning.tick, desk.clock.t_s)
        assert desk.run(planning.get_visible, COALITION, "c1")["state"] == "accepted"

    def test_short_notice(self, desk: Desk) -> None:
        late = desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST, start_h=0.5),
            [],
            desk.clock.t_s,
        )
        assert late["short_notice"] is True
        seen = desk.run(planning.get_visible, RUSSIA, "c1")
        assert seen["short_notice"] is True

    @pytest.mark.parametrize(
        ("east_nm", "start_h", "floor_ft", "conflicts"),
        [
            (24.0, 2.0, 15000.0, True),  # outlines 4 NM apart: inside the 5 NM minimum
            (25.0, 2.0, 15000.0, False),  # exactly 5 NM apart: touching is clear
            (26.0, 2.0, 15000.0, False),  # 6 NM apart
            (0.0, 4.0, 15000.0, False),  # same place, the next two hours
            (0.0, 2.0, 26000.0, False),  # same place and time, 1,000 ft above
            (0.0, 2.0, 25500.0, True),  # 500 ft above: inside the vertical minimum
        ],
    )
    def test_against_another_partys_operation(
        self,
        desk: Desk,
        east_nm: float,
        start_h: float,
        floor_ft: float,
        conflicts: bool,
    ) -> None:
        desk.run(
            planning.file,
            desk.keys,
            RUSSIA,
            op("r1", "russia", EAST),
            [],
            desk.clock.t_s,
        )
        mine = op(
            "c1",
            "coalition",
            shifted(EAST, east_nm),
            start_h=start_h,
            floor_ft=floor_ft,
            ceiling_ft=floor_ft + 5000,
        )
        filed = desk.run(planning.file, desk.keys, COALITION, mine, [], desk.clock.t_s)
        assert (filed["state"] == "conflicted") is conflicts
        assert bool(filed["conflicts"]) is conflicts

    def test_zone_and_line(self, desk: Desk) -> None:
        # Russia's aircraft in the coalition's al-Tanf zone, and across the line.
        tanf = desk.run(
            planning.file,
            desk.keys,
            RUSSIA,
            op("r-tanf", "russia", (33.5, 38.62)),
            [],
            desk.clock.t_s,
        )
        assert tanf["state"] == "conflicted"
        assert any(
            c.get("zone_id") == "al-tanf" or "al-tanf" in str(c)
            for c in tanf["conflicts"]
        )
        across = desk.run(
            planning.file,
            desk.keys,
            RUSSIA,
            op("r-east", "russia", EAST),
            [],
            desk.clock.t_s,
        )
        assert across["state"] == "conflicted"
        assert "euphrates" in str(across["conflicts"])
        with pytest.raises(ConflictError):
            desk.run(planning.activate, RUSSIA, "r-east", desk.clock.t_s)


class TestDisclosureOfPlans:
    @pytest.mark.parametrize("sharing", ["zones", "conflicts", "plans", "full"])
    def test_what_the_filer_and_the_other_see(
        self, database_url: str, tmp_path: Path, sharing: str
    ) -> None:
        desk = Desk(database_url, tmp_path / "keys", sharing)
        try:
            desk.run(
                planning.file,
                desk.keys,
                RUSSIA,
                op("r1", "russia", EAST),
                ["RF93"],
                desk.clock.t_s,
            )
            filed = desk.run(
                planning.file,
                desk.keys,
                COALITION,
                op("c1", "coalition", shifted(EAST, 5.0)),
                [],
                desk.clock.t_s,
            )
            assert filed["state"] == "conflicted"
            text = str(filed["conflicts"])
            shows_plans = sharing in ("plans", "full")
            assert ("r1" in text) is shows_plans, "the other operation's id"
            if sharing == "zones":
                assert "place" not in text
            elif sharing == "conflicts":
                assert "place" in text or "centroid" in text
            listed = [o["id"] for o in desk.run(planning.list_visible, COALITION)]
            assert ("r1" in listed) is shows_plans
            if shows_plans:
                other = desk.run(planning.get_visible, COALITION, "r1")
                assert ("aircraft" in other) is (sharing == "full")
            else:
                with pytest.raises(NotFoundError):
                    desk.run(planning.get_visible, COALITION, "r1")
        finally:
            desk.engine.dispose()


class TestLifecycle:
    def test_update_needs_the_current_version(self, desk: Desk) -> None:
        desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST),
            [],
            desk.clock.t_s,
        )
        moved = op("c1", "coalition", shifted(EAST, 3.0))
        updated = desk.run(
            planning.update_operation,
            desk.keys,
            COALITION,
            "c1",
            1,
            moved,
            [],
            desk.clock.t_s,
        )
        assert updated["version"] == 2
        notices = updated["notices"]
        assert [(n["version"], n["current"]) for n in notices] == [
            (1, False),
            (2, True),
        ]
        with pytest.raises(ConflictError, match="version 2, not 1"):
            desk.run(
                planning.update_operation,
                desk.keys,
                COALITION,
                "c1",
                1,
                moved,
                [],
                desk.clock.t_s,
            )
        with pytest.raises(ForbiddenError):
            desk.run(
                planning.update_operation,
                desk.keys,
                RUSSIA,
                "c1",
                2,
                moved,
                [],
                desk.clock.t_s,
            )

    def test_fly_leave_the_volume_and_end(self, desk: Desk) -> None:
        desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST, start_h=0.0 + 2.0),
            ["VIPER11"],
            desk.clock.t_s,
        )
        with pytest.raises(ConflictError, match="pending"):
            desk.run(planning.activate, COALITION, "c1", desk.clock.t_s)
        desk.clock.advance(901)
        desk.run(planning.tick, desk.clock.t_s)
        desk.clock.t_s = T0 + 2 * 3600 + 60
        assert desk.run(planning.activate, COALITION, "c1", desk.clock.t_s)[
            "state"
        ] == ("activated")
        live = LiveDetection(desk.engine, desk.clock, 5.0)
        live.tick()  # start: nothing flying yet

        def post(t_s: float, lat: float, lon: float) -> None:
            with desk.engine.begin() as conn:
                conn.execute(
                    insert(positions).values(
                        party_id="coalition",
                        aircraft_id="VIPER11",
                        t_s=t_s,
                        lat_deg=lat,
                        lon_deg=lon,
                        alt_ft=20000.0,
                        gs_kt=400.0,
                        trk_deg=90.0,
                        vs_fpm=0.0,
                        batch_id=f"b{t_s}",
                        received_t_s=t_s,
                    )
                )

        post(desk.clock.t_s, *EAST)
        live.tick()
        assert desk.run(planning.get_visible, COALITION, "c1")["state"] == "activated"
        far = shifted(EAST, 30.0)
        desk.clock.advance(10)
        post(desk.clock.t_s, *far)
        live.tick()
        assert (
            desk.run(planning.get_visible, COALITION, "c1")["state"] == "nonconforming"
        )
        for _ in range(8):  # back inside for longer than the 60 s debounce
            desk.clock.advance(10)
            post(desk.clock.t_s, *EAST)
            live.tick()
        assert desk.run(planning.get_visible, COALITION, "c1")["state"] == "activated"
        kinds = [
            e.data.get("kind")
            for e in desk.events_of("coalition")
            if e.type.startswith("incident.")
        ]
        assert "operation_nonconformance" in kinds
        states = [
            e.data["to"]
            for e in desk.events_of("coalition")
            if e.type == "operation.state"
        ]
        assert states[-3:] == ["activated", "nonconforming", "activated"]
        desk.run(planning.end, COALITION, "c1", desk.clock.t_s)
        assert desk.run(planning.get_visible, COALITION, "c1")["state"] == "ended"
        notices = desk.run(planning.get_visible, COALITION, "c1")["notices"]
        assert all(n["expired"] for n in notices), "notices expire with the operation"

    def test_cancel(self, desk: Desk) -> None:
        desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST),
            [],
            desk.clock.t_s,
        )
        assert desk.run(planning.cancel, COALITION, "c1", desk.clock.t_s)["state"] == (
            "cancelled"
        )
        with pytest.raises(ConflictError):
            desk.run(planning.cancel, COALITION, "c1", desk.clock.t_s)
        # A cancelled operation no longer blocks anyone.
        other = desk.run(
            planning.file,
            desk.keys,
            RUSSIA,
            op("r1", "russia", EAST),
            [],
            desk.clock.t_s,
        )
        assert "c1" not in str(other["conflicts"])


class TestIndex:
    def test_many_stored_operations(self, desk: Desk) -> None:
        rng = np.random.default_rng(5)
        for k in range(60):
            lat = float(rng.uniform(33.0, 37.0))
            lon = float(rng.uniform(36.0, 38.0))  # Russia's side
            desk.run(
                planning.file,
                desk.keys,
                RUSSIA,
                op(
                    f"r{k}",
                    "russia",
                    (lat, lon),
                    radius_nm=5.0,
                    start_h=float(rng.uniform(2, 30)),
                ),
                [],
                desk.clock.t_s,
            )
        # How fast a check is against many stored operations is measured by
        # bench/bench_plan.py (figures in bench/README.md), not asserted here.
        filed = desk.run(
            planning.file,
            desk.keys,
            COALITION,
            op("c1", "coalition", EAST),
            [],
            desk.clock.t_s,
        )
        assert filed["conflicts"] == []
        with desk.engine.connect() as conn:
            indexed = conn.execute(
                select(func.count(distinct(operation_cells.c.op_pk)))
            ).scalar_one()
        assert indexed == 61  # every stored operation is in the index


@pytest.mark.slow
class TestThroughTheApi:
    def test_file_check_and_stale_update(self, server: Server) -> None:
        tokens = {
            "coalition": add_party(server.database_url, "coalition", "officer"),
            "russia": add_party(server.database_url, "russia", "officer", "ru"),
        }
        put_in_effect(server.url, tokens, sharing="plans")
        now = time.time()

        def body(op_id: str, lat: float, lon: float, version: int | None = None) -> Any:
            data: dict[str, Any] = {
                "id": op_id,
                "kind": "air_patrol",
                "aircraft": ["X1"],
                "volumes": [
                    {
                        "volume": {
                            "outline_circle": {
                                "center": {"lat": lat, "lng": lon},
                                "radius": {"value": 10, "units": "NM"},
                            },
                            "altitude_lower": {
                                "value": 15000,
                                "reference": "W84",
                                "units": "FT",
                            },
                            "altitude_upper": {
                                "value": 25000,
                                "reference": "W84",
                                "units": "FT",
                            },
                        },
                        "time_start": {
                            "value": datetime.fromtimestamp(now + 7200, tz=UTC)
                            .isoformat()
                            .replace("+00:00", "Z")
                        },
                        "time_end": {
                            "value": datetime.fromtimestamp(now + 14400, tz=UTC)
                            .isoformat()
                            .replace("+00:00", "Z")
                        },
                    }
                ],
            }
            if version is not None:
                data["version"] = version
            return data

        with (
            server.client(tokens["russia"]) as r,
            server.client(tokens["coalition"]) as c,
        ):
            assert r.post("/v1/operations", json=body("r1", *EAST)).status_code == 201
            filed = c.post("/v1/operations", json=body("c1", *shifted(EAST, 5.0)))
            assert filed.status_code == 201, filed.text
            assert filed.json()["state"] == "conflicted"
            assert "r1" in str(filed.json()["conflicts"])  # plans: the other op's id
            moved = c.put("/v1/operations/c1", json=body("c1", *FAR_EAST, version=1))
            assert moved.status_code == 200 and moved.json()["state"] == "pending"
            stale = c.put("/v1/operations/c1", json=body("c1", *FAR_EAST, version=1))
            assert stale.status_code == 409
            bad = c.post("/v1/operations", json={"id": "x", "kind": "air_patrol"})
            assert bad.status_code == 422
            # docs/planning.md once used 'cap': refused at kind, not at the notice.
            cap = c.post("/v1/operations", json=body("c2", *FAR_EAST) | {"kind": "cap"})
            assert cap.status_code == 422, cap.text
            assert [p["field"] for p in cap.json()["problems"]] == ["kind"]
            assert r.get("/v1/operations/c1").status_code == 200
            assert r.post("/v1/operations/c1/activate").status_code == 403
            inbox = r.get("/v1/hotline/messages", params={"box": "in"}).json()
            assert {m["operation_id"] for m in inbox} == {"c1"}
