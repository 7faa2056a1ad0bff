"""KML 2.2 out: tracks, zones, lines, conflicts and violations for Google Earth and
QGIS.

One ``Document`` with a folder per kind. Tracks are a ``LineString`` per aircraft
(``altitudeMode`` absolute, altitude in metres from the pressure altitude: an
approximation good enough to see who is above whom) with a ``TimeSpan``, and
optionally a ``Point`` per position with a ``TimeStamp`` (Google Earth's time
slider). Zones are polygons and lines are lines on the ground. Conflicts are the two
aircraft positions joined by a line; violations a point at the deepest position.
Every placemark carries its facts as ``ExtendedData``, which QGIS shows as
attributes. Only plain KML 2.2 elements are used (no ``gx:`` extensions), so GDAL's
KML driver (QGIS) reads it as well as Google Earth does.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.adapters.result_files import (
    conflict_record,
    depth_text,
    violation_record,
)
from deconfliction.adapters.track_stream import TrackBatch
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.protocol import DeconflictionLine, Zone
from deconfliction.timetext import rfc3339
from deconfliction.units import M_PER_FT

KML_NS: str = "http://www.opengis.net/kml/2.2"
# Colours are KML's aabbggrr. Parties take these in name order.
PARTY_COLOURS: tuple[str, ...] = (
    "ffd08020",  # blue
    "ff2020d0",  # red
    "ff20a020",  # green
    "ff20a0e0",  # orange
    "ffa020a0",  # purple
    "ffa0a020",  # teal
)
_LEVEL_COLOURS: dict[str, str] = {
    "conflict": "ff00ffff",  # yellow
    "advisory": "ff0080ff",  # orange
    "warning": "ff0000ff",  # red
}


def _sub(
    parent: ET.Element, tag: str, text: str | None = None, **attrs: str
) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def _style(
    doc: ET.Element,
    ident: str,
    line_colour: str,
    width: float,
    poly_colour: str | None = None,
    icon_colour: str | None = None,
) -> None:
    style = _sub(doc, "Style", id=ident)
    if icon_colour is not None:
        icon = _sub(style, "IconStyle")
        _sub(icon, "color", icon_colour)
        _sub(icon, "scale", "0.8")
    line = _sub(style, "LineStyle")
    _sub(line, "color", line_colour)
    _sub(line, "width", f"{width:g}")
    poly = _sub(style, "PolyStyle")
    _sub(poly, "color", poly_colour or "00ffffff")
    _sub(poly, "fill", "1" if poly_colour else "0")


def _extended(placemark: ET.Element, facts: Mapping[str, Any]) -> None:
    data = _sub(placemark, "ExtendedData")
    for key, value in facts.items():
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        item = _sub(data, "Data", name=key)
        _sub(
            item, "value", str(value).lower() if isinstance(value, bool) else str(value)
        )


def _coords(
    lats: Iterable[float], lons: Iterable[float], alts_m: Iterable[float] | None = None
) -> str:
    if alts_m is None:
        return " ".join(
            f"{lon:.6f},{lat:.6f}" for lat, lon in zip(lats, lons, strict=True)
        )
    return " ".join(
        f"{lon:.6f},{lat:.6f},{alt:.1f}"
        for lat, lon, alt in zip(lats, lons, alts_m, strict=True)
    )


def _placemark(
    folder: ET.Element,
    name: str,
    style: str,
    description: str | None = None,
    *,
    begin: str | None = None,
    end: str | None = None,
    when: str | None = None,
) -> ET.Element:
    # KML 2.2 order: name, description, time primitive, styleUrl, ExtendedData,
    # geometry.
    placemark = _sub(folder, "Placemark")
    _sub(placemark, "name", name)
    if description:
        _sub(placemark, "description", description)
    if when is not None:
        _sub(_sub(placemark, "TimeStamp"), "when", when)
    elif begin is not None and end is not None:
        span = _sub(placemark, "TimeSpan")
        _sub(span, "begin", begin)
        _sub(span, "end", end)
    _sub(placemark, "styleUrl", f"#{style}")
    return placemark


def _track_folder(
    doc: ET.Element, tracks: TrackBatch, party_style: Mapping[str, str], points: bool
) -> None:
    from deconfliction.timetext import rfc3339_array

    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Tracks")
    if not len(tracks):
        return
    ordered = tracks.take(np.lexsort((tracks.t_s, tracks.ids)))
    times = rfc3339_array(ordered.t_s)
    ids = ordered.ids
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        ident = str(ids[a])
        party = str(ordered.party[a])
        style = party_style.get(party, "party-none")
        lats = ordered.lat_deg[a:b].tolist()
        lons = ordered.lon_deg[a:b].tolist()
        alts = ordered.alt_ft[a:b]
        known_alt = bool(np.isfinite(alts).all())
        aircraft = _sub(folder, "Folder")
        callsign = str(ordered.callsign[b - 1])
        _sub(aircraft, "name", f"{ident} {callsign}".strip())
        line = _placemark(
            aircraft, f"{ident} track", style, begin=times[a], end=times[b - 1]
        )
        _extended(
            line,
            {
                "id": ident,
                "party": party or None,
                "callsign": callsign or None,
                "positions": b - a,
            },
        )
        geometry = _sub(line, "LineString" if b - a >= 2 else "Point")
        _sub(geometry, "altitudeMode", "absolute" if known_alt else "clampToGround")
        _sub(
            geometry,
            "coordinates",
            _coords(lats, lons, (alts * M_PER_FT).tolist() if known_alt else None),
        )
        if not points:
            continue
        for k in range(a, b):
            point = _placemark(aircraft, times[k], style, when=times[k])
            _extended(
                point,
                {
                    "id": ident,
                    "time": times[k],
                    "alt_ft": float(ordered.alt_ft[k]),
                    "gs_kt": float(ordered.gs_kt[k]),
                    "trk_deg": float(ordered.trk_deg[k]),
                    "vs_fpm": float(ordered.vs_fpm[k]),
                },
            )
            geometry = _sub(point, "Point")
            alt_ok = math.isfinite(float(ordered.alt_ft[k]))
            _sub(geometry, "altitudeMode", "absolute" if alt_ok else "clampToGround")
            _sub(
                geometry,
                "coordinates",
                _coords(
                    [float(ordered.lat_deg[k])],
                    [float(ordered.lon_deg[k])],
                    [float(ordered.alt_ft[k]) * M_PER_FT] if alt_ok else None,
                ),
            )


def kml_document(
    *,
    tracks: TrackBatch | None = None,
    zones: Sequence[Zone] = (),
    lines: Sequence[DeconflictionLine] = (),
    alerts: Sequence[Alert] = (),
    violations: Sequence[Violation] = (),
    name: str = "Deconfliction",
    points: bool = True,
) -> ET.Element:
    """A KML document of everything given (see the module docstring).

    Args:
        tracks: positions, drawn per aircraft.
        zones: zones of responsibility.
        lines: deconfliction lines.
        alerts: conflict alerts.
        violations: line and zone violations.
        name: the document's name.
        points: also a placemark per track position (large files: leave out).
    """
    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = _sub(root, "Document")
    _sub(doc, "name", name)
    parties = sorted(
        {str(p) for p in (tracks.party.tolist() if tracks is not None else []) if p}
        | {z.owner for z in zones}
    )
    party_style = _styles(doc, parties)
    if zones:
        _zone_folder(doc, zones, party_style)
    if lines:
        _line_folder(doc, lines)
    if tracks is not None:
        _track_folder(doc, tracks, party_style, points)
    if alerts:
        _alert_folder(doc, alerts)
    if violations:
        _violation_folder(doc, violations)
    return root


def _styles(doc: ET.Element, parties: list[str]) -> dict[str, str]:
    """The document's styles; the style of each party."""
    party_style = {p: f"party-{k}" for k, p in enumerate(parties)}
    for k in range(len(parties)):
        colour = PARTY_COLOURS[k % len(PARTY_COLOURS)]
        _style(
            doc,
            f"party-{k}",
            colour,
            2.0,
            poly_colour="40" + colour[2:],
            icon_colour=colour,
        )
    _style(doc, "party-none", "ff808080", 2.0, icon_colour="ff808080")
    _style(doc, "line", "ff00a5ff", 3.0)
    for level, colour in _LEVEL_COLOURS.items():
        _style(doc, f"alert-{level}", colour, 3.0, icon_colour=colour)
    _style(doc, "violation", "ff0000ff", 2.0, icon_colour="ff0000ff")
    return party_style


