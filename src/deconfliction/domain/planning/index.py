"""The cell index: the cells and hours of a volume, to find the operations that
may conflict without checking them all."""

from __future__ import annotations

import math

from deconfliction.domain.planning.geometry import (
    _bounding_circle,
    _duration_problems,
    _extent_problems,
)
from deconfliction.domain.planning.shapes import (
    _BOUND_SLACK_FRACTION,
    _BOUND_SLACK_NM,
    _MIN_MERIDIAN_RADIUS_M,
    MAX_VOLUME_DURATION_S,
    Volume4D,
)
from deconfliction.errors import InputError, Problem
from deconfliction.units import M_PER_NM, S_PER_H

INDEX_CELL_DEG: float = 0.5
"""Index cells are 0.5 deg by 0.5 deg (30 NM by 25 NM at 35 N): a typical volume of
20 to 60 NM and its 5 NM margin cover 4 to 16 cells."""
INDEX_BUCKET_S: float = S_PER_H
"""Index time buckets are UTC hours (``floor(t_s / 3600)``)."""
MAX_INDEX_MARGIN_NM: float = 100.0
"""Largest margin :func:`index_cells` accepts: 20 times any separation minimum in
use; a larger one means a unit error."""
_INDEX_ROWS: int = round(180.0 / INDEX_CELL_DEG)
_INDEX_COLS: int = round(360.0 / INDEX_CELL_DEG)


# ------------------------------------------------------------------ index


def index_cells(
    volume: Volume4D, margin_nm: float, *, time_margin_s: float = 0.0
) -> list[tuple[int, int]]:
    """The (spatial cell, hour bucket) keys under which a volume is indexed.

    The grid is fixed: cells of :data:`INDEX_CELL_DEG` in latitude and longitude,
    numbered ``row * 720 + column`` from (-90, -180), and UTC hour buckets
    ``floor(t_s / 3600)``. The keys cover a lat/lon box around the volume's
    bounding circle grown by ``margin_nm`` (and 2 % + 1 NM of slack), during its
    time window grown by ``time_margin_s`` on both sides; a box across the
    antimeridian wraps around.

    Guarantee: two volumes whose outlines come closer than ``m1 + m2`` while their
    windows are less than ``t1 + t2`` apart share at least one key when indexed
    with margins ``(m1, t1)`` and ``(m2, t2)``. So a store can index every volume
    with margin 0 and query with the protocol's minimum (minima may change with
    the protocol; the index need not).

    >>> from deconfliction.domain.planning.shapes import Circle, Volume3D, Volume4D
    >>> v = Volume4D(Volume3D(Circle(35.2, 38.2, 5.0), 0.0, 1e4), 7200.0, 10800.0)
    >>> index_cells(v, 0.0)
    [(180436, 2), (180436, 3)]

    Raises:
        InputError: if the margin is negative or above
            :data:`MAX_INDEX_MARGIN_NM`, or the volume is larger, longer or nearer
            a pole than :func:`volume_problems` accepts.
    """
    # Only what the index needs: the extent and the duration (a polygon crossing
    # itself is the checks' concern, and costs a projection to find).
    c_lat, c_lon, radius_nm = _bounding_circle(volume.volume.outline)
    problems = [
        Problem("index", None, "volume.outline", message)
        for message in _extent_problems(c_lat, radius_nm)
    ] + [
        Problem("index", None, "volume.time", message)
        for message in _duration_problems(volume)
    ]
    if not 0.0 <= margin_nm <= MAX_INDEX_MARGIN_NM:
        problems.append(
            Problem(
                "index",
                None,
                "margin_nm",
                f"must be within [0, {MAX_INDEX_MARGIN_NM:g}], got {margin_nm:g}",
            )
        )
    if not 0.0 <= time_margin_s <= MAX_VOLUME_DURATION_S:
        problems.append(
            Problem(
                "index",
                None,
                "time_margin_s",
                f"must be within [0, {MAX_VOLUME_DURATION_S:g}], got {time_margin_s:g}",
            )
        )
    if problems:
        raise InputError(problems)
    grown_nm = radius_nm * (1.0 + _BOUND_SLACK_FRACTION) + _BOUND_SLACK_NM + margin_nm
    angle_rad = grown_nm * M_PER_NM / _MIN_MERIDIAN_RADIUS_M
    lat_lo = c_lat - math.degrees(angle_rad)
    lat_hi = c_lat + math.degrees(angle_rad)
    # A spherical cap of angular radius a around latitude c spans
    # asin(sin a / cos c) of longitude either side; the cap stays clear of the
    # poles (volume_problems refuses volumes near them).
    half_lon_deg = math.degrees(
        math.asin(min(1.0, math.sin(angle_rad) / math.cos(math.radians(c_lat))))
    )
    rows = range(_row(lat_lo), _row(lat_hi) + 1)
    col_lo = math.floor((c_lon - half_lon_deg + 180.0) / INDEX_CELL_DEG)
    col_hi = math.floor((c_lon + half_lon_deg + 180.0) / INDEX_CELL_DEG)
    cols = sorted({c % _INDEX_COLS for c in range(col_lo, col_hi + 1)})
    b_lo = math.floor((volume.time_start_t_s - time_margin_s) / INDEX_BUCKET_S)
    b_hi = math.floor((volume.time_end_t_s + time_margin_s) / INDEX_BUCKET_S)
    return [
        (row * _INDEX_COLS + col, bucket)
        for row in rows
        for col in cols
        for bucket in range(b_lo, b_hi + 1)
    ]


def _row(lat_deg: float) -> int:
    return min(_INDEX_ROWS - 1, max(0, math.floor((lat_deg + 90.0) / INDEX_CELL_DEG)))
