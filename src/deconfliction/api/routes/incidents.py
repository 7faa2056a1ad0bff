"""/v1/incidents: the registry, its lifecycle, remarks and daily counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.api.params import IdPath, time_param
from deconfliction.api.schemas import RemarkIn, StatusIn
from deconfliction.service import incidents, protocols

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

DAY_S: float = 86_400.0


@router.get("")
def list_incidents(
    ctx: CtxDep,
    who: WhoDep,
    since: str | None = None,
    until: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Incidents the caller may see, newest first."""
    with ctx.engine.connect() as conn:
        sharing = protocols.current_sharing(conn)
        return incidents.list_visible(
            conn,
            who,
            sharing,
            time_param("since", since),
            time_param("until", until),
            status,
        )


@router.get("/stats")
def stats(
    ctx: CtxDep, who: WhoDep, since: str | None = None, until: str | None = None
) -> dict[str, Any]:
    """Incident counts per party at fault, UTC day and kind (default: last 7 days)."""
    now = ctx.clock.now_t_s()
    until_t_s = time_param("until", until) or now
    since_t_s = time_param("since", since) or until_t_s - 7 * DAY_S
    with ctx.engine.connect() as conn:
        sharing = protocols.current_sharing(conn)
        counts = incidents.daily_counts(conn, who, sharing, since_t_s, until_t_s)
    return {"since_t_s": since_t_s, "until_t_s": until_t_s, "by_party": counts}


@router.get("/{incident_id}")
def get_incident(incident_id: IdPath, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """One incident with its evidence and remarks."""
    with ctx.engine.connect() as conn:
        sharing = protocols.current_sharing(conn)
        return incidents.get_visible(conn, who, incident_id, sharing)


@router.post("/{incident_id}/status")
def set_status(
    incident_id: IdPath, body: StatusIn, ctx: CtxDep, who: WhoDep
) -> dict[str, Any]:
    """Move the incident along open, reported, acknowledged, resolved or disputed,
    from the ``version`` read (409 when it changed since); who may make which change
    is in the README's incident section."""
    with ctx.engine.begin() as conn:
        sharing = protocols.current_sharing(conn)
        out = incidents.set_status(
            conn,
            who,
            incident_id,
            body.status,
            body.version,
            ctx.clock.now_t_s(),
            sharing,
        )
    ctx.notifier.notify()
    return out


@router.post("/{incident_id}/remarks")
def add_remark(
    incident_id: IdPath, body: RemarkIn, ctx: CtxDep, who: WhoDep
) -> dict[str, Any]:
    """Add a remark from the caller's party."""
    with ctx.engine.begin() as conn:
        sharing = protocols.current_sharing(conn)
        out = incidents.add_remark(
            conn, who, incident_id, body.text, ctx.clock.now_t_s(), sharing
        )
    ctx.notifier.notify()
    return out
