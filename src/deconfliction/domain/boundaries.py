"""The protocol's lines and zones prepared for conformance, and the quick screen.

:class:`PreparedConformance` holds each line and zone projected once (one shared
projection when they are all close together, see
:data:`SHARED_PROJECTION_RADIUS_M`); :func:`may_be_nonconforming` tells, in numpy,
which positions may breach a line and need the exact test of
:mod:`deconfliction.domain.conformance`. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from deconfliction.domain import thresholds
from deconfliction.domain.geodesy import LocalProjection, geodesic_distance_nm
from deconfliction.domain.line_points import line_points_m
from deconfliction.domain.model import FloatArray, StrArray
from deconfliction.domain.protocol import (
    ConformanceRules,
    DeconflictionLine,
    LineSide,
    Protocol,
    Zone,
)
from deconfliction.errors import GeometryError
from deconfliction.units import M_PER_NM

BoolArray = npt.NDArray[np.bool_]

LINE_EXTENSION_M: float = 2_000_000.0
"""The first and last segments of a line are carried on by 2,000 km to tell whether a
position's nearest point on the line is beyond an end (then it is on no side): longer
than any theatre, short enough to keep the projection's scale error harmless."""

SHARED_PROJECTION_RADIUS_M: float = 1_000_000.0
"""When every vertex of every line and zone is within 1,000 km of their common
centre, one projection serves them all (scale error under 0.4 %, 37 m on a 5 NM
buffer at the far edge), so positions are projected once instead of once per
boundary; otherwise each boundary gets a projection around its own vertices."""

# --------------------------------------------------------------------------------------
# Prepared geometry


@dataclass(frozen=True, slots=True)
class _PreparedLine:
    line: DeconflictionLine
    projection: LocalProjection
    extended: shapely.LineString
    original: shapely.LineString
    extent_start_m: float  # the line's own extent along the extended line
    extent_end_m: float
    seg_x0_m: FloatArray  # start of each segment of the extended line
    seg_y0_m: FloatArray
    seg_dx_m: FloatArray  # segment vector
    seg_dy_m: FloatArray
    seg_s0_m: FloatArray  # distance along the extended line at each segment start
    buffer_m: float
    buffer_limit_m: float  # strictly closer than this is inside the buffer
    reach_limit_m: float  # further than this from the line: on neither side


@dataclass(frozen=True, slots=True)
class _PreparedZone:
    zone: Zone
    projection: LocalProjection
    polygon: shapely.Polygon  # prepared for repeated point-in-polygon tests
    ring: shapely.LinearRing


@dataclass(frozen=True, slots=True)
class PreparedConformance:
    """A protocol's lines and zones projected once, ready for many calls.

    Build it with :meth:`from_protocol`; :func:`detect_violations` and
    :class:`ConformanceMonitor` accept it in place of the protocol.
    """

    rules: ConformanceRules
    lines: tuple[_PreparedLine, ...]
    zones: tuple[_PreparedZone, ...]

    @classmethod
    def from_protocol(cls, protocol: Protocol) -> PreparedConformance:
        """Project the protocol's lines and zones.

        Raises:
            GeometryError: if a line has fewer than two distinct points, a zone
                fewer than three or a self-intersecting outline, or a zone's floor
                is above its ceiling.
        """
        outlines = [(b.lat_deg, b.lon_deg) for b in protocol.lines] + [
            (z.lat_deg, z.lon_deg) for z in protocol.zones
        ]
        all_lat = [v for lat, _ in outlines for v in lat]
        all_lon = [v for _, lon in outlines for v in lon]
        shared: LocalProjection | None = None
        if all_lat:
            center = LocalProjection.around(all_lat, all_lon)
            reach_nm = geodesic_distance_nm(
                np.full(len(all_lat), center.center_lat_deg),
                np.full(len(all_lat), center.center_lon_deg),
                np.asarray(all_lat, dtype=np.float64),
                np.asarray(all_lon, dtype=np.float64),
            )
            if float(np.max(reach_nm)) * M_PER_NM <= SHARED_PROJECTION_RADIUS_M:
                shared = center
        return cls(
            rules=protocol.conformance,
            lines=tuple(_prepare_line(line, shared) for line in protocol.lines),
            zones=tuple(_prepare_zone(zone, shared) for zone in protocol.zones),
        )


