"""Guidance for a whole theatre at once: every pair that may alert, bands for every
aircraft in an alert.

1. Candidate pairs come from the detection broadphase
   (:mod:`deconfliction.domain.broadphase`) with the largest volume of the
   configuration, looking ahead by the lookahead plus the largest modified tau or
   time to co-altitude (a pair inside WCV* at time t is within DTHR horizontally by
   t + TTHR at the latest).
2. Alerting (:func:`~deconfliction.domain.daa.picture.alert`) for each candidate pair
   in both directions.
3. Bands for every aircraft with an alert level at or above ``bands_from_level``,
   against every aircraft within its manoeuvre reach (a KD-tree radius query, then
   :func:`~deconfliction.domain.daa.bands.may_matter` per dimension).

``eligible_own`` restricts the ownships (e.g. to one party's aircraft: a party gets
guidance for its own aircraft only).

:func:`reach_pairs` and :func:`ownship_bands` serve the live server, which knows its
ownships already (its own aircraft in an alert) and chooses, per ownship, which
traffic it may compute against (what that ownship's party may see).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from deconfliction.domain import geodesy
from deconfliction.domain.broadphase import candidate_pairs
from deconfliction.domain.daa.alerting import PairAlerts, level_thresholds, n_levels
from deconfliction.domain.daa.bands import DimensionBands
from deconfliction.domain.daa.config import DaaConfig
from deconfliction.domain.daa.picture import Assessment, StepStates, alert, assess
from deconfliction.domain.model import BoolArray, FloatArray, IntArray
from deconfliction.units import M_PER_FT, MPS_PER_FPM, MPS_PER_KT


@dataclass(frozen=True, slots=True)
class TheatreGuidance:
    """Alerting of candidate pairs (``own``, ``traffic``) and bands of ``ownships``."""

    own: IntArray
    traffic: IntArray
    alerts: PairAlerts
    ownships: IntArray
    bands: dict[str, DimensionBands]


def _largest_volume(config: DaaConfig, alt_ft: float) -> tuple[float, float, float]:
    """Largest DTHR (m), ZTHR (m) and max(TTHR, TCOA) (s) of any level."""
    d = z = t = 0.0
    for a_idx in range(len(config.alerters)):
        for lev in range(1, n_levels(config) + 1):
            th = level_thresholds(config, np.array([a_idx]), lev, np.array([alt_ft]))
            if th.exists[0]:
                d = max(d, float(th.dthr_m[0]))
                z = max(z, float(th.zthr_m[0]))
                t = max(t, float(th.tthr_s[0]), float(th.tcoa_s[0]))
    return d, z, t


def guidance(
    config: DaaConfig,
    states: StepStates,
    bands_from_level: int = 1,
    eligible_own: BoolArray | None = None,
    sample_s: float = 4.0,
) -> TheatreGuidance:
    """Alerting and bands for a WGS-84 picture (``states.frame == "wgs84"``)."""
    n = states.alt_ft.shape[0]
    geodesy.check_latitudes(states.lat_deg)
    pos = geodesy.ecef_surface_m(states.lat_deg, states.lon_deg)
    east, north, _ = geodesy.enu_basis(states.lat_deg, states.lon_deg)
    trk = np.radians(states.trk_deg)
    gs = states.gs_kt * MPS_PER_KT
    vel = (gs * np.sin(trk))[:, None] * east + (gs * np.cos(trk))[:, None] * north
    top_ft = float(states.alt_ft.max(initial=0.0))
    d_m, z_m, extra_s = _largest_volume(config, max(top_ft, 50_000.0))
    cand = candidate_pairs(
        pos,
        vel,
        states.alt_ft * M_PER_FT,
        states.vs_fpm * MPS_PER_FPM,
        d_m,
        z_m,
        config.lookahead_s + extra_s,
    )
    own = np.concatenate([cand.i, cand.j]).astype(np.int64)
    traffic = np.concatenate([cand.j, cand.i]).astype(np.int64)
    alerts = alert(config, states, own, traffic)
    alerting_own = own[alerts.raw_level >= bands_from_level]
    if eligible_own is not None:
        alerting_own = alerting_own[eligible_own[alerting_own]]
    ownships = np.unique(alerting_own)
    b_own, b_traffic = _within(pos, ownships, _reach_m(config, gs, d_m))
    b_level = _levels_for(own, traffic, alerts.raw_level, b_own, b_traffic, n)
    result = assess(
        config,
        states,
        b_own,
        b_traffic,
        ownships=ownships,
        reported_level=b_level,
        sample_s=sample_s,
    )
    return TheatreGuidance(
        own=own, traffic=traffic, alerts=alerts, ownships=ownships, bands=result.bands
    )


def _reach_m(config: DaaConfig, gs_mps: FloatArray, dthr_m: float) -> float:
    """How far traffic may be and still matter to an ownship's manoeuvres."""
    fastest_mps = float(gs_mps.max(initial=0.0))
    return (config.max_hs_kt * MPS_PER_KT + fastest_mps) * config.lookahead_s + (
        dthr_m * 2.0
    )


