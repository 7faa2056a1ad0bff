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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

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
from deconfliction.store.engine import random_ids
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

_T = TypeVar("_T")


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


WRITE_BATCH: int = 500
"""Incidents (or aircraft of their evidence) per statement in :func:`record_many`:
a tick that updates 10,000 losses of separation at once (the alert benchmark's
pairs closing) writes them in a few dozen statements instead of 170,000."""


def _chunks(items: Sequence[_T], size: int = WRITE_BATCH) -> Iterator[Sequence[_T]]:
    for k in range(0, len(items), size):
        yield items[k : k + size]


def _thin(rows: Sequence[Any]) -> list[list[float]]:
    """An aircraft's excerpt (rows in time order) as stored: at most
    ``MAX_EVIDENCE_POINTS`` points, taken evenly, and the last."""
    if len(rows) > MAX_EVIDENCE_POINTS:
        step = len(rows) / MAX_EVIDENCE_POINTS
        rows = [rows[int(k * step)] for k in range(MAX_EVIDENCE_POINTS)] + [rows[-1]]
    return [
        [r.t_s, round(r.lat_deg, 6), round(r.lon_deg, 6), round(r.alt_ft, 1)]
        for r in rows
    ]


_Window = tuple[str, float, float]  # party, from, to (both included)


def _window(facts: IncidentFacts, now_t_s: float) -> tuple[float, float]:
    t0 = facts.start_t_s - EVIDENCE_MARGIN_S
    t1 = (facts.end_t_s if facts.end_t_s is not None else now_t_s) + EVIDENCE_MARGIN_S
    return t0, t1


def _excerpts(
    conn: Connection, wanted: dict[_Window, list[str]]
) -> dict[tuple[_Window, str], list[list[float]]]:
    """The track excerpt of each aircraft in ``wanted`` (per party and window, the
    aircraft ids), read for many aircraft of one window at a time."""
    out: dict[tuple[_Window, str], list[list[float]]] = {}
    for window, aircraft_ids in wanted.items():
        party_id, t0_s, t1_s = window
        for chunk in _chunks(aircraft_ids):
            rows = conn.execute(
                select(
                    positions.c.aircraft_id,
                    positions.c.t_s,
                    positions.c.lat_deg,
                    positions.c.lon_deg,
                    positions.c.alt_ft,
                )
                .where(
                    positions.c.party_id == party_id,
                    positions.c.aircraft_id.in_(chunk),
                    positions.c.t_s >= t0_s,
                    positions.c.t_s <= t1_s,
                )
                # (party, aircraft, time) is unique: one order, as for one aircraft
                .order_by(positions.c.aircraft_id, positions.c.t_s)
            ).all()
            by_aircraft: dict[str, list[Any]] = defaultdict(list)
            for row in rows:
                by_aircraft[row.aircraft_id].append(row)
            for aircraft_id in chunk:
                out[(window, aircraft_id)] = _thin(by_aircraft.get(aircraft_id, []))
    return out


def _evidence_many(
    conn: Connection, many: Sequence[IncidentFacts], now_t_s: float
) -> list[dict[str, Any]]:
    """The evidence of each of ``many``: its aircraft's tracks from
    ``EVIDENCE_MARGIN_S`` before its start to as long after its end (or now)."""
    wanted: dict[_Window, list[str]] = defaultdict(list)
    seen: set[tuple[_Window, str]] = set()
    for facts in many:
        t0, t1 = _window(facts, now_t_s)
        for ac in facts.aircraft:
            key = ((ac.party, t0, t1), ac.aircraft_id)
            if key not in seen:
                seen.add(key)
                wanted[key[0]].append(ac.aircraft_id)
    excerpts = _excerpts(conn, wanted)
    out = []
    for facts in many:
        t0, t1 = _window(facts, now_t_s)
        tracks: dict[str, dict[str, list[list[float]]]] = defaultdict(dict)
        for ac in facts.aircraft:
            tracks[ac.party][ac.aircraft_id] = excerpts[
                ((ac.party, t0, t1), ac.aircraft_id)
            ]
        out.append(
            {
                "tracks": dict(tracks),
                "window_t_s": [t0, t1],
                "aircraft": [a.as_json() for a in facts.aircraft],
                "involved": list(facts.involved),
                "depths": dict(facts.depths),
            }
        )
    return out


