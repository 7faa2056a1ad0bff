"""The strategic check: an operation against the others, the zones and the
lines of the protocol."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from deconfliction.domain.conformance import LINE_EXTENSION_M
from deconfliction.domain.geodesy import (
    LocalProjection,
    geodesic_distance_nm,
)
from deconfliction.domain.line_points import line_points_m
from deconfliction.domain.model import (
    BoolArray,
    FloatArray,
    IntArray,
    SeparationMinima,
)
from deconfliction.domain.planning.geometry import (
    _bounding_circle,
    _bounding_circles,
    _Bounds,
    _cores,
    _interval_gap,
    _overlaps,
    _place,
    _projection_for,
    _region,
)
from deconfliction.domain.planning.operations import (
    Operation,
    OperationState,
)
from deconfliction.domain.planning.records import (
    CheckResult,
    LineConflict,
    VolumeConflict,
    ZoneConflict,
)
from deconfliction.domain.planning.shapes import (
    _BOUND_SLACK_FRACTION,
    _BOUND_SLACK_NM,
    _CIRCUMSCRIBE,
    _LINE_SITE_GROWTH,
    _LINE_SITE_SPACING_M,
    _QUAD_SEGS,
    TOUCH_TOLERANCE_M,
    Outline,
    Polygon,
    Volume4D,
)
from deconfliction.domain.protocol import (
    DeconflictionLine,
    LineSide,
    Protocol,
    Zone,
)
from deconfliction.errors import GeometryError
from deconfliction.units import M_PER_NM

# ------------------------------------------------------------------ operations


@dataclass(frozen=True, slots=True)
class _Others:
    """The other operations' volumes that are in force, flattened."""

    operations: list[Operation]
    op_index: IntArray
    volume_index: IntArray
    volumes: list[Volume4D]
    t_start_s: FloatArray
    t_end_s: FloatArray
    lower_ft: FloatArray
    upper_ft: FloatArray

    @classmethod
    def of(cls, op: Operation, others: Iterable[Operation]) -> _Others:
        # One pass in Python over the objects, the rest in arrays: with 100,000
        # stored operations this flattening is most of an unindexed check.
        over = {OperationState.ENDED, OperationState.CANCELLED}
        kept = [
            o
            for o in others
            if o.id != op.id and o.party != op.party and o.state not in over
        ]
        counts = np.fromiter((len(o.volumes) for o in kept), np.int64, len(kept))
        volumes = [v for o in kept for v in o.volumes]
        bounds = np.array(
            [
                (
                    v.time_start_t_s,
                    v.time_end_t_s,
                    v.volume.altitude_lower_ft,
                    v.volume.altitude_upper_ft,
                )
                for v in volumes
            ],
            dtype=np.float64,
        ).reshape(-1, 4)
        op_index = np.repeat(np.arange(len(kept), dtype=np.int64), counts)
        first = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
        return cls(
            operations=kept,
            op_index=op_index,
            volume_index=np.arange(len(volumes), dtype=np.int64) - first[op_index],
            volumes=volumes,
            t_start_s=bounds[:, 0],
            t_end_s=bounds[:, 1],
            lower_ft=bounds[:, 2],
            upper_ft=bounds[:, 3],
        )


