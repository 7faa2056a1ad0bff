"""The application's measurements, taken as things happen: counters and histograms
for ``/metrics`` (``api/metrics.py``), and the open streams."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

from deconfliction.errors import Problem
from deconfliction.service.feeds import FeedLagTracker
from deconfliction.service.ingest import BatchResult
from deconfliction.service.tick_timing import TickTiming

PREFIX: str = "deconfliction"
# Batch handling: from under 10 ms (a small batch) to 30 s (a large one waiting for
# the store's lock).
BATCH_BUCKETS_S: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
)
# A tick: from 10 ms (a quiet airspace) to 60 s (far beyond any interval).
TICK_BUCKETS_S: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)


@dataclass(frozen=True, slots=True)
class StreamClient:
    """An open stream: its party and the last event id sent to it."""

    party: str
    last_id: int


class StreamClients:
    """The open streams of this process; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open: dict[int, StreamClient] = {}

    def opened(self, party: str, last_id: int) -> int:
        """A stream opened; returns its handle."""
        handle = next(self._ids)
        with self._lock:
            self._open[handle] = StreamClient(party, last_id)
        return handle

    def sent(self, handle: int, last_id: int) -> None:
        """Events up to ``last_id`` were sent on it."""
        with self._lock:
            client = self._open.get(handle)
            if client is not None:
                self._open[handle] = StreamClient(client.party, last_id)

    def closed(self, handle: int) -> None:
        """It closed."""
        with self._lock:
            self._open.pop(handle, None)

    def snapshot(self) -> list[StreamClient]:
        """The open streams now."""
        with self._lock:
            return list(self._open.values())


class Metrics:
    """The application's metrics and its registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()  # no collect() at registration
        r = self.registry
        ProcessCollector(registry=r)  # CPU, memory, open files of this process
        self.positions_accepted = Counter(
            f"{PREFIX}_positions_accepted",
            "Positions stored, by party.",
            ["party"],
            registry=r,
        )
        self.positions_rejected = Counter(
            f"{PREFIX}_positions_rejected",
            "Position rows rejected, by party and the field at fault.",
            ["party", "reason"],
            registry=r,
        )
        self.batches = Counter(
            f"{PREFIX}_batches",
            "Batches posted, by party and outcome (stored, duplicate, refused).",
            ["party", "outcome"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            f"{PREFIX}_batch_duration_seconds",
            "Time to validate and commit a batch.",
            ["party"],
            buckets=BATCH_BUCKETS_S,
            registry=r,
        )
        self.tick_seconds = Histogram(
            f"{PREFIX}_detection_tick_duration_seconds",
            "Time a detection tick took (detection, alerts, conformance, hotline).",
            buckets=TICK_BUCKETS_S,
            registry=r,
        )
        self.ticks_late = Counter(
            f"{PREFIX}_detection_ticks_late",
            "Detection ticks that took longer than the detection interval.",
            registry=r,
        )
        self.ticks_failed = Counter(
            f"{PREFIX}_detection_ticks_failed",
            "Detection ticks that failed.",
            registry=r,
        )
        self.pruned = Counter(
            f"{PREFIX}_pruned_rows",
            "Rows pruned by retention, by kind (positions, events, batches).",
            ["kind"],
            registry=r,
        )
        self.stream = StreamClients()
        self.feeds = FeedLagTracker()
        self.ticks = TickTiming()

    def batch(self, party: str, result: BatchResult, seconds: float) -> None:
        """A batch was stored (or was a duplicate)."""
        self.batches.labels(party, "duplicate" if result.duplicate else "stored").inc()
        self.batch_seconds.labels(party).observe(seconds)
        if result.duplicate:
            return
        self.positions_accepted.labels(party).inc(result.accepted)
        for rejection in result.rejected:
            self.positions_rejected.labels(party, rejection.field or "row").inc()

    def refused(self, party: str, problems: Sequence[Problem], seconds: float) -> None:
        """A batch was refused as a whole."""
        self.batches.labels(party, "refused").inc()
        self.batch_seconds.labels(party).observe(seconds)
        rows = [p for p in problems if p.line is not None]
        for problem in rows:
            self.positions_rejected.labels(party, problem.field or "row").inc()
