"""What a hotline message is, its entry on the signed record, and how it is shown.

The ground floor of :mod:`deconfliction.service.hotline`: the kinds, priorities and
the outgoing form of a message; appending to the record (``hotline.record``) and
reading it; the suspensions in force; a message as a party sees it (rendered,
with its signed entry) and who may see it. Re-exported by the hotline service.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import Connection, insert, select, text

from deconfliction.domain.protocol import Protocol
from deconfliction.errors import (
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
)
from deconfliction.hotline import record, templates
from deconfliction.service import events, protocols
from deconfliction.service.auth import Principal
from deconfliction.service.keys import KeyRing, public_keys
from deconfliction.store.tables import (
    hotline_log,
    hotline_messages,
    hotline_receipts,
    hotline_suspensions,
    parties,
)
from deconfliction.timetext import rfc3339_ms

ALL_PARTIES: str = "*"
MAX_TEXT_CHARS: int = 8000
DAY_S: float = 86_400.0
NONCE_BYTES: int = 16  # 128 bits: no guess of an entry's content can be confirmed


class MessageKind(StrEnum):
    """What a message is."""

    NOTICE_OF_OPERATION = "notice_of_operation"
    VIOLATION_COMPLAINT = "violation_complaint"
    REQUEST_FOR_INFORMATION = "request_for_information"
    REPLY = "reply"
    DAILY_CHECKIN = "daily_checkin"
    REQUEST_FOR_MANOEUVRE = "request_for_manoeuvre"
    MANOEUVRE_INTENTION = "manoeuvre_intention"
    FREE_TEXT = "free_text"


class Priority(StrEnum):
    """How fast an acknowledgement is due."""

    ROUTINE = "routine"
    URGENT = "urgent"
    FLASH = "flash"


class SuspensionScope(StrEnum):
    """What a suspension stops."""

    CHANNEL = "channel"
    PROTOCOL = "protocol"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message as a duty officer writes it."""

    to: str
    kind: MessageKind
    priority: Priority
    facts: dict[str, Any]
    text: str = ""
    lang: str | None = None
    incident_id: int | None = None
    alert_id: str | None = None
    operation_id: str | None = None
    reply_to: int | None = None


# -- the record --------------------------------------------------------------------