def _zone_folder(
    doc: ET.Element, zones: Sequence[Zone], party_style: Mapping[str, str]
) -> None:
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Zones")
    for zone in zones:
        placemark = _placemark(
            folder,
            zone.name,
            party_style.get(zone.owner, "party-none"),
            f"zone of {zone.owner}",
        )
        _extended(
            placemark,
            {
                "kind": "zone",
                "id": zone.id,
                "owner": zone.owner,
                "floor_ft": zone.floor_ft,
                "ceiling_ft": zone.ceiling_ft,
            },
        )
        polygon = _sub(placemark, "Polygon")
        _sub(polygon, "tessellate", "1")
        _sub(polygon, "altitudeMode", "clampToGround")
        ring = _sub(_sub(polygon, "outerBoundaryIs"), "LinearRing")
        lats = [*zone.lat_deg, zone.lat_deg[0]]
        lons = [*zone.lon_deg, zone.lon_deg[0]]
        _sub(ring, "coordinates", _coords(lats, lons))


def _line_folder(doc: ET.Element, lines: Sequence[DeconflictionLine]) -> None:
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Lines")
    for line in lines:
        placemark = _placemark(
            folder, line.name, "line", f"buffer {line.buffer_nm:g} NM"
        )
        _extended(
            placemark,
            {
                "kind": "line",
                "id": line.id,
                "buffer_nm": line.buffer_nm,
                "sides": ";".join(
                    f"{p}={s.value}" for p, s in sorted(line.sides.items())
                ),
            },
        )
        geometry = _sub(placemark, "LineString")
        _sub(geometry, "tessellate", "1")
        _sub(geometry, "altitudeMode", "clampToGround")
        _sub(geometry, "coordinates", _coords(line.lat_deg, line.lon_deg))


