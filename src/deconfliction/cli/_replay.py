"""Replay engine of ``deconfliction replay``: recorded positions into a running server.

Timing. Positions are played in time order. At ``speed`` X > 0 a position recorded
``dt`` seconds after the first is posted ``dt / X`` seconds after the replay starts,
so the original spacing is kept, scaled. At speed 0 everything goes as fast as the
server takes it.

Times sent (``retime``). The server refuses positions more than 5 s ahead of its
clock, and its live picture and detection use positions timed near now: recorded
times would land in the history only. With ``retime`` (the default) each position is
sent with the time at which the replay plays it: ``start + dt / X`` (always in the
past when posted). At speed 0 the spacing is kept and the newest position is timed
at the start of the replay. Without ``retime`` the recorded times are sent as they
are (to load history).

Batches. A position is posted when it falls due, unless the last post was less
than ``flush_s`` ago: then the positions falling due meanwhile (up to
``batch_size``) wait and go together. They are posted to ``URL/v1/tracks`` as JSON
with a batch id chosen here (``replay-RUN-000001``): a batch that fails on the
network, or gets a 5xx, 408 or 429 answer, is sent again under the same id, so the
server stores it once.
Positions the server cannot take (no altitude or velocity yet, as SBS and Mode-S
give before the first velocity message) are not sent and are counted.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deconfliction.adapters.track_poster import PostResult
from deconfliction.adapters.track_stream import MAX_EXAMPLES_PER_REASON, TrackBatch
from deconfliction.errors import Problem

MAX_ID_LENGTH: int = 100  # the server's limit on aircraft ids
SERVER_HINTS: dict[int, str] = {  # what to check when the server refuses the replay
    401: " (check --token)",
    403: " (check --token)",
    404: " (check --to)",
    405: " (check --to)",
}


@dataclass(slots=True)
class ReplayStats:
    """Counts of a replay (mutable: they grow as it runs)."""

    positions: int = 0
    sent: int = 0
    accepted: int = 0
    batches: int = 0
    retries: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    not_sent: Counter[str] = field(default_factory=Counter)
    examples: list[Problem] = field(default_factory=list)
    elapsed_s: float = 0.0
    played: int = 0  # positions taken off the list: posted, or counted as not sent
    in_flight: int = 0  # positions of a post not yet answered

    @property
    def left(self) -> int:
        """Positions neither posted nor counted as not sent (after an interrupt)."""
        return self.positions - self.played - self.in_flight

    def reject(self, problem: Problem) -> None:
        """Count one position the server rejected."""
        reason = f"server: {problem.field}" if problem.field else "server"
        self.rejected[reason] += 1
        if self.rejected[reason] <= MAX_EXAMPLES_PER_REASON:
            self.examples.append(problem)


Poster = Callable[[str, list[dict[str, Any]]], PostResult]


@dataclass
class Replayer:
    """Plays a batch of positions into a server (see the module docstring).

    Attributes:
        post: sends one batch (an :class:`HttpPoster`, or a fake in tests).
        speed: times real time; 0 for as fast as possible.
        batch_size: the most positions per batch.
        flush_s: the shortest time between two posts while positions keep coming.
        retime: send the time of playing instead of the recorded time.
        run_id: part of every batch id (the same run id replays idempotently).
        clock: a monotonic clock.
        wall: the wall clock (UTC epoch seconds), for retimed positions.
        sleep: waits.
        on_posted: called with the number of positions of each batch posted.
    """

    post: Poster
    speed: float = 1.0
    batch_size: int = 500
    flush_s: float = 1.0
    retime: bool = True
    run_id: str = "run"
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    on_posted: Callable[[int], None] | None = None
    stats: ReplayStats = field(default_factory=ReplayStats)

    def _rows(
        self, batch: TrackBatch, times_s: np.ndarray[Any, Any]
    ) -> list[dict[str, Any] | None]:
        rows: list[dict[str, Any] | None] = []
        for k, rec in enumerate(batch.records()):
            if not rec.is_complete:
                missing = [
                    name
                    for name, value in (
                        ("alt_ft", rec.alt_ft),
                        ("gs_kt", rec.gs_kt),
                        ("trk_deg", rec.trk_deg),
                        ("vs_fpm", rec.vs_fpm),
                    )
                    if math.isnan(value)
                ]
                self.stats.not_sent[f"incomplete (no {', '.join(missing)})"] += 1
                rows.append(None)
                continue
            if len(rec.id) > MAX_ID_LENGTH:
                self.stats.not_sent[f"id longer than {MAX_ID_LENGTH} characters"] += 1
                rows.append(None)
                continue
            row: dict[str, Any] = {
                "id": rec.id,
                "time": round(float(times_s[k]), 3),
                "lat": rec.lat_deg,
                "lon": rec.lon_deg,
                "alt_ft": rec.alt_ft,
                "gs_kt": rec.gs_kt,
                "trk_deg": rec.trk_deg % 360.0,
                "vs_fpm": rec.vs_fpm,
            }
            if rec.party:  # the server refuses a row of another party than ours
                row["party"] = rec.party
            rows.append(row)
        return rows

    def run(self, batch: TrackBatch) -> ReplayStats:
        """Play every position of ``batch``; returns the counts.

        Raises:
            ReplayError: if the server refuses the replay as a whole.
        """
        stats = self.stats
        ordered = batch.sorted_by_time()
        n = len(ordered)
        stats.positions = n
        if n == 0:
            return stats
        t = ordered.t_s
        t0, t_last = float(t[0]), float(t[-1])
        start_clock = self.clock()
        start_wall = self.wall()
        if self.speed > 0:
            due_s = start_clock + (t - t0) / self.speed
            times_s = start_wall + (t - t0) / self.speed if self.retime else t
        else:
            due_s = np.full(n, -math.inf)
            times_s = t - t_last + start_wall if self.retime else t
        rows = self._rows(ordered, times_s)
        pending: list[dict[str, Any]] = []
        k = 0
        last_post = -math.inf
        seq = 0
        while k < n or pending:
            now = self.clock()
            while k < n and due_s[k] <= now and len(pending) < self.batch_size:
                row = rows[k]
                k += 1
                if row is None:
                    stats.played += 1
                    continue
                pending.append(row)
            # Post at once, unless the last post was less than flush_s ago: then
            # what falls due meanwhile waits and goes in the same batch.
            next_post = last_post + self.flush_s
            if pending and (
                len(pending) >= self.batch_size
                or k >= n
                or self.speed <= 0
                or now >= next_post
            ):
                seq += 1
                self._post(f"replay-{self.run_id}-{seq:06d}", pending)
                if self.on_posted is not None:
                    self.on_posted(stats.played)
                pending = []
                last_post = now
                continue
            wake = min(
                float(due_s[k]) if k < n else math.inf,
                next_post if pending else math.inf,
            )
            if math.isfinite(wake):
                self.sleep(max(0.0, wake - now))
        if self.on_posted is not None:
            self.on_posted(n)
        stats.elapsed_s = self.clock() - start_clock
        return stats

    def _post(self, batch_id: str, rows: Sequence[dict[str, Any]]) -> None:
        self.stats.in_flight = len(rows)
        result = self.post(batch_id, list(rows))
        self.stats.in_flight = 0
        self.stats.played += len(rows)
        self.stats.batches += 1
        self.stats.sent += len(rows)
        self.stats.accepted += result.accepted
        for problem in result.rejected:
            self.stats.reject(problem)
