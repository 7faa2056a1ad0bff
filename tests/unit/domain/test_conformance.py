"""Tests of conformance monitoring (domain/conformance.py).

Geometry used throughout: the line ``meridian`` runs north along 38 E from 35 N to
36 N, so its left is the west. ``blue`` keeps to the right (east), ``red`` to the
left (west); ``green`` is not named. At 35.5 N, 0.1 deg of longitude is 4.89 NM.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain import conformance as conformance_module
from deconfliction.domain.conformance import (
    ConformanceMonitor,
    PositionStream,
    PreparedConformance,
    Violation,
    ViolationEventKind,
    ViolationKind,
    detect_violations,
)
from deconfliction.domain.geodesy import destination as geodesic_destination
from deconfliction.domain.geodesy import geodesic_distance_nm
from deconfliction.domain.model import SeparationMinima
from deconfliction.domain.protocol import (
    ConformanceRules,
    DeconflictionLine,
    LineSide,
    Protocol,
    SharingLevel,
    Zone,
)
from deconfliction.errors import GeometryError, InputError

T0_S = 1_513_159_200.0  # 2017-12-13T10:00:00Z: epoch-sized times, as in a live feed
LAT_DEG = 35.5
EAST_CLEAR_LON_DEG = 38.3  # 14.7 NM east of the line: clear for blue
EAST_BUFFER_LON_DEG = 38.06  # 2.9 NM east: inside blue's 5 NM buffer
WEST_WRONG_LON_DEG = 37.9  # 4.9 NM west: wrong side for blue
BUFFER_NM = 5.0
DEPTH_TOL_NM = 0.02  # projection against geodesic distance, about 0.1 % here

MERIDIAN = DeconflictionLine(
    id="meridian",
    name="Meridian 38 E",
    lat_deg=(35.0, 35.5, 36.0),
    lon_deg=(38.0, 38.0, 38.0),
    buffer_nm=BUFFER_NM,
    sides={"blue": LineSide.RIGHT, "red": LineSide.LEFT},
)
BOX = Zone(
    id="box",
    name="Box",
    owner="red",
    lat_deg=(35.0, 35.0, 35.2, 35.2),
    lon_deg=(39.0, 39.2, 39.2, 39.0),
    floor_ft=0.0,
    ceiling_ft=25_000.0,
)
BOX_CENTER = (35.1, 39.1)


def make_protocol(
    lines: tuple[DeconflictionLine, ...] = (MERIDIAN,),
    zones: tuple[Zone, ...] = (BOX,),
    exit_debounce_s: float = 60.0,
    max_gap_s: float = 300.0,
) -> Protocol:
    return Protocol(
        id="test",
        version=1,
        title="Test protocol",
        sharing=SharingLevel.CONFLICTS,
        parties={},
        minima=SeparationMinima(horizontal_nm=5.0, vertical_ft=1000.0),
        lookahead_s=120.0,
        alert_levels=(),
        lines=lines,
        zones=zones,
        conformance=ConformanceRules(
            exit_debounce_s=exit_debounce_s, max_gap_s=max_gap_s
        ),
    )


PROTOCOL = make_protocol()
PREPARED = PreparedConformance.from_protocol(PROTOCOL)
# (exit_debounce_s, max_gap_s): the default, a debounce longer than the gap, none.
RULES = [(60.0, 300.0), (120.0, 90.0), (0.0, 300.0)]
# Steps between samples: ties, short, and either side of every limit in RULES.
_STEPS_S = [0.0, 1.0, 5.0, 20.0, 59.0, 60.0, 89.0, 90.0, 91.0, 119.0, 120.0, 301.0]
PREPARED_BY_RULES = {
    r: PreparedConformance.from_protocol(
        make_protocol(exit_debounce_s=r[0], max_gap_s=r[1])
    )
    for r in RULES
}


def track(
    aircraft_id: str,
    party: str,
    dt_s: list[float] | np.ndarray,
    lon_deg: list[float] | np.ndarray,
    lat_deg: float | list[float] | np.ndarray = LAT_DEG,
    alt_ft: float | list[float] = 20_000.0,
    t0_s: float = T0_S,
) -> PositionStream:
    """One aircraft's samples at ``t0_s + dt_s``."""
    n = len(dt_s)
    return PositionStream.from_columns(
        [aircraft_id] * n,
        [party] * n,
        t0_s + np.asarray(dt_s, dtype=np.float64),
        np.broadcast_to(np.asarray(lat_deg, dtype=np.float64), (n,)),
        np.asarray(lon_deg, dtype=np.float64),
        np.broadcast_to(np.asarray(alt_ft, dtype=np.float64), (n,)),
    )


