"""``[nodes.referee]`` in the protocol file (issue 16, item 3): the neutral node
both sides name for ``conflicts``, with the window it keeps tracks for."""

from __future__ import annotations

import pytest

from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.domain.protocol import REFEREE_WINDOW_S
from deconfliction.errors import ProtocolError
from tests.federation.conftest import PROTOCOLS

PARTY_NODES = (
    '[nodes.coalition]\nurl = "https://h:1"\nfingerprint = "sha256:{a}"\n'
    '[nodes.russia]\nurl = "https://g:2"\nfingerprint = "sha256:{b}"\n'
)


def _text(nodes: str) -> str:
    base = (PROTOCOLS / "euphrates-2017.toml").read_text(encoding="utf-8")
    return base + nodes.format(a="a" * 64, b="b" * 64, c="c" * 64)


def test_the_referee_is_parsed_with_its_window() -> None:
    protocol = parse_protocol(
        _text(
            PARTY_NODES + '[nodes.referee]\nurl = "https://r:3"\n'
            'fingerprint = "sha256:{c}"\nwindow_s = 12.5\n'
        )
    )
    assert protocol.referee is not None
    assert protocol.referee.address.url == "https://r:3"
    assert protocol.referee.address.fingerprint == "sha256:" + "c" * 64
    assert protocol.referee.window_s == 12.5
    assert set(protocol.nodes) == {"coalition", "russia"}  # not a party's node


def test_the_window_has_a_default_and_no_referee_is_none() -> None:
    protocol = parse_protocol(
        _text(
            PARTY_NODES + '[nodes.referee]\nurl = "https://r:3"\n'
            'fingerprint = "sha256:{c}"\n'
        )
    )
    assert protocol.referee is not None
    assert protocol.referee.window_s == REFEREE_WINDOW_S
    assert parse_protocol(_text(PARTY_NODES)).referee is None


@pytest.mark.parametrize(
    ("referee", "expected"),
    [
        (
            'url = "https://r:3"\nfingerprint = "sha256:{c}"\nwindow_s = 0\n',
            "nodes.referee.window_s: must be greater than 0",
        ),
        (
            'url = "https://r:3"\nfingerprint = "sha256:{a}"\n',
            "the same as the node of 'coalition'",
        ),
        (
            'url = "https://h:1"\nfingerprint = "sha256:{c}"\n',
            "the same as the node of 'coalition'",
        ),
        ('url = "https://r:3"\n', "missing required key 'fingerprint'"),
    ],
)
def test_bad_referees_are_located_errors(referee: str, expected: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(_text(PARTY_NODES + "[nodes.referee]\n" + referee), "p.toml")
    assert expected in str(caught.value)
    assert "p.toml:" in str(caught.value)


def test_a_partys_node_has_no_window() -> None:
    text = _text(PARTY_NODES).replace(
        'url = "https://g:2"', 'url = "https://g:2"\nwindow_s = 5', 1
    )
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "p.toml")
    assert "nodes.russia.window_s" in str(caught.value)
