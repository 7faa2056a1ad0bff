"""The catalogue of canonical encounters, shared by the tests through parametrize.

Each encounter is laid out in a local east/north frame (NM, knots) around a centre
and placed on the ellipsoid with geodesy: an aircraft's position is the point
``(east_nm, north_nm)`` from the centre, and its track is the geodesic azimuth
towards where its velocity would take it in ``AIM_S`` seconds, so a straight path
through the centre stays exact on the ellipsoid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deconfliction.domain import geodesy
from deconfliction.domain.model import AircraftStates

AIM_S: float = 600.0  # far enough that the aim point fixes the track well


@dataclass(frozen=True)
class Plane:
    """One aircraft of an encounter in the centre's local frame."""

    id: str
    east_nm: float
    north_nm: float
    alt_ft: float
    ve_kt: float
    vn_kt: float
    vs_fpm: float = 0.0
    party: str | None = None


@dataclass(frozen=True)
class Expected:
    """What detection must find for the pair (A, B), or None for no conflict."""

    tcpa_s: float
    dcpa_nm: float
    dalt_ft_at_cpa: float
    tin_s: float
    tout_s: float


@dataclass(frozen=True)
class Encounter:
    """A named encounter and its expected result with 5 NM, 1000 ft, 300 s."""

    name: str
    planes: tuple[Plane, ...]
    expected: Expected | None


def place(
    planes: tuple[Plane, ...] | list[Plane],
    center_lat_deg: float = 35.0,
    center_lon_deg: float = 39.0,
    rotation_deg: float = 0.0,
) -> AircraftStates:
    """Put an encounter on the ellipsoid, rotated by ``rotation_deg`` clockwise."""
    rot = math.radians(rotation_deg)

    def rotate(e: float, n: float) -> tuple[float, float]:
        return (
            e * math.cos(rot) + n * math.sin(rot),
            -e * math.sin(rot) + n * math.cos(rot),
        )

    def point(e_nm: float, n_nm: float) -> tuple[float, float]:
        dist = math.hypot(e_nm, n_nm)
        az = math.degrees(math.atan2(e_nm, n_nm))
        lat, lon = geodesy.destination(center_lat_deg, center_lon_deg, az, dist)
        return float(lat), float((float(lon) + 180.0) % 360.0 - 180.0)

    rows = []
    for p in planes:
        e, n = rotate(p.east_nm, p.north_nm)
        ve, vn = rotate(p.ve_kt, p.vn_kt)
        lat, lon = point(e, n)
        gs = math.hypot(ve, vn)
        if gs > 0:
            aim_lat, aim_lon = point(e + ve * AIM_S / 3600, n + vn * AIM_S / 3600)
            trk = float(geodesy.geodesic_azimuth_deg(lat, lon, aim_lat, aim_lon))
        else:
            trk = 0.0
        rows.append((p.id, p.party or p.id, lat, lon, p.alt_ft, gs, trk, p.vs_fpm))
    ids, party, lat, lon, alt, gs, trk, vs = zip(*rows, strict=True)
    return AircraftStates.from_columns(
        ids, lat, lon, alt, gs, trk, vs, party=np.array(party)
    )


CATALOGUE: tuple[Encounter, ...] = (
    Encounter(
        "head-on",
        (
            Plane("A", -20, 0, 25000, 480, 0),
            Plane("B", 20, 0, 25000, -480, 0),
        ),
        Expected(150.0, 0.0, 0.0, 131.25, 168.75),
    ),
    Encounter(
        "crossing-90",
        (
            Plane("A", 0, -20, 25000, 0, 400),
            Plane("B", -20, 0, 25000, 400, 0),
        ),
        Expected(
            180.0,
            0.0,
            0.0,
            (20 - 5 / math.sqrt(2)) / 400 * 3600,
            (20 + 5 / math.sqrt(2)) / 400 * 3600,
        ),
    ),
    Encounter(
        "overtaking",
        (
            Plane("A", 0, -10, 25000, 0, 500),
            Plane("B", 0, 0, 25000, 0, 400),
        ),
        Expected(300.0, 10 - 100 * 300 / 3600, 0.0, 180.0, 300.0),
    ),
    Encounter(
        "parallel-inside",
        (
            Plane("A", 0, 0, 25000, 0, 450),
            Plane("B", 3, 0, 25000, 0, 450),
        ),
        Expected(0.0, 3.0, 0.0, 0.0, 300.0),
    ),
    Encounter(
        "parallel-outside",
        (
            Plane("A", 0, 0, 25000, 0, 450),
            Plane("B", 6, 0, 25000, 0, 450),
        ),
        None,
    ),
    Encounter(
        "diverging",
        (
            Plane("A", 2, 0, 25000, 480, 0),
            Plane("B", -2, 0, 25000, -480, 0),
        ),
        Expected(0.0, 4.0, 0.0, 0.0, 3.75),
    ),
    Encounter(
        "climbing-through",
        (
            Plane("A", 0, 0, 20000, 0, 400),
            Plane("B", 1, 0, 18000, 0, 400, vs_fpm=2000),
        ),
        Expected(0.0, 1.0, 2000.0, 30.0, 90.0),
    ),
    Encounter(
        "one-stationary",
        (
            Plane("A", 0, 0, 25000, 0, 0),
            Plane("B", -20, 0, 25000, 360, 0),
        ),
        Expected(200.0, 0.0, 0.0, 150.0, 250.0),
    ),
    Encounter(
        "vertical-only",
        (
            Plane("A", 0, 0, 25000, 300, 0),
            Plane("B", 0, 0, 25500, 300, 0),
        ),
        Expected(0.0, 0.0, 500.0, 0.0, 300.0),
    ),
    Encounter(
        "co-located",
        (
            Plane("A", 0, 0, 25000, 0, 0),
            Plane("B", 0, 0, 25000, 0, 0),
        ),
        Expected(0.0, 0.0, 0.0, 0.0, 300.0),
    ),
    Encounter(
        "vertically-separated-crossing",
        (
            Plane("A", 0, -20, 25000, 0, 400),
            Plane("B", -20, 0, 26000, 400, 0),
        ),
        None,
    ),
    Encounter(
        "miss-beyond-lookahead",
        (
            Plane("A", -60, 0, 25000, 480, 0),
            Plane("B", 60, 0, 25000, -480, 0),
        ),
        None,
    ),
)


AT_THE_MINIMA: tuple[Encounter, ...] = (
    # Exactly at a minimum is separated: a loss is strictly closer than both.
    Encounter(
        "head-on-at-adjacent-flight-levels",  # FL360 and FL370 under RVSM
        (
            Plane("A", -20, 0, 36000, 480, 0),
            Plane("B", 20, 0, 37000, -480, 0),
        ),
        None,
    ),
    Encounter(
        "co-located-1000-ft-apart",
        (
            Plane("A", 0, 0, 25000, 0, 0),
            Plane("B", 0, 0, 26000, 0, 0),
        ),
        None,
    ),
    Encounter(
        "parallel-5-nm-apart",
        (
            Plane("A", 0, 0, 25000, 0, 450),
            Plane("B", 5, 0, 25000, 0, 450),
        ),
        None,
    ),
    Encounter(
        "passing-abeam-5-nm-apart",  # the closest point of approach is now
        (
            Plane("A", 0, 0, 25000, 0, 450),
            Plane("B", 5, 0, 25000, 0, -450),
        ),
        None,
    ),
)
"""Encounters exactly at the minima (5 NM, 1,000 ft): none is a conflict."""
