"""Operations (F3548's operational intents) and their states."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from deconfliction.domain.planning.shapes import (
    Volume4D,
)
from deconfliction.errors import GeometryError


class OperationState(StrEnum):
    """Where an operation is in its life.

    From ASTM F3548-21 (operational intent states): ``accepted`` (planned and
    agreed), ``activated`` (flying), ``nonconforming`` (its aircraft have left its
    volumes), ``contingent`` (it cannot get back into them), ``ended`` (F3548 deletes
    the reference; we keep it, ended). Ours, for an agreement between parties
    without a common authority: ``pending`` (filed, its advance notice neither
    acknowledged nor past its deadline), ``short-notice`` (filed later than the
    protocol's lead time, visible as such to everyone), ``conflicted`` (filed with
    conflicts; the protocol says whether it may still be activated) and
    ``cancelled`` (withdrawn before it ended). The transitions belong to the
    planning service, not to this module.
    """

    ACCEPTED = "accepted"
    ACTIVATED = "activated"
    NONCONFORMING = "nonconforming"
    CONTINGENT = "contingent"
    ENDED = "ended"
    PENDING = "pending"
    SHORT_NOTICE = "short-notice"
    CONFLICTED = "conflicted"
    CANCELLED = "cancelled"

    @property
    def is_in_force(self) -> bool:
        """Whether other operations must keep clear of it (not ended or cancelled).

        >>> OperationState.CONFLICTED.is_in_force, OperationState.ENDED.is_in_force
        (True, False)
        """
        return self not in (OperationState.ENDED, OperationState.CANCELLED)


@dataclass(frozen=True, slots=True)
class Operation:
    """A planned operation of one party: F3548's operational intent.

    Attributes:
        id: identifier, unique among all operations.
        party: the party that flies it.
        kind: the kind of operation; the protocol sets lead times per kind.
        volumes: where and when it flies, at least one volume.
        version: grows by one on every update (an update names the version it
            replaces, so concurrent edits are caught).
        ovn: opaque version token of the stored operation ("" before it is stored).
        state: where it is in its life.

    Raises:
        GeometryError: if there is no volume.
    """

    id: str
    party: str
    kind: str
    volumes: tuple[Volume4D, ...]
    version: int = 1
    ovn: str = ""
    state: OperationState = OperationState.ACCEPTED

    def __post_init__(self) -> None:
        if not self.volumes:
            raise GeometryError(f"operation {self.id!r}: needs at least one volume")

    @property
    def time_start_t_s(self) -> float:
        """Start of its earliest volume."""
        return min(v.time_start_t_s for v in self.volumes)

    @property
    def time_end_t_s(self) -> float:
        """End of its latest volume."""
        return max(v.time_end_t_s for v in self.volumes)
