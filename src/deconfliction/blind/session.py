"""One participant's MPyC runtime over TCP, with timeouts and a clear end.

MPyC (``mpyc.runtime``) reads ``sys.argv`` when imported and again in ``setup()``;
:func:`load_mpyc` and :func:`create_runtime` give it only the arguments meant for
it (``-P host:port`` per participant, ``-I`` for our index), never the command line
of ``deconfliction``.

Connections are opened here rather than by ``Runtime.start``, which retries for
ever and waits for every peer without a limit: a participant that is not there
within ``connect_timeout_s`` ends the run with :class:`PeerError`. Afterwards a
lost connection, or a participant silent for ``idle_timeout_s`` while awaited,
ends it the same way on the other two instead of leaving them hanging. The wire
format and the order of connections are MPyC's own (the lower index connects to
the higher one and sends its index, then the PRSS keys).

Before any input is shared, the participants exchange the digest of their public
parameters; a difference ends the run with :class:`ParameterMismatchError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import os
import ssl
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from deconfliction.blind.parameters import SECURITY_PARAMETER_BITS, BlindPlan
from deconfliction.errors import DeconflictionError

if TYPE_CHECKING:
    from deconfliction.blind.tls import PinnedTls

T = TypeVar("T")

RETRY_INTERVAL_S: float = 0.1  # between attempts to reach a participant not yet up
WATCH_INTERVAL_S: float = 0.5  # how often the idle watchdog looks
SHUTDOWN_TIMEOUT_S: float = 30.0  # the closing handshake; every input is in by then


class PeerError(DeconflictionError, ConnectionError):
    """A participant did not connect, went away or fell silent.

    Attributes:
        participant: the participant concerned (party id or ``helper``).
    """

    def __init__(self, participant: str, message: str) -> None:
        self.participant = participant
        super().__init__(message)


class ParameterMismatchError(DeconflictionError, ValueError):
    """The participants' public parameters differ (``blind.toml`` or protocol).

    Attributes:
        participants: those whose parameters differ from ours.
    """

    def __init__(self, participants: Sequence[str]) -> None:
        self.participants = tuple(participants)
        super().__init__(
            f"{', '.join(self.participants)} run with other public parameters: "
            "every participant needs the same blind.toml settings (addresses and "
            "timeouts aside) and the same protocol"
        )


def load_mpyc() -> ModuleType:
    """Import ``mpyc.runtime`` without letting it parse our command line.

    Returns:
        The ``mpyc.runtime`` module.
    """
    loaded: ModuleType | None = sys.modules.get("mpyc.runtime")
    if loaded is not None:
        return loaded
    saved = sys.argv
    policy = asyncio.get_event_loop_policy()
    # At import MPyC configures logging (warnings only, to stderr, with --no-log),
    # installs uvloop's event loop policy and sets up a one-party runtime that
    # create_runtime replaces.
    sys.argv = [saved[0] if saved else "deconfliction", "--no-log"]
    try:
        with warnings.catch_warnings():
            # MPyC 0.11 imports numpy.core, deprecated since numpy 2.0.
            warnings.simplefilter("ignore", DeprecationWarning)
            import mpyc.runtime  # type: ignore[import-untyped]
    finally:
        sys.argv = saved
        # The process keeps its own policy; create_runtime makes MPyC's loops.
        asyncio.set_event_loop_policy(policy)
    module: ModuleType = mpyc.runtime
    return module


def create_runtime(plan: BlindPlan | None, index: int) -> Any:
    """A fresh MPyC runtime for participant ``index`` on a new event loop.

    Args:
        plan: the public parameters; None for a local one-party runtime (tests).
        index: our participant index (0 and 1 the parties, 2 the helper).

    Returns:
        The ``mpyc.runtime.Runtime``; MPyC's secure types use it from now on. Its
        loop is the current event loop: close it (and unset it) when done.
    """
    runtime = load_mpyc()
    # MPyC's runtime runs on the current loop: a new one, uvloop's as MPyC prefers.
    asyncio.set_event_loop(_new_event_loop())
    args = ["--no-log", "-K", str(SECURITY_PARAMETER_BITS)]
    if plan is not None:
        for host, port in zip(plan.hosts, plan.ports, strict=True):
            args += ["-P", f"{host}:{port}"]
        args += ["-I", str(index)]
    saved = sys.argv
    sys.argv = [saved[0] if saved else "deconfliction", *args]
    try:
        return runtime.setup()
    finally:
        sys.argv = saved


def _new_event_loop() -> asyncio.AbstractEventLoop:
    if os.getenv("MPYC_NOUVLOOP") != "1" and importlib.util.find_spec("uvloop"):
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


class Session:
    """Runs a coroutine as one participant, failing fast when a peer fails.

    Args:
        rt: the runtime from :func:`create_runtime`.
        plan: the public parameters.
        listen_host: the interface to accept connections on (default: our host
            in the plan).
        progress: called with a line of text at each stage.
        tls: the pinned TLS contexts (None: plain TCP).
    """

    def __init__(
        self,
        rt: Any,
        plan: BlindPlan,
        listen_host: str | None = None,
        progress: Callable[[str], None] | None = None,
        tls: PinnedTls | None = None,
    ) -> None:
        self.rt = rt
        self.tls = tls
        self.plan = plan
        self.progress = progress or (lambda _message: None)
        self.listen_host = listen_host or plan.hosts[rt.pid]
        self.closing = False
        self.connected = False  # every participant connected
        self.silenced = False
        self.messages_sent = 0  # one per peer and communication step: the rounds
        self.failure: asyncio.Future[None] = rt._loop.create_future()
        self.exchangers: list[Any] = []

    def name(self, index: int) -> str:
        """A participant as ``russia (10.0.0.2:11365)``."""
        return f"{self.plan.participants[index]} ({self.plan.addresses[index]})"

    def fail(self, error: BaseException) -> None:
        """End the run with ``error`` (the first failure wins)."""
        if not self.failure.done():
            self.failure.set_exception(error)

    def run(self, body: Callable[[Any], Awaitable[T]]) -> T:
        """Connect, check the parameters, run ``body(rt)``, shut down.

        After a failure the runtime is left with MPyC coroutines waiting for the
        participant that failed (MPyC cannot abandon a computation): end the
        process (the CLI exits at once).

        Raises:
            PeerError: a participant did not connect in time, disconnected or sent
                nothing for ``idle_timeout_s`` while awaited.
            ParameterMismatchError: the public parameters differ.
        """
        loop: asyncio.AbstractEventLoop = self.rt._loop
        try:
            result = loop.run_until_complete(self._main(body))
        except BaseException:
            self.silenced = True
            for exchanger in self.exchangers:
                if exchanger.transport is not None:
                    exchanger.transport.abort()
            raise
        loop.close()
        return result

    async def _main(self, body: Callable[[Any], Awaitable[T]]) -> T:
        watchdog = asyncio.ensure_future(self._watch())
        try:
            await self._race(self._open(), "connect")
            digests = await self._race(self.rt.transfer(self.plan.digest()), "check")
            own = self.plan.digest()
            differ = [
                self.plan.participants[k] for k, d in enumerate(digests) if d != own
            ]
            if differ:
                raise ParameterMismatchError(differ)
            self.progress("connected; parameters agree")
            result = await self._race(body(self.rt), "compute")
            self.closing = True
            await self._race(
                asyncio.wait_for(self.rt.shutdown(), SHUTDOWN_TIMEOUT_S), "close"
            )
            self.progress("done")
            return result
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _race(self, awaitable: Awaitable[T], stage: str) -> T:
        """``awaitable``'s result, or the failure if one comes first.

        A computation overtaken by a failure is not cancelled: cancelling would
        cancel MPyC's placeholders, which its coroutines then fail to fill.
        """
        task: asyncio.Future[T] = asyncio.ensure_future(awaitable)
        waited: list[asyncio.Future[Any]] = [task, self.failure]
        await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        if stage == "connect":
            task.cancel()  # our own coroutine, no MPyC placeholders yet
        self.failure.result()  # raises the failure
        raise AssertionError("unreachable: the failure future holds an exception")

    async def _open(self) -> None:
        """Connect as MPyC's ``Runtime.start`` does, within ``connect_timeout_s``."""
        rt, loop = self.rt, self.rt._loop
        deadline = time.monotonic() + self.plan.connect_timeout_s
        for peer in rt.parties:
            peer.protocol = loop.create_future() if peer.pid == rt.pid else None
        server = None
        if rt.pid:  # accept the lower indices
            try:
                server = await loop.create_server(
                    lambda: _exchanger_class()(self),
                    host=self.listen_host,
                    port=self.plan.ports[rt.pid],
                    ssl=None if self.tls is None else self.tls.server,
                )
            except OSError as exc:
                raise PeerError(
                    self.plan.participants[rt.pid],
                    f"cannot listen on {self.listen_host}:{self.plan.ports[rt.pid]}: "
                    f"{exc.strerror or exc}",
                ) from None
        try:
            for peer in rt.parties[rt.pid + 1 :]:  # connect to the higher ones
                await self._connect(peer.pid, deadline)
            remaining = max(deadline - time.monotonic(), 0.0)
            try:
                await asyncio.wait_for(
                    asyncio.shield(rt.parties[rt.pid].protocol), remaining
                )
            except TimeoutError:
                missing = [
                    self.name(p.pid)
                    for p in rt.parties
                    if p.pid != rt.pid and p.protocol is None
                ]
                raise PeerError(
                    self.plan.participants[rt.pid],
                    f"{' and '.join(missing)} did not connect within "
                    f"{self.plan.connect_timeout_s:g} s",
                ) from None
        finally:
            if server is not None:
                server.close()
        rt.start_time = time.time()
        self.connected = True

    async def _connect(self, index: int, deadline: float) -> None:
        loop = self.rt._loop
        host, port = self.plan.hosts[index], self.plan.ports[index]
        while True:
            try:
                await loop.create_connection(
                    lambda: _exchanger_class()(self, index),
                    host,
                    port,
                    ssl=None if self.tls is None else self.tls.client,
                )
                return
            except ssl.SSLError as exc:
                # The server refused our certificate: a pinning failure, not a
                # participant that is not up yet.
                raise PeerError(
                    self.plan.participants[index],
                    f"{self.name(index)} refused our TLS certificate ({exc.reason}): "
                    "is [pins] the same for all three?",
                ) from None
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise PeerError(
                        self.plan.participants[index],
                        f"cannot reach {self.name(index)} within "
                        f"{self.plan.connect_timeout_s:g} s: {exc.strerror or exc}",
                    ) from None
            await asyncio.sleep(RETRY_INTERVAL_S)

    async def _watch(self) -> None:
        """Fail when a peer we wait for has sent nothing for ``idle_timeout_s``."""
        limit_s = self.plan.idle_timeout_s
        last = time.monotonic()
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            now = time.monotonic()
            late = now - last > 2 * WATCH_INTERVAL_S + 1.0
            last = now
            for exchanger in self.exchangers:
                if late:
                    # We were computing; their messages may be queued, unread.
                    exchanger.last_seen = now
                    continue
                if exchanger.peer_pid is None or not exchanger.awaited():
                    continue
                if now - exchanger.last_seen > limit_s:
                    self.fail(
                        PeerError(
                            self.plan.participants[exchanger.peer_pid],
                            f"{self.name(exchanger.peer_pid)} sent nothing for "
                            f"{limit_s:g} s while awaited (idle_timeout_s)",
                        )
                    )

    @property
    def bytes_sent(self) -> int:
        """Bytes sent to the other participants so far."""
        return sum(int(e.nbytes_sent) for e in self.exchangers)

    def refuse(self, index: int, why: str) -> None:
        """Participant ``index``'s certificate is not its pinned one."""
        self.fail(
            PeerError(
                self.plan.participants[index],
                f"{self.name(index)} {why}",
            )
        )

    def lost(self, index: int | None, exc: BaseException | None) -> None:
        """A connection closed before the end of the run."""
        who = "a participant" if index is None else self.name(index)
        participant = "?" if index is None else self.plan.participants[index]
        cause = f": {exc}" if exc else ""
        if not self.connected:
            hint = ""
            if self.tls is not None and index is not None and index > self.rt.pid:
                # We dialled it: it may have refused the certificate we presented.
                hint = (
                    ": did it refuse our TLS certificate? The pins table must name "
                    "the same three certificates for all three"
                )
            self.fail(
                PeerError(
                    participant,
                    f"{who} closed the connection before the run began{cause}{hint}",
                )
            )
            return
        self.fail(
            PeerError(participant, f"{who} disconnected during the computation{cause}")
        )


