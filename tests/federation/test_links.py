"""Links that fail (issue 16, item 5, in part): a peer that is down is shown down
(with since when) on the node's links and stream within two link intervals; what
was queued for it meanwhile goes out in order once it is back, once; a node killed
with SIGKILL with items in its queue sends them when it restarts."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import create_engine, select

from deconfliction.store.tables import events, federation_outbox
from tests.federation.conftest import Node, cli, federated_protocol, wait_for

INTERVAL_S = 0.5  # the nodes' link interval in these tests (two_nodes)


def _link(node: Node, party: str) -> dict[str, Any]:
    with node.officer() as officer:
        links = officer.get("/v1/federation/links").json()
    return next((link for link in links if link["party"] == party), {})


def _versions(node: Node) -> list[dict[str, Any]]:
    with node.officer() as officer:
        return list(officer.get("/v1/protocols").json())


def _in_effect(node: Node) -> int | None:
    return next(
        (v["version"] for v in _versions(node) if v["status"] == "in_effect"), None
    )


def _rows(node: Node, table: Any) -> list[Any]:
    engine = create_engine(node.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(table)).all())
    finally:
        engine.dispose()


def _propose(node: Node, text: str) -> None:
    with node.officer() as officer:
        answer = officer.post(
            "/v1/protocols", content=text, headers={"Content-Type": "application/toml"}
        )
    assert answer.status_code == 201, answer.text


def _agree(coalition: Node, russia: Node) -> None:
    _propose(coalition, federated_protocol([coalition, russia]))
    wait_for("the offer on russia's node", lambda: _versions(russia))
    with russia.officer() as officer:
        officer.post("/v1/protocols/euphrates-2017/versions/1/accept")
    for node, peer in ((coalition, "russia"), (russia, "coalition")):
        wait_for(
            f"{node.party}'s link up",
            lambda node=node, peer=peer: _link(node, peer).get("status") == "up",
        )


def test_a_peer_down_is_shown_and_gets_the_queue_once_back(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    _agree(coalition, russia)
    russia.stop()
    down = wait_for(
        "the link to russia shown down",
        lambda: (
            _link(coalition, "russia").get("status") == "down"
            and _link(coalition, "russia")
        ),
        timeout_s=2 * INTERVAL_S + 10,  # two intervals, and a slow machine's margin
    )
    assert down["since_t_s"] is not None and down["reason"]
    link_events = [r for r in _rows(coalition, events) if r.type == "federation.link"]
    assert any('"down"' in r.payload_json for r in link_events)
    # Two versions proposed while Russia's node is down: queued, in order.
    _propose(coalition, federated_protocol([coalition, russia], version=2))
    _propose(coalition, federated_protocol([coalition, russia], version=3))
    queued = wait_for(
        "two offers queued", lambda: _link(coalition, "russia").get("queued") == 2
    )
    assert queued
    # The officer's command line says the same.
    shown = cli(
        "node",
        "links",
        "--server",
        coalition.url,
        "--token",
        coalition.token,
        env={"SSL_CERT_FILE": coalition.cert},
    ).stdout
    assert re.fullmatch(
        r"link to russia down since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: .+; "
        r"2 queued since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n",
        shown,
    ), shown
    russia.start()
    wait_for(
        "both offers on russia's node",
        lambda: len(_versions(russia)) == 3,
    )
    assert [v["version"] for v in _versions(russia)] == [1, 2, 3]
    wait_for(
        "the link to russia up again",
        lambda: _link(coalition, "russia").get("status") == "up",
    )
    assert _link(coalition, "russia")["queued"] == 0
    offers = [r for r in _rows(coalition, federation_outbox) if r.kind == "offer"]
    assert len(offers) == 3
    assert all(r.sent_t_s is not None and r.last_error is None for r in offers[1:])
    assert offers[1].sent_t_s <= offers[2].sent_t_s
    assert offers[1].attempts >= 2  # tried while it was down, then again


def test_a_node_killed_with_a_queue_sends_it_when_restarted(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    _agree(coalition, russia)
    russia.stop()
    _propose(coalition, federated_protocol([coalition, russia], version=2))
    wait_for("the offer queued", lambda: _link(coalition, "russia").get("queued") == 1)
    coalition.stop(kill=True)  # SIGKILL, its queue in its store
    russia.start()
    assert [v["version"] for v in _versions(russia)] == [1]
    coalition.start()
    wait_for("the offer on russia's node", lambda: len(_versions(russia)) == 2)
    # Russia accepts; then Russia's node is killed before it can send it.
    coalition.stop()
    with russia.officer() as officer:
        accepted = officer.post("/v1/protocols/euphrates-2017/versions/2/accept")
    assert accepted.json()["status"] == "in_effect"
    russia.stop(kill=True)
    coalition.start()
    russia.start()
    wait_for(
        "v2 in effect on the coalition's node",
        lambda: _in_effect(coalition) == 2,
    )
    # Russia's node notes the acceptance sent once the coalition's has answered,
    # which may be after the coalition's node shows v2 in effect.
    sent = wait_for(
        "russia's acceptances noted as sent",
        lambda: (
            [r for r in _rows(russia, federation_outbox) if r.kind == "acceptance"]
            if all(
                r.sent_t_s is not None
                for r in _rows(russia, federation_outbox)
                if r.kind == "acceptance"
            )
            else None
        ),
    )
    assert len(sent) == 2 and all(r.sent_t_s is not None for r in sent)
