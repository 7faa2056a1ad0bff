"""Writing: tracks, alerts, violations, zones and lines as CoT events."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deconfliction.adapters.cot.events import (
    _AIR_POI_TYPE,
    _SHAPE_TYPE,
    DETAIL_TAG,
    UNKNOWN_M,
)
from deconfliction.adapters.track_stream import (
    COT_AFFILIATIONS,
    PartyRules,
    TrackRecord,
)
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.protocol import DeconflictionLine, Zone
from deconfliction.timetext import rfc3339_ms
from deconfliction.units import M_PER_FT, MPS_PER_KT

# --------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True, slots=True)
class CotOptions:
    """How events are written.

    Attributes:
        own_party: the party whose picture this is: its aircraft are friends.
        other_affiliation: the affiliation letter of every other party's aircraft
            (and of aircraft of no known party): ``u`` unknown by default, ``n``
            neutral; ``h`` (hostile) only when configured so on purpose.
        uid_prefix: first part of every uid written.
        track_stale_s: how long a track event stays valid.
        marker_stale_s: how long an active alert or violation event stays valid
            (it is re-sent while active).
        shape_stale_s: how long a zone or line event stays valid.
    """

    own_party: str | None = None
    other_affiliation: str = "u"
    uid_prefix: str = "DCF"
    track_stale_s: float = 60.0
    marker_stale_s: float = 120.0
    shape_stale_s: float = 86400.0

    def __post_init__(self) -> None:
        if self.other_affiliation not in COT_AFFILIATIONS:
            raise ValueError(
                "other_affiliation must be one of "
                f"{''.join(sorted(COT_AFFILIATIONS))}, got {self.other_affiliation!r}"
            )

    @classmethod
    def from_rules(cls, rules: PartyRules, own_party: str | None) -> CotOptions:
        """Options with the affiliation the party rules file sets."""
        return cls(own_party=own_party, other_affiliation=rules.cot_other_affiliation)


def _num(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return f"{UNKNOWN_M:.1f}"
    return f"{value:.{decimals}f}"


def _event(
    uid: str,
    cot_type: str,
    t_s: float,
    stale_t_s: float,
    lat_deg: float,
    lon_deg: float,
    hae_m: float = math.nan,
    how: str = "m-g",
) -> tuple[ET.Element, ET.Element]:
    stamp = rfc3339_ms(t_s)
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": uid,
            "type": cot_type,
            "how": how,
            "time": stamp,
            "start": stamp,
            "stale": rfc3339_ms(stale_t_s),
        },
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": _num(lat_deg, 7),
            "lon": _num(lon_deg, 7),
            "hae": _num(hae_m, 1),
            "ce": _num(math.nan, 1),
            "le": _num(math.nan, 1),
        },
    )
    detail = ET.SubElement(event, "detail")
    return event, detail


def _facts(detail: ET.Element, facts: Mapping[str, Any]) -> None:
    ET.SubElement(
        detail,
        DETAIL_TAG,
        {k: _fact(v) for k, v in facts.items() if v is not None},
    )


def _fact(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6)) if math.isfinite(value) else ""
    return str(value)


def to_bytes(event: ET.Element) -> bytes:
    """One event as a document (with its XML declaration), ready to send."""
    body: bytes = ET.tostring(event, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def affiliation_of(party: str | None, options: CotOptions) -> str:
    """``f`` for the own party's aircraft, the configured letter for the others'.

    >>> affiliation_of("russia", CotOptions(own_party="coalition"))
    'u'
    >>> affiliation_of("coalition", CotOptions(own_party="coalition"))
    'f'
    """
    if options.own_party is not None and party == options.own_party:
        return "f"
    return options.other_affiliation


def track_event(record: TrackRecord, options: CotOptions) -> ET.Element:
    """An aircraft position as an ``a-?-A`` atom."""
    party = record.party
    uid = f"{options.uid_prefix}-{party or 'unknown'}-{record.id}"
    hae_m = record.alt_ft * M_PER_FT
    event, detail = _event(
        uid,
        f"a-{affiliation_of(party, options)}-A",
        record.t_s,
        record.t_s + options.track_stale_s,
        record.lat_deg,
        record.lon_deg,
        hae_m,
    )
    ET.SubElement(detail, "contact", {"callsign": record.callsign or record.id})
    if not (math.isnan(record.trk_deg) or math.isnan(record.gs_kt)):
        ET.SubElement(
            detail,
            "track",
            {
                "course": f"{record.trk_deg:.1f}",
                "speed": f"{record.gs_kt * MPS_PER_KT:.2f}",
            },
        )
    _facts(
        detail,
        {
            "kind": "track",
            "id": record.id,
            "party": party,
            "icao24": record.icao24,
            "vs_fpm": record.vs_fpm if not math.isnan(record.vs_fpm) else None,
        },
    )
    return event


def _midpoint(
    lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float
) -> tuple[float, float]:
    dlon = lon2_deg - lon1_deg
    if dlon > 180.0:
        dlon -= 360.0
    elif dlon < -180.0:
        dlon += 360.0
    lon = lon1_deg + dlon / 2.0
    if lon > 180.0:
        lon -= 360.0
    elif lon < -180.0:
        lon += 360.0
    return (lat1_deg + lat2_deg) / 2.0, lon


def alert_event(
    alert: Alert, t_s: float, options: CotOptions, *, cleared: bool = False
) -> ET.Element:
    """A conflict alert as a point of interest between the two aircraft.

    Args:
        alert: the alert as it stands.
        t_s: the time of this update.
        options: writing options.
        cleared: the alert has cleared: the event is marked stale at once.
    """
    from deconfliction.adapters.result_files import conflict_record

    lat, lon = _midpoint(
        alert.a_lat_deg, alert.a_lon_deg, alert.b_lat_deg, alert.b_lon_deg
    )
    level = alert.level.label
    event, detail = _event(
        f"{options.uid_prefix}-alert-{alert.id}",
        _AIR_POI_TYPE,
        t_s,
        t_s if cleared else t_s + options.marker_stale_s,
        lat,
        lon,
        max(alert.a_alt_ft, alert.b_alt_ft) * M_PER_FT,
    )
    state = "cleared" if cleared else level
    ET.SubElement(
        detail, "contact", {"callsign": f"{state.upper()} {alert.a_id}/{alert.b_id}"}
    )
    ET.SubElement(detail, "remarks").text = (
        f"{level} conflict {alert.a_id} ({alert.party_a}) / {alert.b_id} "
        f"({alert.party_b}): miss {alert.dcpa_nm:.2f} NM and "
        f"{alert.dalt_ft_at_cpa:.0f} ft in {alert.tcpa_s:.0f} s"
        + (" - cleared" if cleared else "")
    )
    ET.SubElement(detail, "color", {"argb": _LEVEL_ARGB.get(level, "-256")})
    facts: dict[str, Any] = {"kind": "alert", "cleared": cleared}
    facts.update(conflict_record(alert))
    _facts(detail, facts)
    return event


_LEVEL_ARGB: dict[str, str] = {
    "conflict": "-256",  # yellow
    "advisory": "-23296",  # amber
    "warning": "-65536",  # red
}


def violation_event(
    violation: Violation, t_s: float, options: CotOptions
) -> ET.Element:
    """A line or zone violation as a point of interest at its deepest point; a
    closed violation is marked stale at once."""
    from deconfliction.adapters.result_files import depth_text, violation_record

    v = violation
    closed = not v.is_open
    event, detail = _event(
        f"{options.uid_prefix}-violation-{v.aircraft_id}-{v.boundary_id}-"
        f"{int(v.entry_t_s)}",
        _AIR_POI_TYPE,
        t_s,
        t_s if closed else t_s + options.marker_stale_s,
        v.deepest_lat_deg,
        v.deepest_lon_deg,
        v.deepest_alt_ft * M_PER_FT,
    )
    ET.SubElement(
        detail,
        "contact",
        {"callsign": f"{'CLOSED' if closed else 'VIOLATION'} {v.aircraft_id}"},
    )
    ET.SubElement(detail, "remarks").text = (
        f"{v.kind.value} violation of {v.boundary_id} by {v.aircraft_id} ({v.party}): "
        f"{depth_text(v)}, {v.duration_s:.0f} s" + (" - closed" if closed else "")
    )
    ET.SubElement(detail, "color", {"argb": "-65536"})
    facts: dict[str, Any] = {"kind": "violation", "closed": closed}
    facts.update(violation_record(v))
    _facts(detail, facts)
    return event


def _shape(
    uid: str,
    lat_deg: tuple[float, ...],
    lon_deg: tuple[float, ...],
    t_s: float,
    options: CotOptions,
    name: str,
    closed: bool,
    facts: Mapping[str, Any],
) -> ET.Element:
    center_lat = sum(lat_deg) / len(lat_deg)
    center_lon = sum(lon_deg) / len(lon_deg)
    event, detail = _event(
        uid,
        _SHAPE_TYPE,
        t_s,
        t_s + options.shape_stale_s,
        center_lat,
        center_lon,
        how="h-e",
    )
    ET.SubElement(detail, "contact", {"callsign": name})
    points = list(zip(lat_deg, lon_deg, strict=True))
    if closed and points and points[0] != points[-1]:
        points.append(points[0])
    for lat, lon in points:
        ET.SubElement(detail, "link", {"point": f"{lat:.7f},{lon:.7f}"})
    ET.SubElement(detail, "strokeColor", {"value": "-16776961"})  # blue
    ET.SubElement(detail, "strokeWeight", {"value": "3.0"})
    if closed:
        ET.SubElement(detail, "fillColor", {"value": "1140850943"})  # translucent blue
    ET.SubElement(detail, "labels_on", {"value": "true"})
    _facts(detail, facts)
    return event


def zone_event(zone: Zone, t_s: float, options: CotOptions) -> ET.Element:
    """A zone as a closed drawn shape."""
    return _shape(
        f"{options.uid_prefix}-zone-{zone.id}",
        zone.lat_deg,
        zone.lon_deg,
        t_s,
        options,
        zone.name,
        True,
        {
            "kind": "zone",
            "id": zone.id,
            "owner": zone.owner,
            "floor_ft": zone.floor_ft if math.isfinite(zone.floor_ft) else None,
            "ceiling_ft": zone.ceiling_ft if math.isfinite(zone.ceiling_ft) else None,
        },
    )


def line_event(line: DeconflictionLine, t_s: float, options: CotOptions) -> ET.Element:
    """A deconfliction line as an open drawn shape."""
    return _shape(
        f"{options.uid_prefix}-line-{line.id}",
        line.lat_deg,
        line.lon_deg,
        t_s,
        options,
        line.name,
        False,
        {
            "kind": "line",
            "id": line.id,
            "buffer_nm": line.buffer_nm,
            "sides": ";".join(f"{p}={s.value}" for p, s in sorted(line.sides.items())),
        },
    )


def marker_event(
    uid: str,
    t_s: float,
    stale_t_s: float,
    lat_deg: float,
    lon_deg: float,
    alt_ft: float,
    callsign: str,
    remarks: str,
    argb: str,
    facts: Mapping[str, Any],
) -> ET.Element:
    """A point of interest (an alert or a violation as the server's stream shows it);
    a ``stale_t_s`` equal to ``t_s`` withdraws it at once.

    >>> e = marker_event("DCF-x", 0.0, 60.0, 35.0, 39.0, 25000.0, "WARNING", "r",
    ...                  "-65536", {"kind": "alert"})
    >>> e.get("type"), e.find("point").get("lat")
    ('b-m-p-s-p-i', '35.0000000')
    """
    event, detail = _event(
        uid, _AIR_POI_TYPE, t_s, stale_t_s, lat_deg, lon_deg, alt_ft * M_PER_FT
    )
    ET.SubElement(detail, "contact", {"callsign": callsign})
    ET.SubElement(detail, "remarks").text = remarks
    ET.SubElement(detail, "color", {"argb": argb})
    _facts(detail, facts)
    return event
