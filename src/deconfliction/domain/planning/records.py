"""What the strategic check finds: conflicts with operations, zones and lines,
and the view of one a party may see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from deconfliction.domain.planning.shapes import (
    Polygon,
    Volume4D,
)

# ------------------------------------------------------------------ conflict records


@dataclass(frozen=True, slots=True)
class Place:
    """Where an overlap is: its outline in lat/lon and its centroid.

    Attributes:
        polygons: the overlap, one polygon per separate part (vertices not closed,
            holes dropped), simplified to :data:`PLACE_MAX_VERTICES` in all; empty
            only for an overlap too thin to draw.
        centroid_lat_deg: latitude of the centroid of the (unsimplified) overlap.
        centroid_lon_deg: its longitude.
    """

    polygons: tuple[Polygon, ...]
    centroid_lat_deg: float
    centroid_lon_deg: float


@dataclass(frozen=True, slots=True)
class VolumeConflict:
    """A volume of the filed operation too close to a volume of another party's.

    Overlaps are those of the two volumes each grown by half the margin (see the
    module docstring), so the same whichever party files.

    Attributes:
        operation_id: the filed operation.
        party: its party.
        volume_index: which of its volumes (0-based).
        volume: that volume.
        other_operation_id: the other operation.
        other_party: its party.
        other_volume_index: which of its volumes.
        other_volume: that volume.
        time_overlap_start_t_s: start of the time overlap (margin included).
        time_overlap_end_t_s: its end.
        altitude_overlap_lower_ft: bottom of the altitude overlap (margin included).
        altitude_overlap_upper_ft: its top.
        horizontal_distance_nm: between the outlines, 0 when they overlap.
        place: the horizontal overlap (margin included).
    """

    operation_id: str
    party: str
    volume_index: int
    volume: Volume4D
    other_operation_id: str
    other_party: str
    other_volume_index: int
    other_volume: Volume4D
    time_overlap_start_t_s: float
    time_overlap_end_t_s: float
    altitude_overlap_lower_ft: float
    altitude_overlap_upper_ft: float
    horizontal_distance_nm: float
    place: Place


@dataclass(frozen=True, slots=True)
class ZoneConflict:
    """A volume that enters a zone another party owns.

    Attributes:
        operation_id: the filed operation.
        party: its party.
        volume_index: which of its volumes.
        volume: that volume.
        zone_id: the zone.
        zone_owner: the party that owns it.
        time_start_t_s: the volume's start (a zone holds at all times).
        time_end_t_s: the volume's end.
        altitude_overlap_lower_ft: bottom of the overlap with the zone's floor and
            ceiling.
        altitude_overlap_upper_ft: its top.
        place: the part of the outline inside the zone.
    """

    operation_id: str
    party: str
    volume_index: int
    volume: Volume4D
    zone_id: str
    zone_owner: str
    time_start_t_s: float
    time_end_t_s: float
    altitude_overlap_lower_ft: float
    altitude_overlap_upper_ft: float
    place: Place


@dataclass(frozen=True, slots=True)
class LineConflict:
    """A volume that reaches into a line's buffer or onto its other side.

    Attributes:
        operation_id: the filed operation.
        party: its party (named in the line's ``sides``).
        volume_index: which of its volumes.
        volume: that volume.
        line_id: the line.
        line_parties: the other parties the line names (those it protects).
        reaches_other_side: True when the volume reaches past the line onto the
            side the party does not keep, False when only into the buffer.
        time_start_t_s: the volume's start (a line holds at all times).
        time_end_t_s: the volume's end.
        altitude_lower_ft: the volume's bottom (a line holds at every altitude).
        altitude_upper_ft: its top.
        place: the part of the outline in the buffer or on the other side.
    """

    operation_id: str
    party: str
    volume_index: int
    volume: Volume4D
    line_id: str
    line_parties: tuple[str, ...]
    reaches_other_side: bool
    time_start_t_s: float
    time_end_t_s: float
    altitude_lower_ft: float
    altitude_upper_ft: float
    place: Place


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything :func:`check_operation` found, each kind sorted by volume."""

    operations: tuple[VolumeConflict, ...]
    zones: tuple[ZoneConflict, ...]
    lines: tuple[LineConflict, ...]

    @property
    def is_clear(self) -> bool:
        """No conflict of any kind.

        >>> CheckResult((), (), ()).is_clear
        True
        """
        return not (self.operations or self.zones or self.lines)

    def __len__(self) -> int:
        return len(self.operations) + len(self.zones) + len(self.lines)


class ConflictKind(StrEnum):
    """What a conflict is with: another operation, a zone or a line."""

    OPERATION = "operation"
    ZONE = "zone"
    LINE = "line"


@dataclass(frozen=True, slots=True)
class ConflictView:
    """A conflict as one party may see it (see :func:`redact_for`).

    "Own" is the viewer's side, "other" the other side; a field the viewer may
    not see is None.

    Attributes:
        kind: operation, zone or line.
        operation_id: the viewer's operation in the conflict (None for the owner
            of a zone or line, who has none in it).
        volume_index: the viewer's volume.
        boundary_id: the zone or line.
        other_party: the other side's party (for the filer of a zone or line
            conflict: the zone's owner, or the line's other parties joined by
            ", ").
        other_operation_id: the other operation.
        other_volume_index: which of its volumes.
        other_volume: that volume.
        time_start_t_s: when (start).
        time_end_t_s: when (end).
        altitude_lower_ft: the altitude overlap (bottom).
        altitude_upper_ft: its top.
        horizontal_distance_nm: between the outlines (operation conflicts).
        reaches_other_side: onto the line's other side (line conflicts).
        place: where.
    """

    kind: ConflictKind
    operation_id: str | None = None
    volume_index: int | None = None
    boundary_id: str | None = None
    other_party: str | None = None
    other_operation_id: str | None = None
    other_volume_index: int | None = None
    other_volume: Volume4D | None = None
    time_start_t_s: float | None = None
    time_end_t_s: float | None = None
    altitude_lower_ft: float | None = None
    altitude_upper_ft: float | None = None
    horizontal_distance_nm: float | None = None
    reaches_other_side: bool | None = None
    place: Place | None = None
