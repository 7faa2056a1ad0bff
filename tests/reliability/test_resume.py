"""A new run of live detection on the same store (what a restart or a takeover
gives) continues what the earlier run left: the same alert ids, no all-clear that
did not happen in the sky, one incident per encounter, and no position skipped. On
both backends; each run is a new ``LiveDetection``, as each process has one."""

from __future__ import annotations

from deconfliction.domain.planning import Circle, Operation, Volume3D, Volume4D
from deconfliction.service import planning, protocols
from deconfliction.service.live import LiveDetection
from tests.integration.helpers import protocol_text
from tests.reliability._store import (
    AL_TANF,
    COALITION,
    EAST,
    FAR,
    HAMA,
    INTERVAL_S,
    NEAR,
    OUT_OF_AL_TANF,
    RUSSIA,
    T0,
    Store,
    at,
    east_of,
)


def _encounter(store: Store, live: LiveDetection) -> str:
    """R1 and C1 in loss of separation, ticked once: the alert's id."""
    now = store.clock.t_s
    store.post(at("russia", "R1", now, HAMA), at("coalition", "C1", now, NEAR))
    store.clock.advance(INTERVAL_S)
    live.tick()
    [alert] = store.alerts()
    return str(alert.id)


class TestAlerts:
    def test_an_alert_continues_under_its_id(self, store: Store) -> None:
        first = store.run()
        first.tick()
        alert_id = _encounter(store, first)
        # The process dies; the encounter goes on; a new run takes over.
        now = store.clock.t_s
        store.post(at("russia", "R1", now, HAMA), at("coalition", "C1", now, NEAR))
        store.clock.advance(INTERVAL_S)
        second = store.run()
        for _ in range(3):
            second.tick()
            store.clock.advance(INTERVAL_S)
        [alert] = store.alerts()
        assert (alert.id, alert.cleared_t_s) == (alert_id, None)
        assert "alert.cleared" not in store.event_types()
        assert store.event_types().count("alert.raised") == 1

    def test_clears_only_after_two_intervals_watched_out_of_conflict(
        self, store: Store
    ) -> None:
        first = store.run()
        first.tick()
        alert_id = _encounter(store, first)
        # C1 moved away while no process ran.
        store.post(at("coalition", "C1", store.clock.t_s, FAR))
        store.clock.advance(600.0)
        second = store.run()
        second.tick()  # out of conflict, but only just watched
        store.clock.advance(2 * INTERVAL_S - 0.001)
        second.tick()
        assert [a.cleared_t_s for a in store.alerts()] == [None]
        store.clock.advance(0.001)  # exactly two intervals watched
        second.tick()
        [alert] = store.alerts()
        assert (alert.id, alert.cleared_t_s) == (alert_id, store.clock.t_s)
        assert store.event_types().count("alert.cleared") == 1

    def test_alerts_of_a_protocol_no_longer_in_effect_are_cleared(
        self, store: Store
    ) -> None:
        first = store.run()
        first.tick()
        _encounter(store, first)
        with store.engine.begin() as conn:  # version 2 takes effect meanwhile
            protocols.propose(conn, COALITION, protocol_text(2), store.clock.t_s)
            protocols.accept(conn, RUSSIA, "euphrates-2017", 2, store.clock.t_s)
        store.clock.advance(INTERVAL_S)
        store.run().tick()
        cleared, raised = store.alerts()  # the encounter is alerted anew under v2
        assert (cleared.cleared_t_s, raised.cleared_t_s) == (store.clock.t_s, None)
        assert store.event_types().count("alert.cleared") == 1


