"""Geometry of volumes: what makes one invalid, routes turned into volumes, and
the helpers of the strategic check (bounding circles, cores and regions on a local
projection, places where two volumes meet)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from deconfliction.domain.geodesy import (
    LocalProjection,
    destination,
    enu_basis,
    geodesic_azimuth_deg,
    geodesic_distance_nm,
)
from deconfliction.domain.model import (
    BoolArray,
    FloatArray,
    IntArray,
)
from deconfliction.domain.planning.records import (
    Place,
)
from deconfliction.domain.planning.shapes import (
    _BOUND_SLACK_FRACTION,
    _BOUND_SLACK_NM,
    _CIRCUMSCRIBE,
    _MIN_MERIDIAN_RADIUS_M,
    _QUAD_SEGS,
    MAX_VOLUME_ABS_LAT_DEG,
    MAX_VOLUME_ACROSS_NM,
    MAX_VOLUME_DURATION_S,
    PLACE_MAX_VERTICES,
    ROUTE_MAX_PIECE_NM,
    ROUTE_MAX_SEGMENT_S,
    ROUTE_TIME_MARGIN_S,
    TOUCH_TOLERANCE_M,
    Circle,
    ObjArray,
    Outline,
    Polygon,
    Route,
    Volume3D,
    Volume4D,
)
from deconfliction.errors import GeometryError
from deconfliction.units import M_PER_NM, S_PER_H

# ------------------------------------------------------------------ validation


def outline_problems(outline: Outline) -> list[str]:
    """Why an outline cannot be checked or indexed, in words (empty when fine).

    A polygon needs three distinct vertices and must not cross itself (in a local
    projection around it); any outline must be at most
    :data:`MAX_VOLUME_ACROSS_NM` across and stay within
    :data:`MAX_VOLUME_ABS_LAT_DEG` of latitude.

    >>> outline_problems(Circle(35.0, 38.0, 300.0))
    ['600 NM across; at most 500 NM is accepted (split it into several volumes)']
    >>> outline_problems(Polygon((0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 1.0, 0.0)))
    ['the outline crosses itself (Self-intersection near 0.5001 N, 0.5000 E)']
    """
    center_lat, center_lon, radius_nm = _bounding_circle(outline)
    problems = _extent_problems(center_lat, radius_nm)
    if isinstance(outline, Polygon) and not problems:
        projection = LocalProjection(center_lat, center_lon)
        x_m, y_m = projection.to_xy_m(
            np.asarray(outline.vertices_lat_deg), np.asarray(outline.vertices_lon_deg)
        )
        distinct = {
            (round(float(a), 3), round(float(b), 3))
            for a, b in zip(x_m, y_m, strict=True)
        }
        polygon = shapely.Polygon(np.column_stack([x_m, y_m]))
        if len(distinct) < 3:
            problems.append("fewer than 3 distinct vertices")
        elif not polygon.is_valid:
            problems.append(
                "the outline crosses itself ("
                + _located_reason(shapely.is_valid_reason(polygon), projection)
                + ")"
            )
        elif not polygon.area > TOUCH_TOLERANCE_M * polygon.length:
            # Thinner than the touch tolerance on average: nothing could overlap it.
            problems.append("the outline has no area")
    return problems


def volume_problems(volume: Volume4D) -> list[tuple[str, str]]:
    """Why a volume cannot be checked or indexed, as (field, message) pairs.

    The field is ``outline`` or ``time``; the adapters map it to
    their own field paths.

    >>> v = Volume4D(Volume3D(Circle(35.0, 38.0, 5.0), 0.0, 1e4), 0.0, 8 * 86400.0)
    >>> volume_problems(v)
    [('time', 'lasts 192.0 h; at most 168 h is accepted (split it into several volumes)')]
    """  # noqa: E501
    return [("outline", p) for p in outline_problems(volume.volume.outline)] + [
        ("time", p) for p in _duration_problems(volume)
    ]


def _extent_problems(center_lat_deg: float, radius_nm: float) -> list[str]:
    problems: list[str] = []
    if 2.0 * radius_nm > MAX_VOLUME_ACROSS_NM:
        problems.append(
            f"{2.0 * radius_nm:.0f} NM across; at most {MAX_VOLUME_ACROSS_NM:g} NM is "
            "accepted (split it into several volumes)"
        )
    reach_deg = math.degrees(radius_nm * M_PER_NM / _MIN_MERIDIAN_RADIUS_M)
    if abs(center_lat_deg) + reach_deg > MAX_VOLUME_ABS_LAT_DEG:
        problems.append(
            f"reaches beyond {MAX_VOLUME_ABS_LAT_DEG:g} deg of latitude; polar "
            "volumes are not supported"
        )
    return problems


def _duration_problems(volume: Volume4D) -> list[str]:
    duration_s = volume.time_end_t_s - volume.time_start_t_s
    if duration_s <= MAX_VOLUME_DURATION_S:
        return []
    return [
        f"lasts {duration_s / S_PER_H:.1f} h; at most "
        f"{MAX_VOLUME_DURATION_S / S_PER_H:g} h is accepted (split it into several "
        "volumes)"
    ]


def _located_reason(reason: str, projection: LocalProjection) -> str:
    # shapely reports "Self-intersection[x y]" in projected metres: give lat/lon.
    head, _, rest = reason.partition("[")
    parts = rest.rstrip("]").split()
    if len(parts) != 2:
        return reason
    lat, lon = projection.to_lat_lon_deg(float(parts[0]), float(parts[1]))
    ns = "N" if float(lat) >= 0 else "S"
    ew = "E" if float(lon) >= 0 else "W"
    return (
        f"{head} near {abs(float(lat)):.4f} {ns}, {abs(float(lon)):.4f} {ew}"
    ).strip()


# ------------------------------------------------------------------ routes


def route_to_volumes(
    route: Route,
    *,
    max_segment_s: float = ROUTE_MAX_SEGMENT_S,
    time_margin_s: float = ROUTE_TIME_MARGIN_S,
) -> tuple[Volume4D, ...]:
    """The volumes a route reserves: a corridor piece per leg, cut into short pieces.

    Each leg (consecutive waypoints) is cut into pieces of at most
    ``max_segment_s`` and :data:`ROUTE_MAX_PIECE_NM`, evenly along the geodesic
    (altitude and time linear along it). Each piece becomes a polygon around it:
    the piece buffered by ``lateral_half_width_nm`` with round ends (a circle when
    the piece has no length, a hold), drawn in a projection centred on the piece.
    Its altitudes cover both ends plus and minus ``vertical_half_width_ft``, its
    time window the piece's times padded by ``time_margin_s`` on both sides.

    >>> from deconfliction.domain.planning.shapes import Route, Waypoint
    >>> route = Route((Waypoint(35.0, 38.0, 1e4, 0.0), Waypoint(35.0, 39.0, 2e4, 900.0)),
    ...               lateral_half_width_nm=2.0, vertical_half_width_ft=500.0)
    >>> [(v.volume.altitude_lower_ft, v.volume.altitude_upper_ft, v.time_start_t_s)
    ...  for v in route_to_volumes(route)]
    [(9500.0, 15500.0, -60.0), (14500.0, 20500.0, 390.0)]

    Raises:
        GeometryError: if ``max_segment_s`` is not positive or ``time_margin_s``
            is negative.
    """  # noqa: E501
    if not max_segment_s > 0.0:
        raise GeometryError(f"max_segment_s must be positive, got {max_segment_s:g}")
    if not time_margin_s >= 0.0:
        raise GeometryError(f"time_margin_s must not be negative: {time_margin_s:g}")
    lateral_m = route.lateral_half_width_nm * M_PER_NM
    vertical_ft = route.vertical_half_width_ft
    volumes: list[Volume4D] = []
    for a, b in zip(route.waypoints[:-1], route.waypoints[1:], strict=True):
        dist_nm = float(
            geodesic_distance_nm(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg)
        )
        duration_s = b.t_s - a.t_s
        pieces = max(
            1,
            math.ceil(duration_s / max_segment_s - 1e-9),
            math.ceil(dist_nm / ROUTE_MAX_PIECE_NM - 1e-9),
        )
        fraction = np.linspace(0.0, 1.0, pieces + 1)
        if dist_nm > 0.0:
            azimuth = float(
                geodesic_azimuth_deg(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg)
            )
            lat, lon = destination(
                np.full(pieces + 1, a.lat_deg),
                np.full(pieces + 1, a.lon_deg),
                np.full(pieces + 1, azimuth),
                fraction * dist_nm,
            )
        else:
            lat = np.full(pieces + 1, a.lat_deg)
            lon = np.full(pieces + 1, a.lon_deg)
        alt = a.alt_ft + fraction * (b.alt_ft - a.alt_ft)
        t = a.t_s + fraction * duration_s
        for k in range(pieces):
            outline = _corridor(
                lat[k : k + 2], lon[k : k + 2], lateral_m, route.lateral_half_width_nm
            )
            lower = float(min(alt[k], alt[k + 1])) - vertical_ft
            upper = float(max(alt[k], alt[k + 1])) + vertical_ft
            volumes.append(
                Volume4D(
                    Volume3D(outline, lower, upper),
                    float(t[k]) - time_margin_s,
                    float(t[k + 1]) + time_margin_s,
                )
            )
    return tuple(volumes)


def _corridor(
    lat_deg: FloatArray, lon_deg: FloatArray, half_width_m: float, half_width_nm: float
) -> Outline:
    projection = LocalProjection.around(lat_deg, lon_deg)
    x_m, y_m = projection.to_xy_m(lat_deg, lon_deg)
    if math.hypot(float(x_m[1] - x_m[0]), float(y_m[1] - y_m[0])) < 1.0:
        return Circle(float(lat_deg[0]), float(lon_deg[0]), half_width_nm)
    piece = shapely.LineString(np.column_stack([x_m, y_m]))
    area = piece.buffer(half_width_m * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS)
    return _polygon_to_lat_lon(area, projection)


# ------------------------------------------------------------------ geometry helpers


def _bounding_circle(outline: Outline) -> tuple[float, float, float]:
    """(centre lat, centre lon, radius NM) of a geodesic circle around the outline."""
    if isinstance(outline, Circle):
        return outline.center_lat_deg, outline.center_lon_deg, outline.radius_nm
    lat, lon, radius = _bounding_circles(
        np.asarray(outline.vertices_lat_deg, dtype=np.float64),
        np.asarray(outline.vertices_lon_deg, dtype=np.float64),
        np.zeros(1, dtype=np.int64),
    )
    return float(lat[0]), float(lon[0]), float(radius[0])


def _bounding_circles(
    lat_deg: FloatArray, lon_deg: FloatArray, starts: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bounding circles of many polygons whose vertices are concatenated.

    The centre is the normalised mean of the vertices' unit vectors (so polygons
    across the antimeridian get a centre between their vertices), the radius the
    largest geodesic distance from it to a vertex. A straight edge in any local
    projection within 700 NM stays inside (checked numerically: the chord of a
    geodesic circle never leaves it there).
    """
    _, _, up = enu_basis(lat_deg, lon_deg)
    mean = np.add.reduceat(up, starts, axis=0)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    c_lat = np.degrees(np.arcsin(np.clip(mean[:, 2], -1.0, 1.0)))
    c_lon = np.degrees(np.arctan2(mean[:, 1], mean[:, 0]))
    counts = np.diff(np.r_[starts, lat_deg.size])
    dist_nm = geodesic_distance_nm(
        np.repeat(c_lat, counts), np.repeat(c_lon, counts), lat_deg, lon_deg
    )
    radius_nm = np.maximum.reduceat(dist_nm, starts)
    return c_lat, c_lon, radius_nm


