"""The clock, as a port: services take one, tests pass a manual one."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time in UTC epoch seconds."""

    def now_t_s(self) -> float:
        """The current time."""
        ...


class SystemClock:
    """The machine's clock."""

    def now_t_s(self) -> float:
        """Seconds since the epoch, UTC."""
        return time.time()


@dataclass
class ManualClock:
    """A clock that moves only when told to (tests, fast-time replays)."""

    t_s: float = field(default=0.0)

    def now_t_s(self) -> float:
        """The time it was set to."""
        return self.t_s

    def advance(self, dt_s: float) -> None:
        """Move forward by ``dt_s``."""
        self.t_s += dt_s
