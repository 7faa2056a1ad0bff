"""Conflict alerts with hysteresis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.alert_tracker import (
    AlertEventKind,
    AlertTracker,
    alert_id,
)
from deconfliction.domain.model import AircraftStates, AlertLevel, Conflicts

RAISED, UPDATED, CLEARED = (
    AlertEventKind.RAISED,
    AlertEventKind.UPDATED,
    AlertEventKind.CLEARED,
)


def _states(
    ids: tuple[str, ...] = ("C1", "R1", "R2"),
    lat_deg: tuple[float, ...] | None = None,
) -> AircraftStates:
    n = len(ids)
    return AircraftStates.from_columns(
        ids=list(ids),
        lat_deg=lat_deg if lat_deg is not None else [35.0 + 0.01 * i for i in range(n)],
        lon_deg=[38.0 + 0.02 * i for i in range(n)],
        alt_ft=[20000.0 + 100.0 * i for i in range(n)],
        gs_kt=[400.0] * n,
        trk_deg=[90.0] * n,
        vs_fpm=[0.0] * n,
        party=["coalition" if i.startswith("C") else "russia" for i in ids],
    )


def _conflicts(*rows: tuple[int, int, float, float, int]) -> Conflicts:
    """Rows of (a index, b index, dcpa_nm, tcpa_s, level)."""
    arr = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return Conflicts(
        a_index=arr[:, 0].astype(np.int64),
        b_index=arr[:, 1].astype(np.int64),
        tcpa_s=arr[:, 3],
        dcpa_nm=arr[:, 2],
        dalt_ft_at_cpa=np.full(len(arr), 100.0),
        tin_s=np.zeros(len(arr)),
        tout_s=arr[:, 3] * 2,
        level=arr[:, 4].astype(np.int64),
    )


NONE = _conflicts()
CONFLICT, ADVISORY, WARNING = (int(v) for v in AlertLevel)


def _kinds(events: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(e.kind.value, f"{e.alert.a_id}/{e.alert.b_id}") for e in events]


class TestAlertId:
    def test_is_made_of_the_pair_and_the_whole_second(self) -> None:
        assert alert_id("A", "B", 100.9) == "A-B-100"


class TestAlertTracker:
    def test_a_new_conflict_raises_an_alert_with_its_figures(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        states = _states()
        [event] = tracker.update(
            1000.0, states, _conflicts((0, 1, 1.5, 120.0, ADVISORY))
        )
        a = event.alert
        assert (event.kind, event.t_s) == (RAISED, 1000.0)
        assert (a.id, a.a_id, a.b_id) == ("C1-R1-1000", "C1", "R1")
        assert (a.party_a, a.party_b) == ("coalition", "russia")
        assert (a.first_seen_t_s, a.last_seen_t_s, a.duration_s) == (
            1000.0,
            1000.0,
            0.0,
        )
        assert a.level is AlertLevel.ADVISORY and a.max_level is AlertLevel.ADVISORY
        assert (a.dcpa_nm, a.min_dcpa_nm, a.tcpa_s) == (1.5, 1.5, 120.0)
        assert (a.a_lat_deg, a.a_lon_deg, a.a_alt_ft) == (35.0, 38.0, 20000.0)
        assert (a.b_lat_deg, a.b_lon_deg, a.b_alt_ft) == (35.01, 38.02, 20100.0)
        assert a.detections == 1
        assert tracker.active() == [a]

    def test_same_figures_again_give_no_event(self) -> None:
        # Closing as predicted: 5 s later, 5 s less to the same moment of CPA.
        tracker = AlertTracker(clear_after_s=30.0)
        tracker.update(0.0, _states(), _conflicts((0, 1, 1.5, 120.0, CONFLICT)))
        assert (
            tracker.update(5.0, _states(), _conflicts((0, 1, 1.5, 115.0, CONFLICT)))
            == []
        )
        [a] = tracker.active()
        assert a.detections == 2 and a.last_seen_t_s == 5.0

    def test_a_moment_of_cpa_moved_by_the_resolution_is_news(self) -> None:
        # #21.8: 10,000 alerts counting down were all rewritten at every tick.
        tracker = AlertTracker(clear_after_s=30.0)
        tracker.update(0.0, _states(), _conflicts((0, 1, 1.5, 120.0, CONFLICT)))
        # The moment of CPA: 120.0, then 120.5 (no news), then 121.0: exactly one
        # resolution from what was last said, news; then 121.5: no news again.
        t1 = tracker.update(1.0, _states(), _conflicts((0, 1, 1.5, 119.5, CONFLICT)))
        assert t1 == []
        [event] = tracker.update(
            2.0, _states(), _conflicts((0, 1, 1.5, 119.0, CONFLICT))
        )
        assert event.kind is UPDATED
        t3 = tracker.update(3.0, _states(), _conflicts((0, 1, 1.5, 118.5, CONFLICT)))
        assert t3 == []

    def test_changed_figures_or_level_give_an_update(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        tracker.update(0.0, _states(), _conflicts((0, 1, 3.0, 120.0, CONFLICT)))
        [e1] = tracker.update(5.0, _states(), _conflicts((0, 1, 3.0, 125.0, CONFLICT)))
        [e2] = tracker.update(10.0, _states(), _conflicts((0, 1, 0.5, 110.0, WARNING)))
        [e3] = tracker.update(15.0, _states(), _conflicts((0, 1, 2.0, 105.0, CONFLICT)))
        assert [e.kind for e in (e1, e2, e3)] == [UPDATED] * 3
        a = e3.alert
        assert a.level is AlertLevel.CONFLICT  # now
        assert a.max_level is AlertLevel.WARNING  # highest reached
        assert (a.dcpa_nm, a.min_dcpa_nm, a.tcpa_s) == (2.0, 0.5, 105.0)
        assert a.id == e1.alert.id == "C1-R1-0"

    def test_positions_are_those_of_the_latest_detection(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        c = _conflicts((0, 1, 1.0, 60.0, CONFLICT))
        tracker.update(0.0, _states(), c)
        tracker.update(5.0, _states(lat_deg=(36.0, 36.5, 37.0)), c)
        [a] = tracker.active()
        assert (a.a_lat_deg, a.b_lat_deg) == (36.0, 36.5)

    def test_clears_only_after_the_pair_has_been_out_for_clear_after_s(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        tracker.update(0.0, _states(), _conflicts((0, 1, 1.0, 60.0, CONFLICT)))
        assert tracker.update(5.0, _states(), NONE) == []
        assert tracker.update(29.0, _states(), NONE) == []
        [event] = tracker.update(30.0, _states(), NONE)
        assert event.kind is CLEARED and event.t_s == 30.0
        assert event.alert.last_seen_t_s == 0.0
        assert tracker.active() == []

    def test_a_conflict_back_within_the_hysteresis_keeps_its_alert(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        c = _conflicts((0, 1, 1.0, 60.0, CONFLICT))
        tracker.update(0.0, _states(), c)
        tracker.update(20.0, _states(), NONE)
        again = _conflicts((0, 1, 1.0, 35.0, CONFLICT))  # the same moment of CPA
        assert tracker.update(25.0, _states(), again) == []  # no event
        [a] = tracker.active()
        assert a.id == "C1-R1-0" and a.detections == 2

    def test_a_conflict_back_after_clearing_raises_a_new_alert(self) -> None:
        tracker = AlertTracker(clear_after_s=10.0)
        c = _conflicts((0, 1, 1.0, 60.0, CONFLICT))
        tracker.update(0.0, _states(), c)
        tracker.update(10.0, _states(), NONE)
        [event] = tracker.update(15.0, _states(), c)
        assert event.kind is RAISED and event.alert.id == "C1-R1-15"

    def test_an_aircraft_gone_from_the_snapshot_is_cleared_in_time(self) -> None:
        tracker = AlertTracker(clear_after_s=10.0)
        tracker.update(0.0, _states(), _conflicts((0, 1, 1.0, 60.0, CONFLICT)))
        [event] = tracker.update(12.0, _states(("C1", "R2")), NONE)
        assert event.kind is CLEARED

    def test_several_pairs_at_once(self) -> None:
        tracker = AlertTracker(clear_after_s=0.0)
        events = tracker.update(
            0.0,
            _states(),
            _conflicts((0, 1, 1.0, 60.0, CONFLICT), (0, 2, 2.0, 60.0, ADVISORY)),
        )
        assert _kinds(events) == [("raised", "C1/R1"), ("raised", "C1/R2")]
        events = tracker.update(5.0, _states(), _conflicts((0, 2, 2.0, 55.0, ADVISORY)))
        assert _kinds(events) == [("cleared", "C1/R1")]

    def test_a_pair_given_b_first_is_kept_in_id_order(self) -> None:
        tracker = AlertTracker(clear_after_s=0.0)
        [event] = tracker.update(
            0.0, _states(), _conflicts((1, 0, 1.0, 60.0, CONFLICT))
        )
        assert (event.alert.a_id, event.alert.party_a) == ("C1", "coalition")
        assert (event.alert.b_id, event.alert.party_b) == ("R1", "russia")

    def test_clear_all_ends_every_alert(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        tracker.update(
            0.0,
            _states(),
            _conflicts((0, 1, 1.0, 60.0, CONFLICT), (0, 2, 2.0, 60.0, ADVISORY)),
        )
        events = tracker.clear_all(100.0)
        assert [e.kind for e in events] == [CLEARED, CLEARED]
        assert tracker.active() == []

    def test_time_going_back_is_refused(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        tracker.update(10.0, _states(), NONE)
        with pytest.raises(ValueError, match="earlier"):
            tracker.update(5.0, _states(), NONE)

    def test_a_conflict_indexing_outside_the_states_is_refused(self) -> None:
        tracker = AlertTracker(clear_after_s=30.0)
        with pytest.raises(ValueError, match="outside"):
            tracker.update(0.0, _states(), _conflicts((0, 7, 1.0, 60.0, CONFLICT)))

    @pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
    def test_a_bad_clear_after_is_refused(self, bad: float) -> None:
        with pytest.raises(ValueError):
            AlertTracker(clear_after_s=bad)

    @settings(max_examples=60, deadline=None)
    @given(
        present=st.lists(st.booleans(), min_size=1, max_size=60),
        clear_after_steps=st.integers(0, 6),
    )
    def test_one_alert_per_episode_whatever_the_flicker(
        self, present: list[bool], clear_after_steps: int
    ) -> None:
        # Reference: an episode starts at a detection when the pair was not in an
        # alert, and ends once it has been absent for clear_after_steps steps.
        step_s = 5.0
        tracker = AlertTracker(clear_after_s=clear_after_steps * step_s)
        c = _conflicts((0, 1, 1.0, 60.0, CONFLICT))
        raised = cleared = 0
        expected_episodes = 0
        open_since_last: int | None = None
        for k, here in enumerate(present):
            gone_s = None if open_since_last is None else k - open_since_last
            if not here and gone_s is not None and gone_s >= clear_after_steps:
                open_since_last = None
            if here:
                if open_since_last is None:
                    expected_episodes += 1
                open_since_last = k
            events = tracker.update(k * step_s, _states(), c if here else NONE)
            raised += sum(e.kind is RAISED for e in events)
            cleared += sum(e.kind is CLEARED for e in events)
            assert raised - cleared == len(tracker.active()) <= 1
        assert raised == expected_episodes
