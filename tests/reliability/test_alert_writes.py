"""Detection does not starve ingestion (#21.8): with 10,000 alerts updated at every
1 s tick, ticks took up to 37 s holding SQLite's write lock and posts failed with
"database is locked". An alert whose pair closes as predicted (the same moment of
closest approach, the same miss) is no news: a tick writes nothing for it. Figures
in bench/README.md ("Alert load"). Live detection on SQLite and PostgreSQL."""

from __future__ import annotations

from deconfliction.domain import geodesy
from deconfliction.service.live import LiveDetection
from tests.reliability._store import INTERVAL_S, Store, at

PAIRS = 20
PLACE = (10.0, -30.0)  # far from every line and zone of the protocol


def _pairs(t_s: float) -> list[dict[str, float | str]]:
    rows = []
    east = geodesy.destination(*PLACE, 90.0, 8.0)
    for k in range(PAIRS):
        alt = 10_000.0 + 2_000.0 * k  # pairs 2,000 ft apart: each its own conflict
        common = {"alt_ft": alt, "gs_kt": 300.0}
        rows.append(at("coalition", f"C{k}", t_s, PLACE) | common | {"trk_deg": 90.0})
        rows.append(
            at("russia", f"R{k}", t_s, (float(east[0]), float(east[1])))
            | common
            | {"trk_deg": 270.0}
        )
    return rows


def test_alerts_closing_as_predicted_are_not_written_again(store: Store) -> None:
    live = LiveDetection(store.engine, store.clock, INTERVAL_S)
    live.tick()
    store.post(*_pairs(store.clock.t_s))
    store.clock.advance(1.0)
    raised = live.tick()
    assert (raised.conflicts, raised.alert_events) == (PAIRS, PAIRS)
    written = {a.id: a.updated_t_s for a in store.alerts()}
    for _ in range(3):  # dead reckoning: a second less to the same moment
        store.clock.advance(1.0)
        report = live.tick()
        assert (report.conflicts, report.alert_events) == (PAIRS, 0)
    assert {a.id: a.updated_t_s for a in store.alerts()} == written
    assert store.event_types().count("alert.updated") == 0
    # A pair that turns moves its moment of closest approach: that is news.
    t = store.clock.t_s
    [c0] = [r for r in _pairs(t) if r["aircraft_id"] == "C0"]
    store.post(c0 | {"gs_kt": 150.0})
    store.clock.advance(1.0)
    assert live.tick().alert_events == 1
    assert store.event_types().count("alert.updated") == 1
