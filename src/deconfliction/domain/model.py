"""Frozen value types of the domain core.

Batches of aircraft are struct-of-arrays (one numpy array per field, shape ``(n,)``)
so that the kernels stay vectorised; the positions table and its snapshot
(:class:`AircraftStates`) are defined in ``domain/positions.py``. Every physical
quantity carries its unit in its name. Positions are WGS-84 geodetic latitude and
longitude in degrees; altitudes are pressure altitudes in feet and are compared with
each other only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

# Re-exported: where the rest of the project has always found them.
from deconfliction.domain.arrays import BoolArray as BoolArray
from deconfliction.domain.arrays import FloatArray as FloatArray
from deconfliction.domain.arrays import IntArray as IntArray
from deconfliction.domain.arrays import StrArray as StrArray
from deconfliction.domain.positions import AircraftStates as AircraftStates


@dataclass(frozen=True, slots=True)
class SeparationMinima:
    """The separation two aircraft must keep: lost when both are breached at once."""

    horizontal_nm: float
    vertical_ft: float


class AlertLevel(IntEnum):
    """How urgent a predicted loss of separation is, in increasing order.

    ``CONFLICT``: the protocol's minima will be breached within the lookahead.
    ``ADVISORY``: also breaches the advisory band thresholds within its time to CPA
    (modelled on the TCAS II traffic advisory). ``WARNING``: also the warning band
    (modelled on the TCAS II resolution advisory).
    """

    CONFLICT = 1
    ADVISORY = 2
    WARNING = 3

    @property
    def label(self) -> str:
        """Lower-case name used in files and APIs."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class AlertBand:
    """Thresholds of one alert level for aircraft in an altitude band.

    A band applies to a pair whose higher aircraft is at or above ``floor_ft`` and
    below ``ceiling_ft``. The level is raised when the pair's predicted loss of
    ``(dmod_nm, zthr_ft)`` separation begins within ``tau_s``.
    """

    floor_ft: float
    ceiling_ft: float
    tau_s: float
    dmod_nm: float
    zthr_ft: float


@dataclass(frozen=True, slots=True)
class AlertLevelSpec:
    """One alert level and its bands, lowest band first."""

    level: AlertLevel
    bands: tuple[AlertBand, ...]


CONFLICT_FIELDS: tuple[str, ...] = (
    "a",
    "b",
    "party_a",
    "party_b",
    "tcpa_s",
    "dcpa_nm",
    "dalt_ft_at_cpa",
    "tin_s",
    "tout_s",
    "level",
)
"""The fields of a conflict record, in the order files and APIs write them."""


@dataclass(frozen=True, slots=True)
class Conflicts:
    """Predicted losses of separation, one entry per pair (struct of arrays).

    Indices ``a_index`` and ``b_index`` point into the snapshot that was checked, with
    ``ids[a_index] < ids[b_index]``; entries are sorted by (a id, b id).

    Attributes:
        tcpa_s: time to the horizontal closest point of approach, clipped to
            ``[0, lookahead_s]``.
        dcpa_nm: horizontal distance at that time.
        dalt_ft_at_cpa: absolute vertical separation at that time.
        tin_s: start of the predicted loss of separation (0 when already lost).
        tout_s: its end, clipped to the lookahead.
        level: :class:`AlertLevel` values.
    """

    a_index: IntArray
    b_index: IntArray
    tcpa_s: FloatArray
    dcpa_nm: FloatArray
    dalt_ft_at_cpa: FloatArray
    tin_s: FloatArray
    tout_s: FloatArray
    level: IntArray

    def __len__(self) -> int:
        return len(self.a_index)

    def take(self, keep: BoolArray) -> Conflicts:
        """The entries where ``keep`` is true, in the same order."""
        return Conflicts(
            self.a_index[keep],
            self.b_index[keep],
            self.tcpa_s[keep],
            self.dcpa_nm[keep],
            self.dalt_ft_at_cpa[keep],
            self.tin_s[keep],
            self.tout_s[keep],
            self.level[keep],
        )

    def records(self, states: AircraftStates) -> list[dict[str, Any]]:
        """The conflicts as plain records (ids, parties, figures, level name)."""
        return [
            dict(zip(CONFLICT_FIELDS, row, strict=True)) for row in self.rows(states)
        ]

    def rows(self, states: AircraftStates) -> Iterator[tuple[Any, ...]]:
        """The conflicts as rows of :data:`CONFLICT_FIELDS`, built column by column
        (a hundred thousand in a fraction of a second)."""
        a, b = self.a_index, self.b_index
        labels = [level.label for level in AlertLevel]
        return zip(
            states.ids[a].tolist(),
            states.ids[b].tolist(),
            states.party[a].tolist(),
            states.party[b].tolist(),
            np.round(self.tcpa_s, 3).tolist(),
            np.round(self.dcpa_nm, 4).tolist(),
            np.round(self.dalt_ft_at_cpa, 1).tolist(),
            np.round(self.tin_s, 3).tolist(),
            np.round(self.tout_s, 3).tolist(),
            (labels[k - 1] for k in self.level.tolist()),
            strict=True,
        )


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """What tactical detection checks against.

    Attributes:
        minima: the separation to keep.
        lookahead_s: how far ahead states are extrapolated.
        alert_levels: advisory and warning specs (may be empty).
        cross_party_only: only pairs of different parties (the default).
    """

    minima: SeparationMinima
    lookahead_s: float
    alert_levels: tuple[AlertLevelSpec, ...] = field(default=())
    cross_party_only: bool = True
