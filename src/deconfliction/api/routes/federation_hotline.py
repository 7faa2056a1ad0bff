"""/v1/federation/hotline: the hotline between nodes (only on a node).

Officers of the node's party send, list and acknowledge messages and read the
common record and any equivocation found; peer nodes (mutual TLS, pinned, same
protocol version) hand over their signed entries and serve their checkpoint and
their copy of a chain (``federation/hotline.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.routes.federation import FedDep, PeerDep
from deconfliction.errors import InputError, NotFoundError, Problem
from deconfliction.federation import hotline

router = APIRouter(prefix="/v1/federation/hotline", tags=["federation"])


def _text(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise InputError([Problem("message", None, name, "must be a string")])
    return value


@router.post("/messages", status_code=201)
def send(
    fed: FedDep, ctx: CtxDep, who: WhoDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Send a message to a peer's node: signed here, queued, delivered in order."""
    with ctx.engine.begin() as conn:
        view = hotline.send(
            conn,
            fed,
            who,
            _text(body, "to"),
            _text(body, "text"),
            _text(body, "priority", "routine"),
            ctx.clock.now_t_s(),
        )
    ctx.notifier.notify()
    return view


@router.get("/messages")
def messages(fed: FedDep, ctx: CtxDep, who: WhoDep) -> list[dict[str, Any]]:
    """Every message between this node and its peers, with its status."""
    del who
    with ctx.engine.connect() as conn:
        return hotline.messages(conn, fed, ctx.clock.now_t_s())


@router.post("/messages/{message_id}/acknowledge")
def acknowledge(
    message_id: str, fed: FedDep, ctx: CtxDep, who: WhoDep
) -> dict[str, Any]:
    """Acknowledge a message from a peer (signed by this node, sent back)."""
    with ctx.engine.begin() as conn:
        view = hotline.acknowledge(conn, fed, who, message_id, ctx.clock.now_t_s())
    ctx.notifier.notify()
    return view


@router.get("/record")
def common_record(
    fed: FedDep,
    ctx: CtxDep,
    who: WhoDep,
    peer: Annotated[str, Query(max_length=64)],
) -> list[dict[str, Any]]:
    """The record held in common with ``peer``, merged by (time, author, seq)."""
    del who
    if peer not in fed.peers.parties():
        raise NotFoundError(f"{peer!r} is not a peer of this node")
    with ctx.engine.connect() as conn:
        return [e.as_json() for e in hotline.entries(conn, peer)]


@router.get("/equivocations")
def equivocations(fed: FedDep, ctx: CtxDep, who: WhoDep) -> list[dict[str, Any]]:
    """Every equivocation this node found, with both signed versions."""
    del who, fed
    with ctx.engine.connect() as conn:
        return hotline.equivocations(conn)


# --- between nodes ------------------------------------------------------------------


@router.post("/entries")
def take_entry(
    fed: FedDep, ctx: CtxDep, peer: PeerDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, str]:
    """A peer's node hands over its next signed entry of the common record."""
    with ctx.engine.begin() as conn:
        outcome = hotline.receive(conn, fed, peer, body, ctx.clock.now_t_s())
    ctx.notifier.notify()
    if outcome == hotline.DIFFERS:  # evidence kept (committed): refused for good
        raise InputError(
            [
                Problem(
                    "hotline entry",
                    None,
                    "seq",
                    "another entry with this seq "
                    "is held: kept as evidence of equivocation",
                )
            ]
        )
    return {"status": outcome}


@router.get("/checkpoint")
def checkpoint(fed: FedDep, ctx: CtxDep, peer: PeerDep) -> dict[str, Any]:
    """This node's signed checkpoint of its record with the asking peer."""
    with ctx.engine.begin() as conn:  # the node's key is registered on first use
        return hotline.checkpoint(conn, fed, peer, ctx.clock.now_t_s())


@router.get("/chains/{author}")
def chain(author: str, fed: FedDep, ctx: CtxDep, peer: PeerDep) -> list[dict[str, Any]]:
    """This node's copy of one chain of its record with the asking peer."""
    if author not in (peer, fed.node.party):
        raise NotFoundError(f"no chain of {author!r} in the record with {peer!r}")
    with ctx.engine.connect() as conn:
        return [e.as_json() for e in hotline.chain(conn, peer, author)]