def check_against_operations(
    op: Operation,
    others: Iterable[Operation],
    minima: SeparationMinima,
    time_margin_s: float = 0.0,
) -> list[VolumeConflict]:
    """Pairs of volumes of ``op`` and of other parties' operations that conflict.

    A pair conflicts when, at once, its time windows are less than
    ``time_margin_s`` apart (overlap, with no margin), its altitude ranges less
    than ``minima.vertical_ft`` apart, and its outlines less than
    ``minima.horizontal_nm`` apart (by more than :data:`TOUCH_TOLERANCE_M`).
    Operations of ``op``'s own party, ``op`` itself (an earlier version of it) and
    operations ended or cancelled are skipped.

    Candidates are narrowed down in arrays first (time, altitude, bounding
    circles); only those left are drawn in the projection around the filer's
    volume.

    Args:
        op: the operation filed or updated.
        others: the stored operations (any number; the index narrows them down).
        minima: the horizontal and vertical margins.
        time_margin_s: the time margin, 0 by default.

    Returns:
        Conflicts sorted by (volume, time overlap start, other operation, other
        volume).

    Raises:
        GeometryError: if a margin is negative or a candidate polygon crosses
            itself.
    """
    horizontal_m = minima.horizontal_nm * M_PER_NM
    if not (horizontal_m >= 0.0 and minima.vertical_ft >= 0.0 and time_margin_s >= 0):
        raise GeometryError(
            f"margins must not be negative: {minima.horizontal_nm:g} NM, "
            f"{minima.vertical_ft:g} ft, {time_margin_s:g} s"
        )
    table = _Others.of(op, others)
    if not table.volumes:
        return []
    # Time and altitude first: cheap, and they remove most of a theatre's plans.
    masks: list[BoolArray] = []
    for v in op.volumes:
        time_gap = _interval_gap(
            v.time_start_t_s, v.time_end_t_s, table.t_start_s, table.t_end_s
        )
        alt_gap = _interval_gap(
            v.volume.altitude_lower_ft,
            v.volume.altitude_upper_ft,
            table.lower_ft,
            table.upper_ft,
        )
        masks.append((time_gap < time_margin_s) & (alt_gap < minima.vertical_ft))
    survivors = np.flatnonzero(np.logical_or.reduce(masks))
    if survivors.size == 0:
        return []
    bounds = _Bounds.of([table.volumes[k].volume.outline for k in survivors])
    conflicts: list[VolumeConflict] = []
    for i, v in enumerate(op.volumes):
        c_lat, c_lon, radius_nm = _bounding_circle(v.volume.outline)
        near = masks[i][survivors] & bounds.near(
            c_lat, c_lon, radius_nm + minima.horizontal_nm
        )
        candidates = survivors[near]
        if candidates.size == 0:
            continue
        conflicts.extend(
            _pair_conflicts(op, i, table, candidates, minima, time_margin_s)
        )
    conflicts.sort(
        key=lambda c: (
            c.volume_index,
            c.time_overlap_start_t_s,
            c.other_operation_id,
            c.other_volume_index,
        )
    )
    return conflicts


def _pair_conflicts(
    op: Operation,
    i: int,
    table: _Others,
    candidates: IntArray,
    minima: SeparationMinima,
    time_margin_s: float,
) -> list[VolumeConflict]:
    v = op.volumes[i]
    projection = _projection_for(v.volume.outline)
    own_cores, own_radius = _cores([v.volume.outline], projection)
    own_core, own_r = own_cores[0], float(own_radius[0])
    cores, radius_m = _cores(
        [table.volumes[k].volume.outline for k in candidates], projection
    )
    horizontal_m = minima.horizontal_nm * M_PER_NM
    distance_m = shapely.distance(own_core, cores) - own_r - radius_m
    if horizontal_m > TOUCH_TOLERANCE_M:
        hit = distance_m < horizontal_m - TOUCH_TOLERANCE_M
    else:
        hit = np.array(
            [
                _overlaps(own_core, own_r, c, float(r))
                for c, r in zip(cores, radius_m, strict=True)
            ],
            dtype=np.bool_,
        )
    out: list[VolumeConflict] = []
    half_m = horizontal_m / 2.0
    own_area = _region(own_core, own_r, half_m)
    for k in np.flatnonzero(hit):
        j = int(candidates[k])
        other_op = table.operations[int(table.op_index[j])]
        w = table.volumes[j]
        lens = shapely.intersection(
            own_area, _region(cores[k], float(radius_m[k]), half_m)
        )
        nearest = shapely.shortest_line(own_core, cores[k])
        fallback = shapely.line_interpolate_point(nearest, 0.5, normalized=True)
        half_t = time_margin_s / 2.0
        half_v = minima.vertical_ft / 2.0
        out.append(
            VolumeConflict(
                operation_id=op.id,
                party=op.party,
                volume_index=i,
                volume=v,
                other_operation_id=other_op.id,
                other_party=other_op.party,
                other_volume_index=int(table.volume_index[j]),
                other_volume=w,
                time_overlap_start_t_s=max(v.time_start_t_s, w.time_start_t_s) - half_t,
                time_overlap_end_t_s=min(v.time_end_t_s, w.time_end_t_s) + half_t,
                altitude_overlap_lower_ft=max(
                    v.volume.altitude_lower_ft, w.volume.altitude_lower_ft
                )
                - half_v,
                altitude_overlap_upper_ft=min(
                    v.volume.altitude_upper_ft, w.volume.altitude_upper_ft
                )
                + half_v,
                horizontal_distance_nm=max(0.0, float(distance_m[k])) / M_PER_NM,
                place=_place(lens, projection, fallback),
            )
        )
    return out