def merge(*streams: PositionStream) -> PositionStream:
    """Streams combined and sorted by time (stable: ties keep their order)."""
    ids = np.concatenate([s.ids for s in streams])
    all_ = PositionStream(
        ids=ids,
        party=np.concatenate([s.party for s in streams]),
        t_s=np.concatenate([s.t_s for s in streams]),
        lat_deg=np.concatenate([s.lat_deg for s in streams]),
        lon_deg=np.concatenate([s.lon_deg for s in streams]),
        alt_ft=np.concatenate([s.alt_ft for s in streams]),
    )
    return all_.take(np.argsort(all_.t_s, kind="stable"))


def of_kind(violations: list[Violation], kind: ViolationKind) -> list[Violation]:
    return [v for v in violations if v.kind == kind]


def flags_to_lon(flags: list[bool]) -> list[float]:
    return [WEST_WRONG_LON_DEG if f else EAST_CLEAR_LON_DEG for f in flags]


def reference_runs(
    times_s: list[float], flags: list[bool], debounce_s: float, max_gap_s: float
) -> list[tuple[float, float, int, bool]]:
    """The excursion rules applied sample by sample: (entry, exit, samples, open)."""
    runs: list[tuple[float, float, int, bool]] = []
    current: list[float] | None = None  # [entry, exit, samples]
    conform_since: float | None = None
    prev_t: float | None = None
    for t, flag in zip(times_s, flags, strict=True):
        if current is not None and prev_t is not None and t - prev_t > max_gap_s:
            runs.append((current[0], current[1], int(current[2]), False))
            current, conform_since = None, None
        if flag:
            if current is None:
                current = [t, t, 1]
            else:
                current[1], current[2] = t, current[2] + 1
            conform_since = None
        elif current is not None:
            conform_since = t if conform_since is None else conform_since
            if t - conform_since >= debounce_s:
                runs.append((current[0], current[1], int(current[2]), False))
                current, conform_since = None, None
        prev_t = t
    if current is not None:
        runs.append((current[0], current[1], int(current[2]), True))
    return runs


def run_monitor(
    protocol: Protocol | PreparedConformance,
    positions: PositionStream,
    cuts: list[int],
) -> list[Violation]:
    """Feed ``positions`` to a monitor in chunks cut at ``cuts``; closed + open."""
    monitor = ConformanceMonitor(protocol)
    closed: list[Violation] = []
    bounds = [0, *sorted(cuts), len(positions)]
    for lo, hi in itertools.pairwise(bounds):
        for event in monitor.update(positions.take(slice(lo, hi))):
            if event.kind == ViolationEventKind.CLOSED:
                closed.append(event.violation)
    result = closed + monitor.open_violations()
    return sorted(result, key=lambda v: (v.entry_t_s, v.aircraft_id, v.boundary_id))


class TestPositionStream:
    def test_from_columns_converts_dtypes(self) -> None:
        s = PositionStream.from_columns(
            ["A", "B"], ["x", "y"], [1, 2], [0, 1], [2, 3], [0, 9]
        )
        assert len(s) == 2
        assert s.alt_ft.dtype == np.float64
        assert s.take(slice(1, 2)).ids.tolist() == ["B"]

    def test_length_mismatch_is_reported(self) -> None:
        with pytest.raises(InputError) as info:
            PositionStream.from_columns(
                ["A", "B"], ["x"], [1, 2], [0, 1], [2, 3], [0, 9]
            )
        assert [p.field for p in info.value.problems] == ["party"]

    def test_non_finite_and_polar_values_are_reported(self) -> None:
        with pytest.raises(InputError) as info:
            PositionStream.from_columns(
                ["A", "B"], ["x", "x"], [1, np.nan], [0, 91], [2, 3], [0, np.inf]
            )
        assert {p.field for p in info.value.problems} == {"t_s", "alt_ft", "lat_deg"}
        assert "row 1" in str(info.value)


class TestPreparedConformance:
    def test_line_needs_two_distinct_points(self) -> None:
        line = replace(MERIDIAN, lat_deg=(35.0, 35.0), lon_deg=(38.0, 38.0))
        with pytest.raises(GeometryError, match="meridian"):
            PreparedConformance.from_protocol(make_protocol(lines=(line,)))

    def test_self_intersecting_zone_is_refused(self) -> None:
        bowtie = replace(BOX, lat_deg=(35.0, 35.2, 35.0, 35.2))
        with pytest.raises(GeometryError, match="crosses itself"):
            PreparedConformance.from_protocol(make_protocol(zones=(bowtie,)))

    def test_floor_above_ceiling_is_refused(self) -> None:
        upside_down = replace(BOX, floor_ft=30_000.0)
        with pytest.raises(GeometryError, match="floor"):
            PreparedConformance.from_protocol(make_protocol(zones=(upside_down,)))

    def test_compact_theatre_shares_one_projection(self) -> None:
        prepared = PreparedConformance.from_protocol(PROTOCOL)
        assert prepared.lines[0].projection == prepared.zones[0].projection

    def test_distant_boundaries_get_their_own_projection(self) -> None:
        pacific = replace(BOX, id="pacific", lat_deg=(10.0, 10.0, 11.0, 11.0))
        pacific = replace(pacific, lon_deg=(179.0, -179.0, -179.0, 179.0))
        prepared = PreparedConformance.from_protocol(
            make_protocol(zones=(BOX, pacific))
        )
        assert prepared.zones[0].projection != prepared.zones[1].projection
        assert abs(abs(prepared.zones[1].projection.center_lon_deg) - 180.0) < 1e-6


