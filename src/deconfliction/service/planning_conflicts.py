"""A planning check's conflicts as stored, and as each party may see them.

Part of :mod:`deconfliction.service.planning`: the server keeps the full copy of
every conflict (``_conflict_record``, JSON in the operation's row) and rebuilds
it (``_rebuild``) to redact it for a viewer at the level of the agreement binding
the viewer with the conflict's parties (``_views_of_check``). Re-exported by the
planning service.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from deconfliction.adapters.operation_file import (
    conflict_view_to_json,
    operation_from_json,
    volume_to_json,
)
from deconfliction.domain.planning import (
    LineConflict,
    Place,
    Polygon,
    Volume4D,
    VolumeConflict,
    ZoneConflict,
    redact_for,
)
from deconfliction.service import disclosure


def _volume_json(volume: Volume4D) -> dict[str, Any]:
    return volume_to_json(volume)


def _volume_from_json(data: dict[str, Any]) -> Volume4D:
    op = operation_from_json(
        {
            "id": "stored",
            "party": "stored",
            "kind": "air_operations",
            "volumes": [data],
        },
        "stored conflict",
    )
    return op.volumes[0]


def _place_json(place: Place) -> dict[str, Any]:
    return {
        "polygons": [
            [list(p.vertices_lat_deg), list(p.vertices_lon_deg)] for p in place.polygons
        ],
        "centroid": [place.centroid_lat_deg, place.centroid_lon_deg],
    }


def _place_from_json(data: dict[str, Any]) -> Place:
    return Place(
        polygons=tuple(
            Polygon(tuple(lat), tuple(lon)) for lat, lon in data["polygons"]
        ),
        centroid_lat_deg=data["centroid"][0],
        centroid_lon_deg=data["centroid"][1],
    )


_CONFLICT_TYPES: dict[str, type] = {
    "VolumeConflict": VolumeConflict,
    "ZoneConflict": ZoneConflict,
    "LineConflict": LineConflict,
}


def _conflict_record(
    conflict: VolumeConflict | ZoneConflict | LineConflict,
) -> dict[str, Any]:
    """The server's full copy of a conflict; every reader gets it through
    :func:`redact_for`."""
    data: dict[str, Any] = {}
    for field in dataclasses.fields(conflict):
        value = getattr(conflict, field.name)
        if isinstance(value, Volume4D):
            value = _volume_json(value)
        elif isinstance(value, Place):
            value = _place_json(value)
        elif isinstance(value, tuple):
            value = list(value)
        data[field.name] = value
    return {"type": type(conflict).__name__, "data": data}


def _rebuild(item: dict[str, Any]) -> VolumeConflict | ZoneConflict | LineConflict:
    cls = _CONFLICT_TYPES[item["type"]]
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        value = item["data"][field.name]
        if field.name in ("volume", "other_volume"):
            value = _volume_from_json(value)
        elif field.name == "place":
            value = _place_from_json(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[field.name] = value
    conflict: VolumeConflict | ZoneConflict | LineConflict = cls(**kwargs)
    return conflict


def _parties_of(conflict: VolumeConflict | ZoneConflict | LineConflict) -> list[str]:
    """The parties a planning conflict concerns."""
    if isinstance(conflict, VolumeConflict):
        return [conflict.party, conflict.other_party]
    if isinstance(conflict, ZoneConflict):
        return [conflict.party, conflict.zone_owner]
    return [conflict.party, *conflict.line_parties]


def _views_of_check(
    check: dict[str, Any], viewer: str, sharing: disclosure.Sharing
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for group in ("operations", "zones", "lines"):
        for item in check.get(group, []):
            conflict = _rebuild(item)
            # Per pair: the level of the agreement binding the viewer with the
            # other parties of this conflict; none binding them, nothing.
            level = disclosure.level_with(viewer, _parties_of(conflict), sharing)
            if level is None:
                continue
            view = redact_for(viewer, conflict, level)
            if view is not None:
                out.append(conflict_view_to_json(view))
    return out
