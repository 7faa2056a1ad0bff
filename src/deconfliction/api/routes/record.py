"""The hotline's signed record for the parties to check: ``/v1/hotline/log`` and
``/v1/parties/keys``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.service import record_log

router = APIRouter(tags=["hotline"])

MAX_SEQ = 2**53 - 1  # every seq the record can hold


@router.get("/v1/hotline/log")
def hotline_log(
    ctx: CtxDep,
    who: WhoDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="entries after this seq")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=record_log.MAX_PAGE, description="at most this many")
    ] = record_log.MAX_PAGE,
) -> dict[str, Any]:
    """The whole chain in order, from ``after`` on: in full the entries your party
    may read, of the others (between other parties) only ``seq``, ``prev_hash`` and
    ``hash`` with ``hidden: true``; and the ``head`` (seq and hash of the last
    entry). Check it with ``deconfliction hotline verify --against``."""
    with ctx.engine.connect() as conn:
        return record_log.party_log(conn, who.party_id, after, limit)


@router.get("/v1/parties/keys")
def party_keys(ctx: CtxDep, who: WhoDep) -> list[dict[str, Any]]:
    """The public key of every signer whose entries your party may read (``server``,
    your party and the parties named with it in a protocol) with its fingerprint
    (``sha256:`` and the hex SHA-256 of the raw key): compare the fingerprints out of
    band with each party, and pin them."""
    with ctx.engine.connect() as conn:
        return record_log.keys_view(conn, who)