class TestDetectViolations:
    def test_straight_crossing_uses_sample_times(self) -> None:
        # Blue flies west across the line, 60 s between samples, then comes back.
        lon = [38.3, 38.2, 38.12, 38.04, 37.95, 37.9, 37.95, 38.04, 38.12, 38.3]
        dt = [60.0 * k for k in range(len(lon))]
        (v,) = detect_violations(PROTOCOL, track("B1", "blue", dt, lon))
        # Entry and exit are the first and last non-conforming samples (inside the
        # 5 NM buffer at 38.04), not the interpolated boundary crossings.
        assert (v.entry_t_s, v.exit_t_s) == (T0_S + 180.0, T0_S + 420.0)
        assert v.duration_s == 240.0
        assert v.samples == 5
        assert not v.is_open
        assert (v.kind, v.aircraft_id, v.party, v.boundary_id) == (
            ViolationKind.LINE,
            "B1",
            "blue",
            "meridian",
        )
        assert (v.deepest_t_s, v.deepest_lon_deg) == (T0_S + 300.0, 37.9)
        past_nm = float(geodesic_distance_nm(LAT_DEG, 37.9, LAT_DEG, 38.0))
        assert v.max_depth_nm == pytest.approx(BUFFER_NM + past_nm, abs=DEPTH_TOL_NM)

    def test_depth_across_the_line_and_from_the_buffer_edge(self) -> None:
        # Issue 13: 28.4 NM across the line was reported as 38.4 NM (its 10 NM
        # buffer plus the line). Both are reported, each named.
        (v,) = detect_violations(
            PROTOCOL, track("B1", "blue", [0.0, 60.0], [38.3, 37.9])
        )
        past_nm = float(geodesic_distance_nm(LAT_DEG, 37.9, LAT_DEG, 38.0))
        assert v.depth_across_line_nm == pytest.approx(past_nm, abs=DEPTH_TOL_NM)
        assert v.depth_from_buffer_edge_nm == pytest.approx(
            BUFFER_NM + past_nm, abs=DEPTH_TOL_NM
        )
        assert v.depth_from_buffer_edge_nm - v.depth_across_line_nm == pytest.approx(
            BUFFER_NM, abs=1e-9
        )
        assert v.depth_inside_zone_nm is None

    def test_depth_inside_the_buffer_on_its_own_side(self) -> None:
        (v,) = detect_violations(PROTOCOL, track("B1", "blue", [0.0], [38.06]))
        away_nm = float(geodesic_distance_nm(LAT_DEG, 38.06, LAT_DEG, 38.0))
        assert v.depth_across_line_nm == 0.0
        assert v.depth_from_buffer_edge_nm == pytest.approx(
            BUFFER_NM - away_nm, abs=DEPTH_TOL_NM
        )

    def test_depth_inside_a_zone(self) -> None:
        (v,) = detect_violations(
            PROTOCOL, track("B1", "blue", [0.0], [BOX_CENTER[1]], BOX_CENTER[0])
        )
        to_edge_nm = float(geodesic_distance_nm(35.1, 39.1, 35.1, 39.2))
        assert v.depth_inside_zone_nm == pytest.approx(to_edge_nm, abs=DEPTH_TOL_NM)
        assert v.depth_across_line_nm is None and v.depth_from_buffer_edge_nm is None

    def test_excursion_into_the_buffer_only(self) -> None:
        lon = [38.3, 38.15, 38.06, 38.15, 38.3, 38.3, 38.3]
        (v,) = detect_violations(
            PROTOCOL, track("B1", "blue", np.arange(7) * 30.0, lon)
        )
        away_nm = float(geodesic_distance_nm(LAT_DEG, 38.06, LAT_DEG, 38.0))
        assert v.samples == 1
        assert v.deepest_lon_deg == 38.06
        assert v.max_depth_nm == pytest.approx(BUFFER_NM - away_nm, abs=DEPTH_TOL_NM)
        assert 0.0 < v.max_depth_nm < BUFFER_NM

    def test_zone_incursion_by_non_owner_only(self) -> None:
        lat = [35.1] * 5
        lon = [38.8, 39.05, BOX_CENTER[1], 39.15, 39.4]
        blue = track("B1", "blue", np.arange(5) * 60.0, lon, lat_deg=lat)
        red = track("R1", "red", np.arange(5) * 60.0, lon, lat_deg=lat)
        (v,) = of_kind(
            detect_violations(PROTOCOL, merge(blue, red)), ViolationKind.ZONE
        )
        assert (v.aircraft_id, v.boundary_id, v.samples) == ("B1", "box", 3)
        # Deepest at the centre, 0.1 deg of longitude from the east and west edges
        # (4.9 NM, nearer than the north and south edges at 6.0 NM).
        assert v.deepest_lon_deg == BOX_CENTER[1]
        to_edge_nm = float(geodesic_distance_nm(35.1, 39.1, 35.1, 39.2))
        assert v.max_depth_nm == pytest.approx(to_edge_nm, abs=DEPTH_TOL_NM)

    @pytest.mark.parametrize(
        ("dt_s", "expected"),
        [
            (-0.001, 0),  # before the zone is in force
            (0.0, 1),  # from its start, included
            (599.999, 1),
            (600.0, 0),  # until its end, excluded
        ],
    )
    def test_a_zone_holds_only_while_in_force(self, dt_s: float, expected: int) -> None:
        timed = replace(BOX, active_from_t_s=T0_S, active_until_t_s=T0_S + 600.0)
        blue = track("B1", "blue", [dt_s], [BOX_CENTER[1]], BOX_CENTER[0])
        protocol = make_protocol(lines=(), zones=(timed,))
        assert len(detect_violations(protocol, blue)) == expected
        # The live monitor judges the same way.
        monitor = ConformanceMonitor(protocol)
        opened = [e for e in monitor.update(blue) if e.kind.value == "opened"]
        assert len(opened) == expected

    def test_an_incursion_ends_when_the_zone_does(self) -> None:
        timed = replace(BOX, active_until_t_s=T0_S + 120.0)
        blue = track("B1", "blue", np.arange(6) * 60.0, [BOX_CENTER[1]] * 6, 35.1)
        (v,) = detect_violations(make_protocol(lines=(), zones=(timed,)), blue)
        assert v.samples == 2  # at 0 and 60 s; from 120 s the zone is not in force

    @pytest.mark.parametrize(
        ("alt_ft", "expected"),
        [
            (25_001.0, 0),
            (25_000.0, 0),
            (24_999.0, 1),
            (1.0, 1),
            (0.0, 0),
            (-10.0, 0),
        ],
    )
    def test_zone_floor_and_ceiling_are_outside(
        self, alt_ft: float, expected: int
    ) -> None:
        # Exactly at the floor or the ceiling has not entered the zone, as a
        # planned volume whose top is a zone's floor does not conflict with it.
        blue = track("B1", "blue", [0.0], [BOX_CENTER[1]], BOX_CENTER[0], alt_ft=alt_ft)
        assert len(detect_violations(PROTOCOL, blue)) == expected

    @pytest.mark.parametrize(
        ("lat_deg", "lon_deg", "expected"),
        [
            (35.0, 39.0, 0),  # a vertex of the outline: on it
            (35.2, 39.2, 0),  # another
            (35.0005, 39.1, 1),  # 51 m inside the southern edge
        ],
    )
    def test_zone_outline_is_outside(
        self, lat_deg: float, lon_deg: float, expected: int
    ) -> None:
        blue = track("B1", "blue", [0.0], [lon_deg], lat_deg)
        assert len(detect_violations(PROTOCOL, blue)) == expected

    @pytest.mark.parametrize(
        ("away_nm", "expected"),
        [(BUFFER_NM, 0), (BUFFER_NM - 2e-6, 0), (BUFFER_NM - 1e-4, 1)],
    )
    def test_buffer_edge_is_outside(self, away_nm: float, expected: int) -> None:
        # Exactly buffer_nm from the line (geodesic, perpendicular to it) is not in
        # the buffer; within 1 cm of the edge counts as on it; 19 cm inside is in.
        protocol = make_protocol(zones=())
        lat, lon = geodesic_destination(LAT_DEG, 38.0, 90.0, away_nm)
        blue = track("B1", "blue", [0.0], [float(lon)], float(lat))
        assert len(detect_violations(protocol, blue)) == expected

    def test_jitter_across_the_line_makes_one_violation(self) -> None:
        # Blue flies along the line at 5 s intervals with 0.5 NM of noise across it:
        # dozens of crossings, one violation.
        rng = np.random.default_rng(7)
        n = 240
        lon = 38.0 + rng.normal(0.0, 0.01, n)
        positions = track(
            "B1", "blue", np.arange(n) * 5.0, lon, np.linspace(35.1, 35.9, n)
        )
        crossings = int(np.count_nonzero(np.diff(lon < 38.0)))
        assert crossings > 50
        # Buffer 0 so that the noise actually moves it in and out of conformance.
        protocol = make_protocol(lines=(replace(MERIDIAN, buffer_nm=0.0),), zones=())
        (v,) = detect_violations(protocol, positions)
        assert v.samples == int(np.count_nonzero(lon < 38.0))
        assert v.is_open

    def test_two_excursions_beyond_the_debounce_make_two(self) -> None:
        # Wrong side at 0-20 s; clear from 30 s; wrong again at 100 s and 110 s.
        flags = [
            True,
            True,
            True,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            True,
            True,
        ]
        positions = track("B1", "blue", np.arange(12) * 10.0, flags_to_lon(flags))
        first, second = detect_violations(PROTOCOL, positions)  # debounce 60 s
        assert (first.entry_t_s, first.exit_t_s, first.is_open) == (
            T0_S,
            T0_S + 20,
            False,
        )
        assert (second.entry_t_s, second.exit_t_s, second.is_open) == (
            T0_S + 100,
            T0_S + 110,
            True,
        )

    @pytest.mark.parametrize(("debounce_s", "expected"), [(60.0, 2), (60.5, 1)])
    def test_debounce_runs_from_the_first_conforming_sample(
        self, debounce_s: float, expected: int
    ) -> None:
        # Conforming samples at 30..90 s: conformed for 60 s by the 90 s sample.
        flags = [
            True,
            True,
            True,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            True,
        ]
        positions = track("B1", "blue", np.arange(11) * 10.0, flags_to_lon(flags))
        protocol = make_protocol(exit_debounce_s=debounce_s)
        assert len(detect_violations(protocol, positions)) == expected

    def test_gap_longer_than_max_gap_ends_the_excursion(self) -> None:
        dt = [0.0, 10.0, 20.0, 321.0, 331.0]  # 301 s without a sample
        positions = track("B1", "blue", dt, [WEST_WRONG_LON_DEG] * 5)
        first, second = detect_violations(PROTOCOL, positions)  # max gap 300 s
        assert (first.exit_t_s, first.samples, first.is_open) == (T0_S + 20, 3, False)
        assert (second.entry_t_s, second.samples, second.is_open) == (
            T0_S + 321,
            2,
            True,
        )

    def test_gap_within_max_gap_continues_the_excursion(self) -> None:
        dt = [0.0, 10.0, 20.0, 320.0, 330.0]  # 300 s without a sample
        (v,) = detect_violations(
            PROTOCOL, track("B1", "blue", dt, [WEST_WRONG_LON_DEG] * 5)
        )
        assert (v.entry_t_s, v.exit_t_s, v.samples) == (T0_S, T0_S + 330, 5)

    def test_interleaved_aircraft_are_kept_apart(self) -> None:
        # A conforms for 50 s between breaches (one violation), B for 60 s (two).
        flags_a = [False, True, True, False, False, False, False, False, False, True]
        flags_b = [True, False, False, False, False, False, False, False, True, True]
        a = track("A", "blue", np.arange(10) * 10.0, flags_to_lon(flags_a))
        b = track("B", "blue", np.arange(10) * 10.0 + 5.0, flags_to_lon(flags_b))
        together = detect_violations(PROTOCOL, merge(a, b))
        assert together == sorted(
            detect_violations(PROTOCOL, a) + detect_violations(PROTOCOL, b),
            key=lambda v: (v.entry_t_s, v.aircraft_id),
        )
        assert [(v.aircraft_id, v.entry_t_s - T0_S) for v in together] == [
            ("B", 5.0),
            ("A", 10.0),
            ("B", 85.0),
        ]

    def test_input_order_does_not_matter(self) -> None:
        flags = [False, True, True, False, False, False, False, False, False, True]
        a = track("A", "blue", np.arange(10) * 10.0, flags_to_lon(flags))
        shuffled = a.take(np.random.default_rng(3).permutation(10))
        assert detect_violations(PROTOCOL, shuffled) == detect_violations(PROTOCOL, a)

    @pytest.mark.parametrize("lat_deg", [37.0, 34.0])
    def test_points_beyond_the_line_ends_are_on_no_side(self, lat_deg: float) -> None:
        # A degree beyond either end of the line (along 38 E from 35 N to 36 N) the
        # line divides nothing: a base there is not in violation, whichever party.
        got = detect_violations(
            PROTOCOL,
            merge(
                track("B-west", "blue", [0.0, 10.0], [37.5, 37.5], lat_deg),
                track("R-east", "red", [0.0, 10.0], [38.5, 38.5], lat_deg),
            ),
        )
        assert got == []

    @pytest.mark.parametrize("end_lat_deg", [36.0, 35.0])
    def test_buffer_is_a_round_cap_beyond_the_ends(self, end_lat_deg: float) -> None:
        beyond_deg = 3.0 / 60.0 if end_lat_deg == 36.0 else -3.0 / 60.0
        lat = end_lat_deg + beyond_deg  # 3 NM past the end point, on the meridian
        got = detect_violations(
            PROTOCOL,
            merge(
                track("B", "blue", [0.0, 10.0], [38.0, 38.0], lat),
                track("R", "red", [0.0, 10.0], [38.0, 38.0], lat + 3 * beyond_deg),
            ),
        )
        assert [v.aircraft_id for v in got] == ["B"]
        assert got[0].max_depth_nm == pytest.approx(BUFFER_NM - 3.0, abs=0.05)

    def test_positions_far_beyond_the_line_are_not_assessed(self) -> None:
        # Over Australia, and in mid-Atlantic: one of the two parties would be on
        # the wrong side of the line as it would be if it went on forever.
        positions = merge(
            *(
                track(f"{party}-{lon}", party, [0.0], [lon], lat_deg)
                for party in ("blue", "red")
                for lat_deg, lon in ((-25.0, 130.0), (30.0, -40.0))
            )
        )
        assert detect_violations(PROTOCOL, positions) == []

    def test_line_and_zone_across_the_antimeridian(self) -> None:
        # A line north along 180 E: west keeps left (west), east keeps right (east).
        dateline = DeconflictionLine(
            id="dateline",
            name="Date line",
            lat_deg=(10.0, 15.0, 20.0),
            lon_deg=(180.0, 180.0, -180.0),
            buffer_nm=1.0,
            sides={"west": LineSide.LEFT, "east": LineSide.RIGHT},
        )
        straddle = Zone(
            id="straddle",
            name="Straddle",
            owner="east",
            lat_deg=(14.0, 14.0, 16.0, 16.0),
            lon_deg=(179.5, -179.5, -179.5, 179.5),
            floor_ft=0.0,
            ceiling_ft=40_000.0,
        )
        protocol = make_protocol(lines=(dateline,), zones=(BOX, straddle))
        positions = merge(
            track("W-home", "west", [0.0], [179.9], 15.0),  # 5.8 NM west: fine
            track("W-over", "west", [0.0], [-179.9], 15.0),  # 5.8 NM east: wrong
            track("E-home", "east", [0.0], [-179.9], 15.0),
            track("E-over", "east", [0.0], [179.9], 15.0),
            track("W-far", "west", [0.0], [179.0], 15.0),  # west of the zone
        )
        got = {
            (v.aircraft_id, v.boundary_id)
            for v in detect_violations(protocol, positions)
        }
        assert got == {
            ("W-over", "dateline"),
            ("E-over", "dateline"),
            ("W-home", "straddle"),
            ("W-over", "straddle"),
        }

    def test_empty_stream_and_no_boundaries(self) -> None:
        empty = track("X", "blue", [], [])
        assert detect_violations(PROTOCOL, empty) == []
        bare = make_protocol(lines=(), zones=())
        assert detect_violations(bare, track("B1", "blue", [0.0], [37.9])) == []

    @settings(max_examples=60, deadline=None)
    @given(
        lat_deg=st.lists(st.floats(34.0, 37.0), min_size=1, max_size=30),
        lon_deg=st.lists(st.floats(36.0, 40.0), min_size=30, max_size=30),
        party=st.sampled_from(["green", "owner-of-nothing", ""]),
    )
    def test_parties_not_named_in_a_line_never_violate_it(
        self, lat_deg: list[float], lon_deg: list[float], party: str
    ) -> None:
        n = len(lat_deg)
        positions = track("G", party, np.arange(n) * 10.0, lon_deg[:n], lat_deg)
        assert of_kind(detect_violations(PREPARED, positions), ViolationKind.LINE) == []

    @pytest.mark.parametrize("rules", RULES)
    @settings(max_examples=60, deadline=None)
    @given(
        steps=st.lists(
            st.tuples(
                st.sampled_from(_STEPS_S),
                st.booleans(),
            ),
            min_size=1,
            max_size=60,
        ),
    )
    def test_matches_the_rules_applied_sample_by_sample(
        self, rules: tuple[float, float], steps: list[tuple[float, bool]]
    ) -> None:
        dt = np.cumsum([s for s, _ in steps])
        flags = [f for _, f in steps]
        positions = track("B1", "blue", dt, flags_to_lon(flags))
        got = detect_violations(PREPARED_BY_RULES[rules], positions)
        expected = reference_runs((T0_S + dt).tolist(), flags, *rules)
        assert [
            (v.entry_t_s, v.exit_t_s, v.samples, v.is_open) for v in got
        ] == expected


