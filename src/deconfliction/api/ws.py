"""/v1/stream: the live stream of events for one party, over a WebSocket.

Connect with the token in an ``Authorization: Bearer`` header or, from a browser, as
``?token=``; add ``?after=ID`` to resume after the last event id you processed. The
server sends JSON messages ``{"id", "type", "t_s", "data"}`` with increasing ids, each
event once, already reduced to what the party may see. Unauthenticated connections
are closed with code 4401.
"""

from __future__ import annotations

import asyncio

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from deconfliction.api.deps import Context, bearer_token, principal_for
from deconfliction.errors import DeconflictionError
from deconfliction.service import events, hotline

router = APIRouter(tags=["stream"])

POLL_S: float = 0.5  # also picks up events written by other processes
WS_UNAUTHORIZED: int = 4401  # 4000-4999 are for applications; 401 as in HTTP


@router.websocket("/v1/stream")
async def stream(
    websocket: WebSocket, after: int = 0, token: str | None = None
) -> None:
    """Push the caller's events, resuming after ``after``."""
    ctx: Context = websocket.app.state.ctx
    try:
        who = principal_for(
            ctx, bearer_token(websocket.headers.get("authorization")) or token
        )
    except DeconflictionError:
        await websocket.close(code=WS_UNAUTHORIZED)
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
    finally:
        gone.cancel()
