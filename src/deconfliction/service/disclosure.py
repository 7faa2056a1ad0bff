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
Of a party the protocol does not name, nobody else sees anything at any level: its
aircraft are stored but kept out of detection (``service.live``), and every view
here drops them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deconfliction.domain.protocol import SharingLevel


@dataclass(frozen=True, slots=True)
class Period:
    """A time a protocol version was in effect, and what it shared with whom."""

    start_t_s: float
    end_t_s: float | None  # None: still in effect
    level: SharingLevel
    parties: frozenset[str]

    def holds(self, t_s: float) -> bool:
        """Whether ``t_s`` falls in this period (start included, end not)."""
        return self.start_t_s <= t_s and (self.end_t_s is None or t_s < self.end_t_s)


@dataclass(frozen=True, slots=True)
class Sharing:
    """The sharing in effect: its level, and the parties bound by the protocol.

    A party the protocol does not name gets ``zones`` whatever the level: it sees
    its own data and nothing of anyone else. ``history`` holds every period a
    version was in effect (None where it is not known: the level then applies to
    data of any time), for :meth:`as_recorded`.
    """

    level: SharingLevel
    parties: frozenset[str] = field(default_factory=frozenset)
    history: tuple[Period, ...] | None = None

    def as_recorded(self, t_s: float) -> Sharing:
        """The sharing that applies to data recorded at ``t_s``: the lesser of the
        sharing then and now (a level raised later does not reach back to what was
        recorded under a lower one; one lowered since applies to it too). Nothing
        is shared of a time no protocol was in effect.

        >>> zones_then_full = Sharing(
        ...     SharingLevel.FULL,
        ...     frozenset("ab"),
        ...     (
        ...         Period(0.0, 100.0, SharingLevel.ZONES, frozenset("ab")),
        ...         Period(100.0, None, SharingLevel.FULL, frozenset("ab")),
        ...     ),
        ... )
        >>> zones_then_full.as_recorded(99.9).level.value
        'zones'
        >>> zones_then_full.as_recorded(100.0).level.value
        'full'
        >>> zones_then_full.as_recorded(-1.0).parties
        frozenset()
        """
        if self.history is None:
            return self
        then = next((p for p in self.history if p.holds(t_s)), None)
        if then is None:
            return Sharing(SharingLevel.ZONES, frozenset(), self.history)
        lesser = min(self.level, then.level, key=lambda level: level.rank)
        return Sharing(lesser, self.parties & then.parties, self.history)

    def for_party(self, party: str) -> SharingLevel:
        """The level that applies to what ``party`` is shown.

        >>> Sharing(SharingLevel.FULL, frozenset({"a"})).for_party("b").value
        'zones'
        """
        return self.level if party in self.parties else SharingLevel.ZONES


NOTHING_SHARED = Sharing(SharingLevel.ZONES)


def _shown_to(viewer_party: str, owner_party: str, sharing: Sharing) -> bool:
    """Whether anything of ``owner_party`` may be shown to ``viewer_party`` at all:
    its own, or a party the protocol names (an outsider's data is shown to nobody
    else, whatever the level).

    >>> _shown_to("a", "c", Sharing(SharingLevel.FULL, frozenset("ab")))
    False
    """
    return viewer_party == owner_party or owner_party in sharing.parties


def tracks_visible(viewer_party: str, owner_party: str, sharing: Sharing) -> bool:
    """Whether ``viewer_party`` may see live tracks of ``owner_party``.

    >>> tracks_visible("a", "b", Sharing(SharingLevel.PLANS, frozenset("ab")))
    False
    >>> tracks_visible("a", "a", NOTHING_SHARED)
    True
    >>> tracks_visible("a", "c", Sharing(SharingLevel.FULL, frozenset("ab")))
    False
    """
    level = sharing.for_party(viewer_party)
    return viewer_party == owner_party or (
        level.allows(SharingLevel.FULL)
        and _shown_to(viewer_party, owner_party, sharing)
    )


