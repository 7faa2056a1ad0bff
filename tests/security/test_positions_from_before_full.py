"""Attack: wait for the sharing to go up, then read the past (issue 14, item 6).

Sharing applied as of the reading: after a switch from ``zones`` to ``full``, b read
a's positions recorded in the ``zones`` period (the track history, the report) and
a's violation recorded then, all of which ``zones`` had kept from it. Now data is
shown as shared when it was recorded: the lesser of the level then and now.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import Server
from tests.integration.helpers import flight, protocol_text
from tests.security import world as w

pytestmark = pytest.mark.slow


def test_a_raised_level_does_not_open_the_past(server: Server) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, "zones")
    seen = w.fly_into_violation(world)  # a's positions and violation under zones
    with world.client(w.A) as a:
        before = a.get(f"/v1/tracks/{w.A}/{w.A_AIRCRAFT}").json()
    assert before, "a's positions under zones: a broken test"
    # Both agree to full sharing; a's aircraft flies on.
    proposed = world.propose(w.A, protocol_text(2, "full"))
    assert proposed.status_code == 201, proposed.text
    accepted = world.accept(w.B, w.PROTOCOL_ID, 2)
    assert accepted.json()["status"] == "in_effect", accepted.text
    time.sleep(3.0)
    now = time.time()
    after = flight(w.A_AIRCRAFT, 36.40, 41.60, 90.0, 300.0, 20000.0, now - 2, 3, 1.0)
    with world.client(w.A) as a:
        posted = a.post("/v1/tracks", json={"batch_id": "a-full", "positions": after})
        assert posted.status_code == 201, posted.text
    switch_t_s = min(p["time"] for p in after)
    with world.client(w.B) as b:
        history = b.get(f"/v1/tracks/{w.A}/{w.A_AIRCRAFT}")
        assert history.status_code == 200, history.text
        times = [p["t_s"] for p in history.json()]
        assert len(times) == len(after), times
        assert min(times) >= switch_t_s - 0.001, "a position from the zones period"
        until_switch = b.get(
            f"/v1/tracks/{w.A}/{w.A_AIRCRAFT}",
            params={
                "until": datetime.fromtimestamp(switch_t_s - 1, tz=UTC).isoformat()
            },
        )
        assert until_switch.status_code == 404, until_switch.text
        incidents = b.get("/v1/incidents").json()
        assert seen["incident"]["id"] not in [i["id"] for i in incidents]
        one = b.get(f"/v1/incidents/{seen['incident']['id']}")
        assert one.status_code == 404, one.text
        day = datetime.now(tz=UTC).strftime("%Y-%m-%d")
        report = b.get("/v1/reports/daily", params={"day": day, "lang": "en"})
        assert report.status_code == 200
    # a's positions in b's report: the three since the switch, not the six before.
    assert len(before) == 6
    rows = re.findall(
        r'"></span>([^<]*)</td><td class="num">(.*?)</td><td class="num">(.*?)</td>',
        report.text,
    )
    # One row per party of the protocol, a's first: name, sorties, positions.
    assert len(rows) == 2, rows
    assert re.sub("<[^>]+>", "", rows[0][2]) == "3", rows
