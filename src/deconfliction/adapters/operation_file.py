"""Operation files: planned operations as ASTM-like JSON in, domain values out.

The format follows the ``Volume4D`` of ASTM F3548-21 (see ``docs/planning.md``)::

    {"id": "OP-1", "party": "coalition", "kind": "reconnaissance",
     "version": 1, "ovn": "", "state": "accepted",          (all three optional)
     "volumes": [
      {"volume": {"outline_polygon": {"vertices": [{"lat": 35.1, "lng": 39.2}, ...]},
                  "altitude_lower": {"value": 15000, "reference": "W84", "units": "FT"},
                  "altitude_upper": {"value": 25000, "units": "FT"}},
       "time_start": {"value": "2017-12-13T10:00:00Z", "format": "RFC3339"},
       "time_end": {"value": "2017-12-13T12:00:00Z", "format": "RFC3339"}}],
     "route": {"waypoints": [{"lat": 35.1, "lng": 39.2,
                              "altitude": {"value": 20000, "units": "FT"},
                              "time": {"value": "2017-12-13T10:00:00Z"}}, ...],
               "lateral_half_width": {"value": 5, "units": "NM"},
               "vertical_half_width": {"value": 1000, "units": "FT"}}}

``outline_circle`` is ``{"center": {"lat", "lng"}, "radius": {"value", "units"}}``.
Units are converted here, once: radii and half-widths in ``NM``, ``M`` or ``KM``,
altitudes in ``FT`` or ``M`` (``reference`` ``W84``, the only one F3548 has; the
project compares altitudes with each other only). Times are RFC 3339 with a zone.
Vertices are not closed (a repeated first vertex at the end is dropped). A route
becomes volumes with :func:`~deconfliction.domain.planning.route_to_volumes`, after
the explicit ones. A file holds one operation, a list of them, or
``{"operations": [...]}``.

Every problem is reported at once, each with the file, the line where the key is
written and the field path (``volumes[0].volume.outline_polygon.vertices[2].lat``):
:mod:`json` keeps no positions, so
:class:`~deconfliction.adapters.json_locator.JsonLocator` scans the text once, and
the reader is the one protocol files use
(:mod:`~deconfliction.adapters.located_reader`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from typing import Any

from deconfliction.adapters.input_files import read_text
from deconfliction.adapters.json_locator import JsonLocator
from deconfliction.adapters.located_reader import (
    JSON_WORDS,
    LocatedReader,
    describe,
    format_path,
    sorted_problems,
    unknown,
)
from deconfliction.adapters.located_reader import Path as _Path
from deconfliction.domain.operation_kinds import OPERATION_KINDS, is_operation_kind
from deconfliction.domain.planning import (
    CheckResult,
    Circle,
    ConflictView,
    Operation,
    OperationState,
    Outline,
    Place,
    Polygon,
    Route,
    Volume3D,
    Volume4D,
    Waypoint,
    route_to_volumes,
    volume_problems,
)
from deconfliction.errors import GeometryError, InputError, Problem
from deconfliction.timetext import parse_zoned_s, rfc3339
from deconfliction.units import M_PER_FT, M_PER_NM

__all__ = [
    "ALTITUDE_UNITS",
    "DISTANCE_UNITS",
    "MAX_REPORTED_PROBLEMS",
    "check_result_to_json",
    "conflict_view_to_json",
    "load_operation",
    "load_operations",
    "operation_from_json",
    "operation_to_json",
    "operations_from_json",
    "parse_operation",
    "parse_operations",
    "volume_to_json",
]

DISTANCE_UNITS: dict[str, float] = {
    "NM": 1.0,
    "M": 1.0 / M_PER_NM,
    "KM": 1000.0 / M_PER_NM,
}
"""Units accepted for radii and half-widths, as nautical miles per unit."""

ALTITUDE_UNITS: dict[str, float] = {"FT": 1.0, "M": 1.0 / M_PER_FT}
"""Units accepted for altitudes, as feet per unit."""

MAX_REPORTED_PROBLEMS: int = (
    50  # beyond this a file is plainly wrong; say how many more
)

COORD_DECIMALS: int = 6  # 1e-6 deg is 0.11 m: finer than any planned outline
ALT_DECIMALS: int = 2  # 0.01 ft is 3 mm
RADIUS_DECIMALS: int = 6  # 1e-6 NM is 2 mm

_REFERENCES: tuple[str, ...] = ("W84",)
_RFC3339_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_OPERATION_KEYS = ("id", "party", "kind", "volumes", "route", "version", "ovn", "state")


# ----------------------------------------------------------------------------- API


def load_operations(path: str | os.PathLike[str]) -> tuple[Operation, ...]:
    """Read every operation in a file (one, a list, or ``{"operations": [...]}``).

    Raises:
        InputError: the file is empty, binary, not UTF-8 JSON or does not validate;
            every problem is listed with its line and field.
        OSError: the file cannot be read (``FileNotFoundError`` and the like).
    """
    return parse_operations(read_text(path), os.fspath(path))


def load_operation(path: str | os.PathLike[str]) -> Operation:
    """Read a file holding exactly one operation.

    Raises:
        InputError: as :func:`load_operations`, or the file holds more or fewer
            than one operation.
        OSError: the file cannot be read.
    """
    return _exactly_one(load_operations(path), os.fspath(path))


def parse_operations(text: str, source: str = "<operations>") -> tuple[Operation, ...]:
    """Validate the JSON text of an operation file; see :func:`load_operations`.

    >>> ops = parse_operations('''{"id": "A", "party": "red", "kind": "air_patrol",
    ...   "volumes": [{"volume": {
    ...       "outline_circle": {"center": {"lat": 35, "lng": 38},
    ...                          "radius": {"value": 10, "units": "KM"}},
    ...       "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
    ...       "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
    ...     "time_start": {"value": "2017-12-13T10:00:00Z"},
    ...     "time_end": {"value": "2017-12-13T12:30:00+01:00"}}]}''')
    >>> v = ops[0].volumes[0]
    >>> round(v.volume.outline.radius_nm, 3), round(v.volume.altitude_upper_ft)
    (5.4, 9843)
    >>> v.time_end_t_s - v.time_start_t_s
    5400.0
    >>> parse_operations('{"id": 1}')
    Traceback (most recent call last):
    ...
    deconfliction.errors.InputError: 4 problems:
      <operations>:1: party: missing required key 'party'
      <operations>:1: kind: missing required key 'kind'
      <operations>:1: id: must be a string, got an integer (1)
      <operations>:1: volumes: give 'volumes', a 'route', or both

    Raises:
        InputError: the text is not JSON or does not validate.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    source,
                    exc.lineno,
                    "",
                    f"JSON syntax error: {exc.msg} (column {exc.colno})",
                )
            ]
        ) from None
    return _read_all(data, _Reader(source, JsonLocator(text)))


