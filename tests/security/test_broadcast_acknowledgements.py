"""Attack: watch the other recipients of a message to all parties (issue 14, item 6).

A message to all parties of the protocol (``to = "*"``) has one receipt per
recipient. Every recipient's acknowledgement was streamed to every recipient: b
learnt when c acknowledged, and who (party and role). The signed entry's
audience was already the sender and the acknowledging party; now the stream event
goes to those two only, as the message's view does.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import Server
from tests.integration.helpers import protocol_text
from tests.security import world as w

pytestmark = pytest.mark.slow

C_OFFICER = f"{w.C} officer"  # who acknowledged: the party and role of the token


def test_a_recipient_sees_no_other_recipients_acknowledgement(server: Server) -> None:
    world = w.register(server)
    text = w.protocol_with_parties(protocol_text(1, "conflicts"), w.A, w.B, w.C)
    assert world.propose(w.A, text).status_code == 201
    assert world.accept(w.B, w.PROTOCOL_ID, 1).status_code == 200
    accepted = world.accept(w.C, w.PROTOCOL_ID, 1)
    assert accepted.json()["status"] == "in_effect", accepted.text
    with world.client(w.A) as a:
        sent = a.post(
            "/v1/hotline/messages",
            json={"to": "*", "kind": "free_text", "text": "to all parties"},
        )
        assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    with world.client(w.C) as c:
        acked = c.post(f"/v1/hotline/messages/{message_id}/ack")
        assert acked.status_code == 200, acked.text
    a_events = w.drain_stream(world, w.A)
    acks = [e for e in a_events if e["type"] == "hotline.acknowledged"]
    assert [e["data"]["by"] for e in acks] == [w.C], "the sender hears of it"
    b_events = w.drain_stream(world, w.B)
    assert not [e for e in b_events if e["type"] == "hotline.acknowledged"]
    assert C_OFFICER not in json.dumps(b_events)
    with world.client(w.B) as b:
        seen = b.get(f"/v1/hotline/messages/{message_id}").json()
    assert [r["party"] for r in seen["receipts"]] == [w.B]