# ------------------------------------------------------------------ zones and lines


@dataclass(frozen=True, slots=True)
class _PlanningLine:
    line: DeconflictionLine
    projection: LocalProjection
    geometry: Any  # the line in metres
    buffer_m: float
    other_side: dict[str, Any]  # party -> the band on the side it does not keep
    forbidden: dict[str, Any]  # party -> that band and the buffer (for the place)
    center_lat_deg: float  # a circle around the line's points
    center_lon_deg: float
    radius_nm: float

    def near(
        self, lat_deg: float, lon_deg: float, radius_nm: float, reach_nm: float
    ) -> bool:
        """Whether a circle may come within ``reach_nm`` of the line's circle."""
        dist_nm = float(
            geodesic_distance_nm(
                lat_deg, lon_deg, self.center_lat_deg, self.center_lon_deg
            )
        )
        return dist_nm <= radius_nm + reach_nm


@dataclass(frozen=True, slots=True)
class PlanningBoundaries:
    """A protocol's zones and lines prepared once for many checks.

    Building the other-side bands of the lines takes some tens of milliseconds
    per line; a service checking many operations under one protocol builds this
    once with :meth:`from_protocol`. Every check accepts it in place of the
    protocol.
    """

    zones: tuple[Zone, ...]
    zone_bounds: _Bounds
    lines: tuple[_PlanningLine, ...]

    @classmethod
    def from_protocol(cls, protocol: Protocol) -> PlanningBoundaries:
        """Prepare the protocol's zones and lines.

        Raises:
            GeometryError: if a line has fewer than two distinct points.
        """
        zone_outlines: list[Outline] = [
            Polygon(z.lat_deg, z.lon_deg) for z in protocol.zones
        ]
        return cls(
            zones=protocol.zones,
            zone_bounds=_Bounds.of(zone_outlines),
            lines=tuple(_prepare_line(line) for line in protocol.lines),
        )


def _as_boundaries(protocol: Protocol | PlanningBoundaries) -> PlanningBoundaries:
    if isinstance(protocol, PlanningBoundaries):
        return protocol
    return PlanningBoundaries.from_protocol(protocol)


