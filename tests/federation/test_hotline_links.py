"""The hotline over links that fail (issue 16, items 4 and 5): a link cut for 30 s
by a loopback TCP proxy that is dropped (both nodes keep running), messages sent
meanwhile all delivered once, in order, when it returns, and a message whose
deadline passed meanwhile shown ``undelivered``, not ignored; a node killed with
SIGKILL with messages in its queue sends them when it restarts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from deconfliction.store.tables import federation_outbox
from tests.federation.conftest import Node, federated_protocol, wait_for
from tests.federation.proxy import TcpProxy
from tests.federation.test_hotline import _messages, _record, _send, _status
from tests.federation.test_links import _link, _propose, _rows, _versions

CUT_S = 30.0
FLASH_DEADLINE_S = 10  # shorter than the cut: a flash message's deadline passes


def _agree_through(coalition: Node, russia: Node, urls: dict[str, str]) -> None:
    """Both nodes agree on a version naming each node at ``urls[party]``."""
    text = federated_protocol([coalition, russia]).replace(
        "flash = 300", f"flash = {FLASH_DEADLINE_S}"
    )
    for node in (coalition, russia):
        text = text.replace(f'url = "{node.url}"', f'url = "{urls[node.party]}"')
    _propose(coalition, text)
    wait_for("the offer on russia's node", lambda: _versions(russia))
    with russia.officer() as officer:
        officer.post("/v1/protocols/euphrates-2017/versions/1/accept")
    for node, peer in ((coalition, "russia"), (russia, "coalition")):
        wait_for(
            f"{node.party}'s link up",
            lambda node=node, peer=peer: _link(node, peer).get("status") == "up",
        )


@pytest.fixture
def proxies(two_nodes: tuple[Node, Node]) -> Iterator[dict[str, TcpProxy]]:
    """A proxy in front of each node."""
    made = {node.party: TcpProxy(node.port) for node in two_nodes}
    for proxy in made.values():
        proxy.start()
    try:
        yield made
    finally:
        for proxy in made.values():
            proxy.drop()


def _chain_texts(node: Node, peer: str, author: str) -> list[tuple[int, str]]:
    return [
        (e["seq"], e["body"]["text"])
        for e in _record(node, peer)
        if e["signer"] == author and e["event"] == "sent"
    ]


def test_a_cut_link_delivers_every_message_once_in_order_when_back(
    two_nodes: tuple[Node, Node], proxies: dict[str, TcpProxy]
) -> None:
    coalition, russia = two_nodes
    _agree_through(coalition, russia, {p: x.url for p, x in proxies.items()})
    before = _send(coalition, "russia", "Before the cut")
    wait_for(
        "delivered", lambda: _status(coalition, before["message_id"]) == "delivered"
    )
    for proxy in proxies.values():
        proxy.drop()
    cut_at = time.monotonic()
    wait_for(
        "the link to russia down",
        lambda: _link(coalition, "russia").get("status") == "down",
    )
    texts = [f"During the cut, number {i}" for i in range(1, 4)]
    sent = [_send(coalition, "russia", t) for t in texts[:2]]
    sent.append(_send(coalition, "russia", texts[2], priority="flash"))
    wait_for(
        "the flash message undelivered past its deadline",
        lambda: _status(coalition, sent[2]["message_id"]) == "undelivered",
        timeout_s=FLASH_DEADLINE_S + 15,
    )
    assert [_status(coalition, m["message_id"]) for m in sent[:2]] == ["queued"] * 2
    assert _link(coalition, "russia")["queued"] >= 3
    time.sleep(max(0.0, CUT_S - (time.monotonic() - cut_at)))
    for proxy in proxies.values():
        proxy.start()
    for message in sent:
        wait_for(
            "delivered after the cut",
            lambda m=message: (
                _status(coalition, m["message_id"]) in ("delivered", "overdue")
            ),
            timeout_s=60,
        )
    # Once each, in the order sent, on both nodes' records.
    expected = list(enumerate(["Before the cut", *texts], start=1))
    assert _chain_texts(russia, "coalition", "coalition") == expected
    assert _chain_texts(coalition, "russia", "coalition") == expected
    wait_for(
        "both records equal",
        lambda: _record(coalition, "russia") == _record(russia, "coalition"),
    )
    delivered = [e for e in _record(russia, "coalition") if e["event"] == "delivered"]
    assert len(delivered) == 4
    assert [m["text"] for m in _messages(russia)] == ["Before the cut", *texts]
    # The flash message is shown as not delivered in time, not as ignored.
    flash = next(m for m in _messages(coalition) if m["priority"] == "flash")
    assert flash["status"] == "delivered" and flash["deadline_missed"] == "undelivered"
    assert flash["delivered_t_s"] > flash["deadline_t_s"]


def test_a_node_killed_with_messages_queued_sends_them_once_restarted(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    from tests.federation.test_links import _agree

    _agree(coalition, russia)
    russia.stop()
    sent = [_send(coalition, "russia", f"Queued {i}") for i in range(1, 4)]
    wait_for("queued", lambda: _link(coalition, "russia").get("queued") == 3)
    coalition.stop(kill=True)  # SIGKILL, its queue in its store
    russia.start()
    coalition.start()
    for message in sent:
        wait_for(
            "delivered after the restart",
            lambda m=message: _status(coalition, m["message_id"]) == "delivered",
            timeout_s=60,
        )
    assert _chain_texts(russia, "coalition", "coalition") == [
        (1, "Queued 1"),
        (2, "Queued 2"),
        (3, "Queued 3"),
    ]
    entries: list[Any] = [
        r for r in _rows(coalition, federation_outbox) if r.kind == "hotline_entry"
    ]
    assert len(entries) == 3 and all(r.sent_t_s is not None for r in entries)
