"""Parties' bearer tokens: issued once, stored only as SHA-256 hashes, with an
expiry, revocable.

Parties are registered only by the server's operator (``deconfliction party add``);
a party's admin issues and revokes tokens of its own party. A token is valid from
its issue until it is revoked or expires, whichever comes first; a listing shows a
token's id, role, label and times, never the token or its hash.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from deconfliction.errors import NotFoundError
from deconfliction.service.token_days import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS
from deconfliction.store.engine import inserted_pk, random_id
from deconfliction.store.tables import api_tokens, parties

TOKEN_BYTES: int = (
    32  # 256 bits of entropy: guessing is hopeless, hashing needs no salt
)
S_PER_DAY: float = 86_400.0


class Role(StrEnum):
    """What a token may do.

    ``officer`` reads and writes for its own party, ``observer`` only reads,
    ``admin`` also issues (and revokes) tokens of its own party. Parties are
    registered only by the server's operator (``deconfliction party add``).
    """

    OFFICER = "officer"
    OBSERVER = "observer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for."""

    party_id: str
    role: Role

    @property
    def can_write(self) -> bool:
        """Officers and admins write; observers only read."""
        return self.role is not Role.OBSERVER


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown of a token: never the token or its hash."""

    id: int
    party_id: str
    role: Role
    label: str
    created_t_s: float
    expires_t_s: float | None
    revoked_t_s: float | None

    def status(self, now_t_s: float) -> str:
        """``active``, ``revoked`` or ``expired`` at ``now_t_s``.

        >>> TokenInfo(1, "a", Role.ADMIN, "", 0.0, 10.0, None).status(10.0)
        'expired'
        >>> TokenInfo(1, "a", Role.ADMIN, "", 0.0, None, None).status(1e12)
        'active'
        """
        if self.revoked_t_s is not None:
            return "revoked"
        if self.expires_t_s is not None and now_t_s >= self.expires_t_s:
            return "expired"
        return "active"

    def as_json(self, now_t_s: float) -> dict[str, Any]:
        """The listed form."""
        return {
            "id": self.id,
            "party_id": self.party_id,
            "role": self.role.value,
            "label": self.label,
            "created_t_s": self.created_t_s,
            "expires_t_s": self.expires_t_s,
            "revoked_t_s": self.revoked_t_s,
            "status": self.status(now_t_s),
        }


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the secret, shown once, and what may be shown of it later."""

    token: str
    info: TokenInfo


