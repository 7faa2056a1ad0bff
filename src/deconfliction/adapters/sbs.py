"""SBS-1 / BaseStation CSV, as dump1090 and readsb serve it on TCP port 30003.

Each line is a message: ``MSG`` with a transmission type 1 to 8, or one of ``SEL``,
``ID``, ``AIR``, ``STA``, ``CLK`` (counted as ignored: they carry no track data).
Fields of ``MSG`` (1-based, as the format is usually described): 2 transmission
type, 5 hex ident (ICAO address; ``~`` marks a non-ICAO address), 7-8 date and time
generated (``YYYY/MM/DD``, ``HH:MM:SS.sss``), 9-10 date and time logged, 11 callsign,
12 altitude (ft), 13 ground speed (kt), 14 track (deg), 15-16 latitude and longitude,
17 vertical rate (ft/min), 18 squawk, 22 on the ground. An empty field means "not in
this message".

Positions (type 3 airborne, type 2 surface) and velocities (type 4) arrive in
separate messages, so the decoder keeps per aircraft the last callsign, squawk,
altitude and velocity, and gives each position the velocity heard within
:data:`VELOCITY_MAX_AGE_S` (NaN before the first one). The times carry no zone: the
zone is a per-feed setting (dump1090 writes the receiver's local time, readsb can be
set to UTC). Times are those generated, or those logged when the generated ones are
empty.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deconfliction.adapters.track_stream import (
    ALT_RANGE_FT,
    GS_RANGE_KT,
    LAT_RANGE_DEG,
    LON_RANGE_DEG,
    TRK_RANGE_DEG,
    VS_RANGE_FPM,
    LineDecoder,
    PartyRules,
    TrackRecord,
)
from deconfliction.errors import InputError, Problem

SOURCE_NAME: str = "sbs"
MSG_FIELDS: int = 22  # as dump1090, readsb and BaseStation write them
VELOCITY_MAX_AGE_S: float = 30.0  # older than this a velocity no longer describes
ALTITUDE_MAX_AGE_S: float = 30.0  # the aircraft; the record then says "unknown"
_HEX6 = re.compile(r"[0-9A-F]{6}")
OTHER_TYPES: frozenset[str] = frozenset({"SEL", "ID", "AIR", "STA", "CLK"})

_NUMBERS: tuple[tuple[int, str, tuple[float, float]], ...] = (
    (11, "altitude", ALT_RANGE_FT),
    (12, "ground_speed", GS_RANGE_KT),
    (13, "track", TRK_RANGE_DEG),
    (14, "latitude", LAT_RANGE_DEG),
    (15, "longitude", LON_RANGE_DEG),
    (16, "vertical_rate", VS_RANGE_FPM),
)


def resolve_timezone(name: str) -> tzinfo:
    """A zone: ``UTC``, ``local`` (this machine's) or an IANA name (``Asia/Damascus``).

    Raises:
        InputError: for an unknown zone name.

    >>> resolve_timezone("UTC").utcoffset(None)
    datetime.timedelta(0)
    """
    if name.upper() == "UTC":
        return ZoneInfo("UTC")
    if name.lower() == "local":
        local = datetime.now().astimezone().tzinfo
        assert local is not None  # astimezone() always sets one
        return local
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            [
                Problem(
                    "SBS feed",
                    None,
                    "timezone",
                    f"unknown time zone {name!r} (UTC, local or a name like "
                    "Asia/Damascus)",
                )
            ]
        ) from None


class _Aircraft:
    """What the feed has said about one aircraft so far."""

    __slots__ = (
        "alt_ft",
        "alt_t_s",
        "callsign",
        "gs_kt",
        "squawk",
        "trk_deg",
        "vel_t_s",
        "vs_fpm",
    )

    def __init__(self) -> None:
        self.callsign: str | None = None
        self.squawk: str | None = None
        self.alt_ft = math.nan
        self.alt_t_s = -math.inf
        self.gs_kt = math.nan
        self.trk_deg = math.nan
        self.vs_fpm = math.nan
        self.vel_t_s = -math.inf


class SbsDecoder(LineDecoder):
    """Decodes SBS-1 lines into positions, merging messages per aircraft.

    Args:
        source: the file or feed name, for problems.
        timezone: zone of the times in the feed (see :func:`resolve_timezone`).
        rules: party rules applied to each position.
    """

    def __init__(
        self,
        source: str = "<sbs>",
        timezone: str | tzinfo = "UTC",
        rules: PartyRules | None = None,
    ) -> None:
        super().__init__(source)
        self.zone = (
            resolve_timezone(timezone) if isinstance(timezone, str) else timezone
        )
        self.rules = rules or PartyRules()
        self._aircraft: dict[str, _Aircraft] = {}
        # (date, hour) -> epoch seconds of that hour in the feed's zone: one
        # datetime per hour of data instead of one per line, DST included.
        self._hour_t_s: dict[tuple[str, str], float] = {}

    def _time_s(self, date: str, clock: str) -> float | None:
        hour = clock[:2]
        base = self._hour_t_s.get((date, hour))
        if base is None:
            try:
                y, m, d = date.split("/")
                base = datetime(
                    int(y), int(m), int(d), int(hour), tzinfo=self.zone
                ).timestamp()
            except ValueError:
                return None
            self._hour_t_s[(date, hour)] = base
        if len(clock) < 8 or clock[2] != ":" or clock[5] != ":":
            return None
        try:
            minute = int(clock[3:5])
            second = float(clock[6:])
        except ValueError:
            return None
        if not (0 <= minute < 60 and 0.0 <= second < 61.0):
            return None
        return base + minute * 60 + second

    def feed_line(self, line: str, line_no: int) -> list[TrackRecord]:
        """Decode one line; returns the position it completes, if any."""
        stats = self.stats
        line = line.strip()
        if not line:
            return []
        stats.read += 1
        f = line.split(",")
        kind = f[0]
        if kind != "MSG":
            if kind in OTHER_TYPES:
                stats.ignore(f"{kind} message")
            else:
                stats.reject(
                    "unknown message type", line_no, "message_type", repr(kind[:20])
                )
            return []
        if len(f) < MSG_FIELDS:
            stats.reject(
                "wrong field count",
                line_no,
                "",
                f"{len(f)} fields, MSG has {MSG_FIELDS}",
            )
            return []
        tt = f[1]
        if tt not in ("1", "2", "3", "4", "5", "6", "7", "8"):
            stats.reject(
                "unknown message type",
                line_no,
                "transmission_type",
                f"{tt[:20]!r} (MSG types are 1 to 8)",
            )
            return []
        hex_ident = f[4].strip().upper()
        bare = hex_ident[1:] if hex_ident.startswith("~") else hex_ident
        if _HEX6.fullmatch(bare) is None:
            stats.reject("bad hex ident", line_no, "hex_ident", repr(hex_ident[:20]))
            return []
        date, clock = f[6], f[7]
        if not date or not clock:
            date, clock = f[8], f[9]
        t_s = self._time_s(date.strip(), clock.strip())
        if t_s is None:
            stats.reject(
                "bad time", line_no, "time_generated", f"{date[:12]!r} {clock[:16]!r}"
            )
            return []
        values: dict[int, float] = {}
        for index, name, (low, high) in _NUMBERS:
            raw = f[index]
            if not raw:
                continue
            try:
                value = float(raw)
            except ValueError:
                stats.reject("bad number", line_no, name, repr(raw[:20]))
                return []
            if not low <= value <= high:  # NaN fails too
                stats.reject(
                    "impossible value",
                    line_no,
                    name,
                    f"{raw[:20]} is outside [{low:g}, {high:g}]",
                )
                return []
            values[index] = value
        stats.accepted += 1

        state = self._aircraft.get(hex_ident)
        if state is None:
            state = self._aircraft[hex_ident] = _Aircraft()
        callsign = f[10].strip()
        if callsign:
            state.callsign = callsign
        squawk = f[17].strip()
        if squawk:
            state.squawk = squawk
        alt = values.get(11)
        if alt is not None:
            state.alt_ft = alt
            state.alt_t_s = t_s
        if 12 in values or 13 in values or 16 in values:
            state.gs_kt = values.get(12, state.gs_kt)
            state.trk_deg = values.get(13, state.trk_deg)
            state.vs_fpm = values.get(16, state.vs_fpm)
            state.vel_t_s = t_s
        lat = values.get(14)
        lon = values.get(15)
        if lat is None or lon is None:
            return []
        if tt == "2":  # surface position: its own speed and track, on the ground
            gs, trk, vs = values.get(12, math.nan), values.get(13, math.nan), 0.0
        elif abs(t_s - state.vel_t_s) <= VELOCITY_MAX_AGE_S:
            gs, trk, vs = state.gs_kt, state.trk_deg, state.vs_fpm
        else:
            gs = trk = vs = math.nan
        if alt is None:
            alt = (
                state.alt_ft
                if abs(t_s - state.alt_t_s) <= ALTITUDE_MAX_AGE_S
                else math.nan
            )
        record = TrackRecord(
            hex_ident,
            t_s,
            lat,
            lon,
            alt,
            gs,
            trk,
            vs,
            state.callsign,
            hex_ident if bare == hex_ident else None,
            state.squawk,
            SOURCE_NAME,
        )
        stats.positions += 1
        return [self.rules.apply(record)]


def sbs_line(
    transmission_type: int,
    hex_ident: str,
    t_s: float,
    *,
    callsign: str = "",
    alt_ft: float | None = None,
    gs_kt: float | None = None,
    trk_deg: float | None = None,
    lat_deg: float | None = None,
    lon_deg: float | None = None,
    vs_fpm: float | None = None,
    squawk: str = "",
    on_ground: bool = False,
) -> str:
    """One ``MSG`` line as dump1090 writes it, times in UTC (for tests and tools).

    >>> sbs_line(3, "4CA2D6", 1513159200.0, alt_ft=37000, lat_deg=35.5, lon_deg=38.25)
    'MSG,3,1,1,4CA2D6,1,2017/12/13,10:00:00.000,2017/12/13,10:00:00.000,,37000,,,35.50000,38.25000,,,0,0,0,0'
    """
    from datetime import UTC

    when = datetime.fromtimestamp(t_s, tz=UTC)
    date = when.strftime("%Y/%m/%d")
    clock = when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}"

    def num(value: float | None, fmt: str) -> str:
        return "" if value is None else format(value, fmt)

    fields = [
        "MSG",
        str(transmission_type),
        "1",
        "1",
        hex_ident,
        "1",
        date,
        clock,
        date,
        clock,
        callsign,
        num(alt_ft, ".0f"),
        num(gs_kt, ".0f"),
        num(trk_deg, ".0f"),
        num(lat_deg, ".5f"),
        num(lon_deg, ".5f"),
        num(vs_fpm, ".0f"),
        squawk,
        "0",
        "0",
        "0",
        "-1" if on_ground else "0",
    ]
    return ",".join(fields)
