"""The places of a protocol file: its deconfliction lines and its zones.

Checked by :class:`ProtocolPlaces`, the part of the protocol file's builder
(:mod:`~deconfliction.adapters.protocol_file`) that reads ``[[lines]]`` and
``[[zones]]`` and the party references they hold.

Assumptions:

* Compass sides of a line (``east``) are resolved to left or right of the point
  order from the line's overall direction, first point to last, in a
  :class:`~deconfliction.domain.geodesy.LocalProjection` around the line's points.
  A compass direction within :data:`COMPASS_SIDE_MIN_ANGLE_DEG` of that direction
  names no side and is refused.
* Polygons are checked for validity in a local projection around their vertices,
  never in degrees.
* Circles become polygons of :data:`CIRCLE_VERTICES` vertices lying on the circle
  (geodesic destinations from the centre).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import shapely

from deconfliction.adapters.located_reader import Path as _Path
from deconfliction.adapters.located_reader import describe as _describe
from deconfliction.adapters.located_reader import format_path as _format_path
from deconfliction.adapters.located_reader import unknown as _unknown
from deconfliction.adapters.protocol_reader import Coords as _Coords
from deconfliction.adapters.protocol_reader import ProtocolReader
from deconfliction.domain.geodesy import LocalProjection, destination
from deconfliction.domain.protocol import (
    MAX_LINE_REACH_NM,
    DeconflictionLine,
    LineSide,
    Zone,
)
from deconfliction.timetext import rfc3339

__all__ = [
    "CIRCLE_VERTICES",
    "COMPASS_SIDE_MIN_ANGLE_DEG",
    "MAX_CIRCLE_RADIUS_NM",
    "ProtocolPlaces",
]

CIRCLE_VERTICES: int = 72
"""Vertices of the polygon a circle zone becomes: one every 5 deg, so the chords
cut inside the circle by under 0.1 % of the radius (0.03 NM at 30 NM)."""

COMPASS_SIDE_MIN_ANGLE_DEG: float = 30.0
"""A compass side must point at least this far from the line's own direction: closer
to it, "east" of a line that runs east names its end, not one of its sides."""

MAX_CIRCLE_RADIUS_NM: float = 1000.0
"""Largest circle zone: zones belong to one theatre, and beyond this a projection
centred on the theatre distorts distances at the zone's edge by over 1 %."""

_SIDES: tuple[str, ...] = ("left", "right", "east", "west", "north", "south")
_COMPASS_BEARING_DEG: dict[str, float] = {
    "north": 0.0,
    "east": 90.0,
    "south": 180.0,
    "west": 270.0,
}
_MIN_LINE_LENGTH_M: float = 1.0  # first and last points closer than this: no direction
_SELF_INTERSECTION_TOL_M: float = 1.0  # an edge this close to the reported point has it
_SHAPELY_POINT_RE = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\]")