def _values(
    facts: IncidentFacts, evidence: dict[str, Any], now_t_s: float
) -> dict[str, Any]:
    return {
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


def record(
    conn: Connection, facts: IncidentFacts, now_t_s: float, sharing: Sharing
) -> int:
    """Open or update the incident for ``facts.source_key``; publish the change."""
    return record_many(conn, [facts], now_t_s, sharing)[0]


def record_many(
    conn: Connection, many: Sequence[IncidentFacts], now_t_s: float, sharing: Sharing
) -> list[int]:
    """:func:`record` for each of ``many`` in order (the same rows and events, in
    the same order), in statements of :data:`WRITE_BATCH` incidents: their
    evidence read, their rows looked for, inserted or updated, their parties
    written, and their events published, each for many incidents at once.
    Returns the incidents' ids."""
    ids: list[int] = []
    run: list[IncidentFacts] = []
    keys: set[str] = set()
    for facts in many:  # a source key twice: the second after the first
        key = stored_source_key(facts.source_key)
        if key in keys:
            ids += _record_run(conn, run, now_t_s, sharing)
            run, keys = [], set()
        run.append(facts)
        keys.add(key)
    return ids + _record_run(conn, run, now_t_s, sharing)


def _record_run(
    conn: Connection, many: Sequence[IncidentFacts], now_t_s: float, sharing: Sharing
) -> list[int]:
    """:func:`record_many` for incidents of different source keys."""
    if not many:
        return []
    evidence = _evidence_many(conn, many, now_t_s)
    keys = [stored_source_key(f.source_key) for f in many]
    existing: dict[str, int] = {}
    for chunk in _chunks(keys):
        for key, pk in conn.execute(
            select(incidents.c.source_key, incidents.c.id).where(
                incidents.c.source_key.in_(chunk)
            )
        ):
            existing[key] = int(pk)
    fresh = iter(random_ids(conn, incidents, sum(k not in existing for k in keys)))
    ids: list[int] = []
    event_types: list[str] = []
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    for facts, key, ev in zip(many, keys, evidence, strict=True):
        values = _values(facts, ev, now_t_s)
        if key in existing:
            incident_id = existing[key]
            changed_rows.append(
                {"b_id": incident_id, **{f"v_{k}": v for k, v in values.items()}}
            )
            closed = facts.end_t_s is not None
            event_types.append("incident.closed" if closed else "incident.updated")
        else:
            incident_id = next(fresh)
            new_rows.append(
                {
                    "id": incident_id,
                    "source_key": key,
                    "status": IncidentStatus.OPEN.value,
                    "created_t_s": now_t_s,
                    **values,
                }
            )
            event_types.append("incident.opened")
        ids.append(incident_id)
    for rows in _chunks(new_rows):
        conn.execute(insert(incidents), list(rows))
    if changed_rows:
        columns = [c for c in changed_rows[0] if c != "b_id"]
        statement = (
            update(incidents)
            .where(incidents.c.id == bindparam("b_id"))
            .values({c[2:]: bindparam(c) for c in columns})
        )
        for rows in _chunks(changed_rows):
            conn.execute(statement, list(rows))
    for id_chunk in _chunks(ids):
        conn.execute(
            delete(incident_parties).where(incident_parties.c.incident_id.in_(id_chunk))
        )
    party_rows = [
        {"incident_id": incident_id, "party_id": p}
        for facts, incident_id in zip(many, ids, strict=True)
        for p in sorted({a.party for a in facts.aircraft} | set(facts.involved))
    ]
    for rows in _chunks(party_rows):
        conn.execute(insert(incident_parties), list(rows))
    # The evidence just written is not read back from its JSON (its dicts are
    # not used after _values serialised them).
    written = dict(zip(ids, evidence, strict=True))
    _publish_many(
        conn, list(zip(ids, event_types, strict=True)), now_t_s, sharing, written
    )
    return ids


def _publish(
    conn: Connection,
    incident_id: int,
    event_type: str,
    now_t_s: float,
    sharing: Sharing,
) -> None:
    _publish_many(conn, [(incident_id, event_type)], now_t_s, sharing)


def _publish_many(
    conn: Connection,
    changes: Sequence[tuple[int, str]],
    now_t_s: float,
    sharing: Sharing,
    evidence: dict[int, dict[str, Any]] | None = None,
) -> None:
    """Publish each ``(incident id, event type)`` in order, as each party may see
    the incident now. ``evidence``: the evidence of some of them as just written
    (taken over, not copied), instead of reading it back from its JSON."""
    full = _load_many(conn, [incident_id for incident_id, _ in changes], evidence)
    sharing = protocols.with_history(conn, sharing)
    published = []
    for incident_id, event_type in changes:
        incident = full[incident_id]
        audience = {a["party"] for a in incident["aircraft"]} | set(
            incident["involved"]
        )
        published.append(
            (
                event_type,
                {p: disclosure.incident_view(p, incident, sharing) for p in audience},
            )
        )
    for chunk in _chunks(published):
        events.publish_many(conn, chunk, now_t_s)


def _load(conn: Connection, incident_id: int) -> dict[str, Any]:
    """One incident, in full (before any disclosure view).

    Raises:
        NotFoundError: if there is no such incident.
    """
    return _load_many(conn, [incident_id])[incident_id]


def _load_many(
    conn: Connection,
    ids: Sequence[int],
    evidence: dict[int, dict[str, Any]] | None = None,
) -> dict[int, dict[str, Any]]:
    """The incidents of ``ids`` in full, by id (``evidence``: see
    :func:`_publish_many`).

    Raises:
        NotFoundError: if one of them does not exist.
    """
    rows: dict[int, Any] = {}
    remarks: dict[int, list[Any]] = defaultdict(list)
    for chunk in _chunks(list(dict.fromkeys(ids))):
        for row in conn.execute(select(incidents).where(incidents.c.id.in_(chunk))):
            rows[int(row.id)] = row
        for remark in conn.execute(
            select(incident_remarks)
            .where(incident_remarks.c.incident_id.in_(chunk))
            .order_by(incident_remarks.c.id)
        ):
            remarks[int(remark.incident_id)].append(remark)
    out = {}
    for incident_id in ids:
        if incident_id not in rows:
            raise NotFoundError(f"incident {incident_id}")
        written = None if evidence is None else evidence.pop(incident_id, None)
        out[incident_id] = _full(rows[incident_id], remarks[incident_id], written)
    return out


def _full(
    row: Any, remarks: Sequence[Any], evidence: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An incident row in full; ``evidence``: its evidence_json as just written,
    if the caller has it (taken over: its keys are popped)."""
    if evidence is None:
        evidence = json.loads(row.evidence_json)
    depths = evidence.pop("depths", {})
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