# A mixed population for the streaming tests: three aircraft, a line and a zone.
_LON_CHOICES = [37.9, 38.06, 38.3, 39.1]  # wrong side, buffer, clear, zone (east)


@st.composite
def mixed_streams(draw: st.DrawFn) -> tuple[PositionStream, list[int]]:
    n = draw(st.integers(1, 80))
    aircraft = draw(
        st.lists(st.sampled_from(["B1", "B2", "R1"]), min_size=n, max_size=n)
    )
    steps = draw(
        st.lists(
            st.sampled_from([0.0, 3.0, 10.0, 40.0, 60.0, 91.0, 301.0]),
            min_size=n,
            max_size=n,
        )
    )
    lons = draw(st.lists(st.sampled_from(_LON_CHOICES), min_size=n, max_size=n))
    lats = draw(st.lists(st.sampled_from([35.05, 35.1, 35.15]), min_size=n, max_size=n))
    alts = draw(st.lists(st.sampled_from([10_000.0, 30_000.0]), min_size=n, max_size=n))
    positions = PositionStream.from_columns(
        aircraft,
        ["red" if a.startswith("R") else "blue" for a in aircraft],
        T0_S + np.cumsum(steps),
        lats,
        lons,
        alts,
    )
    cuts = draw(st.lists(st.integers(0, n), max_size=8))
    return positions, cuts


