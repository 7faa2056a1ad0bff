"""Conflict alerts as stored and served: raised, updated and cleared live."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from deconfliction.errors import NotFoundError
from deconfliction.service import disclosure, events
from deconfliction.service.auth import Principal
from deconfliction.service.disclosure import Sharing
from deconfliction.store.tables import alerts


def public_id(tracker_id: str) -> str:
    """An opaque alert id: the tracker's id names both aircraft, which a party may
    not be allowed to learn.

    >>> len(public_id("coalition:A-russia:B-1513159200"))
    20
    """
    return hashlib.sha256(tracker_id.encode("utf-8")).hexdigest()[:20]


def alert_record(row: Any) -> dict[str, Any]:
    """An alert row as the API serves it (before the disclosure view)."""
    return {
        "id": row.id,
        "level": row.level,
        "max_level": row.max_level,
        "active": row.cleared_t_s is None,
        "raised_t_s": row.raised_t_s,
        "updated_t_s": row.updated_t_s,
        "cleared_t_s": row.cleared_t_s,
        "tcpa_s": row.tcpa_s,
        "dcpa_nm": row.dcpa_nm,
        "dalt_ft_at_cpa": row.dalt_ft_at_cpa,
        "tin_s": row.tin_s,
        "min_dcpa_nm": row.min_dcpa_nm,
        "aircraft": json.loads(row.detail_json)["aircraft"],
    }


def save(
    conn: Connection,
    alert: dict[str, Any],
    protocol_version_pk: int | None,
    event_type: str,
    now_t_s: float,
    sharing: Sharing,
    last_seen_t_s: float | None = None,
) -> None:
    """Insert or update an alert and publish the change to both parties.

    ``last_seen_t_s`` is the latest detection of the pair in conflict (stored for
    a later run to resume from, not served); None: ``alert["updated_t_s"]``.
    """
    values = {
        "protocol_version_pk": protocol_version_pk,
        "aircraft_a": alert["aircraft"][0]["id"],
        "aircraft_b": alert["aircraft"][1]["id"],
        "party_a": alert["aircraft"][0]["party"],
        "party_b": alert["aircraft"][1]["party"],
        "level": alert["level"],
        "max_level": alert["max_level"],
        "raised_t_s": alert["raised_t_s"],
        "updated_t_s": alert["updated_t_s"],
        "last_seen_t_s": (
            alert["updated_t_s"] if last_seen_t_s is None else last_seen_t_s
        ),
        "cleared_t_s": alert["cleared_t_s"],
        "tcpa_s": alert["tcpa_s"],
        "dcpa_nm": alert["dcpa_nm"],
        "dalt_ft_at_cpa": alert["dalt_ft_at_cpa"],
        "tin_s": alert["tin_s"],
        "min_dcpa_nm": alert["min_dcpa_nm"],
        "detail_json": json.dumps(
            {"aircraft": alert["aircraft"]}, separators=(",", ":")
        ),
    }
    exists = conn.execute(select(alerts.c.id).where(alerts.c.id == alert["id"])).first()
    if exists is None:
        conn.execute(insert(alerts).values(id=alert["id"], **values))
    else:
        conn.execute(update(alerts).where(alerts.c.id == alert["id"]).values(**values))
    parties = {side["party"] for side in alert["aircraft"]}
    events.publish(
        conn,
        event_type,
        {p: disclosure.alert_view(p, alert, sharing) for p in parties},
        now_t_s,
    )


def list_visible(
    conn: Connection,
    who: Principal,
    sharing: Sharing,
    active_only: bool = False,
    since_t_s: float | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Alerts involving the caller that it may see, newest first."""
    query = select(alerts).where(
        or_(alerts.c.party_a == who.party_id, alerts.c.party_b == who.party_id)
    )
    if active_only:
        query = query.where(alerts.c.cleared_t_s.is_(None))
    if since_t_s is not None:
        query = query.where(alerts.c.updated_t_s >= since_t_s)
    rows = conn.execute(query.order_by(alerts.c.raised_t_s.desc()).limit(limit)).all()
    out = []
    for row in rows:
        view = disclosure.alert_view(who.party_id, alert_record(row), sharing)
        if view is not None:
            out.append(view)
    return out


def get_visible(
    conn: Connection, who: Principal, alert_id: str, sharing: Sharing
) -> dict[str, Any]:
    """One alert, if the caller may see it.

    Raises:
        NotFoundError: otherwise, whether or not it exists.
    """
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    view = (
        None
        if row is None
        else disclosure.alert_view(who.party_id, alert_record(row), sharing)
    )
    if view is None:
        raise NotFoundError(f"alert {alert_id}")
    return view


def open_alert_rows(conn: Connection) -> list[Any]:
    """Every alert not cleared, as stored (for a new run to take them over)."""
    return list(
        conn.execute(
            select(alerts)
            .where(alerts.c.cleared_t_s.is_(None))
            .order_by(alerts.c.raised_t_s, alerts.c.id)
        ).all()
    )
