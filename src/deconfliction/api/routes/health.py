"""Liveness and readiness, for supervisors and load balancers.

* ``/livez``: the process answers (no store access): restart it when this fails.
* ``/readyz``: the store is reachable, at the newest schema and taking writes, and
  the detection loop ticks: send it traffic only while this is 200 (503 with
  ``Retry-After`` otherwise).
* ``/healthz``: the same as ``/readyz`` (kept for existing monitors).

Anyone may call them, so they say ok or not ok and why in generic words only: no
party, aircraft or count. ``/healthz`` called with a token also shows the feeds
that token may see (``feeds``): a party's token its own party's feed only (another
party's silence would tell when it flies), the operator's token every party's. Per
feed: ``lag_s`` (now less its newest position's time), ``clock_skew_s`` (how old its
freshest recent position was on arrival: its clock behind the server's, plus
transport; negative when its clock is ahead), ``silent_s`` (since it last delivered
anything), ``stale`` (``lag_s`` over the protocol's ``stale_after_s``: its aircraft
are out of the live picture, and no alert can involve them).

With the operator's token, ``/healthz`` also shows the newest completed detection
tick (``detection_tick``, ``service.tick_timing``): ``duration_s``, ``age_s`` (since
its picture), ``lag_s`` (how much older than one interval its picture is now),
``interval_s``, ``late`` (it took longer than the interval) and ``late_total``.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from deconfliction.api.deps import Context, CtxDep, bearer_token
from deconfliction.service import auth, feeds
from deconfliction.service.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process is alive (the store is not consulted)."""
    return {"status": "ok"}


def _ready(ctx: CtxDep, request: Request | None = None) -> JSONResponse:
    state = readiness(
        ctx.store_health, ctx.live, ctx.settings.run_detection, ctx.clock.now_t_s()
    )
    body: dict[str, Any] = {
        "status": "ok" if state.ok else "unavailable",
        "store": state.store.reason,
        "detection": state.detection.reason,
    }
    if request is not None and state.store.ok:
        token = bearer_token(request.headers.get("authorization"))
        if token is not None:
            feeds = _feeds_for(ctx, token)
            if feeds is not None:
                body["feeds"] = feeds
            tick = ctx.metrics.ticks.newest
            if tick is not None and _is_operator(ctx, token):
                body["detection_tick"] = tick.as_json(ctx.clock.now_t_s())
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
def healthz(ctx: CtxDep, request: Request) -> JSONResponse:
    """The same as ``/readyz``; with a token, also the feeds it may see."""
    return _ready(ctx, request)


def _is_operator(ctx: Context, token: str) -> bool:
    expected = ctx.settings.operator_token
    return expected is not None and hmac.compare_digest(
        token.encode("utf-8"), expected.get_secret_value().encode("utf-8")
    )


def _feeds_for(ctx: Context, token: str) -> dict[str, dict[str, Any]] | None:
    """The feeds the token's holder may see (None: a token that is not valid:
    no feeds, and no error, on a health check)."""
    now_t_s = ctx.clock.now_t_s()
    with ctx.engine.connect() as conn:
        if _is_operator(ctx, token):
            return feeds.feed_health(conn, ctx.metrics.feeds, None, now_t_s)
        who = auth.authenticate(conn, token, now_t_s)
        if who is None:
            return None
        return feeds.feed_health(conn, ctx.metrics.feeds, who.party_id, now_t_s)
