"""Planned operations: filed, checked, notified, accepted, flown, ended.

Rules (documented in the README and docs/planning.md):

* Filing or updating an operation checks it against the other parties' operations
  in force (found through the store's cell/hour index), the zones it may not enter
  and the lines it may not cross (``domain.planning.check_operation``). With
  conflicts it is stored ``conflicted``; the protocol's
  ``planning.allow_conflicted_activation`` says whether it may still be activated.
* Filing sends a notice of operation over the hotline to every other party of the
  protocol, in its language. Notified, acknowledged and approved are three separate
  facts per party: acknowledged says the notice was received; approved (optional,
  ``POST …/approve``) says the party concurs. The operation goes from ``pending`` to
  ``accepted`` when every notice of its current version is acknowledged, or, where
  the protocol says so (``accept_on_deadline``), when the notice's deadline passes.
* Filed later than the protocol's lead time for its kind, an operation is
  ``short_notice``, visible as such to everyone who sees it.
* An update names the version it replaces (a stale one gets 409), is checked again,
  and sends new notices: notices belong to one version and expire with their
  operation.
* ``activated`` by its party (when accepted, or conflicted if allowed), then
  ``nonconforming`` while its aircraft are outside its volumes (an incident), back
  to ``activated`` when they return, ``ended`` by its party or when its last volume
  ends; ``cancelled`` at any time before. Every change is an event on the stream.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from deconfliction.adapters.operation_file import (
    operation_from_json,
    operation_to_json,
)
from deconfliction.domain.planning import (
    Operation,
    OperationState,
    Polygon,
    check_operation,
    index_cells,
)
from deconfliction.domain.protocol import Protocol, SharingLevel
from deconfliction.errors import ConflictError, ForbiddenError, NotFoundError
from deconfliction.service import disclosure, events, protocols
from deconfliction.service.auth import Principal
from deconfliction.service.keys import KeyRing
from deconfliction.service.planning_conflicts import (  # noqa: F401 (re-exported)
    _CONFLICT_TYPES,
    _conflict_record,
    _parties_of,
    _place_from_json,
    _place_json,
    _rebuild,
    _views_of_check,
    _volume_from_json,
    _volume_json,
)
from deconfliction.service.planning_notices import (  # noqa: F401 (re-exported)
    _area_facts,
    _notice_facts,
    _send_notices,
)
from deconfliction.store.engine import inserted_pk
from deconfliction.store.tables import (
    hotline_messages,
    hotline_receipts,
    operation_cells,
    operation_notices,
    operations,
)

MAX_INDEX_KEYS_PER_QUERY: int = 500  # keys per IN (...) list; SQLite caps variables
IN_FORCE = tuple(s.value for s in OperationState if s.is_in_force)
EDITABLE = (
    OperationState.PENDING.value,
    OperationState.ACCEPTED.value,
    OperationState.CONFLICTED.value,
    OperationState.SHORT_NOTICE.value,
    OperationState.ACTIVATED.value,
)


def _protocol(conn: Connection, party: str) -> Protocol:
    """The agreement ``party``'s operations follow: its oldest in effect (or, if
    it has none, the newest in effect, whose parties check then refuses)."""
    effective = protocols.agreement_of(conn, party) or protocols.in_effect(conn)
    if effective is None:
        raise ConflictError("no protocol is in effect: operations follow the protocol")
    return effective.protocol


def _row(conn: Connection, op_id: str) -> Any:
    return conn.execute(select(operations).where(operations.c.id == op_id)).first()


def _load(row: Any) -> Operation:
    op = operation_from_json(json.loads(row.body_json), f"operation {row.id}")
    return Operation(
        id=row.id,
        party=row.party_id,
        kind=row.kind,
        volumes=op.volumes,
        version=row.version,
        ovn=row.ovn,
        state=OperationState(row.state),
    )


def _candidates(conn: Connection, op: Operation, protocol: Protocol) -> list[Operation]:
    """Other parties' operations in force that share an index key with ``op``."""
    keys: set[tuple[int, int]] = set()
    for volume in op.volumes:
        keys.update(index_cells(volume, protocol.minima.horizontal_nm))
    ordered = sorted(keys)
    pks: set[int] = set()
    for start in range(0, len(ordered), MAX_INDEX_KEYS_PER_QUERY):
        chunk = ordered[start : start + MAX_INDEX_KEYS_PER_QUERY]
        pks.update(
            int(pk)
            for pk in conn.execute(
                select(operation_cells.c.op_pk)
                .where(
                    tuple_(operation_cells.c.cell, operation_cells.c.bucket).in_(chunk)
                )
                .distinct()
            ).scalars()
        )
    if not pks:
        return []
    rows = conn.execute(
        select(operations).where(
            operations.c.pk.in_(sorted(pks)),
            operations.c.party_id != op.party,
            operations.c.id != op.id,
            operations.c.state.in_(IN_FORCE),
        )
    ).all()
    return [_load(r) for r in rows]