@dataclass(frozen=True, slots=True)
class _Bounds:
    """Bounding circles of many outlines (struct of arrays)."""

    lat_deg: FloatArray
    lon_deg: FloatArray
    radius_nm: FloatArray

    @classmethod
    def of(cls, outlines: Sequence[Outline]) -> _Bounds:
        n = len(outlines)
        lat = np.zeros(n)
        lon = np.zeros(n)
        radius = np.zeros(n)
        polygons: list[int] = []
        shapes: list[Polygon] = []
        for k, o in enumerate(outlines):
            if isinstance(o, Circle):
                lat[k], lon[k], radius[k] = (
                    o.center_lat_deg,
                    o.center_lon_deg,
                    o.radius_nm,
                )
            else:
                polygons.append(k)
                shapes.append(o)
        if polygons:
            v_lat, v_lon, counts = _concatenated(shapes)
            starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
            p_lat, p_lon, p_radius = _bounding_circles(v_lat, v_lon, starts)
            lat[polygons], lon[polygons], radius[polygons] = p_lat, p_lon, p_radius
        return cls(lat, lon, radius)

    def near(self, lat_deg: float, lon_deg: float, reach_nm: float) -> BoolArray:
        """Which circles may come within ``reach_nm`` of the given circle centre.

        ``reach_nm`` is the other circle's radius plus the margin; both radii are
        grown by the bounding slack.
        """
        dist = geodesic_distance_nm(
            np.full(self.lat_deg.size, lat_deg),
            np.full(self.lat_deg.size, lon_deg),
            self.lat_deg,
            self.lon_deg,
        )
        grown = (
            self.radius_nm * (1.0 + _BOUND_SLACK_FRACTION)
            + reach_nm * (1.0 + _BOUND_SLACK_FRACTION)
            + 2.0 * _BOUND_SLACK_NM
        )
        result: BoolArray = dist <= grown
        return result


