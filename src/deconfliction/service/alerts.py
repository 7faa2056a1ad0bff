"""Conflict alerts as stored and served: raised, updated and cleared live."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, update

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


WRITE_BATCH: int = 500
"""Alerts written per statement by :func:`save_many`: a tick that updates 10,000
alerts writes them in 20 statements of each kind instead of 10,000 of each (a
look for the existing ones, an insert or an update, the events)."""


@dataclass(frozen=True, slots=True)
class AlertWrite:
    """One change of one alert, to be written with the others of its tick.

    Attributes:
        alert: the record as the API serves it.
        protocol_version_pk: the protocol version it is under.
        event_type: ``alert.raised``, ``alert.updated`` or ``alert.cleared``.
        sharing: the sharing its events are disclosed under.
        last_seen_t_s: the latest detection of the pair in conflict (stored for a
            later run to resume from, not served); None: ``alert["updated_t_s"]``.
    """

    alert: dict[str, Any]
    protocol_version_pk: int | None
    event_type: str
    sharing: Sharing
    last_seen_t_s: float | None = None


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
    save_many(
        conn,
        [AlertWrite(alert, protocol_version_pk, event_type, sharing, last_seen_t_s)],
        now_t_s,
    )


def save_many(conn: Connection, writes: Sequence[AlertWrite], now_t_s: float) -> None:
    """Insert or update alerts and publish each change to both parties, in the
    order given. Everything is made first (rows, disclosure views, JSON), the
    existing alerts looked for (reads), and then written in a burst,
    :data:`WRITE_BATCH` alerts per statement: on SQLite the write lock is taken at
    the first write and held to the commit, so no work is done under it that can be
    done before. An alert appears at most once in ``writes``."""
    if not writes:
        return
    prepared = [
        (
            w.alert["id"],
            _values(w.alert, w.protocol_version_pk, w.last_seen_t_s),
        )
        for w in writes
    ]
    event_rows = events.event_rows(
        [
            (
                w.event_type,
                {
                    p: disclosure.alert_view(p, w.alert, w.sharing)
                    for p in {side["party"] for side in w.alert["aircraft"]}
                },
            )
            for w in writes
        ],
        now_t_s,
    )
    ids = [alert_id for alert_id, _ in prepared]
    existing: set[str] = set()
    for k in range(0, len(ids), WRITE_BATCH):
        chunk = ids[k : k + WRITE_BATCH]
        existing.update(
            str(i)
            for i in conn.execute(
                select(alerts.c.id).where(alerts.c.id.in_(chunk))
            ).scalars()
        )
    new_rows = [{"id": i, **v} for i, v in prepared if i not in existing]
    changed_rows = [
        {"b_id": i, **{f"v_{k}": x for k, x in v.items()}}
        for i, v in prepared
        if i in existing
    ]
    for k in range(0, len(new_rows), WRITE_BATCH):
        conn.execute(insert(alerts), new_rows[k : k + WRITE_BATCH])
    if changed_rows:
        columns = list(prepared[0][1])
        statement = (
            update(alerts)
            .where(alerts.c.id == bindparam("b_id"))
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        for k in range(0, len(changed_rows), WRITE_BATCH):
            conn.execute(statement, changed_rows[k : k + WRITE_BATCH])
    for k in range(0, len(event_rows), 2 * WRITE_BATCH):
        events.append_rows(conn, event_rows[k : k + 2 * WRITE_BATCH])


def _values(
    alert: dict[str, Any], protocol_version_pk: int | None, last_seen_t_s: float | None
) -> dict[str, Any]:
    return {
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