def parse_operation(text: str, source: str = "<operation>") -> Operation:
    """Validate the JSON text of one operation.

    Raises:
        InputError: as :func:`parse_operations`, or there is not exactly one.
    """
    return _exactly_one(parse_operations(text, source), source)


def operations_from_json(
    data: Any, source: str = "<operations>"
) -> tuple[Operation, ...]:
    """Validate already-decoded JSON (an API body): no line numbers.

    Raises:
        InputError: listing every problem with its field.
    """
    return _read_all(data, _Reader(source, None))


def operation_from_json(data: Any, source: str = "<operation>") -> Operation:
    """Validate one already-decoded operation (an API body): no line numbers.

    Raises:
        InputError: listing every problem with its field.
    """
    return _exactly_one(_read_all(data, _Reader(source, None)), source)


def operation_to_json(op: Operation) -> dict[str, Any]:
    """An operation in the file's ASTM-like form (feet and NM, UTC times).

    ``parse_operations(json.dumps(operation_to_json(op)))`` gives ``op`` back for
    times in whole milliseconds.
    """
    return {
        "id": op.id,
        "party": op.party,
        "kind": op.kind,
        "version": op.version,
        "ovn": op.ovn,
        "state": op.state.value,
        "volumes": [volume_to_json(v) for v in op.volumes],
    }


