"""Tests of deconfliction.analysis.regions and of conflicts found cell by cell."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from deconfliction.analysis.engine import (
    ConflictRows,
    cell_conflicts,
    find_conflicts,
    instant_range,
    split_by_cell,
)
from deconfliction.analysis.regions import Cell, RegionGrid, cells_around
from deconfliction.analysis.tracks import TrackTable
from deconfliction.domain import geodesy
from tests.unit.analysis.helpers import T0_S, euphrates, random_traffic


def _distance_to_cell_nm(cell: Cell, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Geodesic distance from each point to a dense sampling of the cell's outline
    (never less than the true distance to the cell)."""
    k = 400
    la0, la1, lo0, lo1 = (
        cell.lat_min_deg,
        cell.lat_max_deg,
        cell.lon_min_deg,
        cell.lon_max_deg,
    )
    ring_lat = np.r_[
        np.full(k, la0),
        np.linspace(la0, la1, k),
        np.full(k, la1),
        np.linspace(la0, la1, k),
    ]
    ring_lon = np.r_[
        np.linspace(lo0, lo1, k),
        np.full(k, lo1),
        np.linspace(lo0, lo1, k),
        np.full(k, lo0),
    ]
    out = np.empty(lat.size)
    for i in range(lat.size):
        out[i] = float(
            np.min(
                geodesy.geodesic_distance_nm(
                    np.full(ring_lat.size, lat[i]),
                    np.full(ring_lat.size, lon[i]),
                    ring_lat,
                    ring_lon,
                )
            )
        )
    return out


class TestCells:
    def test_every_point_is_in_exactly_one_cell(self) -> None:
        grid = RegionGrid(7.0)  # 360 / 7 is not whole: a narrow last column
        rng = np.random.default_rng(1)
        lat = np.r_[rng.uniform(-90, 90, 3000), -90.0, 90.0, 0.0, 0.0]
        lon = np.r_[rng.uniform(-180, 180, 3000), 0.0, 0.0, 180.0, -180.0]
        cells = grid.cells_of(lat, lon)
        hits = sum(c.contains(lat, lon).astype(int) for c in cells)
        assert np.all(hits == 1)

    def test_cells_in_a_box(self) -> None:
        grid = RegionGrid(5.0)
        cells = grid.cells_in_box(30.0, 40.0, 34.0, 48.0)
        assert len(cells) == 3 * 4  # rows 30-35-40(-45), cols 30-35-...-45
        whole = grid.cells_in_box(-90.0, 90.0, -180.0, 180.0)
        assert len(whole) == grid.rows * grid.cols

    @pytest.mark.parametrize(
        ("lat", "lon", "cell_deg", "reach_nm"),
        [
            (35.0, 40.0, 5.0, 85.0),
            (-60.0, 10.0, 10.0, 300.0),
            (70.0, 175.0, 5.0, 120.0),  # the antimeridian inside the halo
            (0.0, -180.0, 2.0, 30.0),
            (76.0, 0.0, 4.0, 200.0),  # reaches the polar cap
        ],
    )
    def test_the_halo_holds_every_point_within_reach(
        self, lat: float, lon: float, cell_deg: float, reach_nm: float
    ) -> None:
        cell = RegionGrid(cell_deg).cell(lat, lon)
        rng = np.random.default_rng(int(cell_deg * 10 + reach_nm))
        span = cell_deg + 3.0 * reach_nm / 60.0
        plat = np.clip(
            cell.lat_min_deg + rng.uniform(-span, span + cell_deg, 600), -89.9, 89.9
        )
        plon = (
            cell.lon_min_deg + rng.uniform(-2 * span, 2 * span, 600) + 180.0
        ) % 360.0 - 180.0
        near = cell.near(plat, plon, reach_nm)
        inside_cell = cell.contains(plat, plon)
        assert near[inside_cell].all()
        outside = np.flatnonzero(~inside_cell)
        d_nm = _distance_to_cell_nm(cell, plat[outside], plon[outside])
        within = outside[d_nm <= reach_nm]
        assert within.size > 10
        assert near[within].all()
        # And it is not the whole world.
        assert not near[outside[d_nm > 3 * reach_nm]].all() or cell.lat_max_deg > 70