def _index(conn: Connection, pk: int, op: Operation) -> None:
    conn.execute(delete(operation_cells).where(operation_cells.c.op_pk == pk))
    keys = sorted({key for v in op.volumes for key in index_cells(v, 0.0)})
    conn.execute(
        insert(operation_cells),
        [{"cell": cell, "bucket": bucket, "op_pk": pk} for cell, bucket in keys],
    )


def _version_values(
    stored: Operation,
    op: Operation,
    aircraft: Sequence[str],
    check: Any,
    short_notice: bool,
    conflicted: bool,
    now_t_s: float,
) -> dict[str, Any]:
    """The columns of ``operations`` that a version sets, filed or replaced."""
    return {
        "kind": stored.kind,
        "version": stored.version,
        "ovn": stored.ovn,
        "state": stored.state.value,
        "short_notice": int(short_notice),
        "conflicted": int(conflicted),
        "body_json": json.dumps(operation_to_json(stored)),
        "aircraft_json": json.dumps(list(aircraft)),
        "check_json": json.dumps(check),
        "time_start_t_s": op.time_start_t_s,
        "time_end_t_s": op.time_end_t_s,
        "updated_t_s": now_t_s,
    }


def _state_after_check(conflicted: bool) -> OperationState:
    return OperationState.CONFLICTED if conflicted else OperationState.PENDING


def _check(
    conn: Connection, op: Operation, protocol: Protocol
) -> tuple[bool, dict[str, Any]]:
    """Check ``op`` under every agreement in effect of its party (``protocol``
    alone if it has none): each agreement's lines, zones and minima, against the
    operations of that agreement's other parties."""
    agreements = [v.protocol for v in protocols.agreements_of(conn, op.party)]
    found: dict[str, list[dict[str, Any]]] = {
        "operations": [],
        "zones": [],
        "lines": [],
    }
    clear = True
    for agreement in agreements or [protocol]:
        others = [
            o for o in _candidates(conn, op, agreement) if o.party in agreement.parties
        ]
        result = check_operation(op, others, agreement)
        clear = clear and result.is_clear
        found["operations"] += [_conflict_record(c) for c in result.operations]
        found["zones"] += [_conflict_record(c) for c in result.zones]
        found["lines"] += [_conflict_record(c) for c in result.lines]
    return (not clear), found


# -- views -----------------------------------------------------------------------------


def _notices(conn: Connection, row: Any, viewer: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(operation_notices, hotline_receipts, hotline_messages.c.sent_t_s)
        .join(
            hotline_receipts,
            (hotline_receipts.c.message_id == operation_notices.c.message_id)
            & (hotline_receipts.c.party_id == operation_notices.c.party_id),
        )
        .join(hotline_messages, hotline_messages.c.id == operation_notices.c.message_id)
        .where(operation_notices.c.op_pk == row.pk)
        .order_by(operation_notices.c.version, operation_notices.c.party_id)
    ).all()
    expired = not OperationState(row.state).is_in_force
    return [
        {
            "party": r.party_id,
            "version": r.version,
            "message_id": int(r.message_id),
            "notified_t_s": r.sent_t_s,
            "deadline_t_s": r.deadline_t_s,
            "acknowledged_t_s": r.acknowledged_t_s,
            "approved_t_s": r.approved_t_s,
            "current": r.version == row.version and not expired,
            "expired": expired or r.version != row.version,
        }
        for r in rows
        if viewer in (row.party_id, r.party_id)
    ]


