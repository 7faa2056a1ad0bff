"""Whether the store takes writes, as this process sees it, and the store faults
it met, logged one line per kind at most every ``LOG_EVERY_S``.

Outcomes come from two sides: the engine reports each committed transaction that
wrote (``store.faults.watch_writes``), and whoever meets an error (a request, the
stream, the detection loop, a background job) hands it to :meth:`StoreHealth.record`,
which tells store faults from bugs. The last outcome wins. When it is a fault, or
when nothing was written for ``PROBE_IDLE_S``, :meth:`StoreHealth.write_fault`
probes the store with a write of its own (at most once per ``PROBE_EVERY_S``), so
that readiness comes back when the store does even if no client writes meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from deconfliction.store import faults
from deconfliction.store.faults import StoreFault, StoreFaultKind

log = logging.getLogger(__name__)

LOG_EVERY_S: float = 30.0  # one line per fault kind at most this often
PROBE_EVERY_S: float = 1.0  # readiness polled in a loop probes at most this often
PROBE_IDLE_S: float = 30.0  # without writes for this long, readiness probes


@dataclass(slots=True)
class _Logged:
    at_s: float
    suppressed: int = 0


class StoreHealth:
    """The store's write outcomes in this process; safe to use from any thread.

    Attributes:
        faults_total: store faults met so far, by kind (probes not counted).
    """

    def __init__(
        self,
        engine: Engine,
        monotonic: Callable[[], float] = time.monotonic,
        log_every_s: float = LOG_EVERY_S,
    ) -> None:
        self._engine = engine
        self._monotonic = monotonic
        self._log_every_s = log_every_s
        self._lock = threading.Lock()
        self._last_ok_s: float | None = None
        self._last_fault: StoreFault | None = None
        self._last_fault_s: float | None = None
        self._last_probe_s: float | None = None
        self._logged: dict[StoreFaultKind, _Logged] = {}
        self.faults_total: Counter[StoreFaultKind] = Counter()

    @property
    def engine(self) -> Engine:
        """The engine watched."""
        return self._engine

    def watch(self) -> None:
        """Learn of every committed write on the engine."""
        faults.watch_writes(self._engine, self.wrote)

    def wrote(self) -> None:
        """A transaction that wrote has committed."""
        with self._lock:
            recovered = self._failing()
            self._last_ok_s = self._monotonic()
            fault = self._last_fault
        if recovered and fault is not None:
            log.warning("store takes writes again (after %s)", fault.kind.value)

    def record(self, exc: BaseException) -> StoreFault | None:
        """Note ``exc`` if it is a store fault (counted, logged at most once per
        ``LOG_EVERY_S`` per kind, without a traceback) and return it; None when it
        is not one: the caller then treats it as the bug it is."""
        fault = faults.fault_of(exc)
        if fault is not None:
            self._note(fault, count=True)
        return fault

    def _note(self, fault: StoreFault, count: bool) -> None:
        with self._lock:
            now_s = self._monotonic()
            self._last_fault, self._last_fault_s = fault, now_s
            if count:
                self.faults_total[fault.kind] += 1
            logged = self._logged.get(fault.kind)
            if logged is not None and now_s - logged.at_s < self._log_every_s:
                logged.suppressed += 1
                return
            self._logged[fault.kind] = _Logged(now_s)
        more = (
            f"; {logged.suppressed} more in the last {now_s - logged.at_s:.0f} s"
            if logged is not None and logged.suppressed
            else ""
        )
        log.warning("store fault: %s (%s)%s", fault.kind.value, fault.detail, more)

    def failing(self) -> bool:
        """Whether the last write outcome was a fault (no probe)."""
        with self._lock:
            return self._failing()

    def _failing(self) -> bool:
        return self._last_fault_s is not None and (
            self._last_ok_s is None or self._last_ok_s < self._last_fault_s
        )

    def write_fault(self) -> StoreFault | None:
        """None when the store takes writes, else the fault that says why not.

        Probes with a write when the last outcome was a fault or nothing was
        written for ``PROBE_IDLE_S`` (at most once per ``PROBE_EVERY_S``); on
        SQLite, always checks the free disk space.
        """
        with self._lock:
            now_s = self._monotonic()
            failing = self._failing()
            idle = self._last_ok_s is None or now_s - self._last_ok_s >= PROBE_IDLE_S
            due = self._last_probe_s is None or (
                now_s - self._last_probe_s >= PROBE_EVERY_S
            )
            if due and (failing or idle):
                self._last_probe_s = now_s
            else:
                due = False
            last = self._last_fault if failing else None
        if due:
            fault = faults.probe_write(self._engine)
            if fault is None:
                self.wrote()
                return None
            self._note(fault, count=False)
            return fault
        space = faults.free_space_fault(self._engine)
        return space or last