def _concatenated(
    polygons: Sequence[Polygon],
) -> tuple[FloatArray, FloatArray, IntArray]:
    counts = np.fromiter(
        (len(p.vertices_lat_deg) for p in polygons), dtype=np.int64, count=len(polygons)
    )
    lat = np.fromiter(
        (v for p in polygons for v in p.vertices_lat_deg),
        dtype=np.float64,
        count=int(counts.sum()),
    )
    lon = np.fromiter(
        (v for p in polygons for v in p.vertices_lon_deg),
        dtype=np.float64,
        count=int(counts.sum()),
    )
    return lat, lon, counts


def _cores(
    outlines: Sequence[Outline], projection: LocalProjection
) -> tuple[ObjArray, FloatArray]:
    """Outlines in the projection as (core geometry, radius in metres).

    A circle is its centre point and its radius; a polygon is itself with radius 0.
    The distance between two outlines is then the distance between the cores minus
    both radii, exactly.

    Raises:
        GeometryError: if a polygon crosses itself in the projection.
    """
    n = len(outlines)
    cores: ObjArray = np.empty(n, dtype=object)
    radius_m = np.zeros(n)
    circles: list[int] = []
    discs: list[Circle] = []
    polygons: list[int] = []
    shapes: list[Polygon] = []
    for k, o in enumerate(outlines):
        if isinstance(o, Circle):
            circles.append(k)
            discs.append(o)
        else:
            polygons.append(k)
            shapes.append(o)
    if circles:
        x_m, y_m = projection.to_xy_m(
            np.array([c.center_lat_deg for c in discs]),
            np.array([c.center_lon_deg for c in discs]),
        )
        cores[circles] = shapely.points(x_m, y_m)
        radius_m[circles] = [c.radius_nm * M_PER_NM for c in discs]
    if polygons:
        v_lat, v_lon, counts = _concatenated(shapes)
        x_m, y_m = projection.to_xy_m(v_lat, v_lon)
        index = np.repeat(np.arange(len(polygons)), counts)
        rings = shapely.linearrings(np.column_stack([x_m, y_m]), indices=index)
        drawn = shapely.polygons(rings)
        invalid = ~shapely.is_valid(drawn)
        if invalid.any():
            raise GeometryError(
                f"{int(invalid.sum())} polygon outline(s) cross themselves "
                "(check them with outline_problems)"
            )
        cores[polygons] = drawn
    return cores, radius_m