class TestConformanceMonitor:
    @pytest.mark.parametrize("rules", RULES)
    @settings(max_examples=80, deadline=None)
    @given(data=mixed_streams())
    def test_chunked_stream_equals_batch(
        self, rules: tuple[float, float], data: tuple[PositionStream, list[int]]
    ) -> None:
        positions, cuts = data
        prepared = PREPARED_BY_RULES[rules]
        batch = detect_violations(prepared, positions)
        assert run_monitor(prepared, positions, cuts) == batch

    def test_chunked_jitter_equals_batch(self) -> None:
        rng = np.random.default_rng(11)
        n = 400
        # Mostly clear of the buffer (0.1 deg wide), often not.
        positions = merge(
            track("B1", "blue", np.arange(n) * 20.0, 38.15 + rng.normal(0, 0.1, n)),
            track("R1", "red", np.arange(n) * 17.0, 37.85 + rng.normal(0, 0.1, n)),
        )
        batch = detect_violations(PREPARED, positions)
        assert len(batch) > 20
        cuts = sorted(rng.integers(0, 2 * n, 40).tolist())
        assert run_monitor(PREPARED, positions, cuts) == batch
        assert run_monitor(PREPARED, positions, list(range(2 * n))) == batch

    @pytest.mark.parametrize(
        ("rules", "dt_s", "flags"),
        [
            # Clear at 10 s and 50 s, wrong again at 320 s: 270 s after the last
            # sample (no gap) and 40 s of conformance seen (no exit): one excursion.
            ((60.0, 300.0), [0.0, 10.0, 50.0, 320.0], [True, False, False, True]),
            # Debounce longer than the gap: conforming for 100 s through samples
            # 50 s apart is neither a gap nor an exit.
            (
                (120.0, 90.0),
                [0.0, 10.0, 60.0, 110.0, 115.0],
                [True, False, False, False, True],
            ),
        ],
    )
    def test_excursion_carries_over_a_split_after_conforming_samples(
        self, rules: tuple[float, float], dt_s: list[float], flags: list[bool]
    ) -> None:
        prepared = PREPARED_BY_RULES[rules]
        positions = track("B1", "blue", dt_s, flags_to_lon(flags))
        (v,) = detect_violations(prepared, positions)
        assert (v.samples, v.is_open) == (2, True)
        assert run_monitor(prepared, positions, [len(dt_s) - 1]) == [v]

    def test_events_open_update_and_close(self) -> None:
        monitor = ConformanceMonitor(PROTOCOL)
        buffer_only = track("B1", "blue", [0.0, 10.0], [38.06, 38.06])
        (opened,) = monitor.update(buffer_only)
        assert (opened.kind, opened.t_s) == (ViolationEventKind.OPENED, T0_S)
        assert opened.violation.is_open
        assert monitor.update(track("B1", "blue", [20.0], [38.06])) == []  # not deeper
        (updated,) = monitor.update(track("B1", "blue", [30.0, 40.0], [37.9, 38.3]))
        assert (updated.kind, updated.t_s) == (ViolationEventKind.UPDATED, T0_S + 30)
        assert updated.violation.samples == 4
        assert monitor.update(track("B1", "blue", [60.0], [38.3])) == []  # 20 s clear
        (closed,) = monitor.update(track("B1", "blue", [100.0], [38.3]))  # 60 s clear
        assert (closed.kind, closed.t_s) == (ViolationEventKind.CLOSED, T0_S + 100)
        v = closed.violation
        assert (v.entry_t_s, v.exit_t_s, v.deepest_t_s, v.is_open) == (
            T0_S,
            T0_S + 30,
            T0_S + 30,
            False,
        )
        assert monitor.open_violations() == []

    def test_excursion_within_one_update_opens_and_closes(self) -> None:
        monitor = ConformanceMonitor(PROTOCOL)
        positions = track(
            "B1", "blue", [0.0, 10.0, 20.0, 80.0], [38.3, 37.9, 38.3, 38.3]
        )
        events = monitor.update(positions)
        assert [(e.kind, e.t_s - T0_S) for e in events] == [
            (ViolationEventKind.OPENED, 10.0),
            (ViolationEventKind.CLOSED, 80.0),
        ]
        assert events[0].violation == events[1].violation

    def test_gap_between_updates_closes_at_the_next_sample(self) -> None:
        monitor = ConformanceMonitor(PROTOCOL)
        monitor.update(track("B1", "blue", [0.0], [37.9]))
        events = monitor.update(track("B1", "blue", [400.0], [37.9]))
        assert [(e.kind, e.t_s - T0_S) for e in events] == [
            (ViolationEventKind.CLOSED, 400.0),
            (ViolationEventKind.OPENED, 400.0),
        ]

    def test_close_stale_closes_only_silent_aircraft(self) -> None:
        monitor = ConformanceMonitor(PROTOCOL)
        monitor.update(
            merge(
                track("B1", "blue", [0.0], [37.9]),
                track("B2", "blue", [200.0], [37.9]),
            )
        )
        assert monitor.close_stale(T0_S + 300.0) == []  # B1 silent for exactly 300 s
        (closed,) = monitor.close_stale(T0_S + 301.0)
        assert (closed.kind, closed.t_s) == (ViolationEventKind.CLOSED, T0_S + 301.0)
        assert (closed.violation.aircraft_id, closed.violation.is_open) == ("B1", False)
        assert [v.aircraft_id for v in monitor.open_violations()] == ["B2"]
        # B1 is forgotten: its next sample opens a new violation.
        (reopened,) = monitor.update(track("B1", "blue", [302.0], [37.9]))
        assert reopened.kind == ViolationEventKind.OPENED

    def test_sample_older_than_one_taken_is_refused(self) -> None:
        monitor = ConformanceMonitor(PROTOCOL)
        monitor.update(track("B1", "blue", [10.0], [37.9]))
        with pytest.raises(InputError, match="older"):
            monitor.update(track("B1", "blue", [5.0], [37.9]))
        assert (
            monitor.update(track("B1", "blue", [10.0], [37.9])) == []
        )  # a tie is fine

    def test_empty_update(self) -> None:
        assert ConformanceMonitor(PROTOCOL).update(track("X", "blue", [], [])) == []


