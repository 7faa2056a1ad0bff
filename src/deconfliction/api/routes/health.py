"""Liveness and readiness, for supervisors and load balancers.

* ``/livez``: the process answers (no store access): restart it when this fails.
* ``/readyz``: the store is reachable, at the newest schema and taking writes, and
  the detection loop ticks: send it traffic only while this is 200 (503 with
  ``Retry-After`` otherwise).
* ``/healthz``: the same as ``/readyz`` (kept for existing monitors).

Anyone may call them, so they say ok or not ok and why in generic words only: no
party, aircraft or count.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from deconfliction.api.deps import CtxDep
from deconfliction.service.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process is alive (the store is not consulted)."""
    return {"status": "ok"}


def _ready(ctx: CtxDep) -> JSONResponse:
    state = readiness(
        ctx.store_health, ctx.live, ctx.settings.run_detection, ctx.clock.now_t_s()
    )
    body: dict[str, Any] = {
        "status": "ok" if state.ok else "unavailable",
        "store": state.store.reason,
        "detection": state.detection.reason,
    }
    if state.ok:
        return JSONResponse(body)
    return JSONResponse(
        body, status_code=503, headers={"Retry-After": str(state.retry_after_s)}
    )


@router.get("/readyz")
def readyz(ctx: CtxDep) -> JSONResponse:
    """200 when the store takes writes and detection runs; 503 otherwise."""
    return _ready(ctx)


@router.get("/healthz")
def healthz(ctx: CtxDep) -> JSONResponse:
    """The same as ``/readyz``."""
    return _ready(ctx)
