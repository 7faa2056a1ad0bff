"""Manoeuvre guidance ("bands") for many ownships at once.

For each ownship and each dimension (horizontal direction, horizontal speed,
vertical speed, altitude), every candidate value on the configured grid (``step_*``
from ``min_*`` to ``max_*``, plus the current value) is flown as a kinematic
manoeuvre from the current state, with the traffic flying straight:

* direction: a coordinated turn at ``turn_rate`` (or the rate of ``bank_angle`` at
  the current speed) the short way round to the candidate track, then straight;
* horizontal speed: constant acceleration ``horizontal_accel`` to the candidate;
* vertical speed: constant acceleration ``vertical_accel`` to the candidate;
* altitude: climb or descend at ``vertical_rate`` to the candidate, then level.

A rate or acceleration of 0 makes the manoeuvre instantaneous. The manoeuvre is cut
into pieces of ``sample_s`` seconds, each flown at its chord velocity, and the last
straight leg runs to the lookahead; each piece is tested against each alert level's
volume in closed form (:mod:`.wcv`). A candidate's region is the region of the most
severe level it violates within that level's time: the early alerting time for
traffic already alerting at that level or above, the alerting time otherwise.

When no candidate of a dimension is free (every value is MID or worse), the
dimension turns to *recovery*: the candidates that stay outside the recovery
cylinder (``min_horizontal_recovery``, ``min_vertical_recovery``) and leave the
corrective volume within the lookahead are RECOVERY; the soonest such exit is the
time to recovery. The resolution on each side is the nearest candidate that is NONE
(RECOVERY when recovering); ``+/-inf`` when there is none that side, NaN when the
current value is already free. The preferred side is the nearer one (up/right on a
tie).

Everything is array arithmetic over (pair, candidate, piece); the per-ownship region
is the maximum over its pairs (``np.maximum.at``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deconfliction.domain.daa.alerting import level_thresholds, n_levels
from deconfliction.domain.daa.config import DaaConfig, Region, turn_rate_deg_per_s
from deconfliction.domain.daa.wcv import violation_interval
from deconfliction.domain.model import BoolArray, FloatArray, IntArray
from deconfliction.units import M_PER_FT, M_PER_NM, MPS_PER_FPM, MPS_PER_KT

DIMENSIONS = (
    "direction_deg",
    "horizontal_speed_kt",
    "vertical_speed_fpm",
    "altitude_ft",
)


@dataclass(frozen=True, slots=True)
class OwnshipStates:
    """Ownship states, shape ``(n,)`` each: track, speeds and altitude."""

    trk_deg: FloatArray
    gs_kt: FloatArray
    vs_fpm: FloatArray
    alt_ft: FloatArray


@dataclass(frozen=True, slots=True)
class TrafficPairs:
    """Ownship/traffic pairs, shape ``(p,)`` or ``(p, 3)``.

    ``s_m``: ownship position less traffic position (east, north, up, metres);
    ``traffic_v_mps``: traffic velocity; ``alerter``: 0-based alerter of the pair;
    ``alert_level``: the pair's reported alert level now (picks early alerting times).
    """

    own: IntArray
    s_m: FloatArray
    traffic_v_mps: FloatArray
    alerter: IntArray
    alert_level: IntArray


@dataclass(frozen=True, slots=True)
class DimensionBands:
    """Bands of one dimension for ``n`` ownships over ``c`` candidates (sorted)."""

    values_deg_kt_fpm_or_ft: FloatArray
    region: IntArray
    current_region: IntArray
    recovery: BoolArray
    time_to_recovery_s: FloatArray
    resolution_up_deg_kt_fpm_or_ft: FloatArray
    resolution_down_deg_kt_fpm_or_ft: FloatArray
    preferred_up: BoolArray


def _velocity(trk_deg: FloatArray, gs_kt: FloatArray, vs_fpm: FloatArray) -> FloatArray:
    trk = np.radians(trk_deg)
    gs = gs_kt * MPS_PER_KT
    return np.stack([gs * np.sin(trk), gs * np.cos(trk), vs_fpm * MPS_PER_FPM], axis=-1)


@dataclass(frozen=True, slots=True)
class _Manoeuvres:
    """Ownship displacement at piece ends: ``disp_m`` (n, c, j+1, 3), ``times_s``
    (n, c, j+1), velocity after the manoeuvre ``final_v_mps`` (n, c, 3)."""

    values_deg_kt_fpm_or_ft: FloatArray
    disp_m: FloatArray
    times_s: FloatArray
    final_v_mps: FloatArray


TIME_TO_MANOEUVRE_ADDED = True
"""A level's time counts from the end of the manoeuvre (its duration is added to the
alerting time), as DAIDALUS v2.0.4's bands show: with the alerting time alone, our
horizontal speed bands agreed with DAIDALUS's at 44 % of points, with it at 98 %."""