def volume_to_json(volume: Volume4D) -> dict[str, Any]:
    """A :class:`Volume4D` as F3548-like JSON (altitudes in FT, radius in NM)."""
    v = volume.volume
    return {
        "volume": {
            **_outline_to_json(v.outline),
            "altitude_lower": _altitude_json(v.altitude_lower_ft),
            "altitude_upper": _altitude_json(v.altitude_upper_ft),
        },
        "time_start": {"value": rfc3339(volume.time_start_t_s), "format": "RFC3339"},
        "time_end": {"value": rfc3339(volume.time_end_t_s), "format": "RFC3339"},
    }


def conflict_view_to_json(view: ConflictView) -> dict[str, Any]:
    """A conflict as a party may see it; what it may not see is left out.

    Keys: ``kind``, ``operation``, ``volume`` (the viewer's), ``boundary`` (zone
    or line), ``other_party``, ``other_operation``, ``other_volume_index``,
    ``other_volume``, ``time_start``, ``time_end`` (RFC 3339),
    ``altitude_lower_ft``, ``altitude_upper_ft``, ``horizontal_distance_nm``,
    ``reaches_other_side`` and ``place`` (``centroid`` and ``polygons``, each
    ``{"vertices": [{"lat", "lng"}]}``).
    """
    out: dict[str, Any] = {
        "kind": view.kind.value,
        "operation": view.operation_id,
        "volume": view.volume_index,
        "boundary": view.boundary_id,
        "other_party": view.other_party,
        "other_operation": view.other_operation_id,
        "other_volume_index": view.other_volume_index,
        "other_volume": None
        if view.other_volume is None
        else volume_to_json(view.other_volume),
        "time_start": None
        if view.time_start_t_s is None
        else rfc3339(view.time_start_t_s),
        "time_end": None if view.time_end_t_s is None else rfc3339(view.time_end_t_s),
        "altitude_lower_ft": _round(view.altitude_lower_ft, 1),
        "altitude_upper_ft": _round(view.altitude_upper_ft, 1),
        "horizontal_distance_nm": _round(view.horizontal_distance_nm, 4),
        "reaches_other_side": view.reaches_other_side,
        "place": None if view.place is None else _place_to_json(view.place),
    }
    return {key: value for key, value in out.items() if value is not None}


def check_result_to_json(
    op: Operation, result: CheckResult, views: Sequence[ConflictView]
) -> dict[str, Any]:
    """The answer to a check: the operation, whether it is clear, its conflicts.

    ``views`` are the conflicts of ``result`` as the filer may see them (see
    :func:`~deconfliction.domain.planning.redact_for`).
    """
    return {
        "operation": op.id,
        "party": op.party,
        "version": op.version,
        "clear": result.is_clear,
        "conflicts": [conflict_view_to_json(v) for v in views],
    }


# ------------------------------------------------------------------ reading


