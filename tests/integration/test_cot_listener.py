"""The CoT TCP listener (issue 19, item 5): two TAK clients connect on loopback and
send events, one with a partial event when it hangs up; every whole event is read,
the partial one counted."""

from __future__ import annotations

import asyncio

from deconfliction.adapters.cot import CotOptions, to_bytes, track_event
from deconfliction.adapters.cot_proto import to_proto
from deconfliction.adapters.live import CotTcpListener
from deconfliction.adapters.track_stream import TrackRecord


def _event(ident: str, k: int) -> bytes:
    record = TrackRecord(
        ident, 1513159200.0 + k, 35.0 + 0.01 * k, 38.0, 25000.0, 400.0, 90.0, 0.0
    )
    return to_bytes(track_event(record, CotOptions()))


def test_two_clients_and_a_partial_event() -> None:
    async def run() -> tuple[list[TrackRecord], CotTcpListener]:
        listener = CotTcpListener("127.0.0.1", 0)
        port = await listener.start()
        got: list[TrackRecord] = []

        async def consume() -> None:
            async for record in listener.records():
                got.append(record)
                if len(got) >= 10:
                    return

        task = asyncio.create_task(consume())
        for ident in ("AAA111", "BBB222"):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            data = b"".join(_event(ident, k) for k in range(5))
            for k in range(0, len(data), 97):  # events split across writes
                writer.write(data[k : k + 97])
                await writer.drain()
            if ident == "BBB222":
                writer.write(_event(ident, 9)[:120])  # hangs up mid-event
                await writer.drain()
            writer.close()
            await writer.wait_closed()
        await asyncio.wait_for(task, 10)
        await asyncio.sleep(0.2)  # the second client's end is counted
        listener.close()
        return got, listener

    got, listener = asyncio.run(run())
    assert sorted({r.id for r in got}) == ["AAA111", "BBB222"]
    assert len(got) == 10
    assert listener.stats.rejected_total == 1


def test_a_protobuf_client_and_an_xml_client() -> None:
    """A TAK client in protobuf stream mode beside one in XML: the first byte of
    each connection decides, and both are read whole."""

    async def run() -> tuple[list[TrackRecord], CotTcpListener]:
        listener = CotTcpListener("127.0.0.1", 0)
        port = await listener.start()
        got: list[TrackRecord] = []

        async def consume() -> None:
            async for record in listener.records():
                got.append(record)
                if len(got) >= 8:
                    return

        task = asyncio.create_task(consume())
        payloads = {
            "PROTO1": b"".join(
                to_proto(_event("PROTO1", k), stream=True) for k in range(4)
            ),
            "XML222": b"".join(_event("XML222", k) for k in range(4)),
        }
        for data in payloads.values():
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for k in range(0, len(data), 53):
                writer.write(data[k : k + 53])
                await writer.drain()
            writer.close()
            await writer.wait_closed()
        await asyncio.wait_for(task, 10)
        listener.close()
        return got, listener

    got, listener = asyncio.run(run())
    assert sorted((r.id, r.t_s) for r in got) == sorted(
        (ident, 1513159200.0 + k) for ident in ("PROTO1", "XML222") for k in range(4)
    )
    assert listener.stats.rejected_total == 0
