"""Comparisons with minima and thresholds: exactly at a threshold is on the safe side.

Separation is lost only when two aircraft are *strictly* closer than *both* minima:
two aircraft exactly 1,000 ft apart (FL360 and FL370) or exactly 5 NM apart are
separated. The same holds for every threshold a figure is compared with: alert
thresholds (DMOD, ZTHR), a line's buffer, a zone's outline, floor and ceiling, and
the margins between planned volumes. Being exactly at one is never a breach.

Figures reach the kernels converted to metres and through geometry, and so lose
their exactness: 37,000 ft and 36,000 ft are 11,277.6 m and 10,972.8 m, whose
difference in floating point is 304.7999999999993 m, one rounding short of 1,000 ft
(304.8 m). So every kernel compares with the threshold less a tolerance far below
any physical meaning and far above the rounding of its arithmetic: a figure within
the tolerance of a threshold counts as exactly at it.

* :data:`HORIZONTAL_TOLERANCE_M`, 1 cm: the intersection precision of the InterUSS
  test suite, which planning uses too; positions are reported to a few metres at
  best.
* :data:`VERTICAL_TOLERANCE_FT`, 0.01 ft (3 mm): altitudes are reported in steps of
  25 or 100 ft.

Horizontal distances are geodesic on WGS-84. Tactical detection measures straight
lines between points on the ellipsoid (chords), which are shorter than the geodesic
by ``s^3 / (24 R^2)`` (0.8 mm at 5 NM, 52 mm at 20 NM); it compares them with the
chord of the threshold (:func:`deconfliction.domain.geodesy.chord_m`), so that two
aircraft exactly 20 NM apart are as separated under a 20 NM minimum as two exactly
5 NM apart are under 5 NM.
"""

from __future__ import annotations

from typing import overload

import numpy as np

from deconfliction.domain.model import FloatArray
from deconfliction.units import M_PER_FT, M_PER_NM

HORIZONTAL_TOLERANCE_M: float = 0.01
"""A horizontal distance within 1 cm of a threshold counts as at it (not closer)."""

VERTICAL_TOLERANCE_FT: float = 0.01
"""A vertical distance within 0.01 ft of a threshold counts as at it (not closer)."""


@overload
def horizontal_limit_m(threshold_nm: float) -> float: ...
@overload
def horizontal_limit_m(threshold_nm: FloatArray) -> FloatArray: ...
def horizontal_limit_m(threshold_nm: float | FloatArray) -> float | FloatArray:
    """The distance a kernel measuring in metres must be *strictly* below to be
    closer than ``threshold_nm``: the threshold less :data:`HORIZONTAL_TOLERANCE_M`.

    >>> horizontal_limit_m(5.0)
    9259.99
    """
    if isinstance(threshold_nm, np.ndarray):
        return threshold_nm * M_PER_NM - HORIZONTAL_TOLERANCE_M
    return float(threshold_nm) * M_PER_NM - HORIZONTAL_TOLERANCE_M


@overload
def vertical_limit_m(threshold_ft: float) -> float: ...
@overload
def vertical_limit_m(threshold_ft: FloatArray) -> FloatArray: ...
def vertical_limit_m(threshold_ft: float | FloatArray) -> float | FloatArray:
    """The vertical distance a kernel measuring in metres must be *strictly* below
    to be closer than ``threshold_ft``: the threshold less
    :data:`VERTICAL_TOLERANCE_FT`.

    FL370 and FL360 in metres are not closer than 1,000 ft:

    >>> 37000 * M_PER_FT - 36000 * M_PER_FT < vertical_limit_m(1000.0)
    False
    >>> 37000 * M_PER_FT - 36000 * M_PER_FT < 1000.0 * M_PER_FT  # the fault it cures
    True
    """
    if isinstance(threshold_ft, np.ndarray):
        return (threshold_ft - VERTICAL_TOLERANCE_FT) * M_PER_FT
    return (float(threshold_ft) - VERTICAL_TOLERANCE_FT) * M_PER_FT


def horizontal_limit_nm(threshold_nm: float) -> float:
    """:func:`horizontal_limit_m` in nautical miles, for geodesic distances in NM.

    >>> round(5.0 - horizontal_limit_nm(5.0), 9)
    5.4e-06
    """
    return float(threshold_nm) - HORIZONTAL_TOLERANCE_M / M_PER_NM
