"""ICAO NOTAMs (Annex 15) in and out, with ``aviconv-notam`` (MIT) parsing and
formatting the text.

Out: a public operation becomes a NOTAM in English for civil aviation: the Q-line
(FIR, Q-code, traffic IV, purpose BO, scope W, lower and upper flight levels, the
centre and radius of a circle holding every volume), item A (the FIR or a location),
B and C (the operation's start and end), E (what, by whom, where) and F/G (the
floor and ceiling: ``SFC`` or a flight level). The number is the operation's serial
in the series: the NOTAM office that issues it gives its own.

In: NOTAM texts (one or more, blank lines between) become zones with their time
limits: the polygon of item E when it gives three or more points, else the Q-line's
circle; floor and ceiling from items F and G (``SFC``/``GND``, ``FL050``,
``1500FT AMSL``, ``1500FT AGL`` over a ground elevation, ``UNL``), else the Q-line's
flight levels (000: no floor, 999: no ceiling).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deconfliction.errors import Problem

FT_PER_FL: float = 100.0
_LIMIT_RE = re.compile(
    r"^\s*(?:(?P<fl>FL\s*(?P<flv>\d{1,3}))|(?P<ft>\d+)\s*(?P<unit>FT|M)\s*"
    r"(?P<ref>AMSL|MSL|AGL|SFC)?|(?P<word>SFC|GND|UNL|UNLTD|UNLIMITED))\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class NotamSettings:
    """How a protocol's public operations are published (its ``[notam]``).

    Attributes:
        fir: the FIR's ICAO designator (Q-line and item A).
        location: item A when it is not the FIR (an aerodrome, several FIRs).
        q_code: the Q-code (``QRTCA``: temporary restricted area activated).
        series: the NOTAM series letter.
    """

    fir: str
    location: str = ""
    q_code: str = "QRTCA"
    series: str = "A"


def _fl(value_ft: float, up: bool) -> int:
    if not math.isfinite(value_ft):
        return 999 if up else 0
    fl = math.ceil(value_ft / FT_PER_FL) if up else math.floor(value_ft / FT_PER_FL)
    return min(max(fl, 0), 999)


def _limit_text(value_ft: float, up: bool) -> str:
    if not math.isfinite(value_ft):
        return "UNL" if up else "SFC"
    if not up and value_ft <= 0.0:
        return "SFC"
    return f"FL{_fl(value_ft, up):03d}"


def _words(kind: str) -> str:
    return kind.replace("_", " ").upper()


def _coord(lat: float, lon: float) -> str:
    def part(value: float, width: int) -> str:
        minutes = round(abs(value) * 60)
        return f"{minutes // 60:0{width}d}{minutes % 60:02d}"

    north = "N" if lat >= 0 else "S"
    east = "E" if lon >= 0 else "W"
    return f"{part(lat, 2)}{north}{part(lon, 3)}{east}"


def operation_notam(
    facts: Mapping[str, Any],
    settings: NotamSettings,
    *,
    number: int,
    party_name: str,
    outlines: Sequence[Sequence[tuple[float, float]]] = (),
) -> str:
    """The NOTAM text of an operation.

    Args:
        facts: the operation's ``operation_kind``, ``floor_ft``, ``ceiling_ft``,
            ``start_t_s``, ``end_t_s`` and its area (``lat_deg``, ``lon_deg``,
            ``radius_nm``: a circle holding every volume).
        settings: the protocol's ``[notam]``.
        number: the serial in the series (taken modulo 10,000).
        party_name: who flies it, as item E names it.
        outlines: the volumes' polygons, for item E (none: the circle only).
    """
    from aviconv_notam.formatter import format_notam
    from aviconv_notam.model import (
        Notam,
        NotamType,
        Purpose,
        QLine,
        Scope,
        Traffic,
    )

    start = datetime.fromtimestamp(facts["start_t_s"], UTC).replace(second=0)
    end_t_s = facts["end_t_s"]
    end = datetime.fromtimestamp(math.ceil(end_t_s / 60.0) * 60.0, UTC)
    floor_ft, ceiling_ft = float(facts["floor_ft"]), float(facts["ceiling_ft"])
    lower, upper = _fl(floor_ft, False), _fl(ceiling_ft, True)
    radius = min(max(math.ceil(float(facts["radius_nm"])), 1), 999)
    where = f"WI {radius}NM RADIUS OF {_coord(facts['lat_deg'], facts['lon_deg'])}"
    if outlines:
        areas = [
            "WI AREA " + " ".join(_coord(lat, lon) for lat, lon in outline)
            for outline in outlines
        ]
        where = " AND ".join(areas)
    body = (
        f"MILITARY AIR OPERATIONS ({_words(facts['operation_kind'])}) BY "
        f"{party_name.upper()} {where}. "
        "AIRCRAFT NOT TAKING PART SHALL AVOID THE AREA."
    )
    qline = QLine(
        fir=settings.fir,
        qcode=settings.q_code,
        traffic=Traffic.IV,
        purpose=Purpose.BO,
        scope=Scope.W,
        lower_fl=lower,
        upper_fl=upper,
        centre_lat=facts["lat_deg"],
        centre_lon=facts["lon_deg"],
        radius_nm=radius,
        raw="",
    )
    notam = Notam(
        series=settings.series,
        number=number % 10000,
        year=start.year,
        type=NotamType.NEW,
        q_line=qline,
        fir=settings.location or settings.fir,
        effective_from=start,
        effective_to=end,
        body=body,
        lower_limit=_limit_text(floor_ft, False),
        upper_limit=_limit_text(ceiling_ft, True),
        source_text="",
    )
    text: str = format_notam(notam)
    return text


# --------------------------------------------------------------------------------------
# In


@dataclass(frozen=True, slots=True)
class NotamZone:
    """A NOTAM's area as a zone with time limits."""

    identifier: str
    start_t_s: float
    end_t_s: float | None  # None: permanent
    floor_ft: float | None
    ceiling_ft: float | None
    polygon: tuple[tuple[float, float], ...] | None
    circle: tuple[float, float, float] | None
    text: str  # item E, shortened


