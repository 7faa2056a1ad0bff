"""Tests of deconfliction.service.live on batches read as columns: several positions
per aircraft in one batch, stored out of time order, repeated times and late
positions (README, track ingestion: late positions never move the live picture
back). A real store on both backends, the shipped protocol in effect."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from deconfliction.domain import geodesy
from deconfliction.domain.planning import Circle, Operation, Volume3D, Volume4D
from deconfliction.service import alerts as alert_store
from deconfliction.service import auth, events, planning, protocols
from deconfliction.service import incidents as incident_store
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.keys import KeyRing
from deconfliction.service.live import LiveDetection
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import incidents, positions
from tests.integration.helpers import protocol_text

T0 = 1513152000.0  # 2017-12-13 08:00Z
COALITION = Principal("coalition", Role.OFFICER)
RUSSIA = Principal("russia", Role.OFFICER)
HAMA = (35.0, 36.5)  # west of the Euphrates, clear of the zones
AL_TANF = (33.50, 38.62)  # the coalition's zone, 30 NM around
EAST = (36.30, 41.00)  # east of the Euphrates, where the operation flies


@dataclass
class Store:
    engine: Engine
    clock: ManualClock
    keys: KeyRing

    def post(self, *rows: dict[str, Any]) -> None:
        """Store ``rows`` in this order (one batch): row ids follow it."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(positions),
                [
                    {
                        "alt_ft": 20000.0,
                        "gs_kt": 0.0,
                        "trk_deg": 0.0,
                        "vs_fpm": 0.0,
                        "batch_id": "b",
                        "received_t_s": self.clock.t_s,
                    }
                    | r
                    for r in rows
                ],
            )

    def incidents_of(self, kind: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(incidents)
                    .where(incidents.c.kind == kind)
                    .order_by(incidents.c.start_t_s)
                ).all()
            )


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    engine = store_engine.make_engine(database_url)
    store_engine.upgrade(engine)
    clock = ManualClock(T0)
    with engine.begin() as conn:
        for party, lang in (("coalition", "en"), ("russia", "ru")):
            auth.ensure_party(conn, party, party.title(), lang, clock.t_s)
        protocols.propose(conn, COALITION, protocol_text(1, "plans"), clock.t_s)
        protocols.accept(conn, RUSSIA, "euphrates-2017", 1, clock.t_s)
    try:
        yield Store(engine, clock, KeyRing(tmp_path / "keys"))
    finally:
        engine.dispose()


def at(
    party: str, aircraft: str, t_s: float, place: tuple[float, float]
) -> dict[str, Any]:
    return {
        "party_id": party,
        "aircraft_id": aircraft,
        "t_s": t_s,
        "lat_deg": place[0],
        "lon_deg": place[1],
    }


def east_of(place: tuple[float, float], nm: float) -> tuple[float, float]:
    lat, lon = geodesy.destination(place[0], place[1], 90.0, nm)
    return float(lat), float(lon)


NEAR = east_of(HAMA, 2.0)  # in loss of separation with an aircraft at HAMA
FAR = east_of(HAMA, 60.0)  # clear of it


class TestLivePicture:
    def test_newest_position_wins_whatever_the_order_stored(self, store: Store) -> None:
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        now = store.clock.t_s
        store.post(
            at("russia", "R1", now - 1, HAMA),
            at("coalition", "C1", now - 2, NEAR),  # the newest
            at("coalition", "C1", now - 9, FAR),  # late: stored after the newest
            at("coalition", "C1", now - 5, FAR),
        )
        store.clock.advance(5)
        report = live.tick()
        assert (report.positions_read, report.aircraft, report.conflicts) == (4, 2, 1)

    def test_the_store_holds_one_position_per_aircraft_and_time(
        self, store: Store
    ) -> None:
        # Ingestion keeps the first (#21.10); the live loop never sees a tie.
        now = store.clock.t_s
        store.post(at("coalition", "C1", now, FAR))
        with pytest.raises(IntegrityError):
            store.post(at("coalition", "C1", now, NEAR))

    def test_late_positions_never_move_the_picture_back(self, store: Store) -> None:
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        now = store.clock.t_s
        store.post(at("russia", "R1", now, HAMA), at("coalition", "C1", now, NEAR))
        store.clock.advance(5)
        assert live.tick().conflicts == 1
        store.post(at("coalition", "C1", now - 3, FAR))  # older than the newest
        store.clock.advance(5)
        report = live.tick()
        assert (report.positions_read, report.conflicts) == (1, 1)

    def test_a_restart_resumes_from_the_newest_stored_position(
        self, store: Store
    ) -> None:
        now = store.clock.t_s
        store.post(
            at("russia", "R1", now - 3, HAMA),
            at("coalition", "C1", now - 2, FAR),  # the newest, stored first
            at("coalition", "C1", now - 4, NEAR),
            at("coalition", "C2", now - 90, NEAR),  # older than stale_after_s
        )
        report = LiveDetection(store.engine, store.clock, 5.0).tick()
        assert (report.positions_read, report.aircraft, report.conflicts) == (0, 2, 0)


