"""Attack: count what is hidden from the gaps in one's own ids (issue 14, item 6).

Incident, message, suspension, token and stream event ids were each one sequence
over every party: b, seeing its incidents 4 and 7, knew two incidents it may not
see were recorded in between, and when; the gaps in its stream event ids counted
every event of the others. Now the ids of objects are drawn at random (53 bits,
exact in the console's JavaScript) and each party's stream events are numbered on
their own: consecutive, whatever the others do, and resuming with ``?after=`` still
gives each event once.
"""

from __future__ import annotations

import pytest
from websockets.sync.client import connect

from tests.conftest import Server
from tests.security import world as w

pytestmark = pytest.mark.slow

SMALL = 2**20  # a counter on a test server never reaches this; a random id does


def test_ids_tell_nothing_of_hidden_objects(server: Server) -> None:
    world = w.build(server, sharing="conflicts")
    b_events = w.drain_stream(world, w.B)
    ids = [e["id"] for e in b_events]
    assert ids == list(range(1, len(ids) + 1)), ids
    a_ids = [e["id"] for e in w.drain_stream(world, w.A)]
    assert a_ids == list(range(1, len(a_ids) + 1)), a_ids
    # Resuming after an event gives the rest, once.
    ws_url = world.server.url.replace("http://", "ws://") + "/v1/stream"
    middle = ids[len(ids) // 2]
    with connect(
        f"{ws_url}?after={middle}",
        additional_headers=w.auth(world.tokens[w.B]["officer"]),
    ) as ws:
        first = ws.recv(timeout=10)
    assert f'"id":{middle + 1},' in first.replace(" ", ""), first
    with world.client(w.B) as b, world.client(w.B, "admin") as admin:
        shown = {
            "incidents": [i["id"] for i in b.get("/v1/incidents").json()],
            "messages": [m["id"] for m in b.get("/v1/hotline/messages").json()],
            "suspensions": [s["id"] for s in b.get("/v1/hotline/suspensions").json()],
            "tokens": [t["id"] for t in admin.get(f"/v1/parties/{w.B}/tokens").json()],
        }
    for kind, seen in shown.items():
        assert seen, f"b sees no {kind}: a broken test"
        assert all(SMALL <= i < 2**53 for i in seen), (kind, seen)