MAX_PIECES = 16
"""A manoeuvre is cut into at most this many pieces of equal time."""


def _piece_times(
    duration_s: FloatArray, sample_s: float, cap_s: float, max_pieces: int = MAX_PIECES
) -> FloatArray:
    flown = np.minimum(duration_s, cap_s)
    longest = float(np.max(flown, initial=0.0))
    j = int(min(max(1, math.ceil(longest / sample_s)), max_pieces))
    return flown[..., None] * (np.arange(j + 1, dtype=np.float64) / j)


def _linear_grid(lo: float, hi: float, step: float, current: FloatArray) -> FloatArray:
    k = np.arange(0, math.floor((hi - lo) / step + 1e-9) + 1, dtype=np.float64)
    grid = lo + k * step
    if grid[-1] < hi:
        grid = np.append(grid, hi)
    n = current.shape[0]
    cur = np.clip(current, lo, hi)[:, None]
    return np.sort(np.concatenate([np.broadcast_to(grid, (n, grid.size)), cur], axis=1))


def _direction(
    config: DaaConfig, own: OwnshipStates, sample_s: float, cap_s: float
) -> _Manoeuvres:
    step = config.step_hdir_deg
    grid = np.arange(0.0, 360.0 - 1e-9, step)
    n = own.trk_deg.shape[0]
    values = np.sort(
        np.concatenate(
            [np.broadcast_to(grid, (n, grid.size)), (own.trk_deg % 360.0)[:, None]],
            axis=1,
        ),
        axis=1,
    )
    offset = (values - own.trk_deg[:, None] + 180.0) % 360.0 - 180.0
    rates = turn_rate_deg_per_s(config, own.gs_kt)
    rate = np.where(rates > 0, rates, np.inf)[:, None]
    duration = np.abs(offset) / rate
    times = _piece_times(duration, sample_s, cap_s)
    sign = np.sign(offset)[..., None]
    psi0 = np.radians(own.trk_deg)[:, None, None]
    gs = (own.gs_kt * MPS_PER_KT)[:, None, None]
    omega = np.radians(rate)[..., None]
    turned = sign * omega * times
    safe = np.where(sign * omega != 0, sign * omega, 1.0)
    x = np.where(
        sign != 0,
        gs / safe * (np.cos(psi0) - np.cos(psi0 + turned)),
        gs * np.sin(psi0) * times,
    )
    y = np.where(
        sign != 0,
        gs / safe * (np.sin(psi0 + turned) - np.sin(psi0)),
        gs * np.cos(psi0) * times,
    )
    z = (own.vs_fpm * MPS_PER_FPM)[:, None, None] * times
    disp = np.stack([x, y, z], axis=-1)
    final = _velocity(
        values,
        np.broadcast_to(own.gs_kt[:, None], values.shape),
        np.broadcast_to(own.vs_fpm[:, None], values.shape),
    )
    return _Manoeuvres(values, disp, times, final)


def _change_times(
    dv_mps: FloatArray, acc_mps2: float, sample_s: float, cap_s: float
) -> FloatArray:
    """Sample times of a speed change by ``dv_mps`` at ``acc_mps2`` (instant if 0)."""
    duration = np.abs(dv_mps) / acc_mps2 if acc_mps2 > 0 else np.zeros_like(dv_mps)
    return _piece_times(duration, sample_s, cap_s)


def _distance_m(
    v0_mps: FloatArray, dv_mps: FloatArray, acc_mps2: float, times_s: FloatArray
) -> FloatArray:
    """Distance covered at ``times_s`` while the speed changes by ``dv_mps``."""
    sign = np.sign(dv_mps)[..., None]
    return (
        v0_mps * times_s + sign * acc_mps2 * times_s**2 / 2.0
        if acc_mps2 > 0
        else (v0_mps + dv_mps[..., None]) * times_s
    )


