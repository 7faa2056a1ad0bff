"""Attack: two parties end a third party's agreement without it (issue 14, item 3).

b proposed a protocol naming only b and c, c accepted, and a's protocol was
superseded: a's alerts vanished and its messages were refused. Now an agreement
between b and c takes effect beside a's (they share no pair of parties: see
test_several_agreements), and a version that would replace one in effect (a version
of the same protocol, or one sharing a pair of its parties) needs the acceptance of
every party of that version too; with a's acceptance it takes effect. Through a real
server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from deconfliction.errors import ConflictError
from deconfliction.service import auth, protocols
from deconfliction.service.auth import Principal, Role
from deconfliction.store import engine as store_engine
from tests.conftest import Server
from tests.security import world as w

pytestmark = pytest.mark.slow

B_C = "russia-syria"
# Names a, b and c: it shares the pair a-b with a's agreement, so would replace it.
A_B_C = "coalition-russia-syria"


def _current(world: w.World, party: str) -> httpx.Response:
    with world.client(party) as client:
        return client.get("/v1/protocols/current")


def _message_to_b(world: w.World) -> httpx.Response:
    with world.client(w.A) as a:
        return a.post(
            "/v1/hotline/messages",
            json={"to": w.B, "kind": "free_text", "text": "still talking"},
        )


def test_two_parties_cannot_supersede_a_third_partys_agreement(
    server: Server,
) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, "zones")
    # b proposes an agreement naming a, b and c (it shares the pair a-b with a's
    # agreement), c accepts it. (Changed with several agreements in effect: this
    # used to be an agreement naming only b and c, which now takes effect beside
    # a's without a's consent.)
    proposed = world.propose(w.B, w.agreement_text(A_B_C, (w.B, w.C, w.A)))
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "proposed"
    assert proposed.json()["awaiting"] == [w.C, w.A], proposed.text
    accepted = world.accept(w.C, A_B_C, 1)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "proposed", accepted.text
    assert accepted.json()["awaiting"] == [w.A]
    # Accepting again changes nothing either.
    again = world.accept(w.B, A_B_C, 1)
    assert again.status_code == 200 and again.json()["status"] == "proposed"
    # a's agreement stands: still in effect for a and b, and a's hotline works.
    for party in (w.A, w.B):
        current = _current(world, party)
        assert current.status_code == 200, current.text
        assert (current.json()["protocol_id"], current.json()["status"]) == (
            w.PROTOCOL_ID,
            "in_effect",
        )
    sent = _message_to_b(world)
    assert sent.status_code == 201, sent.text
    # The same through a new version of a's own protocol that drops a.
    dropped = world.propose(
        w.B, w.agreement_text(w.PROTOCOL_ID, (w.B, w.C), version=2, sharing="full")
    )
    assert dropped.status_code == 201, dropped.text
    assert world.accept(w.C, w.PROTOCOL_ID, 2).json()["awaiting"] == [w.A]
    assert _current(world, w.A).json()["version"] == 1
    # a is asked: it sees both proposals and was told of them on its stream.
    with world.client(w.A, "observer") as a:
        listed = {
            (v["protocol_id"], v["version"]): v for v in a.get("/v1/protocols").json()
        }
    assert listed[(A_B_C, 1)]["awaiting"] == [w.A]
    assert listed[(w.PROTOCOL_ID, 2)]["awaiting"] == [w.A]
    told = [
        (e["type"], e["data"]["protocol_id"], e["data"]["version"])
        for e in w.drain_stream(world, w.A)
        if e.get("type") == "protocol.proposed"
    ]
    assert (("protocol.proposed", A_B_C, 1)) in told, told
    # a's observer may read but not consent.
    with world.client(w.A, "observer") as observer:
        refused = observer.post(f"/v1/protocols/{A_B_C}/versions/1/accept")
    assert refused.status_code == 403, refused.text
    assert _current(world, w.A).json()["protocol_id"] == w.PROTOCOL_ID


def test_with_the_third_partys_acceptance_they_can(server: Server) -> None:
    world = w.register(server)
    w.put_protocol_in_effect(world, 1, "zones")
    # A version of a's own protocol naming only b and c.
    text = w.agreement_text(w.PROTOCOL_ID, (w.B, w.C), version=2)
    assert world.propose(w.B, text).status_code == 201
    assert world.accept(w.C, w.PROTOCOL_ID, 2).json()["status"] == "proposed"
    consented = world.accept(w.A, w.PROTOCOL_ID, 2)
    assert consented.status_code == 200, consented.text
    assert consented.json()["status"] == "in_effect", consented.text
    assert consented.json()["accepted_by"] == [w.B, w.C, w.A]
    assert consented.json()["awaiting"] == []
    # a's agreement ended with a's consent: a is no longer party to one.
    assert _current(world, w.A).status_code == 404
    with world.client(w.A) as a:
        old = a.get(f"/v1/protocols/{w.PROTOCOL_ID}/versions/1").json()
        assert old["status"] == "superseded"
        # a keeps reading the version it consented to.
        assert a.get(f"/v1/protocols/{w.PROTOCOL_ID}/versions/2").status_code == 200
    assert _current(world, w.C).json()["version"] == 2
    # and the hotline follows the agreement in effect, which no longer names a.
    assert _message_to_b(world).status_code == 403


def test_two_acceptances_at_once_cannot_both_take_effect(
    database_url: str,
) -> None:
    """b accepts a's proposal (a and b) while c accepts the next version of the
    same protocol, which names b and c: one takes effect, and the other then needs
    the consent of the first one's parties too (on SQLite the second write is
    refused outright). (Changed with several agreements in effect: the second
    used to be a protocol of its own naming b and c, which now takes effect beside
    the first.)"""
    engine = store_engine.make_engine(database_url)
    store_engine.upgrade(engine)
    a, b, c = (Principal(p, Role.OFFICER) for p in (w.A, w.B, w.C))
    try:
        with engine.begin() as conn:
            for party in w.PARTIES:
                auth.ensure_party(conn, party, party.title(), "en", 1e9)
            protocols.propose(conn, a, w.agreement_text("a-b", (w.A, w.B)), 1e9)
            text = w.agreement_text("a-b", (w.B, w.C), version=2)
            protocols.propose(conn, b, text, 1e9)
        outcome: dict[str, Any] = {}

        def accept_b_c() -> None:
            try:
                with engine.begin() as conn:
                    outcome["b-c"] = protocols.accept(conn, c, "a-b", 2, 1e9 + 1).status
            except (ConflictError, OperationalError) as exc:
                outcome["b-c"] = type(exc).__name__

        with engine.begin() as conn:
            assert protocols.accept(conn, b, "a-b", 1, 1e9 + 1).status == "in_effect"
            second = threading.Thread(target=accept_b_c)
            second.start()
            second.join(timeout=1.0)  # it waits for this transaction
        second.join(timeout=60.0)
        assert not second.is_alive()
        with engine.connect() as conn:
            effective = [
                (v.protocol.id, v.status)
                for v in protocols.list_visible(conn, b)
                if v.status == "in_effect"
            ]
            b_c = protocols.get_visible(conn, b, "a-b", 2)
        assert effective == [("a-b", "in_effect")], (effective, outcome)
        assert b_c.status == "proposed" and w.A in b_c.awaiting, outcome
        assert outcome["b-c"] in ("proposed", "OperationalError"), outcome
    finally:
        engine.dispose()
