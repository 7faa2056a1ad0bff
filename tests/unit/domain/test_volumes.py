"""Tests of planned operations and the strategic checks (domain/planning/).

Geometry used throughout: the line ``meridian`` runs north along 38 E from 35 N to
36 N with a 5 NM buffer, so its left is the west; ``blue`` keeps to the right
(east), ``red`` to the left (west). The zone ``box`` (owned by ``red``) is a
0.2 deg square at 35-35.2 N, 39-39.2 E up to 25,000 ft. Minima are 5 NM and
1,000 ft.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deconfliction.domain.conformance import PositionStream, detect_violations
from deconfliction.domain.geodesy import destination, geodesic_distance_nm
from deconfliction.domain.model import SeparationMinima
from deconfliction.domain.planning import (
    CIRCLE_VERTICES,
    MAX_VOLUME_ACROSS_NM,
    PLACE_MAX_VERTICES,
    ROUTE_TIME_MARGIN_S,
    CheckResult,
    Circle,
    ConflictKind,
    LineConflict,
    Operation,
    OperationState,
    Outline,
    PlanningBoundaries,
    Polygon,
    Route,
    Volume3D,
    Volume4D,
    VolumeConflict,
    Waypoint,
    ZoneConflict,
    check_against_lines,
    check_against_operations,
    check_against_zones,
    check_operation,
    index_cells,
    outline_problems,
    redact_for,
    route_to_volumes,
    volume_problems,
)
from deconfliction.domain.protocol import (
    DeconflictionLine,
    LineSide,
    Protocol,
    SharingLevel,
    Zone,
)
from deconfliction.errors import GeometryError, InputError

T0_S = 1_513_159_200.0  # 2017-12-13T10:00:00Z
HOUR_S = 3600.0
MINIMA = SeparationMinima(horizontal_nm=5.0, vertical_ft=1000.0)
H_NM = MINIMA.horizontal_nm

MERIDIAN = DeconflictionLine(
    id="meridian",
    name="Meridian 38 E",
    lat_deg=(35.0, 35.5, 36.0),
    lon_deg=(38.0, 38.0, 38.0),
    buffer_nm=5.0,
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


def make_protocol(
    lines: tuple[DeconflictionLine, ...] = (MERIDIAN,),
    zones: tuple[Zone, ...] = (BOX,),
    sharing: SharingLevel = SharingLevel.CONFLICTS,
) -> Protocol:
    return Protocol(
        id="test",
        version=1,
        title="Test protocol",
        sharing=sharing,
        parties={},
        minima=MINIMA,
        lookahead_s=120.0,
        alert_levels=(),
        lines=lines,
        zones=zones,
    )


def vol(
    outline: Outline,
    lower_ft: float = 10_000.0,
    upper_ft: float = 20_000.0,
    start_s: float = T0_S,
    end_s: float = T0_S + HOUR_S,
) -> Volume4D:
    return Volume4D(Volume3D(outline, lower_ft, upper_ft), start_s, end_s)


def oper(
    op_id: str,
    party: str,
    *volumes: Volume4D,
    state: OperationState = OperationState.ACCEPTED,
) -> Operation:
    return Operation(op_id, party, "cap", tuple(volumes), state=state)


def probe(lat_deg: float, lon_deg: float, azimuth_deg: float, dist_nm: float) -> Circle:
    """A 0.01 NM circle ``dist_nm`` from a point: a point, for the checks."""
    lat, lon = destination(lat_deg, lon_deg, azimuth_deg, dist_nm)
    return Circle(float(lat), float(lon), 0.01)


def point(
    lat_deg: float, lon_deg: float, azimuth_deg: float, dist_nm: float
) -> tuple[float, float]:
    lat, lon = destination(lat_deg, lon_deg, azimuth_deg, dist_nm)
    return float(lat), float(lon)


def square(lat_deg: float, lon_deg: float, half_nm: float) -> Polygon:
    corners = [
        point(lat_deg, lon_deg, az, half_nm * math.sqrt(2.0))
        for az in (45, 135, 225, 315)
    ]
    return Polygon(tuple(c[0] for c in corners), tuple(c[1] for c in corners))


def triangle_pointing_at(
    lat_deg: float, lon_deg: float, azimuth_deg: float, apex_nm: float
) -> Polygon:
    """A triangle whose nearest point to (lat, lon) is its apex, ``apex_nm`` away."""
    apex = point(lat_deg, lon_deg, azimuth_deg, apex_nm)
    left = point(lat_deg, lon_deg, azimuth_deg - 10.0, apex_nm + 30.0)
    right = point(lat_deg, lon_deg, azimuth_deg + 10.0, apex_nm + 30.0)
    corners = (apex, left, right)
    return Polygon(tuple(c[0] for c in corners), tuple(c[1] for c in corners))


def pair_conflicts(a: Outline, b: Outline, **kwargs: float) -> list[VolumeConflict]:
    return check_against_operations(
        oper("A", "blue", vol(a)), [oper("B", "red", vol(b, **kwargs))], MINIMA
    )


# ---------------------------------------------------------------- value types


class TestValueTypes:
    @pytest.mark.parametrize(
        "build",
        [
            lambda: Circle(35.0, 38.0, 0.0),
            lambda: Circle(95.0, 38.0, 1.0),
            lambda: Circle(math.nan, 38.0, 1.0),
            lambda: Polygon((35.0, 35.1), (38.0, 38.1)),
            lambda: Polygon((35.0, 35.1, 35.2), (38.0, 38.1)),
            lambda: Polygon((35.0, 35.1, math.inf), (38.0, 38.1, 38.2)),
            lambda: Polygon((35.0, 35.1, 91.0), (38.0, 38.1, 38.2)),
            lambda: Volume3D(Circle(35.0, 38.0, 1.0), 2000.0, 1000.0),
            lambda: Volume3D(Circle(35.0, 38.0, 1.0), math.nan, 1000.0),
            lambda: Volume4D(Volume3D(Circle(35.0, 38.0, 1.0), 0.0, 1.0), 10.0, 10.0),
            lambda: Volume4D(
                Volume3D(Circle(35.0, 38.0, 1.0), 0.0, 1.0), 0.0, math.inf
            ),
            lambda: Operation("A", "blue", "cap", ()),
        ],
    )
    def test_refuses_bad_values(self, build: object) -> None:
        with pytest.raises(GeometryError):
            build()  # type: ignore[operator]

    def test_operation_spans_its_volumes(self) -> None:
        op = oper(
            "A",
            "blue",
            vol(Circle(35.0, 38.0, 1.0), start_s=T0_S + 100, end_s=T0_S + 200),
            vol(Circle(35.0, 38.0, 1.0), start_s=T0_S, end_s=T0_S + 150),
        )
        assert (op.time_start_t_s, op.time_end_t_s) == (T0_S, T0_S + 200)

    def test_states_keep_the_f3548_vocabulary(self) -> None:
        values = {s.value for s in OperationState}
        assert {
            "accepted",
            "activated",
            "nonconforming",
            "contingent",
            "ended",
        } <= values
        assert {s for s in OperationState if not s.is_in_force} == {
            OperationState.ENDED,
            OperationState.CANCELLED,
        }


class TestOutlineProblems:
    def test_a_fine_outline_has_none(self) -> None:
        assert outline_problems(square(35.0, 38.0, 10.0)) == []
        assert outline_problems(Circle(35.0, 38.0, 10.0)) == []

    def test_too_large(self) -> None:
        big = MAX_VOLUME_ACROSS_NM / 2.0 + 1.0
        assert "across" in outline_problems(Circle(35.0, 38.0, big))[0]
        assert "across" in outline_problems(square(35.0, 38.0, big))[0]

    def test_polar(self) -> None:
        assert "polar" in outline_problems(Circle(76.0, 38.0, 10.0))[0]

    def test_self_crossing_and_degenerate(self) -> None:
        bow_tie = Polygon((35.0, 35.2, 35.0, 35.2), (38.0, 38.2, 38.2, 38.0))
        assert "crosses itself" in outline_problems(bow_tie)[0]
        repeated = Polygon((35.0, 35.0, 35.2), (38.0, 38.0, 38.2))
        assert "distinct" in outline_problems(repeated)[0]
        flat = Polygon((35.0, 35.1, 35.2), (38.0, 38.0, 38.0))
        assert outline_problems(flat) == ["the outline has no area"]


class TestVolumeProblems:
    def test_too_long(self) -> None:
        v = vol(Circle(35.0, 38.0, 1.0), end_s=T0_S + 8 * 24 * HOUR_S)
        assert [f for f, _ in volume_problems(v)] == ["time"]

    def test_fine(self) -> None:
        assert volume_problems(vol(Circle(35.0, 38.0, 1.0))) == []


# ---------------------------------------------------------------- routes


class TestRouteToVolumes:
    def route(self, *legs: tuple[float, float, float, float]) -> Route:
        return Route(tuple(Waypoint(*w) for w in legs), 2.0, 500.0)

    def test_each_leg_becomes_timed_pieces(self) -> None:
        # 60 NM in 20 minutes: two pieces of 10 minutes each.
        end = point(35.0, 38.0, 90.0, 60.0)
        route = self.route((35.0, 38.0, 10_000.0, T0_S), (*end, 14_000.0, T0_S + 1200))
        volumes = route_to_volumes(route)
        assert len(volumes) == 2
        first, second = volumes
        assert first.time_start_t_s == T0_S - ROUTE_TIME_MARGIN_S
        assert first.time_end_t_s == pytest.approx(T0_S + 600 + ROUTE_TIME_MARGIN_S)
        assert second.time_start_t_s == pytest.approx(T0_S + 600 - ROUTE_TIME_MARGIN_S)
        assert (first.volume.altitude_lower_ft, first.volume.altitude_upper_ft) == (
            9_500.0,
            12_500.0,
        )
        assert (second.volume.altitude_lower_ft, second.volume.altitude_upper_ft) == (
            11_500.0,
            14_500.0,
        )

    def test_long_legs_are_cut_by_distance_too(self) -> None:
        end = point(35.0, 38.0, 90.0, 250.0)
        route = self.route((35.0, 38.0, 1e4, T0_S), (*end, 1e4, T0_S + 500))
        assert len(route_to_volumes(route)) == 3

    def test_corridor_holds_the_track_and_its_width(self) -> None:
        end = point(35.0, 38.0, 45.0, 40.0)
        route = self.route((35.0, 38.0, 1e4, T0_S), (*end, 1e4, T0_S + 600))
        (piece,) = route_to_volumes(route, max_segment_s=900.0)
        outline = piece.volume.outline
        assert isinstance(outline, Polygon)
        # At the middle of the leg, 1.98 NM abeam is inside, 2.03 NM is not.
        mid = point(35.0, 38.0, 45.0, 20.0)
        protocol = make_protocol((), (self.zone_of(outline),))
        for azimuth in (135.0, 315.0):
            inside = oper("A", "blue", vol(probe(*mid, azimuth, 1.98)))
            outside = oper("A", "blue", vol(probe(*mid, azimuth, 2.03)))
            assert check_against_zones(inside, protocol)
            assert not check_against_zones(outside, protocol)

    @staticmethod
    def zone_of(outline: Polygon) -> Zone:
        return Zone(
            "corridor", "C", "red", outline.vertices_lat_deg, outline.vertices_lon_deg,
            0.0, 1e5,
        )  # fmt: skip

    def test_a_hold_is_a_circle(self) -> None:
        route = self.route((35.0, 38.0, 1e4, T0_S), (35.0, 38.0, 1e4, T0_S + 300))
        (piece,) = route_to_volumes(route)
        assert piece.volume.outline == Circle(35.0, 38.0, 2.0)

    def test_consecutive_pieces_overlap_in_time_and_space(self) -> None:
        end = point(35.0, 38.0, 10.0, 150.0)
        route = self.route((35.0, 38.0, 1e4, T0_S), (*end, 3e4, T0_S + 3000))
        volumes = route_to_volumes(route)
        assert len(volumes) == 5
        for a, b in itertools.pairwise(volumes):
            assert b.time_start_t_s < a.time_end_t_s
            assert pair_conflicts(a.volume.outline, b.volume.outline)

    def test_refuses_bad_settings(self) -> None:
        route = self.route((35.0, 38.0, 1e4, T0_S), (35.1, 38.0, 1e4, T0_S + 300))
        with pytest.raises(GeometryError):
            route_to_volumes(route, max_segment_s=0.0)
        with pytest.raises(GeometryError):
            route_to_volumes(route, time_margin_s=-1.0)

    @pytest.mark.parametrize(
        "waypoints, lateral_nm, vertical_ft",
        [
            (((35.0, 38.0, 1e4, T0_S),), 2.0, 500.0),
            (((35.0, 38.0, 1e4, T0_S), (35.1, 38.0, 1e4, T0_S)), 2.0, 500.0),
            (((35.0, 38.0, 1e4, T0_S), (35.1, 38.0, 1e4, T0_S + 1)), 0.0, 500.0),
            (((35.0, 38.0, 1e4, T0_S), (35.1, 38.0, 1e4, T0_S + 1)), 2.0, -1.0),
            (((95.0, 38.0, 1e4, T0_S), (35.1, 38.0, 1e4, T0_S + 1)), 2.0, 1.0),
            (((35.0, 38.0, math.nan, T0_S), (35.1, 38.0, 1e4, T0_S + 1)), 2.0, 1.0),
        ],
    )
    def test_refuses_bad_routes(
        self,
        waypoints: tuple[tuple[float, float, float, float], ...],
        lateral_nm: float,
        vertical_ft: float,
    ) -> None:
        with pytest.raises(GeometryError):
            Route(tuple(Waypoint(*w) for w in waypoints), lateral_nm, vertical_ft)


# ---------------------------------------------------------------- operations


class TestCheckAgainstOperations:
    def test_circles_that_just_touch_do_not_conflict(self) -> None:
        a = Circle(35.0, 38.0, 10.0)
        lat, lon = point(35.0, 38.0, 90.0, 10.0 + H_NM + 10.0)
        assert pair_conflicts(a, Circle(lat, lon, 10.0)) == []

    @pytest.mark.parametrize(
        ("lower_ft", "expected"),
        [(21_000.0, 0), (20_999.0, 1), (20_000.0, 1)],
    )
    def test_exactly_the_vertical_minimum_apart_does_not_conflict(
        self, lower_ft: float, expected: int
    ) -> None:
        # FL100-FL200 against a volume from FL210: exactly 1,000 ft apart.
        same = Circle(35.0, 38.0, 10.0)
        got = pair_conflicts(same, same, lower_ft=lower_ft, upper_ft=30_000.0)
        assert len(got) == expected

    def test_circles_that_miss_by_less_than_the_minimum_conflict(self) -> None:
        a = Circle(35.0, 38.0, 10.0)
        lat, lon = point(35.0, 38.0, 90.0, 10.0 + H_NM - 0.01 + 10.0)
        (c,) = pair_conflicts(a, Circle(lat, lon, 10.0))
        assert c.horizontal_distance_nm == pytest.approx(H_NM - 0.01, abs=1e-6)

    def test_a_polygon_that_just_touches_a_circle_does_not_conflict(self) -> None:
        a = Circle(35.0, 38.0, 10.0)
        assert (
            pair_conflicts(a, triangle_pointing_at(35.0, 38.0, 70.0, 10.0 + H_NM)) == []
        )
        (c,) = pair_conflicts(a, triangle_pointing_at(35.0, 38.0, 70.0, 14.99))
        assert c.horizontal_distance_nm == pytest.approx(4.99, abs=1e-6)

    def test_polygons_just_inside_and_just_outside_the_minimum(self) -> None:
        # Two triangles pointing at each other along the 35 N parallel.
        a = triangle_pointing_at(*point(35.0, 38.0, 90.0, 10.0), 270.0, 10.0)
        b_apex = point(35.0, 38.0, 90.0, H_NM - 0.02)
        near = triangle_pointing_at(*point(*b_apex, 270.0, 10.0), 90.0, 10.0)
        (c,) = pair_conflicts(a, near)
        assert c.horizontal_distance_nm == pytest.approx(H_NM - 0.02, abs=1e-4)
        b_apex = point(35.0, 38.0, 90.0, H_NM + 0.02)
        far = triangle_pointing_at(*point(*b_apex, 270.0, 10.0), 90.0, 10.0)
        assert pair_conflicts(a, far) == []

    def test_overlap_in_space_and_altitude_but_not_time(self) -> None:
        a = Circle(35.0, 38.0, 10.0)
        assert (
            pair_conflicts(a, a, start_s=T0_S + HOUR_S, end_s=T0_S + 2 * HOUR_S) == []
        )
        (c,) = pair_conflicts(a, a, start_s=T0_S + HOUR_S - 1, end_s=T0_S + 2 * HOUR_S)
        assert (c.time_overlap_start_t_s, c.time_overlap_end_t_s) == (
            T0_S + HOUR_S - 1,
            T0_S + HOUR_S,
        )

    def test_a_time_margin_joins_windows_closer_than_it(self) -> None:
        a = oper("A", "blue", vol(Circle(35.0, 38.0, 10.0)))
        b = oper(
            "B",
            "red",
            vol(
                Circle(35.0, 38.0, 10.0),
                start_s=T0_S + HOUR_S + 100,
                end_s=T0_S + 2 * HOUR_S,
            ),
        )
        assert check_against_operations(a, [b], MINIMA, time_margin_s=100.0) == []
        (c,) = check_against_operations(a, [b], MINIMA, time_margin_s=101.0)
        # Each window grown by half the margin: [T0+3600+100-50.5, T0+3600+50.5].
        assert c.time_overlap_start_t_s == pytest.approx(T0_S + HOUR_S + 49.5)
        assert c.time_overlap_end_t_s == pytest.approx(T0_S + HOUR_S + 50.5)

    def test_overlap_in_space_and_time_but_not_altitude(self) -> None:
        a = Circle(35.0, 38.0, 10.0)
        assert pair_conflicts(a, a, lower_ft=21_000.0, upper_ft=30_000.0) == []
        (c,) = pair_conflicts(a, a, lower_ft=20_999.0, upper_ft=30_000.0)
        # Both ranges grown by 500 ft: [20999 - 500, 20000 + 500].
        assert (c.altitude_overlap_lower_ft, c.altitude_overlap_upper_ft) == (
            20_499.0,
            20_500.0,
        )

    def test_overlap_in_time_and_altitude_but_not_space(self) -> None:
        assert pair_conflicts(Circle(35.0, 38.0, 10.0), Circle(36.0, 38.0, 10.0)) == []

    def test_circle_overlapping_a_polygon(self) -> None:
        a = Circle(35.0, 38.0, 10.0)
        b = square(*point(35.0, 38.0, 0.0, 15.0), 10.0)
        (c,) = pair_conflicts(a, b)
        assert c.horizontal_distance_nm == 0.0
        assert (c.other_operation_id, c.other_party, c.other_volume_index) == (
            "B",
            "red",
            0,
        )
        # The place lies between them: north of the circle's centre.
        assert 35.0 < c.place.centroid_lat_deg < 35.0 + 15.0 / 60.0
        assert c.place.centroid_lon_deg == pytest.approx(38.0, abs=1e-6)
        assert (
            sum(len(p.vertices_lat_deg) for p in c.place.polygons) <= PLACE_MAX_VERTICES
        )

    def test_the_place_is_the_same_whichever_party_files(self) -> None:
        a = oper("A", "blue", vol(square(35.0, 38.0, 10.0)))
        b = oper("B", "red", vol(Circle(*point(35.0, 38.0, 30.0, 22.0), 8.0), 15_000.0))
        (ab,) = check_against_operations(a, [b], MINIMA)
        (ba,) = check_against_operations(b, [a], MINIMA)
        assert ab.place.centroid_lat_deg == pytest.approx(
            ba.place.centroid_lat_deg, abs=1e-4
        )
        assert ab.place.centroid_lon_deg == pytest.approx(
            ba.place.centroid_lon_deg, abs=1e-4
        )
        assert ab.altitude_overlap_lower_ft == ba.altitude_overlap_lower_ft == 14_500.0
        # Each is measured in a projection around the filer's volume: 2 cm apart.
        assert ab.horizontal_distance_nm == pytest.approx(
            ba.horizontal_distance_nm, abs=1e-4
        )

    def test_skips_own_party_itself_and_operations_no_longer_in_force(self) -> None:
        a = Circle(35.0, 38.0, 10.0)
        op = oper("A", "blue", vol(a))
        others = [
            oper("A", "red", vol(a)),  # an earlier version of itself
            oper("B", "blue", vol(a)),
            oper("C", "red", vol(a), state=OperationState.ENDED),
            oper("D", "red", vol(a), state=OperationState.CANCELLED),
            oper("E", "red", vol(a), state=OperationState.CONFLICTED),
        ]
        assert [
            c.other_operation_id for c in check_against_operations(op, others, MINIMA)
        ] == ["E"]

    def test_across_the_antimeridian(self) -> None:
        a = square(10.0, 179.95, 10.0)
        b = square(10.0, -179.95, 10.0)
        (c,) = pair_conflicts(a, b)
        assert c.horizontal_distance_nm == 0.0
        assert abs(c.place.centroid_lon_deg) == pytest.approx(180.0, abs=0.01)
        lons = [x for p in c.place.polygons for x in p.vertices_lon_deg]
        assert min(abs(x) for x in lons) > 179.5

    def test_no_margin_needs_a_real_overlap(self) -> None:
        zero = SeparationMinima(0.0, 0.0)

        def box(lon_west: float, lon_east: float) -> Polygon:
            return Polygon(
                (-0.1, -0.1, 0.1, 0.1), (lon_west, lon_east, lon_east, lon_west)
            )

        a = oper("A", "blue", vol(box(-0.1, 0.1)))
        touching = oper("B", "red", vol(box(0.1, 0.3)))  # shares an edge
        overlapping = oper("C", "red", vol(box(0.099, 0.3)))
        circle = oper("D", "red", vol(Circle(0.0, 0.19, 5.0)))  # 5.4 NM from A
        inside = oper("E", "red", vol(Circle(0.0, 0.18, 5.0)))
        found = check_against_operations(
            a, [touching, overlapping, circle, inside], zero
        )
        assert [c.other_operation_id for c in found] == ["C", "E"]
        assert found[0].place.polygons
        assert found[0].place.centroid_lon_deg == pytest.approx(0.0995, abs=1e-4)

    def test_refuses_negative_margins(self) -> None:
        op = oper("A", "blue", vol(Circle(35.0, 38.0, 1.0)))
        with pytest.raises(GeometryError):
            check_against_operations(op, [], SeparationMinima(-1.0, 0.0))

    def test_refuses_a_crossing_polygon(self) -> None:
        bow_tie = Polygon((35.0, 35.2, 35.0, 35.2), (38.0, 38.2, 38.2, 38.0))
        with pytest.raises(GeometryError, match="cross"):
            pair_conflicts(Circle(35.1, 38.1, 5.0), bow_tie)

    def test_many_others_agree_with_one_at_a_time(self) -> None:
        rng = np.random.default_rng(7)
        op = oper(
            "A",
            "blue",
            vol(Circle(35.0, 38.0, 20.0)),
            vol(square(35.3, 38.5, 15.0), 15_000.0, 30_000.0, T0_S + 1800, T0_S + 7200),
        )
        others = []
        for k in range(300):
            lat, lon = 35.0 + rng.uniform(-1, 1), 38.0 + rng.uniform(-1, 1)
            outline: Outline = (
                Circle(lat, lon, float(rng.uniform(1, 15)))
                if k % 2
                else square(lat, lon, float(rng.uniform(1, 15)))
            )
            start = T0_S + float(rng.uniform(-3, 3)) * HOUR_S
            low = float(rng.uniform(0, 30_000))
            others.append(
                oper(
                    f"B{k}", "red", vol(outline, low, low + 5000, start, start + HOUR_S)
                )
            )
        together = check_against_operations(op, others, MINIMA)
        alone = sorted(
            (c for o in others for c in check_against_operations(op, [o], MINIMA)),
            key=lambda c: (
                c.volume_index,
                c.time_overlap_start_t_s,
                c.other_operation_id,
            ),
        )
        assert 10 < len(together) < 150
        assert together == alone


# ---------------------------------------------------------------- zones


class TestCheckAgainstZones:
    def test_another_party_entering_the_zone(self) -> None:
        op = oper("A", "blue", vol(Circle(35.1, 39.3, 10.0)))
        (c,) = check_against_zones(op, make_protocol())
        assert (c.zone_id, c.zone_owner, c.volume_index) == ("box", "red", 0)
        assert (c.altitude_overlap_lower_ft, c.altitude_overlap_upper_ft) == (
            10_000.0,
            20_000.0,
        )
        # The place is the part of the circle inside the box: west of 39.2 E.
        assert 39.1 < c.place.centroid_lon_deg < 39.2

    def test_the_owner_may_enter(self) -> None:
        op = oper("A", "red", vol(Circle(35.1, 39.1, 10.0)))
        assert check_against_zones(op, make_protocol()) == []

    @pytest.mark.parametrize(
        ("from_s", "until_s", "expected"),
        [
            (HOUR_S, 2 * HOUR_S, None),  # starts exactly when the volume ends
            (-HOUR_S, 0.0, None),  # ends exactly when the volume starts
            (HOUR_S - 1.0, 2 * HOUR_S, (HOUR_S - 1.0, HOUR_S)),
            (600.0, 1200.0, (600.0, 1200.0)),
            (-HOUR_S, 1.0, (0.0, 1.0)),
        ],
    )
    def test_a_zone_in_force_for_a_time(
        self, from_s: float, until_s: float, expected: tuple[float, float] | None
    ) -> None:
        timed = replace(
            BOX, active_from_t_s=T0_S + from_s, active_until_t_s=T0_S + until_s
        )
        op = oper("A", "blue", vol(Circle(35.1, 39.3, 10.0)))  # T0_S to T0_S + 1 h
        found = check_against_zones(op, make_protocol(zones=(timed,)))
        if expected is None:
            assert found == []
        else:
            (c,) = found
            assert (c.time_start_t_s - T0_S, c.time_end_t_s - T0_S) == expected

    def test_above_the_ceiling_or_only_touching_it(self) -> None:
        outline = Circle(35.1, 39.1, 5.0)
        above = oper("A", "blue", vol(outline, 25_000.0, 30_000.0))
        assert check_against_zones(above, make_protocol()) == []
        (c,) = check_against_zones(
            oper("A", "blue", vol(outline, 24_999.0, 30_000.0)), make_protocol()
        )
        assert (c.altitude_overlap_lower_ft, c.altitude_overlap_upper_ft) == (
            24_999.0,
            25_000.0,
        )

    def test_sharing_an_edge_is_not_entering(self) -> None:
        east = Polygon((35.0, 35.0, 35.2, 35.2), (39.2, 39.4, 39.4, 39.2))
        assert check_against_zones(oper("A", "blue", vol(east)), make_protocol()) == []
        inside = Polygon((35.0, 35.0, 35.2, 35.2), (39.19, 39.4, 39.4, 39.19))
        assert (
            len(check_against_zones(oper("A", "blue", vol(inside)), make_protocol()))
            == 1
        )

    def test_a_far_zone_is_not_drawn(self) -> None:
        op = oper("A", "blue", vol(Circle(-35.0, -140.0, 5.0)))
        assert check_against_zones(op, make_protocol()) == []


# ---------------------------------------------------------------- lines


def tiny_circles_op(party: str, lat: np.ndarray, lon: np.ndarray) -> Operation:
    return Operation(
        "probe",
        party,
        "cap",
        tuple(
            vol(Circle(float(a), float(b), 0.01)) for a, b in zip(lat, lon, strict=True)
        ),
    )


class TestCheckAgainstLines:
    def test_a_route_across_the_line(self) -> None:
        route = Route(
            (Waypoint(35.5, 39.0, 2e4, T0_S), Waypoint(35.5, 37.5, 2e4, T0_S + 1800)),
            2.0,
            500.0,
        )
        op = Operation("R", "blue", "sortie", route_to_volumes(route))
        conflicts = check_against_lines(op, make_protocol())
        # Blue keeps east: the pieces reaching within 5 NM of the line conflict,
        # and those reaching its west side are across.
        assert conflicts and {c.line_id for c in conflicts} == {"meridian"}
        assert any(c.reaches_other_side for c in conflicts)
        assert conflicts[0].line_parties == ("red",)
        # Three pieces of 24 NM: the first stays 20 NM east of the line.
        assert len(op.volumes) == 3
        assert [(c.volume_index, c.reaches_other_side) for c in conflicts] == [
            (1, True),
            (2, True),
        ]

    def test_own_side_in_the_buffer_and_clear_of_it(self) -> None:
        in_buffer = oper("A", "blue", vol(Circle(35.5, 38.1 + 1.0 / 49.0, 1.0)))
        (c,) = check_against_lines(in_buffer, make_protocol())
        assert not c.reaches_other_side
        clear = oper("A", "blue", vol(Circle(35.5, 38.3, 1.0)))
        assert check_against_lines(clear, make_protocol()) == []

    def test_just_touching_the_buffer(self) -> None:
        # The buffer edge: 5 NM east of the line at 35.5 N, along the parallel.
        lat, lon = point(35.5, 38.0, 90.0, 5.0 + 2.0)
        touching = check_against_lines(
            oper("A", "blue", vol(Circle(lat, lon, 2.0))), make_protocol()
        )
        lat, lon = point(35.5, 38.0, 90.0, 5.0 + 1.98)
        inside = check_against_lines(
            oper("A", "blue", vol(Circle(lat, lon, 2.0))), make_protocol()
        )
        assert touching == [] and len(inside) == 1

    def test_the_other_side_far_from_the_line(self) -> None:
        west = oper("A", "blue", vol(square(35.5, 37.0, 5.0)))
        (c,) = check_against_lines(west, make_protocol())
        assert c.reaches_other_side
        assert c.place.centroid_lon_deg == pytest.approx(37.0, abs=0.01)
        assert check_against_lines(replace(west, party="red"), make_protocol()) == []

    def test_beyond_the_line_s_end_only_the_buffer_counts(self) -> None:
        # North of the line's end (36 N), west of it: on no side.
        beyond = oper("A", "blue", vol(square(36.3, 37.9, 5.0)))
        assert check_against_lines(beyond, make_protocol()) == []
        # Within the round cap of the buffer around the end point.
        cap = oper("A", "blue", vol(Circle(*point(36.0, 38.0, 315.0, 6.0), 2.0)))
        (c,) = check_against_lines(cap, make_protocol())
        assert not c.reaches_other_side
        # Straddling the end: the part alongside the line is across.
        straddle = oper("A", "blue", vol(square(36.0, 37.7, 5.0)))
        (c,) = check_against_lines(straddle, make_protocol())
        assert c.reaches_other_side

    def test_a_volume_on_the_far_side_of_the_earth(self) -> None:
        # Near the antipode of the line, out of its reach: not drawn at all.
        far = oper("A", "blue", vol(square(-35.5, -142.0, 100.0)))
        assert check_against_lines(far, make_protocol()) == []

    def test_a_party_the_line_does_not_name(self) -> None:
        op = oper("A", "green", vol(Circle(35.5, 38.0, 5.0)))
        assert check_against_lines(op, make_protocol()) == []

    def test_agrees_with_conformance_on_a_winding_line(self) -> None:
        # A line that bends both ways and comes back on itself (a U), where the
        # nearest part of the line decides the side.
        line = DeconflictionLine(
            id="winding",
            name="Winding",
            lat_deg=(35.0, 35.5, 35.5, 35.0, 34.8, 35.2),
            lon_deg=(38.0, 38.2, 38.8, 39.0, 39.5, 40.0),
            buffer_nm=3.0,
            sides={"blue": LineSide.LEFT, "red": LineSide.RIGHT},
        )
        protocol = make_protocol((line,), ())
        boundaries = PlanningBoundaries.from_protocol(protocol)
        rng = np.random.default_rng(11)
        n = 1500
        lat = rng.uniform(33.5, 36.5, n)
        lon = rng.uniform(36.5, 41.5, n)
        for party in ("blue", "red"):
            stream = PositionStream.from_columns(
                [f"p{k}" for k in range(n)],
                [party] * n,
                np.zeros(n),
                lat,
                lon,
                np.full(n, 1e4),
            )
            expected = {
                int(v.aircraft_id[1:]) for v in detect_violations(protocol, stream)
            }
            found = {
                c.volume_index
                for c in check_against_lines(
                    tiny_circles_op(party, lat, lon), boundaries
                )
            }
            # Probes are 0.01 NM circles: they may differ from a point only within
            # 0.01 NM of a boundary, which none of these random points is.
            assert found == expected
            assert 200 < len(expected) < n - 200


# ---------------------------------------------------------------- all checks


class TestCheckOperation:
    def test_combines_the_three(self) -> None:
        # West of the line (blue's wrong side), crossing red's box, near red's op.
        op = oper(
            "A",
            "blue",
            vol(Circle(35.5, 37.8, 3.0)),
            vol(Circle(35.1, 39.1, 3.0)),
        )
        other = oper("B", "red", vol(Circle(35.1, 39.2, 2.0)))
        result = check_operation(op, [other], make_protocol())
        assert not result.is_clear
        assert len(result) == 3
        assert [c.volume_index for c in result.lines] == [0]
        assert [c.volume_index for c in result.zones] == [1]
        assert [c.volume_index for c in result.operations] == [1]

    def test_clear(self) -> None:
        op = oper("A", "blue", vol(Circle(35.5, 38.5, 3.0)))
        result = check_operation(op, [], make_protocol())
        assert result.is_clear and len(result) == 0

    def test_prepared_boundaries_give_the_same_answer(self) -> None:
        op = oper(
            "A", "blue", vol(Circle(35.5, 37.8, 3.0)), vol(Circle(35.1, 39.1, 3.0))
        )
        protocol = make_protocol()
        prepared = PlanningBoundaries.from_protocol(protocol)
        assert check_operation(op, [], prepared, minima=MINIMA) == check_operation(
            op, [], protocol
        )
        with pytest.raises(GeometryError, match="minima"):
            check_operation(op, [], prepared)

    def test_refuses_a_line_without_two_points(self) -> None:
        line = replace(MERIDIAN, lat_deg=(35.0, 35.0), lon_deg=(38.0, 38.0))
        with pytest.raises(GeometryError):
            PlanningBoundaries.from_protocol(make_protocol((line,), ()))


# ---------------------------------------------------------------- index


@st.composite
def nearby_pairs(draw: st.DrawFn) -> tuple[Volume4D, Volume4D, float]:
    """Two volumes near each other somewhere on Earth, and a margin."""
    lat = draw(st.floats(-68.0, 68.0))
    lon = draw(st.floats(-180.0, 180.0))
    margin_nm = draw(st.sampled_from([0.0, 1.0, 5.0, 20.0]))

    def outline(c_lat: float, c_lon: float) -> Outline:
        size_nm = draw(st.floats(0.5, 200.0))
        if draw(st.booleans()):
            return Circle(c_lat, c_lon, size_nm)
        sides = draw(st.integers(3, 8))
        turn = draw(st.floats(0.0, 360.0))
        corners = [
            point(c_lat, c_lon, turn + 360.0 * k / sides, size_nm) for k in range(sides)
        ]
        return Polygon(tuple(c[0] for c in corners), tuple(c[1] for c in corners))

    a = outline(lat, lon)
    b_lat, b_lon = point(
        lat, lon, draw(st.floats(0.0, 360.0)), draw(st.floats(0.0, 450.0))
    )
    b = outline(b_lat, b_lon)
    start = T0_S + draw(st.floats(-10 * HOUR_S, 10 * HOUR_S))
    length = draw(st.floats(60.0, 5 * HOUR_S))
    other_start = start + draw(st.floats(-6 * HOUR_S, 6 * HOUR_S))
    return (
        vol(a, start_s=start, end_s=start + length),
        vol(
            b,
            start_s=other_start,
            end_s=other_start + draw(st.floats(60.0, 5 * HOUR_S)),
        ),
        margin_nm,
    )


class TestIndexCells:
    @settings(max_examples=300, deadline=None)
    @given(pair=nearby_pairs(), split=st.booleans())
    def test_volumes_that_conflict_share_a_key(
        self, pair: tuple[Volume4D, Volume4D, float], split: bool
    ) -> None:
        a, b, margin_nm = pair
        assume(not volume_problems(a) and not volume_problems(b))
        minima = SeparationMinima(margin_nm, 1000.0)
        found = check_against_operations(
            oper("A", "blue", a), [oper("B", "red", b)], minima
        )
        # Either the stored side has no margin and the query the whole one, or
        # both half of it.
        m_a, m_b = (margin_nm / 2.0, margin_nm / 2.0) if split else (margin_nm, 0.0)
        shared = set(index_cells(a, m_a)) & set(index_cells(b, m_b))
        if found:
            assert shared

    def test_time_margin_covered(self) -> None:
        a = vol(Circle(35.0, 38.0, 5.0), start_s=T0_S, end_s=T0_S + 600)
        b = vol(Circle(35.0, 38.0, 5.0), start_s=T0_S + 600 + 3000, end_s=T0_S + 7200)
        assert not set(index_cells(a, 0.0)) & set(index_cells(b, 0.0))
        assert set(index_cells(a, 0.0, time_margin_s=3001.0)) & set(index_cells(b, 0.0))

    def test_keys_of_a_typical_volume(self) -> None:
        v = vol(Circle(35.2, 38.2, 20.0), start_s=T0_S, end_s=T0_S + 2 * HOUR_S)
        keys = index_cells(v, 5.0)
        cells = {c for c, _ in keys}
        buckets = {b for _, b in keys}
        assert buckets == {int(T0_S // HOUR_S) + k for k in range(3)}
        assert 4 <= len(cells) <= 9
        assert len(keys) == len(cells) * len(buckets)

    def test_wraps_across_the_antimeridian(self) -> None:
        cols = {c % 720 for c, _ in index_cells(vol(Circle(0.0, 179.9, 20.0)), 0.0)}
        assert {0, 719} <= cols and max(cols) - min(cols) == 719

    @pytest.mark.parametrize(
        "volume, margin_nm, time_margin_s, field",
        [
            (vol(Circle(35.0, 38.0, 300.0)), 0.0, 0.0, "volume.outline"),
            (vol(Circle(80.0, 38.0, 10.0)), 0.0, 0.0, "volume.outline"),
            (
                vol(Circle(35.0, 38.0, 1.0), end_s=T0_S + 8 * 24 * HOUR_S),
                0.0,
                0.0,
                "volume.time",
            ),
            (vol(Circle(35.0, 38.0, 1.0)), -1.0, 0.0, "margin_nm"),
            (vol(Circle(35.0, 38.0, 1.0)), 101.0, 0.0, "margin_nm"),
            (vol(Circle(35.0, 38.0, 1.0)), 0.0, -1.0, "time_margin_s"),
        ],
    )
    def test_refuses_what_it_cannot_index(
        self, volume: Volume4D, margin_nm: float, time_margin_s: float, field: str
    ) -> None:
        with pytest.raises(InputError) as info:
            index_cells(volume, margin_nm, time_margin_s=time_margin_s)
        assert [p.field for p in info.value.problems] == [field]


# ---------------------------------------------------------------- disclosure


@pytest.fixture(scope="module")
def conflicts() -> CheckResult:
    op = oper("A", "blue", vol(Circle(35.5, 37.8, 3.0)), vol(Circle(35.1, 39.1, 3.0)))
    other = oper("B", "red", vol(Circle(35.1, 39.2, 2.0)))
    return check_operation(op, [other], make_protocol())


class TestRedactFor:
    def op_conflict(self, conflicts: CheckResult) -> VolumeConflict:
        return conflicts.operations[0]

    def test_the_filer_under_each_level(self, conflicts: CheckResult) -> None:
        c = self.op_conflict(conflicts)
        zones = redact_for("blue", c, SharingLevel.ZONES)
        assert zones is not None and (zones.operation_id, zones.volume_index) == (
            "A",
            1,
        )
        assert (
            zones.place is None
            and zones.other_party is None
            and zones.time_start_t_s is None
        )
        shared = redact_for("blue", c, SharingLevel.CONFLICTS)
        assert shared is not None
        assert shared.place == c.place and shared.other_party == "red"
        assert shared.time_start_t_s == c.time_overlap_start_t_s
        assert shared.altitude_lower_ft == c.altitude_overlap_lower_ft
        assert shared.other_operation_id is None and shared.other_volume is None
        for level in (SharingLevel.PLANS, SharingLevel.FULL):
            view = redact_for("blue", c, level)
            assert view is not None
            assert (view.other_operation_id, view.other_volume_index) == ("B", 0)
            assert view.other_volume == c.other_volume

    def test_the_other_party_sees_it_mirrored(self, conflicts: CheckResult) -> None:
        c = self.op_conflict(conflicts)
        view = redact_for("red", c, SharingLevel.CONFLICTS)
        assert view is not None
        assert (view.operation_id, view.volume_index, view.other_party) == (
            "B",
            0,
            "blue",
        )
        assert view.other_operation_id is None
        full = redact_for("red", c, SharingLevel.FULL)
        assert full is not None and full.other_volume == c.volume

    def test_a_third_party_sees_nothing(self, conflicts: CheckResult) -> None:
        for c in [*conflicts.operations, *conflicts.zones, *conflicts.lines]:
            assert redact_for("green", c, SharingLevel.FULL) is None

    def test_zone_and_line_conflicts(self, conflicts: CheckResult) -> None:
        zone: ZoneConflict = conflicts.zones[0]
        line: LineConflict = conflicts.lines[0]
        for c, kind in ((zone, ConflictKind.ZONE), (line, ConflictKind.LINE)):
            mine = redact_for("blue", c, SharingLevel.ZONES)
            assert mine is not None and mine.kind is kind
            assert mine.place == c.place and mine.other_party == "red"
            assert redact_for("red", c, SharingLevel.ZONES) is None
            theirs = redact_for("red", c, SharingLevel.CONFLICTS)
            assert theirs is not None
            assert theirs.operation_id is None and theirs.other_operation_id is None
            assert theirs.other_party == "blue" and theirs.place == c.place
            plans = redact_for("red", c, SharingLevel.PLANS)
            assert plans is not None and plans.other_operation_id == "A"
            assert plans.other_volume == c.volume
        line_view = redact_for("blue", line, SharingLevel.CONFLICTS)
        assert line_view is not None and line_view.reaches_other_side is True


def test_circles_are_exact_in_decisions() -> None:
    # Drawn as a polygon a circle exceeds itself by at most 1/cos(2.5 deg) - 1;
    # the decisions use the centre and the radius, so a zone 0.1 % beyond the
    # radius is not entered.
    assert 1.0 / math.cos(math.pi / CIRCLE_VERTICES) - 1.0 < 0.00096
    centre = (35.0, 38.0)
    r_nm = 20.0
    ring = [point(*centre, az, r_nm * 1.001) for az in (89.5, 90.5)]
    far = [point(*centre, az, r_nm * 3) for az in (100.0, 80.0)]
    corners = [*ring, *far]
    zone = Zone(
        "z",
        "Z",
        "red",
        tuple(c[0] for c in corners),
        tuple(c[1] for c in corners),
        0.0,
        1e5,
    )
    op = oper("A", "blue", vol(Circle(*centre, r_nm)))
    assert check_against_zones(op, make_protocol((), (zone,))) == []
    assert geodesic_distance_nm(*centre, *ring[0]) == pytest.approx(r_nm * 1.001)
