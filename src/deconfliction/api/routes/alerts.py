"""/v1/alerts: conflict alerts involving the caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from deconfliction.api.deps import CtxDep, WhoDep
from deconfliction.service import alerts, protocols

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("")
def list_alerts(ctx: CtxDep, who: WhoDep, active: bool = False) -> list[dict[str, Any]]:
    """Alerts involving the caller, newest first (``active=true``: not cleared)."""
    with ctx.engine.connect() as conn:
        sharing = protocols.current_sharing(conn)
        return alerts.list_visible(conn, who, sharing, active_only=active)


@router.get("/{alert_id}")
def get_alert(alert_id: str, ctx: CtxDep, who: WhoDep) -> dict[str, Any]:
    """One alert."""
    with ctx.engine.connect() as conn:
        sharing = protocols.current_sharing(conn)
        return alerts.get_visible(conn, who, alert_id, sharing)
