"""Tests of deconfliction.analysis.engine."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.analysis.engine import (
    ConflictRows,
    Timeline,
    conformance_rows,
    find_conflicts,
    find_violations,
    instant_range,
    nonconforming,
    screen_conformance,
    violation_order,
)
from deconfliction.analysis.tracks import TrackTable
from deconfliction.analysis.whatif import options_2015
from deconfliction.domain import conformance as conformance_module
from deconfliction.domain import geodesy
from deconfliction.domain.conformance import (
    ConformanceMonitor,
    PreparedConformance,
    Violation,
    ViolationEventKind,
    detect_violations,
    may_be_nonconforming,
)
from deconfliction.domain.detect import detect_conflicts
from deconfliction.domain.protocol import Protocol
from tests.unit.analysis.helpers import (
    T0_S,
    euphrates,
    flight,
    head_on,
    random_traffic,
    reference_traffic,
)


def _same(a: ConflictRows, b: ConflictRows) -> None:
    for name in ConflictRows.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


class TestInstantRange:
    def test_instants_cover_the_data_and_the_stale_time(self) -> None:
        assert instant_range(12.0, 20.0, 5.0, 10.0) == (3, 7)

    def test_an_instant_on_a_position_counts(self) -> None:
        assert instant_range(10.0, 10.0, 5.0, 0.0) == (2, 3)

    @given(
        st.floats(0.0, 1e9),
        st.floats(0.0, 1e5),
        st.sampled_from([1.0, 2.5, 5.0, 0.1, 7.0]),
    )
    def test_first_instant_is_at_or_after_the_first_position(
        self, t_s: float, span_s: float, interval_s: float
    ) -> None:
        k0, k1 = instant_range(t_s, t_s + span_s, interval_s, 0.0)
        assert k0 * interval_s >= t_s
        assert (k0 - 1) * interval_s < t_s
        assert k1 >= k0


class TestTimeline:
    def test_a_position_on_an_instant_is_used_as_it_is(self) -> None:
        table = flight("A", "red", 34.0, 37.0, 90.0, T0_S, 3)
        states = Timeline(table, 5.0, 60.0).states(int(T0_S / 5), int(T0_S / 5) + 3)
        assert states.row.tolist() == [0, 1, 2]
        np.testing.assert_array_equal(states.lat_deg, table.lat_deg)
        np.testing.assert_array_equal(states.alt_ft, table.alt_ft)

    def test_an_older_position_is_carried_along_its_track(self) -> None:
        table = flight("A", "red", 34.0, 37.0, 90.0, T0_S, 2, step_s=30.0, vs_fpm=600.0)
        k = int(T0_S / 5)
        states = Timeline(table, 5.0, 60.0).states(k, k + 6)
        assert states.row.tolist() == [0] * 6
        # At +25 s, 25 s of 420 kt east and 600 fpm of climb from the first position.
        assert states.alt_ft[-1] == pytest.approx(25_000.0 + 250.0)
        assert states.lon_deg[-1] > table.lon_deg[0]
        assert states.lat_deg[-1] == pytest.approx(table.lat_deg[0], abs=1e-3)

    def test_a_position_older_than_the_stale_time_is_dropped(self) -> None:
        table = flight("A", "red", 34.0, 37.0, 90.0, T0_S, 1)
        k = int(T0_S / 5)
        states = Timeline(table, 5.0, 60.0).states(k, k + 20)
        assert states.t_s.max() == T0_S + 60.0  # 60 s old is still used, 65 s is not

    def test_only_the_instants_asked_for(self) -> None:
        table = flight("A", "red", 34.0, 37.0, 90.0, T0_S, 100)
        k = int(T0_S / 5)
        states = Timeline(table, 5.0, 60.0).states(k + 10, k + 20)
        assert states.instant.tolist() == list(range(k + 10, k + 20))


class TestFindConflicts:
    def test_screen_finds_what_detect_finds_on_every_snapshot(self) -> None:
        table = reference_traffic()
        protocol = euphrates()
        screened = find_conflicts(table, protocol)
        assert len(screened) > 0
        _same(screened, find_conflicts(table, protocol, screen=False))

    def test_screen_on_dense_climbing_traffic(self) -> None:
        table = random_traffic(120, 0.5, seed=3)
        protocol = euphrates()
        screened = find_conflicts(table, protocol)
        assert len(screened) > 0
        _same(screened, find_conflicts(table, protocol, screen=False))

    @pytest.mark.parametrize("lat_deg", [34.0, 72.0])
    def test_screen_on_fast_turning_traffic_with_a_long_lookahead(
        self, lat_deg: float
    ) -> None:
        """Reports off the instant grid and irregular (carried along, some stale),
        tracks that turn between reports, speeds up to 1,400 kt, a 15-minute
        lookahead at low and high latitude: the widest boxes and the largest tilt of
        the screen's straight lines."""
        rng = np.random.default_rng(int(lat_deg))
        n_aircraft, n_reports = 60, 90
        ids = np.repeat([f"F{k:03d}" for k in range(n_aircraft)], n_reports)
        party = np.repeat(
            rng.choice(["coalition", "russia", "turkey"], n_aircraft), n_reports
        )
        gaps = rng.uniform(3.0, 40.0, (n_aircraft, n_reports))
        t_s = T0_S + np.cumsum(gaps, axis=1).ravel()
        trk = (
            np.repeat(rng.uniform(0, 360, n_aircraft), n_reports)
            + rng.normal(0, 25, n_aircraft * n_reports).cumsum() % 360
        ) % 360
        table = TrackTable.from_columns(
            ids,
            party,
            t_s,
            lat_deg + rng.uniform(-1.5, 1.5, ids.size),
            40.0 + rng.uniform(-2.5, 2.5, ids.size),
            rng.integers(200, 260, ids.size) * 100.0,
            np.repeat(rng.uniform(250, 1400, n_aircraft), n_reports),
            trk,
            rng.choice([0.0, 0.0, 4000.0, -6000.0], ids.size),
        ).in_time_order()
        protocol = dataclasses.replace(euphrates(), lookahead_s=900.0)
        screened = find_conflicts(table, protocol)
        assert len(screened) > 20
        _same(screened, find_conflicts(table, protocol, screen=False))

    @pytest.mark.parametrize("offset_nm", [4.97, 4.999])
    def test_screen_keeps_a_grazing_pass(self, offset_nm: float) -> None:
        """Opposite tracks ``offset_nm`` apart east-west at the equator on the prime
        meridian (east is an axis of the screen's boxes): inside 5 NM only for a few
        seconds; the screen must not lose the pair for want of a margin."""
        from deconfliction.domain import geodesy

        lat_b, lon_b = geodesy.destination(
            np.array([0.5]), np.array([0.0]), np.array([90.0]), np.array([offset_nm])
        )
        table = TrackTable.concat(
            [
                flight("A", "coalition", -0.5, 0.0, 0.0, T0_S, 120, gs_kt=450.0),
                flight(
                    "B",
                    "russia",
                    float(lat_b[0]),
                    float(lon_b[0]),
                    180.0,
                    T0_S,
                    120,
                    gs_kt=450.0,
                ),
            ]
        ).in_time_order()
        protocol = euphrates()
        screened = find_conflicts(table, protocol)
        assert len(screened) > 0
        assert float(screened.dcpa_nm.min()) > 4.9
        _same(screened, find_conflicts(table, protocol, screen=False))

    def test_adjacent_flight_levels_are_separated(self) -> None:
        # Head-on at FL360 and FL370 over the same point: never a conflict or a
        # loss (issue 13: 171 of 317 loss pairs of a real day were such pairs).
        half_s = 900.0
        flights = []
        for ident, party, trk, alt_ft in (
            ("COA1", "coalition", 90.0, 36_000.0),
            ("RUS1", "russia", 270.0, 37_000.0),
        ):
            back = (trk + 180.0) % 360.0
            lat0, lon0 = geodesy.destination(34.0, 37.0, back, 420.0 * half_s / 3600)
            flights.append(
                flight(ident, party, float(lat0), float(lon0), trk, T0_S, 361,
                       alt_ft=alt_ft)
            )  # fmt: skip
        table = TrackTable.concat(flights).in_time_order()
        for screen in (True, False):
            rows = find_conflicts(table, euphrates(), screen=screen)
            assert len(rows) == 0 and len(rows.losses()) == 0

    @pytest.mark.parametrize(("apart_nm", "lost"), [(5.0, False), (4.9999, True)])
    def test_exactly_the_horizontal_minimum_apart(
        self, apart_nm: float, lost: bool
    ) -> None:
        # Two aircraft holding still, exactly 5 NM apart (geodesic).
        lat_b, lon_b = geodesy.destination(34.0, 37.0, 90.0, apart_nm)
        table = TrackTable.concat(
            [
                flight("A", "coalition", 34.0, 37.0, 0.0, T0_S, 12, gs_kt=0.0),
                flight("B", "russia", float(lat_b), float(lon_b), 0.0, T0_S, 12,
                       gs_kt=0.0),
            ]
        ).in_time_order()  # fmt: skip
        for screen in (True, False):
            rows = find_conflicts(table, euphrates(), screen=screen)
            assert (len(rows.losses()) > 0) is lost
            assert (len(rows) > 0) is lost

    def test_rows_are_detect_conflicts_at_the_instant(self) -> None:
        table = head_on(T0_S + 900.0)
        protocol = euphrates()
        rows = find_conflicts(table, protocol)
        at = T0_S + 800.0
        sel = np.flatnonzero(rows.t_s == at)
        snap = table.states(np.flatnonzero(table.t_s == at))
        direct = detect_conflicts(snap, protocol.detection_settings())
        assert len(sel) == len(direct) == 1
        assert rows.dcpa_nm[sel[0]] == direct.dcpa_nm[0]
        assert rows.tcpa_s[sel[0]] == direct.tcpa_s[0]
        assert rows.level[sel[0]] == direct.level[0]
        assert (rows.a[sel[0]], rows.b[sel[0]]) == ("COA1", "RUS1")

    def test_losses_are_conflicts_lost_now(self) -> None:
        rows = find_conflicts(head_on(T0_S + 900.0), euphrates())
        losses = rows.losses()
        assert len(losses) > 0
        assert np.all(losses.tin_s == 0.0)
        assert np.all(losses.horizontal_nm() < 5.0)

    def test_same_party_pairs_are_not_conflicts(self) -> None:
        table = head_on(T0_S + 900.0)
        table = TrackTable(
            table.ids,
            np.full(len(table), "russia"),
            *(
                getattr(table, n)
                for n in (
                    "t_s",
                    "lat_deg",
                    "lon_deg",
                    "alt_ft",
                    "gs_kt",
                    "trk_deg",
                    "vs_fpm",
                )
            ),
        )
        assert len(find_conflicts(table, euphrates())) == 0

    def test_any_cut_of_the_instants_gives_the_same_rows(self) -> None:
        table = reference_traffic()
        protocol = euphrates()
        whole = find_conflicts(table, protocol)
        k0, k1 = instant_range(
            float(table.t_s.min()), float(table.t_s.max()), 5.0, protocol.stale_after_s
        )
        cut = k0 + (k1 - k0) // 3
        parts = ConflictRows.concat(
            [
                find_conflicts(table, protocol, k0, cut),
                find_conflicts(table, protocol, cut, k1),
            ]
        )
        _same(whole, parts)

    def test_empty_table(self) -> None:
        assert len(find_conflicts(TrackTable.empty(), euphrates())) == 0


