"""GeoJSON (RFC 7946) in and out: zones, lines and operations in; tracks, zones,
lines, operations, conflicts and violations out.

Positions are ``[lon, lat]`` WGS-84 degrees. Altitudes are pressure altitudes in
feet and go in the properties (a third coordinate would be metres above the
ellipsoid). Each feature says what it is in ``properties.kind``:

* ``zone``: a ``Polygon`` (no holes) with ``id``, ``owner``, optional ``name``,
  ``floor_ft`` and ``ceiling_ft`` (absent: no floor, no ceiling);
* ``line``: a ``LineString`` with ``id``, ``buffer_nm``, ``sides`` (party to
  ``left`` or ``right`` of the point order; compass sides are resolved by protocol
  files, not here), optional ``name``, ``declared_sides`` and ``reach_nm`` (how
  far its sides extend; absent: the buffer plus 150 NM);
* ``operation``: a planned volume (ASTM F3548's ``Volume4D``): a ``Polygon``, or a
  ``Point`` with ``radius_nm``, with ``id``, ``party``, ``floor_ft``, ``ceiling_ft``,
  ``time_start`` and ``time_end`` (RFC 3339), optional ``name`` and ``state``;
* ``position``: a ``Point`` of a track, with ``id``, ``time`` and the track fields;
* ``track``: a ``LineString`` of one aircraft's positions (written, not read);
* ``conflict`` and violations: as ``result_files`` writes them (a violation's
  ``kind`` is what was violated, ``line`` or ``zone``; it is recognised by its
  ``aircraft_id`` and ``boundary_id``).

Zones and lines are written with the same properties as the server's
``/v1/protocols/current``, so either reads back here. Without ``kind``, a
``Polygon`` with ``time_start`` is an operation, another ``Polygon`` a zone and a
``LineString`` a line. Every problem is reported at once, by feature and property.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.adapters.result_files import (
    COORD_DECIMALS,
    conflicts_feature_collection,
    violations_feature_collection,
)
from deconfliction.adapters.track_stream import TrackBatch
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.protocol import DeconflictionLine, LineSide, Zone
from deconfliction.errors import InputError, Problem
from deconfliction.timetext import parse_rfc3339_s, rfc3339

MAX_GEOJSON_BYTES: int = 200_000_000  # a day of tracks is ~50 MB; refuse beyond
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Operation:
    """A planned operation volume: where, how high and when a party will fly.

    Attributes:
        id: identifier.
        party: the party flying it.
        name: human-readable name.
        lat_deg: polygon vertices (not closed), or the centre of a circle.
        lon_deg: their longitudes.
        radius_nm: the circle's radius, or None for a polygon.
        floor_ft: lowest altitude.
        ceiling_ft: highest altitude.
        start_t_s: when it begins.
        end_t_s: when it ends.
        state: its state as given (``accepted``, ``activated``...).
    """

    id: str
    party: str
    name: str
    lat_deg: tuple[float, ...]
    lon_deg: tuple[float, ...]
    radius_nm: float | None
    floor_ft: float
    ceiling_ft: float
    start_t_s: float
    end_t_s: float
    state: str = "accepted"


@dataclass(frozen=True, slots=True)
class GeoFeatures:
    """What a GeoJSON file held, by kind."""

    zones: tuple[Zone, ...] = ()
    lines: tuple[DeconflictionLine, ...] = ()
    operations: tuple[Operation, ...] = ()
    positions: TrackBatch | None = None
    skipped: int = 0  # features of kinds that are written, not read


# --------------------------------------------------------------------------------------
# Reading


def read_geojson(path: str | os.PathLike[str]) -> GeoFeatures:
    """Read zones, lines, operations and positions from a GeoJSON file.

    Raises:
        InputError: listing every problem, by feature and property.
        FileNotFoundError: if the file does not exist.
    """
    source = str(path)
    size = Path(path).stat().st_size
    if size > MAX_GEOJSON_BYTES:
        raise InputError(
            [
                Problem(
                    source, None, "", f"{size} bytes: larger than {MAX_GEOJSON_BYTES}"
                )
            ]
        )
    return parse_geojson(Path(path).read_text(encoding="utf-8-sig"), source)


def parse_geojson(text: str, source: str = "<geojson>") -> GeoFeatures:
    """Parse GeoJSON text; see :func:`read_geojson`.

    Raises:
        InputError: listing every problem, by feature and property.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem(source, exc.lineno, "", f"not JSON: {exc.msg}")]
        ) from None
    return _Reader(source).read(document)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def report(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.source, None, where, message))

    def read(self, document: Any) -> GeoFeatures:
        if isinstance(document, dict) and document.get("type") == "Feature":
            features: Any = [document]
        elif isinstance(document, dict) and document.get("type") == "FeatureCollection":
            features = document.get("features")
        else:
            raise InputError(
                [Problem(self.source, None, "type", "expected a FeatureCollection")]
            )
        if not isinstance(features, list):
            raise InputError(
                [Problem(self.source, None, "features", "expected a list of features")]
            )
        zones: list[Zone] = []
        lines: list[DeconflictionLine] = []
        operations: list[Operation] = []
        positions: list[dict[str, Any]] = []
        skipped = 0
        for k, feature in enumerate(features):
            where = f"features[{k}]"
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                self.report(where, "not a Feature")
                continue
            props = feature.get("properties") or {}
            geometry = feature.get("geometry") or {}
            if not isinstance(props, dict) or not isinstance(geometry, dict):
                self.report(where, "properties and geometry must be objects")
                continue
            kind = _kind_of(geometry, props)
            if kind == "zone":
                zone = self._zone(where, geometry, props)
                if zone is not None:
                    zones.append(zone)
            elif kind == "line":
                line = self._line(where, geometry, props)
                if line is not None:
                    lines.append(line)
            elif kind == "operation":
                op = self._operation(where, geometry, props)
                if op is not None:
                    operations.append(op)
            elif kind == "position":
                row = self._position(where, geometry, props)
                if row is not None:
                    positions.append(row)
            elif kind in ("track", "conflict", "violation"):
                skipped += 1
            else:
                self.report(
                    f"{where}.properties.kind",
                    f"unknown kind {kind!r} (zone, line, operation, position)",
                )
        self._unique(zones, "zone")
        self._unique(lines, "line")
        self._unique(operations, "operation")
        if self.problems:
            raise InputError(self.problems)
        batch = None
        if positions:
            batch = TrackBatch.from_columns(
                **{key: [row[key] for row in positions] for key in positions[0]}
            )
        return GeoFeatures(
            tuple(zones), tuple(lines), tuple(operations), batch, skipped
        )

    def _unique(
        self, items: Sequence[Zone | DeconflictionLine | Operation], what: str
    ) -> None:
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                self.report("properties.id", f"duplicate {what} id {item.id!r}")
            seen.add(item.id)

    # -- pieces --------------------------------------------------------------------

    def _ident(self, where: str, props: Mapping[str, Any], key: str) -> str | None:
        value = props.get(key)
        if not isinstance(value, str) or _ID_RE.fullmatch(value) is None:
            self.report(
                f"{where}.properties.{key}",
                f"missing or not an id (letters, digits, - and _): {value!r}",
            )
            return None
        return value

    def _number(
        self,
        where: str,
        props: Mapping[str, Any],
        key: str,
        default: float | None = None,
        positive: bool = False,
    ) -> float | None:
        value = props.get(key)
        if value is None:
            if default is None:
                self.report(f"{where}.properties.{key}", "missing")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.report(f"{where}.properties.{key}", f"not a number: {value!r}")
            return None
        number = float(value)
        if not math.isfinite(number) or (positive and number <= 0):
            self.report(
                f"{where}.properties.{key}",
                f"must be {'positive' if positive else 'finite'}, got {value!r}",
            )
            return None
        return number

    def _position_list(
        self, where: str, coords: Any, minimum: int
    ) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        if not isinstance(coords, list):
            self.report(where, "coordinates must be a list of [lon, lat]")
            return None
        lats: list[float] = []
        lons: list[float] = []
        for k, pos in enumerate(coords):
            point = self._point(f"{where}[{k}]", pos)
            if point is None:
                return None
            lats.append(point[0])
            lons.append(point[1])
        distinct = len(set(zip(lats, lons, strict=True)))
        if distinct < minimum:
            self.report(
                where, f"needs at least {minimum} distinct positions, got {distinct}"
            )
            return None
        return tuple(lats), tuple(lons)

    def _point(self, where: str, pos: Any) -> tuple[float, float] | None:
        if (
            not isinstance(pos, list)
            or len(pos) < 2
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2]
            )
        ):
            self.report(where, f"expected [lon, lat], got {str(pos)[:60]}")
            return None
        lon, lat = float(pos[0]), float(pos[1])
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            self.report(where, f"[{lon:g}, {lat:g}] is not a [lon, lat] position")
            return None
        return lat, lon

    def _ring(
        self, where: str, geometry: Mapping[str, Any]
    ) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        if geometry.get("type") != "Polygon":
            self.report(
                f"{where}.geometry.type",
                f"expected Polygon, got {geometry.get('type')!r}",
            )
            return None
        rings = geometry.get("coordinates")
        if not isinstance(rings, list) or not rings:
            self.report(f"{where}.geometry.coordinates", "expected a list of rings")
            return None
        if len(rings) > 1:
            self.report(
                f"{where}.geometry.coordinates", "polygons with holes are not supported"
            )
            return None
        ring = self._position_list(f"{where}.geometry.coordinates[0]", rings[0], 3)
        if ring is None:
            return None
        lats, lons = ring
        if (lats[0], lons[0]) == (lats[-1], lons[-1]):
            lats, lons = lats[:-1], lons[:-1]
        return lats, lons

    def _bounds(
        self, where: str, props: Mapping[str, Any], required: bool
    ) -> tuple[float, float] | None:
        floor = self._number(where, props, "floor_ft", None if required else -math.inf)
        ceiling = self._number(
            where, props, "ceiling_ft", None if required else math.inf
        )
        if floor is None or ceiling is None:
            return None
        if not floor < ceiling:
            self.report(
                f"{where}.properties.ceiling_ft",
                f"must be above floor_ft ({floor:g}), got {ceiling:g}",
            )
            return None
        return floor, ceiling

    def _zone(
        self, where: str, geometry: Mapping[str, Any], props: Mapping[str, Any]
    ) -> Zone | None:
        ident = self._ident(where, props, "id")
        owner = self._ident(where, props, "owner")
        ring = self._ring(where, geometry)
        bounds = self._bounds(where, props, required=False)
        if ident is None or owner is None or ring is None or bounds is None:
            return None
        return Zone(
            id=ident,
            name=str(props.get("name") or ident),
            owner=owner,
            lat_deg=ring[0],
            lon_deg=ring[1],
            floor_ft=bounds[0],
            ceiling_ft=bounds[1],
        )

    def _line(
        self, where: str, geometry: Mapping[str, Any], props: Mapping[str, Any]
    ) -> DeconflictionLine | None:
        ident = self._ident(where, props, "id")
        buffer_nm = self._number(where, props, "buffer_nm")
        if buffer_nm is not None and buffer_nm < 0:
            self.report(f"{where}.properties.buffer_nm", "must not be negative")
            buffer_nm = None
        coords = None
        if geometry.get("type") != "LineString":
            self.report(
                f"{where}.geometry.type",
                f"expected LineString, got {geometry.get('type')!r}",
            )
        else:
            coords = self._position_list(
                f"{where}.geometry.coordinates", geometry.get("coordinates"), 2
            )
        sides: dict[str, LineSide] = {}
        raw_sides = props.get("sides")
        if not isinstance(raw_sides, dict) or not raw_sides:
            self.report(
                f"{where}.properties.sides", "expected {party: left|right, ...}"
            )
            raw_sides = {}
        for party, side in raw_sides.items():
            if _ID_RE.fullmatch(str(party)) is None:
                self.report(f"{where}.properties.sides", f"not a party id: {party!r}")
            elif side not in ("left", "right"):
                self.report(
                    f"{where}.properties.sides.{party}",
                    f"{side!r}: use left or right of the point order here "
                    "(compass sides are resolved by protocol files)",
                )
            else:
                sides[str(party)] = LineSide(side)
        declared = props.get("declared_sides") or {}
        reach_nm: float | None = None
        if props.get("reach_nm") is not None:
            reach_nm = self._number(where, props, "reach_nm")
            if reach_nm is not None and buffer_nm is not None and reach_nm <= buffer_nm:
                self.report(
                    f"{where}.properties.reach_nm", "must be greater than buffer_nm"
                )
                return None
            if reach_nm is None:
                return None
        if (
            ident is None
            or buffer_nm is None
            or coords is None
            or len(sides) != len(raw_sides)
            or not sides
        ):
            return None
        return DeconflictionLine(
            id=ident,
            name=str(props.get("name") or ident),
            lat_deg=coords[0],
            lon_deg=coords[1],
            buffer_nm=buffer_nm,
            sides=sides,
            declared_sides={str(k): str(v) for k, v in declared.items()}
            if isinstance(declared, dict)
            else {},
            reach_nm=reach_nm,
        )

    def _time(self, where: str, props: Mapping[str, Any], key: str) -> float | None:
        value = props.get(key)
        try:
            if not isinstance(value, str):
                raise ValueError(f"missing or not text: {value!r}")
            return parse_rfc3339_s(value)
        except ValueError as exc:
            self.report(f"{where}.properties.{key}", str(exc))
            return None

    def _operation(
        self, where: str, geometry: Mapping[str, Any], props: Mapping[str, Any]
    ) -> Operation | None:
        ident = self._ident(where, props, "id")
        party = self._ident(where, props, "party")
        radius: float | None = None
        shape: tuple[tuple[float, ...], tuple[float, ...]] | None = None
        if geometry.get("type") == "Point":
            point = self._point(
                f"{where}.geometry.coordinates", geometry.get("coordinates")
            )
            radius = self._number(where, props, "radius_nm", positive=True)
            if point is not None:
                shape = ((point[0],), (point[1],))
        else:
            shape = self._ring(where, geometry)
        bounds = self._bounds(where, props, required=True)
        start = self._time(where, props, "time_start")
        end = self._time(where, props, "time_end")
        if start is not None and end is not None and not start < end:
            self.report(f"{where}.properties.time_end", "must be after time_start")
            end = None
        if (
            ident is None
            or party is None
            or shape is None
            or bounds is None
            or start is None
            or end is None
            or (geometry.get("type") == "Point" and radius is None)
        ):
            return None
        return Operation(
            id=ident,
            party=party,
            name=str(props.get("name") or ident),
            lat_deg=shape[0],
            lon_deg=shape[1],
            radius_nm=radius,
            floor_ft=bounds[0],
            ceiling_ft=bounds[1],
            start_t_s=start,
            end_t_s=end,
            state=str(props.get("state") or "accepted"),
        )

    def _position(
        self, where: str, geometry: Mapping[str, Any], props: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        if geometry.get("type") != "Point":
            self.report(f"{where}.geometry.type", "a position is a Point")
            return None
        point = self._point(
            f"{where}.geometry.coordinates", geometry.get("coordinates")
        )
        t_s = self._time(where, props, "time")
        ident = props.get("id")
        if not isinstance(ident, str) or not ident:
            self.report(f"{where}.properties.id", "missing")
            return None
        if point is None or t_s is None:
            return None
        row: dict[str, Any] = {
            "ids": ident,
            "t_s": t_s,
            "lat_deg": point[0],
            "lon_deg": point[1],
        }
        for key in ("alt_ft", "gs_kt", "trk_deg", "vs_fpm"):
            value = props.get(key)
            row[key] = (
                float(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else math.nan
            )
        for key in ("party", "callsign", "icao24", "squawk", "source"):
            value = props.get(key)
            row[key] = str(value) if value is not None else ""
        return row


def _kind_of(geometry: Mapping[str, Any], props: Mapping[str, Any]) -> str | None:
    # Violations as result_files writes them use ``kind`` for what was violated
    # (line or zone): recognise them, and conflicts, by their own fields first.
    if "boundary_id" in props and "aircraft_id" in props:
        return "violation"
    if "party_a" in props and "party_b" in props:
        return "conflict"
    kind = props.get("kind")
    if kind:
        return str(kind)
    shape = geometry.get("type")
    if shape == "Polygon":
        return "operation" if "time_start" in props else "zone"
    if shape == "LineString":
        return "line"
    return None


# --------------------------------------------------------------------------------------
# Writing


def _coord(value: float) -> float:
    return round(value, COORD_DECIMALS)


def _value(value: float, decimals: int) -> float | None:
    return round(value, decimals) if math.isfinite(value) else None


def zone_feature(zone: Zone) -> dict[str, Any]:
    """A zone as a ``Polygon`` feature (ring closed)."""
    ring = [
        [_coord(lon), _coord(lat)]
        for lat, lon in zip(zone.lat_deg, zone.lon_deg, strict=True)
    ]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    properties: dict[str, Any] = {
        "kind": "zone",
        "id": zone.id,
        "name": zone.name,
        "owner": zone.owner,
        "floor_ft": _value(zone.floor_ft, 1),
        "ceiling_ft": _value(zone.ceiling_ft, 1),
    }
    if not zone.always_active:  # in force for a time (e.g. from a NOTAM)
        for key, t_s in (
            ("active_from", zone.active_from_t_s),
            ("active_until", zone.active_until_t_s),
        ):
            properties[key] = rfc3339(t_s) if math.isfinite(t_s) else None
    return {
        "type": "Feature",
        "id": f"zone-{zone.id}",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": properties,
    }


def line_properties(line: DeconflictionLine) -> dict[str, Any]:
    """The properties of a line's feature: its id, name, buffer, reach and sides."""
    return {
        "kind": "line",
        "id": line.id,
        "name": line.name,
        "buffer_nm": line.buffer_nm,
        "reach_nm": line.effective_reach_nm,
        "sides": {p: s.value for p, s in line.sides.items()},
        "declared_sides": dict(line.declared_sides),
    }


def line_feature(line: DeconflictionLine) -> dict[str, Any]:
    """A deconfliction line as a ``LineString`` feature."""
    return {
        "type": "Feature",
        "id": f"line-{line.id}",
        "geometry": {
            "type": "LineString",
            "coordinates": [
                [_coord(lon), _coord(lat)]
                for lat, lon in zip(line.lat_deg, line.lon_deg, strict=True)
            ],
        },
        "properties": line_properties(line),
    }


def operation_feature(op: Operation) -> dict[str, Any]:
    """An operation volume as a ``Polygon`` or a ``Point`` with ``radius_nm``."""
    if op.radius_nm is not None:
        geometry: dict[str, Any] = {
            "type": "Point",
            "coordinates": [_coord(op.lon_deg[0]), _coord(op.lat_deg[0])],
        }
    else:
        ring = [
            [_coord(lon), _coord(lat)]
            for lat, lon in zip(op.lat_deg, op.lon_deg, strict=True)
        ]
        ring.append(ring[0])
        geometry = {"type": "Polygon", "coordinates": [ring]}
    props: dict[str, Any] = {
        "kind": "operation",
        "id": op.id,
        "party": op.party,
        "name": op.name,
        "state": op.state,
        "floor_ft": op.floor_ft,
        "ceiling_ft": op.ceiling_ft,
        "time_start": rfc3339(op.start_t_s),
        "time_end": rfc3339(op.end_t_s),
    }
    if op.radius_nm is not None:
        props["radius_nm"] = op.radius_nm
    return {
        "type": "Feature",
        "id": f"operation-{op.id}",
        "geometry": geometry,
        "properties": props,
    }


def track_features(batch: TrackBatch, *, lines: bool = True) -> list[dict[str, Any]]:
    """A ``Point`` per position (``kind: position``), and with ``lines`` a
    ``LineString`` per aircraft in time order (``kind: track``) before them."""
    from deconfliction.timetext import rfc3339_array

    features: list[dict[str, Any]] = []
    if not len(batch):
        return features
    ordered = batch.take(np.lexsort((batch.t_s, batch.ids)))
    times = rfc3339_array(ordered.t_s)
    if lines:
        ids = ordered.ids
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        ends = np.r_[starts[1:], len(ids)]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            coords = [
                [_coord(lon), _coord(lat)]
                for lat, lon in zip(
                    ordered.lat_deg[a:b].tolist(),
                    ordered.lon_deg[a:b].tolist(),
                    strict=True,
                )
            ]
            if len(coords) < 2:
                continue
            features.append(
                {
                    "type": "Feature",
                    "id": f"track-{ids[a]}",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {
                        "kind": "track",
                        "id": str(ids[a]),
                        "party": str(ordered.party[a]) or None,
                        "callsign": str(ordered.callsign[b - 1]) or None,
                        "start": times[a],
                        "end": times[b - 1],
                        "positions": b - a,
                    },
                }
            )
    for k, rec in enumerate(ordered.records()):
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [_coord(rec.lon_deg), _coord(rec.lat_deg)],
                },
                "properties": {
                    "kind": "position",
                    "id": rec.id,
                    "time": times[k],
                    "alt_ft": _value(rec.alt_ft, 1),
                    "gs_kt": _value(rec.gs_kt, 1),
                    "trk_deg": _value(rec.trk_deg, 2),
                    "vs_fpm": _value(rec.vs_fpm, 1),
                    "party": rec.party,
                    "callsign": rec.callsign,
                    "icao24": rec.icao24,
                    "squawk": rec.squawk,
                    "source": rec.source,
                },
            }
        )
    return features


