"""Write results to files: conflicts, violations and tracks as CSV and GeoJSON.

Formats:

* CSV: a header row, then one row per record; times are RFC 3339 UTC strings
  (``2017-12-13T10:15:05Z``), every number carries its unit in its column name.
* GeoJSON (RFC 7946): one ``FeatureCollection``; positions are ``[lon, lat]`` in
  WGS 84 degrees, rounded to 6 decimals (about 0.1 m); no third coordinate, since
  RFC 7946 reserves it for height above the ellipsoid in metres and the altitudes here
  are pressure altitudes in feet: those go in the properties. Property names carry
  their unit as in the CSV.
* ``summary.json``: the mapping it is given, as indented UTF-8 JSON.

All writers replace the file if it exists.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.model import AircraftStates, FloatArray
from deconfliction.domain.positions import HEADERS
from deconfliction.timetext import rfc3339, rfc3339_array

COORD_DECIMALS: int = 6  # 1e-6 deg is 0.11 m: finer than any reported position

CONFLICT_FIELDS: tuple[str, ...] = (
    "id",
    "a",
    "b",
    "party_a",
    "party_b",
    "first_seen",
    "last_seen",
    "duration_s",
    "max_level",
    "level",
    "min_dcpa_nm",
    "dcpa_nm",
    "tcpa_s",
    "dalt_ft_at_cpa",
    "detections",
    "a_lat_deg",
    "a_lon_deg",
    "a_alt_ft",
    "b_lat_deg",
    "b_lon_deg",
    "b_alt_ft",
)

VIOLATION_FIELDS: tuple[str, ...] = (
    "kind",
    "aircraft_id",
    "party",
    "boundary_id",
    "entry_time",
    "exit_time",
    "duration_s",
    "deepest_time",
    "deepest_lat_deg",
    "deepest_lon_deg",
    "deepest_alt_ft",
    "depth_across_line_nm",
    "depth_from_buffer_edge_nm",
    "depth_inside_zone_nm",
    "samples",
    "is_open",
)

# Same names as the states file read by ``deconfliction detect`` (adapters/states_csv),
# plus the time: one step of tracks.csv is a valid input of that command.
TRACK_FIELDS: tuple[str, ...] = HEADERS


def _round(value: float | None, decimals: int) -> float | None:
    # JSON has no NaN or infinity: those become null, as a figure that does not
    # apply does (a zone has no depth across a line)
    return (
        round(value, decimals) if value is not None and math.isfinite(value) else None
    )


def _position(lat_deg: float, lon_deg: float) -> list[float | None]:
    return [_round(lon_deg, COORD_DECIMALS), _round(lat_deg, COORD_DECIMALS)]


def conflict_record(alert: Alert) -> dict[str, Any]:
    """One alert episode as a flat record (CSV row and GeoJSON properties)."""
    return {
        "id": alert.id,
        "a": alert.a_id,
        "b": alert.b_id,
        "party_a": alert.party_a,
        "party_b": alert.party_b,
        "first_seen": rfc3339(alert.first_seen_t_s),
        "last_seen": rfc3339(alert.last_seen_t_s),
        "duration_s": _round(alert.duration_s, 3),
        "max_level": alert.max_level.label,
        "level": alert.level.label,
        "min_dcpa_nm": _round(alert.min_dcpa_nm, 4),
        "dcpa_nm": _round(alert.dcpa_nm, 4),
        "tcpa_s": _round(alert.tcpa_s, 1),
        "dalt_ft_at_cpa": _round(alert.dalt_ft_at_cpa, 1),
        "detections": alert.detections,
        "a_lat_deg": _round(alert.a_lat_deg, COORD_DECIMALS),
        "a_lon_deg": _round(alert.a_lon_deg, COORD_DECIMALS),
        "a_alt_ft": _round(alert.a_alt_ft, 1),
        "b_lat_deg": _round(alert.b_lat_deg, COORD_DECIMALS),
        "b_lon_deg": _round(alert.b_lon_deg, COORD_DECIMALS),
        "b_alt_ft": _round(alert.b_alt_ft, 1),
    }


def depth_text(v: Violation) -> str:
    """How deep a violation went, in words (English, for interop labels).

    >>> from deconfliction.domain.conformance import ViolationKind
    >>> v = Violation(ViolationKind.LINE, "R1", "russia", "euphrates", 0.0, 60.0,
    ...     60.0, 30.0, 35.0, 39.0, 2e4, 38.4, 3, False, depth_across_line_nm=28.4)
    >>> depth_text(v)
    '28.4 NM across the line (38.4 NM from the edge of the buffer)'
    """
    if v.depth_across_line_nm is None:
        return f"{v.max_depth_nm:.1f} NM inside"
    if v.depth_across_line_nm > 0.0:
        return (
            f"{v.depth_across_line_nm:.1f} NM across the line "
            f"({v.max_depth_nm:.1f} NM from the edge of the buffer)"
        )
    return f"{v.max_depth_nm:.1f} NM inside the buffer, on its own side"


def violation_record(v: Violation) -> dict[str, Any]:
    """One violation as a flat record (CSV row and GeoJSON properties)."""
    return {
        "kind": v.kind.value,
        "aircraft_id": v.aircraft_id,
        "party": v.party,
        "boundary_id": v.boundary_id,
        "entry_time": rfc3339(v.entry_t_s),
        "exit_time": rfc3339(v.exit_t_s),
        "duration_s": _round(v.duration_s, 3),
        "deepest_time": rfc3339(v.deepest_t_s),
        "deepest_lat_deg": _round(v.deepest_lat_deg, COORD_DECIMALS),
        "deepest_lon_deg": _round(v.deepest_lon_deg, COORD_DECIMALS),
        "deepest_alt_ft": _round(v.deepest_alt_ft, 1),
        "depth_across_line_nm": _round(v.depth_across_line_nm, 4),
        "depth_from_buffer_edge_nm": _round(v.depth_from_buffer_edge_nm, 4),
        "depth_inside_zone_nm": _round(v.depth_inside_zone_nm, 4),
        "samples": v.samples,
        "is_open": v.is_open,
    }


def _write_csv(
    path: str | os.PathLike[str],
    fields: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else row[k] for k in fields})


def _write_json(path: str | os.PathLike[str], document: Mapping[str, Any]) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def write_conflicts_csv(path: str | os.PathLike[str], alerts: Sequence[Alert]) -> None:
    """One row per alert episode (see :data:`CONFLICT_FIELDS`).

    Raises:
        OSError: if the file cannot be written.
    """
    _write_csv(path, CONFLICT_FIELDS, (conflict_record(a) for a in alerts))


def conflicts_feature_collection(alerts: Sequence[Alert]) -> dict[str, Any]:
    """Alert episodes as GeoJSON: a ``MultiPoint`` of both aircraft (a, then b).

    The positions are those of the latest detection of the episode, with every
    field of :func:`conflict_record` in the properties.
    """
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": a.id,
                "geometry": {
                    "type": "MultiPoint",
                    "coordinates": [
                        _position(a.a_lat_deg, a.a_lon_deg),
                        _position(a.b_lat_deg, a.b_lon_deg),
                    ],
                },
                "properties": conflict_record(a),
            }
            for a in alerts
        ],
    }


def write_conflicts_geojson(
    path: str | os.PathLike[str], alerts: Sequence[Alert]
) -> None:
    """Write :func:`conflicts_feature_collection`.

    Raises:
        OSError: if the file cannot be written.
    """
    _write_json(path, conflicts_feature_collection(alerts))


def write_violations_csv(
    path: str | os.PathLike[str], violations: Sequence[Violation]
) -> None:
    """One row per violation (see :data:`VIOLATION_FIELDS`).

    Raises:
        OSError: if the file cannot be written.
    """
    _write_csv(path, VIOLATION_FIELDS, (violation_record(v) for v in violations))


def violations_feature_collection(violations: Sequence[Violation]) -> dict[str, Any]:
    """Violations as GeoJSON: a ``Point`` at the deepest sample of each."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": _position(v.deepest_lat_deg, v.deepest_lon_deg),
                },
                "properties": violation_record(v),
            }
            for v in violations
        ],
    }


