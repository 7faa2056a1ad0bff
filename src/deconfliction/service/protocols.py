"""Protocol lifecycle: proposed, accepted by every party named, then in effect.

Only one protocol version is in effect at a time. A version takes effect when the
last party it names accepts it; the version in effect before it is then superseded.
Proposing counts as the proposing party's acceptance. Earlier versions stay
readable by the parties they name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, insert, select, update

from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.domain.protocol import Protocol
from deconfliction.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    Problem,
    ProtocolError,
)
from deconfliction.service import events
from deconfliction.service.auth import Principal
from deconfliction.service.disclosure import NOTHING_SHARED, Sharing
from deconfliction.store.engine import inserted_pk
from deconfliction.store.tables import parties, protocol_acceptances, protocol_versions


@dataclass(frozen=True, slots=True)
class ProtocolVersion:
    """A stored protocol version and where it stands."""

    pk: int
    protocol: Protocol
    toml_text: str
    sha256: str
    proposed_by: str
    proposed_t_s: float
    effective_t_s: float | None
    superseded_t_s: float | None
    accepted_by: tuple[str, ...]

    @property
    def status(self) -> str:
        """``proposed``, ``in_effect`` or ``superseded``."""
        if self.superseded_t_s is not None:
            return "superseded"
        if self.effective_t_s is not None:
            return "in_effect"
        return "proposed"

    @property
    def awaiting(self) -> tuple[str, ...]:
        """Parties named that have not accepted yet."""
        return tuple(p for p in self.protocol.parties if p not in self.accepted_by)


@lru_cache(maxsize=32)
def _parse(text: str, source: str) -> Protocol:
    # Stored versions validated when proposed; parsing is pure, so cache it.
    return parse_protocol(text, source)


def _load(conn: Connection, pk: int) -> ProtocolVersion:
    row = conn.execute(
        select(protocol_versions).where(protocol_versions.c.id == pk)
    ).one()
    accepted = conn.execute(
        select(protocol_acceptances.c.party_id)
        .where(protocol_acceptances.c.version_pk == pk)
        .order_by(protocol_acceptances.c.accepted_t_s, protocol_acceptances.c.party_id)
    ).scalars()
    return ProtocolVersion(
        pk=int(row.id),
        protocol=_parse(row.toml_text, f"{row.protocol_id} v{row.version}"),
        toml_text=row.toml_text,
        sha256=row.sha256,
        proposed_by=row.proposed_by,
        proposed_t_s=row.proposed_t_s,
        effective_t_s=row.effective_t_s,
        superseded_t_s=row.superseded_t_s,
        accepted_by=tuple(accepted),
    )


def _summary(v: ProtocolVersion) -> dict[str, object]:
    return {
        "protocol_id": v.protocol.id,
        "version": v.protocol.version,
        "status": v.status,
        "accepted_by": list(v.accepted_by),
        "awaiting": list(v.awaiting),
    }


def propose(
    conn: Connection, who: Principal, toml_text: str, now_t_s: float
) -> ProtocolVersion:
    """Store a new version proposed by ``who``'s party.

    Raises:
        ProtocolError: if the text does not validate, or names unregistered parties.
        ForbiddenError: if ``who`` may not write or its party is not named.
        ConflictError: if the protocol already has this version or a later one.
    """
    if not who.can_write:
        raise ForbiddenError("observers cannot propose protocols")
    protocol = parse_protocol(toml_text, "proposal")
    registered = set(conn.execute(select(parties.c.id)).scalars())
    unknown = [p for p in protocol.parties if p not in registered]
    if unknown:
        raise ProtocolError(
            [
                Problem("proposal", None, f"parties.{p}", "no such registered party")
                for p in unknown
            ]
        )
    if who.party_id not in protocol.parties:
        raise ForbiddenError(
            f"party {who.party_id!r} is not named in protocol {protocol.id!r}"
        )
    newest = conn.execute(
        select(protocol_versions.c.version)
        .where(protocol_versions.c.protocol_id == protocol.id)
        .order_by(protocol_versions.c.version.desc())
        .limit(1)
    ).scalar()
    if newest is not None and protocol.version <= newest:
        raise ConflictError(
            f"protocol {protocol.id!r} already has version {newest}; "
            f"propose version {newest + 1} or later"
        )
    pk = inserted_pk(
        conn.execute(
            insert(protocol_versions).values(
                protocol_id=protocol.id,
                version=protocol.version,
                toml_text=toml_text,
                sha256=hashlib.sha256(toml_text.encode("utf-8")).hexdigest(),
                proposed_by=who.party_id,
                proposed_t_s=now_t_s,
            )
        )
    )
    conn.execute(
        insert(protocol_acceptances).values(
            version_pk=pk, party_id=who.party_id, accepted_t_s=now_t_s
        )
    )
    version = _load(conn, int(pk))
    events.publish(
        conn,
        "protocol.proposed",
        {p: _summary(version) for p in protocol.parties},
        now_t_s,
    )
    return _take_effect_if_complete(conn, version, now_t_s)


def accept(
    conn: Connection, who: Principal, protocol_id: str, version: int, now_t_s: float
) -> ProtocolVersion:
    """Record ``who``'s party's acceptance; the version may take effect.

    Raises:
        NotFoundError: if there is no such version the party is named in.
        ForbiddenError: if ``who`` may not write.
        ConflictError: if the version was superseded.
    """
    current = get_visible(conn, who, protocol_id, version)
    if not who.can_write:
        raise ForbiddenError("observers cannot accept protocols")
    if current.superseded_t_s is not None:
        raise ConflictError(f"{protocol_id} v{version} was superseded")
    if who.party_id in current.accepted_by:
        return current
    conn.execute(
        insert(protocol_acceptances).values(
            version_pk=current.pk, party_id=who.party_id, accepted_t_s=now_t_s
        )
    )
    updated = _load(conn, current.pk)
    events.publish(
        conn,
        "protocol.accepted",
        {
            p: {**_summary(updated), "by": who.party_id}
            for p in updated.protocol.parties
        },
        now_t_s,
    )
    return _take_effect_if_complete(conn, updated, now_t_s)


def _take_effect_if_complete(
    conn: Connection, version: ProtocolVersion, now_t_s: float
) -> ProtocolVersion:
    if version.awaiting or version.effective_t_s is not None:
        return version
    previous = in_effect(conn)
    conn.execute(
        update(protocol_versions)
        .where(
            protocol_versions.c.effective_t_s.is_not(None),
            protocol_versions.c.superseded_t_s.is_(None),
        )
        .values(superseded_t_s=now_t_s)
    )
    conn.execute(
        update(protocol_versions)
        .where(protocol_versions.c.id == version.pk)
        .values(effective_t_s=now_t_s)
    )
    effective = _load(conn, version.pk)
    audience = set(effective.protocol.parties)
    if previous is not None:
        audience |= set(previous.protocol.parties)
    events.publish(
        conn, "protocol.effective", {p: _summary(effective) for p in audience}, now_t_s
    )
    return effective


def in_effect(conn: Connection) -> ProtocolVersion | None:
    """The version in effect, if any."""
    pk = conn.execute(
        select(protocol_versions.c.id).where(
            protocol_versions.c.effective_t_s.is_not(None),
            protocol_versions.c.superseded_t_s.is_(None),
        )
    ).scalar()
    return None if pk is None else _load(conn, int(pk))


def list_visible(conn: Connection, who: Principal) -> list[ProtocolVersion]:
    """Every version that names ``who``'s party, oldest first."""
    pks = conn.execute(
        select(protocol_versions.c.id).order_by(protocol_versions.c.id)
    ).scalars()
    out = [_load(conn, int(pk)) for pk in pks]
    return [v for v in out if who.party_id in v.protocol.parties]


def get_visible(
    conn: Connection, who: Principal, protocol_id: str, version: int
) -> ProtocolVersion:
    """One version, if it names ``who``'s party.

    Raises:
        NotFoundError: otherwise (whether or not it exists).
    """
    pk = conn.execute(
        select(protocol_versions.c.id).where(
            protocol_versions.c.protocol_id == protocol_id,
            protocol_versions.c.version == version,
        )
    ).scalar()
    if pk is not None:
        found = _load(conn, int(pk))
        if who.party_id in found.protocol.parties:
            return found
    raise NotFoundError(f"protocol {protocol_id} version {version}")


def sharing_of(protocol: Protocol | None) -> Sharing:
    """What a protocol shares, and with whom; nothing without a protocol."""
    if protocol is None:
        return NOTHING_SHARED
    return Sharing(protocol.sharing, frozenset(protocol.parties))


def current_sharing(conn: Connection) -> Sharing:
    """The sharing in effect (nothing is shared when no protocol is in effect)."""
    effective = in_effect(conn)
    return sharing_of(effective.protocol if effective else None)
