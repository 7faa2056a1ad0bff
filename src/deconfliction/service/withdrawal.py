"""Withdrawal from an agreement under its own termination clause.

A version in effect ends only with the consent of its parties: replaced by a version
every one of them accepted (``service.protocols``), or by the clause the parties
wrote into it, ``[termination] notice_s = N``: an officer or admin of one of its
parties gives notice (:func:`give_notice`), and the version ends N seconds later
(:func:`end_due`, run by the server's periodic jobs; it ends the version as of
exactly the notice time plus N, and the detection loop follows on its next tick).

Both the notice and the end are announced to every party of the version on its
stream and written to the hotline's signed record (the notice signed by the party
that gave it, the end by the server), so that no party can later deny either.
A version without the clause cannot be left unilaterally.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, select, update

from deconfliction.errors import ConflictError, ForbiddenError, NotFoundError
from deconfliction.service import events, hotline, protocols
from deconfliction.service.auth import Principal
from deconfliction.service.keys import SERVER_SIGNER, KeyRing
from deconfliction.store.tables import protocol_versions


def _notice_view(v: protocols.ProtocolVersion) -> dict[str, Any]:
    return {
        "protocol_id": v.protocol.id,
        "version": v.protocol.version,
        "by": v.notice_by,
        "notice_t_s": v.notice_t_s,
        "ends_t_s": v.ends_t_s,
    }


def give_notice(
    conn: Connection,
    keys: KeyRing,
    who: Principal,
    protocol_id: str,
    version: int,
    now_t_s: float,
) -> protocols.ProtocolVersion:
    """Record ``who``'s party's notice of withdrawal from a version in effect.

    The first notice sets the end (``now_t_s`` plus the version's ``notice_s``);
    another notice, from the same party or another, changes nothing and returns the
    version as it stands. A notice period of 0 ends the version at once.

    Raises:
        ForbiddenError: if ``who`` is an observer (whether or not the version
            exists).
        NotFoundError: if ``who``'s party is not named in the version, whether or
            not it exists (the same answer as for a version that does not exist).
        ConflictError: if the version is not in effect, or has no termination
            clause.
    """
    if not who.can_write:
        # Whether or not the version exists: the same answer.
        raise ForbiddenError("observers cannot give notice of withdrawal")
    protocols.serialise_changes(conn)
    try:
        found = protocols.get_visible(conn, who, protocol_id, version)
    except NotFoundError:
        found = None
    if found is None or who.party_id not in found.protocol.parties:
        # A party asked to consent to a replacement sees the version but is not
        # one of its parties: the same answer as for a version that is not there.
        raise NotFoundError(f"protocol {protocol_id} version {version}")
    if found.status != "in_effect":
        raise ConflictError(f"{protocol_id} v{version} is not in effect")
    notice_s = found.protocol.termination.notice_s
    if notice_s is None:
        raise ConflictError(
            f"{protocol_id} v{version} has no termination clause: it ends only when "
            "a version accepted by all its parties replaces it"
        )
    if found.notice_t_s is not None:
        return found
    # Compare-and-set: of two notices at once, the first one stands.
    done = conn.execute(
        update(protocol_versions)
        .where(
            protocol_versions.c.id == found.pk,
            protocol_versions.c.notice_t_s.is_(None),
            protocol_versions.c.superseded_t_s.is_(None),
        )
        .values(notice_by=who.party_id, notice_t_s=now_t_s, ends_t_s=now_t_s + notice_s)
    )
    noticed = protocols.get_visible(conn, who, protocol_id, version)
    if done.rowcount != 1:
        return noticed
    _record_and_publish(
        conn,
        keys,
        "protocol_notice",
        who.party_id,
        _notice_view(noticed),
        now_t_s,
        noticed.protocol.parties,
    )
    end_due(conn, keys, now_t_s)
    return protocols.get_visible(conn, who, protocol_id, version)


def end_due(conn: Connection, keys: KeyRing, now_t_s: float) -> int:
    """End every version in effect whose notice period is over at ``now_t_s``
    (its end time at or before it); returns how many ended.

    The version is recorded as ended at its end time, not at ``now_t_s``.
    """
    due = conn.execute(
        select(protocol_versions.c.id, protocol_versions.c.ends_t_s)
        .where(
            protocol_versions.c.effective_t_s.is_not(None),
            protocol_versions.c.superseded_t_s.is_(None),
            protocol_versions.c.ends_t_s.is_not(None),
            protocol_versions.c.ends_t_s <= now_t_s,
        )
        .order_by(protocol_versions.c.id)
    ).all()
    if not due:
        return 0
    protocols.serialise_changes(conn)
    ended = 0
    for pk, ends_t_s in due:
        done = conn.execute(
            update(protocol_versions)
            .where(
                protocol_versions.c.id == pk,
                protocol_versions.c.superseded_t_s.is_(None),
            )
            .values(superseded_t_s=ends_t_s)
        )
        if done.rowcount != 1:
            continue
        ended += 1
        v = protocols.load(conn, int(pk))
        _record_and_publish(
            conn,
            keys,
            "protocol_ended",
            SERVER_SIGNER,
            {**_notice_view(v), "ended_t_s": ends_t_s},
            now_t_s,
            v.protocol.parties,
        )
    return ended


def _record_and_publish(
    conn: Connection,
    keys: KeyRing,
    kind: str,
    signer: str,
    body: dict[str, Any],
    now_t_s: float,
    parties: Collection[str],
) -> None:
    """Append ``body`` to the hotline record as ``kind`` and publish it to each
    party as the event ``protocol.<notice|ended>``, with its place in the record."""
    entry = hotline.append_record(conn, keys, kind, signer, body, now_t_s, parties)
    events.publish(
        conn,
        kind.replace("_", ".", 1),
        {
            p: {**body, "record": {"seq": entry.seq, "hash": entry.hash}}
            for p in parties
        },
        now_t_s,
    )