class ProtocolPlaces:
    """Checks ``[[lines]]`` and ``[[zones]]``; mixed into the protocol builder."""

    r: ProtocolReader

    def _check_party(self, party: str, path: _Path, party_ids: set[str] | None) -> bool:
        if party_ids is None or party in party_ids:
            return True
        self.r.report(path, _unknown("party", party, sorted(party_ids)))
        return False

    # [[lines]] -------------------------------------------------------------------

    def _lines(
        self, value: Any, party_ids: set[str] | None
    ) -> tuple[tuple[DeconflictionLine, ...], set[str]]:
        """The valid lines, and the ids of all lines, valid or not."""
        lines: list[DeconflictionLine] = []
        first_index: dict[str, int] = {}
        for item_path, item in self.r.array_of_tables(value, ("lines",)):
            table = self.r.table(
                item,
                item_path,
                required=("id", "points", "buffer_nm", "sides"),
                optional=("name", "reach_nm"),
            )
            if table is None:
                continue
            line_id = self._unique_id(table, item_path, "line", first_index)
            name = (
                self.r.string(table, item_path, "name") if "name" in table else line_id
            )
            points_path = (*item_path, "points")
            coords = self.r.lat_lon_list(table.get("points"), points_path)
            distinct = 0 if coords is None else len(set(zip(*coords, strict=True)))
            if coords is not None and distinct < 2:
                self.r.report(
                    points_path,
                    f"a line needs at least 2 distinct points, got {distinct}",
                )
                coords = None
            buffer_nm = self.r.number(table, item_path, "buffer_nm", above=0.0)
            reach_nm = self._reach(table, item_path, buffer_nm)
            sides = self._sides(
                table.get("sides"), (*item_path, "sides"), coords, party_ids
            )
            if (
                line_id is None
                or name is None
                or coords is None
                or buffer_nm is None
                or reach_nm is False
                or sides is None
            ):
                continue
            resolved, declared = sides
            lines.append(
                DeconflictionLine(
                    id=line_id,
                    name=name,
                    lat_deg=coords[0],
                    lon_deg=coords[1],
                    buffer_nm=buffer_nm,
                    sides=resolved,
                    declared_sides=declared,
                    reach_nm=reach_nm,
                )
            )
        return tuple(lines), set(first_index)

    def _reach(
        self, table: dict[str, Any], path: _Path, buffer_nm: float | None
    ) -> float | Literal[False] | None:
        """The line's ``reach_nm``: None when not given (the default), False when
        wrong (reported): it must be more than the buffer, at most
        ``MAX_LINE_REACH_NM``."""
        if "reach_nm" not in table:
            return None
        reach_nm = self.r.number(table, path, "reach_nm", above=0.0)
        if reach_nm is None:
            return False
        if reach_nm > MAX_LINE_REACH_NM:
            self.r.report(
                (*path, "reach_nm"),
                f"must be at most {MAX_LINE_REACH_NM:g} NM (one theatre), "
                f"got {reach_nm:g}",
            )
            return False
        if buffer_nm is not None and not reach_nm > buffer_nm:
            self.r.report(
                (*path, "reach_nm"),
                f"must be greater than the line's buffer_nm ({buffer_nm:g}), "
                f"got {reach_nm:g}",
            )
            return False
        return reach_nm

    def _sides(
        self,
        value: Any,
        path: _Path,
        coords: _Coords | None,
        party_ids: set[str] | None,
    ) -> tuple[dict[str, LineSide], dict[str, str]] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.r.report(
                path,
                'expected a table of party = side, like { coalition = "east" }, '
                f"got {_describe(value)}",
            )
            return None
        if not value:
            self.r.report(path, "names no party: give the side each party keeps")
            return None
        resolved: dict[str, LineSide] = {}
        declared: dict[str, str] = {}
        valid = True
        bearing_deg: float | None = None
        for party, side in value.items():
            where = (*path, party)
            valid &= self._check_party(party, where, party_ids)
            if not isinstance(side, str):
                self.r.report(
                    where, f"expected a side (a string), got {_describe(side)}"
                )
                valid = False
                continue
            if side not in _SIDES:
                self.r.report(where, _unknown("side", side, _SIDES))
                valid = False
                continue
            declared[party] = side
            if side in ("left", "right"):
                resolved[party] = LineSide(side)
                continue
            if coords is None:  # the points' problems are reported already
                valid = False
                continue
            if bearing_deg is None:
                bearing_deg = _line_bearing_deg(coords)
            resolved_side = self._compass_side(side, bearing_deg, where)
            if resolved_side is None:
                valid = False
            else:
                resolved[party] = resolved_side
        return (resolved, declared) if valid else None

    def _compass_side(
        self, side: str, bearing_deg: float, where: _Path
    ) -> LineSide | None:
        if math.isnan(bearing_deg):
            self.r.report(
                where,
                f"'{side}' names no side: the line's first and last points coincide, "
                "so it has no overall direction; use left or right",
            )
            return None
        # Angle from the line's direction clockwise to the compass direction.
        turn_deg = (_COMPASS_BEARING_DEG[side] - bearing_deg) % 360.0
        off_axis_deg = min(turn_deg % 180.0, 180.0 - turn_deg % 180.0)
        if off_axis_deg <= COMPASS_SIDE_MIN_ANGLE_DEG:
            self.r.report(
                where,
                f"'{side}' points along this line, not to one of its sides: the "
                f"line runs {round(bearing_deg) % 360} deg from north (first point "
                "to last) and a compass side must be more than "
                f"{COMPASS_SIDE_MIN_ANGLE_DEG:g} deg off that; use left or right",
            )
            return None
        return LineSide.LEFT if turn_deg > 180.0 else LineSide.RIGHT

    # [[zones]] -------------------------------------------------------------------

    def _zones(
        self, value: Any, party_ids: set[str] | None, line_ids: set[str]
    ) -> tuple[Zone, ...]:
        zones: list[Zone] = []
        first_index: dict[str, int] = {}
        for item_path, item in self.r.array_of_tables(value, ("zones",)):
            table = self.r.table(
                item,
                item_path,
                required=("id", "owner"),
                optional=(
                    *("name", "floor_ft", "ceiling_ft", "polygon", "circle"),
                    *("active_from", "active_until"),
                ),
            )
            if table is None:
                continue
            zone_id = self._unique_id(table, item_path, "zone", first_index)
            if zone_id is not None and zone_id in line_ids:
                self.r.report(
                    (*item_path, "id"),
                    f"zone id '{zone_id}' is also a line's id; lines and zones share "
                    "one set of ids because violations name them by id",
                )
                zone_id = None
            name = (
                self.r.string(table, item_path, "name") if "name" in table else zone_id
            )
            owner = self.r.ident(table, item_path, "owner")
            if owner is not None and not self._check_party(
                owner, (*item_path, "owner"), party_ids
            ):
                owner = None
            coords = self._zone_outline(table, item_path)
            floor_ft = self.r.number(table, item_path, "floor_ft")
            ceiling_ft = self.r.number(table, item_path, "ceiling_ft")
            floor = -math.inf if floor_ft is None else floor_ft
            ceiling = math.inf if ceiling_ft is None else ceiling_ft
            bounds_ok = not (
                (floor_ft is None and "floor_ft" in table)
                or (ceiling_ft is None and "ceiling_ft" in table)
            )
            if bounds_ok and floor >= ceiling:
                self.r.report(
                    (*item_path, "floor_ft"),
                    f"floor_ft {floor:g} is not below ceiling_ft {ceiling:g}",
                )
                bounds_ok = False
            active = self._zone_times(table, item_path)
            if zone_id is None or name is None or owner is None or coords is None:
                continue
            if bounds_ok and active is not None:
                zones.append(
                    Zone(
                        id=zone_id,
                        name=name,
                        owner=owner,
                        lat_deg=coords[0],
                        lon_deg=coords[1],
                        floor_ft=floor,
                        ceiling_ft=ceiling,
                        active_from_t_s=active[0],
                        active_until_t_s=active[1],
                    )
                )
        return tuple(zones)

    def _zone_times(
        self, table: dict[str, Any], path: _Path
    ) -> tuple[float, float] | None:
        """A zone's ``active_from`` (included) and ``active_until`` (excluded), each
        optional; None (reported) when one is not a time or they are not in order."""
        start = end = None
        if "active_from" in table:
            start = self.r.time_s(table, path, "active_from")
            if start is None:
                return None
        if "active_until" in table:
            end = self.r.time_s(table, path, "active_until")
            if end is None:
                return None
        if start is not None and end is not None and not start < end:
            self.r.report(
                (*path, "active_until"),
                f"active_until {rfc3339(end)} is not after "
                f"active_from {rfc3339(start)}",
            )
            return None
        return (
            -math.inf if start is None else start,
            math.inf if end is None else end,
        )

    def _zone_outline(self, table: dict[str, Any], path: _Path) -> _Coords | None:
        if "polygon" in table and "circle" in table:
            self.r.report((*path, "circle"), "give either polygon or circle, not both")
            return None
        if "circle" in table:
            return self._circle(table["circle"], (*path, "circle"))
        if "polygon" not in table:
            self.r.report(
                (*path, "polygon"), "missing required key 'polygon' (or 'circle')"
            )
            return None
        polygon_path = (*path, "polygon")
        coords = self.r.lat_lon_list(table["polygon"], polygon_path)
        if coords is None:
            return None
        lat_deg, lon_deg = coords
        if len(lat_deg) > 1 and (lat_deg[0], lon_deg[0]) == (lat_deg[-1], lon_deg[-1]):
            lat_deg, lon_deg = (
                lat_deg[:-1],
                lon_deg[:-1],
            )  # a closed ring: drop the repeat
        distinct = len(set(zip(lat_deg, lon_deg, strict=True)))
        if distinct < 3:
            self.r.report(
                polygon_path,
                f"a polygon needs at least 3 distinct vertices, got {distinct}",
            )
            return None
        problem = _polygon_problem(lat_deg, lon_deg, "polygon")
        if problem is not None:
            self.r.report(polygon_path, problem)
            return None
        return lat_deg, lon_deg

    def _circle(self, value: Any, path: _Path) -> _Coords | None:
        table = self.r.table(value, path, required=("center", "radius_nm"))
        if table is None:
            return None
        center = (
            self.r.lat_lon(table["center"], (*path, "center"))
            if "center" in table
            else None
        )
        radius_nm = self.r.number(table, path, "radius_nm", above=0.0)
        if radius_nm is not None and radius_nm > MAX_CIRCLE_RADIUS_NM:
            self.r.report(
                (*path, "radius_nm"),
                f"must be at most {MAX_CIRCLE_RADIUS_NM:g} NM (one theatre), "
                f"got {radius_nm:g}",
            )
            return None
        if center is None or radius_nm is None:
            return None
        azimuth_deg = np.arange(CIRCLE_VERTICES) * (360.0 / CIRCLE_VERTICES)
        lat_deg, lon_deg = destination(
            np.full(CIRCLE_VERTICES, center[0]),
            np.full(CIRCLE_VERTICES, center[1]),
            azimuth_deg,
            np.full(CIRCLE_VERTICES, radius_nm),
        )
        # Counter-clockwise, like the usual exterior ring.
        return tuple(lat_deg[::-1].tolist()), tuple(lon_deg[::-1].tolist())

    def _unique_id(
        self, table: dict[str, Any], path: _Path, noun: str, first_index: dict[str, int]
    ) -> str | None:
        item_id = self.r.ident(table, path, "id")
        if item_id is None:
            return None
        if item_id in first_index:
            self.r.report(
                (*path, "id"),
                f"duplicate {noun} id '{item_id}' "
                f"(also {_format_path((*path[:-1], first_index[item_id]))})",
            )
            return None
        first_index[item_id] = int(path[-1])
        return item_id


