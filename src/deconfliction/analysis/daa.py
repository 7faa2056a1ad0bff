"""Run detect-and-avoid alerting and guidance over a scenario, step by step.

Each step's first aircraft is the ownship (DAIDALUS's ``.daa`` convention) unless
``ownships`` names others: then each named aircraft is an ownship against all the
others of its step. Alert levels pass through the configuration's M-of-N and
hysteresis filter (:class:`~deconfliction.domain.daa.alerting.AlertFilter`), and the
bands use the filtered levels to pick early alerting times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from deconfliction.adapters.daa_files import DaaStep
from deconfliction.domain.daa.alerting import AlertFilter
from deconfliction.domain.daa.config import DaaConfig
from deconfliction.domain.daa.picture import (
    Assessment,
    StepPairs,
    StepStates,
    alert,
    assess_steps,
    relative_positions_m,
)

if TYPE_CHECKING:  # annotations only: a .daa file needs neither (start-up, #17.6)
    from deconfliction.analysis.tracks import TrackTable
    from deconfliction.domain.model import AircraftStates

BATCH_STEPS = 200
"""Steps whose bands are computed in one batch (bounds memory on long scenarios)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    step: DaaStep
    result: Assessment
    levels: np.ndarray


def _step(
    time_s: float, line: int, ids: list[str], cols: dict[str, np.ndarray]
) -> DaaStep:
    n = len(ids)
    return DaaStep(
        time_s=time_s,
        line=line,
        names=tuple(ids),
        states=StepStates(
            lat_deg=cols["lat_deg"],
            lon_deg=cols["lon_deg"],
            x_m=np.zeros(n),
            y_m=np.zeros(n),
            alt_ft=cols["alt_ft"],
            trk_deg=cols["trk_deg"],
            gs_kt=cols["gs_kt"],
            vs_fpm=cols["vs_fpm"],
            alerter=np.zeros(n, dtype=np.int64),
            frame="wgs84",
        ),
    )


_COLS = ("lat_deg", "lon_deg", "alt_ft", "trk_deg", "gs_kt", "vs_fpm")


def steps_from_states(states: AircraftStates) -> list[DaaStep]:
    """One step (time 0) from a states snapshot (WGS-84)."""
    cols = {c: np.asarray(getattr(states, c), dtype=np.float64) for c in _COLS}
    return [_step(0.0, 0, [str(x) for x in states.ids], cols)]


def steps_from_tracks(table: TrackTable) -> list[DaaStep]:
    """One step per distinct time of a track table, in time order (WGS-84); an
    aircraft reported twice at one time keeps its last row."""
    order = np.argsort(table.t_s, kind="stable")
    t = table.t_s[order]
    cuts = np.flatnonzero(np.diff(t)) + 1
    steps = []
    for chunk in np.split(order, cuts):
        ids = table.ids[chunk]
        _, last = np.unique(ids[::-1], return_index=True)
        keep = np.sort(chunk[::-1][last])
        cols = {c: np.asarray(getattr(table, c)[keep], dtype=np.float64) for c in _COLS}
        steps.append(
            _step(float(table.t_s[keep[0]]), 0, [str(x) for x in table.ids[keep]], cols)
        )
    return steps


def party_members(table: TrackTable | AircraftStates, party: str) -> frozenset[str]:
    """Ids of the aircraft of ``party``."""
    return frozenset(
        str(i) for i, p in zip(table.ids, table.party, strict=True) if p == party
    )


def run(
    config: DaaConfig,
    steps: list[DaaStep],
    ownships: frozenset[str] | None = None,
    sample_s: float = 4.0,
) -> Iterator[StepResult]:
    """Alerting and bands for every step, in order."""
    filt = AlertFilter(config)
    prepared: list[StepPairs] = []
    for step in steps:
        n = len(step.names)
        if ownships is None:
            own_idx = np.array([0])
        else:
            own_idx = np.array(
                [i for i, nm in enumerate(step.names) if nm in ownships], dtype=np.int64
            )
        own = np.repeat(own_idx, n)
        traffic = np.tile(np.arange(n), own_idx.size)
        keep = own != traffic
        own, traffic = own[keep], traffic[keep]
        s_m = relative_positions_m(step.states, own, traffic)
        alerts = alert(config, step.states, own, traffic, s_m=s_m)
        keys = [
            (step.names[int(a)], step.names[int(b)])
            for a, b in zip(own, traffic, strict=True)
        ]
        levels = filt.update(step.time_s, keys, alerts.raw_level, alerts.early_level)
        prepared.append(
            StepPairs(
                states=step.states,
                own=own,
                traffic=traffic,
                ownships=own_idx,
                reported_level=levels,
                alerts=alerts,
                s_m=s_m,
            )
        )
    # Bands of every step at once (they depend on the filtered levels, known now).
    for lo in range(0, len(steps), BATCH_STEPS):
        batch = prepared[lo : lo + BATCH_STEPS]
        results = assess_steps(config, batch, sample_s=sample_s)
        for step, item, result in zip(steps[lo:], batch, results, strict=False):
            yield StepResult(step, result, item.reported_level)
