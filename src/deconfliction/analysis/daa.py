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

import numpy as np

from deconfliction.adapters.daa_files import DaaStep
from deconfliction.domain.daa.alerting import AlertFilter
from deconfliction.domain.daa.config import DaaConfig
from deconfliction.domain.daa.picture import Assessment, alert, assess


@dataclass(frozen=True, slots=True)
class StepResult:
    step: DaaStep
    result: Assessment
    levels: np.ndarray


def run(
    config: DaaConfig,
    steps: list[DaaStep],
    ownships: frozenset[str] | None = None,
    sample_s: float = 4.0,
) -> Iterator[StepResult]:
    """Alerting and bands for every step, in order."""
    filt = AlertFilter(config)
    for step in steps:
        n = len(step.names)
        if ownships is None:
            own_idx = np.array([0])
        else:
            own_idx = np.array([i for i, nm in enumerate(step.names) if nm in ownships])
        own = np.repeat(own_idx, n)
        traffic = np.tile(np.arange(n), own_idx.size)
        keep = own != traffic
        own, traffic = own[keep], traffic[keep]
        alerts = alert(config, step.states, own, traffic)
        keys = [
            (step.names[int(a)], step.names[int(b)])
            for a, b in zip(own, traffic, strict=True)
        ]
        levels = filt.update(step.time_s, keys, alerts.raw_level, alerts.early_level)
        result = assess(
            config,
            step.states,
            own,
            traffic,
            ownships=own_idx,
            reported_level=levels,
            alerts=alerts,
            sample_s=sample_s,
        )
        yield StepResult(step, result, levels)
