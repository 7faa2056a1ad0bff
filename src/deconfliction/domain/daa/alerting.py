"""DO-365 alert levels for many ownship/traffic pairs at once.

For each pair and each alert level of its alerter (preventive, corrective, warning in
DO-365), the level's volume (:mod:`.wcv`) is checked over the lookahead: the time to
enter it is reported (``inf`` when never within the lookahead), and the level is
raised when that time is within the level's alerting time. The pair's raw alert
level is the highest level raised.

:class:`AlertFilter` then applies DAIDALUS's two stabilisers, as its configuration
describes them: M-of-N (a level is reported once it was raised at least M times in
the last N steps) and hysteresis (a reported level is held for ``hysteresis_time``
after its last raise, and while it is held the level is tested against its *early*
alerting time, so an alert does not flicker at the edge of its alerting time).

Per pair, the alerter is chosen by the traffic aircraft (the ``alerter`` column of a
``.daa`` file; DAIDALUS's default, not ownship-centric, alerting).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from deconfliction.domain.alerting import default_alert_levels
from deconfliction.domain.daa.config import DaaConfig, WcvThresholds
from deconfliction.domain.daa.wcv import pair_metrics, violation_interval
from deconfliction.domain.model import BoolArray, FloatArray, IntArray
from deconfliction.units import M_PER_FT, M_PER_NM


@dataclass(frozen=True, slots=True)
class LevelThresholds:
    """Per-pair thresholds of one alert level (arrays of shape ``(n,)``)."""

    dthr_m: FloatArray
    zthr_m: FloatArray
    tthr_s: FloatArray
    tcoa_s: FloatArray
    alerting_time_s: FloatArray
    early_alerting_time_s: FloatArray
    region: IntArray
    exists: BoolArray


def _tcas_arrays(column: str, alt_ft: FloatArray) -> tuple[FloatArray, ...]:
    spec = default_alert_levels()[0 if column == "ta" else 1]
    floors = np.array([b.floor_ft for b in spec.bands])
    idx = np.clip(np.searchsorted(floors, alt_ft, side="right") - 1, 0, len(floors) - 1)
    dmod = np.array([b.dmod_nm for b in spec.bands])[idx] * M_PER_NM
    zthr = np.array([b.zthr_ft for b in spec.bands])[idx] * M_PER_FT
    tau = np.array([b.tau_s for b in spec.bands])[idx]
    return dmod, zthr, tau, tau


def n_levels(config: DaaConfig) -> int:
    """The most alert levels any alerter of ``config`` has."""
    return max((len(a.levels) for a in config.alerters), default=0)


def level_thresholds(
    config: DaaConfig, alerter: IntArray, level: int, alt_ft: FloatArray
) -> LevelThresholds:
    """Thresholds of 1-based ``level`` for pairs whose alerter index (0-based) is
    ``alerter``; ``alt_ft`` is the higher altitude of each pair (for the TCAS table)."""
    n = alerter.shape[0]
    out = {k: np.zeros(n) for k in ("dthr", "zthr", "tthr", "tcoa", "at", "eat")}
    region = np.zeros(n, dtype=np.int64)
    exists = np.zeros(n, dtype=bool)
    for a_idx, al in enumerate(config.alerters):
        if level > len(al.levels):
            continue
        sel = alerter == a_idx
        if not sel.any():
            continue
        lev = al.levels[level - 1]
        exists[sel] = True
        region[sel] = int(lev.region)
        out["at"][sel] = lev.alerting_time_s
        out["eat"][sel] = lev.early_alerting_time_s
        w: WcvThresholds = lev.wcv
        if w.tcas_column:
            d, z, t, c = _tcas_arrays(w.tcas_column, alt_ft[sel])
            out["dthr"][sel], out["zthr"][sel] = d, z
            out["tthr"][sel], out["tcoa"][sel] = t, c
        else:
            out["dthr"][sel] = w.dthr_nm * M_PER_NM
            out["zthr"][sel] = w.zthr_ft * M_PER_FT
            out["tthr"][sel] = w.tthr_s
            out["tcoa"][sel] = w.tcoa_s
    return LevelThresholds(
        dthr_m=out["dthr"],
        zthr_m=out["zthr"],
        tthr_s=out["tthr"],
        tcoa_s=out["tcoa"],
        alerting_time_s=out["at"],
        early_alerting_time_s=out["eat"],
        region=region,
        exists=exists,
    )


@dataclass(frozen=True, slots=True)
class PairAlerts:
    """Alerting figures of ``n`` pairs; ``time_to_volume_s`` is ``(n, levels)``."""

    raw_level: IntArray
    early_level: IntArray
    time_to_volume_s: FloatArray
    time_out_of_volume_s: FloatArray
    hmd_m: FloatArray
    vmd_m: FloatArray
    tcpa_s: FloatArray
    dcpa_m: FloatArray
    taumod_s: FloatArray


def alert_pairs(
    config: DaaConfig,
    s_m: FloatArray,
    v_mps: FloatArray,
    alerter: IntArray,
    alt_ft: FloatArray,
) -> PairAlerts:
    """Alert levels and figures for pairs with relative state ``s_m``/``v_mps``
    (ownship less traffic, ``(n, 3)``).

    ``raw_level`` uses each level's alerting time, ``early_level`` its early alerting
    time (what :class:`AlertFilter` uses while a level is held).
    """
    n = s_m.shape[0]
    levels = n_levels(config)
    t_in = np.full((n, levels), np.inf)
    t_out = np.full((n, levels), np.inf)
    raw = np.zeros(n, dtype=np.int64)
    early = np.zeros(n, dtype=np.int64)
    corrective_dthr = np.full(n, np.nan)
    corr = config.corrective_level()
    for lev in range(1, levels + 1):
        th = level_thresholds(config, alerter, lev, alt_ft)
        tin, tout, conflict = violation_interval(
            s_m,
            v_mps,
            th.dthr_m,
            th.zthr_m,
            th.tthr_s,
            th.tcoa_s,
            0.0,
            config.lookahead_s,
        )
        conflict &= th.exists
        t_in[:, lev - 1] = np.where(conflict, tin, np.inf)
        t_out[:, lev - 1] = np.where(conflict, tout, np.inf)
        raw = np.where(conflict & (tin <= th.alerting_time_s), lev, raw)
        early = np.where(conflict & (tin <= th.early_alerting_time_s), lev, early)
        if lev == corr:
            corrective_dthr = th.dthr_m
    metrics = pair_metrics(s_m, v_mps, config.lookahead_s, corrective_dthr)
    return PairAlerts(
        raw_level=raw,
        early_level=early,
        time_to_volume_s=t_in,
        time_out_of_volume_s=t_out,
        hmd_m=metrics["hmd_m"],
        vmd_m=metrics["vmd_m"],
        tcpa_s=metrics["tcpa_s"],
        dcpa_m=metrics["dcpa_m"],
        taumod_s=metrics["taumod_s"],
    )


class AlertFilter:
    """M-of-N over time, with early alerting for shown levels, per (ownship, traffic).

    A level is raised at a step when its volume is entered within its alerting time,
    or, while the level is being reported, within its early alerting time. The
    reported level is the highest level raised at least M times in the last N steps.
    (DAIDALUS v2.0.4 behaves so on its own programs: with DO-365's M = 2, N = 4 a level
    shows from the 2nd step it is raised and stays 2 steps after the last; its
    ``hysteresis_time`` does not hold alert levels longer.)
    Keys not seen at a step keep their history (a missed report is not an all-clear).
    """

    def __init__(self, config: DaaConfig) -> None:
        self._m = config.alerting_m
        self._n = config.alerting_n
        self._history: dict[tuple[str, str], deque[int]] = {}
        self._shown: dict[tuple[str, str], int] = {}

    def update(
        self,
        time_s: float,
        keys: list[tuple[str, str]],
        raw_level: IntArray,
        early_level: IntArray,
    ) -> IntArray:
        """The reported level of each key at ``time_s`` (steps in time order)."""
        out = np.zeros(len(keys), dtype=np.int64)
        for i, key in enumerate(keys):
            shown = self._shown.get(key, 0)
            level = max(int(raw_level[i]), min(int(early_level[i]), shown))
            hist = self._history.setdefault(key, deque(maxlen=self._n))
            hist.append(level)
            reported = 0
            for cand in range(max(hist), 0, -1):
                if sum(1 for h in hist if h >= cand) >= self._m:
                    reported = cand
                    break
            self._shown[key] = reported
            out[i] = reported
        return out