def _region(core: Any, radius_m: float, grow_m: float = 0.0) -> Any:
    """The outline (grown by ``grow_m``) as a polygon containing the true shape."""
    if radius_m > 0.0 or grow_m > 0.0:
        return shapely.buffer(
            core, (radius_m + grow_m) * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS
        )
    return core


def _overlaps(
    core: Any, radius_m: float, other: Any, other_radius_m: float = 0.0
) -> bool:
    """Whether two outlines (core and radius) overlap by more than 1 cm.

    With a circle on either side this is exact: the distance between the cores is
    below the sum of the radii less the tolerance. Two polygons overlap when the
    first, shrunk by the tolerance, shares interior with the second.
    """
    radii_m = radius_m + other_radius_m
    if radii_m > 0.0:
        return bool(shapely.distance(core, other) < radii_m - TOUCH_TOLERANCE_M)
    shrunk = shapely.buffer(core, -TOUCH_TOLERANCE_M, join_style="mitre")
    return not shapely.is_empty(shrunk) and bool(
        shapely.relate_pattern(shrunk, other, "T********")
    )


def _polygon_to_lat_lon(polygon: Any, projection: LocalProjection) -> Polygon:
    coords = np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(polygon)))
    lat, lon = projection.to_lat_lon_deg(coords[:-1, 0], coords[:-1, 1])
    return Polygon(tuple(lat.tolist()), tuple(lon.tolist()))