def _horizontal_speed(
    config: DaaConfig, own: OwnshipStates, sample_s: float, cap_s: float
) -> _Manoeuvres:
    values = _linear_grid(
        config.min_hs_kt, config.max_hs_kt, config.step_hs_kt, own.gs_kt
    )
    dv = (values - own.gs_kt[:, None]) * MPS_PER_KT
    acc = config.horizontal_accel_mps2
    times = _change_times(dv, acc, sample_s, cap_s)
    along = _distance_m((own.gs_kt * MPS_PER_KT)[:, None, None], dv, acc, times)
    trk = np.radians(own.trk_deg)[:, None, None]
    z = (own.vs_fpm * MPS_PER_FPM)[:, None, None] * times
    disp = np.stack([along * np.sin(trk), along * np.cos(trk), z], axis=-1)
    final = _velocity(
        np.broadcast_to(own.trk_deg[:, None], values.shape),
        values,
        np.broadcast_to(own.vs_fpm[:, None], values.shape),
    )
    return _Manoeuvres(values, disp, times, final)


def _vertical_speed(
    config: DaaConfig, own: OwnshipStates, sample_s: float, cap_s: float
) -> _Manoeuvres:
    values = _linear_grid(
        config.min_vs_fpm, config.max_vs_fpm, config.step_vs_fpm, own.vs_fpm
    )
    dv = (values - own.vs_fpm[:, None]) * MPS_PER_FPM
    acc = config.vertical_accel_mps2
    times = _change_times(dv, acc, sample_s, cap_s)
    z = _distance_m((own.vs_fpm * MPS_PER_FPM)[:, None, None], dv, acc, times)
    vh = _velocity(own.trk_deg, own.gs_kt, np.zeros_like(own.gs_kt))[:, None, None, :]
    disp = np.concatenate([vh[..., :2] * times[..., None], z[..., None]], axis=-1)
    final = _velocity(
        np.broadcast_to(own.trk_deg[:, None], values.shape),
        np.broadcast_to(own.gs_kt[:, None], values.shape),
        values,
    )
    return _Manoeuvres(values, disp, times, final)


def _altitude(
    config: DaaConfig, own: OwnshipStates, sample_s: float, cap_s: float
) -> _Manoeuvres:
    values = _linear_grid(
        config.min_alt_ft, config.max_alt_ft, config.step_alt_ft, own.alt_ft
    )
    dz = (values - own.alt_ft[:, None]) * M_PER_FT
    rate = config.vertical_rate_fpm * MPS_PER_FPM
    duration = np.abs(dz) / rate if rate > 0 else np.zeros_like(dz)
    # A climb at constant rate is a straight line: one piece is exact.
    times = _piece_times(duration, sample_s, cap_s, max_pieces=1)
    if rate > 0:
        z = np.sign(dz)[..., None] * rate * times
    else:
        z = np.broadcast_to(dz[..., None], times.shape)
    vh = _velocity(own.trk_deg, own.gs_kt, np.zeros_like(own.gs_kt))[:, None, None, :]
    disp = np.concatenate([vh[..., :2] * times[..., None], z[..., None]], axis=-1)
    final = _velocity(
        np.broadcast_to(own.trk_deg[:, None], values.shape),
        np.broadcast_to(own.gs_kt[:, None], values.shape),
        np.zeros_like(values),
    )
    # Still climbing at the cap: the straight leg keeps the climb.
    climbing = duration > cap_s
    final[..., 2] = np.where(climbing, np.sign(dz) * rate, 0.0)
    return _Manoeuvres(values, disp, times, final)


_BUILDERS = {
    "direction_deg": _direction,
    "horizontal_speed_kt": _horizontal_speed,
    "vertical_speed_fpm": _vertical_speed,
    "altitude_ft": _altitude,
}


GROUP_CELLS = 600_000
"""Ownships are handled in groups of about this many (pair, candidate, piece) cells,
so that the geometry of a group, computed once and used for every alert volume and
recovery cylinder, stays in bounded memory."""


