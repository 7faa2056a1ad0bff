"""Flying the planned routes: every sortie sampled on one time grid (climb,
level, descent at constant rates), excursions and encounters applied, GPS jitter on a
few samples, names given; the result is the :class:`Traffic`.

Part of :mod:`deconfliction.scenario.traffic` (:func:`simulate_traffic`).
"""

from __future__ import annotations

import math

import numpy as np

from deconfliction.domain.geodesy import (
    destination,
    geodesic_azimuth_deg,
)
from deconfliction.domain.model import FloatArray, IntArray
from deconfliction.scenario.routes import (
    _PlannedEncounter,
    _PlannedExcursion,
    _Route,
)
from deconfliction.scenario.traffic_types import (
    BoolArray,
    Encounter,
    Excursion,
    PartyPlan,
    Sortie,
    Traffic,
    TrafficConfig,
)
from deconfliction.units import S_PER_H, S_PER_MIN

_MIN_REMAINING_NM: float = 1e-3  # closer than this to a leg's end, keep its azimuth


def _fly(
    routes: list[_Route],
    plans: tuple[PartyPlan, ...],
    excursions: list[_PlannedExcursion],
    encounters: list[_PlannedEncounter],
    config: TrafficConfig,
    rng: np.random.Generator,
) -> Traffic:
    """Sample every route on the grid, name the sorties, add jitter."""
    n_steps = config.n_steps
    step_t_s = config.start_t_s + np.arange(n_steps, dtype=np.float64) * config.step_s
    route_of: list[IntArray] = []
    k_of: list[IntArray] = []
    lat0: list[FloatArray] = []
    lon0: list[FloatArray] = []
    lat1: list[FloatArray] = []
    lon1: list[FloatArray] = []
    az0: list[FloatArray] = []
    along: list[FloatArray] = []
    remaining: list[FloatArray] = []
    alt: list[FloatArray] = []
    vs: list[FloatArray] = []
    for i, r in enumerate(routes):
        k0 = max(
            math.ceil((r.departure_t_s - config.start_t_s) / config.step_s - 1e-9), 0
        )
        k1 = min(
            math.floor((r.arrival_t_s - config.start_t_s) / config.step_s + 1e-9),
            n_steps - 1,
        )
        if k1 < k0:
            continue
        k = np.arange(k0, k1 + 1, dtype=np.int64)
        t = step_t_s[k]
        d_nm = np.clip((t - r.departure_t_s) * r.gs_kt / S_PER_H, 0.0, r.length_nm)
        seg = r.segment_of(d_nm)
        route_of.append(np.full(len(k), i, dtype=np.int64))
        k_of.append(k)
        lat0.append(r.lat_deg[seg])
        lon0.append(r.lon_deg[seg])
        lat1.append(r.lat_deg[seg + 1])
        lon1.append(r.lon_deg[seg + 1])
        az0.append(r.az_deg[seg])
        along.append(d_nm - r.cum_nm[seg])
        remaining.append(r.cum_nm[seg + 1] - d_nm)
        climb_ft = r.climb_fpm * (t - r.departure_t_s) / S_PER_MIN
        descent_ft = r.descent_fpm * (r.arrival_t_s - t) / S_PER_MIN
        a = np.maximum(
            np.minimum(np.minimum(climb_ft, descent_ft), r.cruise_alt_ft), 0.0
        )
        v = np.where(
            climb_ft < np.minimum(descent_ft, r.cruise_alt_ft), r.climb_fpm, 0.0
        )
        v = np.where(
            descent_ft < np.minimum(climb_ft, r.cruise_alt_ft), -r.descent_fpm, v
        )
        alt.append(a)
        vs.append(v)

    route_idx = _cat_int(route_of)
    step_idx = _cat_int(k_of)
    lat_deg, lon_deg = destination(_cat(lat0), _cat(lon0), _cat(az0), _cat(along))
    trk_deg = geodesic_azimuth_deg(lat_deg, lon_deg, _cat(lat1), _cat(lon1))
    # at a leg's very end the azimuth to it is undefined: keep the leg's azimuth
    trk_deg = np.where(_cat(remaining) < _MIN_REMAINING_NM, _cat(az0), trk_deg)

    name, sortie_of_route, sorties = _name_sorties(routes, plans, route_idx)

    sortie_idx = sortie_of_route[route_idx]
    order = np.lexsort((sortie_idx, step_idx))
    sortie_idx, step_idx = sortie_idx[order], step_idx[order]
    lat_deg, lon_deg, trk_deg = lat_deg[order], lon_deg[order], trk_deg[order]
    alt_ft, vs_fpm = _cat(alt)[order], _cat(vs)[order]
    ids_by_sortie = np.array([s.id for s in sorties] or [""], dtype=np.str_)
    party_by_sortie = np.array([s.party for s in sorties] or [""], dtype=np.str_)
    gs_by_sortie = np.array([s.gs_kt for s in sorties] or [0.0], dtype=np.float64)

    lat_deg, lon_deg, is_noisy = _jitter(lat_deg, lon_deg, config, rng)

    window_end_t_s = float(step_t_s[-1])
    return Traffic(
        config=config,
        sorties=sorties,
        excursions=tuple(
            Excursion(
                aircraft_id=name[e.route],
                party=routes[e.route].party,
                apex_t_s=routes[e.route].t_at(e.apex_nm),
                apex_lat_deg=e.apex_lat_deg,
                apex_lon_deg=e.apex_lon_deg,
                depth_nm=e.depth_nm,
            )
            for e in excursions
            if e.route in name
            and config.start_t_s <= routes[e.route].t_at(e.apex_nm) <= window_end_t_s
        ),
        encounters=_named_encounters(encounters, name),
        step_t_s=step_t_s,
        step_offsets=np.searchsorted(step_idx, np.arange(n_steps + 1)).astype(np.int64),
        t_s=step_t_s[step_idx],
        sortie_index=sortie_idx,
        ids=ids_by_sortie[sortie_idx],
        party=party_by_sortie[sortie_idx],
        lat_deg=lat_deg,
        lon_deg=lon_deg,
        alt_ft=alt_ft,
        gs_kt=gs_by_sortie[sortie_idx],
        trk_deg=trk_deg,
        vs_fpm=vs_fpm,
        is_noisy=is_noisy,
    )


