"""/v1/federation: what nodes say to each other (only on a node, ``serve --node``).

Routes for peers need the peer's node certificate, pinned (mutual TLS): the TLS
handshake already refuses a client certificate that is not pinned, and the route
refuses a request that came without one. They also refuse a peer that runs
another protocol version than this node (409), except the routes by which
versions are offered and accepted.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.params import VersionPath
from deconfliction.errors import ConflictError, ForbiddenError
from deconfliction.federation import certs
from deconfliction.federation.link import PROTOCOL_HEADER, Federation

router = APIRouter(prefix="/v1/federation", tags=["federation"])


def federation_of(ctx: CtxDep) -> Federation:
    """The node's federation (routes are only mounted on a node)."""
    assert ctx.federation is not None
    return ctx.federation


FedDep = Annotated[Federation, Depends(federation_of)]


def presented_peer(request: Request, fed: Federation) -> str | None:
    """The peer whose pinned certificate the client presented, if any."""
    tls = request.scope.get("extensions", {}).get("tls", {})
    chain = tls.get("client_cert_chain") or []
    return fed.peers.party_of(chain[0] if chain else None)


def peer_any_version(request: Request, fed: FedDep) -> str:
    """The peer whose pinned certificate the client presented.

    Raises:
        ForbiddenError: no client certificate, or not a pinned peer's.
    """
    party = presented_peer(request, fed)
    if party is None:
        raise ForbiddenError("only a peer node, with its pinned certificate")
    return party


def peer_same_version(
    request: Request, fed: FedDep, party: Annotated[str, Depends(peer_any_version)]
) -> str:
    """A pinned peer that runs the same protocol version as this node.

    Raises:
        ConflictError: it runs another version.
    """
    theirs = request.headers.get(PROTOCOL_HEADER, "")
    ours = fed.in_effect_tag()
    if theirs != ours:
        raise ConflictError(
            f"the node of {party!r} runs protocol {theirs or 'unknown'}, "
            f"this node runs {ours}: traffic refused until both run the same"
        )
    return party


PeerDep = Annotated[str, Depends(peer_same_version)]


@router.get("/node")
def node(fed: FedDep) -> dict[str, Any]:
    """Who this node is (no token needed; the certificate says the same)."""
    return {
        "party": fed.node.party,
        "fingerprint": fed.node.fingerprint,
        "protocol": fed.in_effect_tag(),
    }


@router.get("/hello")
def hello(fed: FedDep, peer: PeerDep) -> dict[str, Any]:
    """A peer checks its link (mutual TLS, same version)."""
    return {"node": fed.node.party, "peer": peer, "protocol": fed.in_effect_tag()}


@router.get("/links")
def links(fed: FedDep, who: WhoDep) -> list[dict[str, Any]]:
    """This node's links to its peers, for its officers and console."""
    del who
    return [state.as_json() for state in fed.links()]