def _within(
    pos_m: FloatArray, ownships: IntArray, reach_m: float
) -> tuple[IntArray, IntArray]:
    """(ownship, traffic) pairs within ``reach_m`` of each other (KD-tree)."""
    tree = cKDTree(pos_m)
    found: Any = (
        tree.query_ball_point(pos_m[ownships], r=reach_m) if ownships.size else []
    )
    near: list[list[int]] = [list(x) for x in found]
    counts = np.array([len(x) for x in near], dtype=np.int64)
    b_own = np.repeat(ownships, counts)
    b_traffic = (
        np.concatenate([np.asarray(x, dtype=np.int64) for x in near])
        if len(near)
        else np.zeros(0, dtype=np.int64)
    )
    keep = b_own != b_traffic
    return b_own[keep], b_traffic[keep]


def reach_pairs(
    config: DaaConfig, states: StepStates, ownships: IntArray
) -> tuple[IntArray, IntArray]:
    """Every (ownship, traffic) pair of a WGS-84 picture close enough for the
    traffic to matter to the ownship's bands: within what both can fly in the
    lookahead plus twice the largest DTHR (beyond, no candidate can reach it).

    >>> from deconfliction.domain.daa.config import _MINIMAL, parse_conf
    >>> states = StepStates(
    ...     lat_deg=np.array([35.0, 35.0, 40.0]),
    ...     lon_deg=np.array([36.0, 36.1, 36.0]),
    ...     x_m=np.zeros(3), y_m=np.zeros(3),
    ...     alt_ft=np.full(3, 20000.0), trk_deg=np.zeros(3),
    ...     gs_kt=np.full(3, 300.0), vs_fpm=np.zeros(3),
    ...     alerter=np.zeros(3, dtype=np.int64),
    ... )
    >>> config = parse_conf(_MINIMAL, "x.conf")
    >>> own, traffic = reach_pairs(config, states, np.array([0]))
    >>> own.tolist(), traffic.tolist()
    ([0], [1])
    """
    geodesy.check_latitudes(states.lat_deg)
    pos = geodesy.ecef_surface_m(states.lat_deg, states.lon_deg)
    top_ft = float(states.alt_ft.max(initial=0.0))
    d_m, _, _ = _largest_volume(config, max(top_ft, 50_000.0))
    gs = states.gs_kt * MPS_PER_KT
    return _within(pos, np.asarray(ownships, dtype=np.int64), _reach_m(config, gs, d_m))


def ownship_bands(
    config: DaaConfig,
    states: StepStates,
    ownships: IntArray,
    own: IntArray,
    traffic: IntArray,
    sample_s: float = 4.0,
) -> Assessment:
    """Bands of each of ``ownships`` against only the pairs ``(own[k],
    traffic[k])`` given (the caller chooses the traffic each ownship may be
    computed against); an ownship with no pair gets bands free of traffic. Each
    pair's alert level (raw, this step) picks its early alerting times."""
    return assess(
        config,
        states,
        np.asarray(own, dtype=np.int64),
        np.asarray(traffic, dtype=np.int64),
        ownships=np.unique(np.asarray(ownships, dtype=np.int64)),
        sample_s=sample_s,
    )


def _levels_for(
    own: IntArray,
    traffic: IntArray,
    level: IntArray,
    b_own: IntArray,
    b_traffic: IntArray,
    n: int,
) -> IntArray:
    """The alert level of each (b_own, b_traffic) pair (0 when not a candidate)."""
    key = own * n + traffic
    order = np.argsort(key)
    pos = np.searchsorted(key[order], b_own * n + b_traffic)
    pos = np.clip(pos, 0, max(key.size - 1, 0))
    if key.size == 0:
        return np.zeros(b_own.size, dtype=np.int64)
    found = key[order][pos] == b_own * n + b_traffic
    return np.where(found, level[order][pos], 0).astype(np.int64)
