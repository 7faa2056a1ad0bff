"""The links of a node to its peers: pinning, checking, and what the console shows.

Every link interval (the protocol's detection interval unless set) the node:

1. takes the peers' nodes from the protocol versions its own party accepted and
   pins the certificate of any it has not pinned yet (fetched from the peer and
   checked against the fingerprint the version names);
2. sends each peer what is queued for it (:mod:`.outbox`), in order;
3. says hello to each peer over mutual TLS; a peer that does not answer, answers
   with another certificate, or runs another protocol version is *down* from the
   first failure on, until it answers again.

Every request between nodes carries the sender's version in effect in the header
:data:`PROTOCOL_HEADER` (``ID/VERSION/SHA256`` or ``none``); a node refuses traffic
from a peer that runs another version (409) except offers and acceptances of
versions, which is how nodes come to agree.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, select

from deconfliction.domain.protocol import REFEREE
from deconfliction.federation import certs, outbox
from deconfliction.federation.node_dir import Node
from deconfliction.federation.offer_limit import OfferLimit
from deconfliction.federation.peers import Peers
from deconfliction.service import events, protocols
from deconfliction.service.clock import Clock
from deconfliction.store.tables import protocol_versions

log = logging.getLogger(__name__)

PROTOCOL_HEADER: str = "Deconfliction-Protocol"
HTTP_TIMEOUT_S: float = 10.0
NO_PROTOCOL: str = "none"
MIN_HELLO_TIMEOUT_S: float = 1.0
# Where each kind of queued item goes on the peer's node.
PATHS: dict[str, str] = {
    "offer": "/v1/federation/offers",
    "acceptance": "/v1/federation/acceptances",
    "hotline_entry": "/v1/federation/hotline/entries",
}
# Offers may go before the receiver knows the sender: tried over mutual TLS first
# (a receiver that pinned the sender requires it), then pinning the receiver only.
WITHOUT_CLIENT_CERT: frozenset[str] = frozenset({"offer"})


def protocol_tag(version: protocols.ProtocolVersion | None) -> str:
    """``ID/VERSION/SHA256`` of a version in effect, ``none`` without one."""
    if version is None:
        return NO_PROTOCOL
    return f"{version.protocol.id}/{version.protocol.version}/{version.sha256}"


Expander = Callable[[str, outbox.Item], Any]


@dataclass
class LinkState:
    """What this node knows of its link to one peer.

    Attributes:
        party: the peer.
        up: True after a successful hello, False after a failure, None before any.
        since_t_s: when it last changed between up and down.
        reason: why it is down.
        checked_t_s: when it was last checked.
        queued: items waiting in the outbox for the peer.
        oldest_queued_t_s: since when the oldest of them has waited.
    """

    party: str
    up: bool | None = None
    since_t_s: float | None = None
    reason: str | None = None
    checked_t_s: float | None = None
    queued: int = 0
    oldest_queued_t_s: float | None = None

    @property
    def status(self) -> str:
        """``up``, ``down`` or ``unknown`` (not checked yet)."""
        return "unknown" if self.up is None else "up" if self.up else "down"

    def as_json(self) -> dict[str, Any]:
        """For the API, the stream and the console."""
        return {
            "party": self.party,
            "status": self.status,
            "since_t_s": self.since_t_s,
            "reason": self.reason,
            "checked_t_s": self.checked_t_s,
            "queued": self.queued,
            "oldest_queued_t_s": self.oldest_queued_t_s,
        }


class Federation:
    """A node's side of the federation: its peers and its links to them."""

    def __init__(self, node: Node, engine: Engine, clock: Clock) -> None:
        self.node = node
        self.peers = Peers(node)
        self.engine = engine
        self.clock = clock
        self._lock = threading.Lock()
        self._links: dict[str, LinkState] = {}
        self._clients: dict[str, tuple[bytes, httpx.Client]] = {}
        self.anonymous_offers = OfferLimit()
        self.changed: Callable[[], None] = lambda: None
        # Work done before each round's sending (queuing what is due, e.g. tracks).
        self.before_send: list[Callable[[], None]] = []
        # Kinds of queued items whose body is made when sent: where it goes, and
        # the body for the peer (None: nothing of it may go, noted as sent).
        self.expanders: dict[str, tuple[str, Expander]] = {}

    # --- state ----------------------------------------------------------------

    def links(self) -> list[LinkState]:
        """Every peer's link, by party, with what is queued for it."""
        with self.engine.connect() as conn:
            waiting = outbox.backlog(conn)
        with self._lock:
            for party in waiting:
                self._links.setdefault(party, LinkState(party))
            out = []
            for party in sorted(self._links):
                state = self._links[party]
                state.queued, state.oldest_queued_t_s = waiting.get(party, (0, None))
                out.append(dataclasses.replace(state))
            return out

    def _mark(self, party: str, up: bool, reason: str | None) -> None:
        """Note the link's state; a change (up to down, down to up, or first
        check) goes on the stream of this node's party, and in the log."""
        now = self.clock.now_t_s()
        with self._lock:
            state = self._links.setdefault(party, LinkState(party))
            changed = state.up is not up
            if changed:
                state.since_t_s = now
                if up:
                    log.info("link to %s up", party)
                else:
                    log.warning("link to %s down: %s", party, reason)
            state.up = up
            state.reason = reason
            state.checked_t_s = now
            view = state.as_json()
        if changed:
            with self.engine.begin() as conn:
                events.publish(conn, "federation.link", {self.node.party: view}, now)
            self.changed()

    def in_effect_tag(self) -> str:
        """The tag of this node's version in effect."""
        with self.engine.connect() as conn:
            return protocol_tag(protocols.in_effect(conn))

    # --- client ---------------------------------------------------------------

    def client(self, party: str) -> httpx.Client | None:
        """An HTTPS client to the peer over mutual TLS (None: not pinned)."""
        pem = self.peers.pem(party)
        address = self.peers.address(party)
        if pem is None or address is None:
            return None
        with self._lock:
            held = self._clients.get(party)
            if held is not None and held[0] == pem:
                return held[1]
        ctx = certs.client_context(
            str(self.node.cert_file), str(self.node.key_file), pem
        )
        client = httpx.Client(
            base_url=address.url, verify=ctx, timeout=HTTP_TIMEOUT_S, trust_env=False
        )
        with self._lock:
            old = self._clients.pop(party, None)
            self._clients[party] = (pem, client)
        if old is not None:
            old[1].close()
        return client

    def request(
        self,
        party: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        client_cert: bool = True,
        timeout_s: float = HTTP_TIMEOUT_S,
    ) -> httpx.Response:
        """A request to the peer's node, with this node's version in effect.

        Raises:
            httpx.HTTPError: the peer could not be reached (TLS refused included).
            PinningError: the peer is not pinned yet.
        """
        client = self.client(party) if client_cert else self._anonymous(party)
        if client is None:
            raise certs.PinningError(f"the node of {party!r} is not pinned yet")
        headers = {PROTOCOL_HEADER: self.in_effect_tag()}
        content = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if client_cert:
            return client.request(
                method, path, content=content, headers=headers, timeout=timeout_s
            )
        with client:
            return client.request(
                method, path, content=content, headers=headers, timeout=timeout_s
            )

    def _anonymous(self, party: str) -> httpx.Client | None:
        """A client to the peer that pins it but presents no certificate."""
        pem = self.peers.pem(party)
        address = self.peers.address(party)
        if pem is None or address is None:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        certs.pin(ctx, pem)
        return httpx.Client(
            base_url=address.url, verify=ctx, timeout=HTTP_TIMEOUT_S, trust_env=False
        )

    def close(self) -> None:
        """Close the clients."""
        with self._lock:
            clients = [c for _, c in self._clients.values()]
            self._clients.clear()
        for c in clients:
            c.close()

    # --- the loop's work ------------------------------------------------------

    def pin_named_peers(self) -> set[str]:
        """Pin the peers named by the versions this node's party accepted; returns
        those that could not be pinned (their link is shown down, with why)."""
        with self.engine.connect() as conn:
            if self.node.party == REFEREE:  # no party: the versions offered to it
                versions = _naming_referee(conn, self.node.fingerprint)
            else:
                versions = protocols.accepted_by_party(conn, self.node.party)
        failed: set[str] = set()
        for version in versions:
            if not version.protocol.federated:
                continue
            for address in self.peers.know(version.protocol):
                try:
                    self.peers.fetch_and_pin(address)
                except (OSError, certs.PinningError) as exc:
                    failed.add(address.party)
                    self._mark(address.party, False, f"cannot pin: {_short(exc)}")
        return failed

    def hello(self, party: str, timeout_s: float = HTTP_TIMEOUT_S) -> None:
        """Check the link to one peer (a peer cut off silently is down after
        ``timeout_s``)."""
        try:
            answer = self.request(
                party, "GET", "/v1/federation/hello", timeout_s=timeout_s
            )
        except certs.PinningError as exc:
            self._mark(party, False, str(exc))
            return
        except httpx.HTTPError as exc:
            self._mark(party, False, _short(exc))
            return
        if answer.status_code != 200:
            self._mark(party, False, f"{answer.status_code}: {_detail(answer)}")
            return
        self._mark(party, True, None)

    def send_queued(self, party: str) -> int:
        """Send the peer what is queued for it, in order, until one does not get
        through; returns how many it took."""
        with self.engine.connect() as conn:
            items = outbox.pending(conn, party)
        sent = 0
        for item in items:
            path, body = PATHS.get(item.kind), item.body
            try:
                if item.kind in self.expanders:
                    path, make = self.expanders[item.kind]
                    body = make(party, item)
                    if body is None:  # nothing of it may go (any more)
                        with self.engine.begin() as conn:
                            outbox.mark_sent(conn, item.id, self.clock.now_t_s())
                        continue
                if path is None:  # queued by a build that knew the kind
                    with self.engine.begin() as conn:
                        outbox.mark_sent(
                            conn, item.id, self.clock.now_t_s(), refused="unknown kind"
                        )
                    continue
                answer = self._post(party, item.kind, path, body)
            except (httpx.HTTPError, certs.PinningError) as exc:
                with self.engine.begin() as conn:
                    outbox.mark_failed(conn, item.id, _short(exc))
                self._mark(party, False, _short(exc))
                return sent
            now = self.clock.now_t_s()
            if answer.status_code < 300:
                with self.engine.begin() as conn:
                    outbox.mark_sent(conn, item.id, now)
                sent += 1
            elif answer.status_code in (409, 429) or answer.status_code >= 500:
                with self.engine.begin() as conn:  # not now: try again later
                    outbox.mark_failed(
                        conn, item.id, f"{answer.status_code}: {_detail(answer)}"
                    )
                return sent
            else:  # refused for good (the peer said why): the next ones go on
                reason = f"{answer.status_code}: {_detail(answer)}"
                log.warning("%s refused %s %d: %s", party, item.kind, item.id, reason)
                with self.engine.begin() as conn:
                    outbox.mark_sent(conn, item.id, now, refused=reason)
        if sent:
            self.changed()
        return sent

    def _post(self, party: str, kind: str, path: str, body: Any) -> httpx.Response:
        """Send one item; an offer the peer's TLS refuses with this node's
        certificate (it has not pinned it yet) goes again without one."""
        try:
            return self.request(party, "POST", path, body)
        except httpx.HTTPError:
            if kind not in WITHOUT_CLIENT_CERT:
                raise
        answer = self.request(party, "POST", path, body, client_cert=False)
        if answer.status_code == 403:  # it pinned this node: mutual TLS failed
            raise httpx.TransportError(  # for now; try again (not refused for good)
                f"offer refused without this node's certificate: {_detail(answer)}"
            )
        return answer

    def tick(self, interval_s: float = HTTP_TIMEOUT_S) -> None:
        """One round: pin, send what is queued, check every link (a hello that
        takes longer than the interval counts as the link down)."""
        unpinned = self.pin_named_peers()
        for work in self.before_send:
            work()
        for party in self.peers.parties():
            if party in unpinned:
                continue
            self.send_queued(party)
            self.hello(party, timeout_s=max(interval_s, MIN_HELLO_TIMEOUT_S))
            if self.is_up(party):
                self._check_record(party)

    def is_up(self, party: str) -> bool:
        """Whether the last hello to the peer was answered."""
        with self._lock:
            state = self._links.get(party)
            return state is not None and state.up is True

    def _check_record(self, party: str) -> None:
        """Compare the peer's signed checkpoint with the common hotline record."""
        from deconfliction.federation import hotline

        try:
            hotline.check_peer(self, party)
        except (httpx.HTTPError, certs.PinningError) as exc:
            log.info("checkpoint of %s not fetched: %s", party, _short(exc))


def _naming_referee(conn: Connection, fingerprint: str) -> list[Any]:
    """The versions held here (offered with a valid signature) that name, as
    their referee, the node with this certificate."""
    pks = conn.execute(
        select(protocol_versions.c.id).order_by(protocol_versions.c.id)
    ).scalars()
    out = []
    for pk in pks:
        version = protocols.load(conn, int(pk))
        referee = version.protocol.referee
        if referee is not None and referee.address.fingerprint == fingerprint:
            out.append(version)
    return out


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:500]


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail", ""))[:200]
    except (ValueError, AttributeError):
        return answer.text[:200]