# ------------------------------------------------------------------------- helpers


def _line_bearing_deg(coords: _Coords) -> float:
    """Direction from the first point to the last, degrees clockwise from north.

    NaN when the two coincide. Measured in a projection centred on the line, where
    north is up at the centre.
    """
    lat_deg = np.asarray(coords[0], dtype=np.float64)
    lon_deg = np.asarray(coords[1], dtype=np.float64)
    x_m, y_m = LocalProjection.around(lat_deg, lon_deg).to_xy_m(lat_deg, lon_deg)
    dx_m, dy_m = float(x_m[-1] - x_m[0]), float(y_m[-1] - y_m[0])
    if math.hypot(dx_m, dy_m) < _MIN_LINE_LENGTH_M:
        return math.nan
    return math.degrees(math.atan2(dx_m, dy_m)) % 360.0


def _polygon_problem(
    lat_deg: Sequence[float], lon_deg: Sequence[float], name: str
) -> str | None:
    """Why the polygon is not valid (with where), or None when it is."""
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    projection = LocalProjection.around(lat, lon)
    x_m, y_m = projection.to_xy_m(lat, lon)
    polygon = shapely.Polygon(np.column_stack([x_m, y_m]))
    if shapely.is_valid(polygon):
        return None
    reason = shapely.is_valid_reason(polygon)
    match = _SHAPELY_POINT_RE.search(reason)
    if match is None:  # not seen for finite vertices without holes; kept for safety
        return f"{name} is not a valid polygon ({reason})"
    # With finite vertices and no holes, every reason is a kind of self-intersection.
    px_m, py_m = float(match.group(1)), float(match.group(2))
    at_lat, at_lon = projection.to_lat_lon_deg(px_m, py_m)
    where = _format_lat_lon(float(at_lat), float(at_lon))
    edges = _edges_near(x_m, y_m, px_m, py_m)
    edge_text = " and ".join(f"{name}[{a}]-{name}[{b}]" for a, b in edges)
    detail = f" where edges {edge_text} meet" if len(edges) >= 2 else ""
    return (
        f"{name} intersects itself at {where}{detail}; list the vertices in order "
        "around the boundary"
    )


