"""Seeded fast-time traffic for the reference scenario (Euphrates, 2017).

Each party flies sorties from its own bases to a track parallel to a deconfliction
line on its own side, :data:`TRACK_OFFSET_NM` from it, so the two parties' tracks are
about 39 NM (45 statute miles) apart, as reported for the Euphrates arrangement of
2017. The coalition flies its track downstream (north to south) and Russia upstream
(south to north); then each aircraft leaves its track away from the line and flies
home. On top of the nominal traffic come:

* excursions: random sorties, mostly Russian, that leave their track, cross the line
  by 5-25 NM and come back a few minutes later (about five a day were reported);
* close encounters: an aircraft of one party flies across the line to pass a given
  aircraft of the other at a planned miss distance and height difference. The first,
  third... is a near-collision like the one reported in December 2017 (meant to raise
  a warning), the others a close pass meant to raise an advisory but not a warning;
* GPS jitter on a small fraction of the reported positions.

Model and assumptions: every sortie flies its route of geodesic legs at one constant
ground speed (no wind); turns are instantaneous; it climbs straight after departure
and descends straight to landing at constant rates, and is level in between. All
aircraft are sampled on one time grid, so the samples of one step are a consistent
snapshot. Every random draw comes from one ``numpy.random.Generator`` seeded from the
configuration: the same seed and configuration give the same traffic, bit for bit.
Geodesy goes through :mod:`deconfliction.domain.geodesy` only.
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import LineString

from deconfliction.domain.geodesy import (
    LocalProjection,
)
from deconfliction.domain.protocol import DeconflictionLine
from deconfliction.scenario.flying import _fly
from deconfliction.scenario.routes import (
    _check_line,
    _corridor,
    _Geometry,
    _plan_encounters,
    _plan_excursions,
    _plan_sorties,
)
from deconfliction.scenario.traffic_types import (
    EUPHRATES_PLANS,
    EXIT_OFFSET_NM,
    REFERENCE_START_T_S,
    TRACK_OFFSET_NM,
    Base,
    BoolArray,
    Encounter,
    Excursion,
    PartyPlan,
    Sortie,
    Traffic,
    TrafficConfig,
)

__all__ = [
    "EUPHRATES_PLANS",
    "EXIT_OFFSET_NM",
    "REFERENCE_START_T_S",
    "TRACK_OFFSET_NM",
    "Base",
    "BoolArray",
    "Encounter",
    "Excursion",
    "PartyPlan",
    "Sortie",
    "Traffic",
    "TrafficConfig",
    "simulate_traffic",
]


def simulate_traffic(
    line: DeconflictionLine,
    config: TrafficConfig,
    plans: tuple[PartyPlan, ...] = EUPHRATES_PLANS,
) -> Traffic:
    """Fly the reference scenario along ``line`` and sample every aircraft.

    Args:
        line: the deconfliction line; each party of ``plans`` flies on the side the
            line gives it.
        config: the window, the seed and the rates.
        plans: who flies from where (the Euphrates 2017 plans by default).

    Returns:
        The traffic, sorted by (step, aircraft id).

    Raises:
        ProtocolError: if the line gives no side to a party of ``plans`` or has
            fewer than two points.
    """
    _check_line(line, plans)
    rng = np.random.default_rng(config.seed)
    line_lat = np.asarray(line.lat_deg, dtype=np.float64)
    line_lon = np.asarray(line.lon_deg, dtype=np.float64)
    proj = LocalProjection.around(line_lat, line_lon)
    line_m = LineString(np.column_stack(proj.to_xy_m(line_lat, line_lon)))
    geo = _Geometry(
        proj=proj,
        line_m=line_m,
        corridors={p.party: _corridor(line_m, line.sides[p.party]) for p in plans},
    )
    routes = _plan_sorties(plans, geo, config, rng)
    excursions = _plan_excursions(routes, plans, geo, config, rng)
    encounters = _plan_encounters(routes, plans, geo, config, rng)
    return _fly(routes, plans, excursions, encounters, config, rng)
