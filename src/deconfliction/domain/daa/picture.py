"""One time step of a detect-and-avoid picture, and the guidance computed for it.

:func:`assess` takes the aircraft of a step (any number of ownships, each against
the traffic it is given), builds the relative states in each ownship's local
east/north/up frame (WGS-84, :mod:`deconfliction.domain.geodesy`), and returns the
alerting figures of every pair and the bands of every ownship. Nothing here loops
over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deconfliction.domain import geodesy
from deconfliction.domain.daa.alerting import PairAlerts, alert_pairs
from deconfliction.domain.daa.bands import (
    DimensionBands,
    OwnshipStates,
    TrafficPairs,
    compute_bands,
)
from deconfliction.domain.daa.config import DaaConfig
from deconfliction.domain.model import BoolArray, FloatArray, IntArray
from deconfliction.units import M_PER_FT, MPS_PER_FPM, MPS_PER_KT


@dataclass(frozen=True, slots=True)
class StepStates:
    """Aircraft of one step, shape ``(n,)``.

    ``frame`` says how positions are read: ``"wgs84"`` (latitude/longitude on the
    WGS-84 ellipsoid, each ownship's local east/north/up frame), ``"daidalus"``
    (latitude/longitude projected orthographically on DAIDALUS's sphere at each
    ownship, as DAIDALUS reads its ``.daa`` files) or ``"cartesian"`` (``x_m``/``y_m``,
    east/north metres of one flat frame).
    """

    lat_deg: FloatArray
    lon_deg: FloatArray
    x_m: FloatArray
    y_m: FloatArray
    alt_ft: FloatArray
    trk_deg: FloatArray
    gs_kt: FloatArray
    vs_fpm: FloatArray
    alerter: IntArray
    frame: str = "wgs84"


def velocity_mps(
    trk_deg: FloatArray, gs_kt: FloatArray, vs_fpm: FloatArray
) -> FloatArray:
    """East/north/up velocity (m/s) from track, ground speed and vertical speed."""
    trk = np.radians(trk_deg)
    gs = gs_kt * MPS_PER_KT
    return np.stack([gs * np.sin(trk), gs * np.cos(trk), vs_fpm * MPS_PER_FPM], axis=-1)


def relative_positions_m(
    states: StepStates, own: IntArray, traffic: IntArray
) -> FloatArray:
    """Ownship position less traffic position in the ownship's east/north/up frame."""
    if states.frame == "cartesian":
        dx = states.x_m[own] - states.x_m[traffic]
        dy = states.y_m[own] - states.y_m[traffic]
    elif states.frame == "daidalus":
        geodesy.check_latitudes(states.lat_deg)
        dx = np.zeros(own.shape[0])
        dy = np.zeros(own.shape[0])
        # One projection per ownship (a step has few); pairs stay vectorised.
        # (sorted(set(...)), not np.unique: the same ownships in the same order,
        # without np.unique's first-call import of numpy.ma, #17.6.)
        for o in sorted(set(own.tolist())):
            sel = own == o
            tx, ty = geodesy.tangent_plane_m(
                states.lat_deg[o],
                states.lon_deg[o],
                states.lat_deg[traffic[sel]],
                states.lon_deg[traffic[sel]],
            )
            dx[sel], dy[sel] = -tx, -ty
    else:
        geodesy.check_latitudes(states.lat_deg)
        ecef = geodesy.ecef_surface_m(states.lat_deg, states.lon_deg)
        east, north, _ = geodesy.enu_basis(states.lat_deg[own], states.lon_deg[own])
        d = ecef[own] - ecef[traffic]
        dx = np.einsum("ij,ij->i", d, east)
        dy = np.einsum("ij,ij->i", d, north)
    dz = (states.alt_ft[own] - states.alt_ft[traffic]) * M_PER_FT
    return np.stack([dx, dy, dz], axis=-1)


@dataclass(frozen=True, slots=True)
class Assessment:
    """Alerting of each (own, traffic) pair and bands of each ownship (by index)."""

    own: IntArray
    traffic: IntArray
    alerts: PairAlerts
    ownships: IntArray
    bands: dict[str, DimensionBands]
    has_traffic: BoolArray


def alert(
    config: DaaConfig,
    states: StepStates,
    own: IntArray,
    traffic: IntArray,
    s_m: FloatArray | None = None,
) -> PairAlerts:
    """Alerting figures of the pairs ``(own[k], traffic[k])`` (``s_m``: their
    relative positions if already known)."""
    s = relative_positions_m(states, own, traffic) if s_m is None else s_m
    v_all = velocity_mps(states.trk_deg, states.gs_kt, states.vs_fpm)
    pair_alt = np.maximum(states.alt_ft[own], states.alt_ft[traffic])
    return alert_pairs(
        config, s, v_all[own] - v_all[traffic], states.alerter[traffic], pair_alt
    )


@dataclass(frozen=True, slots=True)
class StepPairs:
    """One step's pairs for :func:`assess_steps` (see :func:`assess`)."""

    states: StepStates
    own: IntArray
    traffic: IntArray
    ownships: IntArray
    reported_level: IntArray
    alerts: PairAlerts
    s_m: FloatArray | None = None
    """Relative positions of the pairs, if already known."""


def assess(
    config: DaaConfig,
    states: StepStates,
    own: IntArray,
    traffic: IntArray,
    ownships: IntArray | None = None,
    reported_level: IntArray | None = None,
    alerts: PairAlerts | None = None,
    sample_s: float = 4.0,
) -> Assessment:
    """Alerting for the pairs ``(own[k], traffic[k])`` and bands for each of
    ``ownships`` (by default every ownship of a pair); an ownship with no pair gets
    bands free of traffic.

    ``reported_level`` (per pair) is the filtered alert level the bands use to pick
    early alerting times; by default the raw level of this step.
    """
    if alerts is None:
        alerts = alert(config, states, own, traffic)
    if ownships is None:
        ownships = np.unique(own)
    level = alerts.raw_level if reported_level is None else reported_level
    step = StepPairs(
        states=states,
        own=own,
        traffic=traffic,
        ownships=np.asarray(ownships, dtype=np.int64),
        reported_level=level,
        alerts=alerts,
    )
    return assess_steps(config, [step], sample_s=sample_s)[0]


def assess_steps(
    config: DaaConfig, steps: list[StepPairs], sample_s: float = 4.0
) -> list[Assessment]:
    """:func:`assess` for many steps with one call of the bands per dimension: every
    step's ownships are ownships of one batch (a scenario's 121 steps cost about what
    one step with 121 ownships costs)."""
    pair_parts: list[TrafficPairs] = []
    alt_parts: list[FloatArray] = []
    own_parts: list[OwnshipStates] = []
    offsets = [0]
    for st in steps:
        states, own, traffic, ownships = st.states, st.own, st.traffic, st.ownships
        order = np.argsort(ownships)
        pos = np.searchsorted(ownships[order], own)
        pos = np.clip(pos, 0, max(ownships.size - 1, 0))
        keep = (
            ownships[order][pos] == own
            if ownships.size
            else np.zeros(own.size, dtype=bool)
        )
        v_all = velocity_mps(states.trk_deg, states.gs_kt, states.vs_fpm)
        pair_parts.append(
            TrafficPairs(
                own=order[pos[keep]] + offsets[-1],
                s_m=(
                    relative_positions_m(states, own[keep], traffic[keep])
                    if st.s_m is None
                    else st.s_m[keep]
                ),
                traffic_v_mps=v_all[traffic[keep]],
                alerter=states.alerter[traffic[keep]],
                alert_level=st.reported_level[keep],
            )
        )
        alt_parts.append(
            np.maximum(states.alt_ft[own[keep]], states.alt_ft[traffic[keep]])
        )
        own_parts.append(
            OwnshipStates(
                trk_deg=states.trk_deg[ownships],
                gs_kt=states.gs_kt[ownships],
                vs_fpm=states.vs_fpm[ownships],
                alt_ft=states.alt_ft[ownships],
            )
        )
        offsets.append(offsets[-1] + ownships.size)
    pairs = TrafficPairs(
        own=np.concatenate([p.own for p in pair_parts]).astype(np.int64),
        s_m=np.concatenate([p.s_m for p in pair_parts]).reshape(-1, 3),
        traffic_v_mps=np.concatenate([p.traffic_v_mps for p in pair_parts]).reshape(
            -1, 3
        ),
        alerter=np.concatenate([p.alerter for p in pair_parts]).astype(np.int64),
        alert_level=np.concatenate([p.alert_level for p in pair_parts]).astype(
            np.int64
        ),
    )
    own_all = OwnshipStates(
        *(
            np.concatenate([getattr(o, f) for o in own_parts]).astype(np.float64)
            for f in ("trk_deg", "gs_kt", "vs_fpm", "alt_ft")
        )
    )
    bands = compute_bands(
        config, own_all, pairs, np.concatenate(alt_parts), sample_s=sample_s
    )
    has_traffic = np.zeros(offsets[-1], dtype=bool)
    has_traffic[pairs.own] = True
    out = []
    for k, st in enumerate(steps):
        rows = slice(offsets[k], offsets[k + 1])
        out.append(
            Assessment(
                own=st.own,
                traffic=st.traffic,
                alerts=st.alerts,
                ownships=st.ownships,
                bands={dim: _rows(b, rows) for dim, b in bands.items()},
                has_traffic=has_traffic[rows],
            )
        )
    return out


def _rows(b: DimensionBands, rows: slice) -> DimensionBands:
    return DimensionBands(
        values_deg_kt_fpm_or_ft=b.values_deg_kt_fpm_or_ft[rows],
        region=b.region[rows],
        current_region=b.current_region[rows],
        recovery=b.recovery[rows],
        time_to_recovery_s=b.time_to_recovery_s[rows],
        resolution_up_deg_kt_fpm_or_ft=b.resolution_up_deg_kt_fpm_or_ft[rows],
        resolution_down_deg_kt_fpm_or_ft=b.resolution_down_deg_kt_fpm_or_ft[rows],
        preferred_up=b.preferred_up[rows],
    )
