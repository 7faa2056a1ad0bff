"""Seeded aircraft snapshots for the detection benchmarks, and their CSV form.

Two kinds of traffic share one kinematic mix (altitude 15,000-40,000 ft, ground
speed 250-550 kt, any track, 70 % level and the rest climbing or descending at
500-3,000 ft/min):

* :func:`uniform_states` spreads N aircraft over a fixed box over northern Syria
  (33-37.5 N, 36-42.5 E), so density grows with N; the comparison with BlueSky uses
  it.
* :func:`busy_states` keeps the density fixed at one aircraft per
  :data:`BUSY_NM2_PER_AIRCRAFT` and lets the square grow with N; the scaling
  benchmark uses it.

Ids are ``AC`` and a zero-padded index, so sorting by id sorts by index.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deconfliction.domain.geodesy import LocalProjection
from deconfliction.domain.model import AircraftStates, FloatArray
from deconfliction.units import M_PER_NM

UNIFORM_LAT_DEG: tuple[float, float] = (33.0, 37.5)
UNIFORM_LON_DEG: tuple[float, float] = (36.0, 42.5)
ALT_FT: tuple[float, float] = (15_000.0, 40_000.0)
GS_KT: tuple[float, float] = (250.0, 550.0)
LEVEL_FRACTION: float = 0.7
VS_FPM: tuple[float, float] = (500.0, 3_000.0)

BUSY_NM2_PER_AIRCRAFT: float = 100.0
"""Busy-airspace density: about the peak of Maastricht UAC, which handles some 700
aircraft at once over roughly 76,000 NM^2 (one per ~110 NM^2) above FL245."""
BUSY_CENTER_LAT_DEG: float = 35.0
BUSY_CENTER_LON_DEG: float = 39.0

CSV_HEADER: str = "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"


def aircraft_ids(n: int) -> list[str]:
    """``AC000000``, ``AC000001``, ...: ids whose string order is their index order.

    >>> aircraft_ids(2)
    ['AC000000', 'AC000001']
    """
    width = max(6, len(str(max(n - 1, 0))))
    return [f"AC{k:0{width}d}" for k in range(n)]


def _motion(
    rng: np.random.Generator, n: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Altitude, ground speed, track and vertical rate of ``n`` aircraft."""
    alt_ft = rng.uniform(*ALT_FT, n)
    gs_kt = rng.uniform(*GS_KT, n)
    trk_deg = rng.uniform(0.0, 360.0, n)
    level = rng.random(n) < LEVEL_FRACTION
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    vs_fpm = np.where(level, 0.0, sign * rng.uniform(*VS_FPM, n))
    return alt_ft, gs_kt, trk_deg, vs_fpm


def uniform_states(n: int, seed: int) -> AircraftStates:
    """``n`` aircraft drawn uniformly in the fixed box (the BlueSky comparison).

    >>> s = uniform_states(3, seed=1)
    >>> len(s), bool(((s.lat_deg >= 33) & (s.lat_deg <= 37.5)).all())
    (3, True)
    """
    rng = np.random.default_rng(seed)
    lat_deg = rng.uniform(*UNIFORM_LAT_DEG, n)
    lon_deg = rng.uniform(*UNIFORM_LON_DEG, n)
    alt_ft, gs_kt, trk_deg, vs_fpm = _motion(rng, n)
    return AircraftStates.from_columns(
        aircraft_ids(n), lat_deg, lon_deg, alt_ft, gs_kt, trk_deg, vs_fpm
    )


def busy_side_nm(n: int, nm2_per_aircraft: float = BUSY_NM2_PER_AIRCRAFT) -> float:
    """Side of the square that holds ``n`` aircraft at the busy density.

    >>> busy_side_nm(10_000)
    1000.0
    """
    return math.sqrt(n * nm2_per_aircraft)


def busy_states(
    n: int, seed: int, nm2_per_aircraft: float = BUSY_NM2_PER_AIRCRAFT
) -> AircraftStates:
    """``n`` aircraft at busy-airspace density in a square that grows with ``n``.

    x and y are uniform in a square of :func:`busy_side_nm` in an azimuthal
    equidistant projection centred on 35 N 39 E; the projection keeps areas within
    about 4 % out to the corners of the 100,000-aircraft square (3,162 NM a side).
    """
    rng = np.random.default_rng(seed)
    half_m = busy_side_nm(n, nm2_per_aircraft) * M_PER_NM / 2.0
    x_m = rng.uniform(-half_m, half_m, n)
    y_m = rng.uniform(-half_m, half_m, n)
    lat_deg, lon_deg = LocalProjection(
        BUSY_CENTER_LAT_DEG, BUSY_CENTER_LON_DEG
    ).to_lat_lon_deg(x_m, y_m)
    alt_ft, gs_kt, trk_deg, vs_fpm = _motion(rng, n)
    return AircraftStates.from_columns(
        aircraft_ids(n), lat_deg, lon_deg, alt_ft, gs_kt, trk_deg, vs_fpm
    )


def write_states_csv(states: AircraftStates, path: Path) -> None:
    """Write ``states`` with the header ``id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm``.

    Positions keep 8 decimals (about 1 mm), so both programs that read the file see
    the same traffic as the snapshot, to well below any threshold effect.
    """
    rows = zip(
        states.ids.tolist(),
        states.lat_deg.tolist(),
        states.lon_deg.tolist(),
        states.alt_ft.tolist(),
        states.gs_kt.tolist(),
        states.trk_deg.tolist(),
        states.vs_fpm.tolist(),
        strict=True,
    )
    lines = [CSV_HEADER]
    lines.extend(
        f"{i},{lat:.8f},{lon:.8f},{alt:.3f},{gs:.4f},{trk:.5f},{vs:.3f}"
        for i, lat, lon, alt, gs, trk, vs in rows
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