def _view(
    conn: Connection, row: Any, viewer: str, sharing: disclosure.Sharing
) -> dict[str, Any] | None:
    own = row.party_id == viewer
    if not own and not disclosure.plans_visible(viewer, row.party_id, sharing):
        return None
    check = json.loads(row.check_json)
    level = sharing.between(viewer, row.party_id)
    view: dict[str, Any] = {
        "id": row.id,
        "party": row.party_id,
        "kind": row.kind,
        "version": row.version,
        "state": row.state,
        "short_notice": bool(row.short_notice),
        "conflicted": bool(row.conflicted),
        "time_start_t_s": row.time_start_t_s,
        "time_end_t_s": row.time_end_t_s,
        "filed_t_s": row.filed_t_s,
        "updated_t_s": row.updated_t_s,
        "operation": json.loads(row.body_json),
        "conflicts": _views_of_check(check, viewer, sharing),
        "notices": _notices(conn, row, viewer),
    }
    if own:
        view["ovn"] = row.ovn
    if own or (level is not None and level.allows(SharingLevel.FULL)):
        view["aircraft"] = json.loads(row.aircraft_json)
    return view


def _publish(
    conn: Connection,
    row_id: str,
    event_type: str,
    now_t_s: float,
    extra: dict[str, Any] | None = None,
) -> None:
    row = _row(conn, row_id)
    sharing = protocols.current_sharing(conn)
    audience = set(sharing.partners_of(row.party_id)) | {row.party_id}
    per_party = {}
    for party in audience:
        view = _view(conn, row, party, sharing)
        per_party[party] = (
            None if view is None else {"operation": view, **(extra or {})}
        )
    events.publish(conn, event_type, per_party, now_t_s)
    # Parties whose own operations conflict with this one hear of it, as far as
    # their level lets them, even when they may not see the operation itself.
    check = json.loads(row.check_json)
    touched = {
        item["data"]["other_party"]
        for item in check.get("operations", [])
        if item["data"].get("other_party") not in (None, row.party_id)
    }
    for party in sorted(touched):
        views = _views_of_check(check, party, sharing)
        if views:
            events.publish(
                conn, "operation.conflict", {party: {"conflicts": views}}, now_t_s
            )


def list_visible(
    conn: Connection, who: Principal, include_ended: bool = False
) -> list[dict[str, Any]]:
    """Operations the caller may see: its own, and others' from ``plans`` up."""
    sharing = protocols.current_sharing(conn)
    query = select(operations).order_by(operations.c.time_start_t_s, operations.c.id)
    if not include_ended:
        query = query.where(operations.c.state.in_(IN_FORCE))
    out = []
    for row in conn.execute(query).all():
        view = _view(conn, row, who.party_id, sharing)
        if view is not None:
            out.append(view)
    return out


def get_visible(conn: Connection, who: Principal, op_id: str) -> dict[str, Any]:
    """One operation, if the caller may see it.

    Raises:
        NotFoundError: otherwise, whether or not it exists.
    """
    row = _row(conn, op_id)
    view = (
        None
        if row is None
        else _view(conn, row, who.party_id, protocols.current_sharing(conn))
    )
    if view is None:
        raise NotFoundError(f"operation {op_id}")
    return view


# -- filing and updating -------------------------------------------------------------


def file(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    op: Operation,
    aircraft: Sequence[str],
    now_t_s: float,
) -> dict[str, Any]:
    """File a new operation of the caller's party.

    Raises:
        ForbiddenError: for an observer, or an operation of another party.
        ConflictError: if the id is taken, no protocol is in effect, or the hotline
            channel is suspended (notices could not go out).
        InputError / GeometryError: for volumes the checks refuse.
    """
    if not who.can_write:
        raise ForbiddenError("observers cannot file operations")
    if op.party != who.party_id:
        raise ForbiddenError(f"party {who.party_id!r} cannot file for {op.party!r}")
    protocol = _protocol(conn, who.party_id)
    if who.party_id not in protocol.parties:
        raise ForbiddenError(f"party {who.party_id!r} is not named in the protocol")
    if _row(conn, op.id) is not None:
        raise ConflictError(f"operation id {op.id!r} is taken")
    conflicted, check = _check(conn, op, protocol)
    short_notice = op.time_start_t_s < now_t_s + protocol.planning.lead_time_s(op.kind)
    ovn = secrets.token_hex(16)
    stored = Operation(
        op.id, op.party, op.kind, op.volumes, 1, ovn, _state_after_check(conflicted)
    )
    try:
        result = conn.execute(
            insert(operations).values(
                id=op.id,
                party_id=op.party,
                filed_t_s=now_t_s,
                **_version_values(
                    stored, op, aircraft, check, short_notice, conflicted, now_t_s
                ),
            )
        )
    except IntegrityError:
        # Filed at the same moment by another request: the same answer as when
        # it was filed before (the transaction is rolled back).
        raise ConflictError(f"operation id {op.id!r} is taken") from None
    pk = inserted_pk(result)
    _index(conn, pk, stored)
    _send_notices(conn, keys, who, pk, stored, aircraft, protocol, now_t_s)
    _publish(conn, op.id, "operation.filed", now_t_s)
    _accept_if_ready(conn, _row(conn, op.id), protocol, now_t_s)
    return get_visible(conn, who, op.id)


