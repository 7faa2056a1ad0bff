"""Samples for the interop tests and bench: recorded-style feeds and results.

ADS-B messages are encoded here (DO-260B CPR, the Mode-S CRC via pyModeS) so that a
flight of known positions can be turned into AVR, Beast-hex and SBS lines and the
decoders checked against the truth. The encoder is checked against pyModeS's own
decoding and against pyModeS's documented example pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyModeS.util import crc

from deconfliction.adapters.sbs import sbs_line
from deconfliction.domain import geodesy
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.protocol import DeconflictionLine, Zone

# pyModeS's documented airborne CPR example (ICAO 40621D, 38,000 ft): the even frame
# is the newer one and the pair decodes to 52.2572 N, 3.9193 E.
DOC_EVEN = "8D40621D58C382D690C8AC2863A7"
DOC_ODD = "8D40621D58C386435CC412692AD6"
DOC_LAT_DEG = 52.2572
DOC_LON_DEG = 3.9193
DOC_VELOCITY = "8D485020994409940838175B284F"  # 159 kt, 182.88 deg, -832 ft/min
DOC_CALLSIGN = "8D4840D6202CC371C32CE0576098"  # KLM1023

_NZ = 15
_CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def _nl(lat_deg: float) -> int:
    if abs(lat_deg) >= 87.0:
        return 1
    a = 1 - math.cos(math.pi / (2 * _NZ))
    b = math.cos(math.pi / 180.0 * abs(lat_deg)) ** 2
    return math.floor(2 * math.pi / math.acos(1 - a / b))


def cpr_encode(lat_deg: float, lon_deg: float, odd: bool) -> tuple[int, int]:
    """Airborne CPR (17 bits) of a position, even or odd frame."""
    i = 1 if odd else 0
    dlat = 360.0 / (4 * _NZ - i)
    yz = math.floor(2**17 * (lat_deg % dlat) / dlat + 0.5)
    rlat = dlat * (yz / 2**17 + math.floor(lat_deg / dlat))
    ni = max(_nl(rlat) - i, 1)
    dlon = 360.0 / ni
    xz = math.floor(2**17 * (lon_deg % dlon) / dlon + 0.5)
    return yz % 2**17, xz % 2**17


def _with_parity(icao: str, me: int) -> str:
    head = (0x8D << 80) | (int(icao, 16) << 56) | me
    unsigned = f"{head << 24:028X}"
    return f"{(head << 24) | crc(unsigned):028X}"


def position_message(
    icao: str, lat_deg: float, lon_deg: float, alt_ft: float, odd: bool
) -> str:
    """A DF17 airborne position (type code 11, barometric altitude)."""
    n = round((alt_ft + 1000) / 25)
    alt_bits = ((n >> 4) << 5) | (1 << 4) | (n & 0xF)
    yz, xz = cpr_encode(lat_deg, lon_deg, odd)
    me = (11 << 51) | (alt_bits << 36) | (int(odd) << 34) | (yz << 17) | xz
    return _with_parity(icao, me)


def velocity_message(icao: str, gs_kt: float, trk_deg: float, vs_fpm: float) -> str:
    """A DF17 airborne velocity (type code 19, subtype 1: ground speed)."""
    v_ew = gs_kt * math.sin(math.radians(trk_deg))
    v_ns = gs_kt * math.cos(math.radians(trk_deg))
    d_ew, s_ew = int(v_ew < 0), round(abs(v_ew)) + 1
    d_ns, s_ns = int(v_ns < 0), round(abs(v_ns)) + 1
    s_vr, vr = int(vs_fpm < 0), round(abs(vs_fpm) / 64) + 1
    me = (
        (19 << 51)
        | (1 << 48)
        | (d_ew << 42)
        | (s_ew << 32)
        | (d_ns << 31)
        | (s_ns << 21)
        | (s_vr << 19)
        | (vr << 10)
    )
    return _with_parity(icao, me)


def callsign_message(icao: str, callsign: str) -> str:
    """A DF17 identification (type code 4)."""
    text = callsign.upper().ljust(8)[:8]
    chars = 0
    for ch in text:
        chars = (chars << 6) | _CHARSET.index(ch)
    return _with_parity(icao, (4 << 51) | chars)


@dataclass(frozen=True)
class Sample:
    """One true position of a simulated flight."""

    icao: str
    callsign: str
    t_s: float
    lat_deg: float
    lon_deg: float
    alt_ft: float
    gs_kt: float
    trk_deg: float
    vs_fpm: float


def flight(
    icao: str,
    callsign: str,
    lat_deg: float,
    lon_deg: float,
    trk_deg: float,
    gs_kt: float,
    alt_ft: float,
    t0_s: float,
    n: int,
    step_s: float = 0.5,
) -> list[Sample]:
    """A straight, level flight sampled every ``step_s``."""
    out = []
    for k in range(n):
        lat, lon = geodesy.destination(
            lat_deg, lon_deg, trk_deg, gs_kt * k * step_s / 3600.0
        )
        out.append(
            Sample(
                icao,
                callsign,
                t0_s + k * step_s,
                float(lat),
                float(lon),
                alt_ft,
                gs_kt,
                trk_deg,
                0.0,
            )
        )
    return out


def modes_lines(samples: list[Sample], form: str = "epoch") -> list[str]:
    """Each sample as a position frame (even and odd in turn), with a velocity frame
    every 4th sample and an identification every 10th, as timed hex lines.

    ``form``: ``epoch`` (``t hex``), ``avr`` (``*hex;``, untimed) or ``mlat``
    (``@counter hex;`` at 12 MHz from the first sample).
    """
    lines: list[str] = []
    t0 = samples[0].t_s if samples else 0.0
    seen: dict[str, int] = {}
    for s in samples:
        k = seen.get(s.icao, 0)
        seen[s.icao] = k + 1
        frames = []
        if k % 10 == 0:
            frames.append(callsign_message(s.icao, s.callsign))
        if k % 4 == 0:
            frames.append(velocity_message(s.icao, s.gs_kt, s.trk_deg, s.vs_fpm))
        frames.append(
            position_message(s.icao, s.lat_deg, s.lon_deg, s.alt_ft, k % 2 == 1)
        )
        for frame in frames:
            if form == "epoch":
                lines.append(f"{s.t_s:.3f} {frame}")
            elif form == "avr":
                lines.append(f"*{frame};")
            else:
                ticks = round((s.t_s - t0) * 12_000_000) % (1 << 48)
                lines.append(f"@{ticks:012X}{frame};")
    return lines


def sbs_lines(samples: list[Sample]) -> list[str]:
    """Each sample as SBS messages: identification every 10th, velocity every 4th,
    then the airborne position."""
    lines: list[str] = []
    seen: dict[str, int] = {}
    for s in samples:
        k = seen.get(s.icao, 0)
        seen[s.icao] = k + 1
        if k % 10 == 0:
            lines.append(sbs_line(1, s.icao, s.t_s, callsign=s.callsign))
        if k % 4 == 0:
            lines.append(
                sbs_line(
                    4, s.icao, s.t_s, gs_kt=s.gs_kt, trk_deg=s.trk_deg, vs_fpm=s.vs_fpm
                )
            )
        lines.append(
            sbs_line(
                3,
                s.icao,
                s.t_s,
                alt_ft=s.alt_ft,
                lat_deg=s.lat_deg,
                lon_deg=s.lon_deg,
                squawk="0412",
            )
        )
    return lines


# --------------------------------------------------------------------------------------
# Results to write out


def sample_alert(cleared_level: str = "warning") -> Alert:
    """A warning-level alert between a coalition and a Russian aircraft."""
    from deconfliction.domain.model import AlertLevel

    level = AlertLevel[cleared_level.upper()]
    return Alert(
        id="VIPER11-RF93-1513159200",
        a_id="RF93",
        b_id="VIPER11",
        party_a="russia",
        party_b="coalition",
        first_seen_t_s=1513159200.0,
        last_seen_t_s=1513159260.0,
        level=level,
        max_level=level,
        dcpa_nm=0.8,
        min_dcpa_nm=0.6,
        tcpa_s=42.0,
        dalt_ft_at_cpa=300.0,
        a_lat_deg=35.9,
        a_lon_deg=38.6,
        a_alt_ft=25000.0,
        b_lat_deg=35.8,
        b_lon_deg=38.6,
        b_alt_ft=25300.0,
        detections=12,
    )


def sample_violation(is_open: bool = True) -> Violation:
    """The coalition's VIPER11 west of the Euphrates line."""
    from deconfliction.domain.conformance import ViolationKind

    return Violation(
        kind=ViolationKind.LINE,
        aircraft_id="VIPER11",
        party="coalition",
        boundary_id="euphrates",
        entry_t_s=1513159200.0,
        exit_t_s=1513159500.0,
        duration_s=300.0,
        deepest_t_s=1513159350.0,
        deepest_lat_deg=35.8,
        deepest_lon_deg=38.4,
        deepest_alt_ft=25000.0,
        max_depth_nm=12.5,
        samples=61,
        is_open=is_open,
    )


def euphrates() -> tuple[tuple[Zone, ...], tuple[DeconflictionLine, ...]]:
    """The zones and lines of the shipped euphrates-2017 protocol."""
    from deconfliction.adapters.protocol_file import resolve_protocol

    protocol = resolve_protocol("euphrates-2017")
    return protocol.zones, protocol.lines