class _Geometry:
    """The relative motion of each (pair, candidate) during its manoeuvre, cut into
    pieces (start position, chord velocity, start time, length), and after it (the
    straight leg to the lookahead); with the norms the pruning test needs."""

    def __init__(self, man: _Manoeuvres, pairs: TrafficPairs, horizon_s: float) -> None:
        own = pairs.own
        disp = man.disp_m[own]  # (p, c, j+1, 3)
        times = man.times_s[own]  # (p, c, j+1)
        tv = pairs.traffic_v_mps[:, None, None, :]
        rel = pairs.s_m[:, None, None, :] + disp - tv * times[..., None]
        # Piece times never pass the horizon (manoeuvres are cut at the lookahead).
        self.start = times[..., :-1]
        self.length = times[..., 1:] - self.start
        moving = self.length > 0
        safe = np.where(moving, self.length, 1.0)[..., None]
        self.chord = (rel[..., 1:, :] - rel[..., :-1, :]) / safe
        self.final_v = man.final_v_mps[own] - pairs.traffic_v_mps[:, None, :]
        still = ~moving
        if still.any():
            self.chord[still] = np.broadcast_to(
                self.final_v[:, :, None, :], self.chord.shape
            )[still]
        self.r0 = rel[..., :-1, :]
        # Norms for the pruning test only: single precision is plenty (1 m slack).
        self.r0_h = np.hypot(self.r0[..., 0], self.r0[..., 1]).astype(np.float32)
        self.speed_h = np.hypot(self.chord[..., 0], self.chord[..., 1]).astype(
            np.float32
        )
        self.r0_z = np.abs(self.r0[..., 2]).astype(np.float32)
        self.length32 = self.length.astype(np.float32)
        self.speed_z = np.abs(self.chord[..., 2]).astype(np.float32)
        self.rel_end = rel[..., -1, :]
        self.tau = times[..., -1]
        self.leg = np.clip(horizon_s - self.tau, 0.0, None)
        self.leg_ok = self.tau <= horizon_s
        self.end_h = np.hypot(self.rel_end[..., 0], self.rel_end[..., 1])
        self.end_z = np.abs(self.rel_end[..., 2])
        self.final_speed_h = np.hypot(self.final_v[..., 0], self.final_v[..., 1])
        self.final_speed_z = np.abs(self.final_v[..., 2])