def _sorted(rows: ConflictRows) -> ConflictRows:
    order = np.lexsort((rows.b, rows.a, rows.t_s))
    return rows.take(order)


def _same(a: ConflictRows, b: ConflictRows) -> None:
    for name in ConflictRows.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


class TestConflictsByRegion:
    @pytest.mark.parametrize("cell_deg", [1.0, 5.0])
    def test_the_cells_together_give_every_conflict_once(self, cell_deg: float) -> None:
        table = random_traffic(120, 0.5, seed=3)
        protocol = euphrates()
        whole = find_conflicts(table, protocol)
        assert len(whole) > 0
        # States are carried along up to the stale time from their positions.
        reach_nm = float(table.gs_kt.max()) * protocol.stale_after_s / 3600.0
        cells = cells_around(
            RegionGrid(cell_deg),
            float(table.lat_deg.min()),
            float(table.lat_deg.max()),
            float(table.lon_deg.min()),
            float(table.lon_deg.max()),
            reach_nm,
        )
        parts = [find_conflicts(table, protocol, region=c) for c in cells]
        assert sum(len(p) > 0 for p in parts) > 1
        _same(_sorted(ConflictRows.concat(parts)), whole)

    def test_across_the_antimeridian_at_high_latitude(self) -> None:
        """Fast traffic round 70 N, 180 E, with a 15-minute lookahead."""
        rng = np.random.default_rng(4)
        n_aircraft, n_reports = 40, 80
        ids = np.repeat([f"P{k:03d}" for k in range(n_aircraft)], n_reports)
        party = np.repeat(rng.choice(["coalition", "russia"], n_aircraft), n_reports)
        t_s = T0_S + np.tile(np.arange(n_reports) * 5.0, n_aircraft)
        lat = np.repeat(rng.uniform(68.0, 72.0, n_aircraft), n_reports)
        lon0 = np.repeat(rng.uniform(175.0, 185.0, n_aircraft), n_reports)
        trk = np.repeat(rng.uniform(0, 360, n_aircraft), n_reports)
        gs = np.repeat(rng.uniform(300, 1200, n_aircraft), n_reports)
        elapsed = t_s - T0_S
        plat, plon = geodesy.destination(lat, lon0, trk, gs * elapsed / 3600.0)
        table = TrackTable.from_columns(
            ids,
            party,
            t_s,
            plat,
            (np.asarray(plon) + 180.0) % 360.0 - 180.0,
            np.repeat(rng.integers(250, 256, n_aircraft) * 100.0, n_reports),
            gs,
            trk,
            np.zeros(ids.size),
        ).in_time_order()
        protocol = dataclasses.replace(euphrates(), lookahead_s=900.0)
        whole = find_conflicts(table, protocol)
        assert len(whole) > 0
        grid = RegionGrid(10.0)  # the antimeridian is a cell edge
        parts = [
            find_conflicts(table, protocol, region=c)
            for c in grid.cells_in_box(60.0, 80.0, -180.0, 180.0)
        ]
        assert sum(len(p) > 0 for p in parts) > 1
        _same(_sorted(ConflictRows.concat(parts)), whole)


class TestSplitByCell:
    def test_the_pieces_give_what_find_conflicts_gives_by_region(self) -> None:
        table = random_traffic(120, 0.5, seed=3)
        protocol = euphrates()
        whole = find_conflicts(table, protocol)
        assert len(whole) > 0
        k0, k1 = instant_range(
            float(table.t_s.min()),
            float(table.t_s.max()),
            protocol.detection_interval_s,
            protocol.stale_after_s,
        )
        reach_nm = float(table.gs_kt.max()) * protocol.stale_after_s / 3600.0
        cells = cells_around(
            RegionGrid(1.0),
            float(table.lat_deg.min()),
            float(table.lat_deg.max()),
            float(table.lon_deg.min()),
            float(table.lon_deg.max()),
            reach_nm,
        )
        pieces = split_by_cell(table, protocol, k0, k1, cells)
        # Each piece holds only what its cell needs.
        assert max(len(p.table) for p in pieces) < len(table)
        found = [cell_conflicts(p, protocol) for p in pieces]
        assert sum(len(f) > 0 for f in found) > 1
        _same(_sorted(ConflictRows.concat(found)), whole)
