"""The FastAPI application: ``create_app(settings)`` builds everything, nothing
happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI

from deconfliction import __version__
from deconfliction.api import background, errors, metrics
from deconfliction.api.deps import Context, Notifier
from deconfliction.api.headers import SecurityHeaders
from deconfliction.api.limits import BodySizeLimit, RateLimit
from deconfliction.api.routes import (
    alerts,
    health,
    incidents,
    parties,
    protocols,
    tracks,
)
from deconfliction.api.routes import console as console_routes
from deconfliction.api.routes import hotline as hotline_routes
from deconfliction.api.routes import operations as operations_routes
from deconfliction.api.routes import record as record_routes
from deconfliction.api.routes import reports as reports_routes
from deconfliction.api.text_guard import TextGuard
from deconfliction.api.ws import router as stream_router
from deconfliction.config import Settings
from deconfliction.errors import LeaseLostError
from deconfliction.service import hotline, planning, withdrawal
from deconfliction.service.clock import Clock, SystemClock
from deconfliction.service.keys import KeyRing
from deconfliction.service.leadership import new_holder_id
from deconfliction.service.live import LiveDetection, TickReport
from deconfliction.service.store_health import StoreHealth
from deconfliction.store import engine as store_engine

log = logging.getLogger(__name__)


async def _run_detection(ctx: Context, stopping: asyncio.Event) -> None:
    """Tick at the protocol's interval until asked to stop (a tick in flight
    finishes first), while this process holds the lease of live detection;
    otherwise stand by and try again (``service.leadership``). On stopping, give
    the lease up so that another process takes over at once."""
    while not stopping.is_set():
        started = time.monotonic()
        pause_s = ctx.live.interval_s
        ticked = False
        report: TickReport | None = None
        try:
            if await asyncio.to_thread(ctx.live.lead):
                ticked = True
                report = await asyncio.to_thread(ctx.live.tick)
                hotline_events = await asyncio.to_thread(_hotline_tick, ctx)
                if report.alert_events or report.violation_events or hotline_events:
                    ctx.notifier.notify()
            else:
                pause_s = ctx.live.standby_pause_s(ctx.clock.now_t_s())
            ctx.live.last_error = None
        except LeaseLostError as exc:  # another process took over: stand by
            log.warning("live detection: tick not committed: %s", exc)
            ctx.live.last_error = None
        except Exception as exc:  # keep detecting: a bad tick must not stop the loop
            ctx.metrics.ticks_failed.inc()
            fault = ctx.store_health.record(exc)  # logged there, rate-limited
            if fault is None:
                log.exception("detection tick failed")
                ctx.live.last_error = f"{type(exc).__name__}: {exc}"
            else:
                ctx.live.last_error = f"store {fault.kind.value}"
        elapsed = time.monotonic() - started
        if ticked:
            ctx.metrics.tick_seconds.observe(elapsed)
            if report is not None:
                timing = ctx.metrics.ticks.done(
                    report.t_s, elapsed, ctx.live.interval_s, ctx.clock.now_t_s()
                )
                if timing.late:
                    ctx.metrics.ticks_late.inc()
        await background.pause(stopping, pause_s - elapsed)
    try:
        await asyncio.to_thread(ctx.live.release)
    except Exception as exc:
        if ctx.store_health.record(exc) is None:
            log.exception("live detection: could not give the lease up")


def _hotline_tick(ctx: Context) -> int:
    with ctx.engine.begin() as conn:
        now = ctx.clock.now_t_s()
        ended = withdrawal.end_due(conn, ctx.keys, now)
        return ended + hotline.tick(conn, ctx.keys, now) + planning.tick(conn, now)


async def _run_links(ctx: Context, stopping: asyncio.Event) -> None:
    """A node's links to its peers (``federation.link``), every link interval."""
    fed = ctx.federation
    assert fed is not None
    while not stopping.is_set():
        started = time.monotonic()
        interval_s = ctx.settings.link_interval_s or ctx.live.interval_s
        try:
            await asyncio.to_thread(fed.tick, interval_s)
        except Exception as exc:  # keep the links going: a bad round must not stop it
            if ctx.store_health.record(exc) is None:
                log.exception("federation: link round failed")
        await background.pause(stopping, interval_s - (time.monotonic() - started))
    await asyncio.to_thread(fed.close)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    engine = store_engine.make_engine(settings.database_url)
    store_health = StoreHealth(engine)
    store_health.watch()
    ctx = Context(
        settings=settings,
        engine=engine,
        clock=clock,
        live=LiveDetection(
            engine, clock, settings.detection_interval_s, holder=new_holder_id()
        ),
        notifier=Notifier(),
        keys=KeyRing(settings.keys_dir),
        store_health=store_health,
    )
    if settings.node_dir is not None:
        from deconfliction.federation.link import Federation
        from deconfliction.federation.node_dir import load_node

        ctx.federation = Federation(load_node(settings.node_dir), engine, clock)
        ctx.federation.changed = ctx.notifier.notify
        from deconfliction.federation import operations, referee, sharing

        sharing.install(ctx.federation)
        operations.install(ctx.federation)
        held = referee.Referee()  # a referee node's memory (nothing on disk)
        referee.install(ctx.federation, held, settings.future_tolerance_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await asyncio.to_thread(store_engine.upgrade, engine)
        ctx.notifier.bind(asyncio.get_running_loop())
        jobs = background.Jobs()
        if settings.run_detection:
            jobs.start(functools.partial(_run_detection, ctx))
        jobs.start(functools.partial(background.maintain_store, ctx))
        jobs.start(functools.partial(background.prune_store, ctx))
        if ctx.federation is not None:
            jobs.start(functools.partial(_run_links, ctx))
        try:
            yield
        finally:
            await jobs.stop()
            await asyncio.to_thread(background.close_store, ctx)

    app = FastAPI(
        title="Deconfliction",
        version=__version__,
        summary="Air-safety deconfliction between parties who share an airspace.",
        lifespan=lifespan,
        # Swagger UI and ReDoc would load their scripts from a CDN: not on an
        # air-gapped network. The OpenAPI document stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    if ctx.federation is not None:
        app.state.referee = held
    errors.install(app, store_health)
    metrics.install(ctx)
    for module in (
        record_routes,  # before parties: /v1/parties/keys is not a party id
        parties,
        protocols,
        tracks,
        alerts,
        incidents,
        hotline_routes,
        operations_routes,
        reports_routes,
        health,
        metrics,
    ):
        app.include_router(module.router)
    if ctx.federation is not None:
        from deconfliction.api.routes import federation as federation_routes
        from deconfliction.api.routes import federation_hotline

        app.include_router(federation_routes.router)
        app.include_router(federation_hotline.router)
    app.include_router(stream_router)
    app.include_router(console_routes.router)
    app.add_middleware(TextGuard)  # inside BodySizeLimit: reads a bounded body
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        tracks_max_bytes=settings.max_tracks_body_bytes,
    )
    app.add_middleware(
        RateLimit,
        rate_per_s=settings.rate_limit_per_s,
        burst=settings.rate_limit_burst,
    )
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, 413 and 429 too
    return app
