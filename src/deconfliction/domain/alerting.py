"""Alert levels: default thresholds modelled on TCAS II version 7.1.

TCAS chooses a sensitivity level by own altitude and raises a traffic advisory (TA)
or a resolution advisory (RA) when the intruder is within tau seconds of closest
approach, or within DMOD horizontally, and within ZTHR vertically. Deconfliction maps
TA to :attr:`AlertLevel.ADVISORY` and RA to :attr:`AlertLevel.WARNING`: a level is
raised for a pair whose predicted loss of ``(dmod_nm, zthr_ft)`` begins within
``tau_s``. The band is chosen by the higher aircraft of the pair, which picks the
larger (more cautious) thresholds. Bands use pressure altitude in place of TCAS's
radar altitude below 2,350 ft: the core knows no terrain.

Reference: the TCAS II v7.1 table in ``shared/reference/standards.md`` (tau, DMOD
and ZTHR as in NASA DAIDALUS ``TCASTable.java``).
"""

from __future__ import annotations

import math

from deconfliction.domain.model import AlertBand, AlertLevel, AlertLevelSpec

_INF_FT = math.inf

# Columns: floor_ft, ceiling_ft, then tau_s, dmod_nm, zthr_ft for TA, then for RA.
# Sensitivity level 2 (below 1,000 ft) issues no RA: its RA columns are None.
_TCAS_V71_BANDS: tuple[
    tuple[float, float, float, float, float, float | None, float | None, float | None],
    ...,
] = (
    (-_INF_FT, 1000.0, 20.0, 0.30, 850.0, None, None, None),
    (1000.0, 2350.0, 25.0, 0.33, 850.0, 15.0, 0.20, 600.0),
    (2350.0, 5000.0, 30.0, 0.48, 850.0, 20.0, 0.35, 600.0),
    (5000.0, 10000.0, 40.0, 0.75, 850.0, 25.0, 0.55, 600.0),
    (10000.0, 20000.0, 45.0, 1.00, 850.0, 30.0, 0.80, 600.0),
    (20000.0, 42000.0, 48.0, 1.30, 850.0, 35.0, 1.10, 700.0),
    (42000.0, _INF_FT, 48.0, 1.30, 1200.0, 35.0, 1.10, 800.0),
)


def default_alert_levels() -> tuple[AlertLevelSpec, ...]:
    """Advisory and warning levels with the TCAS II v7.1 TA and RA thresholds.

    >>> advisory, warning = default_alert_levels()
    >>> advisory.level.label, len(advisory.bands), warning.bands[0].floor_ft
    ('advisory', 7, 1000.0)
    """
    advisory = tuple(
        AlertBand(floor_ft=lo, ceiling_ft=hi, tau_s=tau, dmod_nm=dmod, zthr_ft=zthr)
        for lo, hi, tau, dmod, zthr, *_ in _TCAS_V71_BANDS
    )
    warning = tuple(
        AlertBand(
            floor_ft=lo, ceiling_ft=hi, tau_s=ra_tau, dmod_nm=ra_dmod, zthr_ft=ra_z
        )
        for lo, hi, _, _, _, ra_tau, ra_dmod, ra_z in _TCAS_V71_BANDS
        if ra_tau is not None and ra_dmod is not None and ra_z is not None
    )
    return (
        AlertLevelSpec(level=AlertLevel.ADVISORY, bands=advisory),
        AlertLevelSpec(level=AlertLevel.WARNING, bands=warning),
    )