def _conflicts(
    geo: _Geometry,
    dthr_m: FloatArray,
    zthr_m: FloatArray,
    tthr_s: FloatArray,
    tcoa_s: FloatArray,
    rows: BoolArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per (pair, candidate): the first and the last time of violation within the
    horizon (``+inf`` and ``-inf`` when none), for the pairs of ``rows`` (all by
    default; the others get no violation). Thresholds are per pair."""
    p, c = geo.tau.shape
    first = np.full((p, c), np.inf)
    last = np.full((p, c), -np.inf)
    if rows is None:
        rows = np.ones(p, dtype=bool)
    if not rows.any():
        return first, last
    d, z, t, tc = (
        np.asarray(a, dtype=np.float32)[:, None, None]
        for a in (dthr_m, zthr_m, tthr_s, tcoa_s)
    )
    # Only pieces that can come near a volume are solved exactly: a piece moves its
    # relative position by at most |chord| x length, and the volume reaches TTHR x
    # |chord| further horizontally (TCOA x |v_z| vertically).
    length = geo.length32
    near = geo.r0_h <= d + geo.speed_h * (length + t) + 1.0
    near &= geo.r0_z <= np.maximum(z, tc * geo.speed_z) + geo.speed_z * length + 1.0
    near &= rows[:, None, None]
    thresholds = (dthr_m, zthr_m, tthr_s, tcoa_s)
    _solve_near(near, geo.r0, geo.chord, geo.start, geo.length, thresholds, first, last)
    # The straight leg after the manoeuvre, to the horizon: solved where it can come
    # near a volume (the same test, over the leg).
    d1, z1, t1, c1 = (a[:, :, 0] for a in (d, z, t, tc))
    leg_near = geo.end_h <= d1 + geo.final_speed_h * (geo.leg + t1) + 1.0
    leg_near &= (
        geo.end_z
        <= np.maximum(z1, c1 * geo.final_speed_z) + geo.final_speed_z * geo.leg + 1.0
    )
    leg_near &= geo.leg_ok & rows[:, None]
    _solve_near(
        leg_near, geo.rel_end, geo.final_v, geo.tau, geo.leg, thresholds, first, last
    )
    return first, last


def _solve_near(
    near: BoolArray,
    r0: FloatArray,
    v: FloatArray,
    start_s: FloatArray,
    length_s: FloatArray,
    thresholds: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    first: FloatArray,
    last: FloatArray,
) -> None:
    """The exact violation interval of each straight piece marked ``near`` (relative
    position ``r0`` at ``start_s``, velocity ``v``, for ``length_s``), folded into
    the earliest ``first`` and latest ``last`` of its (pair, candidate) cell.
    ``thresholds`` are per pair: DTHR, ZTHR (m), TTHR, TCOA (s)."""
    if not near.any():
        return
    idx = np.nonzero(near)
    pair = idx[0]
    dthr_m, zthr_m, tthr_s, tcoa_s = (np.asarray(a)[pair] for a in thresholds)
    tin, tout, hit = violation_interval(
        r0[idx], v[idx], dthr_m, zthr_m, tthr_s, tcoa_s, 0.0, length_s[idx]
    )
    cell = (idx[0][hit], idx[1][hit])
    np.minimum.at(first, cell, (start_s[idx] + tin)[hit])
    np.maximum.at(last, cell, (start_s[idx] + tout)[hit])


def _levels_region(
    config: DaaConfig,
    man: _Manoeuvres,
    geo: _Geometry,
    pairs: TrafficPairs,
    pair_alt_ft: FloatArray,
) -> tuple[IntArray, FloatArray]:
    """Region per (pair, candidate), and the last time each candidate violates the
    corrective volume within the lookahead (for recovery)."""
    p = pairs.own.shape[0]
    c = man.values_deg_kt_fpm_or_ft.shape[1]
    region = np.zeros((p, c), dtype=np.int64)
    corrective_last = np.full((p, c), -np.inf)
    corr = config.corrective_level()
    cache: dict[bytes, tuple[FloatArray, FloatArray]] = {}
    for lev in range(1, n_levels(config) + 1):
        th = level_thresholds(config, pairs.alerter, lev, pair_alt_ft)
        use = th.exists & (th.region > int(Region.NONE))
        if not use.any() and lev != corr:
            continue
        key = b"".join(
            a.tobytes() for a in (th.dthr_m, th.zthr_m, th.tthr_s, th.tcoa_s)
        )
        if key not in cache:
            cache[key] = _conflicts(geo, th.dthr_m, th.zthr_m, th.tthr_s, th.tcoa_s)
        first, last = cache[key]
        if lev == corr:
            corrective_last = np.where(th.exists[:, None], last, -np.inf)
        horizon = np.where(
            pairs.alert_level >= lev, th.early_alerting_time_s, th.alerting_time_s
        )
        if TIME_TO_MANOEUVRE_ADDED:
            limit = horizon[:, None] + geo.tau
        else:
            limit = horizon[:, None]
        hit = use[:, None] & (first <= limit)
        region = np.where(hit, np.maximum(region, th.region[:, None]), region)
    return region, corrective_last


def _recovery(
    config: DaaConfig,
    geo: _Geometry,
    pairs: TrafficPairs,
    corrective_last: FloatArray,
    recovering: BoolArray,
    n_own: int,
) -> tuple[BoolArray, FloatArray]:
    """Per (ownship, candidate): a recovery manoeuvre; per ownship: time to recovery
    (for the ownships flagged in ``recovering``).

    The recovery cylinder shrinks (DAIDALUS's "N factor") through
    ``config.recovery_cylinders`` until some manoeuvre stays outside it and leaves
    the corrective volume within the lookahead; past the last (NMAC) size there is no
    recovery. A manoeuvre that works with a cylinder also works with every smaller
    one, so each ownship's largest workable size is found by bisection: the largest
    size first, then the smallest, then halving (a handful of passes, not one per
    size).
    """
    c = geo.tau.shape[1]
    last_own = np.full((n_own, c), -np.inf)
    np.maximum.at(last_own, pairs.own, corrective_last)
    leaves = last_own < config.lookahead_s
    sizes = np.array(config.recovery_cylinders, dtype=np.float64)  # (k, 2) nm, ft
    k = sizes.shape[0]
    zeros = np.zeros(pairs.own.shape[0])

    def workable(own_size: IntArray, who: BoolArray) -> BoolArray:
        """(n_own, c): manoeuvres outside each listed ownship's cylinder."""
        size = own_size[pairs.own]
        cyl_first, _ = _conflicts(
            geo,
            sizes[size, 0] * M_PER_NM,
            sizes[size, 1] * M_PER_FT,
            zeros,
            zeros,
            rows=who[pairs.own],
        )
        hit = np.zeros((n_own, c), dtype=bool)
        np.logical_or.at(hit, pairs.own, np.isfinite(cyl_first))
        return ~hit & leaves & who[:, None]

    ok = np.zeros((n_own, c), dtype=bool)
    first = workable(np.zeros(n_own, dtype=np.int64), recovering)
    done = first.any(axis=1)
    ok[done] = first[done]
    todo: BoolArray = np.asarray(recovering & ~done, dtype=bool)
    if todo.any() and k > 1:
        last = workable(np.full(n_own, k - 1), todo)
        possible = todo & last.any(axis=1)
        ok[possible] = last[possible]
        # Bisection on (lo, hi]: lo fails, hi works.
        lo = np.zeros(n_own, dtype=np.int64)
        hi = np.full(n_own, k - 1, dtype=np.int64)
        while True:
            active = possible & (hi - lo > 1)
            if not active.any():
                break
            mid = (lo + hi) // 2
            trial = workable(mid, active)
            works = active & trial.any(axis=1)
            ok[works] = trial[works]
            hi = np.where(works, mid, hi)
            lo = np.where(active & ~works, mid, lo)
    exit_s = np.where(ok, np.maximum(last_own, 0.0), np.inf)
    ttr = exit_s.min(axis=1)
    # Recovery manoeuvres are those that regain well-clear about as soon as the best.
    ok &= exit_s <= ttr[:, None] + config.recovery_stability_time_s
    ttr = np.where(np.isfinite(ttr), ttr, -np.inf)
    return ok, ttr


def _groups(own: IntArray, n_own: int, cells_per_pair: int) -> list[BoolArray]:
    """Ownship masks of groups of about :data:`GROUP_CELLS` cells each."""
    counts = np.bincount(own, minlength=n_own) * cells_per_pair
    group = np.cumsum(counts) // max(GROUP_CELLS, cells_per_pair)
    # An ownship whose pairs alone exceed the budget still forms one group.
    return [group == g for g in np.unique(group)]


def _resolutions(
    values: FloatArray,
    region: IntArray,
    current_idx: IntArray,
    free: IntArray,
    circular: bool,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    n, c = values.shape
    is_free = region == free[:, None]
    cur_free = is_free[np.arange(n), current_idx]
    idx = np.arange(c)[None, :]
    cur = current_idx[:, None]
    cur_val = values[np.arange(n), current_idx][:, None]
    if circular:
        dist_up = np.where(is_free, (values - cur_val) % 360.0, np.inf)
        dist_down = np.where(is_free, (cur_val - values) % 360.0, np.inf)
        dist_up = np.where(dist_up == 0, np.inf, dist_up)
        dist_down = np.where(dist_down == 0, np.inf, dist_down)
        dist_up = np.where(dist_up <= 180.0, dist_up, np.inf)
        dist_down = np.where(dist_down <= 180.0, dist_down, np.inf)
        d_up, d_down = dist_up.min(1), dist_down.min(1)
        fin_up, fin_down = np.isfinite(d_up), np.isfinite(d_down)
        up = np.where(
            fin_up, (cur_val[:, 0] + np.where(fin_up, d_up, 0.0)) % 360.0, np.inf
        )
        down = np.where(
            fin_down, (cur_val[:, 0] - np.where(fin_down, d_down, 0.0)) % 360.0, -np.inf
        )
    else:
        dist_up = np.where(is_free & (idx > cur), values - cur_val, np.inf)
        dist_down = np.where(is_free & (idx < cur), cur_val - values, np.inf)
        d_up, d_down = dist_up.min(1), dist_down.min(1)
        up = np.where(np.isfinite(d_up), cur_val[:, 0] + d_up, np.inf)
        down = np.where(np.isfinite(d_down), cur_val[:, 0] - d_down, -np.inf)
    up = np.where(cur_free, np.nan, up)
    down = np.where(cur_free, np.nan, down)
    return up, down, d_up <= d_down


REACH_STEP_S = 10.0
"""Time step of the reach filter (:func:`may_matter`)."""


def _subset(pairs: TrafficPairs, keep: BoolArray) -> TrafficPairs:
    return TrafficPairs(
        own=pairs.own[keep],
        s_m=pairs.s_m[keep],
        traffic_v_mps=pairs.traffic_v_mps[keep],
        alerter=pairs.alerter[keep],
        alert_level=pairs.alert_level[keep],
    )


def may_matter(
    config: DaaConfig,
    own: OwnshipStates,
    pairs: TrafficPairs,
    pair_alt_ft: FloatArray,
    dim: str,
) -> BoolArray:
    """Pairs whose traffic some manoeuvre of ``dim`` could bring into a volume within
    the lookahead (a conservative filter; the others cannot colour a band).

    Every ``REACH_STEP_S``, the ownship's reachable positions are bounded by a disc
    (direction: radius ground speed x t; horizontal speed: the stretch of its track
    between the slowest and the fastest speed; vertical speed and altitude: its
    straight path) and its reachable altitudes by an interval; a pair may matter if
    at some step the traffic is within the largest volume (with its modified tau and
    time to co-altitude reach, and half a step of closure) of both.
    """
    if pairs.own.size == 0:
        return np.zeros(0, dtype=bool)
    dthr = np.zeros(pairs.own.shape[0])
    zthr = np.zeros_like(dthr)
    tthr = np.zeros_like(dthr)
    tcoa = np.zeros_like(dthr)
    for lev in range(1, n_levels(config) + 1):
        th = level_thresholds(config, pairs.alerter, lev, pair_alt_ft)
        dthr = np.maximum(dthr, np.where(th.exists, th.dthr_m, 0.0))
        zthr = np.maximum(zthr, np.where(th.exists, th.zthr_m, 0.0))
        tthr = np.maximum(tthr, np.where(th.exists, th.tthr_s, 0.0))
        tcoa = np.maximum(tcoa, np.where(th.exists, th.tcoa_s, 0.0))
    t = np.arange(0.0, config.lookahead_s + REACH_STEP_S, REACH_STEP_S)[None, :]
    o = pairs.own
    trk = np.radians(own.trk_deg[o])[:, None]
    gs = (own.gs_kt[o] * MPS_PER_KT)[:, None]
    vs = (own.vs_fpm[o] * MPS_PER_FPM)[:, None]
    v_max = np.full_like(gs, config.max_hs_kt * MPS_PER_KT)
    if dim == "direction_deg":
        cx, cy, rad = 0.0 * t, 0.0 * t, gs * t
        speed = gs
    elif dim == "horizontal_speed_kt":
        mid = (config.min_hs_kt + config.max_hs_kt) / 2 * MPS_PER_KT
        half = (config.max_hs_kt - config.min_hs_kt) / 2 * MPS_PER_KT
        cx, cy, rad = mid * t * np.sin(trk), mid * t * np.cos(trk), half * t + 0.0 * gs
        speed = v_max
    else:
        cx, cy, rad = gs * t * np.sin(trk), gs * t * np.cos(trk), 0.0 * t
        speed = gs
    if dim == "vertical_speed_fpm":
        lo = config.min_vs_fpm * MPS_PER_FPM
        hi = config.max_vs_fpm * MPS_PER_FPM
        cz, rz, vz_max = (lo + hi) / 2 * t, (hi - lo) / 2 * t, max(abs(lo), abs(hi))
    elif dim == "altitude_ft":
        rate = config.vertical_rate_fpm * MPS_PER_FPM
        reach = rate * t if rate > 0 else np.full_like(t, np.inf)
        cz, rz, vz_max = 0.0 * t, reach + np.abs(vs) * 0.0, max(rate, 0.0)
    else:
        cz, rz, vz_max = vs * t, 0.0 * t, 0.0
    tv = pairs.traffic_v_mps
    px = -pairs.s_m[:, 0:1] + tv[:, 0:1] * t
    py = -pairs.s_m[:, 1:2] + tv[:, 1:2] * t
    pz = -pairs.s_m[:, 2:3] + tv[:, 2:3] * t
    closing = np.hypot(tv[:, 0:1], tv[:, 1:2]) + speed
    h_ok = np.hypot(px - cx, py - cy) <= (
        rad + dthr[:, None] + closing * (tthr[:, None] + REACH_STEP_S / 2)
    )
    closing_z = np.abs(tv[:, 2:3]) + np.maximum(np.abs(vs), vz_max)
    v_ok = np.abs(pz - cz) <= (
        rz + zthr[:, None] + closing_z * (tcoa[:, None] + REACH_STEP_S / 2)
    )
    return np.asarray((h_ok & v_ok).any(axis=1), dtype=bool)


def compute_bands(
    config: DaaConfig,
    own: OwnshipStates,
    pairs: TrafficPairs,
    pair_alt_ft: FloatArray,
    sample_s: float = 4.0,
    dimensions: tuple[str, ...] = DIMENSIONS,
) -> dict[str, DimensionBands]:
    """Bands of every dimension for every ownship (traffic in ``pairs``)."""
    n = own.trk_deg.shape[0]
    out: dict[str, DimensionBands] = {}
    corr_region = int(config.corrective_region)
    horizon_cap = config.lookahead_s
    recovery_enabled = {
        "direction_deg": config.recovery_hdir,
        "horizontal_speed_kt": config.recovery_hs,
        "vertical_speed_fpm": config.recovery_vs,
        "altitude_ft": config.recovery_alt,
    }
    current = {
        "direction_deg": own.trk_deg % 360.0,
        "horizontal_speed_kt": own.gs_kt,
        "vertical_speed_fpm": own.vs_fpm,
        "altitude_ft": own.alt_ft,
    }
    all_pairs, all_alt_ft = pairs, pair_alt_ft
    for dim in dimensions:
        keep = may_matter(config, own, all_pairs, all_alt_ft, dim)
        pairs, pair_alt_ft = _subset(all_pairs, keep), all_alt_ft[keep]
        man = _BUILDERS[dim](config, own, sample_s, horizon_cap)
        c = man.values_deg_kt_fpm_or_ft.shape[1]
        region = np.zeros((n, c), dtype=np.int64)
        recovery = np.zeros(n, dtype=bool)
        ttr = np.full(n, np.nan)
        cells = c * (man.times_s.shape[-1] - 1)
        for members in _groups(pairs.own, n, cells) if pairs.own.size else []:
            sel = members[pairs.own]
            if not sel.any():
                continue
            sub, sub_alt = _subset(pairs, sel), pair_alt_ft[sel]
            geo = _Geometry(man, sub, horizon_cap)
            pair_region, corrective_last = _levels_region(
                config, man, geo, sub, sub_alt
            )
            np.maximum.at(region, sub.own, pair_region)
            has_pairs = np.zeros(n, dtype=bool)
            has_pairs[sub.own] = True
            saturated = has_pairs & (region >= corr_region).all(axis=1)
            rec = saturated & bool(recovery_enabled[dim])
            if rec.any():
                ok, ttr_g = _recovery(config, geo, sub, corrective_last, rec, n)
                region = np.where(rec[:, None] & ok, int(Region.RECOVERY), region)
                ttr = np.where(rec, ttr_g, ttr)
                recovery |= rec
        cur_val = np.clip(
            current[dim],
            man.values_deg_kt_fpm_or_ft[:, 0],
            man.values_deg_kt_fpm_or_ft[:, -1],
        )
        current_idx = np.argmin(
            np.abs(man.values_deg_kt_fpm_or_ft - cur_val[:, None]), axis=1
        )
        free = np.where(recovery, int(Region.RECOVERY), int(Region.NONE))
        up, down, pref_up = _resolutions(
            man.values_deg_kt_fpm_or_ft,
            region,
            current_idx,
            free,
            dim == "direction_deg",
        )
        out[dim] = DimensionBands(
            values_deg_kt_fpm_or_ft=man.values_deg_kt_fpm_or_ft,
            region=region,
            current_region=region[np.arange(n), current_idx],
            recovery=recovery,
            time_to_recovery_s=ttr,
            resolution_up_deg_kt_fpm_or_ft=up,
            resolution_down_deg_kt_fpm_or_ft=down,
            preferred_up=pref_up,
        )
    return out


def intervals(
    values: FloatArray, region: IntArray, lo: float, hi: float
) -> list[tuple[float, float, Region]]:
    """One ownship's candidates as ``[from, to, region]`` intervals covering
    ``[lo, hi]`` with no gap and no overlap; a change of region is placed half-way
    between the two candidates on either side of it.

    >>> intervals(np.array([0.0, 1.0, 2.0]), np.array([0, 2, 2]), 0.0, 2.0)
    [(0.0, 0.5, <Region.NONE: 0>), (0.5, 2.0, <Region.MID: 2>)]
    """
    order = np.argsort(values, kind="stable")
    v = values[order]
    r = region[order]
    out: list[tuple[float, float, Region]] = []
    start = lo
    for i in range(1, v.size):
        if r[i] != r[i - 1]:
            edge = float((v[i - 1] + v[i]) / 2.0)
            out.append((start, edge, Region(int(r[i - 1]))))
            start = edge
    out.append((start, hi, Region(int(r[-1]))))
    return out


def region_at(values: FloatArray, region: IntArray, at: FloatArray) -> IntArray:
    """The region of the nearest candidate to each value of ``at`` (one ownship)."""
    order = np.argsort(values, kind="stable")
    v, r = values[order], region[order]
    idx = np.clip(np.searchsorted(v, at), 1, v.size - 1)
    nearer_left = np.abs(at - v[idx - 1]) <= np.abs(v[idx] - at)
    return np.where(nearer_left, r[idx - 1], r[idx])


__all__ = [
    "DIMENSIONS",
    "DimensionBands",
    "OwnshipStates",
    "TrafficPairs",
    "compute_bands",
    "intervals",
    "region_at",
]
