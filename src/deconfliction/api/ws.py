"""/v1/stream: the live stream of events for one party, over a WebSocket.

Authenticate with the token in an ``Authorization: Bearer`` header or, where a client
cannot set headers (a browser), as the first message after connecting:
``{"token": "..."}``, within ``AUTH_TIMEOUT_S``. The token never goes into the URL,
which servers and proxies write to their logs. Add ``?after=ID`` to resume after the
last event id you processed. The server sends JSON messages ``{"id", "type", "t_s",
"data"}`` with increasing ids, each event once, already reduced to what the party may
see. A missing, unknown, revoked or expired token closes the connection with code
4401, also while streaming: the token is checked again every ``RECHECK_S``; an
``after`` that is not an event id (0 to 2^63-1) with code 4400. When the
store fails (unreachable, disk full, ...), the connection is closed with code 1013
("try again later", RFC 6455 as registered by IANA) and a generic reason; reconnect
later with ``?after=``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from deconfliction.api.deps import Context, bearer_token, principal_for
from deconfliction.api.params import MAX_ID
from deconfliction.errors import DeconflictionError
from deconfliction.service import auth, events, hotline

router = APIRouter(tags=["stream"])

POLL_S: float = 0.5  # also picks up events written by other processes
WS_UNAUTHORIZED: int = 4401  # 4000-4999 are for applications; 401 as in HTTP
WS_TRY_AGAIN_LATER: int = 1013  # the store failed: a temporary condition
AUTH_TIMEOUT_S: float = 10.0  # for the first message, when there is no header
MAX_AUTH_MESSAGE_CHARS: int = 1000  # a token is 43 characters
WS_BAD_REQUEST: int = 4400  # a parameter that is not valid; 400 as in HTTP
RECHECK_S: float = 5.0  # a revoked or expired token loses its open stream this fast


async def _first_message_token(websocket: WebSocket) -> str | None:
    """The token of a first message ``{"token": "..."}``, or None."""
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
    except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        return None
    if len(raw) > MAX_AUTH_MESSAGE_CHARS:
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    token = message.get("token") if isinstance(message, dict) else None
    return token if isinstance(token, str) and token else None


def _event_id(text: str) -> int | None:
    """``?after=``: an event id from 0 to :data:`MAX_ID`, or None.

    >>> _event_id("42"), _event_id("1e23"), _event_id(str(2**63))
    (42, None, None)
    """
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def _authenticate(ctx: Context, token: str | None) -> auth.Principal | None:
    """The token's principal, None for a bad token; a store fault raises."""
    try:
        return principal_for(ctx, token)
    except DeconflictionError:
        return None


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket, after: str = "0") -> None:
    """Push the caller's events, resuming after ``after``."""
    ctx: Context = websocket.app.state.ctx
    # Accept first, so that a refusal is the documented close code (a refusal
    # before accepting reaches the client as an HTTP 403).
    await websocket.accept()
    after_id = _event_id(after)
    if after_id is None:
        await websocket.close(code=WS_BAD_REQUEST, reason="after: an event id")
        return
    token = bearer_token(websocket.headers.get("authorization"))
    if token is None:
        token = await _first_message_token(websocket)
    try:
        who = await anyio.to_thread.run_sync(_authenticate, ctx, token)
    except Exception as exc:
        await _close_on_store_fault(websocket, ctx, exc)
        return
    if who is None:
        await websocket.close(code=WS_UNAUTHORIZED)
        return
    checked = time.monotonic()
    last = after_id

    def read(since: int) -> list[events.StreamEvent]:
        with ctx.engine.connect() as conn:
            return events.fetch(conn, who.party_id, since)

    def delivered(message_ids: list[int]) -> None:
        with ctx.engine.begin() as conn:
            hotline.mark_delivered(
                conn, ctx.keys, who.party_id, message_ids, ctx.clock.now_t_s()
            )

    async def until_disconnect() -> None:
        # Once authenticated the client sends nothing; reading is how a closed
        # connection is noticed while no event is due (otherwise the handler would
        # outlive the client).
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    gone = asyncio.create_task(until_disconnect())
    handle = ctx.metrics.stream.opened(who.party_id, last)
    try:
        while not gone.done():
            if time.monotonic() - checked >= RECHECK_S:
                if await anyio.to_thread.run_sync(_authenticate, ctx, token) is None:
                    await websocket.close(code=WS_UNAUTHORIZED)
                    return
                checked = time.monotonic()
            batch = await anyio.to_thread.run_sync(read, last)
            for event in batch:
                await websocket.send_json(event.as_json())
                last = event.id
            ctx.metrics.stream.sent(handle, last)
            received = [
                int(e.data["message"]["id"])
                for e in batch
                if e.type == "hotline.sent"
                and e.data["message"]["from"] != who.party_id
            ]
            if received:
                await anyio.to_thread.run_sync(delivered, received)
                ctx.notifier.notify()
            if not batch:  # else read on at once: a batch is bounded in bytes too
                waiting = asyncio.create_task(ctx.notifier.wait(POLL_S))
                await asyncio.wait({gone, waiting}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
    except (WebSocketDisconnect, RuntimeError):
        return
    except Exception as exc:
        await _close_on_store_fault(websocket, ctx, exc)
    finally:
        gone.cancel()
        ctx.metrics.stream.closed(handle)


async def _close_on_store_fault(
    websocket: WebSocket, ctx: Context, exc: Exception
) -> None:
    """Close with ``WS_TRY_AGAIN_LATER`` for a store fault; re-raise anything else."""
    fault = ctx.store_health.record(exc)
    if fault is None:
        raise exc
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.close(code=WS_TRY_AGAIN_LATER, reason=fault.kind.description)
