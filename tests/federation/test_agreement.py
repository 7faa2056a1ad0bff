"""A protocol agreed between nodes (issue 16, item 2): proposed on one node,
accepted by each node's officer on its own node, in effect when every node signed
its digest, every node holding every signature; traffic from a peer on another
version refused."""

from __future__ import annotations

import hashlib

from sqlalchemy import create_engine, select

from deconfliction.federation import agreement, certs
from deconfliction.store.tables import protocol_acceptances
from tests.federation.conftest import Node, federated_protocol, wait_for


def _propose(node: Node, text: str) -> None:
    with node.officer() as officer:
        answer = officer.post(
            "/v1/protocols", content=text, headers={"Content-Type": "application/toml"}
        )
    assert answer.status_code == 201, answer.text


def _status(node: Node, version: int) -> dict[str, object]:
    with node.officer() as officer:
        answer = officer.get(f"/v1/protocols/euphrates-2017/versions/{version}")
    return answer.json() if answer.status_code == 200 else {}


def _signatures(node: Node) -> dict[str, str | None]:
    engine = create_engine(node.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    protocol_acceptances.c.party_id, protocol_acceptances.c.signature
                )
            ).all()
    finally:
        engine.dispose()
    return {r.party_id: r.signature for r in rows}


def test_in_effect_when_every_node_signed(two_nodes: tuple[Node, Node]) -> None:
    coalition, russia = two_nodes
    text = federated_protocol([coalition, russia])
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    _propose(coalition, text)
    offered = wait_for("the offer on russia's node", lambda: _status(russia, 1))
    assert offered["status"] == "proposed"
    assert offered["sha256"] == sha  # the same text, byte for byte
    assert offered["proposed_by"] == "coalition"
    assert _status(coalition, 1)["status"] == "proposed"
    with russia.officer() as officer:
        accepted = officer.post("/v1/protocols/euphrates-2017/versions/1/accept").json()
    assert accepted["status"] == "in_effect"  # russia's node holds both signatures
    wait_for(
        "in effect on the coalition's node",
        lambda: _status(coalition, 1).get("status") == "in_effect",
    )
    keys = {
        node.party: certs.identity((node.dir / "tls/node.pem").read_bytes()).signing_key
        for node in (coalition, russia)
    }
    for node in (coalition, russia):
        held = _signatures(node)
        assert set(held) == {"coalition", "russia"}, node.party
        for party, signature in held.items():
            assert signature is not None
            assert agreement.digest_signed(keys[party], sha, signature), (
                node.party,
                party,
            )
            other = "russia" if party == "coalition" else "coalition"
            assert not agreement.digest_signed(keys[other], sha, signature)
        # Each node's officers see every signature, checked by their own node.
        with node.officer() as officer:
            shown = officer.get(
                "/v1/federation/protocols/euphrates-2017/versions/1/signatures"
            ).json()
        assert shown["sha256"] == sha and shown["status"] == "in_effect"
        assert {p: s["signature"] for p, s in shown["signatures"].items()} == held
        assert all(s["valid"] is True for s in shown["signatures"].values())
        assert shown["signatures"]["coalition"]["node_fingerprint"] == (
            coalition.fingerprint
        )
        assert shown["signatures"]["russia"]["node_fingerprint"] == russia.fingerprint


def test_traffic_from_a_peer_on_another_version_refused(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    _propose(coalition, federated_protocol([coalition, russia]))
    wait_for("the offer on russia's node", lambda: _status(russia, 1))
    with russia.officer() as officer:
        officer.post("/v1/protocols/euphrates-2017/versions/1/accept")
    wait_for(
        "in effect on the coalition's node",
        lambda: _status(coalition, 1).get("status") == "in_effect",
    )
    tag = _status(coalition, 1)
    ours = f"euphrates-2017/1/{tag['sha256']}"
    with russia.as_peer(coalition) as peer:
        same = peer.get(
            "/v1/federation/hello", headers={"Deconfliction-Protocol": ours}
        )
        other = peer.get(
            "/v1/federation/hello",
            headers={"Deconfliction-Protocol": "euphrates-2017/2/" + "0" * 64},
        )
        none = peer.get("/v1/federation/hello")
    assert same.status_code == 200, same.text
    assert other.status_code == 409
    assert "runs protocol euphrates-2017/2/" in other.json()["detail"]
    assert none.status_code == 409


def test_a_version_proposed_by_the_other_node_too(two_nodes: tuple[Node, Node]) -> None:
    """Russia's officer proposes version 2 on Russia's node; the coalition's
    officer accepts on theirs: the agreement goes either way."""
    coalition, russia = two_nodes
    _propose(coalition, federated_protocol([coalition, russia]))
    wait_for("the offer on russia's node", lambda: _status(russia, 1))
    with russia.officer() as officer:
        officer.post("/v1/protocols/euphrates-2017/versions/1/accept")
    _propose(russia, federated_protocol([coalition, russia], version=2))
    wait_for("v2 offered to the coalition", lambda: _status(coalition, 2))
    assert _status(russia, 1)["status"] == "in_effect"
    with coalition.officer() as officer:
        officer.post("/v1/protocols/euphrates-2017/versions/2/accept")
    for node in (coalition, russia):
        wait_for(
            f"v2 in effect on {node.party}'s node",
            lambda node=node: _status(node, 2).get("status") == "in_effect",
        )
        assert _status(node, 1)["status"] == "superseded"
