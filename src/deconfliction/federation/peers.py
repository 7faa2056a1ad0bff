"""Who this node's peers are, and the certificate each must present.

A node pins a peer's certificate (keeps it in ``NODE_DIR/peers/P.pem`` and trusts
it, as server and as client) only when its own party has accepted a protocol
version that names that peer's node with that certificate's fingerprint. The
certificate comes either from the peer itself (fetched over TLS, checked against
the fingerprint before anything is sent) or with a peer's offer of a version that
this node's officer then accepted (checked likewise). Nothing else is trusted: no
certificate authority, no name.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass

from deconfliction.domain.protocol import NodeAddress, Protocol
from deconfliction.federation import certs, node_dir
from deconfliction.federation.node_dir import Node

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Peer:
    """A pinned peer: its node's address and certificate."""

    party: str
    url: str
    fingerprint: str
    pem: bytes


class Peers:
    """This node's peers: pinned certificates and the TLS contexts that use them.

    Thread-safe: the API (in the event loop's threads) reads, the link loop pins.
    """

    def __init__(self, node: Node) -> None:
        self.node = node
        self._lock = threading.Lock()
        self._addresses: dict[str, NodeAddress] = {}
        self._pems: dict[str, bytes] = {}
        self._by_fingerprint: dict[str, str] = {}
        self.server_context = certs.server_context(
            str(node.cert_file), str(node.key_file), []
        )
        for party, pem in node_dir.pinned_peers(node).items():
            self._remember(party, pem)

    def _remember(self, party: str, pem: bytes) -> None:
        fingerprint = certs.fingerprint_pem(pem)
        with self._lock:
            old = self._pems.get(party)
            if old is not None:
                self._by_fingerprint.pop(certs.fingerprint_pem(old), None)
            self._pems[party] = pem
            self._by_fingerprint[fingerprint] = party
        certs.pin(self.server_context, pem)

    def know(self, protocol: Protocol) -> list[NodeAddress]:
        """Take the peers' addresses (the referee's too) from a version this
        node's party accepted; return those whose certificate is not pinned yet
        (or another one is)."""
        missing = []
        named = dict(protocol.nodes)
        if protocol.referee is not None:
            named[protocol.referee.address.party] = protocol.referee.address
        for party, address in named.items():
            if party == self.node.party:
                continue
            with self._lock:
                self._addresses[party] = address
                pem = self._pems.get(party)
            if pem is None or certs.fingerprint_pem(pem) != address.fingerprint:
                missing.append(address)
        return missing

    def pin(self, address: NodeAddress, pem: bytes) -> None:
        """Pin a peer's certificate (it must have the address's fingerprint).

        Raises:
            PinningError: if it has not.
        """
        got = certs.fingerprint_pem(pem)
        if got != address.fingerprint:
            raise certs.PinningError(
                f"the certificate of {address.party!r} is {got}, "
                f"not the pinned {address.fingerprint}"
            )
        node_dir.save_peer(self.node, address.party, pem)
        self._remember(address.party, pem)
        log.info("pinned the node of %s: %s", address.party, got)

    def fetch_and_pin(self, address: NodeAddress) -> None:
        """Fetch the peer's certificate from its node and pin it.

        Raises:
            PinningError: it presented another certificate.
            OSError: it could not be reached.
        """
        self.pin(address, certs.fetch_certificate(address.url, address.fingerprint))

    def party_of(self, pem: str | bytes | None) -> str | None:
        """The peer whose pinned certificate this is (None: not a peer's)."""
        if not pem:
            return None
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        with self._lock:
            return self._by_fingerprint.get(certs.fingerprint_pem(data))

    def address(self, party: str) -> NodeAddress | None:
        """Where the peer's node is, from the versions this node's party accepted."""
        with self._lock:
            return self._addresses.get(party)

    def parties(self) -> list[str]:
        """The peers known by address, sorted."""
        with self._lock:
            return sorted(self._addresses)

    def pem(self, party: str) -> bytes | None:
        """The peer's pinned certificate."""
        with self._lock:
            return self._pems.get(party)

    def client_context(self, party: str) -> ssl.SSLContext | None:
        """A TLS client context towards the peer (None: not pinned)."""
        pem = self.pem(party)
        if pem is None:
            return None
        return certs.client_context(
            str(self.node.cert_file), str(self.node.key_file), pem
        )
