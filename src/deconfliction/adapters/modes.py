"""Raw Mode-S / ADS-B messages in hex, decoded with pyModeS 3.

Line forms (one message per line; a file may mix them):

* AVR, as dump1090 serves it on TCP port 30002: ``*8D4840D6202CC371C32CE0576098;``.
  It carries no time: the reader's clock gives one (the time of arrival, live).
* Beast-style timestamped hex: ``@`` followed by the receiver's 48-bit MLAT counter
  (12 hex digits) and the message, ``@0123456789AB8D4840D6...;``, as dump1090 and
  Beast receivers write it. The counter (12 MHz by default, a per-feed setting) gives
  the time between messages; the first message is anchored to ``start_t_s`` (a
  per-feed setting) or to the reader's clock.
* Recorded lines with an epoch time: ``1513159200.25 8D4840D6...`` or
  ``1513159200.25,*8D4840D6...;`` (time, then the message; space, tab or comma).

Only ADS-B extended squitters (DF 17 and 18) give tracks; their CRC must be zero.
Other Mode-S replies (DF 0, 4, 5, 11, 16, 20, 21 ...) are counted as ignored: their
parity is overlaid with the address and cannot be checked alone. Positions come from
pyModeS's :class:`pyModeS.PipeDecoder`: CPR even/odd pairs, then local decoding from
the last accepted position, with pyModeS's plausibility checks. A newly heard
aircraft's first positions are held until pyModeS has three consistent ones; they
are then released with their own times (at the end of a file, whatever is held is
released too). With a ``reference`` (the receiver's position, which must be within
180 NM of every aircraft heard), a position is also decoded from a single message,
so the first one is not held.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

from deconfliction.adapters.track_stream import (
    LineDecoder,
    PartyRules,
    TrackRecord,
)
from deconfliction.errors import InputError, Problem

SOURCE_NAME: str = "modes"
MLAT_HZ: float = 12_000_000.0  # dump1090 and most Beast receivers count at 12 MHz
_MLAT_MODULUS: int = 1 << 48
VELOCITY_MAX_AGE_S: float = 30.0  # as for SBS: older velocities are "unknown"
HELD_MAX_AGE_S: float = 60.0  # a held position not resolved by then never will be
HELD_MAX_PER_AIRCRAFT: int = 32
MAX_EPOCH_S: float = 1e11  # year 5138: anything later is not a time

_HEX_RE = re.compile(r"[0-9A-Fa-f]+")
_SHORT_DFS = frozenset({0, 4, 5, 11})
_LONG_DFS = frozenset({16, 17, 18, 19, 20, 21, 22, 24})
_POSITION_TCS = frozenset(range(5, 19)) | frozenset({20, 21, 22})


def parse_reference(text: str) -> tuple[float, float]:
    """``LAT,LON`` in degrees, as given on the command line.

    Raises:
        InputError: if it is not two numbers in range.

    >>> parse_reference("35.5, 38.25")
    (35.5, 38.25)
    """
    parts = text.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        lat = lon = math.nan
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InputError(
            [
                Problem(
                    "Mode S decoder",
                    None,
                    "reference",
                    f"expected LAT,LON in degrees, got {text!r}",
                )
            ]
        )
    return lat, lon


class _Aircraft:
    __slots__ = ("callsign", "gs_kt", "held", "trk_deg", "vel_t_s", "vs_fpm")

    def __init__(self) -> None:
        self.callsign: str | None = None
        self.gs_kt = math.nan
        self.trk_deg = math.nan
        self.vs_fpm = math.nan
        self.vel_t_s = -math.inf
        # results pyModeS may still fill in: (result, t_s, alt_ft, gs, trk, vs)
        self.held: list[tuple[dict[str, Any], float, float, float, float, float]] = []


class ModeSDecoder(LineDecoder):
    """Decodes AVR and Beast-style hex lines into positions.

    Args:
        source: the file or feed name, for problems.
        reference: (lat, lon) of the receiver, for single-message positions.
        clock: gives the time of untimed lines (AVR) and anchors the MLAT counter;
            the machine's clock by default.
        start_t_s: the time of the first MLAT-timed message, if known.
        mlat_hz: the MLAT counter's rate.
        rules: party rules applied to each position.
    """

    def __init__(
        self,
        source: str = "<modes>",
        *,
        reference: tuple[float, float] | None = None,
        clock: Callable[[], float] = time.time,
        start_t_s: float | None = None,
        mlat_hz: float = MLAT_HZ,
        rules: PartyRules | None = None,
    ) -> None:
        import pyModeS
        from pyModeS.position import airborne_position_with_ref
        from pyModeS.util import crc

        super().__init__(source)
        self.reference = reference
        self.clock = clock
        self.mlat_hz = mlat_hz
        self.rules = rules or PartyRules()
        self._crc = crc
        self._with_ref = airborne_position_with_ref
        self._pipe = pyModeS.PipeDecoder(surface_ref=reference)
        self._aircraft: dict[str, _Aircraft] = {}
        self._start_t_s = start_t_s
        self._mlat_ticks: int | None = None
        self._mlat_t_s = 0.0

    # -- framing -------------------------------------------------------------------

    def _mlat_time(self, ticks: int) -> float:
        if self._mlat_ticks is None:
            self._mlat_t_s = (
                self._start_t_s if self._start_t_s is not None else self.clock()
            )
        else:
            delta = (ticks - self._mlat_ticks) % _MLAT_MODULUS
            if delta > _MLAT_MODULUS // 2:  # a frame from just before the last one
                delta -= _MLAT_MODULUS
            self._mlat_t_s += delta / self.mlat_hz
        self._mlat_ticks = ticks
        return self._mlat_t_s

    def _frame(self, line: str, line_no: int) -> tuple[str, float] | None:
        """The hex message and its time, or None (counted) for a bad line."""
        stats = self.stats
        first = line[0]
        if first == "*":
            if not line.endswith(";"):
                stats.reject("bad frame", line_no, "", "an AVR line ends with ';'")
                return None
            return line[1:-1], self.clock()
        if first == "@":
            if not line.endswith(";") or len(line) < 14:
                stats.reject(
                    "bad frame", line_no, "", "expected @ + 12 hex digits + hex + ;"
                )
                return None
            ticks_text = line[1:13]
            if _HEX_RE.fullmatch(ticks_text) is None:
                stats.reject("bad time", line_no, "mlat", repr(ticks_text))
                return None
            return line[13:-1], self._mlat_time(int(ticks_text, 16))
        parts = line.replace(",", " ").replace("\t", " ").split()
        if len(parts) == 1:
            return parts[0], self.clock()
        if len(parts) != 2:
            stats.reject(
                "bad frame", line_no, "", f"{len(parts)} fields, expected time and hex"
            )
            return None
        try:
            t_s = float(parts[0])
        except ValueError:
            t_s = math.nan
        if not 0.0 <= t_s < MAX_EPOCH_S:
            stats.reject("bad time", line_no, "time", repr(parts[0][:30]))
            return None
        hex_msg = parts[1]
        if hex_msg.startswith("*"):
            hex_msg = hex_msg[1:]
        if hex_msg.endswith(";"):
            hex_msg = hex_msg[:-1]
        return hex_msg, t_s

    # -- decoding ------------------------------------------------------------------

    def feed_line(self, line: str, line_no: int) -> list[TrackRecord]:
        """Decode one line; returns the positions it gives (several when it releases
        held ones)."""
        line = line.strip()
        if not line:
            return []
        stats = self.stats
        stats.read += 1
        frame = self._frame(line, line_no)
        if frame is None:
            return []
        hex_msg, t_s = frame
        if _HEX_RE.fullmatch(hex_msg) is None:
            stats.reject("bad hex", line_no, "message", repr(hex_msg[:40]))
            return []
        length = len(hex_msg)
        if length == 4:  # Mode A/C reply in AVR: no address, no position
            stats.ignore("Mode A/C")
            return []
        if length not in (14, 28):
            stats.reject(
                "bad length", line_no, "message", f"{length} hex digits (14 or 28)"
            )
            return []
        df = int(hex_msg[:2], 16) >> 3
        if df >= 24:
            df = 24
        if df not in _SHORT_DFS and df not in _LONG_DFS:
            stats.reject("unknown downlink format", line_no, "df", str(df))
            return []
        if (length == 14) != (df in _SHORT_DFS):
            stats.reject(
                "bad length", line_no, "message", f"DF {df} with {length} hex digits"
            )
            return []
        if df not in (17, 18):
            stats.ignore(f"DF {df} (not ADS-B)")
            return []
        if self._crc(hex_msg) != 0:
            stats.reject("bad CRC", line_no, "message", hex_msg)
            return []
        return self._decode(hex_msg, t_s, line_no)

    def _decode(self, hex_msg: str, t_s: float, line_no: int) -> list[TrackRecord]:
        stats = self.stats
        pipe = self._pipe
        rejected_before = pipe.stats["position_rejected"]
        result = pipe.decode(hex_msg, timestamp=t_s)
        if "error" in result:  # pragma: no cover - length and hex checked above
            stats.reject("bad frame", line_no, "message", str(result["error"]))
            return []
        if result.get("altitude_mismatch"):
            stats.reject(
                "inconsistent altitude", line_no, "altitude", "pyModeS cross-check"
            )
            return []
        if result.get("velocity_mismatch"):
            stats.reject(
                "inconsistent velocity", line_no, "velocity", "pyModeS cross-check"
            )
            return []
        if pipe.stats["position_rejected"] > rejected_before:
            stats.reject(
                "implausible position",
                line_no,
                "position",
                "out of reach of the aircraft's previous positions",
            )
            return []
        icao = result["icao"]
        state = self._aircraft.get(icao)
        if state is None:
            state = self._aircraft[icao] = _Aircraft()
        tc = result.get("typecode")
        stats.accepted += 1
        if tc is None or tc == 0:
            return []
        if 1 <= tc <= 4:
            callsign = (result.get("callsign") or "").strip("_ ")
            if callsign:
                state.callsign = callsign
            return []
        if tc == 19:
            gs = result.get("groundspeed")
            trk = result.get("track")
            vs = result.get("vertical_rate")
            if gs is not None and trk is not None:
                state.gs_kt = float(gs)
                state.trk_deg = float(trk) % 360.0
                state.vs_fpm = float(vs) if vs is not None else math.nan
                state.vel_t_s = t_s
            return []
        if tc not in _POSITION_TCS:
            return []
        return self._position(result, icao, state, t_s, tc)

    def _position(
        self,
        result: dict[str, Any],
        icao: str,
        state: _Aircraft,
        t_s: float,
        tc: int,
    ) -> list[TrackRecord]:
        surface = tc <= 8
        if surface:
            alt = math.nan
            gs = result.get("groundspeed")
            trk = result.get("track")
            gs_kt = float(gs) if gs is not None else math.nan
            trk_deg = float(trk) % 360.0 if trk is not None else math.nan
            vs_fpm = 0.0
        else:
            raw_alt = result.get("altitude")
            alt = float(raw_alt) if raw_alt is not None else math.nan
            if abs(t_s - state.vel_t_s) <= VELOCITY_MAX_AGE_S:
                gs_kt, trk_deg, vs_fpm = state.gs_kt, state.trk_deg, state.vs_fpm
            else:
                gs_kt = trk_deg = vs_fpm = math.nan
        out: list[TrackRecord] = []
        lat = result.get("latitude")
        if lat is None and not surface and self.reference is not None:
            lat, lon = self._with_ref(
                result["cpr_format"],
                result["cpr_lat"],
                result["cpr_lon"],
                *self.reference,
            )
            out.append(
                self._record(icao, state, t_s, lat, lon, alt, gs_kt, trk_deg, vs_fpm)
            )
        elif lat is not None:
            out.append(
                self._record(
                    icao,
                    state,
                    t_s,
                    lat,
                    result["longitude"],
                    alt,
                    gs_kt,
                    trk_deg,
                    vs_fpm,
                )
            )
        else:
            state.held.append((result, t_s, alt, gs_kt, trk_deg, vs_fpm))
            if len(state.held) > HELD_MAX_PER_AIRCRAFT:
                del state.held[0]
        if state.held:
            out = self._release(icao, state, t_s, out)
        return out

    def _record(
        self,
        icao: str,
        state: _Aircraft,
        t_s: float,
        lat: float,
        lon: float,
        alt: float,
        gs_kt: float,
        trk_deg: float,
        vs_fpm: float,
    ) -> TrackRecord:
        self.stats.positions += 1
        record = TrackRecord(
            icao,
            t_s,
            float(lat),
            float(lon),
            alt,
            gs_kt,
            trk_deg,
            vs_fpm,
            state.callsign,
            icao,
            None,
            SOURCE_NAME,
        )
        return self.rules.apply(record)

    def _release(
        self,
        icao: str,
        state: _Aircraft,
        now_t_s: float | None,
        out: list[TrackRecord],
    ) -> list[TrackRecord]:
        """Emit held positions pyModeS has filled in since; drop hopeless ones.

        Both halves of a CPR pair get the pair's position, which is the newer
        half's: only the newest of identical positions is kept, at its own time.
        """
        keep: list[tuple[dict[str, Any], float, float, float, float, float]] = []
        found: list[tuple[float, float, float, tuple[float, float, float, float]]] = []
        for entry in state.held:
            result, t_s, alt, gs, trk, vs = entry
            lat = result.get("latitude")
            if lat is not None:
                found.append((t_s, lat, result["longitude"], (alt, gs, trk, vs)))
            elif now_t_s is None or now_t_s - t_s <= HELD_MAX_AGE_S:
                keep.append(entry)
        state.held = keep
        if not found:
            return out
        newest: dict[
            tuple[float, float], tuple[float, tuple[float, float, float, float]]
        ] = {}
        for rec in out:
            newest[(rec.lat_deg, rec.lon_deg)] = (math.inf, (0.0, 0.0, 0.0, 0.0))
        for t_s, lat, lon, kin in found:
            key = (float(lat), float(lon))
            if key not in newest or newest[key][0] < t_s:
                newest[key] = (t_s, kin)
        released = [
            self._record(icao, state, t_s, lat, lon, *kin)
            for (lat, lon), (t_s, kin) in newest.items()
            if t_s != math.inf
        ]
        released.sort(key=lambda r: r.t_s)
        return released + out

    def finish(self) -> list[TrackRecord]:
        """End of input: the last line, then every held position pyModeS can resolve
        from what it has (its ``flush``)."""
        out = super().finish()
        self._pipe.flush()
        for icao, state in self._aircraft.items():
            if state.held:
                out.extend(self._release(icao, state, None, []))
        return out


BEAST_ESCAPE: int = 0x1A
# Beast binary frame types and their message lengths (after the 6-octet MLAT counter
# and the signal octet): '1' Mode A/C, '2' Mode S short, '3' Mode S long.
BEAST_TYPES: dict[int, int] = {0x31: 2, 0x32: 7, 0x33: 14}
BEAST_PORT: int = 30005


class BeastBinaryDecoder(ModeSDecoder):
    """Beast binary frames (dump1090/readsb port 30005, Mode-S Beast receivers).

    Each frame is ``0x1A``, a type (``'1'``, ``'2'``, ``'3'``), the 48-bit MLAT
    counter, a signal octet and the message, with every ``0x1A`` inside doubled. A
    frame becomes a Beast-style hex line (``@counter hex;``) for :class:`ModeSDecoder`,
    so timing, CRC checks and positions are the same. Mode A/C frames are ignored; a
    frame broken by an undoubled ``0x1A`` or an unknown type is rejected
    (``bad frame``) and the reader resynchronises on the next ``0x1A``.
    """

    def __init__(self, source: str = "<beast>", **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self._buf = bytearray()
        self._frames = 0

    def feed(self, data: bytes) -> list[TrackRecord]:
        """Positions completed by ``data`` (a piece of the binary stream)."""
        self._buf += data
        out: list[TrackRecord] = []
        buf = self._buf
        n = len(buf)
        pos = 0
        while True:
            start = buf.find(BEAST_ESCAPE, pos)
            if start < 0:
                pos = n
                break
            if start > pos:
                self._bad(f"{start - pos} bytes outside a frame")
            if start + 1 >= n:
                pos = start
                break
            kind = buf[start + 1]
            length = BEAST_TYPES.get(kind)
            if length is None:
                if kind == BEAST_ESCAPE:  # a doubled escape outside a frame
                    pos = start + 2
                    continue
                self._bad(f"unknown frame type 0x{kind:02x}")
                pos = start + 1
                continue
            frame = bytearray()
            at = start + 2
            broken = False
            while len(frame) < 7 + length and at < n:
                byte = buf[at]
                if byte == BEAST_ESCAPE:
                    if at + 1 >= n:
                        break
                    if buf[at + 1] != BEAST_ESCAPE:
                        broken = True
                        break
                    at += 1
                frame.append(byte)
                at += 1
            if broken:
                self._bad("a frame cut short by the next one")
                pos = at
                continue
            if len(frame) < 7 + length:
                pos = start  # wait for the rest
                break
            pos = at
            self._frames += 1
            if kind == 0x31:
                self.stats.read += 1
                self.stats.ignore("Mode A/C frame")
                continue
            line = f"@{frame[:6].hex().upper()}{frame[7:].hex().upper()};"
            out.extend(self.feed_line(line, self._frames))
        del buf[:pos]
        return out

    def _bad(self, message: str) -> None:
        self.stats.read += 1
        self.stats.reject("bad frame", None, "", message)

    def reset_stream(self) -> None:
        """The connection dropped: a partial frame is lost (and counted)."""
        if self._buf:
            self._bad(f"{len(self._buf)} bytes of a frame when the stream ended")
        self._buf = bytearray()

    def finish(self) -> list[TrackRecord]:
        """End of input: a partial frame is counted."""
        self.reset_stream()
        return super().finish()


def beast_binary_frame(line: str) -> bytes:
    """A Beast-style hex line (``@counter hex;``) as a Beast binary frame."""
    body = line.strip()[1:-1]
    ticks, message = bytes.fromhex(body[:12]), bytes.fromhex(body[12:])
    kind = {2: 0x31, 7: 0x32, 14: 0x33}[len(message)]
    payload = (ticks + b"\x00" + message).replace(b"\x1a", b"\x1a\x1a")
    return bytes([BEAST_ESCAPE, kind]) + payload