class TestLossOfSeparationAtTheMinima:
    """Exactly at a minimum is separated: no conflict and no loss-of-separation
    incident; just inside is both."""

    @pytest.mark.parametrize(
        ("apart_nm", "coalition_alt_ft", "lost"),
        [
            (0.0, 36_000.0, False),  # FL360 under FL370, over the same point
            (0.0, 36_001.0, True),
            (5.0, 37_000.0, False),  # exactly 5 NM apart, level
            (4.999, 37_000.0, True),
        ],
    )
    def test_exactly_at_a_minimum(
        self, store: Store, apart_nm: float, coalition_alt_ft: float, lost: bool
    ) -> None:
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        now = store.clock.t_s
        store.post(
            at("russia", "R1", now, HAMA) | {"alt_ft": 37_000.0},
            at("coalition", "C1", now, east_of(HAMA, apart_nm))
            | {"alt_ft": coalition_alt_ft},
        )
        store.clock.advance(5)
        assert live.tick().conflicts == int(lost)
        assert len(store.incidents_of("loss_of_separation")) == int(lost)


class TestLossOfSeparationHasTwoParties:
    def test_no_offender_and_counted_for_both(self, store: Store) -> None:
        # Issue 13: a loss between COA065 and RUS064 read "by coalition".
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        now = store.clock.t_s
        store.post(at("russia", "R1", now, HAMA), at("coalition", "C1", now, NEAR))
        store.clock.advance(5)
        live.tick()
        [loss] = store.incidents_of("loss_of_separation")
        with store.engine.connect() as conn:
            sharing = protocols.current_sharing(conn)
            for who in (COALITION, RUSSIA):
                shown = incident_store.get_visible(conn, who, loss.id, sharing)
                assert shown["offending_party"] is None
                assert shown["parties"] == ["coalition", "russia"]
                assert {a["party"] for a in shown["aircraft"]} == {
                    "coalition",
                    "russia",
                }
                counts = incident_store.daily_counts(
                    conn, who, sharing, now - 86_400.0, now + 86_400.0
                )
                for party in ("coalition", "russia"):
                    (day,) = counts[party].values()
                    assert day["loss_of_separation"] == 1


class TestClearedAlertKeepsItsWorst:
    """Issue 13: a warning at 0.2 NM, then a conflict at 1.9 NM, then clear: the
    cleared alert still says warning and 0.2 NM, in /v1/alerts and on the stream
    (``max_level``, ``min_dcpa_nm``), beside the latest ``level`` and ``dcpa_nm``."""

    def test_highest_level_and_smallest_predicted_miss(self, store: Store) -> None:
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        for offset_nm in (0.2, 1.9, 60.0, 60.0, 60.0, 60.0):
            now = store.clock.t_s
            store.post(
                at("russia", "R1", now, HAMA),
                at("coalition", "C1", now, east_of(HAMA, offset_nm)),
            )
            store.clock.advance(5)
            live.tick()
        with store.engine.connect() as conn:
            for party in ("coalition", "russia"):
                who = Principal(party, Role.OFFICER)
                (alert,) = alert_store.list_visible(
                    conn, who, protocols.current_sharing(conn)
                )
                assert alert["active"] is False
                assert (alert["level"], alert["max_level"]) == ("conflict", "warning")
                assert alert["dcpa_nm"] == pytest.approx(1.9, abs=0.01)
                assert alert["min_dcpa_nm"] == pytest.approx(0.2, abs=0.01)
                stream = events.fetch(conn, party, 0)
                kinds = [e.type for e in stream if e.type.startswith("alert.")]
                assert kinds[0] == "alert.raised" and kinds[-1] == "alert.cleared"
                cleared = next(e for e in stream if e.type == "alert.cleared").data
                assert (cleared["level"], cleared["max_level"]) == (
                    "conflict",
                    "warning",
                )
                assert cleared["min_dcpa_nm"] == pytest.approx(0.2, abs=0.01)


