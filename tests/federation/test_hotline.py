"""The hotline between nodes (issue 16, item 4): a message signed by its author's
node reaches the addressee's node, which signs its delivery and acknowledgement;
both nodes hold the same record, entry by entry, each entry signed by the node that
made it; an operator who edits a row in their own database is caught by the other
node at the next checkpoint (``equivocation``, naming the entry)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, update

from deconfliction.federation import certs
from deconfliction.hotline import record
from deconfliction.store.tables import events, federation_record
from tests.federation.conftest import Node, cli, wait_for
from tests.federation.test_links import _agree, _rows


def _send(node: Node, to: str, text: str, priority: str = "urgent") -> dict[str, Any]:
    with node.officer() as officer:
        answer = officer.post(
            "/v1/federation/hotline/messages",
            json={"to": to, "text": text, "priority": priority},
        )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _messages(node: Node) -> list[dict[str, Any]]:
    with node.officer() as officer:
        return list(officer.get("/v1/federation/hotline/messages").json())


def _status(node: Node, message_id: str) -> str | None:
    return next(
        (m["status"] for m in _messages(node) if m["message_id"] == message_id), None
    )


def _record(node: Node, peer: str) -> list[dict[str, Any]]:
    with node.officer() as officer:
        answer = officer.get("/v1/federation/hotline/record", params={"peer": peer})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _keys(*nodes: Node) -> dict[str, Any]:
    return {
        n.party: certs.identity((n.dir / "tls" / "node.pem").read_bytes()).signing_key
        for n in nodes
    }


def _verified(entries: list[dict[str, Any]], keys: dict[str, Any]) -> None:
    """Each author's chain verifies with that node's key only."""
    for author in keys:
        chain = [record.LogEntry.from_json(e) for e in entries if e["signer"] == author]
        report = record.verify_chain(chain, {author: keys[author]})
        assert report.ok, (author, report)


def test_a_message_delivered_acknowledged_and_on_both_records(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    _agree(coalition, russia)
    sent = _send(coalition, "russia", "Two F-16 over Tabqa at FL250 until 1300Z")
    assert sent["status"] == "queued" and sent["from"] == "coalition"
    wait_for("delivered", lambda: _status(coalition, sent["message_id"]) == "delivered")
    assert _status(russia, sent["message_id"]) == "delivered"
    got = next(m for m in _messages(russia) if m["message_id"] == sent["message_id"])
    assert got["text"] == "Two F-16 over Tabqa at FL250 until 1300Z"
    # Only the addressee's officer acknowledges, and only on their own node.
    with coalition.officer() as officer:
        refused = officer.post(
            f"/v1/federation/hotline/messages/{sent['message_id']}/acknowledge"
        )
    assert refused.status_code == 404
    with russia.officer() as officer:
        acked = officer.post(
            f"/v1/federation/hotline/messages/{sent['message_id']}/acknowledge"
        )
        again = officer.post(
            f"/v1/federation/hotline/messages/{sent['message_id']}/acknowledge"
        )
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert again.status_code == 200
    wait_for(
        "acknowledged on the coalition's node",
        lambda: _status(coalition, sent["message_id"]) == "acknowledged",
    )
    ours, theirs = _record(coalition, "russia"), _record(russia, "coalition")
    assert [(e["signer"], e["event"]) for e in ours] == [
        ("coalition", "sent"),
        ("russia", "delivered"),
        ("russia", "acknowledged"),
    ]
    assert ours == theirs  # same entries, same order, same signatures
    keys = _keys(coalition, russia)
    _verified(ours, keys)
    _verified(theirs, keys)
    for node in (coalition, russia):  # the command line, on each node's store
        done = cli(
            "hotline",
            "verify",
            "--node",
            str(node.dir),
            "--database",
            node.database_url,
        )
        assert "common records intact: 3 entries in 2 chains" in done.stderr
    # The acknowledgement names the entry it answers.
    assert ours[2]["body"]["sent_hash"] == ours[0]["hash"]
    arrived = [
        r for r in _rows(russia, events) if r.type.startswith("federation.hotline")
    ]
    assert [r.type for r in arrived] == ["federation.hotline.sent"]


def test_an_operator_editing_their_own_row_is_caught_by_the_other_node(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    _agree(coalition, russia)
    first = _send(coalition, "russia", "Tanker track KILO active")
    second = _send(
        coalition, "russia", "Strike package at 1200Z, stay west of the line"
    )
    for message in (first, second):
        wait_for(
            "delivered",
            lambda m=message: _status(coalition, m["message_id"]) == "delivered",
        )
    # The coalition's operator rewrites the second message in their own database.
    engine = create_engine(coalition.database_url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                federation_record.select().where(
                    federation_record.c.author == "coalition",
                    federation_record.c.seq == 2,
                )
            ).all()
            assert len(rows) == 1
            edited = rows[0].body_json.replace("west", "east")
            assert edited != rows[0].body_json
            conn.execute(
                update(federation_record)
                .where(federation_record.c.id == rows[0].id)
                .values(body_json=edited)
            )
    finally:
        engine.dispose()

    def found(node: Node) -> list[dict[str, Any]]:
        with node.officer() as officer:
            return list(officer.get("/v1/federation/hotline/equivocations").json())

    evidence = wait_for("russia's node finds it", lambda: found(russia))
    assert [(e["peer"], e["author"], e["seq"]) for e in evidence] == [
        ("coalition", "coalition", 2)
    ]
    kept = evidence[0]
    assert "west" in kept["ours"]["body"]["text"]
    assert "east" in kept["theirs"]["body"]["text"]
    assert kept["checkpoint"]["node"] == "coalition" and kept["checkpoint"]["signature"]
    # Russia's officer sees it on the stream.
    raised = [r for r in _rows(russia, events) if r.type == "equivocation"]
    assert len(raised) == 1 and '"seq":2' in raised[0].payload_json
    # ... and in hotline verify on Russia's node, naming the entry.
    done = cli(
        "hotline",
        "verify",
        "--node",
        str(russia.dir),
        "--database",
        russia.database_url,
        check=False,
    )
    assert done.returncode == 1
    assert "equivocation: the node of coalition shows entry 2 of coalition" in (
        " ".join(done.stderr.split())
    )
    # The first message is not named: it did not change.
    assert all(e["seq"] != 1 for e in evidence)
    del first