class TestIncidents:
    def test_a_loss_of_separation_stays_one_incident(self, store: Store) -> None:
        first = store.run()
        first.tick()
        _encounter(store, first)
        [loss] = store.incidents_of("loss_of_separation")
        now = store.clock.t_s
        store.post(at("russia", "R1", now, HAMA), at("coalition", "C1", now, NEAR))
        store.clock.advance(INTERVAL_S)
        second = store.run()
        second.tick()
        assert [
            (i.id, i.end_t_s) for i in store.incidents_of("loss_of_separation")
        ] == [(loss.id, None)]
        store.post(at("coalition", "C1", store.clock.t_s, FAR))  # separated again
        store.clock.advance(INTERVAL_S)
        second.tick()
        [after] = store.incidents_of("loss_of_separation")
        assert (after.id, after.start_t_s, after.end_t_s) == (
            loss.id,
            loss.start_t_s,
            store.clock.t_s,
        )

    def test_a_zone_incursion_stays_one_incident_and_closes_as_it_would(
        self, store: Store
    ) -> None:
        first = store.run()
        first.tick()
        t = store.clock.t_s
        store.post(
            at("russia", "R2", t, OUT_OF_AL_TANF), at("russia", "R2", t + 1, AL_TANF)
        )
        store.clock.advance(INTERVAL_S)
        first.tick()
        [opened] = store.incidents_of("zone_incursion")
        assert (opened.start_t_s, opened.end_t_s) == (t + 1, None)
        # Inside for a while, then out; the earlier run saw none of it.
        store.post(
            at("russia", "R2", t + 30, AL_TANF),
            at("russia", "R2", t + 40, OUT_OF_AL_TANF),
        )
        second = store.run()
        store.clock.advance(40)
        second.tick()
        [ongoing] = store.incidents_of("zone_incursion")
        assert (ongoing.id, ongoing.end_t_s) == (opened.id, None)
        store.post(at("russia", "R2", t + 100, OUT_OF_AL_TANF))  # out for 60 s
        store.clock.advance(60)
        second.tick()
        [closed] = store.incidents_of("zone_incursion")
        assert (closed.id, closed.start_t_s, closed.end_t_s) == (
            opened.id,
            t + 1,
            t + 30,
        )
        types = store.event_types("russia")
        assert (types.count("incident.opened"), types.count("incident.closed")) == (
            1,
            1,
        )

    def test_positions_stored_after_the_last_tick_are_not_skipped(
        self, store: Store
    ) -> None:
        first = store.run()
        first.tick()
        t = store.clock.t_s
        store.post(at("russia", "R2", t, OUT_OF_AL_TANF))
        store.clock.advance(INTERVAL_S)
        first.tick()
        # Into the zone and out again, stored after the earlier run's last tick.
        store.post(
            at("russia", "R2", t + 6, AL_TANF),
            at("russia", "R2", t + 7, AL_TANF),
            at("russia", "R2", t + 8, OUT_OF_AL_TANF),
        )
        store.clock.advance(INTERVAL_S)
        store.run().tick()
        [incursion] = store.incidents_of("zone_incursion")
        assert (incursion.start_t_s, incursion.end_t_s) == (t + 6, None)


class TestOperations:
    def test_an_operation_out_of_its_volumes_stays_one_incident(
        self, store: Store
    ) -> None:
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
        first = store.run()
        first.tick()
        t = store.clock.t_s
        out = east_of(EAST, 20.0)
        store.post(at("coalition", "VIPER11", t, out))
        store.clock.advance(INTERVAL_S)
        first.tick()
        [opened] = store.incidents_of("operation_nonconformance")
        store.post(
            at("coalition", "VIPER11", t + 10, out),
            at("coalition", "VIPER11", t + 20, EAST),
        )
        store.clock.advance(20)
        second = store.run()
        second.tick()
        assert [
            (i.id, i.end_t_s) for i in store.incidents_of("operation_nonconformance")
        ] == [(opened.id, None)]
        store.post(at("coalition", "VIPER11", t + 80, EAST))  # inside for 60 s
        store.clock.advance(60)
        second.tick()
        [closed] = store.incidents_of("operation_nonconformance")
        assert (closed.id, closed.start_t_s, closed.end_t_s) == (opened.id, t, t + 10)