def _projection_for(
    lat_deg: tuple[float, ...],
    lon_deg: tuple[float, ...],
    shared: LocalProjection | None,
) -> LocalProjection:
    return shared if shared is not None else LocalProjection.around(lat_deg, lon_deg)


def _prepare_line(
    line: DeconflictionLine, shared: LocalProjection | None
) -> _PreparedLine:
    projection, x, y = line_points_m(
        line, lambda lat, lon: _projection_for(lat, lon, shared)
    )
    first = np.array([x[0] - x[1], y[0] - y[1]])
    last = np.array([x[-1] - x[-2], y[-1] - y[-2]])
    start = np.array([x[0], y[0]]) + first / np.linalg.norm(first) * LINE_EXTENSION_M
    end = np.array([x[-1], y[-1]]) + last / np.linalg.norm(last) * LINE_EXTENSION_M
    ex = np.r_[start[0], x, end[0]]
    ey = np.r_[start[1], y, end[1]]
    dx, dy = np.diff(ex), np.diff(ey)
    return _PreparedLine(
        line=line,
        projection=projection,
        extended=shapely.LineString(np.column_stack([ex, ey])),
        original=shapely.LineString(np.column_stack([x, y])),
        extent_start_m=LINE_EXTENSION_M,
        extent_end_m=float(np.sum(np.hypot(dx, dy))) - LINE_EXTENSION_M,
        seg_x0_m=ex[:-1],
        seg_y0_m=ey[:-1],
        seg_dx_m=dx,
        seg_dy_m=dy,
        seg_s0_m=np.r_[0.0, np.cumsum(np.hypot(dx, dy))[:-1]],
        buffer_m=line.buffer_nm * M_PER_NM,
        buffer_limit_m=thresholds.horizontal_limit_m(line.buffer_nm),
        reach_limit_m=line.effective_reach_nm * M_PER_NM
        + thresholds.HORIZONTAL_TOLERANCE_M,
    )


def _prepare_zone(zone: Zone, shared: LocalProjection | None) -> _PreparedZone:
    if zone.floor_ft > zone.ceiling_ft:
        raise GeometryError(
            f"zone {zone.id!r}: floor {zone.floor_ft:g} ft is above "
            f"ceiling {zone.ceiling_ft:g} ft"
        )
    if len(zone.lat_deg) != len(zone.lon_deg) or len(zone.lat_deg) < 3:
        raise GeometryError(f"zone {zone.id!r}: needs at least three points")
    projection = _projection_for(zone.lat_deg, zone.lon_deg, shared)
    x, y = projection.to_xy_m(
        np.asarray(zone.lat_deg, dtype=np.float64),
        np.asarray(zone.lon_deg, dtype=np.float64),
    )
    polygon = shapely.Polygon(np.column_stack([x, y]))
    if polygon.area <= 0.0 or not polygon.is_valid:
        raise GeometryError(
            f"zone {zone.id!r}: outline is degenerate or crosses itself "
            f"({shapely.is_valid_reason(polygon)})"
        )
    shapely.prepare(polygon)
    return _PreparedZone(
        zone=zone, projection=projection, polygon=polygon, ring=polygon.exterior
    )


def _as_prepared(protocol: Protocol | PreparedConformance) -> PreparedConformance:
    if isinstance(protocol, PreparedConformance):
        return protocol
    return PreparedConformance.from_protocol(protocol)


# --------------------------------------------------------------------------------------
# Per-sample assessment (vectorised)


REFINE_TOLERANCE_M: float = 1.0
""":func:`may_be_nonconforming` works in the exact test's own projection, with the
same geometry in numpy instead of GEOS: the two differ by rounding (far under a
millimetre); a metre of tolerance covers it."""