class _Reader(LocatedReader):
    """The shared reader with JSON's words; problems raised at most 50 at a time."""

    def __init__(self, source: str, lines: JsonLocator | None) -> None:
        super().__init__(source, lines, JSON_WORDS)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(
                sorted_problems(self.problems, self.source, MAX_REPORTED_PROBLEMS)
            )

    def obj(
        self,
        value: Any,
        path: _Path,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> dict[str, Any] | None:
        """``value`` as an object with these keys, or None (reported)."""
        return self.table(value, path, required=required, optional=optional)


def _exactly_one(ops: tuple[Operation, ...], source: str) -> Operation:
    if len(ops) != 1:
        raise InputError(
            [Problem(source, None, "", f"expected one operation, found {len(ops)}")]
        )
    return ops[0]


def _read_all(data: Any, reader: _Reader) -> tuple[Operation, ...]:
    items: list[tuple[_Path, Any]]
    if isinstance(data, list):
        items = [((k,), item) for k, item in enumerate(data)]
    elif isinstance(data, dict) and "operations" in data and "id" not in data:
        root = reader.obj(data, (), ("operations",))
        listed = root.get("operations") if root is not None else None
        if not isinstance(listed, list):
            reader.wrong_type(("operations",), "a list", listed)
            listed = []
        items = [(("operations", k), item) for k, item in enumerate(listed)]
    else:
        items = [((), data)]
    ops: list[Operation] = []
    first: dict[str, _Path] = {}
    for path, item in items:
        op = _read_operation(item, path, reader)
        if op is None:
            continue
        if op.id in first:
            reader.report(
                (*path, "id"),
                f"duplicate operation id '{op.id}' "
                f"(also at {_format_path(first[op.id]) or 'the top'})",
            )
            continue
        first[op.id] = path
        ops.append(op)
    reader.raise_if_any()
    return tuple(ops)


def _read_operation(value: Any, path: _Path, r: _Reader) -> Operation | None:
    before = len(r.problems)
    table = r.obj(value, path, ("id", "party", "kind"), _OPERATION_KEYS[3:])
    if table is None:
        return None
    op_id = r.string(table, path, "id")
    party = r.string(table, path, "party")
    kind = r.string(table, path, "kind")
    if kind is not None and not is_operation_kind(kind):
        r.report((*path, "kind"), _unknown("operation kind", kind, OPERATION_KINDS))
        kind = None
    version = 1
    if "version" in table:
        raw = table["version"]
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            r.report(
                (*path, "version"), f"must be a whole number >= 1, got {_describe(raw)}"
            )
        else:
            version = raw
    ovn = ""
    if "ovn" in table:
        if isinstance(table["ovn"], str):
            ovn = table["ovn"]
        else:
            r.wrong_type((*path, "ovn"), "a string", table["ovn"])
    state = OperationState.ACCEPTED
    if "state" in table:
        raw_state = r.string(table, path, "state")
        if raw_state is not None:
            # F3548 writes states capitalised (Accepted); ours are lower-case.
            lowered = raw_state.lower()
            values = [s.value for s in OperationState]
            if lowered in values:
                state = OperationState(lowered)
            else:
                r.report((*path, "state"), _unknown("state", raw_state, values))
    volumes: list[Volume4D] = []
    if "volumes" in table:
        listed = table["volumes"]
        if not isinstance(listed, list):
            r.wrong_type((*path, "volumes"), "a list", listed)
        else:
            for k, item in enumerate(listed):
                volume = _read_volume4d(item, (*path, "volumes", k), r)
                if volume is not None:
                    volumes.append(volume)
    if "route" in table:
        volumes.extend(_read_route(table["route"], (*path, "route"), r))
    elif (
        "volumes" in table
        and not table["volumes"]
        and isinstance(table["volumes"], list)
    ):
        r.report((*path, "volumes"), "empty: give at least one volume or a route")
    if "volumes" not in table and "route" not in table:
        r.report((*path, "volumes"), "give 'volumes', a 'route', or both")
    if len(r.problems) > before or op_id is None or party is None or kind is None:
        return None
    return Operation(op_id, party, kind, tuple(volumes), version, ovn, state)


def _read_volume4d(value: Any, path: _Path, r: _Reader) -> Volume4D | None:
    before = len(r.problems)
    table = r.obj(value, path, ("volume", "time_start", "time_end"))
    if table is None:
        return None
    space = None
    outline_key = "outline_polygon"
    if "volume" in table:
        space, outline_key = _read_volume3d(table["volume"], (*path, "volume"), r)
    start = _read_time(
        table.get("time_start"), (*path, "time_start"), r, "time_start" in table
    )
    end = _read_time(table.get("time_end"), (*path, "time_end"), r, "time_end" in table)
    if start is not None and end is not None and not start < end:
        r.report(
            (*path, "time_end"),
            f"{rfc3339(end)} is not after time_start {rfc3339(start)}",
        )
        return None
    if space is None or start is None or end is None or len(r.problems) > before:
        return None
    volume = Volume4D(space, start, end)
    _report_volume_problems(volume, path, outline_key, r)
    return volume


def _report_volume_problems(
    volume: Volume4D, path: _Path, outline_key: str, r: _Reader
) -> None:
    fields = {
        "outline": (*path, "volume", outline_key),
        "altitude": (*path, "volume", "altitude_upper"),
        "time": (*path, "time_end"),
    }
    for where, message in volume_problems(volume):
        r.report(fields[where], message)


def _read_volume3d(value: Any, path: _Path, r: _Reader) -> tuple[Volume3D | None, str]:
    table = r.obj(
        value,
        path,
        ("altitude_lower", "altitude_upper"),
        ("outline_polygon", "outline_circle"),
    )
    if table is None:
        return None, "outline_polygon"
    outline: Outline | None = None
    key = "outline_circle" if "outline_circle" in table else "outline_polygon"
    if "outline_polygon" in table and "outline_circle" in table:
        r.report(
            (*path, "outline_circle"),
            "give outline_polygon or outline_circle, not both",
        )
    elif key == "outline_circle":
        outline = _read_circle(table[key], (*path, key), r)
    elif key in table:
        outline = _read_polygon(table[key], (*path, key), r)
    else:
        r.report(
            (*path, key), "missing required key 'outline_polygon' (or 'outline_circle')"
        )
    lower = _read_altitude(table.get("altitude_lower"), (*path, "altitude_lower"), r)
    upper = _read_altitude(table.get("altitude_upper"), (*path, "altitude_upper"), r)
    if lower is not None and upper is not None and lower > upper:
        r.report(
            (*path, "altitude_upper"),
            f"{upper:g} ft is below altitude_lower {lower:g} ft",
        )
        return None, key
    if outline is None or lower is None or upper is None:
        return None, key
    return Volume3D(outline, lower, upper), key


def _read_point(value: Any, path: _Path, r: _Reader) -> tuple[float, float] | None:
    table = r.obj(value, path, ("lat", "lng"))
    if table is None:
        return None
    lat = r.number(table, path, "lat", low=-90.0, high=90.0)
    lng = r.number(table, path, "lng", low=-180.0, high=180.0)
    if lat is None or lng is None:
        return None
    return lat, lng


def _read_polygon(value: Any, path: _Path, r: _Reader) -> Polygon | None:
    table = r.obj(value, path, ("vertices",))
    if table is None or "vertices" not in table:
        return None
    listed = table["vertices"]
    where = (*path, "vertices")
    if not isinstance(listed, list):
        r.wrong_type(where, "a list", listed)
        return None
    points = [_read_point(item, (*where, k), r) for k, item in enumerate(listed)]
    if any(p is None for p in points):
        return None
    vertices = [p for p in points if p is not None]
    if len(vertices) > 3 and vertices[0] == vertices[-1]:
        vertices = vertices[:-1]  # a closed ring, as GeoJSON writes it
    if len(vertices) < 3:
        r.report(where, f"needs at least 3 vertices, got {len(vertices)}")
        return None
    return Polygon(tuple(p[0] for p in vertices), tuple(p[1] for p in vertices))


def _read_circle(value: Any, path: _Path, r: _Reader) -> Circle | None:
    table = r.obj(value, path, ("center", "radius"))
    if table is None:
        return None
    center = (
        _read_point(table["center"], (*path, "center"), r)
        if "center" in table
        else None
    )
    radius_nm = (
        _read_distance(table["radius"], (*path, "radius"), r)
        if "radius" in table
        else None
    )
    if center is None or radius_nm is None:
        return None
    return Circle(center[0], center[1], radius_nm)


def _read_distance(value: Any, path: _Path, r: _Reader) -> float | None:
    """A positive length in NM, from ``{"value", "units"}``."""
    table = r.obj(value, path, ("value", "units"))
    if table is None:
        return None
    number = r.number(table, path, "value", above=0.0)
    units = r.choice(table, path, "units", tuple(DISTANCE_UNITS))
    if number is None or units is None:
        return None
    return number * DISTANCE_UNITS[units]


def _read_altitude(
    value: Any, path: _Path, r: _Reader, *, low: float = -math.inf
) -> float | None:
    """An altitude (or a height difference) in ft, from ``{"value", "units"}``."""
    if value is None:
        return None
    table = r.obj(value, path, ("value", "units"), ("reference",))
    if table is None:
        return None
    number = r.number(table, path, "value", low=low)
    units = r.choice(table, path, "units", tuple(ALTITUDE_UNITS))
    if "reference" in table:
        r.choice(table, path, "reference", _REFERENCES)
    if number is None or units is None:
        return None
    return number * ALTITUDE_UNITS[units]


def _read_time(value: Any, path: _Path, r: _Reader, present: bool) -> float | None:
    if not present:
        return None
    table = r.obj(value, path, ("value",), ("format",))
    if table is None:
        return None
    if "format" in table:
        r.choice(table, path, "format", ("RFC3339",))
    text = r.string(table, path, "value")
    if text is None:
        return None
    if not _RFC3339_RE.fullmatch(text):
        r.report(
            (*path, "value"),
            f'not an RFC 3339 time with a zone, like "2017-12-13T10:00:00Z": '
            f"{json.dumps(text)}",
        )
        return None
    try:
        return parse_zoned_s(text)
    except ValueError as exc:
        r.report((*path, "value"), f"not a valid time: {exc}")
        return None


def _read_route(value: Any, path: _Path, r: _Reader) -> list[Volume4D]:
    before = len(r.problems)
    table = r.obj(
        value, path, ("waypoints", "lateral_half_width", "vertical_half_width")
    )
    if table is None:
        return []
    lateral_nm = (
        _read_distance(table["lateral_half_width"], (*path, "lateral_half_width"), r)
        if "lateral_half_width" in table
        else None
    )
    vertical_ft = _read_altitude(
        table.get("vertical_half_width"), (*path, "vertical_half_width"), r, low=0.0
    )
    waypoints: list[Waypoint] = []
    listed = table.get("waypoints")
    if "waypoints" in table and not isinstance(listed, list):
        r.wrong_type((*path, "waypoints"), "a list", listed)
    elif isinstance(listed, list):
        if len(listed) < 2:
            r.report(
                (*path, "waypoints"), f"needs at least 2 waypoints, got {len(listed)}"
            )
        for k, item in enumerate(listed):
            where = (*path, "waypoints", k)
            point = r.obj(item, where, ("lat", "lng", "altitude", "time"))
            if point is None:
                continue
            lat = r.number(point, where, "lat", low=-90.0, high=90.0)
            lng = r.number(point, where, "lng", low=-180.0, high=180.0)
            alt = _read_altitude(point.get("altitude"), (*where, "altitude"), r)
            t_s = _read_time(point.get("time"), (*where, "time"), r, "time" in point)
            if lat is None or lng is None or alt is None or t_s is None:
                continue
            if waypoints and not t_s > waypoints[-1].t_s:
                r.report((*where, "time"), "must be later than the waypoint before")
                continue
            waypoints.append(Waypoint(lat, lng, alt, t_s))
    if len(r.problems) > before or lateral_nm is None or vertical_ft is None:
        return []
    try:
        route = Route(tuple(waypoints), lateral_nm, vertical_ft)
    except GeometryError as exc:  # pragma: no cover - every case is reported above
        r.report(path, str(exc))
        return []
    volumes = list(route_to_volumes(route))
    for k, volume in enumerate(volumes):
        for _, message in volume_problems(volume):
            r.report((*path, "waypoints"), f"piece {k} of the route: {message}")
    return volumes


# ------------------------------------------------------------------ writing


def _outline_to_json(outline: Outline) -> dict[str, Any]:
    if isinstance(outline, Circle):
        return {
            "outline_circle": {
                "center": _point_json(outline.center_lat_deg, outline.center_lon_deg),
                "radius": {
                    "value": round(outline.radius_nm, RADIUS_DECIMALS),
                    "units": "NM",
                },
            }
        }
    return {"outline_polygon": _polygon_json(outline)}


def _polygon_json(polygon: Polygon) -> dict[str, Any]:
    return {
        "vertices": [
            _point_json(lat, lon)
            for lat, lon in zip(
                polygon.vertices_lat_deg, polygon.vertices_lon_deg, strict=True
            )
        ]
    }


def _point_json(lat_deg: float, lon_deg: float) -> dict[str, float]:
    return {
        "lat": round(lat_deg, COORD_DECIMALS),
        "lng": round(lon_deg, COORD_DECIMALS),
    }


def _altitude_json(alt_ft: float) -> dict[str, Any]:
    return {"value": round(alt_ft, ALT_DECIMALS), "reference": "W84", "units": "FT"}


def _place_to_json(place: Place) -> dict[str, Any]:
    return {
        "centroid": _point_json(place.centroid_lat_deg, place.centroid_lon_deg),
        "polygons": [_polygon_json(p) for p in place.polygons],
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _format_path(path: _Path) -> str:
    return format_path(path, JSON_WORDS)


def _describe(value: Any) -> str:
    return describe(value, JSON_WORDS)


def _unknown(what: str, word: str, choices: Sequence[str]) -> str:
    return unknown(what, word, choices, JSON_WORDS)