def _last_entry(conn: Connection) -> record.LogEntry | None:
    row = conn.execute(
        select(hotline_log).order_by(hotline_log.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else _entry(row)


def _entry(row: Any) -> record.LogEntry:
    return record.LogEntry(
        seq=int(row.seq),
        t_s=row.t_s,
        event=row.event,
        signer=row.signer,
        body=json.loads(row.body_json),
        prev_hash=row.prev_hash,
        hash=row.hash,
        signature=row.signature,
    )


def append_record(
    conn: Connection,
    keys: KeyRing,
    event: str,
    signer: str,
    body: dict[str, Any],
    now_t_s: float,
    audience: Iterable[str],
) -> record.LogEntry:
    """Append one signed entry to the chain (serialised across writers).

    The body gains ``audience``, the parties who may read the entry in full on
    ``GET /v1/hotline/log`` (the others see its seq and hashes only), and a random
    ``nonce``, so that those who see only the hash cannot find the content by
    hashing guesses (a delivery receipt has few possible contents).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE hotline_log IN EXCLUSIVE MODE"))
    previous = _last_entry(conn)
    full_body = {
        **body,
        "audience": sorted(set(audience)),
        "nonce": secrets.token_hex(NONCE_BYTES),
    }
    entry = record.make_entry(
        previous,
        now_t_s,
        event,
        signer,
        full_body,
        keys.private_key(conn, signer, now_t_s),
    )
    conn.execute(
        insert(hotline_log).values(
            seq=entry.seq,
            t_s=entry.t_s,
            event=entry.event,
            signer=entry.signer,
            body_json=record.canonical_json(entry.body).decode("utf-8"),
            prev_hash=entry.prev_hash,
            hash=entry.hash,
            signature=entry.signature,
        )
    )
    return entry


def log_entries(
    conn: Connection, since_t_s: float | None = None, until_t_s: float | None = None
) -> list[record.LogEntry]:
    """Entries of the record in sequence order, optionally within a time window."""
    query = select(hotline_log).order_by(hotline_log.c.seq)
    if since_t_s is not None:
        query = query.where(hotline_log.c.t_s >= since_t_s)
    if until_t_s is not None:
        query = query.where(hotline_log.c.t_s < until_t_s)
    return [_entry(r) for r in conn.execute(query).all()]


def log_page(
    conn: Connection, after_seq: int, limit: int
) -> tuple[list[record.LogEntry], tuple[int, str] | None]:
    """Up to ``limit`` entries after ``after_seq``, and the head (seq, hash)."""
    rows = conn.execute(
        select(hotline_log)
        .where(hotline_log.c.seq > after_seq)
        .order_by(hotline_log.c.seq)
        .limit(limit)
    ).all()
    head = _last_entry(conn)
    return [_entry(r) for r in rows], None if head is None else (head.seq, head.hash)


# -- helpers -----------------------------------------------------------------------


def _party_language(conn: Connection, party_id: str) -> str:
    lang = conn.execute(
        select(parties.c.language).where(parties.c.id == party_id)
    ).scalar()
    return lang if lang in templates.LANGUAGES else "en"


def _protocol(conn: Connection, party: str | None = None) -> Protocol:
    """The agreement the hotline follows: ``party``'s oldest agreement in effect
    (without a party: the newest agreement in effect).

    Raises:
        ConflictError: if no protocol is in effect.
        ForbiddenError: if ``party`` is named in no agreement in effect.
    """
    effective = protocols.agreements_in_effect(conn)
    if not effective:
        raise ConflictError(
            "no protocol is in effect: the hotline follows the protocol"
        )
    if party is None:
        return effective[-1].protocol
    mine = [v for v in effective if party in v.protocol.parties]
    if not mine:
        raise ForbiddenError(f"party {party!r} is not named in the protocol in effect")
    return mine[0].protocol


def active_suspensions(
    conn: Connection, scope: SuspensionScope | None = None
) -> list[Any]:
    """Suspensions not yet resumed."""
    query = select(hotline_suspensions).where(hotline_suspensions.c.end_t_s.is_(None))
    if scope is not None:
        query = query.where(hotline_suspensions.c.scope == scope.value)
    return list(
        conn.execute(
            query.order_by(hotline_suspensions.c.start_t_s, hotline_suspensions.c.id)
        ).all()
    )


def channel_suspended(
    conn: Connection,
    parties: Collection[str] | None = None,
    protocol_id: str | None = None,
) -> bool:
    """Whether any party (of ``parties``, if given: those of the agreement
    ``protocol_id``) has the channel suspended (for that agreement, or for every
    agreement naming it)."""
    found = active_suspensions(conn, SuspensionScope.CHANNEL)
    return any(_covers(s, parties, protocol_id) for s in found)


def protocol_suspended(
    conn: Connection,
    parties: Collection[str] | None = None,
    protocol_id: str | None = None,
) -> bool:
    """Whether any party (of ``parties``, if given: those of the agreement
    ``protocol_id``) has suspended that protocol (or every agreement naming it)."""
    found = active_suspensions(conn, SuspensionScope.PROTOCOL)
    return any(_covers(s, parties, protocol_id) for s in found)


def channel_holds(conn: Connection) -> Callable[[str, str], bool]:
    """Whether the channel is suspended for a message from one party to another:
    by a party of the agreement binding the two, over that agreement (with none
    binding them any more, by either of them). Other agreements' suspensions
    neither hold a message nor show in it."""
    found = active_suspensions(conn, SuspensionScope.CHANNEL)
    if not found:
        return lambda sender, recipient: False
    agreements = [v.protocol for v in protocols.agreements_in_effect(conn)]

    def held(sender: str, recipient: str) -> bool:
        binding = next(
            (p for p in agreements if sender in p.parties and recipient in p.parties),
            None,
        )
        if binding is None:
            return any(s.party_id in (sender, recipient) for s in found)
        return any(_covers(s, binding.parties, binding.id) for s in found)

    return held


def _covers(
    suspension: Any, parties: Collection[str] | None, protocol_id: str | None
) -> bool:
    """Whether a suspension covers the agreement of ``parties`` and
    ``protocol_id`` (None: any)."""
    if parties is not None and suspension.party_id not in parties:
        return False
    return (
        protocol_id is None
        or suspension.protocol_id is None
        or suspension.protocol_id == protocol_id
    )


def _render(row: Any, lang: str) -> templates.Rendered | None:
    if row.kind == MessageKind.FREE_TEXT.value:
        return None
    return templates.render(row.kind, json.loads(row.facts_json), lang)


def _signed_entry(conn: Connection, row: Any) -> record.LogEntry | None:
    """The ``sent`` entry of the record for the message ``row``, if there is one
    whose hash is that of its content and whose signature is its signer's."""
    candidates = conn.execute(
        select(hotline_log).where(
            hotline_log.c.t_s == row.sent_t_s, hotline_log.c.event == "sent"
        )
    ).all()
    keys = None
    for candidate in candidates:
        entry = _entry(candidate)
        if entry.body.get("message_id") != row.id:
            continue
        try:
            digest = record.entry_digest(
                entry.seq,
                entry.t_s,
                entry.event,
                entry.signer,
                entry.body,
                entry.prev_hash,
            )
        except InputError:
            return None
        keys = keys if keys is not None else public_keys(conn)
        key = keys.get(entry.signer)
        if digest != entry.hash or key is None:
            return None
        try:
            key.verify(
                base64.b64decode(entry.signature, validate=True),
                record.signed_message(entry.hash),
            )
        except (binascii.Error, ValueError, InvalidSignature):
            return None
        return entry
    return None


def _as_signed(row: Any, entry: record.LogEntry | None) -> Any:
    """The message as its signed ``sent`` entry states it: what the API serves is
    what the chain covers, never the table's copy alone (which whoever can write the
    database could edit unseen). Without a valid entry, the content is withheld."""
    if entry is None:
        return SimpleNamespace(
            **{
                **row._asdict(),
                "kind": MessageKind.FREE_TEXT.value,
                "facts_json": "{}",
                "text": "",
                "sender_label": "",
                "signed": False,
            }
        )
    body = entry.body
    free = body["kind"] == MessageKind.FREE_TEXT.value
    return SimpleNamespace(
        **{
            **row._asdict(),
            "sender_party": body["from"],
            "sender_label": body.get("sender_label", ""),
            "recipient": body["to"],
            "kind": body["kind"],
            "priority": body["priority"],
            "lang": body["lang"],
            "facts_json": json.dumps(body.get("facts", {}), sort_keys=True),
            "text": body.get("text", "") if free else body.get("remarks", ""),
            "incident_id": body.get("incident_id"),
            "alert_id": body.get("alert_id"),
            "operation_id": body.get("operation_id"),
            "reply_to": body.get("reply_to"),
            "sent_t_s": entry.t_s,
            "signed": True,
            "record": {"seq": entry.seq, "hash": entry.hash},
        }
    )


def _view(
    conn: Connection, row: Any, viewer: str, lang: str | None, now_t_s: float
) -> dict[str, Any]:
    row = _as_signed(row, _signed_entry(conn, row))
    receipts = conn.execute(
        select(hotline_receipts)
        .where(hotline_receipts.c.message_id == row.id)
        .order_by(hotline_receipts.c.party_id)
    ).all()
    held = channel_holds(conn)
    shown = [
        {
            "party": r.party_id,
            "deadline_t_s": r.deadline_t_s,
            "delivered_t_s": r.delivered_t_s,
            "acknowledged_t_s": r.acknowledged_t_s,
            "acknowledged_by": r.acknowledged_by,
            "escalated_t_s": r.escalated_t_s,
            "overdue": r.acknowledged_t_s is None
            and (
                r.escalated_t_s is not None
                or (not held(row.sender_party, r.party_id) and now_t_s > r.deadline_t_s)
            ),
        }
        for r in receipts
        if row.sender_party == viewer or r.party_id == viewer
    ]
    want = lang if lang in templates.LANGUAGES else row.lang
    rendered = _render(row, want)
    original = _render(row, row.lang)
    if rendered is None:
        free = templates.render("free_text", {"text": row.text}, row.lang)
        subject, body, bidi, shown_lang = "", row.text, free.text_bidi, row.lang
        direction = free.direction  # free text reads the way it was written
    else:
        subject, body, bidi, shown_lang = (
            rendered.subject,
            rendered.body,
            rendered.text_bidi,
            want,
        )
        direction = rendered.direction
    return {
        "id": int(row.id),
        "from": row.sender_party,
        "from_label": row.sender_label,
        "to": row.recipient,
        "kind": row.kind,
        "priority": row.priority,
        "sent_t_s": row.sent_t_s,
        "sent": rfc3339_ms(row.sent_t_s),
        "lang": shown_lang,
        "dir": direction,
        "subject": subject,
        "text": body,
        "text_bidi": bidi,
        "original_lang": row.lang,
        "original_text": (original.body if original else row.text),
        "remarks": row.text if rendered is not None else "",
        "facts": json.loads(row.facts_json),
        "incident_id": row.incident_id,
        "alert_id": row.alert_id,
        "operation_id": row.operation_id,
        "reply_to": row.reply_to,
        "receipts": shown,
        "overdue": any(r["overdue"] for r in shown),
        # Whether the content above is that of a signed entry of the record (and
        # which); False: the entry is missing or does not verify, and the content
        # is withheld.
        "signed": row.signed,
        "record": getattr(row, "record", None),
    }


def _visible_row(conn: Connection, who: Principal, message_id: int) -> Any:
    row = conn.execute(
        select(hotline_messages).where(hotline_messages.c.id == message_id)
    ).first()
    if row is None:
        raise NotFoundError(f"message {message_id}")
    if row.sender_party != who.party_id:
        receipt = conn.execute(
            select(hotline_receipts.c.party_id).where(
                hotline_receipts.c.message_id == message_id,
                hotline_receipts.c.party_id == who.party_id,
            )
        ).first()
        if receipt is None:
            raise NotFoundError(f"message {message_id}")
    return row


def _publish(
    conn: Connection,
    event_type: str,
    row: Any,
    audience: set[str],
    entry: record.LogEntry,
    now_t_s: float,
    extra: dict[str, Any] | None = None,
) -> None:
    per_party = {}
    for party in audience:
        view = _view(conn, row, party, _party_language(conn, party), now_t_s)
        per_party[party] = {
            "message": view,
            "record": {"seq": entry.seq, "hash": entry.hash},
            **(extra or {}),
        }
    events.publish(conn, event_type, per_party, now_t_s)


def _audience(conn: Connection, row: Any) -> set[str]:
    recipients = conn.execute(
        select(hotline_receipts.c.party_id).where(
            hotline_receipts.c.message_id == row.id
        )
    ).scalars()
    return {row.sender_party, *recipients}
