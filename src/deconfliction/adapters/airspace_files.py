"""Airspace files in, protocol zones out: AIXM 5.1 (``aviconv-aixm``), OpenAir
(``openair-rs-py``, the Rust ``openair`` crate) and GeoJSON (``adapters/geojson_io``).

Each airspace becomes a zone with its name, its class and its vertical limits; the
result is TOML ``[[zones]]`` (and ``[[lines]]`` from GeoJSON) that a party pastes into
a protocol. Limits become pressure altitudes in feet: a flight level × 100, feet or
metres above mean sea level as they are, a height above ground plus ``ground_ft``
(the terrain's elevation, which no airspace file gives: 0 unless told), the ground or
surface as no floor, unlimited as no ceiling. The limits as written are kept in a
comment above each zone. OpenAir arcs (``DB``, ``DA``) are made polygons with a vertex
every 5° along the geodesic circle (as protocol circles are); circles stay circles.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.domain.geodesy import destination, geodesic_azimuth_deg
from deconfliction.domain.geodesy import geodesic_distance_nm as _distance_nm
from deconfliction.errors import InputError, Problem
from deconfliction.timetext import rfc3339
from deconfliction.units import M_PER_FT

AIRSPACE_FORMATS: tuple[str, ...] = ("aixm", "openair", "geojson", "notam")
_AIXM_51 = b"http://www.aixm.aero/schema/5.1"
_AIXM_511 = b"http://www.aixm.aero/schema/5.1.1"
ARC_STEP_DEG: float = 5.0
_ID_RE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class AirspaceZone:
    """One airspace as a protocol zone.

    Attributes:
        id: a protocol id made of the designator or name.
        name: the name, with the class in brackets.
        floor_ft: pressure altitude of the floor, None for none.
        ceiling_ft: pressure altitude of the ceiling, None for none.
        polygon: ``(lat, lon)`` vertices, or None for a circle.
        circle: ``(lat, lon, radius_nm)``, or None for a polygon.
        limits: the limits as the file gives them (``SFC - FL95``).
        airspace_class: the class or type as the file gives it.
    """

    id: str
    name: str
    floor_ft: float | None
    ceiling_ft: float | None
    polygon: tuple[tuple[float, float], ...] | None
    circle: tuple[float, float, float] | None
    limits: str
    airspace_class: str
    owner: str | None = None
    start_t_s: float | None = None  # NOTAMs: when the zone is in force
    end_t_s: float | None = None


@dataclass(slots=True)
class AirspaceRead:
    """What an airspace file gave."""

    zones: list[AirspaceZone] = field(default_factory=list)
    lines_toml: list[str] = field(default_factory=list)  # GeoJSON lines, as TOML
    warnings: list[Problem] = field(default_factory=list)
    skipped: int = 0

    def skip(self, source: str, where: str, message: str) -> None:
        """Leave an airspace out, saying why."""
        self.skipped += 1
        self.warnings.append(Problem(source, None, where, message))

    def has_limits(
        self,
        source: str,
        where: str,
        floor: tuple[float | None, str, str | None],
        ceiling: tuple[float | None, str, str | None],
    ) -> bool:
        """Warn of each limit's warning; False (skipped) when the floor is not
        below the ceiling."""
        for warning in (floor[2], ceiling[2]):
            if warning:
                self.warnings.append(Problem(source, None, where, warning))
        if _inverted(floor[0], ceiling[0]):
            self.skip(source, where, f"{floor[1]} is not below {ceiling[1]}")
            return False
        return True


class _Ids:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, *texts: str | None) -> str:
        base = ""
        for text in texts:
            if text:
                base = _ID_RE.sub("-", text.strip()).strip("-_").lower()
                if base:
                    break
        base = base or "airspace"
        ident, k = base, 2
        while ident in self.used:
            ident, k = f"{base}-{k}", k + 1
        self.used.add(ident)
        return ident


# --------------------------------------------------------------------------------------
# OpenAir


def _openair_limit(
    limit: Any, ground_ft: float, floor: bool
) -> tuple[float | None, str, str | None]:
    """(feet or None, text, warning)."""
    kind = limit.get("type")
    value = limit.get("val")
    if kind == "Gnd":
        return None if floor else ground_ft, "SFC", None
    if kind == "Unlimited":
        return None, "UNL", None
    if kind == "FlightLevel":
        return float(value) * 100.0, f"FL{value}", None
    if kind == "FeetAmsl":
        return float(value), f"{value} ft AMSL", None
    if kind == "FeetAgl":
        text = f"{value} ft AGL"
        return (
            float(value) + ground_ft,
            text,
            f"{text} taken as {value + ground_ft:g} ft",
        )
    return None, str(value), f"limit {value!r} not understood: left out"


def _arc_points(
    lat_c: float,
    lon_c: float,
    radius_nm: float,
    start_deg: float,
    end_deg: float,
    clockwise: bool,
) -> list[tuple[float, float]]:
    """Vertices of an arc around a centre, every ARC_STEP_DEG, ends included."""
    sweep = (
        (end_deg - start_deg) % 360.0 if clockwise else (start_deg - end_deg) % 360.0
    )
    if sweep == 0.0:
        sweep = 360.0
    steps = max(1, math.ceil(sweep / ARC_STEP_DEG))
    sign = 1.0 if clockwise else -1.0
    azimuths = start_deg + sign * np.linspace(0.0, sweep, steps + 1)
    lat, lon = destination(
        np.full(steps + 1, lat_c),
        np.full(steps + 1, lon_c),
        azimuths,
        np.full(steps + 1, radius_nm),
    )
    return list(zip(lat.tolist(), lon.tolist(), strict=True))


def _openair_polygon(segments: Sequence[Any]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for seg in segments:
        kind = seg["type"]
        if kind == "Point":
            points.append((seg["lat"], seg["lng"]))
            continue
        centre = seg["centerpoint"]
        lat_c, lon_c = centre["lat"], centre["lng"]
        clockwise = seg["direction"] == "cw"
        if kind == "Arc":
            start, end = seg["start"], seg["end"]
            radius = float(_distance_nm(lat_c, lon_c, start["lat"], start["lng"]))
            a0 = float(geodesic_azimuth_deg(lat_c, lon_c, start["lat"], start["lng"]))
            a1 = float(geodesic_azimuth_deg(lat_c, lon_c, end["lat"], end["lng"]))
        else:  # ArcSegment (DA): radius and bearings
            radius = float(seg["radius"])
            a0, a1 = float(seg["angleStart"]), float(seg["angleEnd"])
        points.extend(_arc_points(lat_c, lon_c, radius, a0, a1, clockwise))
    deduped: list[tuple[float, float]] = []
    for p in points:
        if not deduped or _far(deduped[-1], p):
            deduped.append(p)
    if len(deduped) > 1 and not _far(deduped[0], deduped[-1]):
        deduped.pop()
    return deduped


def _zone(
    zone_id: str,
    name: str,
    cls: str,
    floor: tuple[float | None, str, str | None],
    ceiling: tuple[float | None, str, str | None],
    polygon: tuple[tuple[float, float], ...] | None,
    circle: tuple[float, float, float] | None,
) -> AirspaceZone:
    """A zone named with its class in brackets, its limits as written."""
    return AirspaceZone(
        zone_id,
        f"{name} ({cls})" if cls else name,
        floor[0],
        ceiling[0],
        polygon,
        circle,
        f"{floor[1]} - {ceiling[1]}",
        cls,
    )


def _inverted(floor: float | None, ceiling: float | None) -> bool:
    return floor is not None and ceiling is not None and ceiling <= floor


def _far(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) > 1e-7 or abs(a[1] - b[1]) > 1e-7


def read_openair(path: str | os.PathLike[str], ground_ft: float = 0.0) -> AirspaceRead:
    """Airspaces of an OpenAir file.

    Raises:
        InputError: for a file the parser refuses, with its message.
    """
    import openair

    source = str(path)
    try:
        airspaces = openair.parse_file(source)
    except (ValueError, RuntimeError, OSError) as exc:
        raise InputError([Problem(source, None, "", f"not OpenAir: {exc}")]) from None
    out = AirspaceRead()
    ids = _Ids()
    for k, space in enumerate(airspaces):
        name = (space.get("name") or "").strip()
        where = f"airspace[{k}] {name!r}"
        cls = str(space.get("class") or "")
        low = _openair_limit(space["lowerBound"], ground_ft, True)
        high = _openair_limit(space["upperBound"], ground_ft, False)
        if not out.has_limits(source, where, low, high):
            continue
        geom = space["geom"]
        polygon = circle = None
        if geom["type"] == "Circle":
            centre = geom["centerpoint"]
            circle = (centre["lat"], centre["lng"], float(geom["radius"]))
        else:
            polygon = tuple(_openair_polygon(geom["segments"]))
            if len(polygon) < 3:
                out.skip(source, where, "fewer than 3 vertices: left out")
                continue
        out.zones.append(_zone(ids.make(name), name, cls, low, high, polygon, circle))
    return out


# --------------------------------------------------------------------------------------
# AIXM


def _aixm_limit(
    value: Any, unit: Any, reference: str | None, ground_ft: float, floor: bool
) -> tuple[float | None, str, str | None]:
    if value is None:
        return None, "none", None
    text_value = getattr(value, "value", value)
    if text_value in ("GND", "FLOOR"):
        return None if floor else ground_ft, str(text_value), None
    if text_value in ("UNL", "CEILING"):
        return None, str(text_value), None
    unit_text = getattr(unit, "value", unit) or "FT"
    number = float(value)
    if unit_text == "FL":
        return number * 100.0, f"FL{number:g}", None
    feet = number / M_PER_FT if unit_text == "M" else number
    ref = reference or "MSL"
    text = f"{number:g} {unit_text} {ref}"
    if ref == "SFC":
        if number == 0.0:
            return None if floor else ground_ft, text, None
        return (
            feet + ground_ft,
            text,
            f"{text} (above ground) taken as {feet + ground_ft:g} ft",
        )
    if ref == "STD":
        return feet, text, None
    return feet, text, None


def _aixm_references(data: bytes) -> dict[str, tuple[str | None, str | None]]:
    """(upper, lower) limit references (SFC, MSL, STD, W84) of each airspace by its
    gml:identifier: the one thing aviconv-aixm does not keep."""
    from lxml import etree  # type: ignore[import-untyped]

    refs: dict[str, tuple[str | None, str | None]] = {}
    upper = lower = None
    for _, elem in etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag=("{*}Airspace", "{*}upperLimitReference", "{*}lowerLimitReference"),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
    ):
        local = etree.QName(elem).localname
        if local == "upperLimitReference":
            upper = (elem.text or "").strip() or None
        elif local == "lowerLimitReference":
            lower = (elem.text or "").strip() or None
        else:
            ident = elem.findtext("{http://www.opengis.net/gml/3.2}identifier")
            if ident:
                refs[ident.strip()] = (upper, lower)
            upper = lower = None
            elem.clear()
    return refs


@contextlib.contextmanager
def _fast_circles() -> Iterator[None]:
    """aviconv-aixm 0.6 draws each gml:CircleByCenterPoint through a projection of
    its own (a pyproj Transformer per circle: about 50 ms, 50 s for a country's
    thousand circles). Circles stay circles here, so their outline is only a
    fallback the reader builds and this module does not use: 5 geodesic vertices."""
    from aviconv_aixm import geometry_arcs
    from aviconv_aixm.model import ElevatedPoint

    def circle_points(segment: Any) -> list[Any]:
        radius_nm = geometry_arcs._radius_m(segment.radius, segment.radius_uom) / 1852.0
        azimuths = np.arange(0.0, 361.0, 90.0)  # unused outline: kept circles
        lat, lon = destination(
            np.full(azimuths.size, segment.center.lat),
            np.full(azimuths.size, segment.center.lon),
            azimuths,
            np.full(azimuths.size, radius_nm),
        )
        return [
            ElevatedPoint(lat=a, lon=b)
            for a, b in zip(lat.tolist(), lon.tolist(), strict=True)
        ]

    original = geometry_arcs._circle_points
    geometry_arcs._circle_points = circle_points
    try:
        yield
    finally:
        geometry_arcs._circle_points = original


def _aixm_circle(surface: Any) -> tuple[float, float, float] | None:
    """A surface published as one gml:CircleByCenterPoint stays a circle."""
    from aviconv_aixm.geometry_arcs import _radius_m
    from aviconv_aixm.model import CircleByCenterPointSegment

    rings: Any = getattr(surface, "segment_rings", ())
    if len(rings) != 1 or rings[0] is None or len(rings[0].segments) != 1:
        return None
    seg = rings[0].segments[0]
    if not isinstance(seg, CircleByCenterPointSegment):
        return None
    return (
        seg.center.lat,
        seg.center.lon,
        _radius_m(seg.radius, seg.radius_uom) / 1852.0,
    )


def read_aixm(path: str | os.PathLike[str], ground_ft: float = 0.0) -> AirspaceRead:
    """Airspaces of an AIXM 5.1 message (the last time slice of each).

    Raises:
        InputError: for a file that is not AIXM, with the reader's message.
    """
    from aviconv_aixm import read_aixm as _read
    from aviconv_aixm.model import Airspace

    source = str(path)
    data = Path(path).read_bytes()
    # AIXM 5.1 and 5.1.1 share the airspace model; the reader knows 5.1.1's namespace.
    data = data.replace(_AIXM_51 + b'"', _AIXM_511 + b'"').replace(
        _AIXM_51 + b"/", _AIXM_511 + b"/"
    )
    try:
        with warnings.catch_warnings(), _fast_circles():
            # aviconv-aixm 0.6 calls shapely.ops.transform, deprecated in shapely 2.1
            warnings.simplefilter("ignore", DeprecationWarning)
            features = [f for f in _read(io.BytesIO(data)) if isinstance(f, Airspace)]
        refs = _aixm_references(data)
    except Exception as exc:  # the library's errors, lxml's, pydantic's
        raise InputError([Problem(source, None, "", f"not AIXM 5.1: {exc}")]) from None
    out = AirspaceRead()
    ids = _Ids()
    for feature in features:
        ident = feature.gml_identifier.value
        if not feature.time_slices:
            continue
        props = feature.time_slices[-1].properties
        where = f"Airspace {props.designator or ident}"
        volume = props.geometry
        upper_ref, lower_ref = refs.get(ident, (None, None))
        upper, upper_unit = props.upper_limit, props.upper_limit_unit
        lower, lower_unit = props.lower_limit, props.lower_limit_unit
        if volume is not None and upper is None and lower is None:
            upper, upper_unit = volume.upper_limit, volume.upper_limit_unit
            lower, lower_unit = volume.lower_limit, volume.lower_limit_unit
        low = _aixm_limit(lower, lower_unit, lower_ref, ground_ft, True)
        high = _aixm_limit(upper, upper_unit, upper_ref, ground_ft, False)
        if not out.has_limits(source, where, low, high):
            continue
        if volume is None or not volume.geometry.rings:
            out.skip(source, where, "no geometry: left out")
            continue
        circle = _aixm_circle(volume.geometry)
        polygon: tuple[tuple[float, float], ...] | None = None
        if circle is None:
            ring = [(p.lat, p.lon) for p in volume.geometry.rings[0]]
            if len(ring) > 1 and not _far(ring[0], ring[-1]):
                ring.pop()
            if len(ring) < 3:
                out.skip(source, where, "fewer than 3 vertices")
                continue
            polygon = tuple(ring)
        cls = props.airspace_class or props.type or ""
        name = props.name or props.designator or ident
        zone_id = ids.make(props.designator, props.name, ident)
        out.zones.append(_zone(zone_id, name, cls, low, high, polygon, circle))
    return out


# --------------------------------------------------------------------------------------
# GeoJSON and the TOML


def read_geojson_airspace(path: str | os.PathLike[str]) -> AirspaceRead:
    """Zones and lines of a GeoJSON file (``adapters/geojson_io``)."""
    from deconfliction.adapters.geojson_io import read_geojson

    features = read_geojson(path)
    out = AirspaceRead(skipped=features.skipped)
    for zone in features.zones:
        out.zones.append(
            AirspaceZone(
                zone.id,
                zone.name,
                zone.floor_ft if math.isfinite(zone.floor_ft) else None,
                zone.ceiling_ft if math.isfinite(zone.ceiling_ft) else None,
                tuple(zip(zone.lat_deg, zone.lon_deg, strict=True)),
                None,
                "",
                "",
                zone.owner,
            )
        )
    for line in features.lines:
        sides = ", ".join(f'{party} = "{side}"' for party, side in line.sides.items())
        points = ", ".join(
            f"[{_num(a)}, {_num(b)}]"
            for a, b in zip(line.lat_deg, line.lon_deg, strict=True)
        )
        out.lines_toml.append(
            "[[lines]]\n"
            f"id = {_str(line.id)}\n"
            f"name = {_str(line.name)}\n"
            f"buffer_nm = {_num(line.buffer_nm)}\n"
            f"points = [{points}]\n"
            f"sides = {{ {sides} }}\n"
        )
    return out


def read_notam_zones(
    path: str | os.PathLike[str], ground_ft: float = 0.0, at_t_s: float | None = None
) -> AirspaceRead:
    """NOTAM texts (``adapters/notam``) as zones named with their validity; with
    ``at_t_s`` only those in force then (or later: upcoming) are kept."""
    from deconfliction.adapters.notam import read_notams

    source = str(path)
    text = Path(path).read_text("utf-8", errors="replace")
    zones, problems = read_notams(text, source, ground_ft)
    out = AirspaceRead(warnings=problems, skipped=len(problems))
    ids = _Ids()
    for zone in zones:
        if at_t_s is not None and zone.end_t_s is not None and zone.end_t_s <= at_t_s:
            out.skipped += 1
            continue
        until = "PERM" if zone.end_t_s is None else rfc3339(zone.end_t_s)
        validity = f"{rfc3339(zone.start_t_s)} to {until}"
        out.zones.append(
            AirspaceZone(
                ids.make(zone.identifier.replace("/", "-")),
                f"NOTAM {zone.identifier} ({validity})",
                zone.floor_ft,
                zone.ceiling_ft,
                zone.polygon,
                zone.circle,
                f"valid {validity}; {zone.text}",
                "",
                start_t_s=zone.start_t_s,
                end_t_s=zone.end_t_s,
            )
        )
    return out


def read_airspace(
    path: str | os.PathLike[str],
    fmt: str,
    ground_ft: float = 0.0,
    at_t_s: float | None = None,
) -> AirspaceRead:
    """An airspace file of a format in :data:`AIRSPACE_FORMATS`.

    Raises:
        InputError: for a file its reader refuses.
        FileNotFoundError: if the file does not exist.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(str(path))
    if fmt == "aixm":
        return read_aixm(path, ground_ft)
    if fmt == "openair":
        return read_openair(path, ground_ft)
    if fmt == "notam":
        return read_notam_zones(path, ground_ft, at_t_s)
    return read_geojson_airspace(path)


