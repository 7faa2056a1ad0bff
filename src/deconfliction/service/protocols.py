"""Protocol lifecycle: proposed, accepted by every party whose consent it needs,
then in effect.

Several agreements may be in effect at once, between different parties: a version
replaces a version in effect only if it is a version of the same protocol or the
two share a pair of parties (:func:`replaces`), so no two agreements in effect
ever bind the same pair; the others stay in effect beside it. An agreement ends
only with the consent of its parties: a version takes effect when every party it
names has accepted it, and also every party of each version in effect that it
would replace (:func:`replaced_by`); those versions are then superseded.
Otherwise a version in effect ends only by its own termination clause
(``[termination] notice_s``: a party's notice of withdrawal,
``service.withdrawal``). Proposing counts as the
proposing party's acceptance. Earlier versions stay readable by the parties they
name, and a version stays readable by the parties whose consent it asked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, insert, select, text, update

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
from deconfliction.service.disclosure import (
    NOTHING_SHARED,
    Agreement,
    Period,
    Sharing,
)
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
    consent_of: tuple[str, ...]
    notice_by: str | None = None
    notice_t_s: float | None = None
    ends_t_s: float | None = None

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
        """Parties whose consent is needed and that have not accepted yet: those
        named, and (while proposed) those of the version it would replace."""
        return tuple(p for p in self.consent_of if p not in self.accepted_by)

    def shown_to(self, party: str) -> bool:
        """Whether ``party`` may read this version: it is named, it was asked to
        consent (its agreement would be replaced), or it accepted it."""
        return (
            party in self.protocol.parties
            or party in self.consent_of
            or party in self.accepted_by
        )


def serialise_changes(conn: Connection) -> None:
    """Let one transaction at a time change which versions are in effect (on
    PostgreSQL; SQLite has one writer at a time already, and refuses a write from a
    stale read). Taken first, before the hotline's and the events' locks, so that
    two acceptances at once cannot both put a version in effect, each unaware of
    the other's.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE protocol_versions IN SHARE ROW EXCLUSIVE MODE"))


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
    protocol = _parse(row.toml_text, f"{row.protocol_id} v{row.version}")
    consent_of = tuple(protocol.parties)
    if row.effective_t_s is None and row.superseded_t_s is None:
        # Still proposed: the parties of what it would replace must consent too.
        for replaced in _in_effect_versions(conn):
            if not replaces(protocol, replaced.protocol):
                continue
            consent_of += tuple(
                p for p in replaced.protocol.parties if p not in consent_of
            )
    return ProtocolVersion(
        pk=int(row.id),
        protocol=protocol,
        toml_text=row.toml_text,
        sha256=row.sha256,
        proposed_by=row.proposed_by,
        proposed_t_s=row.proposed_t_s,
        effective_t_s=row.effective_t_s,
        superseded_t_s=row.superseded_t_s,
        accepted_by=tuple(accepted),
        consent_of=consent_of,
        notice_by=row.notice_by,
        notice_t_s=row.notice_t_s,
        ends_t_s=row.ends_t_s,
    )


def load(conn: Connection, pk: int) -> ProtocolVersion:
    """The stored version with primary key ``pk`` (for the server's own use:
    no visibility check)."""
    return _load(conn, pk)


def _in_effect_versions(conn: Connection) -> list[ProtocolVersion]:
    """Every version in effect, oldest first."""
    pks = conn.execute(
        select(protocol_versions.c.id)
        .where(
            protocol_versions.c.effective_t_s.is_not(None),
            protocol_versions.c.superseded_t_s.is_(None),
        )
        .order_by(protocol_versions.c.id)
    ).scalars()
    return [_load(conn, int(pk)) for pk in pks]


def replaces(new: Protocol, old: Protocol) -> bool:
    """Whether ``new`` taking effect ends ``old`` (in effect): it is a version of
    the same protocol, or the two share a pair of parties (two agreements never
    bind the same pair). Otherwise they stay in effect side by side, each between
    its own parties, even when they have one party in common."""
    if new.id == old.id:
        return True
    return len(set(new.parties) & set(old.parties)) >= 2