def may_be_nonconforming(
    prepared: PreparedConformance,
    party: StrArray,
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    alt_ft: FloatArray,
) -> BoolArray:
    """Positions that may be non-conforming (a superset of those that are), each
    judged alone: as the exact test judges them, in each boundary's own projection,
    but vectorised and with :data:`REFINE_TOLERANCE_M` to spare. A position is
    cleared of a zone when outside its outline (the exact test's own
    point-in-polygon test), and of a line as :func:`_line_may_breach` says.

    Returns:
        One flag per position.
    """
    n = len(party)
    maybe = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return maybe
    projected: dict[LocalProjection, tuple[FloatArray, FloatArray]] = {}

    def xy_m(projection: LocalProjection) -> tuple[FloatArray, FloatArray]:
        if projection not in projected:
            projected[projection] = projection.to_xy_m(lat_deg, lon_deg)
        return projected[projection]

    for pz in prepared.zones:
        zone = pz.zone
        subject = (
            (party != zone.owner)
            & (alt_ft >= zone.floor_ft)
            & (alt_ft <= zone.ceiling_ft)
        )
        if not subject.any():
            continue
        x, y = xy_m(pz.projection)
        rows = np.flatnonzero(subject)
        # The exact test's own point-in-polygon test, outline and floor and
        # ceiling included: a superset of the exact test's strict one.
        maybe[rows[shapely.intersects_xy(pz.polygon, x[rows], y[rows])]] = True
    for pl in prepared.lines:
        required = np.zeros(n)
        for p, side in pl.line.sides.items():
            required[party == p] = 1.0 if side == LineSide.LEFT else -1.0
        sub = np.flatnonzero(required != 0.0)
        if sub.size == 0:
            continue
        x_all, y_all = xy_m(pl.projection)
        maybe[sub] |= _line_may_breach(pl, x_all[sub], y_all[sub], required[sub])
    return maybe


def _line_may_breach(
    pl: _PreparedLine, x: FloatArray, y: FloatArray, need: FloatArray
) -> BoolArray:
    """Positions (projected with ``pl.projection``) that may breach the line: not
    cleared because further than the buffer from the line (plus the tolerance) and,
    for every segment of the extended line about as near as the nearest one (the
    exact test takes the side of the nearest), on the side ``need`` keeps to (+1
    left, -1 right) or beyond the line's own extent along it, or beyond the line's
    reach."""
    tol = REFINE_TOLERANCE_M
    if x.size == 0:
        return np.zeros(0, dtype=np.bool_)
    own = np.asarray(pl.original.coords, dtype=np.float64)
    own_m = np.full(x.size, np.inf)
    for k in range(len(own) - 1):
        if own[k, 0] == own[k + 1, 0] and own[k, 1] == own[k + 1, 1]:
            continue  # a repeated point: its neighbours' segments cover it
        d, _ = point_segment_distance_m(
            x, y, own[k, 0], own[k, 1], own[k + 1, 0], own[k + 1, 1]
        )
        np.minimum(own_m, d, out=own_m)
    dists = []
    fine = []
    for k in range(pl.seg_x0_m.size):
        x0, y0 = float(pl.seg_x0_m[k]), float(pl.seg_y0_m[k])
        dx, dy = float(pl.seg_dx_m[k]), float(pl.seg_dy_m[k])
        length2 = dx * dx + dy * dy
        if length2 == 0.0:
            continue
        u, dist, cross = _on_segment(x, y, x0, y0, x0 + dx, y0 + dy)
        dists.append(dist)
        along_m = float(pl.seg_s0_m[k]) + u * math.sqrt(length2)
        fine.append(
            (need * cross > math.sqrt(length2) * tol)
            | (along_m < pl.extent_start_m - tol)
            | (along_m > pl.extent_end_m + tol)
        )
    dist = np.vstack(dists)
    nearest = dist.min(axis=0)
    near = dist <= nearest[None, :] + tol
    clear_side = np.all(np.vstack(fine) | ~near, axis=0)
    in_reach = nearest <= pl.reach_limit_m + tol
    breach: BoolArray = (own_m < pl.buffer_m + tol) | (~clear_side & in_reach)
    return breach


def point_segment_distance_m(
    x: FloatArray, y: FloatArray, x0: float, y0: float, x1: float, y1: float
) -> tuple[FloatArray, FloatArray]:
    """Distance from points to a segment of non-zero length (planar, metres), and
    the cross product that tells the side (positive left of the segment's
    direction)."""
    _, dist, cross = _on_segment(x, y, x0, y0, x1, y1)
    return dist, cross


def _on_segment(
    x: FloatArray, y: FloatArray, x0: float, y0: float, x1: float, y1: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For points and a segment of non-zero length: where the nearest point of the
    segment is (0 at its start to 1 at its end), the distance to it, and the cross
    product that tells the side."""
    dx, dy = x1 - x0, y1 - y0
    u = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    dist = np.hypot(x - (x0 + u * dx), y - (y0 + u * dy))
    cross = dx * (y - y0) - dy * (x - x0)
    return u, dist, cross
