"""Attack: an outsider puts aircraft into the parties' picture (issue 14, item 4).

Under ``full``, aircraft of a party the protocol does not name appeared in a's and
b's tracks, alerts, incidents and reports: any registered party could inject
phantom traffic into an agreement it is not part of (a false conflict, a zone
incursion, a track next to a's). Now detection takes only the aircraft of the
protocol's parties, and an outsider's tracks are stored but never shown to, or
counted for, anyone else.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import or_, select

from deconfliction.store.engine import make_engine
from deconfliction.store.tables import alerts, incident_parties
from tests.conftest import Server
from tests.integration.helpers import flight
from tests.security import world as w

pytestmark = pytest.mark.slow


def _outsider_traffic(now: float) -> list[dict[str, object]]:
    """c's aircraft: head-on with a's, beside a's (an actual loss of separation),
    and inside a's al-Tanf zone."""
    return [
        *flight("CHARLIE1", 35.45, 39.70, 180.0, 420.0, 25000.0, now - 25, 6),
        *flight("CHARLIE2", 35.305, 39.705, 0.0, 420.0, 25000.0, now - 25, 6),
        *flight("CHARLIE3", 33.50, 38.62, 90.0, 300.0, 10000.0, now - 25, 6),
    ]


def test_an_outsiders_aircraft_stay_out_of_the_parties_picture(
    server: Server,
) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, sharing="full")
    with world.client(w.C) as c:
        posted = c.post(
            "/v1/tracks",
            json={"batch_id": "c-1", "positions": _outsider_traffic(time.time())},
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["accepted"] == 18
    # a and b's own encounter: once detection has found it, it has read c's too.
    seen = w.fly_into_violation(world)
    # And one more tick after that.
    time.sleep(1.5)
    day = datetime.now(tz=UTC).strftime("%Y-%m-%d")
    for party in (w.A, w.B):
        with world.client(party) as client:
            picture = client.get("/v1/tracks").json()
            assert {p["party"] for p in picture} == {w.A, w.B}, party
            history = client.get(f"/v1/tracks/{w.C}/CHARLIE1")
            assert history.status_code == 404, party
            listed = client.get("/v1/alerts").json()
            assert listed, f"{party} sees no alert: a broken test"
            assert all(
                {s["party"] for s in a["aircraft"]} == {w.A, w.B} for a in listed
            ), party
            found = client.get("/v1/incidents").json()
            assert found, f"{party} sees no incident: a broken test"
            for incident in found:
                assert w.C not in {s["party"] for s in incident["aircraft"]}, party
                assert w.C not in incident["involved"], party
            stats = client.get("/v1/incidents/stats").json()
            assert w.C not in stats["by_party"], party
            report = client.get("/v1/reports/daily", params={"day": day})
            assert report.status_code == 200
            assert w.A_AIRCRAFT in report.text, "the report shows no aircraft"
            assert "CHARLIE" not in report.text, party
        events = w.drain_stream(world, party)
        assert events, f"{party}'s stream is empty: a broken test"
        assert "CHARLIE" not in json.dumps(events), party
    # Nothing was even detected with c's aircraft.
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            with_c = conn.execute(
                select(alerts.c.id).where(
                    or_(alerts.c.party_a == w.C, alerts.c.party_b == w.C)
                )
            ).all()
            naming_c = conn.execute(
                select(incident_parties).where(incident_parties.c.party_id == w.C)
            ).all()
    finally:
        engine.dispose()
    assert with_c == [] and naming_c == []
    # c still sees its own aircraft, and nothing of a's or b's.
    with world.client(w.C) as c:
        own = c.get("/v1/tracks").json()
        assert {p["party"] for p in own} == {w.C}
        assert c.get("/v1/alerts").json() == []
    assert seen["alert_id"]