def update_operation(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    op_id: str,
    replaces_version: int,
    op: Operation,
    aircraft: Sequence[str],
    now_t_s: float,
) -> dict[str, Any]:
    """Replace version ``replaces_version`` of an operation by ``op``.

    Raises:
        NotFoundError: if the caller may not see it.
        ForbiddenError: if it is another party's.
        ConflictError: for a stale version, or an operation ended or cancelled.
    """
    row = _row(conn, op_id)
    if row is None or row.party_id != who.party_id:
        get_visible(conn, who, op_id)  # 404 unless visible
        raise ForbiddenError(
            f"operation {op_id} belongs to {row.party_id if row else '?'}"
        )
    if not who.can_write:
        raise ForbiddenError("observers cannot update operations")
    if row.state not in EDITABLE:
        raise ConflictError(f"operation {op_id} is {row.state}; it cannot change")
    if row.version != replaces_version:
        raise ConflictError(
            f"operation {op_id} is at version {row.version}, not {replaces_version}: "
            "someone changed it; read it again"
        )
    protocol = _protocol(conn, row.party_id)
    new_version = row.version + 1
    candidate = Operation(
        op_id,
        row.party_id,
        op.kind,
        op.volumes,
        new_version,
        "",
        OperationState.PENDING,
    )
    conflicted, check = _check(conn, candidate, protocol)
    state = (
        OperationState.ACTIVATED
        if row.state == OperationState.ACTIVATED.value
        else _state_after_check(conflicted)
    )
    ovn = secrets.token_hex(16)
    stored = Operation(
        op_id, row.party_id, op.kind, op.volumes, new_version, ovn, state
    )
    short_notice = bool(row.short_notice) or (
        op.time_start_t_s < now_t_s + protocol.planning.lead_time_s(op.kind)
        and state is not OperationState.ACTIVATED
    )
    changed = conn.execute(
        update(operations)
        .where(operations.c.pk == row.pk, operations.c.version == replaces_version)
        .values(
            **_version_values(
                stored, op, aircraft, check, short_notice, conflicted, now_t_s
            )
        )
    ).rowcount
    if changed != 1:  # another writer won between our read and our write
        raise ConflictError(f"operation {op_id} changed meanwhile; read it again")
    _index(conn, int(row.pk), stored)
    _send_notices(conn, keys, who, int(row.pk), stored, aircraft, protocol, now_t_s)
    _publish(conn, op_id, "operation.updated", now_t_s)
    _accept_if_ready(conn, _row(conn, op_id), protocol, now_t_s)
    return get_visible(conn, who, op_id)


# -- lifecycle ---------------------------------------------------------------------


def _set_state(
    conn: Connection, row: Any, state: OperationState, now_t_s: float, reason: str = ""
) -> None:
    if row.state == state.value:
        return
    conn.execute(
        update(operations)
        .where(operations.c.pk == row.pk)
        .values(state=state.value, updated_t_s=now_t_s)
    )
    _publish(
        conn,
        row.id,
        "operation.state",
        now_t_s,
        {"from": row.state, "to": state.value, "reason": reason},
    )


def _own_row(conn: Connection, who: Principal, op_id: str) -> Any:
    row = _row(conn, op_id)
    if row is None or row.party_id != who.party_id:
        get_visible(conn, who, op_id)
        raise ForbiddenError(f"operation {op_id} is another party's")
    if not who.can_write:
        raise ForbiddenError("observers cannot change operations")
    return row


def activate(
    conn: Connection, who: Principal, op_id: str, now_t_s: float
) -> dict[str, Any]:
    """Start flying an operation.

    Raises:
        ConflictError: unless it is accepted (or conflicted where the protocol
            allows), or if its time is over.
    """
    row = _own_row(conn, who, op_id)
    protocol = _protocol(conn, row.party_id)
    allowed = {OperationState.ACCEPTED.value}
    if protocol.planning.allow_conflicted_activation:
        allowed.add(OperationState.CONFLICTED.value)
    if row.state not in allowed:
        raise ConflictError(
            f"operation {op_id} is {row.state}; it can be activated when accepted"
            + (
                ""
                if protocol.planning.allow_conflicted_activation
                else " (the protocol does not allow activating a conflicted operation)"
            )
        )
    if now_t_s > row.time_end_t_s:
        raise ConflictError(f"operation {op_id} has ended")
    _set_state(conn, row, OperationState.ACTIVATED, now_t_s, "activated by its party")
    return get_visible(conn, who, op_id)


