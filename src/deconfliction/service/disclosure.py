"""Disclosure: what each party may see of the others. The security boundary.

Every object that leaves the server (API responses and stream events) passes through
one of the ``*_view`` functions here, with the sharing level of the protocol in
effect. A view returns None when the party may not see the object at all; the API
then answers exactly as if the object did not exist.

Sharing levels, in increasing order (``domain.protocol.SharingLevel``):

* ``zones``: the protocol's zones and lines; of the others nothing else.
* ``conflicts``: also the conflicts (alerts) and violations (incidents) that involve
  the caller, with the other party's aircraft reduced to one point: its position at
  the closest approach (alerts) or at its deepest point (violations). No identity,
  speed, track or history of the other aircraft.
* ``plans``: also the others' planned volumes (see the planning service).
* ``full``: also the others' live tracks, and alerts and incidents unreduced.

A party always sees its own aircraft and its own objects in full, at every level.
"""

from __future__ import annotations

from typing import Any

from deconfliction.domain.protocol import SharingLevel


def tracks_visible(viewer_party: str, owner_party: str, sharing: SharingLevel) -> bool:
    """Whether ``viewer_party`` may see live tracks of ``owner_party``.

    >>> tracks_visible("a", "b", SharingLevel.PLANS)
    False
    >>> tracks_visible("a", "a", SharingLevel.ZONES)
    True
    """
    return viewer_party == owner_party or sharing.allows(SharingLevel.FULL)


def plans_visible(viewer_party: str, owner_party: str, sharing: SharingLevel) -> bool:
    """Whether ``viewer_party`` may see planned operations of ``owner_party``."""
    return viewer_party == owner_party or sharing.allows(SharingLevel.PLANS)


def _reduce_aircraft(side: dict[str, Any], point_key: str) -> dict[str, Any]:
    """Another party's aircraft reduced to its party and one point."""
    return {"party": side["party"], point_key: side.get(point_key)}


def alert_view(
    viewer_party: str, alert: dict[str, Any], sharing: SharingLevel
) -> dict[str, Any] | None:
    """An alert as ``viewer_party`` may see it, or None.

    ``alert["aircraft"]`` holds the two sides, each a dict with at least ``party``
    and ``cpa`` (the position at the closest approach).
    """
    sides: list[dict[str, Any]] = alert["aircraft"]
    involved = any(side["party"] == viewer_party for side in sides)
    if not involved or not sharing.allows(SharingLevel.CONFLICTS):
        return None
    if sharing.allows(SharingLevel.FULL):
        return alert
    return {
        **alert,
        "aircraft": [
            side if side["party"] == viewer_party else _reduce_aircraft(side, "cpa")
            for side in sides
        ],
    }


def incident_view(
    viewer_party: str, incident: dict[str, Any], sharing: SharingLevel
) -> dict[str, Any] | None:
    """An incident as ``viewer_party`` may see it, or None.

    The incident lists its aircraft (``aircraft``: sides with ``party``, ``id`` and
    ``point``), every party it concerns (``involved``) and evidence tracks keyed by
    party. A party sees its own violations at every level; another party's
    violations that concern it, and every loss of separation, from ``conflicts`` up.
    """
    has_own_aircraft = any(
        side["party"] == viewer_party for side in incident["aircraft"]
    )
    if not has_own_aircraft and viewer_party not in incident["involved"]:
        return None
    if sharing.allows(SharingLevel.FULL):
        return incident
    if not sharing.allows(SharingLevel.CONFLICTS) and (
        not has_own_aircraft or incident["kind"] == "loss_of_separation"
    ):
        return None
    sides = [
        side if side["party"] == viewer_party else _reduce_aircraft(side, "point")
        for side in incident["aircraft"]
    ]
    tracks = {
        party: excerpt
        for party, excerpt in incident["evidence"].get("tracks", {}).items()
        if party == viewer_party
    }
    return {
        **incident,
        "aircraft": sides,
        "evidence": {**incident["evidence"], "tracks": tracks},
    }


def stats_view(
    viewer_party: str, counts: dict[str, Any], sharing: SharingLevel
) -> dict[str, Any]:
    """Incident counts per party and day: others' counts only from ``conflicts`` up."""
    if sharing.allows(SharingLevel.CONFLICTS):
        return counts
    return {party: c for party, c in counts.items() if party == viewer_party}
