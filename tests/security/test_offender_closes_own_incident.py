"""Attack: the party at fault closes its own incident (issue 14, item 9).

a, the offender, set its own violation to ``resolved``; b's later ``disputed`` got
409; a resolve and a dispute sent at the same time both got 200. Now the affected
party resolves a violation (the offender's ``resolved`` only records its
agreement), both parties resolve a loss of separation, the offender remarks and
disputes, and every change names the version it was made from: of several changes
made from one version exactly one is kept, the others get 409.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.integration.helpers import flight
from tests.security import world as w

pytestmark = pytest.mark.slow


def _status(
    world: w.World, party: str, incident_id: int, status: str, version: int
) -> httpx.Response:
    with world.client(party) as client:
        return client.post(
            f"/v1/incidents/{incident_id}/status",
            json={"status": status, "version": version},
        )


def _read(world: w.World, party: str, incident_id: int) -> dict[str, Any]:
    with world.client(party) as client:
        got: dict[str, Any] = client.get(f"/v1/incidents/{incident_id}").json()
    return got


def _violation(server: Server) -> tuple[w.World, int]:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, sharing="conflicts")
    return world, int(w.fly_into_violation(world)["incident"]["id"])


def test_the_offender_cannot_close_its_own_violation(server: Server) -> None:
    world, incident_id = _violation(server)
    start = _read(world, w.A, incident_id)
    assert start["offending_party"] == w.A and start["status"] == "open"

    # a asks to resolve: its agreement is recorded, the incident stays open.
    asked = _status(world, w.A, incident_id, "resolved", start["version"])
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "open"
    assert asked.json()["resolution_requested_by"] == [w.A]
    seen_by_b = _read(world, w.B, incident_id)
    assert seen_by_b["resolution_requested_by"] == [w.A]
    # a neither reports its own violation nor closes it by asking again.
    v = asked.json()["version"]
    assert _status(world, w.A, incident_id, "reported", v).status_code == 403
    assert _status(world, w.A, incident_id, "resolved", v).json()["status"] == "open"
    # b, affected, disputes a's account; a may remark.
    disputed = _status(world, w.B, incident_id, "disputed", v)
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["status"] == "disputed"
    assert disputed.json()["resolution_requested_by"] == []
    with world.client(w.A) as a:
        remark = a.post(f"/v1/incidents/{incident_id}/remarks", json={"text": "GPS"})
        assert remark.status_code == 200
    # b reports it again; only a acknowledges the complaint.
    v = disputed.json()["version"]
    reported = _status(world, w.B, incident_id, "reported", v)
    assert reported.json()["status"] == "reported"
    v = reported.json()["version"]
    assert _status(world, w.B, incident_id, "acknowledged", v).status_code == 403
    with world.client(w.A, "observer") as observer:
        refused = observer.post(
            f"/v1/incidents/{incident_id}/status",
            json={"status": "acknowledged", "version": v},
        )
        assert refused.status_code == 403
    acknowledged = _status(world, w.A, incident_id, "acknowledged", v)
    assert acknowledged.json()["status"] == "acknowledged"
    # b resolves; that is final.
    v = acknowledged.json()["version"]
    resolved = _status(world, w.B, incident_id, "resolved", v)
    assert resolved.json()["status"] == "resolved"
    v = resolved.json()["version"]
    assert _status(world, w.A, incident_id, "disputed", v).status_code == 409
    # A stale version is refused, whatever it asks.
    assert _status(world, w.B, incident_id, "resolved", 0).status_code == 409


def test_of_simultaneous_changes_exactly_one_is_kept(server: Server) -> None:
    world, incident_id = _violation(server)
    version = _read(world, w.A, incident_id)["version"]
    requests = [(w.A, "disputed"), (w.B, "resolved")] * 4
    barrier = threading.Barrier(len(requests))
    answers: list[int] = []

    def send(party: str, status: str) -> None:
        with world.client(party) as client:
            barrier.wait()
            r = client.post(
                f"/v1/incidents/{incident_id}/status",
                json={"status": status, "version": version},
            )
        answers.append(r.status_code)

    threads = [threading.Thread(target=send, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(answers) == [200] + [409] * (len(requests) - 1), answers
    after = _read(world, w.B, incident_id)
    assert after["version"] == version + 1
    assert after["status"] in ("disputed", "resolved")


def test_a_loss_of_separation_is_resolved_only_by_both(server: Server) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, sharing="conflicts")
    now = time.time()
    # Side by side, south of the line's end and clear of every zone.
    for party, ident, lon in ((w.A, "ALPHA9", 36.0), (w.B, "BRAVO9", 36.004)):
        rows = flight(ident, 32.0, lon, 90.0, 300.0, 20000.0, now - 25, 6)
        with world.client(party) as client:
            r = client.post("/v1/tracks", json={"batch_id": ident, "positions": rows})
            assert r.status_code == 201, r.text
    with world.client(w.A) as a:
        loss = w.wait_for(
            lambda: [
                i
                for i in a.get("/v1/incidents").json()
                if i["kind"] == "loss_of_separation"
            ],
            what="a loss of separation",
        )[0]
    assert loss["offending_party"] is None
    first = _status(world, w.A, loss["id"], "resolved", loss["version"])
    assert first.json()["status"] == "open"
    second = _status(world, w.B, loss["id"], "resolved", first.json()["version"])
    assert second.json()["status"] == "resolved"
    assert second.json()["resolution_requested_by"] == [w.A, w.B]
