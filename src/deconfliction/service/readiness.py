"""Readiness: may this process take traffic? The store must be reachable, at the
newest schema and taking writes, and the detection loop (where this process runs
one) must have ticked lately without failing.

What it says is in generic words (``Check.reason``): it is served to callers
without a token, so it names no party, aircraft or count.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from deconfliction.service.live import LiveDetection
from deconfliction.service.store_health import StoreHealth
from deconfliction.store import engine as store_engine

STALE_TICKS: float = 3.0  # detection counts as stalled after three missed intervals
RETRY_AFTER_S: int = 5  # what a not-ready answer tells a client without a better hint


@dataclass(frozen=True, slots=True)
class Check:
    """One part of readiness.

    Attributes:
        ok: whether this part is ready.
        reason: ``ok`` or why not, in generic words.
        retry_after_s: when it is worth asking again, if not ok.
    """

    ok: bool
    reason: str
    retry_after_s: int = RETRY_AFTER_S


@dataclass(frozen=True, slots=True)
class Readiness:
    """The store and the detection loop, and both together."""

    store: Check
    detection: Check

    @property
    def ok(self) -> bool:
        """Both parts are ready."""
        return self.store.ok and self.detection.ok

    @property
    def retry_after_s(self) -> int:
        """The longest wait any part not ready asks for."""
        return max(
            (c.retry_after_s for c in (self.store, self.detection) if not c.ok),
            default=RETRY_AFTER_S,
        )


def store_check(health: StoreHealth) -> Check:
    """The store reachable, at the newest migration, taking writes.

    Raises:
        Exception: an error that is not a store fault (a bug).
    """
    engine = health.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = store_engine.current_revision(engine)
    except Exception as exc:
        fault = health.record(exc)
        if fault is None:
            raise
        return Check(False, fault.kind.description, fault.kind.retry_after_s)
    if revision != store_engine.head_revision():
        return Check(False, "the store's schema is not the newest")
    fault = health.write_fault()
    if fault is not None:
        return Check(False, fault.kind.description, fault.kind.retry_after_s)
    return Check(True, "ok")


def detection_check(live: LiveDetection, enabled: bool, now_t_s: float) -> Check:
    """The detection loop ticked within ``STALE_TICKS`` intervals, and its last
    tick did not fail; or, in a process standing by, another process holds a
    current lease of live detection (``leadership``)."""
    if not enabled:
        return Check(True, "ok")
    if live.is_standing_by():  # another process detects: is its lease current?
        expires_t_s = live.lease.expires_t_s if live.lease is not None else None
        if expires_t_s is None or now_t_s > expires_t_s + STALE_TICKS * live.interval_s:
            return Check(False, "detection is late")
        return Check(True, "ok")
    tick = live.last_tick
    if live.last_error is not None:
        return Check(False, "detection is failing")
    if tick is None:
        return Check(False, "detection has not run yet")
    if now_t_s - tick.t_s > STALE_TICKS * live.interval_s:
        return Check(False, "detection is late")
    return Check(True, "ok")


def readiness(
    health: StoreHealth, live: LiveDetection, detection: bool, now_t_s: float
) -> Readiness:
    """Readiness of this process (``detection``: whether it runs the loop)."""
    return Readiness(store_check(health), detection_check(live, detection, now_t_s))
