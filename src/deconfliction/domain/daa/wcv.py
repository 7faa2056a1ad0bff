"""DO-365 well-clear volume (WCV*) for many pairs at once, in closed form.

Two aircraft are *not* well clear when both hold (DO-365, Appendix C; the PVS
theories ``horizontal_WCV_taumod`` and ``vertical_WCV`` of NASA's WellClear library
state the same):

* horizontally: the range is within DTHR, or they converge (``s . v < 0``), the
  distance at horizontal closest approach is within DTHR and the modified tau
  ``(DTHR^2 - |s|^2) / (s . v)`` is within TTHR;
* vertically: the altitude difference is within ZTHR, or the time to co-altitude
  ``-s_z / v_z`` is between 0 and TCOA.

``s`` is the ownship's position less the traffic's and ``v`` the ownship's velocity
less the traffic's, in metres and metres per second (east, north, up). Every
function takes arrays of pairs (shape ``(n, 3)`` or ``(n,)``) and thresholds that
broadcast against them; nothing loops over pairs.

With both aircraft flying straight the set of times of violation is an interval,
solved here exactly: horizontally, its entry is the first root of
``|s + t v|^2 + TTHR (s + t v) . v - DTHR^2`` and its exit the time the range
grows past DTHR again; vertically, it is entered at ``max(ZTHR, TCOA |v_z|)`` from
co-altitude and left at ZTHR past it.
"""

from __future__ import annotations

import numpy as np

from deconfliction.domain.model import BoolArray, FloatArray

_INF = np.inf


