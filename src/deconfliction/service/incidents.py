"""The incident registry: violations and losses of separation, with a lifecycle.

Incidents are opened by live detection (a line violation, a zone incursion, an
actual loss of separation) and then handled by people: reported (a complaint was
sent), acknowledged (the other side received it), resolved, or disputed, with
remarks from each side. Who may make which change is ``incident_lifecycle``'s; every
change names the version it was made from and only one of two made from the same
version is kept. Every change is an event on the stream, reduced by ``disclosure``
for each party.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from deconfliction.errors import (
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    Problem,
)
from deconfliction.service import disclosure, events, protocols
from deconfliction.service.auth import Principal
from deconfliction.service.disclosure import Sharing
from deconfliction.service.incident_lifecycle import (
    ALLOWED_TRANSITIONS as ALLOWED_TRANSITIONS,
)
from deconfliction.service.incident_lifecycle import Change, Standing, decide
from deconfliction.service.incident_lifecycle import (
    IncidentStatus as IncidentStatus,
)
from deconfliction.store.engine import inserted_pk, random_id
from deconfliction.store.tables import (
    incident_parties,
    incident_remarks,
    incidents,
    positions,
)

EVIDENCE_MARGIN_S: float = 60.0  # track excerpt before the start and after the end
MAX_EVIDENCE_POINTS: int = 2000  # per aircraft; longer excerpts are thinned evenly
MAX_REMARK_CHARS: int = 4000
MAX_SOURCE_KEY_CHARS: int = 200  # incidents.source_key


def stored_source_key(source_key: str) -> str:
    """``source_key`` as stored: as it is when it fits the column, else its kind and
    a SHA-256 digest (two 100-character aircraft ids make a longer key).

    >>> stored_source_key("los|a:X|b:Y|5")
    'los|a:X|b:Y|5'
    >>> stored_source_key("los|" + "x" * 300)[:11], len(stored_source_key("x" * 300))
    ('los|sha256:', 172)
    """
    if len(source_key) <= MAX_SOURCE_KEY_CHARS:
        return source_key
    kind = source_key.partition("|")[0][: MAX_SOURCE_KEY_CHARS // 2]
    digest = hashlib.sha256(source_key.encode("utf-8")).hexdigest()
    return f"{kind}|sha256:{digest}"


class IncidentKind(StrEnum):
    """What happened."""

    LINE_VIOLATION = "line_violation"
    ZONE_INCURSION = "zone_incursion"
    LOSS_OF_SEPARATION = "loss_of_separation"
    OPERATION_NONCONFORMANCE = "operation_nonconformance"


@dataclass(frozen=True, slots=True)
class AircraftPoint:
    """An aircraft of an incident and its telling point (deepest, or closest)."""

    party: str
    aircraft_id: str
    t_s: float
    lat_deg: float
    lon_deg: float
    alt_ft: float

    def as_json(self) -> dict[str, Any]:
        """The stored and wire form."""
        return {
            "party": self.party,
            "id": self.aircraft_id,
            "point": {
                "t_s": self.t_s,
                "lat_deg": round(self.lat_deg, 6),
                "lon_deg": round(self.lon_deg, 6),
                "alt_ft": round(self.alt_ft, 1),
            },
        }


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What detection knows of an incident, written on open and on every update."""

    source_key: str
    kind: IncidentKind
    party_id: str
    involved: tuple[str, ...]
    boundary_id: str | None
    start_t_s: float
    end_t_s: float | None
    severity_nm: float
    aircraft: tuple[AircraftPoint, ...]
    depths: tuple[tuple[str, float], ...] = ()
    """A violation's depths at its deepest point, named as in ``DEPTH_FIELDS``."""


DEPTH_FIELDS: tuple[str, ...] = (
    "depth_across_line_nm",
    "depth_from_buffer_edge_nm",
    "depth_inside_zone_nm",
)
"""A violation's depths (docs/protocol.md): a line violation has the first two, a
zone incursion the third; each incident carries all three, None where one does not
apply (and in incidents recorded before they were named)."""


