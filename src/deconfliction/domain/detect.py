"""Tactical conflict detection: straight-line closest point of approach.

Each aircraft is extrapolated along its current ground track and vertical rate. For
every pair the horizontal and vertical separations are functions of time; the pair is
in conflict when both are strictly below the minima at the same time within the
lookahead: exactly at a minimum is separated (``thresholds``: FL360 and FL370 are).
That is the state-based detection of BlueSky (``bluesky/traffic/asas/statebased.py``)
and of ground-based short-term conflict alert, computed on the WGS-84 ellipsoid:

* positions become ECEF surface points (pyproj, in ``geodesy``); each pair is then
  worked in the horizontal plane at its midpoint, so there is no seam at the
  antimeridian and no flat-earth scale error; positions within
  ``geodesy.MAX_ABS_LAT_DEG`` of a pole are refused;
* candidate pairs come from a time-sliced KD-tree (``broadphase``), then every
  candidate is checked exactly, all at once, with numpy.

Assumptions: zero wind (ground velocity is the air mass velocity), straight lines,
constant vertical rate, altitudes comparable with each other (one pressure datum).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deconfliction.domain import broadphase, geodesy, thresholds
from deconfliction.domain.model import (
    AircraftStates,
    AlertLevel,
    AlertLevelSpec,
    BoolArray,
    Conflicts,
    DetectionSettings,
    FloatArray,
    IntArray,
)
from deconfliction.units import M_PER_FT, M_PER_NM, MPS_PER_FPM, MPS_PER_KT

MIN_CLOSURE_MPS2: float = 1e-6
"""Squared relative speed below which two aircraft count as moving together: the
time of closest approach is then taken as now. 1e-6 m^2/s^2 is 0.002 kt, far below any
reported speed resolution (BlueSky clamps at the same value)."""

MIN_VERTICAL_RATE_MPS: float = 1e-9
"""Relative vertical rate below which the vertical separation counts as constant."""


@dataclass(frozen=True, slots=True)
class _Kinematics:
    """Per-aircraft state in SI units and ECEF, computed once per snapshot."""

    pos_m: FloatArray
    vel_mps: FloatArray
    up: FloatArray
    alt_m: FloatArray
    vs_mps: FloatArray


@dataclass(frozen=True, slots=True)
class _PairGeometry:
    """Relative motion of candidate pairs in each pair's horizontal plane."""

    dh_m: FloatArray  # (m, 3) horizontal offset b - a
    vh_mps: FloatArray  # (m, 3) horizontal relative velocity
    dz_m: FloatArray  # (m,) altitude of b minus altitude of a
    vz_mps: FloatArray  # (m,) relative vertical rate


def _kinematics(states: AircraftStates) -> _Kinematics:
    geodesy.check_latitudes(states.lat_deg)
    pos_m = geodesy.ecef_surface_m(states.lat_deg, states.lon_deg)
    east, north, up = geodesy.enu_basis(states.lat_deg, states.lon_deg)
    trk_rad = np.radians(states.trk_deg)
    gs_mps = states.gs_kt * MPS_PER_KT
    vel_mps = (gs_mps * np.sin(trk_rad))[:, None] * east + (gs_mps * np.cos(trk_rad))[
        :, None
    ] * north
    return _Kinematics(
        pos_m=pos_m,
        vel_mps=vel_mps,
        up=up,
        alt_m=states.alt_ft * M_PER_FT,
        vs_mps=states.vs_fpm * MPS_PER_FPM,
    )


def _pair_geometry(kin: _Kinematics, i: IntArray, j: IntArray) -> _PairGeometry:
    up = kin.up[i] + kin.up[j]
    up /= np.linalg.norm(up, axis=1)[:, None]
    d_m = kin.pos_m[j] - kin.pos_m[i]
    v_mps = kin.vel_mps[j] - kin.vel_mps[i]
    dh_m = d_m - np.einsum("ij,ij->i", d_m, up)[:, None] * up
    vh_mps = v_mps - np.einsum("ij,ij->i", v_mps, up)[:, None] * up
    return _PairGeometry(
        dh_m=dh_m,
        vh_mps=vh_mps,
        dz_m=kin.alt_m[j] - kin.alt_m[i],
        vz_mps=kin.vs_mps[j] - kin.vs_mps[i],
    )


