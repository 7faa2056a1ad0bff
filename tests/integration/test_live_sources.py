"""Live sources on loopback: a TCP server playing an SBS recording (dropping the
connection mid-line), raw hex and CoT over TCP, CoT over UDP from a plain socket and
from PyTAK, CoT sent to a TAK-like TCP server, and reconnection with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from deconfliction.adapters.cot import (
    CotDecoder,
    CotOptions,
    alert_event,
    to_bytes,
    track_event,
)
from deconfliction.adapters.live import (
    Backoff,
    CotSender,
    CotUdpListener,
    TcpSource,
    avr_source,
    cot_tcp_source,
    sbs_source,
)
from deconfliction.adapters.track_stream import ReadStats, TrackRecord
from tests.adapters.interop_samples import flight, modes_lines, sample_alert, sbs_lines

T0 = 1513159200.0
FAST = Backoff(initial_s=0.01, max_s=0.05)
TIMEOUT_S = 15.0


async def _take(records: AsyncIterator[TrackRecord], n: int) -> list[TrackRecord]:
    out: list[TrackRecord] = []

    async def run() -> None:
        async for record in records:
            out.append(record)
            if len(out) >= n:
                return

    await asyncio.wait_for(run(), TIMEOUT_S)
    await records.aclose()  # type: ignore[attr-defined]
    return out


Handler = Callable[
    [asyncio.StreamReader, asyncio.StreamWriter, asyncio.Event], Awaitable[None]
]


class Loopback:
    """A TCP server on loopback whose connections end cleanly when the test is done."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stop = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)  # type: ignore[arg-type]
        try:
            await self.handler(reader, writer, self.stop)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def __aenter__(self) -> Loopback:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class TestSbsFeed:
    def test_reconnects_and_keeps_every_position(self) -> None:
        truth = flight("4CA2D6", "VIPER11", 35.5, 38.2, 45.0, 420.0, 25000.0, T0, 30)
        lines = [ln.encode() for ln in sbs_lines(truth)]
        half = len(lines) // 2
        connections: list[int] = []

        async def handler(
            _: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: asyncio.Event
        ) -> None:
            connections.append(1)
            if len(connections) == 1:
                # The first half, some garbage, then the connection drops mid-line.
                writer.write(
                    b"\n".join([*lines[:half], b"GARBAGE,,", lines[half][:20]])
                )
                await writer.drain()
                return
            writer.write(b"\n".join(lines[half:]) + b"\n")
            await writer.drain()
            await stop.wait()

        async def main() -> tuple[list[TrackRecord], TcpSource]:
            async with Loopback(handler) as server:
                source = sbs_source("127.0.0.1", server.port, backoff=FAST)
                records = await _take(source.records(), len(truth))
                return records, source

        records, source = asyncio.run(main())
        assert [r.t_s for r in records] == pytest.approx([s.t_s for s in truth])
        assert all(r.gs_kt == 420.0 for r in records)
        assert source.connections == 2
        assert source.stats.rejected == {"unknown message type": 1, "truncated line": 1}


class TestHexFeed:
    def test_timed_hex_lines(self) -> None:
        truth = flight("4CA2D6", "VIPER11", 35.5, 38.2, 45.0, 420.0, 25000.0, T0, 10)
        data = ("\n".join(modes_lines(truth, "epoch")) + "\n").encode()

        async def handler(
            _: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: asyncio.Event
        ) -> None:
            for k in range(0, len(data), 37):  # arbitrary TCP segments
                writer.write(data[k : k + 37])
                await writer.drain()
            await stop.wait()

        async def main() -> list[TrackRecord]:
            async with Loopback(handler) as server:
                source = avr_source(
                    "127.0.0.1", server.port, reference=(35.6, 38.3), backoff=FAST
                )
                return await _take(source.records(), len(truth))

        records = asyncio.run(main())
        assert [r.t_s for r in records] == [s.t_s for s in truth]
        assert records[-1].lat_deg == pytest.approx(truth[-1].lat_deg, abs=1e-4)


def _track(ident: str, t_s: float = T0) -> TrackRecord:
    return TrackRecord(
        ident, t_s, 35.9, 38.6, 25000.0, 420.0, 90.0, 0.0, ident, party="russia"
    )


