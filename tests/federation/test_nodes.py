"""A node per party (issue 16, item 1): node init, serve --node over HTTPS, party
add --node, [nodes.P] in the protocol, mutual TLS pinned by fingerprint."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import httpx
import pytest

from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.errors import ProtocolError
from tests.federation.conftest import (
    PROTOCOLS,
    Node,
    cli,
    federated_protocol,
    make_node,
    wait_for,
)


def _links(node: Node) -> dict[str, dict[str, object]]:
    with node.officer() as officer:
        return {
            link["party"]: link for link in officer.get("/v1/federation/links").json()
        }


class TestNodeInit:
    def test_init_prints_the_certificates_fingerprint(self, tmp_path: Path) -> None:
        directory = tmp_path / "n"
        done = cli("node", "init", "--party", "coalition", "--dir", str(directory))
        der = ssl.PEM_cert_to_DER_cert((directory / "tls/node.pem").read_text())
        assert done.stdout.strip() == "sha256:" + hashlib.sha256(der).hexdigest()
        assert (directory / "keys/coalition.pem").stat().st_mode & 0o077 == 0
        assert (directory / "tls/node.key").stat().st_mode & 0o077 == 0
        shown = cli("node", "show", "--dir", str(directory)).stdout
        assert f"fingerprint\t{done.stdout.strip()}" in shown

    def test_init_never_overwrites_a_node(self, tmp_path: Path) -> None:
        directory = tmp_path / "n"
        cli("node", "init", "--party", "coalition", "--dir", str(directory))
        key = (directory / "keys/coalition.pem").read_bytes()
        again = cli(
            "node", "init", "--party", "coalition", "--dir", str(directory), check=False
        )
        assert again.returncode == 2
        assert "already holds a node" in again.stderr
        assert "Traceback" not in again.stderr
        assert (directory / "keys/coalition.pem").read_bytes() == key

    def test_party_add_makes_users_of_the_nodes_party_only(
        self, tmp_path: Path
    ) -> None:
        directory = tmp_path / "n"
        cli("node", "init", "--party", "coalition", "--dir", str(directory))
        other = cli("party", "add", "russia", "--node", str(directory), check=False)
        assert other.returncode == 2
        assert "users of 'coalition' only" in other.stderr
        own = cli("party", "add", "coalition", "--node", str(directory))
        assert len(own.stdout.strip()) >= 40
        assert (directory / "node.db").is_file()  # the node's own store by default

    def test_serve_refuses_a_directory_that_is_not_a_node(self, tmp_path: Path) -> None:
        done = cli("serve", "--node", str(tmp_path), check=False)
        assert done.returncode == 2
        assert "not a node directory" in done.stderr


class TestNodesInTheProtocol:
    def _text(self, nodes: str) -> str:
        base = (PROTOCOLS / "euphrates-2017.toml").read_text(encoding="utf-8")
        return base + nodes

    def test_nodes_parsed(self) -> None:
        fp_a, fp_b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
        protocol = parse_protocol(
            self._text(
                f'[nodes.coalition]\nurl = "https://10.0.0.1:8443"\n'
                f'fingerprint = "{fp_a}"\n'
                f'[nodes.russia]\nurl = "https://hmeimim.example:8443/"\n'
                f'fingerprint = "{fp_b}"\n'
            )
        )
        assert protocol.federated
        assert protocol.nodes["coalition"].url == "https://10.0.0.1:8443"
        assert protocol.nodes["russia"].url == "https://hmeimim.example:8443"
        assert protocol.nodes["russia"].fingerprint == fp_b

    def test_no_nodes_is_single_server_mode(self) -> None:
        protocol = parse_protocol(self._text(""))
        assert not protocol.federated and protocol.nodes == {}

    @pytest.mark.parametrize(
        ("nodes", "expected"),
        [
            (
                '[nodes.coalition]\nurl = "http://h:1"\nfingerprint = "sha256:{a}"\n'
                '[nodes.russia]\nurl = "https://g:2"\nfingerprint = "sha256:{b}"\n',
                'nodes.coalition.url: "http://h:1" is not https://HOST:PORT',
            ),
            (
                '[nodes.coalition]\nurl = "https://h:1"\nfingerprint = "sha1:ab"\n'
                '[nodes.russia]\nurl = "https://g:2"\nfingerprint = "sha256:{b}"\n',
                "nodes.coalition.fingerprint",
            ),
            (
                '[nodes.coalition]\nurl = "https://h:1"\nfingerprint = "sha256:{a}"\n',
                "party 'russia' has no node",
            ),
            (
                '[nodes.coalition]\nurl = "https://h:1"\nfingerprint = "sha256:{a}"\n'
                '[nodes.russia]\nurl = "https://g:2"\nfingerprint = "sha256:{b}"\n'
                '[nodes.china]\nurl = "https://c:3"\nfingerprint = "sha256:{c}"\n',
                "nodes.china: unknown party 'china'",
            ),
            (
                '[nodes.coalition]\nurl = "https://h:1"\nfingerprint = "sha256:{a}"\n'
                '[nodes.russia]\nurl = "https://g:2"\nfingerprint = "sha256:{a}"\n',
                "the same as the node of 'coalition'",
            ),
            (
                '[nodes.coalition]\nurl = "https://h:65536"\n'
                'fingerprint = "sha256:{a}"\n'
                '[nodes.russia]\nurl = "https://g:2"\nfingerprint = "sha256:{b}"\n',
                "is not https://HOST:PORT",
            ),
        ],
    )
    def test_bad_nodes_are_located_errors(self, nodes: str, expected: str) -> None:
        text = self._text(nodes.format(a="a" * 64, b="b" * 64, c="c" * 64))
        with pytest.raises(ProtocolError) as caught:
            parse_protocol(text, "p.toml")
        assert expected in str(caught.value)
        assert "p.toml:" in str(caught.value)  # with its line

    def test_port_65535_is_a_port(self) -> None:
        protocol = parse_protocol(
            self._text(
                '[nodes.coalition]\nurl = "https://h:65535"\n'
                f'fingerprint = "sha256:{"a" * 64}"\n'
                '[nodes.russia]\nurl = "https://g:1"\n'
                f'fingerprint = "sha256:{"b" * 64}"\n'
            )
        )
        assert protocol.nodes["coalition"].url == "https://h:65535"


class TestMutualTls:
    def test_a_node_serves_https_with_its_own_certificate(
        self, two_nodes_by_cli: tuple[Node, Node]
    ) -> None:
        # Nodes made by the commands an operator runs (the other tests make them
        # in-process, through what the commands call).
        coalition, _ = two_nodes_by_cli
        with coalition.officer() as officer:
            me = officer.get("/v1/parties/me")
            assert me.status_code == 200, me.text
            assert me.json()["party_id"] == "coalition"
            node = officer.get("/v1/federation/node").json()
        assert node == {
            "party": "coalition",
            "fingerprint": coalition.fingerprint,
            "protocol": "none",
        }
        with pytest.raises(httpx.ConnectError):  # not a certificate anyone vouches for
            httpx.get(f"{coalition.url}/healthz", timeout=10)

    def test_pinned_peers_talk_and_others_are_refused(
        self, two_nodes: tuple[Node, Node], tmp_path: Path
    ) -> None:
        coalition, russia = two_nodes
        with coalition.officer() as officer:
            proposed = officer.post(
                "/v1/protocols",
                content=federated_protocol([coalition, russia]),
                headers={"Content-Type": "application/toml"},
            )
        assert proposed.status_code == 201, proposed.text
        # The coalition's node pinned Russia's certificate (fetched from it and
        # checked against the fingerprint) and offered it the version.
        wait_for(
            "russia's node pinned by the coalition's",
            lambda: (coalition.dir / "peers/russia.pem").is_file(),
        )
        with russia.officer() as officer:
            offered = wait_for(
                "the offer on russia's node",
                lambda: officer.get("/v1/protocols").json(),
            )
            assert offered[0]["awaiting"] == ["russia"]
            # Until Russia's officer accepts, its node does not trust the coalition's.
            assert not (russia.dir / "peers/coalition.pem").exists()
            accepted = officer.post("/v1/protocols/euphrates-2017/versions/1/accept")
            assert accepted.status_code == 200, accepted.text
        for node in (coalition, russia):
            links = wait_for(
                f"{node.party}'s link up",
                lambda node=node: [
                    link for link in _links(node).values() if link["status"] == "up"
                ],
            )
            assert len(links) == 1
        # A peer with the pinned certificate is let in; the node says who it is.
        with russia.as_peer(coalition) as peer:
            tag = peer.get("/v1/federation/node").json()["protocol"]
            hello = peer.get(
                "/v1/federation/hello", headers={"Deconfliction-Protocol": tag}
            )
        assert hello.status_code == 200, hello.text
        assert hello.json()["peer"] == "russia"
        # Without a certificate: the TLS handshake passes (officers have none) but
        # no route between nodes answers.
        with httpx.Client(verify=coalition.trust(), timeout=10) as anonymous:
            refused = anonymous.get(f"{coalition.url}/v1/federation/hello")
        assert refused.status_code == 403
        # A certificate that is not pinned (a node nobody named) is refused in the
        # handshake itself.
        stranger = make_node(tmp_path, "stranger", f"sqlite:///{tmp_path / 's.db'}")
        with stranger.as_peer(coalition) as peer, pytest.raises(httpx.HTTPError):
            peer.get("/v1/federation/hello").raise_for_status()

    def test_a_peer_presenting_another_certificate_is_refused(
        self, two_nodes: tuple[Node, Node], tmp_path: Path
    ) -> None:
        coalition, russia = two_nodes
        impostor = make_node(
            tmp_path, "russia-impostor", f"sqlite:///{tmp_path / 'i.db'}"
        )
        text = federated_protocol(
            [coalition, russia], fingerprints={"russia": impostor.fingerprint}
        )
        with coalition.officer() as officer:
            proposed = officer.post(
                "/v1/protocols",
                content=text,
                headers={"Content-Type": "application/toml"},
            )
        assert proposed.status_code == 201, proposed.text
        link = wait_for(
            "the link to russia shown down",
            lambda: (
                _links(coalition).get("russia", {}).get("status") == "down"
                and _links(coalition)["russia"]
            ),
        )
        assert f"not the pinned {impostor.fingerprint}" in str(link["reason"])
        assert russia.fingerprint in str(link["reason"])
        assert not (coalition.dir / "peers/russia.pem").exists()
        with russia.officer() as officer:  # nothing was sent to it
            assert officer.get("/v1/protocols").json() == []

    def test_a_node_takes_only_protocols_that_pin_it(
        self, two_nodes: tuple[Node, Node]
    ) -> None:
        coalition, russia = two_nodes
        plain = (PROTOCOLS / "euphrates-2017.toml").read_text(encoding="utf-8")
        # Russia's fingerprint with its last digit changed: neither node's.
        last = "1" if russia.fingerprint.endswith("0") else "0"
        wrong_self = federated_protocol(
            [coalition, russia],
            fingerprints={"coalition": russia.fingerprint[:-1] + last},
        )
        with coalition.officer() as officer:
            for text, expected in (
                (plain, "must name every party's node"),
                (wrong_self, "is not this node's certificate"),
            ):
                answer = officer.post(
                    "/v1/protocols",
                    content=text,
                    headers={"Content-Type": "application/toml"},
                )
                assert answer.status_code == 422, answer.text
                assert expected in answer.text
            assert officer.get("/v1/protocols").json() == []