def _loss_interval(
    geo: _PairGeometry,
    horizontal_m: FloatArray | float,
    vertical_m: FloatArray | float,
    horizon_s: FloatArray | float,
) -> tuple[FloatArray, FloatArray]:
    """Start and end of the loss of separation within ``[0, horizon_s]``: closer
    than ``horizontal_m`` (chord) and ``vertical_m`` at once, strictly (the limits
    of ``_horizontal_limit_m`` and ``_vertical_limit_m``).

    Where there is none, the start is greater than the end.
    """
    a = np.einsum("ij,ij->i", geo.vh_mps, geo.vh_mps)
    b = np.einsum("ij,ij->i", geo.dh_m, geo.vh_mps)
    c = np.einsum("ij,ij->i", geo.dh_m, geo.dh_m)
    moving = a > MIN_CLOSURE_MPS2
    safe_a = np.where(moving, a, 1.0)
    disc = b * b - a * (c - np.square(horizontal_m))
    root = np.sqrt(np.maximum(disc, 0.0))
    h_in = np.where(moving, (-b - root) / safe_a, -np.inf)
    h_out = np.where(moving, (-b + root) / safe_a, np.inf)
    # Horizontally still: inside for ever or never.
    h_inside_now = c < np.square(horizontal_m)
    never_h = np.where(moving, disc <= 0.0, ~h_inside_now)
    h_in = np.where(never_h, np.inf, h_in)
    h_out = np.where(never_h, -np.inf, h_out)

    climbing = np.abs(geo.vz_mps) > MIN_VERTICAL_RATE_MPS
    safe_vz = np.where(climbing, geo.vz_mps, 1.0)
    t1 = (-vertical_m - geo.dz_m) / safe_vz
    t2 = (vertical_m - geo.dz_m) / safe_vz
    v_inside_now = np.abs(geo.dz_m) < vertical_m
    v_in = np.where(
        climbing, np.minimum(t1, t2), np.where(v_inside_now, -np.inf, np.inf)
    )
    v_out = np.where(
        climbing, np.maximum(t1, t2), np.where(v_inside_now, np.inf, -np.inf)
    )
    t_in = np.maximum(np.maximum(h_in, v_in), 0.0)
    t_out = np.minimum(np.minimum(h_out, v_out), horizon_s)
    return t_in, t_out


def _horizontal_limit_m(threshold_nm: FloatArray | float) -> FloatArray:
    """The chord a pair's horizontal offset must be strictly shorter than to be
    closer than ``threshold_nm`` (a geodesic distance), less the tolerance."""
    limit_m = thresholds.horizontal_limit_m(np.asarray(threshold_nm, dtype=np.float64))
    return np.asarray(geodesy.chord_m(np.maximum(limit_m, 0.0)), dtype=np.float64)


def _vertical_limit_m(threshold_ft: FloatArray | float) -> FloatArray:
    """The vertical distance a pair must be strictly below to be closer than
    ``threshold_ft``, less the tolerance."""
    limit_m = thresholds.vertical_limit_m(np.asarray(threshold_ft, dtype=np.float64))
    return np.maximum(limit_m, 0.0)


def _band_thresholds(
    spec: AlertLevelSpec, alt_ft: FloatArray
) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray]:
    """Per-pair (applies, tau_s, dmod_nm, zthr_ft) for the band of ``alt_ft``."""
    n = len(alt_ft)
    applies = np.zeros(n, dtype=bool)
    tau_s = np.zeros(n)
    dmod_nm = np.zeros(n)
    zthr_ft = np.zeros(n)
    for band in spec.bands:
        inside = (alt_ft >= band.floor_ft) & (alt_ft < band.ceiling_ft)
        applies |= inside
        tau_s = np.where(inside, band.tau_s, tau_s)
        dmod_nm = np.where(inside, band.dmod_nm, dmod_nm)
        zthr_ft = np.where(inside, band.zthr_ft, zthr_ft)
    return applies, tau_s, dmod_nm, zthr_ft


