"""The clock, as a port: services take one, tests pass a manual one."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

_EPOCH_RE = re.compile(r"[+-]?\d+(\.\d*)?")


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


def to_rfc3339(t_s: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds and ``Z``.

    >>> to_rfc3339(0.0)
    '1970-01-01T00:00:00.000Z'
    """
    return (
        datetime.fromtimestamp(t_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    )


def parse_time_s(value: str | float | int) -> float:
    """RFC 3339 text (a zone is required) or epoch seconds, to epoch seconds.

    Raises:
        ValueError: for text without a time zone or that is not a time, and for a
            time that cannot be one (not finite, before 1970 or after 9999).

    >>> parse_time_s("2017-12-13T10:00:00Z")
    1513159200.0
    >>> parse_time_s(5), parse_time_s("1513159200.5")
    (5.0, 1513159200.5)
    >>> parse_time_s(float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: not a time between 1970 and 9999: nan
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _plausible(value)
    if not isinstance(value, str):
        raise ValueError(f"not a time: {_short(value)}")
    text = value.strip()
    if _EPOCH_RE.fullmatch(text):
        return _plausible(text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an RFC 3339 time: {_short(value)}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"time without a zone: {_short(value)} (add Z for UTC)")
    return _plausible(parsed.timestamp())


MIN_T_S: float = 0.0  # 1970-01-01T00:00:00Z: no aircraft data is older
MAX_T_S: float = 253_402_300_799.0  # 9999-12-31T23:59:59Z: the last RFC 3339 second


def _plausible(value: str | float) -> float:
    """A number of epoch seconds, if it is a time: finite and between
    :data:`MIN_T_S` and :data:`MAX_T_S` (NaN, infinities, -1e308 or year 1 would be
    stored and then served as null, or not at all).

    Raises:
        ValueError: otherwise.
    """
    try:
        t_s = float(value)
    except (OverflowError, ValueError):
        raise ValueError(f"not a time: {_short(value)}") from None
    if not MIN_T_S <= t_s <= MAX_T_S:  # NaN fails too
        raise ValueError(f"not a time between 1970 and 9999: {_short(value)}")
    return t_s


def _short(value: object) -> str:
    """``repr(value)``, cut to a length a message can carry."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
