"""ASTERIX live (issue 19, item 1): the UDP listener, unicast and multicast on
loopback, garbage datagrams counted, and ``deconfliction feed asterix+udp://...``
into a real server."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.adapters.live import AsterixUdpListener
from deconfliction.cli import bridge
from deconfliction.units import S_PER_DAY
from tests.adapters.asterix_samples import RADARS, Truth, encode, scenario
from tests.conftest import Server, add_party

GROUP = "239.255.19.1"


def _truths_now(aircraft: int = 3, steps: int = 4) -> list[Truth]:
    now = time.time()
    return scenario(aircraft, steps, t0_s=now - 20.0)


def _sender(multicast: bool = False) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    if multicast:
        sock.setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1")
        )
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    return sock


async def _collect(listener: AsterixUdpListener, datagrams, address, want: int):
    port = await listener.start()
    sender = _sender(multicast=address == GROUP)
    got = []

    async def consume() -> None:
        async for record in listener.records():
            got.append(record)
            if len(got) >= want:
                return

    task = asyncio.create_task(consume())
    try:
        for data in datagrams:
            sender.sendto(data, (address, port))
            await asyncio.sleep(0.01)
        await asyncio.wait_for(task, 10.0)
    finally:
        sender.close()
        listener.close()
        task.cancel()
    return got


class TestListener:
    def test_unicast_with_a_garbage_datagram_between(self) -> None:
        truths = _truths_now()
        datagrams = [encode(62, [t]) for t in truths]
        junk = random.Random(7).randbytes(65_000)  # near the largest UDP payload
        datagrams.insert(2, junk)
        listener = AsterixUdpListener("127.0.0.1", 0, radars=RADARS)
        got = asyncio.run(_collect(listener, datagrams, "127.0.0.1", len(truths)))
        assert [r.id for r in got] == [t.icao24 for t in truths]
        assert [r.t_s for r in got] == pytest.approx([t.t_s for t in truths], abs=0.01)
        assert listener.stats.rejected_total >= 1
        assert listener.stats.positions == len(truths)

    def test_multicast_on_loopback(self) -> None:
        truths = _truths_now()
        datagrams = [encode(21, truths[:6]), encode(48, truths[6:])]
        listener = AsterixUdpListener(GROUP, 0, interface="127.0.0.1", radars=RADARS)
        got = asyncio.run(_collect(listener, datagrams, GROUP, len(truths)))
        assert sorted(r.t_s for r in got) == pytest.approx(
            sorted(t.t_s for t in truths), abs=0.01
        )

    def test_the_day_is_the_arrival_days(self) -> None:
        """Just after midnight a record timed 23:59:59 is yesterday's."""
        listener = AsterixUdpListener("127.0.0.1", 0)
        day = (time.time() // S_PER_DAY) * S_PER_DAY
        listener.decoder.clock = lambda: day + 2.0
        (truth,) = scenario(1, 1, t0_s=day - 1.0)
        (record,) = listener.decoder.feed_datagram(encode(62, [truth]))
        assert record.t_s == day - 1.0


def _app() -> typer.Typer:
    app = typer.Typer()
    bridge.register(app)
    return app


@pytest.mark.slow
def test_feed_posts_an_asterix_multicast_feed(server: Server) -> None:
    token = add_party(server.database_url, "coalition", "officer")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()

    def play() -> None:
        sender = _sender(multicast=True)
        try:
            while not stop.is_set():
                for truth in scenario(2, 1, t0_s=time.time() - 0.5):
                    sender.sendto(encode(62, [truth]), (GROUP, port))
                time.sleep(0.3)
        finally:
            sender.close()

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    try:
        result = CliRunner().invoke(
            _app(),
            [
                "feed",
                f"asterix+udp://{GROUP}:{port}",
                "--interface",
                "127.0.0.1",
                "--to",
                server.url,
                "--token",
                token,
                "--max-seconds",
                "4",
                "--flush-s",
                "0.5",
            ],
        )
    finally:
        stop.set()
        thread.join(5)
    assert result.exit_code == 0, result.output
    with server.client(token) as client:
        history = client.get("/v1/tracks/coalition/4840D6")
        assert history.status_code == 200, history.text
        assert len(history.json()) >= 3
        assert {round(p["alt_ft"]) for p in history.json()} == {25000}


def test_feed_needs_a_port() -> None:
    result = CliRunner().invoke(
        _app(),
        [
            "feed",
            f"asterix+udp://{GROUP}",
            "--to",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
    )
    assert result.exit_code == 2
    assert "give one" in result.stderr