def end(conn: Connection, who: Principal, op_id: str, now_t_s: float) -> dict[str, Any]:
    """End an activated operation.

    Raises:
        ConflictError: if it is not flying.
    """
    row = _own_row(conn, who, op_id)
    if row.state not in (
        OperationState.ACTIVATED.value,
        OperationState.NONCONFORMING.value,
    ):
        raise ConflictError(f"operation {op_id} is {row.state}; only a flying one ends")
    _set_state(conn, row, OperationState.ENDED, now_t_s, "ended by its party")
    return get_visible(conn, who, op_id)


def cancel(
    conn: Connection, who: Principal, op_id: str, now_t_s: float
) -> dict[str, Any]:
    """Withdraw an operation; its notices expire.

    Raises:
        ConflictError: if it has ended or was cancelled already.
    """
    row = _own_row(conn, who, op_id)
    if not OperationState(row.state).is_in_force:
        raise ConflictError(f"operation {op_id} is {row.state}")
    _set_state(conn, row, OperationState.CANCELLED, now_t_s, "cancelled by its party")
    return get_visible(conn, who, op_id)


def approve(
    conn: Connection, who: Principal, op_id: str, now_t_s: float
) -> dict[str, Any]:
    """A notified party concurs with the current version (distinct from having
    acknowledged its notice).

    Raises:
        NotFoundError: if the caller was not notified of this operation.
        ForbiddenError: for an observer.
    """
    row = _row(conn, op_id)
    notice = None
    if row is not None:
        notice = conn.execute(
            select(operation_notices).where(
                operation_notices.c.op_pk == row.pk,
                operation_notices.c.version == row.version,
                operation_notices.c.party_id == who.party_id,
            )
        ).first()
    if row is None or notice is None:
        raise NotFoundError(f"operation {op_id}")
    if not who.can_write:
        raise ForbiddenError("observers cannot approve")
    if notice.approved_t_s is None:
        conn.execute(
            update(operation_notices)
            .where(
                operation_notices.c.op_pk == row.pk,
                operation_notices.c.version == row.version,
                operation_notices.c.party_id == who.party_id,
            )
            .values(approved_t_s=now_t_s)
        )
        _publish(conn, op_id, "operation.approved", now_t_s, {"by": who.party_id})
    sharing = protocols.current_sharing(conn)
    view = _view(conn, _row(conn, op_id), who.party_id, sharing)
    return view if view is not None else {"id": op_id, "approved": True}


def _accept_if_ready(
    conn: Connection, row: Any, protocol: Protocol, now_t_s: float
) -> None:
    if row.state != OperationState.PENDING.value:
        return
    receipts = conn.execute(
        select(hotline_receipts.c.acknowledged_t_s, hotline_receipts.c.deadline_t_s)
        .select_from(operation_notices)
        .join(
            hotline_receipts,
            (hotline_receipts.c.message_id == operation_notices.c.message_id)
            & (hotline_receipts.c.party_id == operation_notices.c.party_id),
        )
        .where(
            operation_notices.c.op_pk == row.pk,
            operation_notices.c.version == row.version,
        )
    ).all()
    acknowledged = all(r.acknowledged_t_s is not None for r in receipts)
    lapsed = protocol.planning.accept_on_deadline and all(
        r.acknowledged_t_s is not None or r.deadline_t_s < now_t_s for r in receipts
    )
    if acknowledged or lapsed:
        reason = (
            "every notice acknowledged" if acknowledged else "notice deadline passed"
        )
        _set_state(conn, row, OperationState.ACCEPTED, now_t_s, reason)


def tick(conn: Connection, now_t_s: float) -> int:
    """Accept operations whose notices are settled; end those whose time is over."""
    if protocols.in_effect(conn) is None:
        return 0
    changed = 0
    for row in conn.execute(
        select(operations).where(operations.c.state == OperationState.PENDING.value)
    ).all():
        _accept_if_ready(conn, row, _protocol(conn, row.party_id), now_t_s)
        changed += int(_row(conn, row.id).state != row.state)
    for row in conn.execute(
        select(operations).where(
            operations.c.state.in_(
                (OperationState.ACTIVATED.value, OperationState.NONCONFORMING.value)
            ),
            operations.c.time_end_t_s < now_t_s,
        )
    ).all():
        _set_state(conn, row, OperationState.ENDED, now_t_s, "its time is over")
        changed += 1
    return changed


