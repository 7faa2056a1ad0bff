"""Dependencies shared by the routes: the service context and the caller."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from deconfliction.api.errors import Unauthorized
from deconfliction.api.instruments import Metrics
from deconfliction.config import Settings
from deconfliction.service import auth
from deconfliction.service.clock import Clock
from deconfliction.service.keys import KeyRing
from deconfliction.service.live import LiveDetection
from deconfliction.service.retention import PruneReport
from deconfliction.service.store_health import StoreHealth

if TYPE_CHECKING:
    from deconfliction.federation.link import Federation


class Notifier:
    """Wakes stream connections when this process wrote events.

    ``notify`` may be called from any thread; waiters live on the event loop.
    Streams also poll the store, so events written by another process arrive too.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the running loop (at start-up)."""
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake every waiter."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        if self._event is not None:
            self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout_s: float) -> None:
        """Until the next notify, or ``timeout_s``."""
        event = self._event
        if event is None:
            await asyncio.sleep(timeout_s)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)


@dataclass
class Context:
    """What the routes work with, built once in ``create_app``."""

    settings: Settings
    engine: Engine
    clock: Clock
    live: LiveDetection
    notifier: Notifier
    keys: KeyRing
    store_health: StoreHealth
    metrics: Metrics = field(default_factory=Metrics)
    last_prune: PruneReport | None = None
    federation: Federation | None = None


def get_context(request: Request) -> Context:
    """The application's context."""
    ctx: Context = request.app.state.ctx
    return ctx


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal_for(ctx: Context, token: str | None) -> auth.Principal:
    """Authenticate a token.

    Raises:
        Unauthorized: for a missing, unknown, revoked or expired token.
    """
    if token is None:
        raise Unauthorized("a bearer token is required")
    with ctx.engine.connect() as conn:
        who = auth.authenticate(conn, token, ctx.clock.now_t_s())
    if who is None:
        raise Unauthorized("the bearer token is not valid")
    return who


def get_principal(
    request: Request, ctx: Annotated[Context, Depends(get_context)]
) -> auth.Principal:
    """The caller, from the bearer token."""
    return principal_for(ctx, bearer_token(request.headers.get("authorization")))


CtxDep = Annotated[Context, Depends(get_context)]
WhoDep = Annotated[auth.Principal, Depends(get_principal)]