def replaced_by(conn: Connection, version: ProtocolVersion) -> list[ProtocolVersion]:
    """The versions in effect that ``version`` would replace if it took effect now
    (:func:`replaces`); every party of each must consent
    (:attr:`ProtocolVersion.consent_of`)."""
    return [
        v
        for v in _in_effect_versions(conn)
        if v.pk != version.pk and replaces(version.protocol, v.protocol)
    ]


def _summary(v: ProtocolVersion) -> dict[str, object]:
    return {
        "protocol_id": v.protocol.id,
        "version": v.protocol.version,
        "status": v.status,
        "accepted_by": list(v.accepted_by),
        "awaiting": list(v.awaiting),
    }


def audience(v: ProtocolVersion) -> list[str]:
    """The parties told about ``v``: those it names and those asked to consent."""
    return list(dict.fromkeys((*v.protocol.parties, *v.consent_of)))


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
    serialise_changes(conn)
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
        select(protocol_versions.c.id, protocol_versions.c.version)
        .where(protocol_versions.c.protocol_id == protocol.id)
        .order_by(protocol_versions.c.version.desc())
        .limit(1)
    ).first()
    if newest is not None:
        if who.party_id not in _load(conn, int(newest.id)).protocol.parties:
            # Protocol ids are one namespace: that this one is taken cannot be
            # hidden, but which versions it has, and who holds it, are the
            # business of its parties only.
            raise ConflictError(
                f"protocol id {protocol.id!r} is taken by another agreement; "
                "choose another id"
            )
        if protocol.version <= newest.version:
            raise ConflictError(
                f"protocol {protocol.id!r} already has version {newest.version}; "
                f"propose version {newest.version + 1} or later"
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
        {p: _summary(version) for p in audience(version)},
        now_t_s,
    )
    return _take_effect_if_complete(conn, version, now_t_s)


def accept(
    conn: Connection, who: Principal, protocol_id: str, version: int, now_t_s: float
) -> ProtocolVersion:
    """Record ``who``'s party's acceptance; the version may take effect.

    A party of the version in effect that this version would replace accepts it
    here too (it is the consent to end its agreement). Accepting again changes
    nothing, but puts the version in effect if it now has every consent it needs
    (the version it would have replaced has ended meanwhile).

    Raises:
        NotFoundError: if there is no such version the party may see.
        ForbiddenError: if ``who`` may not write.
        ConflictError: if the version was superseded.
    """
    serialise_changes(conn)
    current = get_visible(conn, who, protocol_id, version)
    if not who.can_write:
        raise ForbiddenError("observers cannot accept protocols")
    if current.superseded_t_s is not None:
        raise ConflictError(f"{protocol_id} v{version} was superseded")
    if who.party_id in current.accepted_by:
        return _take_effect_if_complete(conn, current, now_t_s)
    conn.execute(
        insert(protocol_acceptances).values(
            version_pk=current.pk, party_id=who.party_id, accepted_t_s=now_t_s
        )
    )
    updated = _load(conn, current.pk)
    events.publish(
        conn,
        "protocol.accepted",
        {p: {**_summary(updated), "by": who.party_id} for p in audience(updated)},
        now_t_s,
    )
    return _take_effect_if_complete(conn, updated, now_t_s)


def _take_effect_if_complete(
    conn: Connection, version: ProtocolVersion, now_t_s: float
) -> ProtocolVersion:
    if version.effective_t_s is not None or version.superseded_t_s is not None:
        return version
    version = _load(conn, version.pk)  # what it replaces, as of now
    if version.awaiting:
        return version
    replaced = replaced_by(conn, version)
    told = set(version.protocol.parties)
    for old in replaced:
        # Compare-and-set: a version ended meanwhile is not ended twice.
        conn.execute(
            update(protocol_versions)
            .where(
                protocol_versions.c.id == old.pk,
                protocol_versions.c.superseded_t_s.is_(None),
            )
            .values(superseded_t_s=now_t_s)
        )
        told |= set(old.protocol.parties)
    conn.execute(
        update(protocol_versions)
        .where(protocol_versions.c.id == version.pk)
        .values(effective_t_s=now_t_s)
    )
    effective = _load(conn, version.pk)
    events.publish(
        conn,
        "protocol.effective",
        {p: _summary(effective) for p in sorted(told)},
        now_t_s,
    )
    return effective