def _alert_levels(
    geo: _PairGeometry,
    pair_alt_ft: FloatArray,
    specs: tuple[AlertLevelSpec, ...],
) -> IntArray:
    level = np.full(len(pair_alt_ft), int(AlertLevel.CONFLICT), dtype=np.int64)
    for spec in sorted(specs, key=lambda s: int(s.level)):
        applies, tau_s, dmod_nm, zthr_ft = _band_thresholds(spec, pair_alt_ft)
        t_in, t_out = _loss_interval(
            geo, _horizontal_limit_m(dmod_nm), _vertical_limit_m(zthr_ft), tau_s
        )
        raised = applies & (t_in <= t_out)
        level = np.where(raised, np.maximum(level, int(spec.level)), level)
    return level


def computable_values(lat_deg: FloatArray, *columns: FloatArray) -> BoolArray:
    """Per row, whether the latitude and every other column are finite and the
    latitude is no closer to a pole than ``geodesy.MAX_ABS_LAT_DEG`` allows.

    >>> computable_values(np.array([35.0, -89.95, np.nan]), np.array([1.0, 1.0, 1.0]))
    array([ True, False, False])
    """
    finite = np.all(np.isfinite(np.vstack([lat_deg, *columns])), axis=0)
    ok: BoolArray = finite & (np.abs(lat_deg) <= geodesy.MAX_ABS_LAT_DEG)
    return ok


def computable(states: AircraftStates) -> BoolArray:
    """Which aircraft :func:`detect_conflicts` can work with: every value finite and
    the latitude no closer to a pole than ``geodesy.MAX_ABS_LAT_DEG`` allows.

    A caller that must not fail for one bad aircraft (the live loop) keeps these
    and sets the others aside, instead of letting the whole snapshot be refused.

    >>> s = AircraftStates.from_columns(
    ...     ["A", "B", "C"], [35.0, 89.95, 35.0], [38.0, 38.0, 38.0],
    ...     [20000, 20000, float("nan")], [400, 400, 400], [90, 90, 90], [0, 0, 0])
    >>> computable(s).tolist()
    [True, False, False]
    """
    return computable_values(
        states.lat_deg,
        states.lon_deg,
        states.alt_ft,
        states.gs_kt,
        states.trk_deg,
        states.vs_fpm,
    )


def detect_conflicts(states: AircraftStates, settings: DetectionSettings) -> Conflicts:
    """Every pair predicted to lose separation within the lookahead.

    Args:
        states: the snapshot; ids must be unique.
        settings: minima, lookahead, alert levels, and whether only pairs of
            different parties count.

    Returns:
        The conflicts, with ``ids[a] < ids[b]``, sorted by (a id, b id).

    Raises:
        PolarRegionError: if a position is within ``geodesy.MAX_ABS_LAT_DEG`` of a
            pole.
        ValueError: if the minima are not positive or the lookahead is negative.

    >>> from deconfliction.domain.model import SeparationMinima
    >>> s = AircraftStates.from_columns(
    ...     ["A", "B"], [35.0, 35.0], [38.0, 38.5], [20000, 20000],
    ...     [400, 400], [90, 270], [0, 0])
    >>> c = detect_conflicts(s, DetectionSettings(SeparationMinima(5, 1000), 300))
    >>> round(float(c.tcpa_s[0]), 1), round(float(c.dcpa_nm[0]), 3)
    (110.9, 0.0)
    """
    minima = settings.minima
    # The broad phase takes the minima themselves: a superset of the exact test's.
    horizontal_m = minima.horizontal_nm * M_PER_NM
    vertical_m = minima.vertical_ft * M_PER_FT
    kin = _kinematics(states)
    cand = broadphase.candidate_pairs(
        kin.pos_m,
        kin.vel_mps,
        kin.alt_m,
        kin.vs_mps,
        horizontal_m,
        vertical_m,
        settings.lookahead_s,
    )
    i, j = cand.i, cand.j
    if settings.cross_party_only:
        other = states.party[i] != states.party[j]
        i, j = i[other], j[other]
    found = _evaluate(kin, states.alt_ft, settings, i, j)
    i, j = found.i, found.j

    # Name each pair by its ids in order, then sort by (a id, b id).
    ids_i, ids_j = states.ids[i], states.ids[j]
    swap = ids_j < ids_i
    a_index = np.where(swap, j, i)
    b_index = np.where(swap, i, j)
    order = np.lexsort((states.ids[b_index], states.ids[a_index]))
    return Conflicts(
        a_index=a_index[order].astype(np.int64),
        b_index=b_index[order].astype(np.int64),
        tcpa_s=found.tcpa_s[order],
        dcpa_nm=found.dcpa_nm[order],
        dalt_ft_at_cpa=found.dalt_ft_at_cpa[order],
        tin_s=found.tin_s[order],
        tout_s=found.tout_s[order],
        level=found.level[order],
    )