def _edges_near(
    x_m: np.ndarray[Any, Any], y_m: np.ndarray[Any, Any], px_m: float, py_m: float
) -> list[tuple[int, int]]:
    """The edges (as vertex index pairs) that pass within tolerance of a point."""
    n = len(x_m)
    ax, ay = x_m, y_m
    bx, by = np.roll(x_m, -1), np.roll(y_m, -1)
    ex, ey = bx - ax, by - ay
    length2 = ex * ex + ey * ey
    safe2 = np.where(length2 > 0.0, length2, 1.0)  # a repeated vertex: zero-length edge
    t = np.clip(((px_m - ax) * ex + (py_m - ay) * ey) / safe2, 0.0, 1.0)
    dist_m = np.hypot(ax + t * ex - px_m, ay + t * ey - py_m)
    near = np.flatnonzero((dist_m <= _SELF_INTERSECTION_TOL_M) & (length2 > 0.0))
    return [(int(k), int((k + 1) % n)) for k in near]


def _format_lat_lon(lat_deg: float, lon_deg: float) -> str:
    """Like ``35.1234 N, 38.5678 E``."""
    ns = "N" if lat_deg >= 0 else "S"
    ew = "E" if lon_deg >= 0 else "W"
    return f"{abs(lat_deg):.4f} {ns}, {abs(lon_deg):.4f} {ew}"