def feature_collection(
    *,
    tracks: TrackBatch | None = None,
    zones: Iterable[Zone] = (),
    lines: Iterable[DeconflictionLine] = (),
    operations: Iterable[Operation] = (),
    alerts: Sequence[Alert] = (),
    violations: Sequence[Violation] = (),
    track_lines: bool = True,
) -> dict[str, Any]:
    """Everything given in one ``FeatureCollection``: zones, lines, operations,
    tracks, then conflicts and violations (as ``result_files`` writes them)."""
    features: list[dict[str, Any]] = [zone_feature(z) for z in zones]
    features += [line_feature(ln) for ln in lines]
    features += [operation_feature(op) for op in operations]
    if tracks is not None:
        features += track_features(tracks, lines=track_lines)
    for feature in conflicts_feature_collection(alerts)["features"]:
        feature["properties"] = {"kind": "conflict", **feature["properties"]}
        features.append(feature)
    # Violations keep result_files' properties, where ``kind`` says what was
    # violated (line or zone).
    features += violations_feature_collection(violations)["features"]
    return {"type": "FeatureCollection", "features": features}


def write_geojson(path: str | os.PathLike[str], document: Mapping[str, Any]) -> None:
    """Write a GeoJSON document (UTF-8, compact: track files are large).

    Raises:
        ValueError: if the document holds NaN or infinity (not JSON).
        OSError: if the file cannot be written.
    """
    text = json.dumps(
        document, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    Path(path).write_text(text + "\n", encoding="utf-8")