def _excerpt(
    conn: Connection, party_id: str, aircraft_id: str, t0_s: float, t1_s: float
) -> list[list[float]]:
    rows = conn.execute(
        select(
            positions.c.t_s,
            positions.c.lat_deg,
            positions.c.lon_deg,
            positions.c.alt_ft,
        )
        .where(
            positions.c.party_id == party_id,
            positions.c.aircraft_id == aircraft_id,
            positions.c.t_s >= t0_s,
            positions.c.t_s <= t1_s,
        )
        .order_by(positions.c.t_s)
    ).all()
    if len(rows) > MAX_EVIDENCE_POINTS:
        step = len(rows) / MAX_EVIDENCE_POINTS
        rows = [rows[int(k * step)] for k in range(MAX_EVIDENCE_POINTS)] + [rows[-1]]
    return [
        [r.t_s, round(r.lat_deg, 6), round(r.lon_deg, 6), round(r.alt_ft, 1)]
        for r in rows
    ]


def _evidence(conn: Connection, facts: IncidentFacts, now_t_s: float) -> dict[str, Any]:
    t0 = facts.start_t_s - EVIDENCE_MARGIN_S
    t1 = (facts.end_t_s if facts.end_t_s is not None else now_t_s) + EVIDENCE_MARGIN_S
    tracks: dict[str, dict[str, list[list[float]]]] = defaultdict(dict)
    for ac in facts.aircraft:
        tracks[ac.party][ac.aircraft_id] = _excerpt(
            conn, ac.party, ac.aircraft_id, t0, t1
        )
    return {
        "tracks": dict(tracks),
        "window_t_s": [t0, t1],
        "aircraft": [a.as_json() for a in facts.aircraft],
        "involved": list(facts.involved),
        "depths": dict(facts.depths),
    }


def record(
    conn: Connection, facts: IncidentFacts, now_t_s: float, sharing: Sharing
) -> int:
    """Open or update the incident for ``facts.source_key``; publish the change."""
    evidence = _evidence(conn, facts, now_t_s)
    source_key = stored_source_key(facts.source_key)
    existing = conn.execute(
        select(incidents.c.id).where(incidents.c.source_key == source_key)
    ).scalar()
    values = {
        "kind": facts.kind.value,
        "party_id": facts.party_id,
        "other_party_id": next(
            (p for p in facts.involved if p != facts.party_id), None
        ),
        "aircraft_id": facts.aircraft[0].aircraft_id,
        "other_aircraft_id": (
            facts.aircraft[1].aircraft_id if len(facts.aircraft) > 1 else None
        ),
        "boundary_id": facts.boundary_id,
        "start_t_s": facts.start_t_s,
        "end_t_s": facts.end_t_s,
        "severity_nm": facts.severity_nm,
        "evidence_json": json.dumps(evidence, separators=(",", ":")),
        "updated_t_s": now_t_s,
    }
    if existing is None:
        incident_id = inserted_pk(
            conn.execute(
                insert(incidents).values(
                    id=random_id(conn, incidents),
                    source_key=source_key,
                    status=IncidentStatus.OPEN.value,
                    created_t_s=now_t_s,
                    **values,
                )
            )
        )
        event_type = "incident.opened"
    else:
        incident_id = int(existing)
        conn.execute(
            update(incidents).where(incidents.c.id == incident_id).values(**values)
        )
        event_type = "incident.updated" if facts.end_t_s is None else "incident.closed"
    named = {a.party for a in facts.aircraft} | set(facts.involved)
    conn.execute(
        delete(incident_parties).where(incident_parties.c.incident_id == incident_id)
    )
    conn.execute(
        insert(incident_parties),
        [{"incident_id": incident_id, "party_id": p} for p in sorted(named)],
    )
    _publish(conn, incident_id, event_type, now_t_s, sharing)
    return incident_id


def _publish(
    conn: Connection,
    incident_id: int,
    event_type: str,
    now_t_s: float,
    sharing: Sharing,
) -> None:
    full = _load(conn, incident_id)
    audience = {a["party"] for a in full["aircraft"]} | set(full["involved"])
    sharing = protocols.with_history(conn, sharing)
    events.publish(
        conn,
        event_type,
        {p: disclosure.incident_view(p, full, sharing) for p in audience},
        now_t_s,
    )


