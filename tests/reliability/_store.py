"""A store with the shipped protocol in effect, positions written as a feed would,
and live detection runs on it (each a ``LiveDetection``, as one server process has
one): the bench for what a restart or a takeover must not change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select

from deconfliction.domain import geodesy
from deconfliction.service import events
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.keys import KeyRing
from deconfliction.service.live import LiveDetection
from deconfliction.store.tables import alerts, incidents, positions

T0 = 1513152000.0  # 2017-12-13 08:00Z
INTERVAL_S = 5.0
COALITION = Principal("coalition", Role.OFFICER)
RUSSIA = Principal("russia", Role.OFFICER)
HAMA = (35.0, 36.5)  # west of the Euphrates, clear of the zones
AL_TANF = (33.50, 38.62)  # the coalition's zone, 30 NM around
EAST = (36.30, 41.00)  # east of the Euphrates


def east_of(place: tuple[float, float], nm: float) -> tuple[float, float]:
    lat, lon = geodesy.destination(place[0], place[1], 90.0, nm)
    return float(lat), float(lon)


NEAR = east_of(HAMA, 2.0)  # in loss of separation with an aircraft at HAMA
FAR = east_of(HAMA, 60.0)  # clear of it
OUT_OF_AL_TANF = east_of(AL_TANF, -60.0)


def at(
    party: str, aircraft: str, t_s: float, place: tuple[float, float]
) -> dict[str, Any]:
    """A stationary position (0 kt: dead reckoning keeps it in place)."""
    return {
        "party_id": party,
        "aircraft_id": aircraft,
        "t_s": t_s,
        "lat_deg": place[0],
        "lon_deg": place[1],
    }


@dataclass
class Store:
    engine: Engine
    clock: ManualClock
    keys: KeyRing

    def run(self) -> LiveDetection:
        """A new run of live detection (a server process starting)."""
        return LiveDetection(self.engine, self.clock, INTERVAL_S)

    def post(self, *rows: dict[str, Any]) -> None:
        """Store ``rows`` in this order (one batch): row ids follow it."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(positions),
                [
                    {
                        "alt_ft": 20000.0,
                        "gs_kt": 0.0,
                        "trk_deg": 0.0,
                        "vs_fpm": 0.0,
                        "batch_id": f"b{self.clock.t_s}",
                        "received_t_s": self.clock.t_s,
                    }
                    | r
                    for r in rows
                ],
            )

    def alerts(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(alerts).order_by(alerts.c.raised_t_s)))

    def incidents_of(self, kind: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(incidents)
                    .where(incidents.c.kind == kind)
                    .order_by(incidents.c.start_t_s)
                ).all()
            )

    def event_types(self, party: str = "coalition") -> list[str]:
        with self.engine.connect() as conn:
            return [e.type for e in events.fetch(conn, party, 0, limit=100_000)]
