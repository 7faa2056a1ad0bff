"""Disclosure: what each party may see of the others. The security boundary.

Every object that leaves the server (API responses and stream events) passes through
one of the ``*_view`` functions here, with the agreements in effect (``Sharing``).
Several agreements may be in effect at once between different sets of parties; a
pair of parties is under at most one, and what a party sees of another is decided
by the agreement binding the two (:meth:`Sharing.between`), at that agreement's
level. A view returns None when the party may not see the object at all; the API
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
Of a party no agreement binds with it, a party sees nothing at any level (even when
both are bound with a third): its aircraft are kept out of detection against the
party's (``service.live``), and every view here drops them too. An object that
involves several other parties is shown at the least of the viewer's levels with
each (:func:`level_with`), and not at all if one of them is bound to it by none.
"""

from __future__ import annotations

from dataclasses import dataclass
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
class Agreement:
    """One agreement in effect: its sharing level and the parties it binds."""

    level: SharingLevel
    parties: frozenset[str]

    def binds(self, p: str, q: str) -> bool:
        """Whether both ``p`` and ``q`` are parties of this agreement."""
        return p in self.parties and q in self.parties


def _lesser(a: SharingLevel, b: SharingLevel) -> SharingLevel:
    return a if a.rank <= b.rank else b


@dataclass(frozen=True, slots=True)
class Sharing:
    """The agreements in effect, each with its level and parties.

    Several agreements may be in effect at once between different parties, but a
    pair of parties is under at most one of them (``service.protocols``): what
    ``p`` sees of ``q`` is decided by the agreement binding both
    (:meth:`between`), and with none, nothing. ``history`` holds every period a
    version was in effect (None where it is not known: the levels now then apply
    to data of any time); ``recorded_t_s`` (set by :meth:`as_recorded`) is the time
    the data in question was recorded.
    """

    agreements: tuple[Agreement, ...] = ()
    history: tuple[Period, ...] | None = None
    recorded_t_s: float | None = None

    @classmethod
    def one(
        cls,
        level: SharingLevel,
        parties: frozenset[str] = frozenset(),
        history: tuple[Period, ...] | None = None,
    ) -> Sharing:
        """The sharing of a single agreement (none if ``parties`` is empty).

        >>> Sharing.one(SharingLevel.FULL, frozenset("ab")).between("a", "b").value
        'full'
        """
        agreements = (Agreement(level, parties),) if parties else ()
        return cls(agreements, history)

    @property
    def parties(self) -> frozenset[str]:
        """Every party bound by some agreement in effect."""
        return frozenset().union(*(a.parties for a in self.agreements))

    def partners_of(self, party: str) -> frozenset[str]:
        """The parties under an agreement with ``party`` (not itself).

        >>> two = Sharing((Agreement(SharingLevel.FULL, frozenset("ab")),
        ...                Agreement(SharingLevel.FULL, frozenset("bc"))))
        >>> sorted(two.partners_of("b")), sorted(two.partners_of("a"))
        (['a', 'c'], ['b'])
        """
        found: frozenset[str] = frozenset()
        for a in self.agreements:
            if party in a.parties:
                found |= a.parties
        return found - {party}

    def as_recorded(self, t_s: float) -> Sharing:
        """The sharing that applies to data recorded at ``t_s``: per pair, the
        lesser of the level then and now (a level raised later does not reach back
        to what was recorded under a lower one; one lowered since applies to it
        too). Nothing is shared between two parties of a time no agreement bound
        them.

        >>> ab = frozenset("ab")
        >>> zones_then_full = Sharing.one(
        ...     SharingLevel.FULL,
        ...     ab,
        ...     (
        ...         Period(0.0, 100.0, SharingLevel.ZONES, ab),
        ...         Period(100.0, None, SharingLevel.FULL, ab),
        ...     ),
        ... )
        >>> zones_then_full.as_recorded(99.9).between("a", "b").value
        'zones'
        >>> zones_then_full.as_recorded(100.0).between("a", "b").value
        'full'
        >>> zones_then_full.as_recorded(-1.0).between("a", "b") is None
        True
        """
        if self.history is None:
            return self
        return Sharing(self.agreements, self.history, t_s)

    def between(self, viewer: str, owner: str) -> SharingLevel | None:
        """The level at which ``viewer`` is shown data of ``owner``: ``full`` for
        its own, the level of the agreement binding both (as recorded, see
        :meth:`as_recorded`), or None when no agreement binds them.

        >>> two = Sharing((Agreement(SharingLevel.CONFLICTS, frozenset("ab")),
        ...                Agreement(SharingLevel.FULL, frozenset("bc"))))
        >>> two.between("a", "b").value, two.between("c", "b").value
        ('conflicts', 'full')
        >>> two.between("a", "c") is None
        True
        """
        if viewer == owner:
            return SharingLevel.FULL
        now = next((a.level for a in self.agreements if a.binds(viewer, owner)), None)
        if now is None or self.recorded_t_s is None or self.history is None:
            return now
        t_s = self.recorded_t_s
        then = next(
            (
                p.level
                for p in self.history
                if p.holds(t_s) and viewer in p.parties and owner in p.parties
            ),
            None,
        )
        return None if then is None else _lesser(now, then)

    def own_level(self, party: str) -> SharingLevel:
        """The level at which ``party`` is shown what concerns only itself and
        what detection found between its own aircraft: that of its widest
        agreement (``zones`` under none; as recorded, see :meth:`as_recorded`).

        >>> Sharing.one(SharingLevel.FULL, frozenset({"a"})).own_level("b").value
        'zones'
        """
        levels = [
            level
            for a in self.agreements
            if party in a.parties
            for level in [self._recorded(a, party)]
            if level is not None
        ]
        return max(levels, key=lambda level: level.rank, default=SharingLevel.ZONES)

    def _recorded(self, agreement: Agreement, party: str) -> SharingLevel | None:
        if self.recorded_t_s is None or self.history is None:
            return agreement.level
        t_s = self.recorded_t_s
        then = [p.level for p in self.history if p.holds(t_s) and party in p.parties]
        if not then:
            return None
        return _lesser(agreement.level, max(then, key=lambda level: level.rank))


