"""Live sources and sinks: the feeds as their users run them, on asyncio.

Sources, each yielding the same :class:`TrackRecord` values as the file readers:

* :class:`TcpSource`: a TCP client of a feed: SBS-1 from dump1090 or readsb (port
  30003, :func:`sbs_source`), AVR or Beast-style hex (port 30002,
  :func:`avr_source`), CoT from a TAK server (port 8087, :func:`cot_tcp_source`).
  It reconnects with exponential backoff when the connection fails or drops.
* :class:`CotUdpListener`: CoT over UDP, unicast or multicast (the TAK default is
  239.2.3.1:6969).
* :class:`AsterixUdpListener`: ASTERIX CAT021/048/062 over UDP, unicast or
  multicast (a group address as the host joins it).

A bad frame never stops a feed: decoders count it and go on, and a decoder failing
unexpectedly is counted as ``decoder error`` and logged. Counts are in each source's
``stats``.

Sink: :class:`CotSender` sends CoT events (see ``adapters/cot.py``) to a TAK server
or client over TCP, TLS or UDP, through PyTAK's connection factory (so TLS client
certificates are configured as PyTAK documents them: ``PYTAK_TLS_CLIENT_CERT``...).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from deconfliction.adapters.asterix import AsterixDecoder, RadarSites
from deconfliction.adapters.cot_proto import TakDecoder
from deconfliction.adapters.modes import BeastBinaryDecoder, ModeSDecoder
from deconfliction.adapters.sbs import SbsDecoder
from deconfliction.adapters.track_stream import PartyRules, ReadStats, TrackRecord

log = logging.getLogger(__name__)

SBS_PORT: int = 30003
AVR_PORT: int = 30002
COT_TCP_PORT: int = 8087
COT_UDP_PORT: int = 6969
COT_MULTICAST_GROUP: str = "239.2.3.1"
READ_BYTES: int = 1 << 16
MAX_DATAGRAM_QUEUE: int = 10_000  # about a minute of a busy CoT multicast


class Decoder(Protocol):
    """What a source needs of a decoder (SbsDecoder, ModeSDecoder, CotDecoder)."""

    stats: ReadStats

    def feed(self, data: bytes) -> list[TrackRecord]:
        """Records completed by ``data``."""
        ...

    def reset_stream(self) -> None:
        """The connection dropped: forget a partial frame."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnection delays: ``initial_s``, then times ``factor``, up to ``max_s``.

    >>> list(zip(range(5), Backoff(0.5, 4.0).delays_s()))
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0)]
    """

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0

    def delays_s(self) -> Iterator[float]:
        """Successive delays, forever."""
        delay = self.initial_s
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_s)


def _safe_feed(
    decoder: Decoder, feed: Callable[[bytes], list[TrackRecord]], data: bytes
) -> list[TrackRecord]:
    try:
        return feed(data)
    except Exception:
        # The decoders count bad input themselves; reaching here is a bug, but the
        # feed must go on.
        log.exception("decoder failed on %d bytes", len(data))
        decoder.stats.read += 1
        decoder.stats.reject("decoder error", None, "", f"{len(data)} bytes dropped")
        return []


class TcpSource:
    """A TCP client of a feed, reconnecting with backoff.

    Args:
        host: the feed's host.
        port: its port.
        decoder: turns the bytes into records.
        backoff: delays between connection attempts.
        connect_timeout_s: how long one attempt may take.
        sleep: the sleep to wait with (tests pass a fast one).
    """

    def __init__(
        self,
        host: str,
        port: int,
        decoder: Decoder,
        *,
        backoff: Backoff = Backoff(),
        connect_timeout_s: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.host = host
        self.port = port
        self.decoder = decoder
        self.backoff = backoff
        self.connect_timeout_s = connect_timeout_s
        self.sleep = sleep
        self.connections = 0
        self.last_error: str | None = None

    @property
    def stats(self) -> ReadStats:
        """The decoder's counts."""
        return self.decoder.stats

    async def records(self) -> AsyncIterator[TrackRecord]:
        """Records as they arrive, forever (cancel the task, or stop iterating)."""
        delays = self.backoff.delays_s()
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port),
                    self.connect_timeout_s,
                )
            except (OSError, TimeoutError) as exc:
                self.last_error = f"connect: {exc or type(exc).__name__}"
                log.info("%s:%s: %s", self.host, self.port, self.last_error)
                await self.sleep(next(delays))
                continue
            self.connections += 1
            delays = self.backoff.delays_s()
            try:
                while True:
                    data = await reader.read(READ_BYTES)
                    if not data:
                        self.last_error = "closed by the feed"
                        break
                    for record in _safe_feed(self.decoder, self.decoder.feed, data):
                        yield record
            except OSError as exc:
                self.last_error = f"read: {exc}"
            finally:
                self.decoder.reset_stream()
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            await self.sleep(next(delays))


