"""How many offers a node takes from nodes it does not know yet.

An offer of a protocol version is the one request a node takes without a pinned
client certificate (the proposer is not trusted before this node's officer accepts
a version naming it). Such offers are checked by the certificate and signature they
carry, which costs a TOML parse and a signature check each; so that a reachable
party cannot flood them, a node takes at most :data:`ANONYMOUS_OFFERS_PER_WINDOW`
in any :data:`WINDOW_S`, over every caller (a caller's address says little behind
a NAT or a proxy). Peers already pinned must offer over mutual TLS, and versions of
a protocol this node's party already accepted come only from them (see
``api/routes/federation.py``), so the limit never holds back a known peer.
"""

from __future__ import annotations

import threading
from collections import deque

# Agreeing a protocol takes a handful of offers; 10 a minute leaves room for a
# few nodes proposing at once and bounds a flood to a few parses a second.
ANONYMOUS_OFFERS_PER_WINDOW: int = 10
WINDOW_S: float = 60.0


class OfferLimit:
    """A sliding window of the anonymous offers taken (thread-safe).

    >>> limit = OfferLimit(per_window=2, window_s=60.0)
    >>> [limit.take(0.0), limit.take(1.0), limit.take(59.9), limit.take(60.0)]
    [True, True, False, True]
    """

    def __init__(
        self,
        per_window: int = ANONYMOUS_OFFERS_PER_WINDOW,
        window_s: float = WINDOW_S,
    ) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self._taken: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self, now_t_s: float) -> bool:
        """Whether one more offer may be taken at ``now_t_s`` (and count it).
        An offer exactly ``window_s`` old no longer counts."""
        with self._lock:
            while self._taken and self._taken[0] <= now_t_s - self.window_s:
                self._taken.popleft()
            if len(self._taken) >= self.per_window:
                return False
            self._taken.append(now_t_s)
            return True

    def retry_after_s(self, now_t_s: float) -> float:
        """How long until the oldest offer counted leaves the window."""
        with self._lock:
            if not self._taken:
                return 0.0
            return max(0.0, self._taken[0] + self.window_s - now_t_s)
