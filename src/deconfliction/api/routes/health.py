"""/healthz: is the store reachable, is detection running."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from deconfliction.api.deps import CtxDep
from deconfliction.store import engine as store_engine

router = APIRouter(tags=["health"])

STALE_TICKS: float = 3.0  # detection counts as stalled after three missed intervals


@router.get("/healthz")
def healthz(ctx: CtxDep) -> JSONResponse:
    """Store and detection loop status; 503 when either is not working."""
    store: dict[str, Any] = {"backend": ctx.engine.dialect.name}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        store["revision"] = store_engine.current_revision(ctx.engine)
        store["ok"] = store["revision"] == store_engine.head_revision()
    except Exception as exc:
        store.update(ok=False, error=type(exc).__name__)
    live = ctx.live
    tick = live.last_tick
    now = ctx.clock.now_t_s()
    detection: dict[str, Any] = {
        "enabled": ctx.settings.run_detection,
        "interval_s": live.interval_s,
        "last_tick_t_s": tick.t_s if tick else None,
        "age_s": round(now - tick.t_s, 3) if tick else None,
        "protocol": tick.protocol if tick else None,
        "aircraft": tick.aircraft if tick else 0,
        "conflicts": tick.conflicts if tick else 0,
        "last_error": live.last_error,
    }
    running = tick is not None and now - tick.t_s <= STALE_TICKS * live.interval_s
    detection["ok"] = (not ctx.settings.run_detection) or (
        running and live.last_error is None
    )
    ok = bool(store["ok"] and detection["ok"])
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "store": store, "detection": detection},
        status_code=200 if ok else 503,
    )
