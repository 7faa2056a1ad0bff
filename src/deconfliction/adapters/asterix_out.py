"""ASTERIX out: the live picture as CAT062 system tracks (edition 1.20), so that an ATC
display or a military C2 system shows Deconfliction's picture.

The items and their order come from ``aviconv-asterix``'s CAT062 layout (field
reference numbers and fixed lengths, checked at import); the octets are packed here,
one ``struct`` format per set of items, from numpy columns quantised at once, because
the libraries' own encoders are 10 to 100 times slower than a feed needs (see
``docs/interop.md``). The tests decode the output with libasterix, an independent
implementation of the specification.

Each record: I062/010 (SAC/SIC), 015 (service), 070 (time of track), 105 (WGS-84
position), 185 (Cartesian velocity from ground speed and track), 380 ADR (when the id
is an ICAO address), 040 (track number), 080 (track status), 136 (measured flight
level: altitude / 100 ft) and 220 (rate of climb/descent). Values beyond what an
item can hold are clipped to its range.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from aviconv_asterix.cat062 import UAP_062
from aviconv_asterix.fspec import Fixed, write_fspec

from deconfliction.units import MPS_PER_KT, S_PER_DAY

CATEGORY: int = 62
MAX_BLOCK_BYTES: int = 0xFFFF
DEFAULT_DATAGRAM_BYTES: int = 1400  # below an Ethernet MTU: no IP fragments
_ICAO_RE = re.compile(r"[0-9A-Fa-f]{6}")

# (item id, struct format of its octets) in FRN order; 380 is the ADR subfield only.
_ITEMS: tuple[tuple[str, str], ...] = (
    ("I062/010", "BB"),
    ("I062/015", "B"),
    ("I062/070", "3s"),
    ("I062/105", "ii"),
    ("I062/185", "hh"),
    ("I062/380", "B3s"),
    ("I062/040", "H"),
    ("I062/080", "B"),
    ("I062/136", "h"),
    ("I062/220", "h"),
)


def _frns() -> dict[str, int]:
    frns = {item.id: k + 1 for k, item in enumerate(UAP_062) if item is not None}
    for item_id, fmt in _ITEMS:
        item = UAP_062[frns[item_id] - 1]
        assert item is not None
        if isinstance(item.layout, Fixed):  # 380 is compound, 080 variable
            assert item.layout.length == struct.calcsize(">" + fmt), item_id
    return frns


_FRN: dict[str, int] = _frns()


def _layout(with_address: bool) -> tuple[bytes, struct.Struct]:
    items = [(i, f) for i, f in _ITEMS if with_address or i != "I062/380"]
    fspec = write_fspec([_FRN[i] for i, _ in items])
    return fspec, struct.Struct(">" + "".join(f for _, f in items))


_WITH_ADR = _layout(True)
_WITHOUT_ADR = _layout(False)


@dataclass
class TrackNumbers:
    """Stable 16-bit track numbers for aircraft ids (I062/040), reused after
    65,535 ids in first-come order."""

    numbers: dict[str, int] = field(default_factory=dict)

    def of(self, ident: str) -> int:
        number = self.numbers.get(ident)
        if number is None:
            number = len(self.numbers) % 0xFFFF + 1
            self.numbers[ident] = number
        return number


def _clip_int(values: np.ndarray, low: int, high: int) -> list[int]:
    return np.clip(np.rint(values), low, high).astype(np.int64).tolist()  # type: ignore[no-any-return]


def encode_records(
    ids: Sequence[str],
    t_s: np.ndarray,
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    alt_ft: np.ndarray,
    gs_kt: np.ndarray,
    trk_deg: np.ndarray,
    vs_fpm: np.ndarray,
    *,
    sac: int,
    sic: int,
    track_numbers: TrackNumbers,
    service: int = 1,
) -> list[bytes]:
    """One CAT062 record (FSPEC and items) per position, in order."""
    tod = _clip_int((np.asarray(t_s) % S_PER_DAY) * 128.0, 0, (1 << 24) - 1)
    lat = _clip_int(np.asarray(lat_deg) * (2**25 / 180.0), -(2**31), 2**31 - 1)
    lon = _clip_int(np.asarray(lon_deg) * (2**25 / 180.0), -(2**31), 2**31 - 1)
    speed_ms = np.nan_to_num(np.asarray(gs_kt, dtype=np.float64)) * MPS_PER_KT
    track = np.radians(np.nan_to_num(np.asarray(trk_deg, dtype=np.float64)))
    vx = _clip_int(speed_ms * np.sin(track) / 0.25, -32768, 32767)
    vy = _clip_int(speed_ms * np.cos(track) / 0.25, -32768, 32767)
    fl = _clip_int(
        np.nan_to_num(np.asarray(alt_ft, dtype=np.float64)) / 25.0, -6000, 6000
    )
    roc = _clip_int(
        np.nan_to_num(np.asarray(vs_fpm, dtype=np.float64)) / 6.25, -32768, 32767
    )
    fspec_adr, pack_adr = _WITH_ADR
    fspec_plain, pack_plain = _WITHOUT_ADR
    out: list[bytes] = []
    for k, ident in enumerate(ids):
        number = track_numbers.of(ident)
        tod_octets = tod[k].to_bytes(3, "big")
        if _ICAO_RE.fullmatch(ident):
            out.append(
                fspec_adr
                + pack_adr.pack(
                    sac,
                    sic,
                    service,
                    tod_octets,
                    lat[k],
                    lon[k],
                    vx[k],
                    vy[k],
                    0x80,
                    bytes.fromhex(ident),
                    number,
                    0,
                    fl[k],
                    roc[k],
                )
            )
        else:
            out.append(
                fspec_plain
                + pack_plain.pack(
                    sac,
                    sic,
                    service,
                    tod_octets,
                    lat[k],
                    lon[k],
                    vx[k],
                    vy[k],
                    number,
                    0,
                    fl[k],
                    roc[k],
                )
            )
    return out


def datagrams(
    records: Iterable[bytes], max_bytes: int = DEFAULT_DATAGRAM_BYTES
) -> list[bytes]:
    """Records framed into CAT062 data blocks of at most ``max_bytes`` each (one
    block per datagram, as receivers expect)."""
    limit = min(max_bytes, MAX_BLOCK_BYTES)
    out: list[bytes] = []
    body: list[bytes] = []
    size = 3
    for record in records:
        if body and size + len(record) > limit:
            out.append(bytes([CATEGORY]) + size.to_bytes(2, "big") + b"".join(body))
            body, size = [], 3
        body.append(record)
        size += len(record)
    if body:
        out.append(bytes([CATEGORY]) + size.to_bytes(2, "big") + b"".join(body))
    return out
