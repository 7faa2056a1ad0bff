"""/v1/parties: who takes part, and their tokens.

Parties are registered only by the server's operator, from the command line
(``deconfliction party add``): no token registers a party over the API. A party's
admin issues tokens for its own party and no other.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.params import IdPath
from deconfliction.api.schemas import (
    PartyOut,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    WhoAmI,
)
from deconfliction.errors import ForbiddenError
from deconfliction.service import auth

router = APIRouter(prefix="/v1/parties", tags=["parties"])


@router.get("", response_model=list[PartyOut])
def list_parties(ctx: CtxDep, who: WhoDep) -> list[PartyOut]:
    """The caller's party and every party named with it in a protocol version
    (their names and languages are not secret among them); a party named in no
    protocol sees only itself."""
    with ctx.engine.connect() as conn:
        known = auth.visible_parties(conn, who)
    return [PartyOut(id=p.id, name=p.name, language=p.language) for p in known]


@router.get("/me", response_model=WhoAmI)
def whoami(who: WhoDep) -> WhoAmI:
    """The party and role of the caller's token."""
    return WhoAmI(party_id=who.party_id, role=who.role.value)


def _own_party_admin(who: auth.Principal, party_id: str) -> None:
    """Only an admin of ``party_id`` itself manages its tokens.

    Raises:
        ForbiddenError: otherwise (the same answer whether or not the party
            exists).
    """
    if who.role is not auth.Role.ADMIN:
        raise ForbiddenError("only admins manage tokens")
    if who.party_id != party_id:
        raise ForbiddenError("an admin manages the tokens of its own party only")


@router.post(
    "/{party_id}/tokens", response_model=TokenOut, status_code=status.HTTP_201_CREATED
)
def add_token(party_id: str, body: TokenIn, ctx: CtxDep, who: WhoDep) -> TokenOut:
    """Issue a token for the caller's own party (its admins only), valid for
    ``expires_in_days``; the token is shown once."""
    _own_party_admin(who, party_id)
    with ctx.engine.begin() as conn:
        issued = auth.issue(
            conn,
            party_id,
            auth.Role(body.role),
            ctx.clock.now_t_s(),
            body.label,
            body.expires_in_days,
        )
    return TokenOut(
        id=issued.info.id,
        party_id=party_id,
        role=body.role,
        expires_t_s=issued.info.expires_t_s,
        token=issued.token,
    )


@router.get("/{party_id}/tokens", response_model=list[TokenInfoOut])
def list_tokens(party_id: str, ctx: CtxDep, who: WhoDep) -> list[TokenInfoOut]:
    """The tokens of the caller's own party (its admins only): ids, roles, labels
    and times, never the tokens."""
    _own_party_admin(who, party_id)
    now = ctx.clock.now_t_s()
    with ctx.engine.connect() as conn:
        listed = auth.list_tokens(conn, party_id)
    return [TokenInfoOut.model_validate(t.as_json(now)) for t in listed]


@router.post("/{party_id}/tokens/{token_id}/revoke", response_model=TokenInfoOut)
def revoke_token(
    party_id: str, token_id: IdPath, ctx: CtxDep, who: WhoDep
) -> TokenInfoOut:
    """Revoke a token of the caller's own party at once (its admins only); open
    streams with it are closed."""
    _own_party_admin(who, party_id)
    now = ctx.clock.now_t_s()
    with ctx.engine.begin() as conn:
        revoked = auth.revoke(conn, token_id, now, party_id=party_id)
    return TokenInfoOut.model_validate(revoked.as_json(now))