class TestCotFeeds:
    def test_tcp_client(self) -> None:
        options = CotOptions(own_party="coalition")
        data = b"".join(
            to_bytes(track_event(_track(f"RF{k}"), options)) for k in range(5)
        )

        async def handler(
            _: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: asyncio.Event
        ) -> None:
            writer.write(data[:100])
            await writer.drain()
            writer.write(b"<event broken" + data[100:])
            await writer.drain()
            await stop.wait()

        async def main() -> tuple[list[TrackRecord], ReadStats]:
            async with Loopback(handler) as server:
                source = cot_tcp_source("127.0.0.1", server.port, backoff=FAST)
                return await _take(source.records(), 4), source.stats

        records, stats = asyncio.run(main())
        # The first event was cut by garbage (its two pieces refused); the four
        # after it arrive whole.
        assert [r.id for r in records] == ["RF1", "RF2", "RF3", "RF4"]
        assert stats.rejected == {"malformed XML": 2}
        assert records[0].cot_type == "a-u-A"  # another party's: unknown, not hostile

    def test_udp_listener_from_a_socket_and_from_pytak(self) -> None:
        options = CotOptions()

        async def main() -> tuple[list[TrackRecord], ReadStats]:
            listener = CotUdpListener("127.0.0.1", 0)
            port = await listener.start()
            records = listener.records()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(
                    to_bytes(track_event(_track("A"), options)), ("127.0.0.1", port)
                )
                s.sendto(b"<event not xml", ("127.0.0.1", port))
                s.sendto(
                    to_bytes(track_event(_track("B"), options)), ("127.0.0.1", port)
                )
            async with CotSender(f"udp://127.0.0.1:{port}") as sender:
                await sender.send(to_bytes(track_event(_track("C"), options)))
            got = await _take(records, 3)
            return got, listener.stats

        records, stats = asyncio.run(main())
        assert [r.id for r in records] == ["A", "B", "C"]
        assert stats.rejected == {"truncated event": 1}

    def test_sender_over_tcp_to_a_tak_server(self) -> None:
        received = bytearray()

        async def handler(
            reader: asyncio.StreamReader, _: asyncio.StreamWriter, stop: asyncio.Event
        ) -> None:
            received.extend(await reader.read())  # until the sender closes
            stop.set()

        async def main() -> bytes:
            async with Loopback(handler) as server:
                alert = sample_alert()
                async with CotSender(f"tcp://127.0.0.1:{server.port}") as sender:
                    await sender.send(to_bytes(alert_event(alert, T0, CotOptions())))
                    await sender.send(
                        to_bytes(
                            alert_event(alert, T0 + 30, CotOptions(), cleared=True)
                        )
                    )
                    assert sender.sent == 2
                await asyncio.wait_for(server.stop.wait(), TIMEOUT_S)
            return bytes(received)

        data = asyncio.run(main())
        raised, cleared = CotDecoder().feed_events(data)
        assert raised.facts["kind"] == "alert" and not raised.is_stale
        assert cleared.uid == raised.uid and cleared.is_stale


class TestReconnection:
    def test_backs_off_while_the_feed_is_down(self) -> None:
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        delays: list[float] = []

        class Stop(Exception):
            pass

        async def sleep(delay: float) -> None:
            delays.append(delay)
            if len(delays) == 5:
                raise Stop

        source = TcpSource(
            "127.0.0.1", port, CotDecoder(), backoff=Backoff(0.5, 2.0), sleep=sleep
        )

        async def main() -> None:
            async for _ in source.records():
                pass

        with pytest.raises(Stop):
            asyncio.run(main())
        assert delays == [0.5, 1.0, 2.0, 2.0, 2.0]
        assert source.connections == 0 and source.last_error is not None

    def test_a_failing_decoder_does_not_stop_the_feed(self) -> None:
        class Flaky:
            def __init__(self) -> None:
                self.stats = ReadStats("flaky")
                self.failed = asyncio.Event()

            def feed(self, data: bytes) -> list[TrackRecord]:
                if not self.failed.is_set():
                    self.failed.set()
                    raise RuntimeError("a bug")
                return [_track(data.decode().strip())]

            def reset_stream(self) -> None:
                pass

        async def main() -> tuple[list[TrackRecord], Flaky]:
            decoder = Flaky()

            async def handler(
                _: asyncio.StreamReader,
                writer: asyncio.StreamWriter,
                stop: asyncio.Event,
            ) -> None:
                writer.write(b"one\n")
                await writer.drain()
                await decoder.failed.wait()  # the second word in a read of its own
                writer.write(b"two\n")
                await writer.drain()
                await stop.wait()

            async with Loopback(handler) as server:
                source = TcpSource("127.0.0.1", server.port, decoder, backoff=FAST)
                return await _take(source.records(), 1), decoder

        records, decoder = asyncio.run(main())
        assert records[0].id == "two"
        assert decoder.stats.rejected == {"decoder error": 1}
