"""Attack: learn where, when and with how many aircraft the other side will fly,
from the notices of operation a level below ``plans`` sends anyway (issue 14, item 6).

Under ``zones`` (and ``conflicts``) b may not see a's operations, but the notice of
each gave b its area, altitudes, times and number of aircraft. What a notice tells
is now the protocol's choice (``[planning] notice_discloses``), and without one the
least: the operation's id and kind, the rest withheld.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import Server
from tests.integration.helpers import protocol_text
from tests.security import world as w

pytestmark = pytest.mark.slow

SHIPPED_CHOICE = 'notice_discloses = ["area", "altitudes", "times", "aircraft_count"]\n'


def test_a_notice_tells_only_what_the_protocol_discloses(server: Server) -> None:
    world = w.register(server)
    text = protocol_text(1, "zones")
    assert SHIPPED_CHOICE in text, "the shipped protocol states its choice"
    proposed = world.propose(w.A, text.replace(SHIPPED_CHOICE, ""))
    assert proposed.status_code == 201, proposed.text
    assert world.accept(w.B, w.PROTOCOL_ID, 1).json()["status"] == "in_effect"
    with world.client(w.A) as a, world.client(w.B) as b:
        filed = a.post(
            "/v1/operations", json=w.operation_body(w.A_OPERATION, 36.3, 41.0)
        )
        assert filed.status_code == 201, filed.text
        notice = w.wait_for(
            lambda: [
                m
                for m in b.get("/v1/hotline/messages", params={"lang": "en"}).json()
                if m["kind"] == "notice_of_operation"
            ],
            what="the notice to b",
        )[0]
    facts = notice["facts"]
    assert set(facts) == {"operation_id", "operation_kind", "withheld"}, facts
    assert facts["withheld"] == ["area", "altitudes", "times", "aircraft_count"]
    for word in ("Area", "Altitudes", "Time:", "36", "41"):
        assert word not in notice["text"], (word, notice["text"])
    assert "36.3" not in json.dumps(w.drain_stream(world, w.B))