NOTHING_SHARED = Sharing()


def _shown_to(viewer_party: str, owner_party: str, sharing: Sharing) -> bool:
    """Whether anything of ``owner_party`` may be shown to ``viewer_party`` at all:
    its own, or a party an agreement binds with it (another party's data is shown
    to nobody else, whatever the level).

    >>> _shown_to("a", "c", Sharing.one(SharingLevel.FULL, frozenset("ab")))
    False
    """
    return sharing.between(viewer_party, owner_party) is not None


def _allows(
    viewer_party: str, owner_party: str, sharing: Sharing, needed: SharingLevel
) -> bool:
    level = sharing.between(viewer_party, owner_party)
    return level is not None and level.allows(needed)


def tracks_visible(viewer_party: str, owner_party: str, sharing: Sharing) -> bool:
    """Whether ``viewer_party`` may see live tracks of ``owner_party``.

    >>> tracks_visible("a", "b", Sharing.one(SharingLevel.PLANS, frozenset("ab")))
    False
    >>> tracks_visible("a", "a", NOTHING_SHARED)
    True
    >>> tracks_visible("a", "c", Sharing.one(SharingLevel.FULL, frozenset("ab")))
    False
    """
    return _allows(viewer_party, owner_party, sharing, SharingLevel.FULL)


def plans_visible(viewer_party: str, owner_party: str, sharing: Sharing) -> bool:
    """Whether ``viewer_party`` may see planned operations of ``owner_party``."""
    return _allows(viewer_party, owner_party, sharing, SharingLevel.PLANS)


def level_with(
    viewer_party: str, parties: list[str], sharing: Sharing
) -> SharingLevel | None:
    """The level at which ``viewer_party`` sees an object involving ``parties``:
    the least of its levels with each other party (None if one of them is under
    no agreement with it), or its own level if there is no other party."""
    others = [p for p in dict.fromkeys(parties) if p != viewer_party]
    if not others:
        return sharing.own_level(viewer_party)
    levels = [sharing.between(viewer_party, p) for p in others]
    if any(level is None for level in levels):
        return None
    return min((level for level in levels if level is not None), key=lambda lv: lv.rank)


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
    sides: list[dict[str, Any]] = alert["aircraft"]
    involved = any(side["party"] == viewer_party for side in sides)
    if not involved:
        return None
    level = level_with(viewer_party, [side["party"] for side in sides], sharing)
    if level is None or not level.allows(SharingLevel.CONFLICTS):
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
    has_own_aircraft = any(
        side["party"] == viewer_party for side in incident["aircraft"]
    )
    if not has_own_aircraft and viewer_party not in incident["involved"]:
        return None
    level = level_with(
        viewer_party, [side["party"] for side in incident["aircraft"]], sharing
    )
    if level is None:
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
