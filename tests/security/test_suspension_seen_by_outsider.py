"""Attack: learn who suspended the hotline, and why, without being a party to it;
learn from refusals what exists (issue 14, item 6).

``GET /v1/hotline/suspensions`` showed every party's suspensions with their reasons
to any token holder, a party named in no protocol included; the 409 of a message
refused named the party that suspended the channel, to anyone trying to send; the
409 of a proposal told a party in no version of a protocol which versions it had.
Now a party sees its own suspensions and those made known to it on the record (it
was a party of the protocol then); refusals name nothing of another party's.
"""

from __future__ import annotations

import pytest

from tests.conftest import Server
from tests.integration.helpers import protocol_text
from tests.security import world as w

pytestmark = pytest.mark.slow


def test_an_outsider_learns_nothing_of_a_suspension(server: Server) -> None:
    world = w.build(server, sharing="conflicts")  # a suspended the channel
    with world.client(w.C) as c:
        assert c.get("/v1/hotline/suspensions").json() == []
        # c may not send at all: refused as an outsider, not told of a's suspension.
        sent = c.post(
            "/v1/hotline/messages",
            json={"to": w.A, "kind": "free_text", "text": "hello"},
        )
        assert sent.status_code == 403, sent.text
        assert "suspend" not in sent.text and w.A not in sent.text.replace(
            f"'{w.C}'", ""
        ), sent.text
    # b, a party of the protocol, was told of it on the record: it sees it.
    with world.client(w.B) as b:
        shown = b.get("/v1/hotline/suspensions").json()
        assert [s["id"] for s in shown] == [world.objects["suspension_id"]]
        refused = b.post(
            "/v1/hotline/messages",
            json={"to": w.A, "kind": "free_text", "text": "hello"},
        )
        assert refused.status_code == 409, refused.text
        assert w.A not in refused.text, "the refusal names who suspended"


def test_a_refused_proposal_tells_an_outsider_no_versions(server: Server) -> None:
    world = w.build(server, sharing="conflicts")  # versions 1 and 2 of a and b's
    text = w.protocol_with_parties(protocol_text(1, "conflicts"), w.A, w.B, w.C)
    refused = world.propose(w.C, text)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "has version" not in detail and "version 3" not in detail, detail
    # a, a party of it, is told which version to propose.
    own = world.propose(w.A, protocol_text(2, "conflicts"))
    assert own.status_code == 409 and "version 3" in own.json()["detail"], own.text
