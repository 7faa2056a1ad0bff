"""The notice of operation: its facts and its sending over the hotline.

Part of :mod:`deconfliction.service.planning` (filing and updating send notices):
the coarse area holding every volume, the facts a party is told (all of them, or
only what the protocol's ``notice_discloses`` names when it may not see plans),
and one notice per other party, recorded against the operation's version.
Re-exported by the planning service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, insert

from deconfliction.domain import geodesy
from deconfliction.domain.planning import Circle, Operation
from deconfliction.domain.protocol import NOTICE_DETAILS, Protocol
from deconfliction.service import disclosure, hotline, protocols
from deconfliction.service.auth import Principal
from deconfliction.service.keys import KeyRing
from deconfliction.store.tables import operation_notices


def _area_facts(op: Operation) -> dict[str, float]:
    """A circle holding every volume: the notice's coarse area."""
    lats: list[float] = []
    lons: list[float] = []
    for v in op.volumes:
        outline = v.volume.outline
        if isinstance(outline, Circle):
            lat, lon = geodesy.destination(
                np.full(8, outline.center_lat_deg),
                np.full(8, outline.center_lon_deg),
                np.arange(8) * 45.0,
                np.full(8, outline.radius_nm),
            )
            lats += [float(x) for x in lat]
            lons += [float(x) for x in lon]
        else:
            lats += list(outline.vertices_lat_deg)
            lons += list(outline.vertices_lon_deg)
    center = geodesy.LocalProjection.around(lats, lons)
    radius_nm = float(
        np.max(
            geodesy.geodesic_distance_nm(
                np.full(len(lats), center.center_lat_deg),
                np.full(len(lats), center.center_lon_deg),
                np.asarray(lats),
                np.asarray(lons),
            )
        )
    )
    return {
        "lat_deg": round(center.center_lat_deg, 4),
        "lon_deg": round(center.center_lon_deg, 4),
        "radius_nm": round(radius_nm + 0.05, 1),
    }


def _notice_facts(
    op: Operation, aircraft: Sequence[str], discloses: Sequence[str] | None = None
) -> dict[str, Any]:
    """The facts of a notice of operation: everything, or (``discloses``) only the
    details named besides the id and kind, the others listed as ``withheld``."""
    facts = {
        "operation_id": op.id,
        "operation_kind": op.kind,
        "floor_ft": min(v.volume.altitude_lower_ft for v in op.volumes),
        "ceiling_ft": max(v.volume.altitude_upper_ft for v in op.volumes),
        "start_t_s": op.time_start_t_s,
        "end_t_s": op.time_end_t_s,
        **_area_facts(op),
    }
    if aircraft:  # none named: the notice says the number was not given
        facts["aircraft_count"] = len(set(aircraft))
    if discloses is None:
        return facts
    withheld = [d for d in NOTICE_DETAILS if d not in discloses]
    dropped = {
        "area": (
            "lat_deg",
            "lon_deg",
            "radius_nm",
            "south_lat_deg",
            "north_lat_deg",
            "west_lon_deg",
            "east_lon_deg",
        ),
        "altitudes": ("floor_ft", "ceiling_ft"),
        "times": ("start_t_s", "end_t_s"),
        "aircraft_count": ("aircraft_count",),
    }
    out = {k: v for k, v in facts.items() if not any(k in dropped[d] for d in withheld)}
    return {**out, "withheld": withheld} if withheld else out


def _send_notices(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    pk: int,
    op: Operation,
    aircraft: Sequence[str],
    protocol: Protocol,
    now_t_s: float,
) -> None:
    sharing = protocols.sharing_of(protocol)
    for party in protocol.parties:
        if party == op.party:
            continue
        # A party that may see the operation is told all of it; one that may not
        # (below "plans") only what the protocol's notice_discloses names.
        sees_plans = disclosure.plans_visible(party, op.party, sharing)
        facts = _notice_facts(
            op, aircraft, None if sees_plans else protocol.planning.notice_discloses
        )
        sent = hotline.send(
            conn,
            keys,
            who,
            hotline.Outgoing(
                to=party,
                kind=hotline.MessageKind.NOTICE_OF_OPERATION,
                priority=hotline.Priority(protocol.planning.notice_priority),
                facts=facts,
                operation_id=op.id,
            ),
            now_t_s,
        )
        conn.execute(
            insert(operation_notices).values(
                op_pk=pk, version=op.version, party_id=party, message_id=sent["id"]
            )
        )