def flying(conn: Connection) -> list[tuple[Operation, list[str]]]:
    """Activated and nonconforming operations with their aircraft."""
    rows = conn.execute(
        select(operations).where(
            operations.c.state.in_(
                (OperationState.ACTIVATED.value, OperationState.NONCONFORMING.value)
            )
        )
    ).all()
    return [(_load(r), json.loads(r.aircraft_json)) for r in rows]


def set_conformance(
    conn: Connection, op_id: str, conforming: bool, now_t_s: float, reason: str
) -> bool:
    """Live detection's verdict: nonconforming while its aircraft are outside."""
    row = _row(conn, op_id)
    if row is None:
        return False
    if conforming and row.state == OperationState.NONCONFORMING.value:
        _set_state(conn, row, OperationState.ACTIVATED, now_t_s, reason)
        return True
    if not conforming and row.state == OperationState.ACTIVATED.value:
        _set_state(conn, row, OperationState.NONCONFORMING, now_t_s, reason)
        return True
    return False


# -- NOTAM ------------------------------------------------------------------------


def notam(conn: Connection, op_id: str) -> str:
    """The NOTAM text of an operation the protocol in effect makes public
    (``[notam] public``), for civil aviation: anyone with a token may read it.

    Raises:
        NotFoundError: if there is no such operation in force, or its kind is not
            public under the protocol in effect (the same answer either way).
    """
    from deconfliction.adapters.notam import NotamSettings, operation_notam

    row = _row(conn, op_id)
    effective = protocols.in_effect(conn)
    if row is None or effective is None or row.state not in IN_FORCE:
        raise NotFoundError(f"operation {op_id}")
    rules = effective.protocol.notam
    if row.kind not in rules.public_kinds or not rules.fir:
        raise NotFoundError(f"public operation {op_id}")
    op = _load(row)
    outlines: list[list[tuple[float, float]]] = []
    for v in op.volumes:
        outline = v.volume.outline
        if not isinstance(outline, Polygon):
            outlines = []
            break
        outlines.append(
            list(zip(outline.vertices_lat_deg, outline.vertices_lon_deg, strict=True))
        )
    party = effective.protocol.parties.get(row.party_id)
    return operation_notam(
        _notice_facts(op, ()),
        NotamSettings(rules.fir, rules.location, rules.q_code, rules.series),
        number=int(row.pk),
        party_name=party.name if party is not None else row.party_id,
        outlines=outlines,
    )


# -- operations of a peer's node (federation, issue 16 item 6) -------------------------


def keep_peer_operation(
    conn: Connection, op: Operation, state: OperationState, now_t_s: float
) -> bool:
    """Keep another node's operation (its party's own, as that node sent it) and
    check it against this node's operations, as a filing here would be: its
    conflicts with this node's party are recorded with it and published to the
    parties concerned. A version not newer than the one kept changes nothing
    (the link may send an item twice); returns whether it was kept.

    Raises:
        ConflictError: no protocol is in effect.
        ForbiddenError: the id is taken by an operation of another party.
    """
    protocol = _protocol(conn, op.party)
    row = _row(conn, op.id)
    if row is not None and row.party_id != op.party:
        raise ForbiddenError(f"operation id {op.id!r} is another party's")
    if row is not None and row.version >= op.version:
        return False
    conflicted, check = _check(conn, op, protocol)
    values = {
        "kind": op.kind,
        "version": op.version,
        "ovn": op.ovn,
        "state": state.value,
        "conflicted": int(conflicted),
        "body_json": json.dumps(operation_to_json(op)),
        "check_json": json.dumps(check),
        "time_start_t_s": op.time_start_t_s,
        "time_end_t_s": op.time_end_t_s,
        "updated_t_s": now_t_s,
    }
    if row is None:
        pk = inserted_pk(
            conn.execute(
                insert(operations).values(
                    id=op.id,
                    party_id=op.party,
                    short_notice=0,
                    aircraft_json="[]",
                    filed_t_s=now_t_s,
                    **values,
                )
            )
        )
        event = "operation.filed"
    else:
        pk = row.pk
        conn.execute(update(operations).where(operations.c.pk == pk).values(**values))
        event = "operation.updated"
    _index(conn, pk, op)
    _publish(conn, op.id, event, now_t_s)
    return True
