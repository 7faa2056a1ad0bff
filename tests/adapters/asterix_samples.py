"""ASTERIX samples for the tests and the bench, encoded with libasterix (MIT), an
encoder independent of the reader's library (aviconv-asterix): a flight of known
positions becomes CAT021, CAT048 and CAT062 records with every field we read.

libasterix is generated from the EUROCONTROL specifications (asterix-specs); its
editions here are the reader's: CAT021 2.6, CAT048 1.32, CAT062 1.20.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import asterix.generated as gen  # libasterix
from asterix.base import Bits, RawDatablock

from deconfliction.adapters.asterix import RadarSite, RadarSites
from deconfliction.domain.geodesy import geodesic_azimuth_deg, geodesic_distance_nm
from deconfliction.units import M_PER_FT, M_PER_NM, MPS_PER_KT, S_PER_DAY

Cat021 = gen.Cat_021_2_6
Cat048 = gen.Cat_048_1_32
Cat062 = gen.Cat_062_1_20

DAY_S = 1513123200.0  # 2017-12-13T00:00:00Z
RADAR = RadarSite(25, 10, 35.41, 35.95, 150.0, "Latakia")
RADARS = RadarSites.of(RADAR)
SAC, SIC = 25, 20  # the tracker's and the ADS-B ground station's data source


@dataclass(frozen=True, slots=True)
class Truth:
    """One position of one aircraft, as the scenario flies it."""

    icao24: str
    callsign: str
    squawk: str
    track_number: int
    t_s: float
    lat_deg: float
    lon_deg: float
    fl: float
    gs_kt: float
    trk_deg: float
    vs_fpm: float

    @property
    def tod_s(self) -> float:
        return self.t_s % S_PER_DAY


def scenario(aircraft: int = 4, steps: int = 3, t0_s: float = DAY_S + 36000.0):
    """A few aircraft around the radar, climbing, descending and level."""
    out: list[Truth] = []
    for k in range(aircraft):
        for step in range(steps):
            out.append(
                Truth(
                    icao24=f"{0x4840D6 + k:06X}",
                    callsign=f"RCH{100 + k}",
                    squawk=f"{(0o1200 + k) & 0o7777:04o}",
                    track_number=100 + k,
                    t_s=t0_s + 4.0 * step + 0.5 * k,
                    lat_deg=35.0 + 0.3 * k + 0.01 * step,
                    lon_deg=36.2 + 0.25 * k - 0.01 * step,
                    fl=250.0 + 20.0 * k + 0.25 * step,
                    gs_kt=300.0 + 25.0 * k,
                    trk_deg=(40.0 + 70.0 * k) % 360.0,
                    vs_fpm=(-1500.0, 0.0, 1250.0, 625.0)[k % 4],
                )
            )
    return out


def cat021_record(t: Truth):
    return Cat021.cv_record.create(
        {
            "010": ((("SAC", SAC), ("SIC", SIC))),
            "040": ((("ATP", 1), ("ARC", 1), ("RC", 0), ("RAB", 0), None),),
            "161": (0, ("TRNUM", t.track_number)),
            "071": (t.tod_s, "s"),
            "131": (("LAT", (t.lat_deg, "°")), ("LON", (t.lon_deg, "°"))),
            "080": int(t.icao24, 16),
            "145": (t.fl, "FL"),
            "155": (("RE", 0), ("BVR", (t.vs_fpm, "ft/min"))),
            "160": (
                ("RE", 0),
                ("GS", (t.gs_kt / 3600.0, "NM/s")),
                ("TA", (t.trk_deg, "°")),
            ),
            "170": f"{t.callsign:<8}",
            "070": (0, ("MODE3A", t.squawk)),
        }
    )


def polar(t: Truth, site: RadarSite = RADAR) -> tuple[float, float]:
    """Slant range (NM) and azimuth (degrees) of a position from a radar."""
    ground_nm = float(
        geodesic_distance_nm(site.lat_deg, site.lon_deg, t.lat_deg, t.lon_deg)
    )
    dh_nm = (t.fl * 100.0 - site.height_ft) * M_PER_FT / M_PER_NM
    theta = float(
        geodesic_azimuth_deg(site.lat_deg, site.lon_deg, t.lat_deg, t.lon_deg)
    )
    return math.hypot(ground_nm, dh_nm), theta


def cat048_record(t: Truth, site: RadarSite = RADAR):
    rho, theta = polar(t, site)
    return Cat048.cv_record.create(
        {
            "010": (("SAC", site.sac), ("SIC", site.sic)),
            "140": (t.tod_s, "s"),
            "020": (
                (("TYP", 5), ("SIM", 0), ("RDP", 0), ("SPI", 0), ("RAB", 0), None),
            ),
            "040": (("RHO", (rho, "NM")), ("THETA", (theta, "°"))),
            "070": (("V", 0), ("G", 0), ("L", 0), 0, ("MODE3A", t.squawk)),
            "090": (("V", 0), ("G", 0), ("FL", (t.fl, "FL"))),
            "220": int(t.icao24, 16),
            "240": f"{t.callsign:<8}",
            "161": (0, ("TRN", t.track_number)),
            "200": (("GSP", (t.gs_kt / 3600.0, "NM/s")), ("HDG", (t.trk_deg, "°"))),
        }
    )


def cat062_record(t: Truth, *, address: bool = True):
    vx = t.gs_kt * MPS_PER_KT * math.sin(math.radians(t.trk_deg))
    vy = t.gs_kt * MPS_PER_KT * math.cos(math.radians(t.trk_deg))
    items = {
        "010": (("SAC", SAC), ("SIC", SIC)),
        "015": 1,
        "070": (t.tod_s, "s"),
        "105": (("LAT", (t.lat_deg, "°")), ("LON", (t.lon_deg, "°"))),
        "185": (("VX", (vx, "m/s")), ("VY", (vy, "m/s"))),
        "060": (0, 0, 0, 0, ("MODE3A", t.squawk)),
        "245": (("STI", 0), 0, ("CHR", f"{t.callsign:<8}")),
        "040": t.track_number,
        "080": ((("MON", 0), ("SPI", 0), ("MRH", 0), ("SRC", 0), ("CNF", 0), None),),
        "136": (t.fl, "FL"),
        "220": (t.vs_fpm, "ft/min"),
    }
    if address:
        items["380"] = {"ADR": int(t.icao24, 16)}
    return Cat062.cv_record.create(items)


ENCODERS = {
    21: (Cat021, cat021_record),
    48: (Cat048, cat048_record),
    62: (Cat062, cat062_record),
}


def encode(cat: int, truths: list[Truth], per_block: int = 5) -> bytes:
    """Data blocks of one category, ``per_block`` records each."""
    spec, record = ENCODERS[cat]
    blocks = []
    for k in range(0, len(truths), per_block):
        records = [record(t) for t in truths[k : k + per_block]]
        blocks.append(spec.create(records).unparse().to_bytes())
    return b"".join(blocks)


def decode_cat062(data: bytes) -> list[dict[str, float | str]]:
    """CAT062 blocks decoded by libasterix: what our writer's output says."""
    out: list[dict[str, float | str]] = []
    blocks = RawDatablock.parse(Bits.from_bytes(data))
    assert not isinstance(blocks, ValueError), blocks
    for block in blocks:
        assert block.get_category() == 62
        records = Cat062.cv_uap.parse(block.get_raw_records())
        assert not isinstance(records, ValueError), records
        for rec in records:
            item = rec.get_item
            pos = item("105").variation
            vel = item("185").variation
            row: dict[str, float | str] = {
                "sac": item("010").variation.get_item("SAC").as_uint(),
                "sic": item("010").variation.get_item("SIC").as_uint(),
                "tod_s": item("070").variation.content.as_quantity("s"),
                "lat": pos.get_item("LAT").variation.content.as_quantity("°"),
                "lon": pos.get_item("LON").variation.content.as_quantity("°"),
                "vx": vel.get_item("VX").variation.content.as_quantity("m/s"),
                "vy": vel.get_item("VY").variation.content.as_quantity("m/s"),
                "fl": item("136").variation.content.as_quantity("FL"),
                "track_number": item("040").as_uint(),
            }
            if item("220") is not None:
                row["vs_fpm"] = item("220").variation.content.as_quantity("ft/min")
            if item("060") is not None:
                row["squawk"] = (
                    item("060")
                    .variation.get_item("MODE3A")
                    .variation.content.as_string()
                )
            if item("245") is not None:
                row["callsign"] = (
                    item("245").variation.get_item("CHR").variation.content.as_string()
                )
            if item("380") is not None and item("380").variation.get_item("ADR"):
                row["icao24"] = f"{item('380').variation.get_item('ADR').as_uint():06X}"
            out.append(row)
    return out
