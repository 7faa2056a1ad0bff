"""How long the detection ticks take and how far behind the live picture is, for
the operator (``/metrics``, ``/healthz``) and the log.

Two separate figures:

* a tick's **duration**: from its start to its end (detection, alerts, incidents,
  conformance, the hotline's and operations' deadlines);
* the **lag**: how much older than one interval the newest completed tick's picture
  is now (now less the time of that tick's picture, less the interval; never
  negative). While ticks finish within the interval the lag stays below one tick's
  duration; when they overrun, it grows by the overrun at every tick.

A tick that takes longer than the interval is **late**: the next one starts late,
and the alerts the parties see are older than the protocol promises. Each late tick
is counted; the log says so with ``detection.tick_late`` at the first late tick and
then at most once a minute while ticks keep overrunning (with how many did), and
once with ``detection.tick_on_time`` when a tick finishes within the interval again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

LATE_LOG_EVERY_S: float = 60.0  # one log line a minute while ticks keep overrunning


@dataclass(frozen=True, slots=True)
class TickFigures:
    """The newest completed tick, as the operator is shown it.

    Attributes:
        duration_s: how long it took.
        picture_t_s: the time of its picture (when it started).
        interval_s: the detection interval it ran at.
        late: whether it took longer than the interval.
        late_total: ticks that took longer than the interval since the start.
    """

    duration_s: float
    picture_t_s: float
    interval_s: float
    late: bool
    late_total: int

    def age_s(self, now_t_s: float) -> float:
        """Now less the time of its picture."""
        return now_t_s - self.picture_t_s

    def lag_s(self, now_t_s: float) -> float:
        """How much older than one interval its picture is now (0 if not).

        >>> TickFigures(0.5, 100.0, 1.0, False, 0).lag_s(101.25)
        0.25
        >>> TickFigures(0.5, 100.0, 1.0, False, 0).lag_s(100.75)
        0.0
        """
        return max(0.0, self.age_s(now_t_s) - self.interval_s)

    def as_json(self, now_t_s: float) -> dict[str, float | int | bool]:
        """The ``/healthz`` form."""
        return {
            "duration_s": round(self.duration_s, 3),
            "age_s": round(self.age_s(now_t_s), 3),
            "lag_s": round(self.lag_s(now_t_s), 3),
            "interval_s": self.interval_s,
            "late": self.late,
            "late_total": self.late_total,
        }


def is_late(duration_s: float, interval_s: float) -> bool:
    """Whether a tick of ``duration_s`` overran ``interval_s`` (one that takes
    exactly the interval is on time).

    >>> is_late(1.0, 1.0), is_late(1.001, 1.0)
    (False, True)
    """
    return duration_s > interval_s


class TickTiming:
    """The figures of the ticks of this process; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._newest: TickFigures | None = None
        self._late_total = 0
        self._late_since_said = 0
        self._said_t_s: float | None = None  # when the log last said "late"

    def done(
        self, picture_t_s: float, duration_s: float, interval_s: float, now_t_s: float
    ) -> TickFigures:
        """A tick whose picture is of ``picture_t_s`` finished after
        ``duration_s`` at ``now_t_s``; logs when ticks start or stop being late."""
        late = is_late(duration_s, interval_s)
        with self._lock:
            if late:
                self._late_total += 1
                self._late_since_said += 1
            figures = TickFigures(
                duration_s, picture_t_s, interval_s, late, self._late_total
            )
            self._newest = figures
            say = self._say(late, now_t_s)
        if say is not None:
            log.warning("%s", say)
        return figures

    def _say(self, late: bool, now_t_s: float) -> str | None:
        """What to log for this tick, if anything (under the lock)."""
        figures = self._newest
        assert figures is not None
        if late:
            if self._said_t_s is not None and now_t_s - self._said_t_s < (
                LATE_LOG_EVERY_S
            ):
                return None
            text = (
                "detection.tick_late: a detection tick took"
                f" {figures.duration_s:.2f} s,"
                f" over the {figures.interval_s:g} s interval"
                f" ({self._late_since_said} late since the last such line)"
            )
            self._said_t_s = now_t_s
            self._late_since_said = 0
            return text
        if self._said_t_s is None:
            return None
        unsaid = self._late_since_said
        self._said_t_s = None
        self._late_since_said = 0
        return (
            "detection.tick_on_time: a detection tick took"
            f" {figures.duration_s:.2f} s,"
            f" within the {figures.interval_s:g} s interval again"
            f" ({unsaid} late since the last such line)"
        )

    @property
    def newest(self) -> TickFigures | None:
        """The newest completed tick (None: none yet)."""
        with self._lock:
            return self._newest
