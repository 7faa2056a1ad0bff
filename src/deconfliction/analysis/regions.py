"""Regions for ``analyze``: a grid of latitude-longitude cells, each with a halo.

A cell owns the positions (and states) inside it: every point belongs to exactly one
cell, because membership is the cell number computed from the point, not a
comparison with the cell's edges. The halo of a cell holds every point within a
given distance of it, and some more: the tests on degrees are made generous rather
than exact, since a point wrongly put in a halo only costs a little work, while a
point wrongly left out would lose a conflict.

A pair of aircraft in conflict at an instant is owned by the cell of its first
aircraft (``a``, the smaller id) then; the other one is within the minimum plus what
the two can close over the lookahead, so it is in that cell's halo of that width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deconfliction.domain.model import BoolArray, FloatArray, IntArray

NM_PER_DEG_LAT_MIN: float = 59.5
"""Fewer nautical miles than any degree of latitude holds on WGS-84 (59.7 at the
equator, 60.3 at the poles): dividing by it overstates a distance in degrees."""

HALO_SLACK: float = 1.02
"""Longitudes: the geodesic between two points bends poleward of the parallel, so
the degrees a distance spans are taken 2 % wider, at the latitude nearest the pole
the halo reaches plus that distance again."""

POLAR_CAP_DEG: float = 80.0
"""A halo that reaches beyond this latitude takes every longitude."""


@dataclass(frozen=True, slots=True, order=True)
class Cell:
    """One cell of a :class:`RegionGrid`.

    Attributes:
        row: latitude band, from the south pole.
        col: longitude band, from the antimeridian going east.
        cell_deg: the grid's cell size.
    """

    row: int
    col: int
    cell_deg: float

    @property
    def name(self) -> str:
        """A name for files: ``r<row>c<col>``."""
        return f"r{self.row:03d}c{self.col:03d}"

    @property
    def lat_min_deg(self) -> float:
        return -90.0 + self.row * self.cell_deg

    @property
    def lat_max_deg(self) -> float:
        return min(90.0, self.lat_min_deg + self.cell_deg)

    @property
    def lon_min_deg(self) -> float:
        return -180.0 + self.col * self.cell_deg

    @property
    def lon_max_deg(self) -> float:
        return min(180.0, self.lon_min_deg + self.cell_deg)

    def contains(self, lat_deg: FloatArray, lon_deg: FloatArray) -> BoolArray:
        """Whether each point is in this cell (every point is in exactly one)."""
        grid = RegionGrid(self.cell_deg)
        row, col = grid.cell_numbers(lat_deg, lon_deg)
        inside: BoolArray = (row == self.row) & (col == self.col)
        return inside

    def near(
        self, lat_deg: FloatArray, lon_deg: FloatArray, reach_nm: float
    ) -> BoolArray:
        """Whether each point may be within ``reach_nm`` of the cell (every point
        that is, and some that are not).

        >>> c = RegionGrid(5.0).cell(35.0, 40.0)  # 35-40 N, 40-45 E
        >>> lat, lon = np.array([35.0, 34.5, 30.0, 35.0]), np.array([46, 40, 40, 50])
        >>> c.near(lat, lon, 60.0).tolist()
        [True, True, False, False]
        """
        lat = np.asarray(lat_deg, dtype=np.float64)
        lon = np.asarray(lon_deg, dtype=np.float64)
        lat_lo, lat_hi, dlon = _widened(self.lat_min_deg, self.lat_max_deg, reach_nm)
        in_band: BoolArray = (lat >= lat_lo) & (lat <= lat_hi)
        if dlon is None or self.cell_deg + 2 * dlon >= 360.0:
            return in_band
        # Longitude east of the cell's west edge, 0 to 360 (the antimeridian wraps).
        east = (lon - self.lon_min_deg) % 360.0
        width = self.lon_max_deg - self.lon_min_deg
        in_lon = (east <= width + dlon) | (east >= 360.0 - dlon)
        near = in_band & in_lon
        return near


@dataclass(frozen=True, slots=True)
class RegionGrid:
    """Cells of ``cell_deg`` degrees of latitude and longitude.

    Raises:
        ValueError: if ``cell_deg`` is not in (0, 180].
    """

    cell_deg: float

    def __post_init__(self) -> None:
        if not (0.0 < self.cell_deg <= 180.0):
            raise ValueError(f"cell_deg must be in (0, 180], got {self.cell_deg}")

    @property
    def rows(self) -> int:
        return math.ceil(180.0 / self.cell_deg)

    @property
    def cols(self) -> int:
        return math.ceil(360.0 / self.cell_deg)

    def cell_numbers(
        self, lat_deg: FloatArray, lon_deg: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """The (row, col) of the cell of each point (latitude 90 is in the last
        row; longitude 180 is -180's, in the first column)."""
        lat = np.asarray(lat_deg, dtype=np.float64)
        lon = (np.asarray(lon_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0
        row = np.clip(np.floor((lat + 90.0) / self.cell_deg), 0, self.rows - 1)
        col = np.clip(np.floor((lon + 180.0) / self.cell_deg), 0, self.cols - 1)
        return row.astype(np.int64), col.astype(np.int64)

    def cell(self, lat_deg: float, lon_deg: float) -> Cell:
        """The cell of one point."""
        row, col = self.cell_numbers(np.array([lat_deg]), np.array([lon_deg]))
        return Cell(int(row[0]), int(col[0]), self.cell_deg)

    def cells_of(self, lat_deg: FloatArray, lon_deg: FloatArray) -> list[Cell]:
        """The distinct cells of some points, sorted."""
        row, col = self.cell_numbers(lat_deg, lon_deg)
        pairs = np.unique(np.stack([row, col], axis=1), axis=0)
        return [Cell(int(r), int(c), self.cell_deg) for r, c in pairs.tolist()]

    def cells_in_box(
        self,
        lat_min_deg: float,
        lat_max_deg: float,
        lon_min_deg: float,
        lon_max_deg: float,
    ) -> list[Cell]:
        """Every cell that meets a latitude-longitude box (west to east, not across
        the antimeridian: a box that is goes from -180 to 180)."""
        lat = np.array([lat_min_deg, lat_max_deg])
        lon = np.array([lon_min_deg, lon_max_deg])
        row, col = self.cell_numbers(lat, lon)
        # Longitude 180 is in the first column; as a box's east edge, in the last.
        col_hi = self.cols - 1 if lon_max_deg >= 180.0 else int(col[1])
        return [
            Cell(r, c, self.cell_deg)
            for r in range(int(row[0]), int(row[1]) + 1)
            for c in range(int(col[0]), col_hi + 1)
        ]


def cells_around(
    grid: RegionGrid,
    lat_min_deg: float,
    lat_max_deg: float,
    lon_min_deg: float,
    lon_max_deg: float,
    reach_nm: float,
) -> list[Cell]:
    """Every cell that a point within ``reach_nm`` of a latitude-longitude box may
    be in (generously, as :meth:`Cell.near`): where the states dead-reckoned from
    positions in the box may be.

    >>> len(cells_around(RegionGrid(5.0), 36.0, 37.0, 41.0, 42.0, 30.0))
    1
    >>> len(cells_around(RegionGrid(5.0), 36.0, 37.0, 41.0, 44.0, 120.0))
    6
    """
    south, north, dlon = _widened(lat_min_deg, lat_max_deg, reach_nm)
    lat_lo, lat_hi = max(-90.0, south), min(90.0, north)
    if dlon is None:
        return grid.cells_in_box(lat_lo, lat_hi, -180.0, 180.0)
    lon_lo, lon_hi = lon_min_deg - dlon, lon_max_deg + dlon
    if lon_hi - lon_lo >= 360.0:
        return grid.cells_in_box(lat_lo, lat_hi, -180.0, 180.0)
    if lon_lo < -180.0 or lon_hi > 180.0:  # across the antimeridian: two boxes
        lo = (lon_lo + 180.0) % 360.0 - 180.0
        hi = (lon_hi + 180.0) % 360.0 - 180.0
        cells = grid.cells_in_box(lat_lo, lat_hi, lo, 180.0)
        cells += grid.cells_in_box(lat_lo, lat_hi, -180.0, hi)
        return sorted(set(cells))
    return grid.cells_in_box(lat_lo, lat_hi, lon_lo, lon_hi)


def _widened(
    lat_min_deg: float, lat_max_deg: float, reach_nm: float
) -> tuple[float, float, float | None]:
    """A latitude band widened by ``reach_nm`` (generously): ``(south, north,
    dlon)``, with ``dlon`` the degrees of longitude the reach may span there, or
    None when the band comes near enough to a pole to take every longitude.

    Latitude: no degree holds fewer than :data:`NM_PER_DEG_LAT_MIN`. Longitude: the
    parallels shrink towards the pole, so the band's edge nearest it counts, taken
    as far again for the geodesic's poleward bend (:data:`HALO_SLACK`).
    """
    dlat = reach_nm / NM_PER_DEG_LAT_MIN
    south, north = lat_min_deg - dlat, lat_max_deg + dlat
    poleward = max(abs(south), abs(north)) + dlat
    if poleward >= POLAR_CAP_DEG:
        return south, north, None
    return (
        south,
        north,
        HALO_SLACK * reach_nm / (60.0 * math.cos(math.radians(poleward))),
    )