def sbs_source(
    host: str,
    port: int = SBS_PORT,
    *,
    timezone: str = "UTC",
    rules: PartyRules | None = None,
    backoff: Backoff = Backoff(),
) -> TcpSource:
    """An SBS-1 feed (dump1090, readsb: port 30003)."""
    decoder = SbsDecoder(f"sbs://{host}:{port}", timezone, rules)
    return TcpSource(host, port, decoder, backoff=backoff)


def avr_source(
    host: str,
    port: int = AVR_PORT,
    *,
    reference: tuple[float, float] | None = None,
    rules: PartyRules | None = None,
    backoff: Backoff = Backoff(),
) -> TcpSource:
    """A raw hex feed (AVR or Beast-style hex lines: port 30002)."""
    decoder = ModeSDecoder(f"avr://{host}:{port}", reference=reference, rules=rules)
    return TcpSource(host, port, decoder, backoff=backoff)


def beast_source(
    host: str,
    port: int = 30005,
    *,
    reference: tuple[float, float] | None = None,
    rules: PartyRules | None = None,
    backoff: Backoff = Backoff(),
) -> TcpSource:
    """A Beast binary feed (dump1090/readsb port 30005)."""
    decoder = BeastBinaryDecoder(
        f"beast://{host}:{port}", reference=reference, rules=rules
    )
    return TcpSource(host, port, decoder, backoff=backoff)


def cot_tcp_source(
    host: str,
    port: int = COT_TCP_PORT,
    *,
    rules: PartyRules | None = None,
    backoff: Backoff = Backoff(),
) -> TcpSource:
    """CoT streamed by a TAK server over plain TCP (port 8087), XML or protobuf."""
    return TcpSource(
        host, port, TakDecoder(f"cot+tcp://{host}:{port}", rules), backoff=backoff
    )


class _DatagramQueue(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[bytes], stats: ReadStats) -> None:
        self.queue = queue
        self.stats = stats

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.queue.full():
            # Keep the newest: an old position is worth less than a new one.
            self.queue.get_nowait()
            self.stats.read += 1
            self.stats.reject("overflow", None, "", "datagram dropped: queue full")
        self.queue.put_nowait(data)


