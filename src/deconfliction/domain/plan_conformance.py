"""Whether positions lie inside an operation's volumes: conformance to a plan.

A position conforms to an operation when some volume holds it at once in time
(``time_start_t_s <= t_s <= time_end_t_s``), in altitude (bounds inclusive) and
horizontally (circles by geodesic distance to the centre, polygons in a local
projection around the operation, edges inclusive). Exactly on a boundary is inside
(conforming): within :data:`~deconfliction.domain.thresholds.HORIZONTAL_TOLERANCE_M`
of the outline counts as on it.
"""

from __future__ import annotations

import numpy as np
import shapely

from deconfliction.domain import thresholds
from deconfliction.domain.geodesy import LocalProjection, geodesic_distance_nm
from deconfliction.domain.model import BoolArray, FloatArray
from deconfliction.domain.planning import Circle, Operation
from deconfliction.units import M_PER_NM

_TOLERANCE_NM: float = thresholds.HORIZONTAL_TOLERANCE_M / M_PER_NM


def positions_inside(
    op: Operation,
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    alt_ft: FloatArray,
    t_s: FloatArray,
) -> BoolArray:
    """For each position, whether a volume of ``op`` holds it.

    >>> from deconfliction.domain.planning import Volume3D, Volume4D
    >>> v = Volume4D(Volume3D(Circle(35.0, 38.0, 10.0), 0.0, 30000.0), 0.0, 3600.0)
    >>> op = Operation("op", "blue", "air_patrol", (v,))
    >>> positions_inside(op, np.array([35.0, 36.0]), np.array([38.0, 38.0]),
    ...                  np.array([20000.0, 20000.0]), np.array([10.0, 10.0])).tolist()
    [True, False]
    """
    n = len(lat_deg)
    inside = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return inside
    for volume in op.volumes:
        space = volume.volume
        candidates = (
            ~inside
            & (t_s >= volume.time_start_t_s)
            & (t_s <= volume.time_end_t_s)
            & (alt_ft >= space.altitude_lower_ft)
            & (alt_ft <= space.altitude_upper_ft)
        )
        rows = np.flatnonzero(candidates)
        if rows.size == 0:
            continue
        outline = space.outline
        if isinstance(outline, Circle):
            dist_nm = geodesic_distance_nm(
                np.full(rows.size, outline.center_lat_deg),
                np.full(rows.size, outline.center_lon_deg),
                lat_deg[rows],
                lon_deg[rows],
            )
            inside[rows] = np.asarray(dist_nm) <= outline.radius_nm + _TOLERANCE_NM
            continue
        projection = LocalProjection.around(
            outline.vertices_lat_deg, outline.vertices_lon_deg
        )
        vx, vy = projection.to_xy_m(
            np.asarray(outline.vertices_lat_deg), np.asarray(outline.vertices_lon_deg)
        )
        polygon = shapely.Polygon(np.column_stack([vx, vy]))
        px, py = projection.to_xy_m(lat_deg[rows], lon_deg[rows])
        inside[rows] = shapely.dwithin(
            polygon, shapely.points(px, py), thresholds.HORIZONTAL_TOLERANCE_M
        )
    return inside
