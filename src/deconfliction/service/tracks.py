"""Tracks as a party may read them: the live picture and an aircraft's history.

The disclosure rule (:func:`deconfliction.service.disclosure.tracks_visible` under
the protocol in effect, as it was when each position was recorded) is applied
here, so every reader of stored positions (the API today, a federation peer
tomorrow) gets the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select

from deconfliction.errors import NotFoundError
from deconfliction.service import disclosure, protocols
from deconfliction.store.tables import positions


@dataclass(frozen=True, slots=True)
class TrackPosition:
    """One stored position of an aircraft."""

    party_id: str
    aircraft_id: str
    t_s: float
    lat_deg: float
    lon_deg: float
    alt_ft: float
    gs_kt: float
    trk_deg: float
    vs_fpm: float


def _position(row: Any) -> TrackPosition:
    return TrackPosition(
        party_id=row.party_id,
        aircraft_id=row.aircraft_id,
        t_s=row.t_s,
        lat_deg=row.lat_deg,
        lon_deg=row.lon_deg,
        alt_ft=row.alt_ft,
        gs_kt=row.gs_kt,
        trk_deg=row.trk_deg,
        vs_fpm=row.vs_fpm,
    )


def live_picture(
    conn: Connection, viewer_party: str, now_t_s: float, max_age_s: float
) -> list[TrackPosition]:
    """The newest position of every aircraft ``viewer_party`` may see, heard within
    ``max_age_s`` of ``now_t_s``, by party then aircraft."""
    sharing = protocols.current_sharing(conn)
    latest = (
        select(
            positions.c.party_id,
            positions.c.aircraft_id,
            func.max(positions.c.t_s).label("t_s"),
        )
        .where(positions.c.t_s >= now_t_s - max_age_s)
        .group_by(positions.c.party_id, positions.c.aircraft_id)
        .subquery()
    )
    rows = conn.execute(
        select(positions)
        .join(
            latest,
            and_(
                positions.c.party_id == latest.c.party_id,
                positions.c.aircraft_id == latest.c.aircraft_id,
                positions.c.t_s == latest.c.t_s,
            ),
        )
        .order_by(positions.c.party_id, positions.c.aircraft_id, positions.c.id.desc())
    ).all()
    out: dict[tuple[str, str], TrackPosition] = {}
    for row in rows:
        # As shared when the position was recorded (its time), not only now.
        shared = sharing.as_recorded(row.t_s)
        if disclosure.tracks_visible(viewer_party, row.party_id, shared):
            out.setdefault((row.party_id, row.aircraft_id), _position(row))
    return list(out.values())


def history(
    conn: Connection,
    viewer_party: str,
    party_id: str,
    aircraft_id: str,
    since_t_s: float | None = None,
    until_t_s: float | None = None,
    limit: int = 10_000,
) -> list[TrackPosition]:
    """Positions of one aircraft in time order, if ``viewer_party`` may see its
    tracks.

    Raises:
        NotFoundError: when it may not, or there is no such position (the same
            answer: a party learns nothing of aircraft it may not see).
    """
    sharing = protocols.current_sharing(conn)
    if not disclosure.tracks_visible(viewer_party, party_id, sharing):
        raise NotFoundError(f"aircraft {party_id}/{aircraft_id}")
    query = select(positions).where(
        positions.c.party_id == party_id, positions.c.aircraft_id == aircraft_id
    )
    if since_t_s is not None:
        query = query.where(positions.c.t_s >= since_t_s)
    if until_t_s is not None:
        query = query.where(positions.c.t_s <= until_t_s)
    rows = conn.execute(
        query.order_by(positions.c.t_s, positions.c.id).limit(limit)
    ).all()
    # Only the positions recorded when the tracks were shared (a switch to "full"
    # does not open what was recorded under a lower level).
    rows = [
        r
        for r in rows
        if disclosure.tracks_visible(viewer_party, party_id, sharing.as_recorded(r.t_s))
    ]
    if not rows:
        raise NotFoundError(f"aircraft {party_id}/{aircraft_id}")
    return [_position(r) for r in rows]
