"""Counts for the operator: alerts by level, incidents by kind and status, the
stream's backlog. Totals over every party: never served to a party."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from deconfliction.store.tables import alerts, events, incidents

MAX_BACKLOG_COUNTED: int = 100_000  # a client further behind counts as this far


def active_alerts_by_level(conn: Connection) -> dict[str, int]:
    """Alerts not cleared, by their current level."""
    rows = conn.execute(
        select(alerts.c.level, func.count())
        .where(alerts.c.cleared_t_s.is_(None))
        .group_by(alerts.c.level)
    ).all()
    return {str(level): int(n) for level, n in rows}


def alerts_by_max_level(conn: Connection) -> dict[str, int]:
    """Every alert raised, by the highest level it reached."""
    rows = conn.execute(
        select(alerts.c.max_level, func.count()).group_by(alerts.c.max_level)
    ).all()
    return {str(level): int(n) for level, n in rows}


def incidents_by_kind_and_status(conn: Connection) -> dict[tuple[str, str], int]:
    """Incidents by (kind, handling status)."""
    rows = conn.execute(
        select(incidents.c.kind, incidents.c.status, func.count()).group_by(
            incidents.c.kind, incidents.c.status
        )
    ).all()
    return {(str(kind), str(status)): int(n) for kind, status, n in rows}


def ongoing_incidents_by_kind(conn: Connection) -> dict[str, int]:
    """Incidents still going on (no end yet), by kind."""
    rows = conn.execute(
        select(incidents.c.kind, func.count())
        .where(incidents.c.end_t_s.is_(None))
        .group_by(incidents.c.kind)
    ).all()
    return {str(kind): int(n) for kind, n in rows}


def backlog(conn: Connection, party_id: str, after_id: int) -> int:
    """The party's events after ``after_id`` (at most ``MAX_BACKLOG_COUNTED``)."""
    waiting = (
        select(events.c.seq)
        .where(events.c.party_id == party_id, events.c.seq > after_id)
        .limit(MAX_BACKLOG_COUNTED)
        .subquery()
    )
    return int(conn.execute(select(func.count()).select_from(waiting)).scalar_one())