class UdpListener:
    """Datagrams into a decoder's ``feed_datagram``, unicast or multicast.

    Args:
        decoder: what makes positions of a datagram (its ``stats`` are the counts).
        host: the address to bind (``0.0.0.0`` for all).
        port: the port (0: any free one; see :attr:`bound_port`).
        group: a multicast group to join.
        interface: the local address whose interface joins the group
            (``0.0.0.0``: the system's choice; ``127.0.0.1`` on loopback).
    """

    def __init__(
        self,
        decoder: Any,
        host: str = "0.0.0.0",
        port: int = 0,
        *,
        group: str | None = None,
        interface: str = "0.0.0.0",
    ) -> None:
        self.host = host
        self.port = port
        self.group = group
        self.interface = interface
        self.decoder = decoder
        self.bound_port: int | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(MAX_DATAGRAM_QUEUE)

    @property
    def stats(self) -> ReadStats:
        """The decoder's counts."""
        stats: ReadStats = self.decoder.stats
        return stats

    async def start(self) -> int:
        """Bind (and join the group); returns the bound port.

        Raises:
            OSError: if the address cannot be bound or the group joined.
        """
        if self._transport is not None:
            assert self.bound_port is not None
            return self.bound_port
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            sock.bind((self.host if self.group is None else "", self.port))
            if self.group is not None:
                membership = struct.pack(
                    "4s4s",
                    socket.inet_aton(self.group),
                    socket.inet_aton(self.interface),
                )
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DatagramQueue(self._queue, self.decoder.stats), sock=sock
        )
        self._transport = transport
        self.bound_port = int(sock.getsockname()[1])
        return self.bound_port

    def close(self) -> None:
        """Stop listening."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def records(self) -> AsyncIterator[TrackRecord]:
        """Positions as datagrams arrive, forever."""
        await self.start()
        try:
            while True:
                data = await self._queue.get()
                for record in _safe_feed(
                    self.decoder, self.decoder.feed_datagram, data
                ):
                    yield record
        finally:
            self.close()


class CotUdpListener(UdpListener):
    """CoT over UDP, unicast or multicast: XML (one or more events per datagram) or
    TAK protobuf mesh messages (see
    :class:`~deconfliction.adapters.cot_proto.TakDecoder`).

    Args:
        host: the address to bind (``0.0.0.0`` for all).
        port: the port (0: any free one; see :attr:`bound_port`).
        group: a multicast group to join (``239.2.3.1`` for TAK's default).
        rules: party rules for the positions.
    """

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int = COT_UDP_PORT,
        *,
        group: str | None = None,
        rules: PartyRules | None = None,
    ) -> None:
        super().__init__(
            TakDecoder(f"cot+udp://{host}:{port}", rules), host, port, group=group
        )


class AsterixUdpListener(UdpListener):
    """ASTERIX over UDP (whole data blocks per datagram), unicast or multicast, as
    radar and tracker feeds are delivered.

    Args:
        host: the address to bind, or a multicast group (224.0.0.0/4) to join.
        port: the port (0: any free one).
        interface: the local address whose interface joins a group.
        radars: radar sites for CAT048.
        rules: party rules for the positions.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        interface: str = "0.0.0.0",
        radars: RadarSites | None = None,
        rules: PartyRules | None = None,
    ) -> None:
        group = host if ipaddress.ip_address(host).is_multicast else None
        super().__init__(
            AsterixDecoder(f"asterix+udp://{host}:{port}", radars=radars, rules=rules),
            host,
            port,
            group=group,
            interface=interface,
        )


