"""What a new run of live detection takes over from the store.

Live detection keeps its state in memory (the alert tracker, the conformance
monitor's open excursions, the losses of separation and operations out of their
volumes in progress) and writes every change to the store in the tick that makes it.
A new run (a restart after SIGKILL or SIGTERM, or another process taking over) reads
that state back instead of starting afresh, so that the parties see no difference:

* alerts not cleared continue under their ids (``AlertTracker.restore``);
* ongoing incidents continue: losses of separation from their stored facts, line and
  zone violations by replaying their aircraft's stored positions through a fresh
  conformance monitor from the start of the violation (the monitor is exact whatever
  the chunking, so the excursion comes out as it was), and operations out of their
  volumes from their first position outside;
* positions are read on from the last one a tick read (``detection_state``), so
  those stored between the last tick and the end of the earlier run are not skipped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from deconfliction.domain.alert_tracker import Alert, alert_id
from deconfliction.domain.model import AlertLevel
from deconfliction.service import alerts as alert_store
from deconfliction.service.live_positions import (
    COLUMNS,
    Positions,
    aircraft_key,
    fetch_all,
    split_key,
)
from deconfliction.store.tables import detection_state, positions

STATE_NAME: str = "live"  # the one row of ``detection_state``


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert not cleared, as the tracker and the store know it.

    Attributes:
        public_id: the id the parties know it by.
        protocol_version_pk: the protocol version it was raised under.
        alert: the tracker's alert, rebuilt from the stored row.
        record: the stored row as the API serves it.
    """

    public_id: str
    protocol_version_pk: int | None
    alert: Alert
    record: dict[str, Any]


def _level(label: str) -> AlertLevel:
    return AlertLevel[label.upper()]


def open_alerts(conn: Connection) -> list[StoredAlert]:
    """Every alert not cleared, oldest first."""
    out = []
    for row in alert_store.open_alert_rows(conn):
        sides = json.loads(row.detail_json)["aircraft"]
        a_key = aircraft_key(row.party_a, row.aircraft_a)
        b_key = aircraft_key(row.party_b, row.aircraft_b)
        alert = Alert(
            id=alert_id(a_key, b_key, row.raised_t_s),
            a_id=a_key,
            b_id=b_key,
            party_a=row.party_a,
            party_b=row.party_b,
            first_seen_t_s=row.raised_t_s,
            last_seen_t_s=row.last_seen_t_s,
            level=_level(row.level),
            max_level=_level(row.max_level),
            dcpa_nm=row.dcpa_nm,
            min_dcpa_nm=row.min_dcpa_nm,
            tcpa_s=row.tcpa_s,
            dalt_ft_at_cpa=row.dalt_ft_at_cpa,
            a_lat_deg=sides[0]["lat_deg"],
            a_lon_deg=sides[0]["lon_deg"],
            a_alt_ft=sides[0]["alt_ft"],
            b_lat_deg=sides[1]["lat_deg"],
            b_lon_deg=sides[1]["lon_deg"],
            b_alt_ft=sides[1]["alt_ft"],
            detections=1,
        )
        out.append(
            StoredAlert(
                public_id=row.id,
                protocol_version_pk=row.protocol_version_pk,
                alert=alert,
                record=alert_store.alert_record(row),
            )
        )
    return out


def read_checkpoint(conn: Connection) -> int | None:
    """The id of the last position a tick read, None before the first tick."""
    value = conn.execute(
        select(detection_state.c.last_row_id).where(
            detection_state.c.name == STATE_NAME
        )
    ).scalar()
    return None if value is None else int(value)


def write_checkpoint(conn: Connection, last_row_id: int, tick_t_s: float) -> None:
    """Note, in the tick's transaction, the last position it read."""
    done = conn.execute(
        update(detection_state)
        .where(detection_state.c.name == STATE_NAME)
        .values(last_row_id=last_row_id, tick_t_s=tick_t_s)
    )
    if done.rowcount == 0:
        conn.execute(
            detection_state.insert().values(
                name=STATE_NAME, last_row_id=last_row_id, tick_t_s=tick_t_s
            )
        )


def newest_row_id(conn: Connection) -> int:
    """The id of the newest stored position, 0 when there is none."""
    return int(
        conn.execute(select(func.coalesce(func.max(positions.c.id), 0))).scalar() or 0
    )


def last_fed_t_s(
    conn: Connection, up_to_row_id: int, since_t_s: float
) -> dict[str, float]:
    """Per aircraft key, the time of its newest position read by the earlier run
    (rows up to ``up_to_row_id``), of those timed from ``since_t_s`` on."""
    rows = conn.execute(
        select(positions.c.party_id, positions.c.aircraft_id, func.max(positions.c.t_s))
        .where(positions.c.id <= up_to_row_id, positions.c.t_s >= since_t_s)
        .group_by(positions.c.party_id, positions.c.aircraft_id)
    ).all()
    return {aircraft_key(p, a): float(t) for p, a, t in rows}


def replay_positions(
    conn: Connection, since_t_s: Mapping[str, float], up_to_row_id: int
) -> Positions:
    """The stored positions of the aircraft of ``since_t_s`` (keys), each from its
    time on, read by the earlier run (rows up to ``up_to_row_id``); in time order,
    of equal times in the order stored."""
    rows: list[tuple[Any, ...]] = []
    for key, t_s in sorted(since_t_s.items()):
        if not math.isfinite(t_s):
            continue
        party, aircraft = split_key(key)
        rows += fetch_all(
            conn,
            select(*COLUMNS, positions.c.id)
            .where(
                positions.c.party_id == party,
                positions.c.aircraft_id == aircraft,
                positions.c.t_s >= t_s,
                positions.c.id <= up_to_row_id,
            )
            .order_by(positions.c.t_s, positions.c.id),
        )
    rows.sort(key=lambda r: (r[1], r[-1]))
    return Positions.from_rows(rows)
