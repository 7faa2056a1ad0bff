"""Offers of protocol versions from nodes not known yet (issue 16, item 5's
weakness): a pinned peer must offer over mutual TLS; a caller without a pinned
certificate cannot offer a version of a protocol the node's party accepted (no one
squats the next version number) and is limited to ANONYMOUS_OFFERS_PER_WINDOW
offers a minute, while the pinned peer's offers still go through."""

from __future__ import annotations

import httpx

from deconfliction.federation.offer_limit import ANONYMOUS_OFFERS_PER_WINDOW
from tests.federation.conftest import Node, federated_protocol, wait_for
from tests.federation.test_links import _agree, _propose, _versions


def _anonymous(node: Node) -> httpx.Client:
    """A client that trusts the node's certificate and presents none."""
    return httpx.Client(base_url=node.url, verify=node.trust(), timeout=30.0)


def test_a_pinned_peer_must_offer_with_its_certificate_and_no_one_squats(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    _agree(coalition, russia)
    v2 = federated_protocol([coalition, russia], version=2)
    with _anonymous(russia) as anyone:
        as_peer = anyone.post(
            "/v1/federation/offers",
            json={"toml": v2, "party": "coalition", "signature": "", "certificate": ""},
        )
        squat = anyone.post(
            "/v1/federation/offers",
            json={"toml": v2, "party": "mallory", "signature": "", "certificate": ""},
        )
    assert as_peer.status_code == 403, as_peer.text
    assert "mutual TLS" in as_peer.json()["detail"]
    assert squat.status_code == 403, squat.text
    assert "accepted a version of 'euphrates-2017'" in squat.json()["detail"]
    # Coalition's own node still offers v2 (over mutual TLS, now that it is pinned).
    _propose(coalition, v2)
    wait_for("v2 on russia's node", lambda: len(_versions(russia)) == 2)


def test_offers_from_unknown_nodes_are_limited_not_the_peers(
    two_nodes: tuple[Node, Node],
) -> None:
    coalition, russia = two_nodes
    _agree(coalition, russia)
    junk = {"toml": "not = [a protocol", "party": "mallory"}
    with _anonymous(russia) as anyone:
        answers = [
            anyone.post("/v1/federation/offers", json=junk)
            for _ in range(ANONYMOUS_OFFERS_PER_WINDOW + 1)
        ]
    codes = [a.status_code for a in answers]
    # The coalition's first offer (v1, before Russia knew it) came without a
    # certificate and counts in the window too.
    refused = codes.index(429)
    assert codes[:refused] == [422] * refused, codes
    assert ANONYMOUS_OFFERS_PER_WINDOW - 2 <= refused < ANONYMOUS_OFFERS_PER_WINDOW
    assert set(codes[refused:]) == {429}
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    # The window is full for strangers; the pinned peer's offer goes through.
    _propose(coalition, federated_protocol([coalition, russia], version=2))
    wait_for("v2 on russia's node", lambda: len(_versions(russia)) == 2)
