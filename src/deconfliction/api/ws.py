"""/v1/stream: the live stream of events for one party, over a WebSocket.

Connect with the token in an ``Authorization: Bearer`` header or, from a browser, as
``?token=``; add ``?after=ID`` to resume after the last event id you processed. The
server sends JSON messages ``{"id", "type", "t_s", "data"}`` with increasing ids, each
event once, already reduced to what the party may see. Unauthenticated connections
are closed with code 4401. When the store fails (unreachable, disk full, ...), the
connection is accepted and closed with code 1013 ("try again later", RFC 6455 as
registered by IANA) and a generic reason; reconnect later with ``?after=``.
"""

from __future__ import annotations

import asyncio
import contextlib

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from deconfliction.api.deps import Context, bearer_token, principal_for
from deconfliction.errors import DeconflictionError
from deconfliction.service import events, hotline

router = APIRouter(tags=["stream"])

POLL_S: float = 0.5  # also picks up events written by other processes
WS_UNAUTHORIZED: int = 4401  # 4000-4999 are for applications; 401 as in HTTP
WS_TRY_AGAIN_LATER: int = 1013  # the store failed: a temporary condition


@router.websocket("/v1/stream")
async def stream(
    websocket: WebSocket, after: int = 0, token: str | None = None
) -> None:
    """Push the caller's events, resuming after ``after``."""
    ctx: Context = websocket.app.state.ctx
    try:
        who = await anyio.to_thread.run_sync(
            principal_for,
            ctx,
            bearer_token(websocket.headers.get("authorization")) or token,
        )
    except DeconflictionError:
        await websocket.close(code=WS_UNAUTHORIZED)
        return
    except Exception as exc:
        await _close_on_store_fault(websocket, ctx, exc, accepted=False)
        return
    await websocket.accept()
    last = max(0, after)

    def read(since: int) -> list[events.StreamEvent]:
        with ctx.engine.connect() as conn:
            return events.fetch(conn, who.party_id, since)

    def delivered(message_ids: list[int]) -> None:
        with ctx.engine.begin() as conn:
            hotline.mark_delivered(
                conn, ctx.keys, who.party_id, message_ids, ctx.clock.now_t_s()
            )

    async def until_disconnect() -> None:
        # The client sends nothing; reading is how a closed connection is noticed
        # while no event is due (otherwise the handler would outlive the client).
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    gone = asyncio.create_task(until_disconnect())
    try:
        while not gone.done():
            batch = await anyio.to_thread.run_sync(read, last)
            for event in batch:
                await websocket.send_json(event.as_json())
                last = event.id
            received = [
                int(e.data["message"]["id"])
                for e in batch
                if e.type == "hotline.sent"
                and e.data["message"]["from"] != who.party_id
            ]
            if received:
                await anyio.to_thread.run_sync(delivered, received)
                ctx.notifier.notify()
            if len(batch) < events.MAX_FETCH:
                waiting = asyncio.create_task(ctx.notifier.wait(POLL_S))
                await asyncio.wait({gone, waiting}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
    except (WebSocketDisconnect, RuntimeError):
        return
    except Exception as exc:
        await _close_on_store_fault(websocket, ctx, exc, accepted=True)
    finally:
        gone.cancel()


async def _close_on_store_fault(
    websocket: WebSocket, ctx: Context, exc: Exception, accepted: bool
) -> None:
    """Close with ``WS_TRY_AGAIN_LATER`` for a store fault; re-raise anything else."""
    fault = ctx.store_health.record(exc)
    if fault is None:
        raise exc
    if not accepted:
        await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.close(code=WS_TRY_AGAIN_LATER, reason=fault.kind.description)