def _place(geometry: Any, projection: LocalProjection, fallback: Any) -> Place:
    """The place of an overlap: polygons in lat/lon, simplified, and the centroid.

    ``fallback`` (a point in metres) stands for an overlap too thin to have area.
    """
    parts: list[Any] = [
        p
        for p in shapely.get_parts(geometry)
        if isinstance(p, shapely.Polygon) and not p.is_empty and p.area > 0.0
    ]
    if not parts:
        centre = fallback
        simplified: list[Any] = []
    else:
        whole = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
        centre = shapely.centroid(whole)
        if len(parts) > PLACE_MAX_VERTICES // 4:
            parts = [shapely.convex_hull(whole)]
        simplified = _simplify(parts)
    lat, lon = projection.to_lat_lon_deg(shapely.get_x(centre), shapely.get_y(centre))
    return Place(
        tuple(_polygon_to_lat_lon(p, projection) for p in simplified),
        float(lat),
        float(lon),
    )


def _simplify(parts: list[Any]) -> list[Any]:
    def vertices(ps: list[Any]) -> int:
        return sum(len(p.exterior.coords) - 1 for p in ps)

    # Holes are dropped: the place then covers a little more, never less.
    shells: list[Any] = [shapely.Polygon(p.exterior) for p in parts]
    tolerance_m = 1.0
    out = shells
    while vertices(out) > PLACE_MAX_VERTICES:
        out = [
            q
            for q in (
                shapely.simplify(p, tolerance_m, preserve_topology=True) for p in shells
            )
            if isinstance(q, shapely.Polygon) and not q.is_empty
        ]
        if not out:  # simplified away entirely: keep the hull, simplified
            shells = [shapely.convex_hull(shapely.multipolygons(shells))]
            out = shells
        tolerance_m *= 2.0
    return out


def _interval_gap(
    lower: float, upper: float, others_lower: FloatArray, others_upper: FloatArray
) -> FloatArray:
    """Gap between ``[lower, upper]`` and each other interval (negative: overlap).

    >>> _interval_gap(0.0, 10.0, np.array([10.0, 5.0, 12.0]), np.array([20.0, 6.0, 13.0]))
    array([ 0., -5.,  2.])
    """  # noqa: E501
    gap: FloatArray = np.maximum(others_lower - upper, lower - others_upper)
    return gap


def _projection_for(outline: Outline) -> LocalProjection:
    lat, lon, _ = _bounding_circle(outline)
    return LocalProjection(lat, lon)