@dataclass(frozen=True, slots=True)
class PairConflicts:
    """The pairs of :func:`evaluate_pairs` found in conflict, in the order given.

    Attributes:
        i: first aircraft of each pair (index into the states).
        j: second aircraft.
        tcpa_s: time to the closest point of approach (0 to the lookahead).
        dcpa_nm: predicted horizontal miss distance then.
        dalt_ft_at_cpa: predicted vertical separation then.
        tin_s: start of the predicted loss of separation (0: lost now).
        tout_s: its end, within the lookahead.
        level: alert level (:class:`AlertLevel` values).
    """

    i: IntArray
    j: IntArray
    tcpa_s: FloatArray
    dcpa_nm: FloatArray
    dalt_ft_at_cpa: FloatArray
    tin_s: FloatArray
    tout_s: FloatArray
    level: IntArray

    def __len__(self) -> int:
        return len(self.i)


def evaluate_pairs(
    states: AircraftStates, settings: DetectionSettings, i: IntArray, j: IntArray
) -> PairConflicts:
    """The exact test of :func:`detect_conflicts` on given pairs of a snapshot, with
    no broad phase and no party filter: for callers that choose the pairs
    themselves (the history engine screens many instants at once). Only the
    aircraft named in a pair are converted, however large the snapshot.

    Args:
        states: the snapshot (several instants may share one: a pair's two states
            must be of the same instant).
        settings: minima, lookahead and alert levels.
        i: first aircraft of each pair.
        j: second aircraft.

    Returns:
        The pairs in conflict, in the order given, with their figures.

    Raises:
        PolarRegionError: if a named position is within ``geodesy.MAX_ABS_LAT_DEG``
            of a pole.
    """
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    used = np.unique(np.concatenate([i, j]))
    sub = states.take(used)
    found = _evaluate(
        _kinematics(sub),
        sub.alt_ft,
        settings,
        np.searchsorted(used, i),
        np.searchsorted(used, j),
    )
    return PairConflicts(
        used[found.i],
        used[found.j],
        found.tcpa_s,
        found.dcpa_nm,
        found.dalt_ft_at_cpa,
        found.tin_s,
        found.tout_s,
        found.level,
    )


def _evaluate(
    kin: _Kinematics,
    alt_ft: FloatArray,
    settings: DetectionSettings,
    i: IntArray,
    j: IntArray,
) -> PairConflicts:
    minima = settings.minima
    horizontal_m = _horizontal_limit_m(minima.horizontal_nm)
    vertical_m = _vertical_limit_m(minima.vertical_ft)
    geo = _pair_geometry(kin, i, j)
    t_in, t_out = _loss_interval(geo, horizontal_m, vertical_m, settings.lookahead_s)
    hit = t_in <= t_out
    i, j, t_in, t_out = i[hit], j[hit], t_in[hit], t_out[hit]
    geo = _PairGeometry(geo.dh_m[hit], geo.vh_mps[hit], geo.dz_m[hit], geo.vz_mps[hit])
    a2 = np.einsum("ij,ij->i", geo.vh_mps, geo.vh_mps)
    b = np.einsum("ij,ij->i", geo.dh_m, geo.vh_mps)
    tcpa_s = np.where(a2 > MIN_CLOSURE_MPS2, -b / np.where(a2 > 0, a2, 1.0), 0.0)
    tcpa_s = np.clip(tcpa_s, 0.0, settings.lookahead_s)
    chord_at_cpa_m = np.linalg.norm(geo.dh_m + geo.vh_mps * tcpa_s[:, None], axis=1)
    dcpa_nm = geodesy.geodesic_of_chord_m(chord_at_cpa_m) / M_PER_NM
    dalt_ft = np.abs(geo.dz_m + geo.vz_mps * tcpa_s) / M_PER_FT
    pair_alt_ft = np.maximum(alt_ft[i], alt_ft[j])
    level = _alert_levels(geo, pair_alt_ft, settings.alert_levels)
    return PairConflicts(
        i, j, tcpa_s, dcpa_nm, dalt_ft, t_in, t_out, level.astype(np.int64)
    )