def _alert_folder(doc: ET.Element, alerts: Sequence[Alert]) -> None:
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Conflicts")
    for alert in alerts:
        record = conflict_record(alert)
        placemark = _placemark(
            folder,
            f"{alert.max_level.label} {alert.a_id}/{alert.b_id}",
            f"alert-{alert.max_level.label}",
            f"closest predicted miss {alert.min_dcpa_nm:.2f} NM",
            begin=rfc3339(alert.first_seen_t_s),
            end=rfc3339(alert.last_seen_t_s),
        )
        _extended(placemark, {"kind": "conflict", **record})
        multi = _sub(placemark, "MultiGeometry")
        lats = [alert.a_lat_deg, alert.b_lat_deg]
        lons = [alert.a_lon_deg, alert.b_lon_deg]
        for lat, lon in zip(lats, lons, strict=True):
            _sub(_sub(multi, "Point"), "coordinates", _coords([lat], [lon]))
        geometry = _sub(multi, "LineString")
        _sub(geometry, "tessellate", "1")
        _sub(geometry, "coordinates", _coords(lats, lons))


def _violation_folder(doc: ET.Element, violations: Sequence[Violation]) -> None:
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Violations")
    for v in violations:
        placemark = _placemark(
            folder,
            f"{v.aircraft_id} in {v.boundary_id}",
            "violation",
            f"{v.kind.value} violation, {depth_text(v)}",
            begin=rfc3339(v.entry_t_s),
            end=rfc3339(v.exit_t_s),
        )
        _extended(placemark, {"kind": "violation", **violation_record(v)})
        geometry = _sub(placemark, "Point")
        _sub(
            geometry,
            "coordinates",
            _coords([v.deepest_lat_deg], [v.deepest_lon_deg]),
        )


def write_kml(path: str | os.PathLike[str], root: ET.Element) -> None:
    """Write a KML document (UTF-8, with its XML declaration).

    Raises:
        OSError: if the file cannot be written.
    """
    ET.indent(root, space=" ")
    tree = ET.ElementTree(root)
    with Path(path).open("wb") as f:
        tree.write(f, encoding="utf-8", xml_declaration=True)