def write_violations_geojson(
    path: str | os.PathLike[str], violations: Sequence[Violation]
) -> None:
    """Write :func:`violations_feature_collection`.

    Raises:
        OSError: if the file cannot be written.
    """
    _write_json(path, violations_feature_collection(violations))


def write_tracks_csv(
    path: str | os.PathLike[str], t_s: FloatArray, states: AircraftStates
) -> None:
    """Every sample: one row per aircraft and time, in the given order.

    Args:
        path: the file.
        t_s: the time of each row of ``states``.
        states: the samples (ids repeat, one row per sample).

    Raises:
        ValueError: if ``t_s`` and ``states`` differ in length.
        OSError: if the file cannot be written.
    """
    if len(t_s) != len(states):
        raise ValueError(f"{len(t_s)} times for {len(states)} states")
    # Formatting column by column keeps this fast for a day of traffic (~10^5 rows).
    columns = (
        states.ids.tolist(),
        states.party.tolist(),
        rfc3339_array(t_s),
        _fmt(states.lat_deg, COORD_DECIMALS),
        _fmt(states.lon_deg, COORD_DECIMALS),
        _fmt(states.alt_ft, 1),
        _fmt(states.gs_kt, 1),
        _fmt(states.trk_deg, 2),
        _fmt(states.vs_fpm, 1),
    )
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(TRACK_FIELDS)
        writer.writerows(zip(*columns, strict=True))


def _fmt(values: FloatArray, decimals: int) -> list[str]:
    return [f"{v:.{decimals}f}" for v in np.asarray(values, dtype=np.float64).tolist()]


def write_summary_json(
    path: str | os.PathLike[str], document: Mapping[str, Any]
) -> None:
    """Write a summary document as indented JSON.

    Raises:
        ValueError: if the document holds NaN or infinity (not JSON).
        OSError: if the file cannot be written.
    """
    _write_json(path, document)
