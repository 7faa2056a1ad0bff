"""Small traffic for the analysis tests: straight flights and the reference scenario."""

from __future__ import annotations

from functools import cache

import numpy as np

from deconfliction.adapters.protocol_file import resolve_protocol
from deconfliction.analysis.demo import scenario_line
from deconfliction.analysis.tracks import TrackTable
from deconfliction.domain import geodesy
from deconfliction.domain.protocol import Protocol
from deconfliction.scenario.traffic import TrafficConfig, simulate_traffic

T0_S = 1513123200.0  # 2017-12-13T00:00:00Z, a multiple of every interval used


def flight(
    ident: str,
    party: str,
    lat_deg: float,
    lon_deg: float,
    trk_deg: float,
    t0_s: float,
    n: int,
    step_s: float = 5.0,
    gs_kt: float = 420.0,
    alt_ft: float = 25_000.0,
    vs_fpm: float = 0.0,
) -> TrackTable:
    """A straight, level (or steady) flight of ``n`` positions from (lat, lon)."""
    elapsed_s = np.arange(n) * step_s
    lat, lon = geodesy.destination(
        np.full(n, lat_deg),
        np.full(n, lon_deg),
        np.full(n, trk_deg),
        gs_kt * elapsed_s / 3600.0,
    )
    return TrackTable.from_columns(
        [ident] * n,
        [party] * n,
        t0_s + elapsed_s,
        lat,
        lon,
        alt_ft + vs_fpm * elapsed_s / 60.0,
        [gs_kt] * n,
        [trk_deg] * n,
        [vs_fpm] * n,
    )


def head_on(
    t_meet_s: float, lat_deg: float = 34.0, lon_deg: float = 37.0, step_s: float = 5.0
) -> TrackTable:
    """A coalition and a Russian aircraft meeting head-on at ``t_meet_s`` (500 ft
    apart), each flying 15 minutes before and after."""
    half_s = 900.0
    out = []
    for ident, party, trk, alt in (
        ("COA1", "coalition", 90.0, 25_000.0),
        ("RUS1", "russia", 270.0, 25_500.0),
    ):
        back = (trk + 180.0) % 360.0
        lat0, lon0 = geodesy.destination(lat_deg, lon_deg, back, 420.0 * half_s / 3600)
        n = int(2 * half_s / step_s) + 1
        out.append(
            flight(
                ident,
                party,
                float(lat0),
                float(lon0),
                trk,
                t_meet_s - half_s,
                n,
                step_s=step_s,
                alt_ft=alt,
            )
        )
    return TrackTable.concat(out)


@cache
def euphrates() -> Protocol:
    return resolve_protocol("euphrates-2017")


@cache
def reference_traffic(hours: float = 2.0, seed: int = 9) -> TrackTable:
    """The demo's traffic, busy with excursions and encounters."""
    config = TrafficConfig(
        seed=seed,
        duration_s=hours * 3600.0,
        excursions_per_day=96.0,
        encounters_per_day=96.0,
    )
    return TrackTable.from_traffic(simulate_traffic(scenario_line(euphrates()), config))


def random_traffic(n_sorties: int, hours: float, seed: int = 1) -> TrackTable:
    """Dense random straight flights of four parties over Syria and Iraq, climbing
    and descending some of them, sampled every 5 s."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_sorties):
        start = T0_S + rng.uniform(-0.5, hours) * 3600.0
        start = 5.0 * np.ceil(start / 5.0)
        n = int(rng.uniform(0.3, 1.0) * 3600 / 5)
        parts.append(
            flight(
                f"AC{k:04d}",
                ["coalition", "russia", "turkey", "syria"][k % 4],
                rng.uniform(33.5, 36.5),
                rng.uniform(37.0, 41.0),
                rng.uniform(0.0, 360.0),
                start,
                n,
                gs_kt=rng.uniform(300.0, 480.0),
                alt_ft=float(rng.integers(20, 30) * 1000),
                vs_fpm=float(rng.choice([0.0, 0.0, 1500.0, -1500.0])),
            )
        )
    table = TrackTable.concat(parts)
    keep = (table.t_s >= T0_S) & (table.t_s < T0_S + hours * 3600.0)
    return table.take(keep).in_time_order()