def _chained(table: TrackTable, window_s: float) -> list[Violation]:
    prepared = PreparedConformance.from_protocol(euphrates())
    monitor = ConformanceMonitor(prepared)
    out: list[Violation] = []
    t = np.floor(table.t_s.min() / window_s) * window_s
    while t <= table.t_s.max():
        part = table.take((table.t_s >= t) & (table.t_s < t + window_s))
        rows = conformance_rows(euphrates(), part)
        if len(rows):
            events = monitor.update(rows.positions())
            out += [e.violation for e in events if e.kind is ViolationEventKind.CLOSED]
        t += window_s
    out += monitor.open_violations()
    return sorted(out, key=violation_order)


class TestConformanceRows:
    @pytest.mark.parametrize("window_s", [300.0, 900.0, 3600.0])
    def test_windows_chained_give_the_batch_violations(self, window_s: float) -> None:
        table = reference_traffic()
        expected = find_violations(euphrates(), table)
        assert len(expected) > 0
        assert _chained(table, window_s) == expected

    def test_an_excursion_longer_than_a_window(self) -> None:
        # 40 minutes in the Hmeimim zone (russia's) and west of the line, every 20 s.
        intruder = flight(
            "COA9", "coalition", 35.40, 35.70, 90.0, T0_S, 120, step_s=20.0, gs_kt=40.0
        )
        expected = find_violations(euphrates(), intruder)
        assert max(v.duration_s for v in expected) > 1200.0
        assert _chained(intruder, 300.0) == expected

    def test_keeps_few_rows(self) -> None:
        table = reference_traffic()
        rows = conformance_rows(euphrates(), table)
        assert len(rows) < len(table) / 5

    @settings(
        max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(st.integers(0, 10_000), st.sampled_from([300.0, 600.0, 1200.0]))
    def test_random_tracks_jittering_across_a_zone(
        self, seed: int, window_s: float
    ) -> None:
        rng = np.random.default_rng(seed)
        n = 300
        t = T0_S + np.cumsum(rng.choice([5.0, 5.0, 20.0, 70.0, 400.0], n))
        # Around the edge of the al-Tanf zone (30 NM round 33.50 N 38.62 E).
        lat = 33.50 + rng.normal(0.0, 0.02, n)
        lon = 38.62 + 0.59 + rng.normal(0.0, 0.02, n)
        table = TrackTable.from_columns(
            ["R1"] * n,
            ["russia"] * n,
            t,
            lat,
            lon,
            [20_000.0] * n,
            [300.0] * n,
            [0.0] * n,
            [0.0] * n,
        )
        assert _chained(table, window_s) == detect_violations(
            euphrates(), table.positions()
        )


class TestNonconforming:
    def test_flags_the_positions_inside(self) -> None:
        inside = flight("C", "coalition", 35.40, 35.95, 90.0, T0_S, 2)  # Hmeimim
        outside = flight("R", "russia", 35.40, 35.95, 90.0, T0_S, 2)  # its owner
        both = TrackTable.concat([inside, outside])
        assert nonconforming(euphrates(), both).tolist() == [True, True, False, False]

    def test_nothing_without_lines_or_zones(self) -> None:
        from deconfliction.adapters.protocol_file import resolve_protocol

        table = flight("C", "us", 35.40, 35.95, 90.0, T0_S, 3)
        assert not nonconforming(resolve_protocol("syria-2015"), table).any()


def _exact_flags(protocol: Protocol, table: TrackTable) -> np.ndarray:
    """Each position judged by detect_violations alone, unscreened (not even the
    line test's own pre-screen)."""
    prepared = PreparedConformance.from_protocol(protocol)
    out = np.zeros(len(table), dtype=bool)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conformance_module, "PRESCREEN_LINES", False)
        for k in range(len(table)):
            out[k] = bool(
                detect_violations(prepared, table.take(slice(k, k + 1)).positions())
            )
    return out