def _name_sorties(
    routes: list[_Route], plans: tuple[PartyPlan, ...], route_idx: IntArray
) -> tuple[dict[int, str], IntArray, tuple[Sortie, ...]]:
    """Name the sorties airborne in the window: prefix and number by departure.

    Returns:
        The name of each flown route, the sortie number of each route (-1: not
        flown), and the sorties in name order.
    """
    flown = np.unique(route_idx)
    prefix = {p.party: p.callsign_prefix for p in plans}
    numbers: dict[str, int] = {}
    name: dict[int, str] = {}
    for i in sorted(
        flown.tolist(), key=lambda j: (routes[j].party, routes[j].departure_t_s, j)
    ):
        party = routes[i].party
        numbers[party] = numbers.get(party, 0) + 1
        name[i] = f"{prefix[party]}{numbers[party]:03d}"
    order_ids = sorted(name, key=lambda j: name[j])
    sortie_of_route = np.full(len(routes), -1, dtype=np.int64)
    sortie_of_route[order_ids] = np.arange(len(order_ids))
    sorties = tuple(
        Sortie(
            id=name[i],
            party=routes[i].party,
            base_id=routes[i].base.id,
            kind=routes[i].kind,
            departure_t_s=routes[i].departure_t_s,
            arrival_t_s=routes[i].arrival_t_s,
            cruise_alt_ft=routes[i].cruise_alt_ft,
            gs_kt=routes[i].gs_kt,
        )
        for i in order_ids
    )
    return name, sortie_of_route, sorties


def _jitter(
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    config: TrafficConfig,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """GPS jitter: a circular Gaussian offset (Rayleigh distance, uniform azimuth) on
    a random ``config.noise_fraction`` of the samples, which are flagged."""
    is_noisy = rng.random(len(lat_deg)) < config.noise_fraction
    n_noisy = int(is_noisy.sum())
    if n_noisy:
        j_lat, j_lon = destination(
            lat_deg[is_noisy],
            lon_deg[is_noisy],
            rng.uniform(0.0, 360.0, n_noisy),
            rng.rayleigh(config.noise_sigma_nm, n_noisy),
        )
        lat_deg = lat_deg.copy()
        lon_deg = lon_deg.copy()
        lat_deg[is_noisy], lon_deg[is_noisy] = j_lat, j_lon
    return lat_deg, lon_deg, is_noisy


def _named_encounters(
    encounters: list[_PlannedEncounter], name: dict[int, str]
) -> tuple[Encounter, ...]:
    """The planned encounters whose two sorties both fly in the window, named."""
    return tuple(
        Encounter(
            intruder_id=name[e.intruder],
            target_id=name[e.target],
            kind=e.kind,
            t_s=e.t_s,
            miss_nm=e.miss_nm,
            dalt_ft=e.dalt_ft,
        )
        for e in encounters
        if e.intruder in name and e.target in name
    )


def _cat(parts: list[FloatArray]) -> FloatArray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _cat_int(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
