"""The hotline: acknowledged messages between duty officers, on a signed record.

Rules (documented in the README):

* A message goes from one party to another, or to all parties of the protocol in
  effect (``to = "*"``). Each recipient party must acknowledge it explicitly; its
  deadline is set at sending from the protocol's ``hotline.ack_deadline_s`` for the
  message's priority.
* A message not acknowledged by its deadline escalates once: an ``escalated`` event
  to both sides, and it shows as overdue until acknowledged.
* Where the protocol sets ``daily_checkin_utc``, every party must send a
  ``daily_checkin`` in the 24 hours before that time each day; a missed check-in is an
  event to all parties.
* Templated kinds are stored as facts and rendered in any language on reading; free
  text stays as written.
* Suspension: a party may suspend the ``channel`` or the whole ``protocol`` and later
  resume it. While the channel is suspended, no message can be sent (acknowledging
  is still possible), deadlines stand still and no check-in is due; on resumption the
  deadlines of unacknowledged messages move on by the time the channel was suspended.
  While the protocol is suspended, tactical detection and alerts go on (safety of
  flight is never suspended) but line and zone violations are not recorded as
  incidents, since the lines and zones are not binding.
* Every hotline event (sent, delivered, acknowledged, escalated, missed check-in,
  suspended, resumed) is appended to the signed hash chain (``hotline.record``) in the
  transaction that makes it, and its hash goes out with the stream event, so each
  party keeps its own copy of the chain's hashes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, text, update

from deconfliction.domain.protocol import Protocol
from deconfliction.errors import (
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    Problem,
)
from deconfliction.hotline import templates
from deconfliction.service import alerts, events, incidents, protocols
from deconfliction.service.auth import Principal
from deconfliction.service.hotline_messages import ALL_PARTIES as ALL_PARTIES
from deconfliction.service.hotline_messages import DAY_S as DAY_S
from deconfliction.service.hotline_messages import MAX_TEXT_CHARS as MAX_TEXT_CHARS
from deconfliction.service.hotline_messages import NONCE_BYTES as NONCE_BYTES
from deconfliction.service.hotline_messages import MessageKind as MessageKind
from deconfliction.service.hotline_messages import Outgoing as Outgoing
from deconfliction.service.hotline_messages import Priority as Priority
from deconfliction.service.hotline_messages import SuspensionScope as SuspensionScope
from deconfliction.service.hotline_messages import (
    _audience,
    _covers,
    _party_language,
    _protocol,
    _publish,
    _render,
    _view,
    _visible_row,
    channel_holds,
)
from deconfliction.service.hotline_messages import (
    active_suspensions as active_suspensions,
)
from deconfliction.service.hotline_messages import append_record as append_record
from deconfliction.service.hotline_messages import (
    channel_suspended as channel_suspended,
)
from deconfliction.service.hotline_messages import log_entries as log_entries
from deconfliction.service.hotline_messages import log_page as log_page
from deconfliction.service.hotline_messages import (
    protocol_suspended as protocol_suspended,
)
from deconfliction.service.keys import SERVER_SIGNER, KeyRing
from deconfliction.store.engine import inserted_pk, random_id
from deconfliction.store.tables import (
    hotline_checkins_missed,
    hotline_log,
    hotline_messages,
    hotline_receipts,
    hotline_suspensions,
)

# -- sending and acknowledging -------------------------------------------------------


def send(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    message: Outgoing,
    now_t_s: float,
    sender_label: str = "",
) -> dict[str, Any]:
    """Send a message; returns it as the sender sees it.

    Raises:
        ForbiddenError: for an observer.
        ConflictError: if no protocol is in effect or the channel is suspended.
        InputError: for missing or bad facts, an unknown recipient, a bad reference.
    """
    if not who.can_write:
        raise ForbiddenError("observers cannot send hotline messages")
    _protocol(conn, who.party_id)  # the sender is party to an agreement
    under = _recipients(conn, who, message.to)
    # Suspended by a party of an agreement it goes under (a suspension covers the
    # agreements of the party that made it, not the others in effect).
    if any(
        channel_suspended(conn, v.protocol.parties, v.protocol.id)
        for v in under.values()
    ):
        # Not who suspended it: the parties read that in the suspensions they
        # may see (GET /v1/hotline/suspensions), not in an error.
        raise ConflictError("the hotline channel is suspended")
    recipients = list(under)
    lang = message.lang or _party_language(conn, who.party_id)
    if lang not in templates.LANGUAGES:
        raise InputError(
            [Problem("message", None, "lang", f"unknown language {lang!r}")]
        )
    text_ = message.text.strip()
    _check_content(conn, who, message, lang, text_, recipients)
    # Each recipient under the agreement binding it and the sender: its rules.
    deadlines_s = {
        p: v.protocol.hotline.ack_deadline_s.get(message.priority.value)
        for p, v in under.items()
    }
    if any(d is None for d in deadlines_s.values()):
        raise InputError(
            [
                Problem(
                    "message", None, "priority", f"no deadline for {message.priority}"
                )
            ]
        )
    deadline_s = max(d for d in deadlines_s.values() if d is not None)
    message_id = inserted_pk(
        conn.execute(
            insert(hotline_messages).values(
                id=random_id(conn, hotline_messages),
                sender_party=who.party_id,
                sender_label=sender_label,
                recipient=message.to,
                kind=message.kind.value,
                priority=message.priority.value,
                lang=lang,
                facts_json=json.dumps(message.facts, sort_keys=True),
                text=text_,
                incident_id=message.incident_id,
                alert_id=message.alert_id,
                operation_id=message.operation_id,
                reply_to=message.reply_to,
                sent_t_s=now_t_s,
            )
        )
    )
    conn.execute(
        insert(hotline_receipts),
        [
            {
                "message_id": message_id,
                "party_id": p,
                "deadline_t_s": now_t_s + (deadlines_s[p] or deadline_s),
            }
            for p in recipients
        ],
    )
    row = conn.execute(
        select(hotline_messages).where(hotline_messages.c.id == message_id)
    ).one()
    original = _render(row, lang)
    entry = append_record(
        conn,
        keys,
        "sent",
        who.party_id,
        {
            "message_id": message_id,
            "from": who.party_id,
            "to": message.to,
            "recipients": recipients,
            # Which agreement each recipient got it under.
            "agreements": {
                p: f"{v.protocol.id} v{v.protocol.version}" for p, v in under.items()
            },
            "kind": message.kind.value,
            "priority": message.priority.value,
            "lang": lang,
            "facts": message.facts,
            **({"rendered": original.as_json()} if original else {"text": text_}),
            "remarks": text_ if original else "",
            "deadline_t_s": now_t_s + deadline_s,
            "incident_id": message.incident_id,
            "reply_to": message.reply_to,
            "alert_id": message.alert_id,
            "operation_id": message.operation_id,
            "sender_label": sender_label,
        },
        now_t_s,
        [who.party_id, *recipients],
    )
    _publish(conn, "hotline.sent", row, _audience(conn, row), entry, now_t_s)
    if (
        message.kind is MessageKind.VIOLATION_COMPLAINT
        and message.incident_id is not None
    ):
        incidents.advance_status(
            conn,
            message.incident_id,
            incidents.IncidentStatus.REPORTED,
            now_t_s,
            protocols.current_sharing(conn),
        )
    return _view(conn, row, who.party_id, lang, now_t_s)


def _recipients(
    conn: Connection, who: Principal, to: str
) -> dict[str, protocols.ProtocolVersion]:
    """The parties a message to ``to`` goes to, each with the agreement binding it
    and the sender: one other party, or (a broadcast) every party of each of the
    sender's agreements.

    Raises:
        InputError: ``to`` is no other party of an agreement of the sender (the
            same whether such a party exists or not).
    """
    if to == ALL_PARTIES:
        return {
            p: v
            for v in reversed(protocols.agreements_of(conn, who.party_id))
            for p in v.protocol.parties
            if p != who.party_id
        }
    binding = protocols.agreement_between(conn, who.party_id, to)
    if binding is not None and to != who.party_id:
        return {to: binding}
    raise InputError(
        [
            Problem(
                "message",
                None,
                "to",
                f"no other party {to!r} in the protocol",
            )
        ]
    )


def _check_content(
    conn: Connection,
    who: Principal,
    message: Outgoing,
    lang: str,
    text_: str,
    recipients: list[str],
) -> None:
    """Check a message's text, facts and what it refers to, before it is stored.

    Raises:
        InputError: text too long or missing, bad facts, a bad reference.
    """
    if len(text_) > MAX_TEXT_CHARS:
        raise InputError([Problem("message", None, "text", "too long")])
    if message.kind is MessageKind.FREE_TEXT:
        if not text_:
            raise InputError(
                [Problem("message", None, "text", "free text needs a text")]
            )
    else:
        templates.render(message.kind.value, message.facts, lang)  # validates the facts
    if message.reply_to is not None:
        _visible_row(conn, who, message.reply_to)
    if message.incident_id is not None:
        incidents.get_visible(
            conn, who, message.incident_id, protocols.current_sharing(conn)
        )
    if message.alert_id is not None:
        _visible_alert(conn, who, message.alert_id, "alert_id")
    if message.operation_id is not None:
        _visible_operation(conn, who, message.operation_id)
    if message.kind in _MANOEUVRE_KINDS:
        _check_manoeuvre(conn, who, message, recipients)


_MANOEUVRE_KINDS = (MessageKind.MANOEUVRE_INTENTION, MessageKind.REQUEST_FOR_MANOEUVRE)


def _visible_alert(
    conn: Connection, who: Principal, alert_id: Any, field: str
) -> dict[str, Any]:
    """The alert ``alert_id`` as the sender sees it.

    Raises:
        InputError: the same error, naming only ``field``, whether the alert is
            missing or hidden from the sender: a message cannot probe alert ids.
    """
    try:
        return alerts.get_visible(
            conn, who, str(alert_id), protocols.current_sharing(conn)
        )
    except NotFoundError:
        raise InputError(
            [Problem("message", None, field, "no alert you may see")]
        ) from None


def _visible_operation(conn: Connection, who: Principal, op_id: str) -> None:
    """The operation ``op_id`` is one the sender may see (its own, or one its
    agreements show it).

    Raises:
        InputError: the same error, naming only ``operation_id``, whether the
            operation is missing or hidden from the sender: a message cannot probe
            operation ids.
    """
    from deconfliction.service import planning  # planning's notices send messages

    try:
        planning.get_visible(conn, who, str(op_id))
    except NotFoundError:
        raise InputError(
            [Problem("message", None, "operation_id", "no operation you may see")]
        ) from None


def _check_manoeuvre(
    conn: Connection, who: Principal, message: Outgoing, recipients: list[str]
) -> None:
    """A manoeuvre message refers to an alert the sender sees (#14, #17.5). An
    intention announces a manoeuvre of one of the sender's own aircraft in that
    alert; a request names no aircraft, or the addressee's aircraft in that alert
    as the sender sees it at its sharing level (below ``full`` the other side's id
    is not shown, so none may be named). The errors depend only on what the
    sender sees: they tell nothing of aircraft or alerts hidden from it.

    Raises:
        InputError: otherwise.
    """
    facts = message.facts
    alert = _visible_alert(conn, who, facts["alert_id"], "facts.alert_id")
    if message.alert_id is not None and message.alert_id != facts["alert_id"]:
        raise InputError(
            [Problem("message", None, "alert_id", "not the alert of the facts")]
        )
    aircraft_id = facts.get("aircraft_id")
    if aircraft_id is None:
        return  # a request may leave the aircraft out (an intention may not)
    sides = alert["aircraft"]
    if message.kind is MessageKind.MANOEUVRE_INTENTION:
        ok = any(
            s["party"] == who.party_id and s.get("id") == aircraft_id for s in sides
        )
        why = "not an aircraft of yours in the alert"
    else:
        ok = any(
            s["party"] != who.party_id
            and s["party"] in recipients
            and s.get("id") == aircraft_id
            for s in sides
        )
        why = "not an aircraft of the addressee in the alert as you see it"
    if not ok:
        raise InputError([Problem("message", None, "facts.aircraft_id", why)])


def acknowledge(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    message_id: int,
    now_t_s: float,
    by_label: str = "",
) -> dict[str, Any]:
    """Acknowledge a message sent to the caller's party (idempotent).

    Raises:
        NotFoundError: if it was not sent to the caller's party.
        ForbiddenError: for an observer.
    """
    row = _visible_row(conn, who, message_id)
    receipt = conn.execute(
        select(hotline_receipts).where(
            hotline_receipts.c.message_id == message_id,
            hotline_receipts.c.party_id == who.party_id,
        )
    ).first()
    if receipt is None:
        raise NotFoundError(f"message {message_id} to {who.party_id}")
    if not who.can_write:
        raise ForbiddenError("observers cannot acknowledge messages")
    if receipt.acknowledged_t_s is not None:
        return _view(conn, row, who.party_id, None, now_t_s)
    by = by_label or f"{who.party_id} {who.role.value}"
    # Compare-and-set: of simultaneous acknowledgements only the one that finds the
    # receipt still open writes it and its entry (PostgreSQL re-reads the row after
    # the first commits; SQLite serialises the writers).
    changed = conn.execute(
        update(hotline_receipts)
        .where(
            hotline_receipts.c.message_id == message_id,
            hotline_receipts.c.party_id == who.party_id,
            hotline_receipts.c.acknowledged_t_s.is_(None),
        )
        .values(
            acknowledged_t_s=now_t_s,
            acknowledged_by=by,
            delivered_t_s=func.coalesce(hotline_receipts.c.delivered_t_s, now_t_s),
        )
    ).rowcount
    if changed == 0:
        return _view(conn, row, who.party_id, None, now_t_s)
    entry = append_record(
        conn,
        keys,
        "acknowledged",
        who.party_id,
        {
            "message_id": message_id,
            "party": who.party_id,
            "by": by,
            "late": now_t_s > receipt.deadline_t_s,
        },
        now_t_s,
        [row.sender_party, who.party_id],
    )
    # To the sender and the acknowledging party only, as the entry's audience: the
    # other recipients of a message to all parties learn nothing of who else
    # acknowledged it, when, or by which officer.
    _publish(
        conn,
        "hotline.acknowledged",
        row,
        {row.sender_party, who.party_id},
        entry,
        now_t_s,
        {"by": who.party_id},
    )
    if (
        row.kind == MessageKind.VIOLATION_COMPLAINT.value
        and row.incident_id is not None
    ):
        incidents.advance_status(
            conn,
            int(row.incident_id),
            incidents.IncidentStatus.ACKNOWLEDGED,
            now_t_s,
            protocols.current_sharing(conn),
        )
    return _view(conn, row, who.party_id, None, now_t_s)


def mark_delivered(
    conn: Connection,
    keys: KeyRing,
    party_id: str,
    message_ids: list[int],
    now_t_s: float,
) -> None:
    """Record that messages reached the party (first time only)."""
    if not message_ids:
        return
    pending = (
        conn.execute(
            select(hotline_receipts.c.message_id).where(
                hotline_receipts.c.party_id == party_id,
                hotline_receipts.c.message_id.in_(message_ids),
                hotline_receipts.c.delivered_t_s.is_(None),
            )
        )
        .scalars()
        .all()
    )
    for message_id in sorted(pending):
        changed = conn.execute(
            update(hotline_receipts)
            .where(
                hotline_receipts.c.message_id == message_id,
                hotline_receipts.c.party_id == party_id,
                hotline_receipts.c.delivered_t_s.is_(None),
            )
            .values(delivered_t_s=now_t_s)
        ).rowcount
        if changed == 0:
            continue  # a simultaneous reading recorded it first
        row = conn.execute(
            select(hotline_messages).where(hotline_messages.c.id == message_id)
        ).one()
        entry = append_record(
            conn,
            keys,
            "delivered",
            SERVER_SIGNER,
            {"message_id": int(message_id), "party": party_id},
            now_t_s,
            [row.sender_party, party_id],
        )
        _publish(
            conn, "hotline.delivered", row, {row.sender_party, party_id}, entry, now_t_s
        )


def list_messages(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    now_t_s: float,
    lang: str | None = None,
    box: str = "all",
    overdue_only: bool = False,
    since_t_s: float | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Messages sent by or to the caller's party, newest first; reading them marks
    those sent to the party as delivered."""
    inbox = hotline_messages.c.id.in_(
        select(hotline_receipts.c.message_id).where(
            hotline_receipts.c.party_id == who.party_id
        )
    )
    outbox = hotline_messages.c.sender_party == who.party_id
    where = {"in": inbox, "out": outbox}.get(box, or_(inbox, outbox))
    query = select(hotline_messages).where(where)
    if since_t_s is not None:
        query = query.where(hotline_messages.c.sent_t_s >= since_t_s)
    rows = conn.execute(
        query.order_by(
            hotline_messages.c.sent_t_s.desc(), hotline_messages.c.id.desc()
        ).limit(limit)
    ).all()
    received = [int(r.id) for r in rows if r.sender_party != who.party_id]
    mark_delivered(conn, keys, who.party_id, received, now_t_s)
    views = [_view(conn, r, who.party_id, lang, now_t_s) for r in rows]
    return [v for v in views if v["overdue"]] if overdue_only else views


def get_message(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    message_id: int,
    now_t_s: float,
    lang: str | None = None,
) -> dict[str, Any]:
    """One message as the caller may see it.

    Raises:
        NotFoundError: if it was neither sent by nor to the caller's party.
    """
    row = _visible_row(conn, who, message_id)
    if row.sender_party != who.party_id:
        mark_delivered(conn, keys, who.party_id, [message_id], now_t_s)
    return _view(conn, row, who.party_id, lang, now_t_s)


# -- from an incident to a complaint --------------------------------------------------


def complaint_from_incident(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    incident_id: int,
    priority: Priority,
    now_t_s: float,
    remarks: str = "",
) -> dict[str, Any]:
    """Send a violation complaint to the offending party, filled from the evidence.

    Raises:
        NotFoundError: if the caller may not see the incident.
        InputError: if the incident is the caller's own, or not a violation.
    """
    sharing = protocols.current_sharing(conn)
    incident = incidents.get_visible(conn, who, incident_id, sharing)
    if incident["party_id"] == who.party_id:
        raise InputError(
            [
                Problem(
                    "incident",
                    None,
                    "party_id",
                    "a party does not complain about itself",
                )
            ]
        )
    if incident["kind"] not in ("line_violation", "zone_incursion"):
        raise InputError(
            [
                Problem(
                    "incident",
                    None,
                    "kind",
                    "complaints are about line or zone violations",
                )
            ]
        )
    # The agreement binding the complainant and the offender (whose line it is).
    binding = protocols.agreement_between(conn, who.party_id, incident["party_id"])
    protocol = binding.protocol if binding else _protocol(conn, who.party_id)
    boundary = incident["boundary_id"]
    names = {ln.id: ln.name for ln in protocol.lines} | {
        z.id: z.name for z in protocol.zones
    }
    side = incident["aircraft"][0]
    point = side.get("point") or {}
    end_t_s = incident["end_t_s"]
    facts: dict[str, Any] = {
        "incident_id": incident_id,
        "offending_party": incident["party_id"],
        "boundary_kind": "line" if incident["kind"] == "line_violation" else "zone",
        "boundary_id": boundary,
        "boundary_name": names.get(boundary, boundary),
        "entry_t_s": incident["start_t_s"],
        "exit_t_s": end_t_s,
        "duration_s": (end_t_s - incident["start_t_s"])
        if end_t_s is not None
        else None,
        "lat_deg": point.get("lat_deg"),
        "lon_deg": point.get("lon_deg"),
        "alt_ft": point.get("alt_ft"),
        "aircraft_id": side.get("id"),
        **_depth_facts(incident, protocol),
    }
    facts = {k: v for k, v in facts.items() if v is not None}
    return send(
        conn,
        keys,
        who,
        Outgoing(
            to=incident["party_id"],
            kind=MessageKind.VIOLATION_COMPLAINT,
            priority=priority,
            facts=facts,
            text=remarks,
            incident_id=incident_id,
        ),
        now_t_s,
    )


def _depth_facts(incident: dict[str, Any], protocol: Protocol) -> dict[str, Any]:
    """The depths a complaint states: across the line and from its buffer's edge
    (with the buffer), or inside the zone; an incident recorded before they were
    named gives its one depth as it was then."""
    if incident.get("depth_inside_zone_nm") is not None:
        return {"depth_inside_zone_nm": incident["depth_inside_zone_nm"]}
    line = next((ln for ln in protocol.lines if ln.id == incident["boundary_id"]), None)
    if incident.get("depth_across_line_nm") is not None and line is not None:
        return {
            "depth_across_line_nm": incident["depth_across_line_nm"],
            "depth_from_buffer_edge_nm": incident["depth_from_buffer_edge_nm"],
            "buffer_nm": line.buffer_nm,
        }
    return {"depth_nm": incident["severity_nm"]}


# -- deadlines, check-ins, suspension --------------------------------------------------


def escalate_due(conn: Connection, keys: KeyRing, now_t_s: float) -> int:
    """Escalate every receipt past its deadline and not acknowledged (once each),
    but those the channel's suspension holds (per agreement)."""
    held = channel_holds(conn)
    due = conn.execute(
        select(hotline_receipts, hotline_messages.c.sender_party)
        .join(hotline_messages, hotline_messages.c.id == hotline_receipts.c.message_id)
        .where(
            hotline_receipts.c.acknowledged_t_s.is_(None),
            hotline_receipts.c.escalated_t_s.is_(None),
            hotline_receipts.c.deadline_t_s < now_t_s,
        )
        .order_by(hotline_receipts.c.deadline_t_s, hotline_receipts.c.message_id)
    ).all()
    escalated = 0
    for receipt in due:
        if held(receipt.sender_party, receipt.party_id):
            continue
        changed = conn.execute(
            update(hotline_receipts)
            .where(
                hotline_receipts.c.message_id == receipt.message_id,
                hotline_receipts.c.party_id == receipt.party_id,
                hotline_receipts.c.acknowledged_t_s.is_(None),
                hotline_receipts.c.escalated_t_s.is_(None),
            )
            .values(escalated_t_s=now_t_s)
        ).rowcount
        if changed == 0:
            continue  # acknowledged or escalated meanwhile
        escalated += 1
        row = conn.execute(
            select(hotline_messages).where(hotline_messages.c.id == receipt.message_id)
        ).one()
        entry = append_record(
            conn,
            keys,
            "escalated",
            SERVER_SIGNER,
            {
                "message_id": int(receipt.message_id),
                "party": receipt.party_id,
                "deadline_t_s": receipt.deadline_t_s,
                "priority": row.priority,
            },
            now_t_s,
            [row.sender_party, receipt.party_id],
        )
        _publish(
            conn,
            "hotline.escalated",
            row,
            {row.sender_party, receipt.party_id},
            entry,
            now_t_s,
            {"overdue_party": receipt.party_id},
        )
    return escalated


def _due_checkin_t_s(protocol: Protocol, now_t_s: float) -> tuple[str, float] | None:
    """The latest check-in due time not after ``now_t_s``, with its UTC day."""
    hhmm = protocol.hotline.daily_checkin_utc
    if not hhmm:
        return None
    hours, minutes = (int(v) for v in hhmm.split(":"))
    now = datetime.fromtimestamp(now_t_s, tz=UTC)
    due = now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if due > now:
        due -= timedelta(days=1)
    return due.strftime("%Y-%m-%d"), due.timestamp()


def check_missed_checkins(conn: Connection, keys: KeyRing, now_t_s: float) -> int:
    """Record each party that has not checked in by today's due time (once a day),
    under each agreement in effect (its check-in time, its parties told) whose
    channel is not suspended."""
    return sum(
        _missed_checkins(conn, keys, effective, now_t_s)
        for effective in protocols.agreements_in_effect(conn)
        if not channel_suspended(
            conn, effective.protocol.parties, effective.protocol.id
        )
    )


def _missed_checkins(
    conn: Connection,
    keys: KeyRing,
    effective: protocols.ProtocolVersion,
    now_t_s: float,
) -> int:
    if effective.effective_t_s is None:
        return 0
    due = _due_checkin_t_s(effective.protocol, now_t_s)
    if due is None:
        return 0
    day, due_t_s = due
    if due_t_s < effective.effective_t_s:
        return 0  # nothing was due before the protocol took effect
    missed = 0
    for party in effective.protocol.parties:
        done = conn.execute(
            select(hotline_checkins_missed.c.day).where(
                hotline_checkins_missed.c.party_id == party,
                hotline_checkins_missed.c.day == day,
            )
        ).first()
        if done is not None:
            continue
        sent = conn.execute(
            select(func.count())
            .select_from(hotline_messages)
            .where(
                hotline_messages.c.sender_party == party,
                hotline_messages.c.kind == MessageKind.DAILY_CHECKIN.value,
                hotline_messages.c.sent_t_s > due_t_s - DAY_S,
                hotline_messages.c.sent_t_s <= due_t_s,
            )
        ).scalar_one()
        if sent:
            continue
        conn.execute(
            insert(hotline_checkins_missed).values(party_id=party, day=day, t_s=now_t_s)
        )
        entry = append_record(
            conn,
            keys,
            "checkin_missed",
            SERVER_SIGNER,
            {"party": party, "day": day, "due_t_s": due_t_s},
            now_t_s,
            effective.protocol.parties,
        )
        payload = {
            "party": party,
            "day": day,
            "due_t_s": due_t_s,
            "record": {"seq": entry.seq, "hash": entry.hash},
        }
        events.publish(
            conn,
            "hotline.checkin_missed",
            dict.fromkeys(effective.protocol.parties, payload),
            now_t_s,
        )
        missed += 1
    return missed


def suspend(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    scope: SuspensionScope,
    reason: str,
    now_t_s: float,
    protocol_id: str | None = None,
) -> dict[str, Any]:
    """Suspend the channel or the protocol for the caller's party: under the
    agreement ``protocol_id`` only, or (None) every agreement naming it.

    Raises:
        ForbiddenError: for an observer, or a party not in the protocol.
        ConflictError: if the party already has that suspension in force.
        InputError: ``protocol_id`` is no agreement in effect naming the party
            (the same whether such a protocol exists or not).
    """
    if not who.can_write:
        raise ForbiddenError("observers cannot suspend")
    _protocol(conn, who.party_id)  # the party is in an agreement
    covered = [v.protocol for v in protocols.agreements_of(conn, who.party_id)]
    if protocol_id is not None:
        covered = [p for p in covered if p.id == protocol_id]
        if not covered:
            raise InputError(
                [Problem("suspension", None, "protocol_id", "no agreement of yours")]
            )
    # Told to the parties of every agreement it covers.
    told = list(dict.fromkeys(p for a in covered for p in a.parties))
    if conn.dialect.name == "postgresql":
        # one suspender at a time, so that the check below sees the others' rows
        conn.execute(text("LOCK TABLE hotline_suspensions IN SHARE ROW EXCLUSIVE MODE"))

    def same(s: Any) -> bool:  # the party's, over the same agreement(s)
        return s.party_id == who.party_id and (
            s.protocol_id is None or protocol_id is None or s.protocol_id == protocol_id
        )

    current = [s for s in active_suspensions(conn, scope) if same(s)]
    if current:
        raise ConflictError(f"{who.party_id} already suspended the {scope.value}")
    sid = inserted_pk(
        conn.execute(
            insert(hotline_suspensions).values(
                id=random_id(conn, hotline_suspensions),
                party_id=who.party_id,
                scope=scope.value,
                reason=reason,
                start_t_s=now_t_s,
                protocol_id=protocol_id,
            )
        )
    )
    # SQLite reads before the first write outside the write lock: checked again
    # now that this transaction holds it (the transaction is then rolled back).
    earlier = [s for s in active_suspensions(conn, scope) if same(s) and s.id != sid]
    if earlier:
        raise ConflictError(f"{who.party_id} already suspended the {scope.value}")
    entry = append_record(
        conn,
        keys,
        "suspended",
        who.party_id,
        {
            "suspension_id": sid,
            "party": who.party_id,
            "scope": scope.value,
            "reason": reason,
            **({"protocol_id": protocol_id} if protocol_id is not None else {}),
        },
        now_t_s,
        told,
    )
    out = _suspension_view(conn, sid)
    events.publish(
        conn,
        "hotline.suspended",
        {p: {**out, "record": {"seq": entry.seq, "hash": entry.hash}} for p in told},
        now_t_s,
    )
    return out


def resume(
    conn: Connection, keys: KeyRing, who: Principal, suspension_id: int, now_t_s: float
) -> dict[str, Any]:
    """End a suspension the caller's party made.

    Raises:
        NotFoundError: if it is not the caller's party's suspension.
        ConflictError: if it has ended already.
    """
    row = conn.execute(
        select(hotline_suspensions).where(hotline_suspensions.c.id == suspension_id)
    ).first()
    if row is None or row.party_id != who.party_id:
        raise NotFoundError(f"suspension {suspension_id}")
    if not who.can_write:
        raise ForbiddenError("observers cannot resume")
    if row.end_t_s is not None:
        raise ConflictError(f"suspension {suspension_id} has ended")
    ended = conn.execute(  # compare-and-set: of simultaneous resumptions, one
        update(hotline_suspensions)
        .where(
            hotline_suspensions.c.id == suspension_id,
            hotline_suspensions.c.end_t_s.is_(None),
        )
        .values(end_t_s=now_t_s)
    ).rowcount
    if ended == 0:
        raise ConflictError(f"suspension {suspension_id} has ended")
    moved_s: float | None = None
    moved: list[tuple[int, str]] = []
    if row.scope == SuspensionScope.CHANNEL.value:
        # Deadlines stood still while the channel was down: move on those this
        # suspension held and no other holds now (its agreement's messages only).
        moved = _released(conn, row)
    if moved:
        moved_s = now_t_s - row.start_t_s
        for message_id, party in moved:
            conn.execute(
                update(hotline_receipts)
                .where(
                    hotline_receipts.c.message_id == message_id,
                    hotline_receipts.c.party_id == party,
                )
                .values(deadline_t_s=hotline_receipts.c.deadline_t_s + moved_s)
            )
    # Told to those told of the suspension (the parties of its agreement).
    audience = _suspension_audiences(conn).get(suspension_id) or set(
        _protocol(conn, who.party_id).parties
    )
    entry = append_record(
        conn,
        keys,
        "resumed",
        who.party_id,
        {
            "suspension_id": suspension_id,
            "party": who.party_id,
            "scope": row.scope,
            # the open deadlines moved on by this much (None: not moved)
            "deadlines_moved_s": moved_s,
            # which: [message id, recipient] (others' agreements' stay)
            "deadlines_moved_for": [[m, p] for m, p in moved],
        },
        now_t_s,
        audience,
    )
    out = _suspension_view(conn, suspension_id)
    events.publish(
        conn,
        "hotline.resumed",
        {
            p: {**out, "record": {"seq": entry.seq, "hash": entry.hash}}
            for p in audience
        },
        now_t_s,
    )
    return out


def _released(conn: Connection, suspension: Any) -> list[tuple[int, str]]:
    """The open receipts the ended channel ``suspension`` held and no other
    suspension holds now: of messages between the parties of an agreement it
    covered."""
    held = channel_holds(conn)
    agreements = [v.protocol for v in protocols.agreements_in_effect(conn)]
    rows = conn.execute(
        select(
            hotline_receipts.c.message_id,
            hotline_receipts.c.party_id,
            hotline_messages.c.sender_party,
        )
        .join(hotline_messages, hotline_messages.c.id == hotline_receipts.c.message_id)
        .where(
            hotline_receipts.c.acknowledged_t_s.is_(None),
            hotline_receipts.c.escalated_t_s.is_(None),
        )
        .order_by(hotline_receipts.c.message_id, hotline_receipts.c.party_id)
    ).all()

    def covered(sender: str, recipient: str) -> bool:
        binding = next(
            (p for p in agreements if sender in p.parties and recipient in p.parties),
            None,
        )
        if binding is None:
            return suspension.party_id in (sender, recipient)
        return _covers(suspension, binding.parties, binding.id)

    return [
        (int(r.message_id), r.party_id)
        for r in rows
        if covered(r.sender_party, r.party_id) and not held(r.sender_party, r.party_id)
    ]


def _suspension_view(conn: Connection, suspension_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(hotline_suspensions).where(hotline_suspensions.c.id == suspension_id)
    ).one()
    return {
        "id": int(row.id),
        "party": row.party_id,
        "scope": row.scope,
        "reason": row.reason,
        "start_t_s": row.start_t_s,
        "end_t_s": row.end_t_s,
        "active": row.end_t_s is None,
        "protocol_id": row.protocol_id,
    }


def _suspension_audiences(conn: Connection) -> dict[int, set[str]]:
    """The parties each suspension was made known to: the audience of its signed
    ``suspended`` entry (the parties of the protocol in effect then)."""
    rows = conn.execute(
        select(hotline_log.c.body_json).where(hotline_log.c.event == "suspended")
    ).scalars()
    out: dict[int, set[str]] = {}
    for body_json in rows:
        body = json.loads(body_json)
        out[int(body["suspension_id"])] = set(body.get("audience", ()))
    return out


def list_suspensions(conn: Connection, who: Principal) -> list[dict[str, Any]]:
    """The suspensions the caller's party may see, newest first: its own, and those
    made known to it on the record (it was a party of the protocol then). Another
    party's suspension, and its reason, are nobody else's business."""
    audiences = _suspension_audiences(conn)
    rows = conn.execute(
        select(hotline_suspensions.c.id, hotline_suspensions.c.party_id).order_by(
            hotline_suspensions.c.start_t_s.desc(), hotline_suspensions.c.id.desc()
        )
    ).all()
    return [
        _suspension_view(conn, int(r.id))
        for r in rows
        if r.party_id == who.party_id or who.party_id in audiences.get(int(r.id), ())
    ]


def tick(conn: Connection, keys: KeyRing, now_t_s: float) -> int:
    """The hotline's periodic work: escalations and missed check-ins."""
    return escalate_due(conn, keys, now_t_s) + check_missed_checkins(
        conn, keys, now_t_s
    )


__all__ = [
    "ALL_PARTIES",
    "MessageKind",
    "Outgoing",
    "Priority",
    "SuspensionScope",
    "acknowledge",
    "active_suspensions",
    "append_record",
    "channel_suspended",
    "check_missed_checkins",
    "complaint_from_incident",
    "escalate_due",
    "get_message",
    "list_messages",
    "list_suspensions",
    "log_entries",
    "mark_delivered",
    "protocol_suspended",
    "resume",
    "send",
    "suspend",
    "tick",
]
