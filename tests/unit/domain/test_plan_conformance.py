"""Tests of deconfliction.domain.plan_conformance: exactly on a boundary is inside."""

from __future__ import annotations

import numpy as np
import pytest

from deconfliction.domain.geodesy import destination
from deconfliction.domain.plan_conformance import positions_inside
from deconfliction.domain.planning import (
    Circle,
    Operation,
    Polygon,
    Volume3D,
    Volume4D,
)

T0_S = 1_513_159_200.0
CENTER = (35.0, 38.0)
RADIUS_NM = 10.0


def _op(outline: Circle | Polygon) -> Operation:
    v = Volume4D(Volume3D(outline, 10_000.0, 20_000.0), T0_S, T0_S + 3600.0)
    return Operation("op", "blue", "air_patrol", (v,))


def _inside(
    op: Operation, lat_deg: float, lon_deg: float, alt_ft: float, t_s: float
) -> bool:
    return bool(
        positions_inside(
            op,
            np.array([lat_deg]),
            np.array([lon_deg]),
            np.array([alt_ft]),
            np.array([t_s]),
        )[0]
    )


class TestPositionsInside:
    @pytest.mark.parametrize(
        ("dist_nm", "expected"),
        [(RADIUS_NM, True), (RADIUS_NM + 2e-6, True), (RADIUS_NM + 1e-4, False)],
    )
    @pytest.mark.parametrize("azimuth_deg", [0.0, 45.0, 90.0, 200.0])
    def test_circle_edge_is_inside(
        self, dist_nm: float, expected: bool, azimuth_deg: float
    ) -> None:
        # Exactly the radius from the centre (geodesic) conforms; within 1 cm
        # counts as on the edge; 19 cm out does not.
        lat, lon = destination(*CENTER, azimuth_deg, dist_nm)
        op = _op(Circle(*CENTER, RADIUS_NM))
        assert _inside(op, float(lat), float(lon), 15_000.0, T0_S) is expected

    @pytest.mark.parametrize(
        ("alt_ft", "t_s", "expected"),
        [
            (10_000.0, T0_S, True),
            (20_000.0, T0_S + 3600.0, True),
            (9_999.0, T0_S, False),
            (20_001.0, T0_S, False),
            (15_000.0, T0_S + 3601.0, False),
        ],
    )
    def test_altitude_and_time_bounds_are_inside(
        self, alt_ft: float, t_s: float, expected: bool
    ) -> None:
        op = _op(Circle(*CENTER, RADIUS_NM))
        assert _inside(op, *CENTER, alt_ft, t_s) is expected

    def test_polygon_vertices_are_inside(self) -> None:
        lat = (35.0, 35.0, 35.2, 35.2)
        lon = (38.0, 38.2, 38.2, 38.0)
        op = _op(Polygon(lat, lon))
        for a, b in zip(lat, lon, strict=True):
            assert _inside(op, a, b, 15_000.0, T0_S)
        assert not _inside(op, 34.999, 38.1, 15_000.0, T0_S)
