"""Feed lag: how far behind each party's feed is, from the store.

For each party, the newest position it sent (its time, ``t_s``) and when the server
received it: the feed's lag is now minus that time, and its delay is how old the
freshest recent position was on arrival (the feed's clock skew plus its transport).

Reading a party's newest position over the whole table would scan all of it, so the
store is read over the positions received in the last ``RECENT_S`` (an index range),
and :class:`FeedLagTracker` remembers what it saw: a party that falls silent keeps its
last values, and its lag grows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from deconfliction.service import protocols
from deconfliction.store.tables import positions

RECENT_S: float = 120.0  # received this recently: an index range, cheap to read


@dataclass(frozen=True, slots=True)
class FeedSeen:
    """A party's feed as last seen.

    Attributes:
        newest_t_s: the time of its newest position.
        received_t_s: when the server last received a position from it.
        delay_s: how old its freshest position of ``RECENT_S`` was on arrival.
    """

    newest_t_s: float
    received_t_s: float
    delay_s: float


@dataclass(frozen=True, slots=True)
class FeedLag:
    """A party's feed now.

    Attributes:
        lag_s: now minus the time of its newest position.
        silent_s: now minus when it last delivered a position.
        delay_s: how old its freshest recent position was on arrival.
    """

    lag_s: float
    silent_s: float
    delay_s: float


def recent_feeds(conn: Connection, since_t_s: float) -> dict[str, FeedSeen]:
    """Per party, its feed over the positions received since ``since_t_s``."""
    rows = conn.execute(
        select(
            positions.c.party_id,
            func.max(positions.c.t_s),
            func.max(positions.c.received_t_s),
            func.min(positions.c.received_t_s - positions.c.t_s),
        )
        .where(positions.c.received_t_s >= since_t_s)
        .group_by(positions.c.party_id)
    ).all()
    return {
        str(party): FeedSeen(float(newest), float(received), float(delay))
        for party, newest, received, delay in rows
    }


class FeedLagTracker:
    """Every party's feed lag, remembered between reads; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, FeedSeen] = {}
        self._read_t_s: float | None = None

    def lags(self, conn: Connection, now_t_s: float) -> dict[str, FeedLag]:
        """Read what arrived since the last read (at most ``RECENT_S`` back) and
        give each party's lag as of ``now_t_s``."""
        with self._lock:
            since = now_t_s - RECENT_S
            if self._read_t_s is not None:
                since = max(since, self._read_t_s - 1.0)  # 1 s: commits in flight
        fresh = recent_feeds(conn, since)
        with self._lock:
            self._read_t_s = now_t_s
            for party, seen in fresh.items():
                old = self._seen.get(party)
                if old is not None and old.newest_t_s > seen.newest_t_s:
                    seen = FeedSeen(old.newest_t_s, seen.received_t_s, seen.delay_s)
                self._seen[party] = seen
            return {
                party: FeedLag(
                    lag_s=now_t_s - seen.newest_t_s,
                    silent_s=now_t_s - seen.received_t_s,
                    delay_s=seen.delay_s,
                )
                for party, seen in self._seen.items()
            }


def feed_health(
    conn: Connection, tracker: FeedLagTracker, party_id: str | None, now_t_s: float
) -> dict[str, dict[str, Any]]:
    """The feeds ``party_id`` may see (its own only; None: the operator, every
    party's), as ``/healthz`` shows them: ``lag_s``, ``clock_skew_s`` (how old its
    freshest recent position was on arrival), ``silent_s``, and ``stale`` (``lag_s``
    over the ``stale_after_s`` of the party's agreements in effect: the longest,
    as live detection keeps its aircraft that long)."""
    effective = protocols.agreements_in_effect(conn)
    lags = tracker.lags(conn, now_t_s)

    def stale_after(party: str) -> float | None:
        of = [
            v.protocol.stale_after_s for v in effective if party in v.protocol.parties
        ]
        return max(of) if of else None

    out = {}
    for party, feed in sorted(lags.items()):
        if party_id is not None and party != party_id:
            continue
        stale_after_s = stale_after(party)
        out[party] = {
            "lag_s": round(feed.lag_s, 3),
            "clock_skew_s": round(feed.delay_s, 3),
            "silent_s": round(feed.silent_s, 3),
            "stale": stale_after_s is not None and feed.lag_s > stale_after_s,
            "stale_after_s": stale_after_s,
        }
    return out
