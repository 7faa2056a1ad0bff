"""The lease of live detection (service/leadership.py) between runs that share a
store, each a ``LiveDetection`` with its own holder name as each server process
has: one holds it at a time, another takes it only once it has ended, and a run
that lost it writes nothing. On both backends, with a manual clock."""

from __future__ import annotations

import pytest

from deconfliction.errors import LeaseLostError
from deconfliction.service import leadership
from deconfliction.service.live import LiveDetection
from tests.reliability._store import HAMA, INTERVAL_S, NEAR, Store, at


def _run(store: Store, holder: str) -> LiveDetection:
    return LiveDetection(store.engine, store.clock, INTERVAL_S, holder=holder)


def _lease(store: Store) -> leadership.Lease:
    with store.engine.connect() as conn:
        return leadership.current(conn)


class TestLease:
    def test_taken_only_once_it_has_ended(self, store: Store) -> None:
        a, b = _run(store, "a"), _run(store, "b")
        assert a.lead()
        a.tick()  # renews the lease until now + 1.5 intervals
        assert not b.lead()
        assert b.is_standing_by()
        store.clock.advance(leadership.LEASE_INTERVALS * INTERVAL_S)  # exactly its end
        assert not b.lead()
        store.clock.advance(0.001)
        assert b.lead()
        assert _lease(store).holder == "b"
        assert not a.lead()

    def test_a_run_that_lost_the_lease_writes_nothing(self, store: Store) -> None:
        a, b = _run(store, "a"), _run(store, "b")
        assert a.lead()
        a.tick()
        now = store.clock.t_s
        store.post(at("russia", "R1", now, HAMA), at("coalition", "C1", now, NEAR))
        store.clock.advance(INTERVAL_S)
        assert a.lead()
        a.tick()
        [alert] = store.alerts()
        # a stalls past its lease; b takes over and goes on with the same alert.
        store.clock.advance(leadership.LEASE_INTERVALS * INTERVAL_S + 0.001)
        assert b.lead()
        b.tick()
        events_before = store.event_types()
        with pytest.raises(LeaseLostError):
            a.tick()  # a, unaware, ticks: not committed
        assert store.event_types() == events_before
        assert not a.lead()
        assert [(x.id, x.cleared_t_s) for x in store.alerts()] == [(alert.id, None)]
        assert events_before.count("alert.raised") == 1

    def test_given_up_on_a_clean_stop(self, store: Store) -> None:
        a, b = _run(store, "a"), _run(store, "b")
        assert a.lead()
        a.tick()
        assert not b.lead()
        a.release()
        assert _lease(store).holder is None
        assert b.lead()  # at once, not when the lease would have ended

    def test_regained_after_another_held_it_takes_the_state_over_again(
        self, store: Store
    ) -> None:
        a, b = _run(store, "a"), _run(store, "b")
        assert a.lead()
        a.tick()
        now = store.clock.t_s
        store.post(at("russia", "R1", now, HAMA), at("coalition", "C1", now, NEAR))
        store.clock.advance(INTERVAL_S)
        assert a.lead()
        a.tick()
        # While a is paused, b takes over, sees the pair separate, clears the
        # alert, and stops cleanly; then a gets the lease again.
        store.clock.advance(leadership.LEASE_INTERVALS * INTERVAL_S + 0.001)
        assert b.lead()
        store.post(at("coalition", "C1", store.clock.t_s, (HAMA[0] + 1.0, HAMA[1])))
        for _ in range(4):
            store.clock.advance(INTERVAL_S)
            assert b.lead()
            b.tick()
        [cleared] = store.alerts()
        assert cleared.cleared_t_s is not None
        b.release()
        assert a.lead()
        a.tick()  # from the store: the alert stays cleared, nothing raised again
        assert [(x.id, x.cleared_t_s) for x in store.alerts()] == [
            (cleared.id, cleared.cleared_t_s)
        ]
        assert store.event_types().count("alert.cleared") == 1