def _parse_limit(
    text: str | None, ground_ft: float, up: bool
) -> tuple[float | None, bool]:
    """(feet or None for no bound, understood)."""
    if text is None:
        return None, False
    m = _LIMIT_RE.match(text)
    if m is None:
        return None, False
    if m.group("word"):
        word = m.group("word").upper()
        if word in ("SFC", "GND"):
            return (ground_ft if up else None), True
        return None, True
    if m.group("fl"):
        return float(m.group("flv")) * FT_PER_FL, True
    value = float(m.group("ft"))
    if m.group("unit").upper() == "M":
        value /= 0.3048
    if (m.group("ref") or "").upper() in ("AGL", "SFC"):
        value += ground_ft
    return value, True


def read_notams(
    text: str, source: str = "<notams>", ground_ft: float = 0.0
) -> tuple[list[NotamZone], list[Problem]]:
    """Every NOTAM of a text (blank lines between them), as zones.

    A NOTAM that does not parse, a cancellation, or one without an area is a
    problem, named by its first line; the others are kept.
    """
    from aviconv_notam.parser import parse

    zones: list[NotamZone] = []
    problems: list[Problem] = []
    chunks = [c for c in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if c.strip()]
    offsets: list[int | None] = []
    for chunk in chunks:
        at = text.find(chunk)
        offsets.append(text.count("\n", 0, at) + 1 if at >= 0 else None)
    for chunk, line in zip(chunks, offsets, strict=True):
        head = chunk.strip().splitlines()[0][:40]
        try:
            notam = parse(chunk.strip() + "\n")
        except Exception as exc:  # the parser's errors and its model's
            problems.append(Problem(source, line, head, f"not a NOTAM: {exc}"))
            continue
        if notam.type.value == "CANCEL":
            problems.append(Problem(source, line, head, "a cancellation: no area"))
            continue
        q = notam.q_line
        polygon = None
        geometry = notam.geometry
        if geometry.polygon and len(geometry.polygon) >= 4:
            ring = list(geometry.polygon)
            if ring[0] == ring[-1]:
                ring.pop()
            polygon = tuple((float(a), float(b)) for a, b in ring)
        circle = None
        if polygon is None:
            if q.radius_nm <= 0:
                problems.append(Problem(source, line, head, "no area: radius 0"))
                continue
            circle = (q.centre_lat, q.centre_lon, float(q.radius_nm))
        floor, ok_floor = _parse_limit(notam.lower_limit, ground_ft, False)
        if not ok_floor:
            floor = None if q.lower_fl == 0 else q.lower_fl * FT_PER_FL
        ceiling, ok_ceiling = _parse_limit(notam.upper_limit, ground_ft, True)
        if not ok_ceiling:
            ceiling = None if q.upper_fl >= 999 else q.upper_fl * FT_PER_FL
        if floor is not None and ceiling is not None and ceiling <= floor:
            problems.append(
                Problem(source, line, head, f"floor {floor:g} ft not below {ceiling:g}")
            )
            continue
        end = notam.effective_to
        zones.append(
            NotamZone(
                notam.identifier,
                notam.effective_from.timestamp(),
                None if isinstance(end, str) else end.timestamp(),
                floor,
                ceiling,
                polygon,
                circle,
                " ".join(notam.body.split())[:120],
            )
        )
    return zones, problems