@router.post("/offers")
def offer(
    request: Request, fed: FedDep, ctx: CtxDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """A node offers a protocol version, checked against the certificate and
    signature it carries. A peer this node pinned must offer over mutual TLS with
    that certificate; a node not known yet may offer without one, at most
    ``ANONYMOUS_OFFERS_PER_WINDOW`` a minute over all such callers (429), and never
    a version of a protocol this node's party accepted (403)."""
    from deconfliction.federation import agreement

    now = ctx.clock.now_t_s()
    presented = presented_peer(request, fed)
    sender = body.get("party")
    if presented is not None and presented != sender:
        raise ForbiddenError(f"the node of {presented!r} offers only its own versions")
    if presented is None:
        if isinstance(sender, str) and fed.peers.pem(sender) is not None:
            raise ForbiddenError(
                f"the node of {sender!r} is pinned here: offer over mutual TLS "
                "with its certificate"
            )
        if not fed.anonymous_offers.take(now):
            wait_s = fed.anonymous_offers.retry_after_s(now)
            raise HTTPException(
                429,
                "too many offers from nodes not known here; try again later",
                headers={"Retry-After": str(max(1, math.ceil(wait_s)))},
            )
    with ctx.engine.begin() as conn:
        if presented is None:
            agreement.refuse_anonymous(conn, fed, body)
        version = agreement.receive_offer(conn, fed, body, now)
    ctx.notifier.notify()
    return {"status": version.status, "awaiting": list(version.awaiting)}


@router.post("/acceptances")
def acceptance(
    fed: FedDep,
    ctx: CtxDep,
    peer: Annotated[str, Depends(peer_any_version)],
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """A peer node's signature of a version's digest (mutual TLS, any version:
    this is how nodes come to run the same one)."""
    from deconfliction.federation import agreement

    with ctx.engine.begin() as conn:
        version = agreement.receive_acceptance(
            conn, fed, peer, body, ctx.clock.now_t_s()
        )
    ctx.notifier.notify()
    return {"status": version.status, "awaiting": list(version.awaiting)}


@router.post("/positions")
def positions(
    fed: FedDep, ctx: CtxDep, peer: PeerDep, body: Annotated[Any, Body()]
) -> dict[str, Any]:
    """A peer's positions of its own aircraft (mutual TLS, same version; only
    under a sharing level that sends tracks between nodes): stored as its party's,
    once per batch id, for this node's live detection."""
    from deconfliction.federation import sharing

    with ctx.engine.begin() as conn:
        result = sharing.receive_positions(
            conn,
            fed.node.party,
            peer,
            body,
            ctx.clock.now_t_s(),
            ctx.settings.future_tolerance_s,
        )
    return result.as_json()


@router.post("/operations")
def operations(
    fed: FedDep, ctx: CtxDep, peer: PeerDep, body: Annotated[Any, Body()]
) -> dict[str, Any]:
    """A peer's operation of its own party (mutual TLS, same version; only under a
    sharing level that sends tracks between nodes): kept as its party's, each
    version once, and checked against this node's operations."""
    from deconfliction.federation import operations as federated_operations

    with ctx.engine.begin() as conn:
        answer = federated_operations.receive_operation(
            conn, fed.node.party, peer, body, ctx.clock.now_t_s()
        )
    ctx.notifier.notify()
    return answer


@router.post("/referee/tracks")
def referee_tracks(
    request: Request,
    fed: FedDep,
    ctx: CtxDep,
    peer: PeerDep,
    body: Annotated[Any, Body()],
) -> dict[str, Any]:
    """On the referee: a party's picture (newest position of each of its aircraft)
    in, held in memory for the protocol's window; out, the other parties' aircraft
    in conflict with its own (mutual TLS, same version)."""
    from deconfliction.federation import referee

    with ctx.engine.connect() as conn:
        return referee.receive_tracks(
            conn,
            request.app.state.referee,
            fed,
            peer,
            body,
            ctx.clock.now_t_s(),
            ctx.settings.future_tolerance_s,
        )


@router.get("/referee/held")
def referee_held(request: Request, fed: FedDep, who: WhoDep) -> dict[str, Any]:
    """On the referee, for its own officers: how many aircraft it holds now, by
    party (nothing once the window has passed)."""
    del who
    return {"node": fed.node.party, "held": request.app.state.referee.held()}


@router.get("/protocols/{protocol_id}/versions/{version}/signatures")
def signatures(
    protocol_id: str, version: VersionPath, fed: FedDep, ctx: CtxDep, who: WhoDep
) -> dict[str, Any]:
    """Every node's signature of a version's digest that this node holds, each
    checked here against the signing key of that node's pinned certificate (this
    node's own for its own)."""
    from deconfliction.federation import agreement
    from deconfliction.service import protocols

    with ctx.engine.connect() as conn:
        found = protocols.get_visible(conn, who, protocol_id, version)
        held = agreement.signatures(conn, found.pk)
    out: dict[str, Any] = {}
    for party, signature in sorted(held.items()):
        pem = (
            fed.node.certificate() if party == fed.node.party else fed.peers.pem(party)
        )
        valid = None
        if pem is not None and signature is not None:
            key = certs.identity(pem).signing_key
            valid = agreement.digest_signed(key, found.sha256, signature)
        out[party] = {
            "signature": signature,
            "node_fingerprint": None if pem is None else certs.fingerprint_pem(pem),
            "valid": valid,
        }
    return {
        "protocol_id": protocol_id,
        "version": version,
        "sha256": found.sha256,
        "status": found.status,
        "signatures": out,
    }