class CotTcpListener:
    """A CoT TCP server, so TAK clients (ATAK, WinTAK) connect to Deconfliction
    directly, in XML or TAK protobuf (the connection's first byte decides; see
    :class:`~deconfliction.adapters.cot_proto.TakDecoder`): each connection has its
    own decoder (a partial event of one client never mixes with another's), the
    counts are summed in :attr:`stats`.

    Args:
        host: the address to listen on.
        port: the port (0: any free one; see :attr:`bound_port`).
        rules: party rules for the positions.
        max_clients: connections beyond this are closed at once.
    """

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int = COT_TCP_PORT,
        *,
        rules: PartyRules | None = None,
        max_clients: int = 64,
    ) -> None:
        self.host = host
        self.port = port
        self.rules = rules
        self.max_clients = max_clients
        self.stats = ReadStats(source=f"cot+tcp-listen://{host}:{port}")
        self.bound_port: int | None = None
        self._server: asyncio.Server | None = None
        self._queue: asyncio.Queue[TrackRecord] = asyncio.Queue(MAX_DATAGRAM_QUEUE)
        self._clients = 0

    async def start(self) -> int:
        """Listen; returns the bound port."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._client, self.host, self.port
            )
            self.bound_port = int(self._server.sockets[0].getsockname()[1])
        assert self.bound_port is not None
        return self.bound_port

    async def _client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self._clients >= self.max_clients:
            writer.close()
            return
        self._clients += 1
        peer = writer.get_extra_info("peername")
        decoder = TakDecoder(f"{self.stats.source} from {peer}", self.rules)
        try:
            while data := await reader.read(READ_BYTES):
                for record in _safe_feed(decoder, decoder.feed, data):
                    if self._queue.full():
                        self._queue.get_nowait()
                        self.stats.read += 1
                        self.stats.reject("overflow", None, "", "position dropped")
                    self._queue.put_nowait(record)
        except (ConnectionError, OSError):
            pass
        finally:
            decoder.reset_stream()
            self.stats.merge(decoder.stats)
            self._clients -= 1
            writer.close()

    def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def records(self) -> AsyncIterator[TrackRecord]:
        """Positions from every connected client, forever."""
        await self.start()
        try:
            while True:
                yield await self._queue.get()
        finally:
            self.close()


# --------------------------------------------------------------------------------------
# Sending CoT


def _pytak() -> Any:
    with warnings.catch_warnings():
        # PyTAK warns at import that aiohttp (for its WebSocket and Marti clients)
        # is missing; the plain TCP, TLS and UDP clients used here do not need it.
        warnings.filterwarnings("ignore", message=".*aiohttp.*")
        import pytak  # type: ignore[import-untyped]
    return pytak


def pkcs12_tls_config(
    p12_path: str, password: str | None, ca_file: str | None = None
) -> dict[str, str]:
    """PyTAK's TLS settings for a client certificate in a PKCS#12 file (as TAK
    servers issue them), checked first: the file must open with the password.

    Raises:
        InputError: naming the file, if it cannot be read or decrypted, or has no
            key and certificate.
    """
    from cryptography.hazmat.primitives.serialization import pkcs12

    from deconfliction.errors import InputError, Problem

    try:
        with open(p12_path, "rb") as f:
            data = f.read()
        key, cert, _ = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None
        )
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            [
                Problem(
                    p12_path, None, "", f"not a PKCS#12 file this password opens: {exc}"
                )
            ]
        ) from None
    if key is None or cert is None:
        raise InputError(
            [Problem(p12_path, None, "", "holds no private key and certificate")]
        )
    if not p12_path.lower().endswith(".p12"):  # PyTAK reads PKCS#12 by this suffix
        raise InputError([Problem(p12_path, None, "", "name it *.p12")])
    config = {"PYTAK_TLS_CLIENT_CERT": p12_path}
    if password:
        config["PYTAK_TLS_CLIENT_PASSWORD"] = password
    if ca_file:
        config["PYTAK_TLS_CLIENT_CAFILE"] = ca_file
    return config


class CotSender:
    """Sends CoT events to a TAK server or client.

    ``url`` is PyTAK's ``COT_URL``: ``tcp://host:8087``, ``tls://host:8089`` (with
    ``PYTAK_TLS_CLIENT_CERT``, ``PYTAK_TLS_CLIENT_KEY``, ``PYTAK_TLS_CLIENT_CAFILE``
    in ``config``) or ``udp://239.2.3.1:6969``.

    Use as ``async with CotSender(url) as sender: await sender.send(event_bytes)``.
    """

    def __init__(self, url: str, config: Mapping[str, str] | None = None) -> None:
        scheme = url.split("://", 1)[0].lower()
        if scheme.startswith("udp") and "+wo" not in scheme:
            url = scheme + "+wo://" + url.split("://", 1)[1]  # send only
        self.url = url
        self.config = dict(config or {})
        self._writer: Any = None
        self.sent = 0

    async def __aenter__(self) -> CotSender:
        from configparser import ConfigParser

        pytak = _pytak()
        parser = ConfigParser(interpolation=None)
        parser["deconfliction"] = {"COT_URL": self.url, **self.config}
        _, self._writer = await pytak.protocol_factory(parser["deconfliction"])
        return self

    async def send(self, event: bytes) -> None:
        """Send one event (bytes from ``cot.to_bytes``).

        Raises:
            OSError: if the connection fails.
        """
        writer = self._writer
        if writer is None:
            raise OSError("CotSender is not connected (use `async with`)")
        if hasattr(writer, "send"):  # PyTAK's datagram client
            await writer.send(event)
        else:
            writer.write(event)
            await writer.drain()
        self.sent += 1

    async def __aexit__(self, *exc: object) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if hasattr(writer, "close"):
            writer.close()
        if hasattr(writer, "wait_closed"):
            with contextlib.suppress(OSError):
                await writer.wait_closed()
