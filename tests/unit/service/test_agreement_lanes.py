"""Which version replaces which, and which agreement judges a pair of aircraft
(issue 14, item 3, part 2)."""

from __future__ import annotations

import numpy as np

from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.domain.alert_tracker import AlertTracker
from deconfliction.domain.conformance import ConformanceMonitor
from deconfliction.domain.protocol import Protocol
from deconfliction.service import live
from deconfliction.service.protocols import ProtocolVersion, replaces
from tests.security.world import agreement_text


def _protocol(protocol_id: str, *parties: str, version: int = 1) -> Protocol:
    return parse_protocol(
        agreement_text(protocol_id, parties, version=version), protocol_id
    )


def test_a_version_replaces_its_protocol_or_one_sharing_a_pair() -> None:
    a_b = _protocol("a-b", "a", "b")
    assert replaces(_protocol("a-b", "b", "c", version=2), a_b)  # same protocol
    assert replaces(_protocol("x", "a", "b"), a_b)  # the same pair
    assert replaces(_protocol("x", "a", "b", "c"), a_b)
    assert not replaces(_protocol("b-c", "b", "c"), a_b)  # one party in common
    assert not replaces(_protocol("c-d", "c", "d"), a_b)


def _lane(pk: int, protocol: Protocol, own: set[str]) -> live._Lane:
    version = ProtocolVersion(
        pk, protocol, "", "", "a", 0.0, 0.0, None, protocol.parties, protocol.parties
    )
    return live._Lane(
        version,
        AlertTracker(clear_after_s=1.0),
        ConformanceMonitor(protocol),
        frozenset(own),
    )


def test_each_pair_is_judged_by_the_agreement_binding_its_parties() -> None:
    lanes = [
        _lane(1, _protocol("a-b", "a", "b"), {"a", "b"}),
        _lane(2, _protocol("b-c", "b", "c"), {"c"}),
    ]
    judge = live._judges(lanes, ["a", "b", "c", "d"])
    expected = np.array(
        [
            [0, 0, -1, -1],  # a: own aircraft and with b under a-b; never with c
            [0, 0, 1, -1],  # b: own under its oldest agreement, with c under b-c
            [-1, 1, 1, -1],
            [-1, -1, -1, -1],  # d: in no agreement
        ]
    )
    assert (judge == expected).all(), judge
