"""Disclosure: an operation or a conflict as another party may see it."""

from __future__ import annotations

from dataclasses import replace

from deconfliction.domain.planning.records import (
    ConflictKind,
    ConflictView,
    LineConflict,
    VolumeConflict,
    ZoneConflict,
)
from deconfliction.domain.protocol import (
    SharingLevel,
)

# ------------------------------------------------------------------ disclosure


def redact_for(
    viewer_party: str,
    conflict: VolumeConflict | ZoneConflict | LineConflict,
    sharing: SharingLevel,
) -> ConflictView | None:
    """What ``viewer_party`` may learn of a conflict under a sharing level.

    ``sharing`` is the level that applies to the viewer (a party the protocol
    does not name gets ``zones``). None: nothing at all.

    Conflict with another operation, seen by either of the two parties (by the
    other party, mirrored: its own operation is "own"):

    * ``zones``: only which of its own volumes conflicts;
    * ``conflicts``: also where and when (place, time and altitude overlap,
      distance) and the other party, but not the other operation (no id, no
      volume);
    * ``plans``, ``full``: also the other operation's id and conflicting volume.

    Conflict with a zone or a line: the filer sees all of it at every level (the
    zones and lines are everyone's). The zone's owner, or the other parties a
    line names, see from ``conflicts`` up where and when and the filer's party,
    from ``plans`` up also the filer's operation and volume. Anyone else: None.
    """
    if isinstance(conflict, VolumeConflict):
        return _operation_view(viewer_party, conflict, sharing)
    if isinstance(conflict, ZoneConflict):
        concerned: tuple[str, ...] = (conflict.zone_owner,)
        kind, boundary_id = ConflictKind.ZONE, conflict.zone_id
        alt = (conflict.altitude_overlap_lower_ft, conflict.altitude_overlap_upper_ft)
        across: bool | None = None
    else:
        concerned = conflict.line_parties
        kind, boundary_id = ConflictKind.LINE, conflict.line_id
        alt = (conflict.altitude_lower_ft, conflict.altitude_upper_ft)
        across = conflict.reaches_other_side
    where_when = {
        "boundary_id": boundary_id,
        "time_start_t_s": conflict.time_start_t_s,
        "time_end_t_s": conflict.time_end_t_s,
        "altitude_lower_ft": alt[0],
        "altitude_upper_ft": alt[1],
        "reaches_other_side": across,
        "place": conflict.place,
    }
    if viewer_party == conflict.party:
        return ConflictView(
            kind,
            operation_id=conflict.operation_id,
            volume_index=conflict.volume_index,
            other_party=", ".join(concerned) or None,
            **where_when,  # type: ignore[arg-type]
        )
    if viewer_party not in concerned or not sharing.allows(SharingLevel.CONFLICTS):
        return None
    if not sharing.allows(SharingLevel.PLANS):
        return ConflictView(kind, other_party=conflict.party, **where_when)  # type: ignore[arg-type]
    return ConflictView(
        kind,
        other_party=conflict.party,
        other_operation_id=conflict.operation_id,
        other_volume_index=conflict.volume_index,
        other_volume=conflict.volume,
        **where_when,  # type: ignore[arg-type]
    )


def _operation_view(
    viewer_party: str, c: VolumeConflict, sharing: SharingLevel
) -> ConflictView | None:
    if viewer_party == c.party:
        own = (c.operation_id, c.volume_index)
        other = (c.other_party, c.other_operation_id, c.other_volume_index)
        other_volume = c.other_volume
    elif viewer_party == c.other_party:
        own = (c.other_operation_id, c.other_volume_index)
        other = (c.party, c.operation_id, c.volume_index)
        other_volume = c.volume
    else:
        return None
    view = ConflictView(
        ConflictKind.OPERATION, operation_id=own[0], volume_index=own[1]
    )
    if not sharing.allows(SharingLevel.CONFLICTS):
        return view
    where_when = ConflictView(
        ConflictKind.OPERATION,
        operation_id=own[0],
        volume_index=own[1],
        other_party=other[0],
        time_start_t_s=c.time_overlap_start_t_s,
        time_end_t_s=c.time_overlap_end_t_s,
        altitude_lower_ft=c.altitude_overlap_lower_ft,
        altitude_upper_ft=c.altitude_overlap_upper_ft,
        horizontal_distance_nm=c.horizontal_distance_nm,
        place=c.place,
    )
    if not sharing.allows(SharingLevel.PLANS):
        return where_when
    return replace(
        where_when,
        other_operation_id=other[1],
        other_volume_index=other[2],
        other_volume=other_volume,
    )
