"""Stale feeds, said on the stream: ``feed.stale`` when a party's newest position is
older than the protocol's ``stale_after_s`` (its aircraft have left the live picture:
no alert can involve them), ``feed.resumed`` when a new enough one arrives.

Live detection keeps, per party of the protocol, the time of its newest position
(from the positions each tick reads) and which parties it said are stale. A change
is written to ``detection_state.feeds_json`` in the tick's transaction, with the
events, so a new run (restart, takeover) takes it over and says nothing twice; at
its start it also reads the positions received in the last ``feeds.RECENT_S``.

Who hears it: the party itself, and the parties that may see its live tracks
(``disclosure.tracks_visible``: sharing ``full``). To the others a feed's silence
would tell when the party flies; they are not told.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from deconfliction.service import disclosure, events, feeds
from deconfliction.service.disclosure import Sharing
from deconfliction.service.live_resume import STATE_NAME
from deconfliction.store.tables import detection_state


@dataclass
class FeedWatch:
    """Per party: its newest position's time, and whether it was said stale."""

    newest_t_s: dict[str, float] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)

    @classmethod
    def resume(cls, conn: Connection, now_t_s: float) -> FeedWatch:
        """What the earlier run left, with what arrived since."""
        raw = conn.execute(
            select(detection_state.c.feeds_json).where(
                detection_state.c.name == STATE_NAME
            )
        ).scalar()
        watch = cls()
        if raw:
            data = json.loads(raw)
            watch.newest_t_s = {
                str(p): float(t) for p, t in data.get("newest_t_s", {}).items()
            }
            watch.stale = {str(p) for p in data.get("stale", [])}
        for party, seen in feeds.recent_feeds(conn, now_t_s - feeds.RECENT_S).items():
            watch.saw(party, seen.newest_t_s)
        return watch

    def saw(self, party: str, t_s: float) -> None:
        """A position of ``party`` timed ``t_s`` was read."""
        if t_s > self.newest_t_s.get(party, float("-inf")):
            self.newest_t_s[party] = t_s

    def update(
        self,
        conn: Connection,
        parties: Collection[str],
        stale_after_s: float,
        sharing: Sharing,
        now_t_s: float,
    ) -> int:
        """Say which feeds of ``parties`` went stale or resumed (in the tick's
        transaction). A party that never sent a position is not said stale: its
        feed has not started. Exactly ``stale_after_s`` old is not stale (the live
        picture keeps such a position).

        Returns:
            The number of feeds said stale or resumed.
        """
        changed = 0
        for party in sorted(parties):
            newest = self.newest_t_s.get(party)
            if newest is None:
                continue
            lag_s = now_t_s - newest
            is_stale = lag_s > stale_after_s
            if is_stale == (party in self.stale):
                continue
            kind = "feed.stale" if is_stale else "feed.resumed"
            payload = {
                "party": party,
                "newest_t_s": newest,
                "lag_s": round(lag_s, 3),
                "stale_after_s": stale_after_s,
            }
            events.publish(
                conn,
                kind,
                {
                    viewer: payload
                    for viewer in parties
                    if disclosure.tracks_visible(viewer, party, sharing)
                },
                now_t_s,
            )
            if is_stale:
                self.stale.add(party)
            else:
                self.stale.discard(party)
            changed += 1
        if changed:
            conn.execute(
                update(detection_state)
                .where(detection_state.c.name == STATE_NAME)
                .values(feeds_json=json.dumps(self.as_json(), sort_keys=True))
            )
        return changed

    def as_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"newest_t_s": self.newest_t_s, "stale": sorted(self.stale)}
