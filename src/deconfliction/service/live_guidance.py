"""Manoeuvre guidance on live alerts (#17.5): for each aircraft of an alert, its own
party gets the detect-and-avoid bands and preferred resolution of that aircraft.

The live loop calls :func:`alert_guidance` with the alerts it writes in a tick
(raised or updated) and every alert open; the bands are computed in one vectorised
call (:func:`deconfliction.domain.daa.theatre.ownship_bands`) for the aircraft of
those alerts only, with the configuration the protocol names in ``[guidance]``.

What each party's guidance is computed against is what that party may see
(``service.disclosure``), so that the bands reveal no aircraft its sharing level
hides:

* its own aircraft (a party sees its own tracks at every level);
* the aircraft it has an open alert with, from ``conflicts`` up (the alert itself is
  disclosed to it; the bands add what any advice about avoiding that aircraft
  adds);
* under ``full``, every aircraft of the protocol's parties (it sees their tracks).

Under ``zones`` no alert is disclosed, so no guidance is computed at all. The other
side of an alert never receives this guidance: :func:`disclosure.alert_view` drops
``guidance`` from every side that is not the viewer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from deconfliction.adapters.daa_files import bands_objects, load_config
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.daa.config import DaaConfig
from deconfliction.domain.daa.picture import StepStates
from deconfliction.domain.daa.theatre import ownship_bands, reach_pairs
from deconfliction.domain.model import AircraftStates
from deconfliction.domain.protocol import SharingLevel
from deconfliction.service.disclosure import Sharing

SAMPLE_S: float = 4.0
"""Pieces of a kinematic manoeuvre, as ``deconfliction daa`` flies them."""


@lru_cache(maxsize=8)
def daa_config(name: str) -> DaaConfig:
    """A shipped DAA configuration, read once per process."""
    return load_config(name)


def alert_guidance(
    config_name: str | None,
    sharing: Sharing,
    states: AircraftStates,
    written: Sequence[Alert],
    open_alerts: Sequence[Alert],
    now_t_s: float,
) -> dict[str, dict[str, Any]]:
    """The guidance of every aircraft of ``written`` whose party may see the alert,
    by aircraft key (``party:aircraft``, as in ``states.ids``).

    Args:
        config_name: the protocol's ``[guidance] config``; None: no guidance.
        sharing: the sharing in effect.
        states: the live picture the alerts were detected in.
        written: the alerts raised or updated this tick.
        open_alerts: every alert open (which traffic each aircraft may be computed
            against under ``conflicts`` and ``plans``).
        now_t_s: the time of the picture.

    Returns:
        Per aircraft key: ``config``, ``t_s``, the four dimensions' bands as lists
        of ``[from, to, region]`` and ``resolution`` (as ``deconfliction daa``'s
        ``bands.jsonl``).
    """
    if config_name is None or not written or len(states) == 0:
        return {}
    index = {str(k): i for i, k in enumerate(states.ids)}
    party = np.asarray(states.party).astype(str)
    parties = sorted(set(party.tolist()))
    sees_alerts = {
        p: sharing.own_level(p).allows(SharingLevel.CONFLICTS) for p in parties
    }
    sees_all = {p: sharing.own_level(p).allows(SharingLevel.FULL) for p in parties}
    ownships = sorted(
        {
            index[key]
            for a in written
            for key in (a.a_id, a.b_id)
            if key in index and sees_alerts.get(str(party[index[key]]), False)
        }
    )
    if not ownships:
        return {}
    config = daa_config(config_name)
    n = len(states)
    step = StepStates(
        lat_deg=np.asarray(states.lat_deg, dtype=np.float64),
        lon_deg=np.asarray(states.lon_deg, dtype=np.float64),
        x_m=np.zeros(n),
        y_m=np.zeros(n),
        alt_ft=np.asarray(states.alt_ft, dtype=np.float64),
        trk_deg=np.asarray(states.trk_deg, dtype=np.float64),
        gs_kt=np.asarray(states.gs_kt, dtype=np.float64),
        vs_fpm=np.asarray(states.vs_fpm, dtype=np.float64),
        alerter=np.zeros(n, dtype=np.int64),
    )
    own_idx = np.asarray(ownships, dtype=np.int64)
    own, traffic = reach_pairs(config, step, own_idx)
    # The aircraft each ownship has an open alert with (either way round).
    alerted = np.array(
        [
            (index[x], index[y])
            for a in open_alerts
            for x, y in ((a.a_id, a.b_id), (a.b_id, a.a_id))
            if x in index and y in index
        ],
        dtype=np.int64,
    ).reshape(-1, 2)
    alerted_keys = alerted[:, 0] * n + alerted[:, 1]
    full_party = np.array([sees_all[str(p)] for p in party], dtype=bool)
    allowed = (
        (party[own] == party[traffic])
        | full_party[own]
        | np.isin(own * n + traffic, alerted_keys)
    )
    # An alert's other aircraft counts even beyond the reach (it never is).
    mine = np.isin(alerted[:, 0], own_idx)
    keys = np.unique(np.concatenate([(own * n + traffic)[allowed], alerted_keys[mine]]))
    assessment = ownship_bands(
        config, step, own_idx, keys // n, keys % n, sample_s=SAMPLE_S
    )
    names = tuple(str(k) for k in states.ids)
    out: dict[str, dict[str, Any]] = {}
    for obj in bands_objects(config, now_t_s, names, assessment):
        key = str(obj.pop("ownship"))
        obj.pop("time_s")
        out[key] = {"config": config_name, "t_s": now_t_s, **obj}
    return out