class TestLinePrescreen:
    """The exact line test clears positions clearly clear of a line before its GEOS
    geometry (PRESCREEN_LINES): the violations must be the same without it."""

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_same_violations_with_and_without(
        self, seed: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rng = np.random.default_rng(seed)
        bent = DeconflictionLine(
            id="bent",
            name="Bent",
            lat_deg=(35.0, 35.3, 35.3, 35.6, 36.0),
            lon_deg=(38.0, 38.2, 38.2, 37.9, 38.1),
            buffer_nm=3.0,
            sides={"blue": LineSide.RIGHT, "red": LineSide.LEFT},
        )
        prepared = PreparedConformance.from_protocol(
            make_protocol(lines=(bent, MERIDIAN))
        )
        streams = []
        # Random walks round every point of the lines, past the ends too.
        for k, (la, lo) in enumerate(
            zip((*bent.lat_deg, 34.9, 36.1), (*bent.lon_deg, 38.0, 38.1), strict=True)
        ):
            for party in ("blue", "red"):
                n = 400
                streams.append(
                    track(
                        f"{party}{k}",
                        party,
                        np.arange(n) * 10.0,
                        lo + np.cumsum(rng.normal(0.0, 0.01, n)),
                        la + np.cumsum(rng.normal(0.0, 0.01, n)),
                    )
                )
        positions = merge(*streams)
        screened = detect_violations(prepared, positions)
        monkeypatch.setattr(conformance_module, "PRESCREEN_LINES", False)
        plain = detect_violations(prepared, positions)
        assert len(plain) > 10
        assert screened == plain
