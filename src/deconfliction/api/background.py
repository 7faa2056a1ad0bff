"""The server's background jobs (the detection loop, store maintenance), and how
they stop: at shutdown each finishes what it is doing (a detection tick commits
its transaction) before the store is checkpointed and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from deconfliction.api.deps import Context
from deconfliction.service import retention
from deconfliction.store import wal

log = logging.getLogger(__name__)

STOP_WAIT_S: float = 15.0  # a tick in flight may finish; then it is abandoned


class Jobs:
    """Background jobs that share one stop signal."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, job: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
        """Run ``job(stopping)`` until it returns; it should return soon after
        ``stopping`` is set."""
        self._tasks.append(asyncio.create_task(job(self.stopping)))

    async def stop(self, wait_s: float = STOP_WAIT_S) -> None:
        """Ask every job to stop and wait up to ``wait_s`` for them; then cancel
        what is left (a thread already running goes on to its end)."""
        self.stopping.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=wait_s)
        for task in pending:
            log.warning("a background job did not stop within %.0f s", wait_s)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def pause(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``, or less if asked to stop; True when asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), max(0.0, seconds))
    return stopping.is_set()


async def maintain_store(ctx: Context, stopping: asyncio.Event) -> None:
    """Keep SQLite's write-ahead log bounded while the server runs."""
    if wal.wal_path(ctx.engine) is None:
        return
    while not await pause(stopping, wal.CHECKPOINT_EVERY_S):
        try:
            await asyncio.to_thread(wal.keep_bounded, ctx.engine)
        except Exception as exc:
            if ctx.store_health.record(exc) is None:
                log.exception("checkpoint failed")


def retention_policy(ctx: Context) -> retention.RetentionPolicy:
    """The retention of the server's settings."""
    settings = ctx.settings
    return retention.RetentionPolicy(
        positions_days=settings.positions_retention_days,
        events_days=settings.events_retention_days,
        batches_days=settings.batches_retention_days,
        archive_dir=Path(settings.archive_dir) if settings.archive_dir else None,
    )


async def prune_store(ctx: Context, stopping: asyncio.Event) -> None:
    """Prune (and archive) what the retention settings no longer keep, every
    ``prune_interval_s``, in small transactions that let ingestion through."""
    policy = retention_policy(ctx)
    if not policy.prunes:
        return
    between = retention.pause_for(retention.PAUSE_S, stopping.is_set)
    while not await pause(stopping, ctx.settings.prune_interval_s):
        try:
            report = await asyncio.to_thread(
                retention.prune, ctx.engine, policy, ctx.clock.now_t_s(), between
            )
        except Exception as exc:
            if ctx.store_health.record(exc) is None:
                log.exception("pruning failed")
            continue
        ctx.last_prune = report
        for kind, rows in (
            ("positions", report.positions_deleted),
            ("events", report.events_deleted),
            ("batches", report.batches_deleted),
        ):
            ctx.metrics.pruned.labels(kind).inc(rows)


def close_store(ctx: Context) -> None:
    """At shutdown: fold SQLite's log into the database file (the ``.db`` alone
    then holds everything committed) and close every pooled connection."""
    try:
        done = wal.checkpoint(ctx.engine, wal.CheckpointMode.TRUNCATE)
        if done is not None and not done.complete:
            log.warning("the last checkpoint was not complete: keep the -wal file")
    except Exception as exc:
        if ctx.store_health.record(exc) is None:
            log.exception("the last checkpoint failed: keep the -wal file")
    ctx.engine.dispose()