def _num(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else " " for c in escaped)
    return f'"{escaped}"'


def zones_toml(zones: Iterable[AirspaceZone], owner: str | None, source: str) -> str:
    """``[[zones]]`` tables to paste into a protocol (``owner`` for every zone)."""
    parts = [f"# zones from {source}\n"]
    for zone in zones:
        comment = ", ".join(
            t
            for t in (
                f"class {zone.airspace_class}" if zone.airspace_class else "",
                zone.limits,
            )
            if t
        )
        lines = [f"# {zone.name}" + (f": {comment}" if comment else "")]
        lines.append("[[zones]]")
        lines.append(f"id = {_str(zone.id)}")
        lines.append(f"name = {_str(zone.name)}")
        if (owner or zone.owner) is not None:
            lines.append(f"owner = {_str(owner or zone.owner or '')}")
        if zone.floor_ft is not None:
            lines.append(f"floor_ft = {_num(zone.floor_ft)}")
        if zone.ceiling_ft is not None:
            lines.append(f"ceiling_ft = {_num(zone.ceiling_ft)}")
        # A NOTAM's zone is in force only while the NOTAM is (PERM: no end).
        if zone.start_t_s is not None:
            lines.append(f"active_from = {rfc3339(zone.start_t_s)}")
        if zone.end_t_s is not None:
            lines.append(f"active_until = {rfc3339(zone.end_t_s)}")
        if zone.circle is not None:
            lat, lon, radius = zone.circle
            lines.append(
                f"circle = {{ center = [{_num(lat)}, {_num(lon)}], "
                f"radius_nm = {_num(radius)} }}"
            )
        else:
            assert zone.polygon is not None
            points = ", ".join(f"[{_num(a)}, {_num(b)}]" for a, b in zone.polygon)
            lines.append(f"polygon = [{points}]")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)