def check_against_zones(
    op: Operation, protocol: Protocol | PlanningBoundaries
) -> list[ZoneConflict]:
    """Volumes of ``op`` that enter a zone owned by another party.

    A volume enters a zone when its outline overlaps the zone's by more than
    :data:`TOUCH_TOLERANCE_M` and its altitude range overlaps the zone's floor to
    ceiling (strictly: a volume whose top is the zone's floor stays out), while the
    zone is in force: a zone with time limits conflicts only with volumes whose time
    overlaps them (a volume ending when the zone starts stays out), and the conflict's
    times are the overlap. The owner's own operations never conflict with its zone.

    Returns:
        Conflicts sorted by (volume, zone).

    Raises:
        GeometryError: if a polygon crosses itself.
    """
    boundaries = _as_boundaries(protocol)
    out: list[ZoneConflict] = []
    for i, v in enumerate(op.volumes):
        lower, upper = v.volume.altitude_lower_ft, v.volume.altitude_upper_ft
        c_lat, c_lon, radius_nm = _bounding_circle(v.volume.outline)
        near = boundaries.zone_bounds.near(c_lat, c_lon, radius_nm)
        projection: LocalProjection | None = None
        for z, zone in enumerate(boundaries.zones):
            if zone.owner == op.party or not near[z]:
                continue
            if not (lower < zone.ceiling_ft and upper > zone.floor_ft):
                continue
            start_t_s = max(v.time_start_t_s, zone.active_from_t_s)
            end_t_s = min(v.time_end_t_s, zone.active_until_t_s)
            if not zone.always_active and not start_t_s < end_t_s:
                continue
            if projection is None:
                projection = _projection_for(v.volume.outline)
                cores, radius = _cores([v.volume.outline], projection)
                core, r = cores[0], float(radius[0])
            x_m, y_m = projection.to_xy_m(
                np.asarray(zone.lat_deg), np.asarray(zone.lon_deg)
            )
            zone_area = shapely.Polygon(np.column_stack([x_m, y_m]))
            if not _overlaps(core, r, zone_area):
                continue
            lens = shapely.intersection(_region(core, r), zone_area)
            out.append(
                ZoneConflict(
                    operation_id=op.id,
                    party=op.party,
                    volume_index=i,
                    volume=v,
                    zone_id=zone.id,
                    zone_owner=zone.owner,
                    time_start_t_s=start_t_s,
                    time_end_t_s=end_t_s,
                    altitude_overlap_lower_ft=max(lower, zone.floor_ft),
                    altitude_overlap_upper_ft=min(upper, zone.ceiling_ft),
                    place=_place(lens, projection, shapely.centroid(zone_area)),
                )
            )
    return out


def check_against_lines(
    op: Operation, protocol: Protocol | PlanningBoundaries
) -> list[LineConflict]:
    """Volumes of ``op`` that reach into a line's buffer or onto its other side.

    Only lines that name ``op``'s party in their ``sides`` apply, at every
    altitude and time. As in :mod:`deconfliction.domain.conformance`, the
    forbidden region of a (line, party) is the buffer (points closer to the line
    than ``buffer_nm``, with round caps past the ends) and the band on the side the
    party does not keep, alongside the line only: a point is on a side when its
    nearest point on the line (carried on past its ends) lies within the line's
    extent, and up to the line's reach away (``effective_reach_nm``).
    A volume conflicts when it comes closer to the line than the buffer (by more
    than :data:`TOUCH_TOLERANCE_M`) or overlaps the band by more than that.

    Returns:
        Conflicts sorted by (volume, line).

    Raises:
        GeometryError: if a line has fewer than two distinct points or a polygon
            crosses itself.
    """
    boundaries = _as_boundaries(protocol)
    out: list[LineConflict] = []
    for pl in boundaries.lines:
        if op.party not in pl.line.sides:
            continue
        band = pl.other_side[op.party]
        others = tuple(sorted(p for p in pl.line.sides if p != op.party))
        # Volumes beyond the line's reach are not drawn: far from its centre the
        # line's projection distorts them (near the antipode, beyond repair).
        reach_nm = pl.radius_nm + pl.line.effective_reach_nm + pl.buffer_m / M_PER_NM
        within = [
            i
            for i, v in enumerate(op.volumes)
            if pl.near(*_bounding_circle(v.volume.outline), reach_nm)
        ]
        if not within:
            continue
        cores, radius_m = _cores(
            [op.volumes[i].volume.outline for i in within], pl.projection
        )
        distance_m = shapely.distance(cores, pl.geometry) - radius_m
        for k, i in enumerate(within):
            v = op.volumes[i]
            core, r = cores[k], float(radius_m[k])
            in_buffer = bool(distance_m[k] < pl.buffer_m - TOUCH_TOLERANCE_M)
            across = _overlaps(core, r, band)
            if not (in_buffer or across):
                continue
            lens = shapely.intersection(_region(core, r), pl.forbidden[op.party])
            nearest = shapely.shortest_line(core, pl.geometry)
            out.append(
                LineConflict(
                    operation_id=op.id,
                    party=op.party,
                    volume_index=i,
                    volume=v,
                    line_id=pl.line.id,
                    line_parties=others,
                    reaches_other_side=across,
                    time_start_t_s=v.time_start_t_s,
                    time_end_t_s=v.time_end_t_s,
                    altitude_lower_ft=v.volume.altitude_lower_ft,
                    altitude_upper_ft=v.volume.altitude_upper_ft,
                    place=_place(
                        lens,
                        pl.projection,
                        shapely.line_interpolate_point(nearest, 1.0, normalized=True),
                    ),
                )
            )
    out.sort(key=lambda c: (c.volume_index, c.line_id))
    return out