def plans_visible(viewer_party: str, owner_party: str, sharing: Sharing) -> bool:
    """Whether ``viewer_party`` may see planned operations of ``owner_party``."""
    level = sharing.for_party(viewer_party)
    return viewer_party == owner_party or (
        level.allows(SharingLevel.PLANS)
        and _shown_to(viewer_party, owner_party, sharing)
    )


def _reduce_aircraft(side: dict[str, Any], point_key: str) -> dict[str, Any]:
    """Another party's aircraft reduced to its party and one point."""
    return {"party": side["party"], point_key: side.get(point_key)}


def alert_view(
    viewer_party: str, alert: dict[str, Any], sharing: Sharing
) -> dict[str, Any] | None:
    """An alert as ``viewer_party`` may see it, or None.

    ``alert["aircraft"]`` holds the two sides, each a dict with at least ``party``
    and ``cpa`` (the position at the closest approach).
    """
    level = sharing.for_party(viewer_party)
    sides: list[dict[str, Any]] = alert["aircraft"]
    involved = any(side["party"] == viewer_party for side in sides)
    if not involved or not level.allows(SharingLevel.CONFLICTS):
        return None
    if not all(_shown_to(viewer_party, side["party"], sharing) for side in sides):
        return None
    if level.allows(SharingLevel.FULL):
        # A party's manoeuvre guidance is its own at every level (#17.5).
        return {
            **alert,
            "aircraft": [
                side if side["party"] == viewer_party else _without_guidance(side)
                for side in sides
            ],
        }
    return {
        **alert,
        "aircraft": [
            side if side["party"] == viewer_party else _reduce_aircraft(side, "cpa")
            for side in sides
        ],
    }


def _without_guidance(side: dict[str, Any]) -> dict[str, Any]:
    """Another party's aircraft without the guidance computed for its party.

    >>> _without_guidance({"party": "b", "id": "B1", "guidance": {}})
    {'party': 'b', 'id': 'B1'}
    """
    return {k: v for k, v in side.items() if k != "guidance"}


def incident_view(
    viewer_party: str, incident: dict[str, Any], sharing: Sharing
) -> dict[str, Any] | None:
    """An incident as ``viewer_party`` may see it, or None.

    The incident lists its aircraft (``aircraft``: sides with ``party``, ``id`` and
    ``point``), every party it concerns (``involved``) and evidence tracks keyed by
    party. A party sees its own violations at every level; another party's
    violations that concern it, and every loss of separation, from ``conflicts`` up.
    """
    # As it was shared when the server recorded it: an incident recorded under a
    # lower level stays as that level showed it, whatever the level is now. The
    # time is when the incident was made (its first sample may be a little older
    # than the agreement under which the detection loop found it).
    recorded_t_s = incident.get("created_t_s", incident.get("start_t_s"))
    if recorded_t_s is not None:
        sharing = sharing.as_recorded(recorded_t_s)
    level = sharing.for_party(viewer_party)
    has_own_aircraft = any(
        side["party"] == viewer_party for side in incident["aircraft"]
    )
    if not has_own_aircraft and viewer_party not in incident["involved"]:
        return None
    if not all(
        _shown_to(viewer_party, side["party"], sharing) for side in incident["aircraft"]
    ):
        return None
    if level.allows(SharingLevel.FULL):
        return incident
    if incident["kind"] == "operation_nonconformance" and not has_own_aircraft:
        return _nonconformance_below_full(viewer_party, incident, sharing)
    if not level.allows(SharingLevel.CONFLICTS) and (
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


def _nonconformance_below_full(
    viewer_party: str, incident: dict[str, Any], sharing: Sharing
) -> dict[str, Any] | None:
    """Another party's operation leaving its volumes, below ``full``.

    It is about that party's plan and its aircraft alone: no aircraft of the viewer
    is near it. Below ``plans`` the viewer may not see the operation, so not its
    excursion either (not even that it exists); at ``plans`` it sees the operation,
    and that it left its volumes, but not where the aircraft was nor which it was
    (that is a live position, shared only at ``full``).
    """
    if not plans_visible(viewer_party, incident["party_id"], sharing):
        return None
    return {
        **incident,
        "aircraft": [{"party": side["party"]} for side in incident["aircraft"]],
        "evidence": {**incident["evidence"], "tracks": {}},
    }
