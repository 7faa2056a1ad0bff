"""Several agreements in effect at once, each with its own disclosure (issue 14,
item 3, part 2).

a and b agreed under ``conflicts``; b and c then agreed under ``full``. That
agreement shares no pair of parties with a's, so it takes effect beside it without
a's consent, and neither ends the other. Each pair of aircraft is judged by the
agreement binding their two parties: b's alerts with a are shown at ``conflicts``,
those with c at ``full``; a's and c's aircraft are never compared (no agreement
binds a and c), and neither ever sees the other's aircraft. A message from a to c
is refused as one to a party that does not exist. A version that shares the pair
a-b still needs a's consent. Through a real server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from deconfliction.store.engine import make_engine
from deconfliction.store.tables import alerts
from tests.conftest import Server
from tests.integration.helpers import flight
from tests.security import world as w

pytestmark = pytest.mark.slow

A_B, B_C = "a-b", "b-c"


def _two_agreements(world: w.World) -> None:
    proposed = world.propose(
        w.A, w.agreement_text(A_B, (w.A, w.B), sharing="conflicts")
    )
    assert proposed.status_code == 201, proposed.text
    assert world.accept(w.B, A_B, 1).json()["status"] == "in_effect"
    # b and c agree while a's agreement is in effect: a is not asked.
    proposed = world.propose(w.B, w.agreement_text(B_C, (w.B, w.C), sharing="full"))
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["awaiting"] == [w.C], proposed.text
    accepted = world.accept(w.C, B_C, 1)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "in_effect", accepted.text
    assert accepted.json()["accepted_by"] == [w.B, w.C]


def _traffic(now: float) -> dict[str, list[dict[str, Any]]]:
    """Three head-on encounters far apart: a with b, b with c, a with c."""
    return {
        w.A: [
            *flight("ALPHA1", 35.30, 39.70, 0.0, 420.0, 25000.0, now - 25, 6),
            *flight("ALPHA2", 36.30, 41.00, 0.0, 420.0, 25000.0, now - 25, 6),
        ],
        w.B: [
            *flight("BRAVO1", 35.60, 39.70, 180.0, 420.0, 25000.0, now - 25, 6),
            *flight("BRAVO2", 34.60, 39.70, 180.0, 420.0, 25000.0, now - 25, 6),
        ],
        w.C: [
            *flight("CHARLIE1", 34.30, 39.70, 0.0, 420.0, 25000.0, now - 25, 6),
            *flight("CHARLIE2", 36.60, 41.00, 180.0, 420.0, 25000.0, now - 25, 6),
        ],
    }


def _fly(world: w.World) -> list[dict[str, Any]]:
    for party, rows in _traffic(time.time()).items():
        with world.client(party) as client:
            r = client.post(
                "/v1/tracks", json={"batch_id": f"{party}-1", "positions": rows}
            )
            assert r.status_code == 201, r.text
    with world.client(w.B) as b:
        return w.wait_for(
            lambda: (found := b.get("/v1/alerts").json()) and len(found) >= 2 and found,
            what="b's two alerts",
        )


def _message(world: w.World, sender: str, to: str) -> httpx.Response:
    with world.client(sender) as client:
        return client.post(
            "/v1/hotline/messages",
            json={"to": to, "kind": "free_text", "text": f"{sender} to {to}"},
        )


def test_agreements_side_by_side_each_with_its_own_disclosure(
    server: Server,
) -> None:
    world = w.register(server)
    _two_agreements(world)
    # Each party's agreement: a's and c's their own; b's oldest (with a).
    for party, expected in ((w.A, A_B), (w.B, A_B), (w.C, B_C)):
        with world.client(party) as client:
            current = client.get("/v1/protocols/current")
        assert current.status_code == 200, current.text
        assert current.json()["protocol_id"] == expected, party

    b_alerts = _fly(world)
    time.sleep(1.5)  # one more tick
    by_pair = {
        frozenset(s["party"] for s in alert["aircraft"]): alert for alert in b_alerts
    }
    assert set(by_pair) == {frozenset({w.A, w.B}), frozenset({w.B, w.C})}, b_alerts
    # With c (full): c's aircraft named; with a (conflicts): a's id withheld.
    with_c = json.dumps(by_pair[frozenset({w.B, w.C})])
    with_a = json.dumps(by_pair[frozenset({w.A, w.B})])
    assert "CHARLIE1" in with_c and "BRAVO2" in with_c
    assert "BRAVO1" in with_a and "ALPHA1" not in with_a
    assert by_pair[frozenset({w.A, w.B})]["id"] != by_pair[frozenset({w.B, w.C})]["id"]

    # a and c: never compared, never shown to each other.
    for party, other, secret in ((w.A, w.C, "CHARLIE"), (w.C, w.A, "ALPHA")):
        with world.client(party) as client:
            listed = client.get("/v1/alerts").json()
            assert listed, f"{party} sees no alert: a broken test"
            assert all(
                other not in {s["party"] for s in a["aircraft"]} for a in listed
            ), party
            assert secret not in json.dumps(listed), party
            picture = client.get("/v1/tracks").json()
            assert other not in {p["party"] for p in picture}, party
            assert secret not in json.dumps(picture), party
        events = w.drain_stream(world, party)
        assert events, f"{party}'s stream is empty: a broken test"
        assert secret not in json.dumps(events), party
    with world.client(w.C) as c:
        shown = {p["id"] for p in c.get("/v1/tracks").json()}
        assert {"BRAVO1", "BRAVO2"} <= shown  # b's, under full
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            pairs = {
                frozenset(row)
                for row in conn.execute(select(alerts.c.party_a, alerts.c.party_b))
            }
    finally:
        engine.dispose()
    assert frozenset({w.A, w.C}) not in pairs, pairs

    # The hotline: each message under the agreement binding sender and recipient.
    assert _message(world, w.A, w.B).status_code == 201
    assert _message(world, w.B, w.C).status_code == 201
    to_c = _message(world, w.A, w.C)
    to_nobody = _message(world, w.A, "nobody")
    assert to_c.status_code == to_nobody.status_code == 422, to_c.text
    assert to_c.text.replace(w.C, "X") == to_nobody.text.replace("nobody", "X")
    broadcast = _message(world, w.A, "*")
    assert broadcast.status_code == 201, broadcast.text
    with world.client(w.C) as c:
        inbox = c.get("/v1/hotline/messages").json()
    assert [m["from"] for m in inbox] == [w.B], inbox

    # Each party's daily report shows its own agreement, never the other.
    day = datetime.now(tz=UTC).strftime("%Y-%m-%d")
    for party, own, other in ((w.A, A_B, B_C), (w.C, B_C, A_B)):
        with world.client(party) as client:
            report = client.get("/v1/reports/daily", params={"day": day})
        assert report.status_code == 200, report.text
        assert f"{own} agreement" in report.text, party
        assert f"{other} agreement" not in report.text, party


def test_a_version_sharing_a_pair_still_needs_its_parties(server: Server) -> None:
    world = w.register(server)
    _two_agreements(world)
    # The next version of a's agreement, naming b and c only: a must consent.
    text = w.agreement_text(A_B, (w.B, w.C), version=2, sharing="full")
    proposed = world.propose(w.B, text)
    assert proposed.status_code == 201, proposed.text
    assert world.accept(w.C, A_B, 2).json()["awaiting"] == [w.A]
    # A new protocol naming all three shares a-b and b-c: it would end both.
    text = w.agreement_text("a-b-c", (w.C, w.B, w.A), sharing="full")
    proposed = world.propose(w.C, text)
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["awaiting"] == [w.B, w.A], proposed.text
    assert world.accept(w.B, "a-b-c", 1).json()["status"] == "proposed"
    with world.client(w.A) as a:
        assert a.get("/v1/protocols/current").json()["protocol_id"] == A_B
    done = world.accept(w.A, "a-b-c", 1)
    assert done.json()["status"] == "in_effect", done.text
    with world.client(w.B) as b:
        listed = {
            (v["protocol_id"], v["version"]): v["status"]
            for v in b.get("/v1/protocols").json()
        }
    assert listed[(A_B, 1)] == listed[(B_C, 1)] == "superseded", listed


def _file(world: w.World, party: str, op_id: str) -> dict[str, Any]:
    """``party`` files an operation at the same place and time as the others."""
    with world.client(party) as client:
        filed = client.post(
            "/v1/operations", json={**w.operation_body(op_id, 36.30, 41.00)}
        )
    assert filed.status_code == 201, filed.text
    body: dict[str, Any] = filed.json()
    return body


def test_operations_are_checked_under_each_agreement_of_their_party(
    server: Server,
) -> None:
    world = w.register(server)
    _two_agreements(world)
    assert _file(world, w.C, "charlie-op")["state"] == "pending"
    # a and c: no agreement binds them, so a's operation is not checked against
    # c's (nor does a learn of it).
    alpha = _file(world, w.A, "alpha-op")
    assert alpha["state"] == "pending" and alpha["conflicts"] == [], alpha
    assert "charlie-op" not in json.dumps(alpha)
    # b: checked under b-c too (not only its oldest agreement, with a).
    bravo = _file(world, w.B, "bravo-op")
    assert bravo["state"] == "conflicted", bravo
    assert "charlie-op" in json.dumps(bravo["conflicts"]), bravo


def test_a_suspension_covers_the_agreements_of_its_party(server: Server) -> None:
    world = w.register(server)
    _two_agreements(world)
    with world.client(w.C) as c:
        made = c.post(
            "/v1/hotline/suspensions", json={"scope": "channel", "reason": "c's own"}
        )
    assert made.status_code == 201, made.text
    # c suspended its channel: b-c's messages wait, a-b's go on.
    refused = _message(world, w.B, w.C)
    assert refused.status_code == 409, refused.text
    assert _message(world, w.A, w.B).status_code == 201
    assert _message(world, w.B, w.A).status_code == 201
    # b suspends its channel under every agreement naming it: a and c are told.
    by_b = _suspend(world, w.B)
    assert by_b.status_code == 201, by_b.text
    for party in (w.A, w.C):
        with world.client(party) as client:
            seen = {s["id"] for s in client.get("/v1/hotline/suspensions").json()}
        assert by_b.json()["id"] in seen, party
    assert _message(world, w.A, w.B).status_code == 409


def test_a_message_refers_only_to_an_operation_its_sender_may_see(
    server: Server,
) -> None:
    world = w.register(server)
    _two_agreements(world)
    _file(world, w.C, "charlie-op")  # hidden from a: no agreement binds a and c
    _file(world, w.A, "alpha-op")

    def refer(op_id: str) -> httpx.Response:
        with world.client(w.A) as a:
            return a.post(
                "/v1/hotline/messages",
                json={
                    "to": w.B,
                    "kind": "free_text",
                    "text": "about that operation",
                    "operation_id": op_id,
                },
            )

    hidden, missing = refer("charlie-op"), refer("nobody-op")
    assert hidden.status_code == missing.status_code == 422, hidden.text
    assert hidden.json() == missing.json()
    assert "charlie-op" not in hidden.text
    assert refer("alpha-op").status_code == 201
    with world.client(w.B) as b:
        inbox = b.get("/v1/hotline/messages").json()
    sent = [m["operation_id"] for m in inbox if m["kind"] == "free_text"]
    assert sent == ["alpha-op"], inbox


def _with_line(text: str, line_id: str, west: str, east: str) -> str:
    """``text`` with a deconfliction line far from any traffic."""
    return text.replace(
        "[separation]",
        f'[[lines]]\nid = "{line_id}"\nname = "{line_id} line"\nbuffer_nm = 5\n'
        "points = [[30.5, 30.0], [30.0, 30.0]]\n"
        f'sides = {{ {east} = "east", {west} = "west" }}\n\n[separation]',
    )


def test_the_daily_report_has_a_section_per_agreement_of_its_reader(
    server: Server,
) -> None:
    world = w.register(server)
    ab = _with_line(
        w.agreement_text(A_B, (w.A, w.B), sharing="conflicts"), "ab", w.A, w.B
    )
    bc = _with_line(w.agreement_text(B_C, (w.B, w.C), sharing="full"), "bc", w.B, w.C)
    assert world.propose(w.A, ab).status_code == 201
    assert world.accept(w.B, A_B, 1).json()["status"] == "in_effect"
    assert world.propose(w.B, bc).status_code == 201
    assert world.accept(w.C, B_C, 1).json()["status"] == "in_effect"
    day = datetime.now(tz=UTC).strftime("%Y-%m-%d")

    def report(party: str) -> str:
        with world.client(party) as client:
            got = client.get("/v1/reports/daily", params={"day": day})
        assert got.status_code == 200, got.text
        return got.text

    # b, party to both: a section for each, with its title and its line.
    b = report(w.B)
    for own in (A_B, B_C):
        assert f"{own} agreement" in b
        assert f"{own} v1" in b
    assert "ab line" in b and "bc line" in b
    assert b.count("<section>") == 2
    # b's partners in both agreements are listed (a's tracks not shared: conflicts).
    assert w.A.title() in b and w.C.title() in b
    # a and c: their own agreement only, as before (no section of the other).
    for party, own, other in ((w.A, A_B, B_C), (w.C, B_C, A_B)):
        text = report(party)
        assert f"{own} agreement" in text, party
        assert f"{other} agreement" not in text, party
        assert f"{other.replace('-', '')} line" not in text, party
        assert "<section>" not in text, party
    # An outsider: none.
    world.tokens["outsider"] = {
        role: w.add_party(server.database_url, "outsider", role, "en")
        for role in w.ROLES
    }
    outsider = report("outsider")
    assert "agreement" not in outsider and "<section>" not in outsider


def _suspend(world: w.World, party: str, **body: Any) -> httpx.Response:
    with world.client(party) as client:
        return client.post(
            "/v1/hotline/suspensions", json={"scope": "channel", "reason": "", **body}
        )


def test_a_party_suspends_one_of_its_agreements(server: Server) -> None:
    world = w.register(server)
    _two_agreements(world)
    # b suspends its channel under b-c only: b-c's messages wait, a-b's go on.
    made = _suspend(world, w.B, protocol_id=B_C)
    assert made.status_code == 201, made.text
    assert made.json()["protocol_id"] == B_C
    assert _message(world, w.B, w.C).status_code == 409
    assert _message(world, w.C, w.B).status_code == 409
    assert _message(world, w.A, w.B).status_code == 201
    assert _message(world, w.B, w.A).status_code == 201
    assert _suspend(world, w.B, protocol_id=B_C).status_code == 409  # already
    # An agreement one is not party to is refused as one that does not exist.
    hidden = _suspend(world, w.A, protocol_id=B_C)
    missing = _suspend(world, w.A, protocol_id="nobody")
    assert hidden.status_code == missing.status_code == 422, hidden.text
    assert hidden.json() == missing.json()
    # a hears nothing of b's suspension under b-c.
    with world.client(w.A) as a:
        assert a.get("/v1/hotline/suspensions").json() == []
    # Then under a-b too; resuming b-c leaves a-b suspended.
    assert _suspend(world, w.B, protocol_id=A_B).status_code == 201
    assert _message(world, w.A, w.B).status_code == 409
    with world.client(w.B) as b:
        resumed = b.post(f"/v1/hotline/suspensions/{made.json()['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert _message(world, w.B, w.C).status_code == 201
    assert _message(world, w.A, w.B).status_code == 409
    # a was told of the a-b suspension only, never of b-c's nor of its end.
    with world.client(w.A) as a:
        seen = a.get("/v1/hotline/suspensions").json()
    assert [s["protocol_id"] for s in seen] == [A_B], seen
    events = json.dumps(w.drain_stream(world, w.A))
    assert "hotline.suspended" in events, "a broken test"  # a-b's
    assert "hotline.resumed" not in events and B_C not in events
    assert str(made.json()["id"]) not in events