def _prepare_line(line: DeconflictionLine) -> _PlanningLine:
    projection, x, y = line_points_m(line, LocalProjection.around)
    geometry = shapely.LineString(np.column_stack([x, y]))
    buffer_m = line.buffer_nm * M_PER_NM
    buffer_area = (
        shapely.buffer(geometry, buffer_m * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS)
        if buffer_m > 0.0
        else shapely.Polygon()
    )
    bands = {
        side: _other_side_band(
            x,
            y,
            wrong_is_left=side is LineSide.RIGHT,
            reach_m=line.effective_reach_nm * M_PER_NM,
        )
        for side in set(line.sides.values())
    }
    other_side = {party: bands[side] for party, side in line.sides.items()}
    forbidden = {
        party: shapely.union(buffer_area, band) for party, band in other_side.items()
    }
    for band in other_side.values():
        shapely.prepare(band)
    c_lat, c_lon, radius_nm = _bounding_circles(
        np.asarray(line.lat_deg, dtype=np.float64),
        np.asarray(line.lon_deg, dtype=np.float64),
        np.zeros(1, dtype=np.int64),
    )
    return _PlanningLine(
        line,
        projection,
        geometry,
        buffer_m,
        other_side,
        forbidden,
        float(c_lat[0]),
        float(c_lon[0]),
        float(radius_nm[0]) * (1.0 + _BOUND_SLACK_FRACTION) + _BOUND_SLACK_NM,
    )


