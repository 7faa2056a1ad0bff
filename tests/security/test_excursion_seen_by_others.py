"""Attack: read another party's flight plans and positions through its excursions
(issue 14, item 6).

Under ``conflicts`` an ``operation_nonconformance`` incident (a's operation left its
volumes) was shown to b, with a's operation id and a's aircraft at a position far
from any aircraft of b's, and ``/v1/incidents/stats`` counted it: b learnt where a
flew and what a planned, which ``conflicts`` hides. Now another party sees an
excursion only where it may see the operation (``plans`` up), without the
aircraft or its position below ``full``, and the counts are those of the
incidents the party may see.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import Server
from tests.integration.helpers import flight
from tests.security import world as w

pytestmark = pytest.mark.slow

# a's operation: 10 NM around a point on a's side; its aircraft 60 NM away.
OP_LAT_DEG, OP_LON_DEG = 35.50, 41.00
OUT_LAT_DEG, OUT_LON_DEG = 36.40, 41.60


def _fly_out_of_the_operation(world: w.World) -> dict[str, object]:
    """a files an operation flying now, b acknowledges its notice, a activates it
    and its aircraft flies far outside: a's nonconformance incident."""
    with world.client(w.A) as a, world.client(w.B) as b:
        body = w.operation_body(
            w.A_OPERATION, OP_LAT_DEG, OP_LON_DEG, start_in_s=-600, end_in_s=3600
        )
        filed = a.post("/v1/operations", json=body)
        assert filed.status_code == 201, filed.text
        notice = w.wait_for(
            lambda: [
                m
                for m in b.get("/v1/hotline/messages").json()
                if m["kind"] == "notice_of_operation"
            ],
            what="the notice to b",
        )[0]
        acked = b.post(f"/v1/hotline/messages/{notice['id']}/ack")
        assert acked.status_code == 200, acked.text
        w.wait_for(
            lambda: (
                a.get(f"/v1/operations/{w.A_OPERATION}").json()["state"] == "accepted"
            ),
            what="the operation accepted",
        )
        activated = a.post(f"/v1/operations/{w.A_OPERATION}/activate")
        assert activated.status_code == 200, activated.text
        rows = flight(
            w.A_AIRCRAFT,
            OUT_LAT_DEG,
            OUT_LON_DEG,
            90.0,
            300.0,
            20000.0,
            time.time() - 10,
            3,
        )
        posted = a.post("/v1/tracks", json={"batch_id": "a-out", "positions": rows})
        assert posted.status_code == 201, posted.text
        found: dict[str, object] = w.wait_for(
            lambda: [
                i
                for i in a.get("/v1/incidents").json()
                if i["kind"] == "operation_nonconformance"
            ],
            what="a's nonconformance",
        )[0]
    return found


def test_another_partys_excursion_is_neither_shown_nor_counted(
    server: Server,
) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, "conflicts")
    incident = _fly_out_of_the_operation(world)
    assert incident["boundary_id"] == w.A_OPERATION, "a sees its own in full"
    time.sleep(1.5)  # a tick more: nothing else to come
    with world.client(w.B) as b:
        listed = b.get("/v1/incidents").json()
        assert all(i["kind"] != "operation_nonconformance" for i in listed), listed
        one = b.get(f"/v1/incidents/{incident['id']}")
        assert one.status_code == 404, one.text
        stats = b.get("/v1/incidents/stats").json()["by_party"]
        kinds = {k for days in stats.get(w.A, {}).values() for k in days}
        assert "operation_nonconformance" not in kinds, stats
    events = [e for e in w.drain_stream(world, w.B) if e["type"].startswith("incident")]
    seen = json.dumps(events)
    assert "operation_nonconformance" not in seen, seen
    assert w.A_OPERATION not in seen and str(OUT_LAT_DEG) not in seen
    # a still counts its own.
    with world.client(w.A) as a:
        own = a.get("/v1/incidents/stats").json()["by_party"][w.A]
        assert any("operation_nonconformance" in k for k in own.values()), own
