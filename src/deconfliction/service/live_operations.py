"""Live conformance of flying operations to their planned volumes.

An activated operation whose aircraft leaves its volumes turns nonconforming (an
``operation_nonconformance`` incident, and a notice through the planning service);
it conforms again once its aircraft has been back inside for the protocol's
``exit_debounce_s``. One excursion per operation at a time, opened at the first
position outside.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection

from deconfliction.domain.model import BoolArray
from deconfliction.domain.plan_conformance import positions_inside
from deconfliction.domain.planning import Operation
from deconfliction.domain.protocol import Protocol
from deconfliction.service import incidents, live_resume, planning, protocols
from deconfliction.service.incidents import (
    AircraftPoint,
    IncidentFacts,
    IncidentKind,
    OngoingIncident,
)
from deconfliction.service.live_positions import Positions, aircraft_key


@dataclass(slots=True)
class _Excursion:
    """A flying operation's aircraft out of its volumes, until back inside for
    ``exit_debounce_s``.

    Attributes:
        start: the first position outside.
        last_out: the last position outside so far.
        since_in_t_s: time of the first position of the current run inside, if
            the last position was inside.
    """

    start: AircraftPoint
    last_out: AircraftPoint
    since_in_t_s: float | None = None


class OperationMonitor:
    """The excursions of flying operations out of their volumes, live."""

    def __init__(self) -> None:
        """Start with no excursion."""
        # Per flying operation out of its volumes: the open excursion.
        self._out: dict[str, _Excursion] = {}

    def resume(
        self,
        conn: Connection,
        ongoing: Sequence[OngoingIncident],
        protocol: Protocol,
        up_to_row_id: int,
        now_t_s: float,
        parties: Collection[str] | None = None,
    ) -> int:
        """Take over the excursions an earlier run left ongoing (of the operations
        of ``parties``, if given: those this monitor follows), and follow them
        over the stored positions of their aircraft since their first position
        outside (rows up to ``up_to_row_id``, those the earlier run read).

        Returns:
            The number of changes recorded (an excursion that ended unseen).
        """
        for incident in ongoing:
            if (
                incident.kind is IncidentKind.OPERATION_NONCONFORMANCE
                and incident.boundary_id is not None  # the operation's id
                and (parties is None or incident.aircraft[0].party in parties)
            ):
                start = incident.aircraft[0]
                self._out[incident.boundary_id] = _Excursion(start, start)
        since: dict[str, float] = {}
        for op, aircraft in planning.flying(conn):
            excursion = self._out.get(op.id)
            if excursion is not None:
                for a in aircraft:
                    key = aircraft_key(op.party, a)
                    since[key] = min(since.get(key, np.inf), excursion.start.t_s)
        replay = live_resume.replay_positions(conn, since, up_to_row_id)
        return self.update(conn, replay, protocol, now_t_s)

    def update(
        self, conn: Connection, new: Positions, protocol: Protocol, now_t_s: float
    ) -> int:
        """Activated operations whose aircraft leave their volumes turn nonconforming
        (an incident) and conforming again after ``exit_debounce_s`` inside."""
        changes = 0
        flying_ids = set()
        for op, aircraft in planning.flying(conn):
            flying_ids.add(op.id)
            if not aircraft:
                continue
            keys = [aircraft_key(op.party, a) for a in aircraft]
            mine = new.take(
                np.isin(new.code, np.flatnonzero(np.isin(new.aircraft, keys)))
            )
            if len(mine) == 0:
                continue
            inside = positions_inside(
                op, mine.lat_deg, mine.lon_deg, mine.alt_ft, mine.t_s
            )
            changes += self._follow(conn, op, mine, inside, protocol, now_t_s)
        for op_id in [k for k in self._out if k not in flying_ids]:
            excursion = self._out.pop(op_id)
            _record(
                conn,
                protocol,
                op_id,
                excursion.start.party,
                excursion,
                excursion.last_out.t_s,
                now_t_s,
            )
        return changes

    def _follow(
        self,
        conn: Connection,
        op: Operation,
        mine: Positions,
        inside: BoolArray,
        protocol: Protocol,
        now_t_s: float,
    ) -> int:
        """Open and close ``op``'s excursion over its aircraft's new positions (in
        time order), taking a run of positions all inside or all outside at once.

        An excursion opens at the first position outside; it closes at a position
        inside ``exit_debounce_s`` or more after the first of an unbroken run of
        positions inside (not at that first one). Returns the number of changes."""
        debounce_s = protocol.conformance.exit_debounce_s
        excursion = self._out.get(op.id)
        changes = 0
        run_starts = np.r_[0, np.flatnonzero(inside[1:] != inside[:-1]) + 1]
        run_ends = np.r_[run_starts[1:], len(inside)]
        for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
            if not inside[start]:
                if excursion is None:
                    excursion = _Excursion(mine.point(start), mine.point(start))
                    self._out[op.id] = excursion
                    planning.set_conformance(
                        conn,
                        op.id,
                        False,
                        now_t_s,
                        # no aircraft id: the reason goes to every party that
                        # sees the operation, ids only at "full" (the incident
                        # names it to those who may see it)
                        "an aircraft left the volumes",
                    )
                    _record(conn, protocol, op.id, op.party, excursion, None, now_t_s)
                    changes += 1
                excursion.since_in_t_s = None
                excursion.last_out = mine.point(end - 1)
            elif excursion is not None:
                first = start
                if excursion.since_in_t_s is None:
                    excursion.since_in_t_s = float(mine.t_s[start])
                    first = start + 1
                waited_s = mine.t_s[first:end] - excursion.since_in_t_s
                if np.any(waited_s >= debounce_s):
                    planning.set_conformance(
                        conn, op.id, True, now_t_s, "back inside its volumes"
                    )
                    _record(
                        conn,
                        protocol,
                        op.id,
                        op.party,
                        excursion,
                        excursion.last_out.t_s,
                        now_t_s,
                    )
                    del self._out[op.id]
                    excursion = None
                    changes += 1
        return changes


def _record(
    conn: Connection,
    protocol: Protocol,
    op_id: str,
    party: str,
    excursion: _Excursion,
    end_t_s: float | None,
    now_t_s: float,
) -> None:
    facts = IncidentFacts(
        source_key=f"plan|{op_id}|{excursion.start.t_s:.3f}",
        kind=IncidentKind.OPERATION_NONCONFORMANCE,
        party_id=party,
        involved=tuple(sorted(p for p in protocol.parties if p != party)),
        boundary_id=op_id,
        start_t_s=excursion.start.t_s,
        end_t_s=end_t_s,
        severity_nm=0.0,
        aircraft=(excursion.start,),
    )
    incidents.record(conn, facts, now_t_s, protocols.sharing_of(protocol))