def _other_side_band(
    x_m: FloatArray, y_m: FloatArray, *, wrong_is_left: bool, reach_m: float
) -> Any:
    """The points on one side of a line, alongside it, within reach (a polygon).

    Which side a point is on is decided by its nearest point on the line, as in
    conformance; where two parts of the line are equally near (a bend, or a line
    that comes back) the nearest part decides. That partition is the Voronoi
    diagram of the line's segments; it is approximated by the Voronoi diagram of
    sites every :data:`_LINE_SITE_SPACING_M` along the line (and, more and more
    sparsely, along its extensions past the ends, which are on no side). Near the
    line each site's cell is a slab perpendicular to its segment, exact; each
    cell is cut by the half-plane of the wrong side of its segment (at a vertex:
    the union of the two half-planes on the outer side of the bend, their
    intersection on the inner side; at an end: also the half-plane before the
    end). The union is clipped to ``reach_m`` from the line (the line's reach).
    """
    dx, dy = np.diff(x_m), np.diff(y_m)
    length = np.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    sign = 1.0 if wrong_is_left else -1.0
    nx, ny = -uy * sign, ux * sign  # unit normals pointing to the wrong side
    n_seg = dx.size
    sites: list[tuple[float, float]] = []
    owner: list[tuple[str, int]] = []  # ("vertex", v) | ("segment", k) | ("end", -1)
    for k in range(n_seg):
        parts = max(1, math.ceil(float(length[k]) / _LINE_SITE_SPACING_M))
        for j in range(parts):
            f = j / parts
            sites.append((float(x_m[k] + f * dx[k]), float(y_m[k] + f * dy[k])))
            owner.append(("vertex", k) if j == 0 else ("segment", k))
    sites.append((float(x_m[-1]), float(y_m[-1])))
    owner.append(("vertex", n_seg))
    d = _LINE_SITE_SPACING_M
    while d <= LINE_EXTENSION_M:
        sites.append((float(x_m[0] - ux[0] * d), float(y_m[0] - uy[0] * d)))
        sites.append((float(x_m[-1] + ux[-1] * d), float(y_m[-1] + uy[-1] * d)))
        owner += [("end", -1), ("end", -1)]
        d = d * _LINE_SITE_GROWTH + _LINE_SITE_SPACING_M
    line = shapely.LineString(np.column_stack([x_m, y_m]))
    reach = shapely.buffer(line, reach_m)
    frame = shapely.box(*shapely.bounds(shapely.buffer(line, 2.0 * LINE_EXTENSION_M)))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(np.asarray(sites)), extend_to=frame, ordered=True
        )
    )
    far = 8.0 * LINE_EXTENSION_M

    def half_plane(
        px: float, py: float, ax: float, ay: float, bx: float, by: float
    ) -> Any:
        # The half-plane through (px, py) along (ax, ay), on the side of (bx, by).
        a = (px - ax * far, py - ay * far)
        b = (px + ax * far, py + ay * far)
        return shapely.Polygon(
            [
                a,
                b,
                (b[0] + bx * far, b[1] + by * far),
                (a[0] + bx * far, a[1] + by * far),
            ]
        )

    wrong = [
        half_plane(float(x_m[k]), float(y_m[k]), ux[k], uy[k], nx[k], ny[k])
        for k in range(n_seg)
    ]
    pieces: list[Any] = []
    for cell, (what, k) in zip(cells, owner, strict=True):
        if what == "segment":
            pieces.append(shapely.intersection(cell, wrong[k]))
        elif what == "vertex" and k == 0:
            start = half_plane(
                float(x_m[0]), float(y_m[0]), -uy[0], ux[0], ux[0], uy[0]
            )
            pieces.append(
                shapely.intersection(shapely.intersection(cell, wrong[0]), start)
            )
        elif what == "vertex" and k == n_seg:
            end = half_plane(
                float(x_m[-1]), float(y_m[-1]), -uy[-1], ux[-1], -ux[-1], -uy[-1]
            )
            pieces.append(
                shapely.intersection(shapely.intersection(cell, wrong[-1]), end)
            )
        elif what == "vertex":
            turn = ux[k - 1] * uy[k] - uy[k - 1] * ux[k]  # > 0: a left turn
            outer_is_left = turn < 0.0
            if outer_is_left == wrong_is_left:
                sector = shapely.union(wrong[k - 1], wrong[k])
            else:
                sector = shapely.intersection(wrong[k - 1], wrong[k])
            pieces.append(shapely.intersection(cell, sector))
    return shapely.intersection(shapely.union_all(pieces), reach)


def check_operation(
    op: Operation,
    others: Iterable[Operation],
    protocol: Protocol | PlanningBoundaries,
    *,
    minima: SeparationMinima | None = None,
    time_margin_s: float = 0.0,
) -> CheckResult:
    """All the checks at once: other operations, zones and lines.

    Args:
        op: the operation filed or updated.
        others: the stored operations (see :func:`check_against_operations`).
        protocol: the protocol in effect (or its prepared boundaries; then
            ``minima`` is required).
        minima: the margins between operations; the protocol's by default.
        time_margin_s: the time margin between operations.

    Raises:
        GeometryError: as the three checks, or if ``protocol`` is prepared and
            ``minima`` is not given.
    """
    if minima is None:
        if not isinstance(protocol, Protocol):
            raise GeometryError("give minima with prepared boundaries")
        minima = protocol.minima
    boundaries = _as_boundaries(protocol)
    return CheckResult(
        operations=tuple(check_against_operations(op, others, minima, time_margin_s)),
        zones=tuple(check_against_zones(op, boundaries)),
        lines=tuple(check_against_lines(op, boundaries)),
    )
