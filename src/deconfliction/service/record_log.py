"""The hotline's record as each party may see it, and the public keys to check it.

The chain is one for all parties, so that each can check that nothing was cut or
rewritten anywhere in it. A party reads in full the entries whose ``audience`` names
it (what it sent or was sent, receipts of its messages, suspensions and missed
check-ins of the protocol it is party to); of every other entry it gets a stub: seq,
``prev_hash`` and ``hash``. What a stub reveals: that an entry exists at that place
in the chain, between the party's own, and so how many entries other parties made
in between and, from its neighbours, roughly when. Not who made it, what it says,
or whom it concerns (each entry carries a random nonce, so its hash confirms no
guess of its content).

Entries written before entries carried an ``audience`` are shown in full to the
parties their body names (``from``, ``recipients``, ``party``).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Connection, select

from deconfliction.hotline.checkpoints import key_fingerprint
from deconfliction.hotline.record import LogEntry, public_key_from_text
from deconfliction.service import protocols
from deconfliction.service.auth import Principal
from deconfliction.service.hotline import log_page
from deconfliction.service.keys import SERVER_SIGNER
from deconfliction.store.tables import party_keys

MAX_PAGE: Final = 1000  # entries per answer; the client asks again from the last


def _readers(entry: LogEntry) -> set[str]:
    body = entry.body
    audience = body.get("audience")
    if isinstance(audience, list):
        return {p for p in audience if isinstance(p, str)}
    named = [body.get("from"), body.get("party"), *(body.get("recipients") or [])]
    return {p for p in named if isinstance(p, str)}


def may_read(entry: LogEntry, party_id: str) -> bool:
    """Whether ``party_id`` reads the entry in full."""
    return party_id in _readers(entry)


def served(entry: LogEntry, party_id: str) -> dict[str, Any]:
    """The entry as ``party_id`` is shown it: in full, or as a stub."""
    if may_read(entry, party_id):
        return entry.as_json()
    return {
        "seq": entry.seq,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "hidden": True,
    }


def party_log(
    conn: Connection, party_id: str, after_seq: int, limit: int
) -> dict[str, Any]:
    """The entries after ``after_seq`` (up to ``limit``) as the party sees them, and
    the head of the whole chain."""
    entries, head = log_page(conn, after_seq, min(limit, MAX_PAGE))
    return {
        "head": None if head is None else {"seq": head[0], "hash": head[1]},
        "entries": [served(e, party_id) for e in entries],
    }


def keys_view(conn: Connection, who: Principal) -> list[dict[str, Any]]:
    """The public keys, with their fingerprints, of every signer whose entries the
    caller may read: the server, the caller's party and every party named with it
    in a protocol version (a party in no protocol learns of no other party here
    either, as on ``GET /v1/parties``)."""
    known = {who.party_id, SERVER_SIGNER}
    for version in protocols.list_visible(conn, who):
        known.update(version.protocol.parties)
    rows = conn.execute(
        select(party_keys)
        .where(party_keys.c.party_id.in_(known))
        .order_by(party_keys.c.party_id)
    ).all()
    return [
        {
            "signer": r.party_id,
            "public_key": r.public_key,
            "fingerprint": key_fingerprint(public_key_from_text(r.public_key)),
            "registered_t_s": r.created_t_s,
        }
        for r in rows
    ]