class TestConformanceFeed:
    OUT = east_of(AL_TANF, -60.0)

    @pytest.mark.parametrize(("inside_at_3", "entry_s"), [(True, -3), (False, -1)])
    def test_fed_in_time_order_each_time_once(
        self, store: Store, inside_at_3: bool, entry_s: float
    ) -> None:
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        now = store.clock.t_s
        store.post(
            at("russia", "R2", now - 1, AL_TANF),
            at("russia", "R2", now - 4, self.OUT),
            at("russia", "R2", now - 3, AL_TANF if inside_at_3 else self.OUT),
        )
        store.clock.advance(5)
        live.tick()
        [incursion] = store.incidents_of("zone_incursion")
        assert incursion.start_t_s == now + entry_s
        assert incursion.end_t_s is None

    def test_a_line_violation_carries_both_depths(self, store: Store) -> None:
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        store.post(at("russia", "R3", store.clock.t_s, EAST))  # across the line
        store.clock.advance(5)
        live.tick()
        [violation] = store.incidents_of("line_violation")
        with store.engine.connect() as conn:
            shown = incident_store.get_visible(
                conn, RUSSIA, violation.id, protocols.current_sharing(conn)
            )
        across, edge = shown["depth_across_line_nm"], shown["depth_from_buffer_edge_nm"]
        assert across > 10.0 and shown["depth_inside_zone_nm"] is None
        assert edge - across == pytest.approx(10.0, abs=1e-3)  # the 10 NM buffer
        assert shown["severity_nm"] == pytest.approx(edge, abs=1e-4)

    def test_late_positions_are_not_fed(self, store: Store) -> None:
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        now = store.clock.t_s
        store.post(
            at("russia", "R2", now - 4, self.OUT), at("russia", "R2", now, self.OUT)
        )
        store.clock.advance(5)
        live.tick()
        store.post(
            at("russia", "R2", now - 2, AL_TANF),  # late: older than the last fed
            at("russia", "R2", now + 4, self.OUT),
        )
        store.clock.advance(5)
        report = live.tick()
        assert report.positions_read == 2
        assert store.incidents_of("zone_incursion") == []


class TestOperationConformance:
    @pytest.fixture
    def flying(self, store: Store) -> LiveDetection:
        volume = Volume4D(
            Volume3D(Circle(EAST[0], EAST[1], 10.0), 15000.0, 25000.0),
            T0 + 2 * 3600,
            T0 + 4 * 3600,
        )
        op = Operation("c1", "coalition", "air_patrol", (volume,))
        with store.engine.begin() as conn:
            planning.file(conn, store.keys, COALITION, op, ["VIPER11"], T0)
        store.clock.advance(901)  # the notice's deadline passes: accepted
        with store.engine.begin() as conn:
            planning.tick(conn, store.clock.t_s)
        store.clock.t_s = T0 + 2 * 3600 + 60
        with store.engine.begin() as conn:
            planning.activate(conn, COALITION, "c1", store.clock.t_s)
        live = LiveDetection(store.engine, store.clock, 5.0)
        live.tick()
        return live

    def states(self, store: Store) -> list[str]:
        with store.engine.connect() as conn:
            stream = events.fetch(conn, "coalition", 0, limit=10_000)
        return [e.data["to"] for e in stream if e.type == "operation.state"]

    def test_out_and_back_for_the_debounce_within_one_batch(
        self, store: Store, flying: LiveDetection
    ) -> None:
        t = store.clock.t_s
        out = east_of(EAST, 20.0)
        store.post(
            at("coalition", "VIPER11", t + 80, EAST),
            at("coalition", "VIPER11", t, out),
            at("coalition", "VIPER11", t + 10, EAST),
        )
        store.clock.advance(85)
        flying.tick()
        [incident] = store.incidents_of("operation_nonconformance")
        assert (incident.start_t_s, incident.end_t_s) == (t, t)
        assert self.states(store)[-2:] == ["nonconforming", "activated"]

    def test_a_run_inside_broken_by_a_position_outside_starts_again(
        self, store: Store, flying: LiveDetection
    ) -> None:
        t = store.clock.t_s
        out = east_of(EAST, 20.0)
        store.post(
            at("coalition", "VIPER11", t + 100, EAST),
            at("coalition", "VIPER11", t + 45, out),
            at("coalition", "VIPER11", t + 40, out),
            at("coalition", "VIPER11", t, out),
            at("coalition", "VIPER11", t + 10, EAST),
            at("coalition", "VIPER11", t + 50, EAST),
        )
        store.clock.advance(100)
        flying.tick()
        [incident] = store.incidents_of("operation_nonconformance")
        assert (incident.start_t_s, incident.end_t_s) == (t, None)
        assert self.states(store)[-1] == "nonconforming"
        store.post(at("coalition", "VIPER11", t + 110, EAST))
        store.clock.advance(10)
        flying.tick()
        [incident] = store.incidents_of("operation_nonconformance")
        assert (incident.start_t_s, incident.end_t_s) == (t, t + 45)  # last out
        assert self.states(store)[-1] == "activated"