def in_effect(conn: Connection) -> ProtocolVersion | None:
    """The newest version in effect, if any (one of several agreements: callers
    that act for a party or a pair use :func:`agreements_of` or
    :func:`agreement_between`)."""
    effective = _in_effect_versions(conn)
    return effective[-1] if effective else None


def agreements_in_effect(conn: Connection) -> list[ProtocolVersion]:
    """Every version in effect, oldest first: agreements between different sets
    of parties, no two binding the same pair of parties."""
    return _in_effect_versions(conn)


def agreements_of(conn: Connection, party: str) -> list[ProtocolVersion]:
    """The versions in effect that name ``party``, oldest first."""
    return [v for v in _in_effect_versions(conn) if party in v.protocol.parties]


def agreement_of(conn: Connection, party: str) -> ProtocolVersion | None:
    """``party``'s oldest agreement in effect, or None (what ``GET
    /v1/protocols/current`` shows it)."""
    mine = agreements_of(conn, party)
    return mine[0] if mine else None


def agreement_between(conn: Connection, p: str, q: str) -> ProtocolVersion | None:
    """The version in effect binding both ``p`` and ``q`` (at most one), or None.
    For ``p == q``: the first agreement naming it."""
    return next(
        (
            v
            for v in _in_effect_versions(conn)
            if p in v.protocol.parties and q in v.protocol.parties
        ),
        None,
    )


def accepted_by_party(conn: Connection, party_id: str) -> list[ProtocolVersion]:
    """Every version ``party_id`` proposed or accepted, oldest first (a node
    trusts the nodes these name)."""
    pks = conn.execute(
        select(protocol_acceptances.c.version_pk)
        .where(protocol_acceptances.c.party_id == party_id)
        .order_by(protocol_acceptances.c.version_pk)
    ).scalars()
    return [_load(conn, int(pk)) for pk in pks]


def list_visible(conn: Connection, who: Principal) -> list[ProtocolVersion]:
    """Every version ``who``'s party may read (:meth:`ProtocolVersion.shown_to`),
    oldest first."""
    pks = conn.execute(
        select(protocol_versions.c.id).order_by(protocol_versions.c.id)
    ).scalars()
    out = [_load(conn, int(pk)) for pk in pks]
    return [v for v in out if v.shown_to(who.party_id)]


def get_visible(
    conn: Connection, who: Principal, protocol_id: str, version: int
) -> ProtocolVersion:
    """One version, if ``who``'s party may read it
    (:meth:`ProtocolVersion.shown_to`).

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
        if found.shown_to(who.party_id):
            return found
    raise NotFoundError(f"protocol {protocol_id} version {version}")


def sharing_of(protocol: Protocol | None) -> Sharing:
    """What one protocol shares, and with whom; nothing without a protocol."""
    if protocol is None:
        return NOTHING_SHARED
    return Sharing.one(protocol.sharing, frozenset(protocol.parties))


def sharing_history(conn: Connection) -> tuple[Period, ...]:
    """Every period a version was in effect, oldest first, with its sharing."""
    pks = conn.execute(
        select(protocol_versions.c.id)
        .where(protocol_versions.c.effective_t_s.is_not(None))
        .order_by(protocol_versions.c.effective_t_s, protocol_versions.c.id)
    ).scalars()
    periods = []
    for pk in pks:
        version = _load(conn, int(pk))
        if version.effective_t_s is None:  # pragma: no cover - selected above
            continue
        periods.append(
            Period(
                version.effective_t_s,
                version.superseded_t_s,
                version.protocol.sharing,
                frozenset(version.protocol.parties),
            )
        )
    return tuple(periods)


def with_history(conn: Connection, sharing: Sharing) -> Sharing:
    """``sharing`` with the store's history of sharing, so that data is shown as it
    was shared when recorded (``Sharing.as_recorded``)."""
    return Sharing(sharing.agreements, sharing_history(conn))


def current_sharing(conn: Connection) -> Sharing:
    """The sharing of every agreement in effect (nothing is shared between two
    parties no agreement binds), with its history."""
    return with_history(
        conn,
        Sharing(
            tuple(
                Agreement(v.protocol.sharing, frozenset(v.protocol.parties))
                for v in agreements_in_effect(conn)
            )
        ),
    )
