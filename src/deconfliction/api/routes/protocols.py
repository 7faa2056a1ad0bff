"""/v1/protocols: propose, accept, withdraw, read; the version in effect."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from deconfliction.adapters.geojson_io import line_properties
from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.params import VersionPath
from deconfliction.api.schemas import ProtocolVersionOut
from deconfliction.domain.protocol import Protocol
from deconfliction.errors import InputError, NotFoundError, Problem
from deconfliction.service import protocols, withdrawal

router = APIRouter(prefix="/v1/protocols", tags=["protocols"])

MAX_PROTOCOL_BYTES: int = 2_000_000


def geometry(protocol: Protocol) -> dict[str, Any]:
    """Lines and zones as GeoJSON features (lon, lat order)."""
    features: list[dict[str, Any]] = []
    for line in protocol.lines:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [lon, lat]
                        for lat, lon in zip(line.lat_deg, line.lon_deg, strict=True)
                    ],
                },
                "properties": line_properties(line),
            }
        )
    for zone in protocol.zones:
        ring = [[lon, lat] for lat, lon in zip(zone.lat_deg, zone.lon_deg, strict=True)]
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "kind": "zone",
                    "id": zone.id,
                    "name": zone.name,
                    "owner": zone.owner,
                    "floor_ft": zone.floor_ft,
                    "ceiling_ft": zone.ceiling_ft
                    if zone.ceiling_ft != float("inf")
                    else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _out(v: protocols.ProtocolVersion, full: bool) -> ProtocolVersionOut:
    p = v.protocol
    return ProtocolVersionOut(
        protocol_id=p.id,
        version=p.version,
        title=p.title,
        status=v.status,
        sharing=p.sharing.value,
        parties=list(p.parties),
        party_names={pid: party.name for pid, party in p.parties.items()},
        accepted_by=list(v.accepted_by),
        awaiting=list(v.awaiting),
        proposed_by=v.proposed_by,
        proposed_t_s=v.proposed_t_s,
        effective_t_s=v.effective_t_s,
        superseded_t_s=v.superseded_t_s,
        notice_s=p.termination.notice_s,
        notice_by=v.notice_by,
        notice_t_s=v.notice_t_s,
        ends_t_s=v.ends_t_s,
        sha256=v.sha256,
        toml=v.toml_text if full else None,
        geometry=geometry(p) if full else None,
    )


@router.get("", response_model=list[ProtocolVersionOut])
def list_versions(ctx: CtxDep, who: WhoDep) -> list[ProtocolVersionOut]:
    """Every version naming the caller's party, oldest first."""
    with ctx.engine.connect() as conn:
        return [_out(v, full=False) for v in protocols.list_visible(conn, who)]


@router.post(
    "",
    response_model=ProtocolVersionOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/toml": {"schema": {"type": "string"}}},
        }
    },
)
async def propose(request: Request, ctx: CtxDep, who: WhoDep) -> ProtocolVersionOut:
    """Propose a version (the TOML file as the body); counts as the proposer's
    acceptance."""
    raw = await request.body()
    if len(raw) > MAX_PROTOCOL_BYTES:
        raise InputError([Problem("request", None, "body", "protocol file too large")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError([Problem("request", None, "body", "not UTF-8 text")]) from None

    def work() -> ProtocolVersionOut:
        with ctx.engine.begin() as conn:
            now = ctx.clock.now_t_s()
            if ctx.federation is None:
                version = protocols.propose(conn, who, text, now)
            else:  # a node: signed, and offered to the other nodes
                from deconfliction.federation import agreement

                version = agreement.propose(conn, ctx.federation, who, text, now)
            return _out(version, full=True)

    import anyio

    out = await anyio.to_thread.run_sync(work)
    ctx.notifier.notify()
    return out


@router.get("/current", response_model=ProtocolVersionOut)
def current(ctx: CtxDep, who: WhoDep) -> ProtocolVersionOut:
    """The caller's agreement in effect, with its text and geometry: with several
    (one per set of partners), the oldest; ``GET /v1/protocols`` lists them all
    with their status."""
    with ctx.engine.connect() as conn:
        effective = protocols.agreement_of(conn, who.party_id)
    if effective is None:
        raise NotFoundError("protocol in effect")
    return _out(effective, full=True)


@router.get("/{protocol_id}/versions/{version}", response_model=ProtocolVersionOut)
def get_version(
    protocol_id: str, version: VersionPath, ctx: CtxDep, who: WhoDep
) -> ProtocolVersionOut:
    """One version, with its text and geometry."""
    with ctx.engine.connect() as conn:
        return _out(protocols.get_visible(conn, who, protocol_id, version), full=True)


@router.post(
    "/{protocol_id}/versions/{version}/accept", response_model=ProtocolVersionOut
)
def accept(
    protocol_id: str, version: VersionPath, ctx: CtxDep, who: WhoDep
) -> ProtocolVersionOut:
    """Accept a version for the caller's party; the last one makes it effective."""
    with ctx.engine.begin() as conn:
        now = ctx.clock.now_t_s()
        if ctx.federation is None:
            accepted = protocols.accept(conn, who, protocol_id, version, now)
        else:  # a node: signed, and sent to the other nodes
            from deconfliction.federation import agreement

            accepted = agreement.accept(
                conn, ctx.federation, who, protocol_id, version, now
            )
        out = _out(accepted, full=True)
    ctx.notifier.notify()
    return out


@router.post(
    "/{protocol_id}/versions/{version}/withdraw", response_model=ProtocolVersionOut
)
def withdraw(
    protocol_id: str, version: VersionPath, ctx: CtxDep, who: WhoDep
) -> ProtocolVersionOut:
    """Give notice of the caller's party's withdrawal from a version in effect, under
    its termination clause (``[termination] notice_s``): it ends that long after.
    Only an officer or admin of a party the version names; to every other party the
    answer is the one for a version that does not exist."""
    with ctx.engine.begin() as conn:
        out = _out(
            withdrawal.give_notice(
                conn, ctx.keys, who, protocol_id, version, ctx.clock.now_t_s()
            ),
            full=True,
        )
    ctx.notifier.notify()
    return out