def horizontal_interval(
    s_xy_m: FloatArray, v_xy_mps: FloatArray, dthr_m: FloatArray, tthr_s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Entry and exit times (s, from -inf to +inf) of the horizontal violation.

    Empty intervals have entry ``+inf`` and exit ``-inf``.
    """
    sx, sy = s_xy_m[..., 0], s_xy_m[..., 1]
    vx, vy = v_xy_mps[..., 0], v_xy_mps[..., 1]
    a = vx * vx + vy * vy
    sv = sx * vx + sy * vy
    ss = sx * sx + sy * sy
    d2 = np.broadcast_to(np.asarray(dthr_m, dtype=np.float64) ** 2, ss.shape)
    tthr = np.broadcast_to(np.asarray(tthr_s, dtype=np.float64), ss.shape)
    moving = a > 0.0
    safe_a = np.where(moving, a, 1.0)
    tcpa = -sv / safe_a
    dcpa2 = np.maximum(ss - sv * sv / safe_a, 0.0)
    crosses = moving & (dcpa2 <= d2)
    half = np.sqrt(np.maximum(d2 - dcpa2, 0.0) / safe_a)
    exit_s = tcpa + half
    # First root of a t^2 + b t + c with b = 2 s.v + TTHR a, c = |s|^2 + TTHR s.v - D^2.
    b = 2.0 * sv + tthr * a
    c = ss + tthr * sv - d2
    disc = np.maximum(b * b - 4.0 * a * c, 0.0)
    entry = (-b - np.sqrt(disc)) / (2.0 * safe_a)
    # The taumod part only counts while converging: never after tcpa, and never
    # before the range entry itself when TTHR is 0.
    entry = np.minimum(entry, tcpa - half)
    t_in = np.where(crosses, entry, _INF)
    t_out = np.where(crosses, exit_s, -_INF)
    static_in = ~moving & (ss <= d2)
    t_in = np.where(static_in, -_INF, t_in)
    t_out = np.where(static_in, _INF, t_out)
    return t_in, t_out


def vertical_interval(
    s_z_m: FloatArray, v_z_mps: FloatArray, zthr_m: FloatArray, tcoa_s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Entry and exit times (s) of the vertical violation; empty: (+inf, -inf)."""
    sz = np.asarray(s_z_m, dtype=np.float64)
    vz = np.asarray(v_z_mps, dtype=np.float64)
    z = np.broadcast_to(np.asarray(zthr_m, dtype=np.float64), sz.shape)
    tcoa = np.broadcast_to(np.asarray(tcoa_s, dtype=np.float64), sz.shape)
    level = vz == 0.0
    safe_vz = np.where(level, 1.0, vz)
    sign = np.sign(safe_vz)
    reach = np.maximum(z, tcoa * np.abs(vz))
    t_in = (-sign * reach - sz) / safe_vz
    t_out = (sign * z - sz) / safe_vz
    inside = np.abs(sz) <= z
    t_in = np.where(level, np.where(inside, -_INF, _INF), t_in)
    t_out = np.where(level, np.where(inside, _INF, -_INF), t_out)
    return t_in, t_out


def violation_interval(
    s_m: FloatArray,
    v_mps: FloatArray,
    dthr_m: FloatArray,
    zthr_m: FloatArray,
    tthr_s: FloatArray,
    tcoa_s: FloatArray,
    from_s: FloatArray | float,
    to_s: FloatArray | float,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Entry, exit and whether the pair is in violation at some time in
    ``[from_s, to_s]`` (DAIDALUS's conflict: an interval of positive length, or a
    violation right now)."""
    h_in, h_out = horizontal_interval(s_m[..., :2], v_mps[..., :2], dthr_m, tthr_s)
    z_in, z_out = vertical_interval(s_m[..., 2], v_mps[..., 2], zthr_m, tcoa_s)
    t_in = np.maximum(np.maximum(h_in, z_in), from_s)
    t_out = np.minimum(np.minimum(h_out, z_out), to_s)
    conflict = (t_out > t_in) | ((t_out == t_in) & (t_in == from_s))
    return t_in, t_out, conflict


def in_violation(
    s_m: FloatArray,
    v_mps: FloatArray,
    dthr_m: FloatArray,
    zthr_m: FloatArray,
    tthr_s: FloatArray,
    tcoa_s: FloatArray,
) -> BoolArray:
    """Whether each pair is inside WCV* right now."""
    h_in, h_out = horizontal_interval(s_m[..., :2], v_mps[..., :2], dthr_m, tthr_s)
    z_in, z_out = vertical_interval(s_m[..., 2], v_mps[..., 2], zthr_m, tcoa_s)
    return (h_in <= 0.0) & (h_out >= 0.0) & (z_in <= 0.0) & (z_out >= 0.0)


def pair_metrics(
    s_m: FloatArray, v_mps: FloatArray, lookahead_s: float, dthr_m: FloatArray
) -> dict[str, FloatArray]:
    """The figures DAIDALUS reports per pair, in metres and seconds.

    ``hmd_m``/``vmd_m``: least horizontal/vertical distance within the lookahead;
    ``tcpa_s``: time to horizontal closest approach (0 when diverging or parallel);
    ``dcpa_m``: distance then; ``taumod_s``: modified tau against ``dthr_m``
    (-1 when not converging); ``tcoa_s``: time to co-altitude (NaN when level).
    """
    sx, sy, sz = s_m[..., 0], s_m[..., 1], s_m[..., 2]
    vx, vy, vz = v_mps[..., 0], v_mps[..., 1], v_mps[..., 2]
    a = vx * vx + vy * vy
    sv = sx * vx + sy * vy
    ss = sx * sx + sy * sy
    safe_a = np.where(a > 0.0, a, 1.0)
    tcpa = np.where(a > 0.0, np.maximum(-sv / safe_a, 0.0), 0.0)
    dcpa = np.hypot(sx + tcpa * vx, sy + tcpa * vy)
    t_h = np.minimum(tcpa, lookahead_s)
    hmd = np.hypot(sx + t_h * vx, sy + t_h * vy)
    safe_vz = np.where(vz != 0.0, vz, 1.0)
    tcoa = np.where(vz != 0.0, -sz / safe_vz, np.nan)
    t_v = np.where(
        np.isfinite(tcoa), np.clip(np.nan_to_num(tcoa), 0.0, lookahead_s), 0.0
    )
    t_v = np.where((vz != 0.0) & (tcoa < 0.0), 0.0, t_v)
    vmd = np.abs(sz + t_v * vz)
    d2 = np.asarray(dthr_m, dtype=np.float64) ** 2
    safe_sv = np.where(sv < 0.0, sv, -1.0)
    taumod = np.where(sv < 0.0, np.maximum((d2 - ss) / safe_sv, 0.0), -1.0)
    return {
        "hmd_m": hmd,
        "vmd_m": vmd,
        "tcpa_s": tcpa,
        "dcpa_m": dcpa,
        "taumod_s": taumod,
        "tcoa_s": tcoa,
    }