def _peer_der(transport: Any) -> bytes | None:
    """The certificate the other end of a TLS transport presented (DER)."""
    tls_object = transport.get_extra_info("ssl_object")
    if tls_object is None:
        return None
    der: bytes | None = tls_object.getpeercert(binary_form=True)
    return der


@functools.cache
def _exchanger_class() -> type:
    """MPyC's message exchanger, watched (built once MPyC is imported)."""
    from mpyc.asyncoro import MessageExchanger  # type: ignore[import-untyped]

    class _Watched(MessageExchanger):  # type: ignore[misc]
        __slots__ = ("last_seen", "session")

        def __init__(self, session: Session, peer_pid: int | None = None) -> None:
            super().__init__(session.rt, peer_pid)
            self.session = session
            self.last_seen = time.monotonic()
            session.exchangers.append(self)

        def connection_made(self, transport: Any) -> None:
            tls = self.session.tls
            if tls is not None and self.peer_pid is not None:
                # We dialled peer_pid: is it the pinned one? Nothing is sent before.
                why = tls.mismatch(self.peer_pid, _peer_der(transport))
                if why is not None:
                    transport.abort()
                    self.session.refuse(self.peer_pid, why)
                    return
            super().connection_made(transport)

        def send(self, pc: int, payload: bytes) -> None:
            # After a failure nobody listens, and the connection may be gone.
            if not (self.session.silenced or self.session.failure.done()):
                self.session.messages_sent += 1
                super().send(pc, payload)

        def data_received(self, data: bytes) -> None:
            self.last_seen = time.monotonic()
            if self.peer_pid is None and len(self.bytes) + len(data) >= 2:
                # A connecting participant names itself first: only a lower
                # index not yet connected may (anything else is not a peer).
                head = bytes(self.bytes + data)[:2]
                claimed = int.from_bytes(head, "little")
                rt = self.session.rt
                if not (0 <= claimed < rt.pid and rt.parties[claimed].protocol is None):
                    self.transport.close()
                    return
                tls = self.session.tls
                if tls is not None:
                    why = tls.mismatch(claimed, _peer_der(self.transport))
                    if why is not None:
                        self.transport.abort()
                        self.session.refuse(claimed, why)
                        return
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.session.closing:
                with contextlib.suppress(Exception):
                    super().connection_lost(exc)
                return
            if self.peer_pid is not None:
                self.session.lost(self.peer_pid, exc)

        def awaited(self) -> bool:
            return any(
                isinstance(v, asyncio.Future) and not v.done()
                for v in self.buffers.values()
            )

    return _Watched