def _load(conn: Connection, incident_id: int) -> dict[str, Any]:
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    if row is None:
        raise NotFoundError(f"incident {incident_id}")
    evidence = json.loads(row.evidence_json)
    depths = evidence.pop("depths", {})
    remarks = conn.execute(
        select(incident_remarks)
        .where(incident_remarks.c.incident_id == incident_id)
        .order_by(incident_remarks.c.id)
    ).all()
    involved = evidence.pop("involved")
    aircraft = evidence.pop("aircraft")
    loss = row.kind == IncidentKind.LOSS_OF_SEPARATION.value
    return {
        "id": int(row.id),
        "kind": row.kind,
        "status": row.status,
        "version": int(row.status_version),
        "resolution_requested_by": json.loads(row.resolution_requested_by),
        "party_id": row.party_id,
        # A violation has an offender; a loss of separation has two parties and
        # none (the protocol gives no rule that makes one of them at fault).
        "offending_party": None if loss else row.party_id,
        "parties": sorted({a["party"] for a in aircraft} | set(involved)),
        "involved": involved,
        "aircraft": aircraft,
        "boundary_id": row.boundary_id,
        "start_t_s": row.start_t_s,
        "end_t_s": row.end_t_s,
        "ongoing": row.end_t_s is None,
        "severity_nm": row.severity_nm,
        **{k: depths.get(k) for k in DEPTH_FIELDS},
        "evidence": evidence,
        "remarks": [
            {"party": r.party_id, "text": r.text, "t_s": r.created_t_s} for r in remarks
        ],
        "created_t_s": row.created_t_s,
        "updated_t_s": row.updated_t_s,
    }


def _candidates(viewer_party: str) -> Any:
    # Every incident that names the party; the disclosure view decides the rest.
    return incidents.c.id.in_(
        select(incident_parties.c.incident_id).where(
            incident_parties.c.party_id == viewer_party
        )
    )