def token_sha256(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def ensure_party(
    conn: Connection, party_id: str, name: str, language: str, now_t_s: float
) -> bool:
    """Create the party if it does not exist; True when it was created."""
    exists = conn.execute(select(parties.c.id).where(parties.c.id == party_id)).first()
    if exists:
        return False
    conn.execute(
        insert(parties).values(
            id=party_id, name=name, language=language, created_t_s=now_t_s
        )
    )
    return True


def update_party(
    conn: Connection, party_id: str, name: str | None, language: str | None
) -> dict[str, tuple[str, str]]:
    """Change a party's name or language; returns what changed, field: (old, new).

    Raises:
        NotFoundError: if there is no such party.
    """
    row = conn.execute(select(parties).where(parties.c.id == party_id)).first()
    if row is None:
        raise NotFoundError(f"party {party_id}")
    changes = {
        field: (old, new)
        for field, old, new in (
            ("name", row.name, name),
            ("language", row.language, language),
        )
        if new is not None and new != old
    }
    if changes:
        conn.execute(
            update(parties)
            .where(parties.c.id == party_id)
            .values({field: new for field, (_, new) in changes.items()})
        )
    return changes


@dataclass(frozen=True, slots=True)
class PartyInfo:
    """A registered party as other parties see it."""

    id: str
    name: str
    language: str


def visible_parties(conn: Connection, who: Principal) -> list[PartyInfo]:
    """The caller's party and every party named with it in a protocol version
    (their names and languages are not secret among them), by id; a party named in
    no protocol sees only itself."""
    from deconfliction.service import protocols  # protocols builds on this module

    known = {who.party_id}
    for version in protocols.list_visible(conn, who):
        known.update(version.protocol.parties)
    rows = conn.execute(
        select(parties).where(parties.c.id.in_(known)).order_by(parties.c.id)
    ).all()
    return [PartyInfo(r.id, r.name, r.language) for r in rows]


def valid_for_s(days: int) -> float:
    """Seconds of a token's validity of ``days`` days.

    Raises:
        ValueError: outside 1 to ``MAX_TOKEN_DAYS`` days.
    """
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token is valid for 1 to {MAX_TOKEN_DAYS} days")
    return days * S_PER_DAY


def issue(
    conn: Connection,
    party_id: str,
    role: Role,
    now_t_s: float,
    label: str = "",
    days: int = DEFAULT_TOKEN_DAYS,
) -> IssuedToken:
    """A new bearer token for the party, valid for ``days``; only its hash is
    stored.

    Raises:
        ValueError: for a validity outside 1 to ``MAX_TOKEN_DAYS`` days.
    """
    expires_t_s = now_t_s + valid_for_s(days)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    pk = inserted_pk(
        conn.execute(
            insert(api_tokens).values(
                id=random_id(conn, api_tokens),
                party_id=party_id,
                role=role.value,
                token_sha256=token_sha256(token),
                label=label,
                created_t_s=now_t_s,
                expires_t_s=expires_t_s,
            )
        )
    )
    return IssuedToken(
        token, TokenInfo(int(pk), party_id, role, label, now_t_s, expires_t_s, None)
    )


def issue_token(
    conn: Connection,
    party_id: str,
    role: Role,
    now_t_s: float,
    label: str = "",
    days: int = DEFAULT_TOKEN_DAYS,
) -> str:
    """A new bearer token for the party (see :func:`issue`), the secret only."""
    return issue(conn, party_id, role, now_t_s, label, days).token


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=int(row.id),
        party_id=row.party_id,
        role=Role(row.role),
        label=row.label,
        created_t_s=row.created_t_s,
        expires_t_s=row.expires_t_s,
        revoked_t_s=row.revoked_t_s,
    )


def list_tokens(conn: Connection, party_id: str | None = None) -> list[TokenInfo]:
    """Tokens (of one party, or all), oldest first; never the secret."""
    query = select(
        api_tokens.c.id,
        api_tokens.c.party_id,
        api_tokens.c.role,
        api_tokens.c.label,
        api_tokens.c.created_t_s,
        api_tokens.c.expires_t_s,
        api_tokens.c.revoked_t_s,
    ).order_by(api_tokens.c.created_t_s, api_tokens.c.id)
    if party_id is not None:
        query = query.where(api_tokens.c.party_id == party_id)
    return [_info(r) for r in conn.execute(query).all()]


def revoke(
    conn: Connection, token_id: int, now_t_s: float, party_id: str | None = None
) -> TokenInfo:
    """Revoke a token at once (already revoked: unchanged).

    Raises:
        NotFoundError: for no such token (of ``party_id``, when given).
    """
    query = select(api_tokens).where(api_tokens.c.id == token_id)
    if party_id is not None:
        query = query.where(api_tokens.c.party_id == party_id)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"token {token_id}")
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_t_s.is_(None))
        .values(revoked_t_s=now_t_s)
    )
    return _info(
        conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).one()
    )


def rotate(
    conn: Connection, token_id: int, now_t_s: float, days: int = DEFAULT_TOKEN_DAYS
) -> IssuedToken:
    """A new token with the same party, role and label; the old one is revoked.

    Raises:
        NotFoundError: for no such token.
        ValueError: for a validity outside 1 to ``MAX_TOKEN_DAYS`` days.
    """
    old = revoke(conn, token_id, now_t_s)
    return issue(conn, old.party_id, old.role, now_t_s, old.label, days)


def authenticate(conn: Connection, token: str, now_t_s: float) -> Principal | None:
    """The principal of a token valid at ``now_t_s`` (issued, not revoked, not
    expired), else None."""
    row = conn.execute(
        select(api_tokens.c.id, api_tokens.c.party_id, api_tokens.c.role).where(
            api_tokens.c.token_sha256 == token_sha256(token),
            api_tokens.c.revoked_t_s.is_(None),
            or_(
                api_tokens.c.expires_t_s.is_(None),
                api_tokens.c.expires_t_s > now_t_s,
            ),
        )
    ).first()
    if row is None:
        return None
    return Principal(party_id=row.party_id, role=Role(row.role))
