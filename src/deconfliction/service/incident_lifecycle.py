"""Who may move an incident along its lifecycle, and to where.

An incident concerns its **parties**: those whose aircraft it names and those it
``involves`` (the other side of a line, a zone's owner). A violation has an
**offender** (the party at fault) and **affected** parties (the others); a loss of
separation has two parties and no offender, both affected.

| to | who |
|---|---|
| ``reported`` | an affected party (a complaint was made) |
| ``acknowledged`` | the offender (it received the complaint); either party of a loss |
| ``disputed`` | any party; it withdraws every request to resolve |
| ``resolved`` | an affected party of a violation; for a loss of separation, both |
|              | parties. The offender's ``resolved`` is recorded as its agreement |
|              | (``resolution_requested_by``) and closes nothing by itself, unless |
|              | the violation affects no other party. |

``resolved`` is final. Every change carries the version it was made from (compare
and set): of two changes made from the same version, one wins and the other gets a
conflict. Observers change nothing. Pure: the service reads and writes the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from deconfliction.errors import ConflictError, ForbiddenError


class IncidentStatus(StrEnum):
    """Where the incident stands in its handling."""

    OPEN = "open"
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISPUTED = "disputed"


ALLOWED_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.OPEN: frozenset(
        {IncidentStatus.REPORTED, IncidentStatus.RESOLVED, IncidentStatus.DISPUTED}
    ),
    IncidentStatus.REPORTED: frozenset(
        {IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED, IncidentStatus.DISPUTED}
    ),
    IncidentStatus.ACKNOWLEDGED: frozenset(
        {IncidentStatus.RESOLVED, IncidentStatus.DISPUTED}
    ),
    IncidentStatus.DISPUTED: frozenset(
        {IncidentStatus.RESOLVED, IncidentStatus.REPORTED}
    ),
    IncidentStatus.RESOLVED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Standing:
    """An incident's parties as the lifecycle sees them.

    Attributes:
        parties: every party the incident concerns.
        offender: the party at fault of a violation; None for a loss of separation.
    """

    parties: frozenset[str]
    offender: str | None

    @property
    def affected(self) -> frozenset[str]:
        """The parties other than the offender (both parties of a loss)."""
        return self.parties - {self.offender} if self.offender else self.parties

    def resolved_by(self, asked: frozenset[str]) -> bool:
        """Whether the requests of ``asked`` resolve the incident: one affected
        party's for a violation; every party's for a loss of separation (or for a
        violation that affects no other party).

        >>> v = Standing(frozenset({"a", "b"}), "a")
        >>> v.resolved_by(frozenset({"a"})), v.resolved_by(frozenset({"b"}))
        (False, True)
        >>> Standing(frozenset({"a", "b"}), None).resolved_by(frozenset({"a"}))
        False
        """
        if self.offender is not None and self.affected:
            return bool(asked & self.affected)
        return self.parties <= asked


@dataclass(frozen=True, slots=True)
class Change:
    """The result of a request: the new status and who has asked to resolve."""

    status: IncidentStatus
    resolution_requested_by: tuple[str, ...]


def decide(
    standing: Standing,
    actor: str,
    source: IncidentStatus,
    target: IncidentStatus,
    requested_by: tuple[str, ...],
) -> Change:
    """What ``actor``'s request to move the incident to ``target`` does.

    >>> v = Standing(frozenset({"a", "b"}), "a")
    >>> decide(v, "a", IncidentStatus.OPEN, IncidentStatus.RESOLVED, ())
    Change(status=<IncidentStatus.OPEN: 'open'>, resolution_requested_by=('a',))
    >>> decide(v, "b", IncidentStatus.OPEN, IncidentStatus.RESOLVED, ("a",)).status
    <IncidentStatus.RESOLVED: 'resolved'>
    >>> los = Standing(frozenset({"a", "b"}), None)
    >>> decide(los, "b", IncidentStatus.OPEN, IncidentStatus.RESOLVED, ("a",)).status
    <IncidentStatus.RESOLVED: 'resolved'>

    Raises:
        ForbiddenError: if ``actor`` may not make this request.
        ConflictError: if the lifecycle does not allow going from ``source`` to
            ``target``.
    """
    if actor not in standing.parties:
        raise ForbiddenError("only the incident's parties change its status")
    if target not in ALLOWED_TRANSITIONS[source]:
        raise ConflictError(
            f"an incident cannot go from {source.value} to {target.value}"
        )
    if target is IncidentStatus.REPORTED and actor not in standing.affected:
        raise ForbiddenError("the party at fault does not report its own violation")
    if (
        target is IncidentStatus.ACKNOWLEDGED
        and standing.offender is not None
        and actor != standing.offender
    ):
        raise ForbiddenError("only the party at fault acknowledges a complaint")
    if target is IncidentStatus.DISPUTED:
        return Change(target, ())
    if target is not IncidentStatus.RESOLVED:
        return Change(target, requested_by)
    asked = frozenset({*requested_by, actor})
    status = target if standing.resolved_by(asked) else source
    return Change(status, tuple(sorted(asked)))
