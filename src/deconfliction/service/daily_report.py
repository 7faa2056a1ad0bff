"""Gathering a day's report from the store, as one party may see it (or the operator,
all of it): the service behind ``deconfliction report`` and ``/v1/reports``.

Everything goes through the disclosure rules of ``service/disclosure.py`` with the
sharing in effect, exactly as the API serves it:

* **sorties and positions** of a party are shown to another party only where its
  tracks are (``full``); a party always sees its own. A sortie is a continuous track
  of one aircraft: its positions of the day, split where two follow each other more
  than the protocol's ``stale_after_s`` apart (the time after which the live picture
  drops a silent aircraft);
* **alerts** raised during the day, and **incidents** (violations and losses of
  separation) that started during it, through ``alert_view`` and ``incident_view``;
  the other side's aircraft reduced to its party and one point below ``full``;
* **hotline** messages sent during the day by or to the party, with the receipts it
  may see (its own, and all of those of a message it sent), never their text;
* **open incidents**: not resolved, started before the day ended, status as now;
* **the map**: the tracks the party may see (one position per aircraft and
  :data:`MAP_STEP_S`), the alerts and violations as above.

The operator's report (no party) is everything, unreduced. The protocol of the day
(its lines, zones and stale time) is the version in effect at the end of the day.
With several agreements in effect during the day naming the reader (any, for the
operator), the report also has a section per agreement: its title, parties, lines
and zones, figures and map (``DailyReport.of_agreement``); an agreement that does
not name the reader is never shown to it.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

import numpy as np
from sqlalchemy import Connection, Integer, and_, cast, false, func, or_, select

from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.domain.model import (
    AircraftStates,
)
from deconfliction.domain.protocol import Protocol, SharingLevel
from deconfliction.errors import InputError, Problem
from deconfliction.reports.daily import (
    DAY_S,
    DEFAULT_STALE_S,
    MAP_STEP_S,
    MAX_INCIDENTS,
    AlertItem,
    DailyReport,
    IncidentItem,
    MapTracks,
    ReceiptItem,
    day_start_t_s,
)
from deconfliction.service import disclosure, incidents, protocols
from deconfliction.service.alerts import alert_record
from deconfliction.service.auth import Principal, Role
from deconfliction.service.disclosure import Sharing
from deconfliction.store.tables import (
    alerts,
    hotline_messages,
    hotline_receipts,
    parties,
    positions,
    protocol_versions,
)
from deconfliction.store.tables import (
    incidents as incidents_table,
)


def gather(
    conn: Connection, day: date, viewer: str | None, now_t_s: float
) -> DailyReport:
    """Read the day from the store, as ``viewer`` may see it.

    Args:
        conn: a connection to the store.
        day: the UTC day.
        viewer: the party the report is for, or None for the operator's report.
        now_t_s: the time now (for what is overdue, and as the report's time).

    Returns:
        The report's data.

    Raises:
        NotFoundError: never; an unknown party sees its own (empty) data.
        InputError: if ``viewer`` is not a registered party.
    """
    registered = {
        r.id: r.name for r in conn.execute(select(parties.c.id, parties.c.name))
    }
    if viewer is not None and viewer not in registered:
        known = ", ".join(sorted(registered)) or "none"
        raise InputError(
            [
                Problem(
                    "request",
                    None,
                    "party",
                    f"no registered party {viewer!r} (known: {known})",
                )
            ]
        )
    t0 = day_start_t_s(day)
    t1 = t0 + DAY_S
    protocol = protocol_of_day(conn, t0, t1, viewer)
    if viewer is not None and protocol is not None and viewer not in protocol.parties:
        # A party the protocol does not name learns nothing of it: not its title,
        # lines, zones or parties (its report is its own data on a blank map).
        protocol = None
    sharing = (
        Sharing.one(SharingLevel.FULL, frozenset(registered))
        if viewer is None
        else protocols.current_sharing(conn)
    )
    level = SharingLevel.FULL if viewer is None else sharing.own_level(viewer)
    stale_s = protocol.stale_after_s if protocol else DEFAULT_STALE_S

    agreements = agreements_of_day(conn, t0, t1, viewer)
    names = list(protocol.parties) if protocol else []
    if len(agreements) > 1:
        # The parties of each agreement (the reader's partners in all of them).
        names = list(
            dict.fromkeys([*names, *(p for a in agreements for p in a.parties)])
        )
    if viewer is None:
        names += sorted(p for p in registered if p not in names)
    elif viewer not in names:
        # A party hears of the parties named with it, not of every registered one.
        names.insert(0, viewer)

    # Tracks are shown as shared when recorded: another party's only over the
    # spans of the day when they were shared, not because they are shared now.
    spans = {
        p: [(t0, t1)]
        if viewer is None or p == viewer
        else _shared_spans(viewer, p, sharing, t0, t1)
        for p in names
    }

    def may_see_tracks(owner: str) -> bool:
        return bool(spans[owner])

    recorded = or_(
        false(),
        *(
            and_(positions.c.party_id == p, positions.c.t_s >= a, positions.c.t_s < b)
            for p, party_spans in spans.items()
            for a, b in party_spans
        ),
    )
    sortie_counts, position_counts = _sorties(conn, recorded, stale_s)
    sorties = {
        p: (sortie_counts.get(p, 0) if may_see_tracks(p) else None) for p in names
    }
    counts = {
        p: (position_counts.get(p, 0) if may_see_tracks(p) else None) for p in names
    }
    shown_parties = [p for p in names if may_see_tracks(p)]
    return DailyReport(
        day=day,
        viewer=viewer,
        generated_t_s=now_t_s,
        protocol=protocol,
        sharing=level,
        parties=tuple(names),
        party_names={p: registered.get(p, p) for p in names},
        sorties=sorties,
        positions=counts,
        alerts=tuple(_alerts(conn, t0, t1, viewer, sharing)),
        incidents=tuple(_incidents(conn, viewer, sharing, t0, t1)),
        open_incidents=tuple(
            i
            for i in _incidents(conn, viewer, sharing, None, t1)
            if i.status != incidents.IncidentStatus.RESOLVED.value
        ),
        receipts=tuple(_receipts(conn, t0, t1, viewer)),
        tracks=_map_tracks(conn, recorded, shown_parties),
        agreements=_several(agreements),
    )


def _several(agreements: list[Protocol]) -> tuple[Protocol, ...]:
    return tuple(agreements) if len(agreements) > 1 else ()


def _versions_of_day(conn: Connection, t0_s: float, t1_s: float) -> list[Any]:
    """The versions in effect at some time of the day, newest taking effect
    first: their text, protocol id and version."""
    pv = protocol_versions
    return list(
        conn.execute(
            select(pv.c.toml_text, pv.c.protocol_id, pv.c.version)
            .where(
                pv.c.effective_t_s.is_not(None),
                pv.c.effective_t_s < t1_s,
                or_(pv.c.superseded_t_s.is_(None), pv.c.superseded_t_s >= t0_s),
            )
            .order_by(pv.c.effective_t_s.desc(), pv.c.id.desc())
        ).all()
    )


def agreements_of_day(
    conn: Connection, t0_s: float, t1_s: float, viewer: str | None
) -> list[Protocol]:
    """The agreements in effect at some time of the day that name ``viewer``
    (all, for the operator): the newest version of the day of each protocol,
    oldest agreement first."""
    rows = _versions_of_day(conn, t0_s, t1_s)
    newest: dict[str, Protocol] = {}
    for row in rows:
        if row.protocol_id in newest:
            continue
        protocol = parse_protocol(row.toml_text, f"{row.protocol_id} v{row.version}")
        if viewer is None or viewer in protocol.parties:
            newest[row.protocol_id] = protocol
    return list(reversed(newest.values()))


def reader_language(
    conn: Connection, viewer: str | None, languages: tuple[str, ...]
) -> str:
    """The language a party's duty officers read (registered with the party), if the
    report has it; English otherwise and for the operator."""
    if viewer is None:
        return "en"
    lang = conn.execute(
        select(parties.c.language).where(parties.c.id == viewer)
    ).scalar()
    return lang if lang in languages else "en"


def protocol_of_day(
    conn: Connection, t0_s: float, t1_s: float, viewer: str | None = None
) -> Protocol | None:
    """The version in effect at the end of the day that names ``viewer`` (any,
    for the operator), else the one in effect now. With several agreements in
    effect, a party's report shows its newest of the day, never one between
    other parties."""
    rows = _versions_of_day(conn, t0_s, t1_s)
    for row in rows:
        protocol = parse_protocol(row.toml_text, f"{row.protocol_id} v{row.version}")
        if viewer is None or viewer in protocol.parties:
            return protocol
    current = (
        protocols.in_effect(conn)
        if viewer is None
        else protocols.agreement_of(conn, viewer)
    )
    return current.protocol if current else None


def _shared_spans(
    viewer: str, owner: str, sharing: Sharing, t0: float, t1: float
) -> list[tuple[float, float]]:
    """The spans of ``[t0, t1)`` over which ``owner``'s tracks recorded then may be
    shown to ``viewer`` (the sharing changes only where a version took effect or
    was superseded)."""
    history = sharing.history or ()
    cuts = sorted(
        {t0, t1}
        | {p.start_t_s for p in history if t0 < p.start_t_s < t1}
        | {p.end_t_s for p in history if p.end_t_s is not None and t0 < p.end_t_s < t1}
    )
    spans: list[tuple[float, float]] = []
    for a, b in pairwise(cuts):
        if not disclosure.tracks_visible(viewer, owner, sharing.as_recorded(a)):
            continue
        if spans and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _sorties(
    conn: Connection, recorded: Any, stale_s: float
) -> tuple[dict[str, int], dict[str, int]]:
    """Sorties and positions per party, of the positions ``recorded`` selects (a
    condition on the table): counted in the database (window functions, on SQLite
    and PostgreSQL alike), so a busy day never comes into memory."""
    p = positions
    gap = p.c.t_s - func.lag(p.c.t_s).over(
        partition_by=(p.c.party_id, p.c.aircraft_id), order_by=p.c.t_s
    )
    day = select(p.c.party_id, gap.label("gap_s")).where(recorded)
    sub = day.subquery()
    starts = conn.execute(
        select(sub.c.party_id, func.count())
        .where(or_(sub.c.gap_s.is_(None), sub.c.gap_s > stale_s))
        .group_by(sub.c.party_id)
    ).all()
    totals = conn.execute(
        select(p.c.party_id, func.count()).where(recorded).group_by(p.c.party_id)
    ).all()
    return {r[0]: int(r[1]) for r in starts}, {r[0]: int(r[1]) for r in totals}


def _alerts(
    conn: Connection, t0: float, t1: float, viewer: str | None, sharing: Sharing
) -> list[AlertItem]:
    query = select(alerts).where(alerts.c.raised_t_s >= t0, alerts.c.raised_t_s < t1)
    if viewer is not None:
        query = query.where(or_(alerts.c.party_a == viewer, alerts.c.party_b == viewer))
    out = []
    for row in conn.execute(query.order_by(alerts.c.raised_t_s, alerts.c.id)):
        record = alert_record(row)
        view = (
            record if viewer is None else disclosure.alert_view(viewer, record, sharing)
        )
        if view is None:
            continue
        sides = []
        for side in view["aircraft"]:
            point = side.get("cpa") if "id" not in side else side
            sides.append(_side(side, point or {}))
        out.append(
            AlertItem(
                id=str(view["id"]),
                raised_t_s=float(view["raised_t_s"]),
                cleared_t_s=view["cleared_t_s"],
                max_level=str(view["max_level"]),
                min_dcpa_nm=float(view["min_dcpa_nm"]),
                sides=tuple(sides),
            )
        )
    return out


def _side(
    side: dict[str, Any], point: dict[str, Any], with_time: bool = False
) -> dict[str, Any]:
    """One aircraft of an alert or incident as the report lists it: its party, id
    (None when withheld) and position at ``point`` (and the time, ``with_time``)."""
    out = {
        "party": side["party"],
        "id": side.get("id"),
        "lat_deg": point.get("lat_deg"),
        "lon_deg": point.get("lon_deg"),
        "alt_ft": point.get("alt_ft"),
    }
    if with_time:
        out["t_s"] = point.get("t_s")
    return out


def _incident_item(view: dict[str, Any]) -> IncidentItem:
    sides = []
    for side in view["aircraft"]:
        sides.append(_side(side, side.get("point") or {}, with_time=True))
    return IncidentItem(
        id=int(view["id"]),
        kind=str(view["kind"]),
        status=str(view["status"]),
        party_id=str(view["party_id"]),
        involved=tuple(view.get("involved", ())),
        boundary_id=view.get("boundary_id"),
        start_t_s=float(view["start_t_s"]),
        end_t_s=view.get("end_t_s"),
        severity_nm=view.get("severity_nm"),
        sides=tuple(sides),
        depth_across_line_nm=view.get("depth_across_line_nm"),
        depth_from_buffer_edge_nm=view.get("depth_from_buffer_edge_nm"),
        depth_inside_zone_nm=view.get("depth_inside_zone_nm"),
    )


def _incidents(
    conn: Connection,
    viewer: str | None,
    sharing: Sharing,
    since_t_s: float | None,
    until_t_s: float,
) -> list[IncidentItem]:
    if viewer is not None:
        views = incidents.list_visible(
            conn,
            Principal(viewer, Role.OBSERVER),
            sharing,
            since_t_s,
            until_t_s,
            None,
            MAX_INCIDENTS,
        )
    else:
        it = incidents_table
        conditions = [it.c.start_t_s < until_t_s]
        if since_t_s is not None:
            conditions.append(it.c.start_t_s >= since_t_s)
        rows = conn.execute(
            select(it.c.id, it.c.party_id).where(and_(*conditions)).limit(MAX_INCIDENTS)
        ).all()
        # The operator sees each incident as its own party does at ``full``, with
        # every registered party shown.
        everyone = Sharing.one(
            SharingLevel.FULL, frozenset(conn.execute(select(parties.c.id)).scalars())
        )
        views = [
            incidents.get_visible(
                conn, Principal(r.party_id, Role.OBSERVER), int(r.id), everyone
            )
            for r in rows
        ]
    items = [_incident_item(v) for v in views]
    items.sort(key=lambda i: (i.start_t_s, i.id))
    return items


def _receipts(
    conn: Connection, t0: float, t1: float, viewer: str | None
) -> list[ReceiptItem]:
    m, r = hotline_messages, hotline_receipts
    query = (
        select(
            m.c.id,
            m.c.sender_party,
            m.c.kind,
            m.c.priority,
            m.c.sent_t_s,
            r.c.party_id,
            r.c.deadline_t_s,
            r.c.acknowledged_t_s,
            r.c.escalated_t_s,
        )
        .join(r, r.c.message_id == m.c.id)
        .where(m.c.sent_t_s >= t0, m.c.sent_t_s < t1)
    )
    if viewer is not None:
        # Its own receipts, and every receipt of a message it sent.
        query = query.where(or_(m.c.sender_party == viewer, r.c.party_id == viewer))
    return [
        ReceiptItem(
            message_id=int(row.id),
            sender=row.sender_party,
            recipient=row.party_id,
            kind=row.kind,
            priority=row.priority,
            sent_t_s=row.sent_t_s,
            deadline_t_s=row.deadline_t_s,
            acknowledged_t_s=row.acknowledged_t_s,
            escalated_t_s=row.escalated_t_s,
        )
        for row in conn.execute(query.order_by(m.c.sent_t_s, m.c.id, r.c.party_id))
    ]


def _map_tracks(conn: Connection, recorded: Any, shown: list[str]) -> MapTracks:
    """One position per aircraft and MAP_STEP_S of the parties shown, of the
    positions ``recorded`` selects."""
    p = positions
    if not shown:
        return _no_tracks()
    bucket = cast(p.c.t_s / MAP_STEP_S, Integer)
    rank = func.row_number().over(
        partition_by=(p.c.party_id, p.c.aircraft_id, bucket), order_by=p.c.t_s
    )
    sub = (
        select(
            p.c.party_id,
            p.c.aircraft_id,
            p.c.t_s,
            p.c.lat_deg,
            p.c.lon_deg,
            p.c.alt_ft,
            rank.label("rank"),
        )
        .where(recorded, p.c.party_id.in_(shown))
        .subquery()
    )
    rows = conn.execute(
        select(
            sub.c.party_id,
            sub.c.aircraft_id,
            sub.c.t_s,
            sub.c.lat_deg,
            sub.c.lon_deg,
            sub.c.alt_ft,
        ).where(sub.c.rank == 1)
    ).all()
    if not rows:
        return _no_tracks()
    party, aircraft, t_s, lat, lon, alt = zip(*rows, strict=True)
    n = len(rows)
    zeros = np.zeros(n)
    states = AircraftStates(
        ids=np.asarray(aircraft, dtype=np.str_),
        party=np.asarray(party, dtype=np.str_),
        lat_deg=np.asarray(lat, dtype=np.float64),
        lon_deg=np.asarray(lon, dtype=np.float64),
        alt_ft=np.asarray(alt, dtype=np.float64),
        gs_kt=zeros,
        trk_deg=zeros,
        vs_fpm=zeros,
    )
    return MapTracks(np.asarray(t_s, dtype=np.float64), states)


def _no_tracks() -> MapTracks:
    return MapTracks(
        np.zeros(0), AircraftStates.from_columns([], [], [], [], [], [], [], party=[])
    )