def list_visible(
    conn: Connection,
    who: Principal,
    sharing: Sharing,
    since_t_s: float | None = None,
    until_t_s: float | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Incidents the caller may see, newest first."""
    conditions = [_candidates(who.party_id)]
    if since_t_s is not None:
        conditions.append(incidents.c.start_t_s >= since_t_s)
    if until_t_s is not None:
        conditions.append(incidents.c.start_t_s < until_t_s)
    if status is not None:
        conditions.append(incidents.c.status == status)
    ids = conn.execute(
        select(incidents.c.id)
        .where(and_(*conditions))
        .order_by(incidents.c.start_t_s.desc(), incidents.c.id.desc())
        .limit(limit)
    ).scalars()
    out = []
    for incident_id in ids:
        view = disclosure.incident_view(
            who.party_id, _load(conn, int(incident_id)), sharing
        )
        if view is not None:
            out.append(view)
    return out


def get_visible(
    conn: Connection, who: Principal, incident_id: int, sharing: Sharing
) -> dict[str, Any]:
    """One incident as the caller may see it.

    Raises:
        NotFoundError: if it does not exist or the caller may not see it.
    """
    try:
        full = _load(conn, incident_id)
    except NotFoundError:
        raise NotFoundError(f"incident {incident_id}") from None
    view = disclosure.incident_view(who.party_id, full, sharing)
    if view is None:
        raise NotFoundError(f"incident {incident_id}")
    return view


def set_status(
    conn: Connection,
    who: Principal,
    incident_id: int,
    status: str,
    version: int,
    now_t_s: float,
    sharing: Sharing,
) -> dict[str, Any]:
    """Move an incident along its lifecycle (``incident_lifecycle``), from the
    ``version`` the caller read.

    Raises:
        NotFoundError: if the caller may not see it.
        ForbiddenError: for an observer, or a change the caller's party may not
            make.
        InputError: for an unknown status.
        ConflictError: for a stale ``version`` (the incident changed since it was
            read, or another change made from that version won), or a transition
            the lifecycle does not allow.
    """
    current = get_visible(conn, who, incident_id, sharing)
    if not who.can_write:
        raise ForbiddenError("observers cannot change incidents")
    try:
        target = IncidentStatus(status)
    except ValueError:
        raise InputError(
            [
                Problem(
                    "request",
                    None,
                    "status",
                    f"unknown status {status!r}; one of "
                    + ", ".join(s.value for s in IncidentStatus),
                )
            ]
        ) from None
    full = _load(conn, incident_id)
    if version != full["version"]:
        raise ConflictError(
            f"incident {incident_id} is at version {full['version']}, not {version}: "
            "read it again"
        )
    source = IncidentStatus(full["status"])
    requested = tuple(full["resolution_requested_by"])
    if target == source:
        return current
    standing = Standing(frozenset(full["parties"]), full["offending_party"])
    change = decide(standing, who.party_id, source, target, requested)
    if change.status == source and change.resolution_requested_by == requested:
        return current  # a request made before: nothing changes
    if not _compare_and_set(conn, incident_id, version, change, now_t_s):
        raise ConflictError(
            f"incident {incident_id} changed at the same time: read it again"
        )
    _publish(conn, incident_id, "incident.status", now_t_s, sharing)
    return get_visible(conn, who, incident_id, sharing)


def _compare_and_set(
    conn: Connection, incident_id: int, version: int, change: Change, now_t_s: float
) -> bool:
    """Write ``change`` if the incident is still at ``version``; of two writers
    from one version, one only succeeds."""
    written = conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id, incidents.c.status_version == version)
        .values(
            status=change.status.value,
            status_version=version + 1,
            resolution_requested_by=json.dumps(list(change.resolution_requested_by)),
            updated_t_s=now_t_s,
        )
    ).rowcount
    return bool(written == 1)


def advance_status(
    conn: Connection,
    incident_id: int,
    target: IncidentStatus,
    now_t_s: float,
    sharing: Sharing,
) -> bool:
    """Move an incident on because of a hotline event (a complaint sent, or
    acknowledged); does nothing where the lifecycle does not allow the step."""
    row = conn.execute(
        select(
            incidents.c.status,
            incidents.c.status_version,
            incidents.c.resolution_requested_by,
        ).where(incidents.c.id == incident_id)
    ).first()
    if row is None or target not in ALLOWED_TRANSITIONS[IncidentStatus(row.status)]:
        return False
    requested = tuple(json.loads(row.resolution_requested_by))
    change = Change(target, requested)
    if not _compare_and_set(
        conn, incident_id, int(row.status_version), change, now_t_s
    ):
        return False
    _publish(conn, incident_id, "incident.status", now_t_s, sharing)
    return True


def add_remark(
    conn: Connection,
    who: Principal,
    incident_id: int,
    text: str,
    now_t_s: float,
    sharing: Sharing,
) -> dict[str, Any]:
    """Add the caller's remark to an incident it may see.

    Raises:
        NotFoundError: if the caller may not see it.
        ForbiddenError: for an observer.
        InputError: for an empty or overlong remark.
    """
    get_visible(conn, who, incident_id, sharing)
    if not who.can_write:
        raise ForbiddenError("observers cannot add remarks")
    if not text.strip() or len(text) > MAX_REMARK_CHARS:
        raise InputError(
            [
                Problem(
                    "request",
                    None,
                    "text",
                    f"must be 1 to {MAX_REMARK_CHARS} characters",
                )
            ]
        )
    conn.execute(
        insert(incident_remarks).values(
            incident_id=incident_id,
            party_id=who.party_id,
            text=text,
            created_t_s=now_t_s,
        )
    )
    conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(updated_t_s=now_t_s)
    )
    _publish(conn, incident_id, "incident.remark", now_t_s, sharing)
    return get_visible(conn, who, incident_id, sharing)


def daily_counts(
    conn: Connection,
    who: Principal,
    sharing: Sharing,
    since_t_s: float,
    until_t_s: float,
) -> dict[str, dict[str, dict[str, int]]]:
    """Incident counts by day (UTC), party and kind, of the incidents the caller may
    see (exactly those ``list_visible`` shows it, nothing more): a violation counts
    for the party at fault, a loss of separation for both."""
    ids = conn.execute(
        select(incidents.c.id).where(
            _candidates(who.party_id),
            incidents.c.start_t_s >= since_t_s,
            incidents.c.start_t_s < until_t_s,
        )
    ).scalars()
    by_party: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for incident_id in ids:
        view = disclosure.incident_view(
            who.party_id, _load(conn, int(incident_id)), sharing
        )
        if view is None:
            continue
        day = datetime.fromtimestamp(view["start_t_s"], tz=UTC).strftime("%Y-%m-%d")
        counted = (
            view["parties"]
            if view["kind"] == IncidentKind.LOSS_OF_SEPARATION.value
            else [view["party_id"]]
        )
        for party in counted:  # no party is at fault in a loss: it counts for both
            by_party[party][day][view["kind"]] += 1
    return {p: {d: dict(k) for d, k in days.items()} for p, days in by_party.items()}


@dataclass(frozen=True, slots=True)
class OngoingIncident:
    """An incident detection left ongoing, as stored (for a new run to resume)."""

    id: int
    kind: IncidentKind
    source_key: str
    boundary_id: str | None
    start_t_s: float
    severity_nm: float
    aircraft: tuple[AircraftPoint, ...]


def ongoing(conn: Connection) -> list[OngoingIncident]:
    """Every incident not ended, oldest first."""
    rows = conn.execute(
        select(
            incidents.c.id,
            incidents.c.kind,
            incidents.c.source_key,
            incidents.c.boundary_id,
            incidents.c.start_t_s,
            incidents.c.severity_nm,
            incidents.c.evidence_json,
        )
        .where(incidents.c.end_t_s.is_(None))
        .order_by(incidents.c.created_t_s, incidents.c.id)
    ).all()
    out = []
    for r in rows:
        sides = json.loads(r.evidence_json)["aircraft"]
        out.append(
            OngoingIncident(
                id=int(r.id),
                kind=IncidentKind(r.kind),
                source_key=r.source_key,
                boundary_id=r.boundary_id,
                start_t_s=r.start_t_s,
                severity_nm=r.severity_nm or 0.0,
                aircraft=tuple(
                    AircraftPoint(
                        side["party"],
                        side["id"],
                        side["point"]["t_s"],
                        side["point"]["lat_deg"],
                        side["point"]["lon_deg"],
                        side["point"]["alt_ft"],
                    )
                    for side in sides
                ),
            )
        )
    return out


def is_recorded(conn: Connection, source_key: str) -> bool:
    """Whether an incident was recorded for ``source_key`` (ongoing or ended)."""
    found = conn.execute(
        select(incidents.c.id).where(
            incidents.c.source_key == stored_source_key(source_key)
        )
    ).first()
    return found is not None


def close_at_last_position(
    conn: Connection, incident_id: int, now_t_s: float, sharing: Sharing
) -> None:
    """End an ongoing incident at its aircraft's last stored position (``now_t_s``
    if it has none), for when detection can no longer follow it."""
    row = conn.execute(
        select(incidents.c.party_id, incidents.c.aircraft_id).where(
            incidents.c.id == incident_id
        )
    ).one()
    last = conn.execute(
        select(func.max(positions.c.t_s)).where(
            positions.c.party_id == row.party_id,
            positions.c.aircraft_id == row.aircraft_id,
        )
    ).scalar()
    conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(end_t_s=last if last is not None else now_t_s, updated_t_s=now_t_s)
    )
    _publish(conn, incident_id, "incident.closed", now_t_s, sharing)


def close_dangling(conn: Connection, now_t_s: float, sharing: Sharing) -> int:
    """End every ongoing incident at its aircraft's last position (when no
    protocol is in effect to follow them)."""
    ids = conn.execute(
        select(incidents.c.id).where(incidents.c.end_t_s.is_(None))
    ).scalars()
    closed = [int(i) for i in ids]
    for incident_id in closed:
        close_at_last_position(conn, incident_id, now_t_s, sharing)
    return len(closed)
