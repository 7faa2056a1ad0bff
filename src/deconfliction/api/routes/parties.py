"""/v1/parties: who takes part, and their tokens."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.schemas import PartyIn, PartyOut, TokenIn, TokenOut, WhoAmI
from deconfliction.errors import ConflictError, ForbiddenError, NotFoundError
from deconfliction.service import auth
from deconfliction.store.tables import parties

router = APIRouter(prefix="/v1/parties", tags=["parties"])


@router.get("", response_model=list[PartyOut])
def list_parties(ctx: CtxDep, who: WhoDep) -> list[PartyOut]:
    """Every registered party (names and languages are not secret among them)."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(parties).order_by(parties.c.id)).all()
    return [PartyOut(id=r.id, name=r.name, language=r.language) for r in rows]


@router.get("/me", response_model=WhoAmI)
def whoami(who: WhoDep) -> WhoAmI:
    """The party and role of the caller's token."""
    return WhoAmI(party_id=who.party_id, role=who.role.value)


@router.post("", response_model=PartyOut, status_code=status.HTTP_201_CREATED)
def add_party(body: PartyIn, ctx: CtxDep, who: WhoDep) -> PartyOut:
    """Register a party (admins only)."""
    if who.role is not auth.Role.ADMIN:
        raise ForbiddenError("only admins register parties")
    with ctx.engine.begin() as conn:
        created = auth.ensure_party(
            conn, body.id, body.name, body.language, ctx.clock.now_t_s()
        )
    if not created:
        raise ConflictError(f"party {body.id!r} exists")
    return PartyOut(id=body.id, name=body.name, language=body.language)


@router.post(
    "/{party_id}/tokens", response_model=TokenOut, status_code=status.HTTP_201_CREATED
)
def add_token(party_id: str, body: TokenIn, ctx: CtxDep, who: WhoDep) -> TokenOut:
    """Issue a token for a party (admins only); it is shown once."""
    if who.role is not auth.Role.ADMIN:
        raise ForbiddenError("only admins issue tokens")
    with ctx.engine.begin() as conn:
        if (
            conn.execute(select(parties.c.id).where(parties.c.id == party_id)).first()
            is None
        ):
            raise NotFoundError(f"party {party_id}")
        token = auth.issue_token(
            conn, party_id, auth.Role(body.role), ctx.clock.now_t_s(), body.label
        )
    return TokenOut(party_id=party_id, role=body.role, token=token)