class TestScreenConformance:
    @pytest.mark.parametrize("option", [None, "zones", "coordination"])
    def test_never_clears_a_nonconforming_position(self, option: str | None) -> None:
        protocol = euphrates() if option is None else dict(options_2015())[option]
        rng = np.random.default_rng(11)
        n = 1500
        # Anywhere in and around the theatre, many near the river and the zones.
        lat = np.r_[rng.uniform(31.0, 39.0, n // 2), rng.normal(35.4, 0.6, n // 2)]
        lon = np.r_[rng.uniform(33.0, 46.0, n // 2), rng.normal(39.5, 1.2, n // 2)]
        table = TrackTable.from_columns(
            [f"A{k}" for k in range(n)],
            rng.choice(["coalition", "russia", "syria"], n),
            np.full(n, T0_S),
            lat,
            lon,
            rng.uniform(0.0, 40_000.0, n),
            np.full(n, 400.0),
            np.zeros(n),
            np.zeros(n),
        )
        exact = _exact_flags(protocol, table)
        maybe = screen_conformance(protocol, table)
        assert not (exact & ~maybe).any()
        assert exact.any()
        assert maybe.mean() < 0.9  # it does clear most of them
        np.testing.assert_array_equal(nonconforming(protocol, table), exact)


class TestMayBeNonconforming:
    @pytest.mark.parametrize("option", [None, "zones", "coordination"])
    def test_never_clears_a_nonconforming_position(self, option: str | None) -> None:
        """Positions crowded round every point of every line and zone (the ends,
        the bends, the buffer's edge), judged against the exact test one by one."""
        protocol = euphrates() if option is None else dict(options_2015())[option]
        rng = np.random.default_rng(5)
        corners = [
            (la, lo)
            for b in (*protocol.lines, *protocol.zones)
            for la, lo in zip(b.lat_deg, b.lon_deg, strict=True)
        ]
        per = 60
        lat = np.concatenate([rng.normal(la, 0.25, per) for la, _ in corners])
        lon = np.concatenate([rng.normal(lo, 0.25, per) for _, lo in corners])
        n = lat.size
        table = TrackTable.from_columns(
            [f"A{k}" for k in range(n)],
            rng.choice(["coalition", "russia", "syria"], n),
            np.full(n, T0_S),
            lat,
            lon,
            rng.uniform(0.0, 40_000.0, n),
            np.full(n, 400.0),
            np.zeros(n),
            np.zeros(n),
        )
        exact = _exact_flags(protocol, table)
        maybe = may_be_nonconforming(
            PreparedConformance.from_protocol(protocol),
            table.party,
            table.lat_deg,
            table.lon_deg,
            table.alt_ft,
        )
        assert exact.any()
        assert not (exact & ~maybe).any()
        # Only positions within the tolerance of a boundary are kept in vain.
        assert (maybe & ~exact).sum() <= 0.01 * n
