"""A deconfliction line's points on a local plane, as conformance and planning use
them: at least two, projected, repeats dropped."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deconfliction.domain.geodesy import LocalProjection
from deconfliction.domain.model import FloatArray
from deconfliction.domain.protocol import DeconflictionLine
from deconfliction.errors import GeometryError


def line_points_m(
    line: DeconflictionLine,
    projection_for: Callable[[tuple[float, ...], tuple[float, ...]], LocalProjection],
) -> tuple[LocalProjection, FloatArray, FloatArray]:
    """The projection ``projection_for(lat_deg, lon_deg)`` gives for ``line`` and the
    line's points in it (x east, y north, metres), a point equal to the one before
    it dropped: repeated points make zero-length segments, which have no direction.

    Raises:
        GeometryError: for fewer than two points, or fewer than two distinct ones.

    >>> lat, lon = (35.0, 35.0, 36.0), (38.0, 38.0, 38.0)
    >>> line = DeconflictionLine("l", "l", lat, lon, 0.0, {})
    >>> _, x, y = line_points_m(line, LocalProjection.around)
    >>> len(x), bool(y[1] > y[0])
    (2, True)
    """
    if len(line.lat_deg) != len(line.lon_deg) or len(line.lat_deg) < 2:
        raise GeometryError(f"line {line.id!r}: needs at least two points")
    projection = projection_for(line.lat_deg, line.lon_deg)
    x, y = projection.to_xy_m(
        np.asarray(line.lat_deg, dtype=np.float64),
        np.asarray(line.lon_deg, dtype=np.float64),
    )
    keep = np.r_[True, np.hypot(np.diff(x), np.diff(y)) > 0.0]
    x, y = x[keep], y[keep]
    if x.size < 2:
        raise GeometryError(f"line {line.id!r}: needs at least two distinct points")
    return projection, x, y
