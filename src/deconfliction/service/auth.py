"""Parties' bearer tokens: issued once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, insert, select

from deconfliction.store.tables import api_tokens, parties

TOKEN_BYTES: int = (
    32  # 256 bits of entropy: guessing is hopeless, hashing needs no salt
)


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


def issue_token(
    conn: Connection, party_id: str, role: Role, now_t_s: float, label: str = ""
) -> str:
    """A new bearer token for the party; only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(
        insert(api_tokens).values(
            party_id=party_id,
            role=role.value,
            token_sha256=token_sha256(token),
            label=label,
            created_t_s=now_t_s,
        )
    )
    return token


def authenticate(conn: Connection, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token, else None."""
    row = conn.execute(
        select(api_tokens.c.party_id, api_tokens.c.role).where(
            api_tokens.c.token_sha256 == token_sha256(token),
            api_tokens.c.revoked_t_s.is_(None),
        )
    ).first()
    if row is None:
        return None
    return Principal(party_id=row.party_id, role=Role(row.role))
