"""ASTERIX out (issue 19, item 2): CAT062 of the live picture, decoded by libasterix
(independent of our packing) field by field, and ``deconfliction asterix`` from a real
server to a UDP socket on loopback."""

from __future__ import annotations

import math
import socket
import threading
import time

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from deconfliction.adapters.asterix import AsterixDecoder
from deconfliction.adapters.asterix_out import TrackNumbers, datagrams, encode_records
from deconfliction.cli import bridge
from deconfliction.units import MPS_PER_KT
from tests.adapters.asterix_samples import DAY_S, decode_cat062, scenario
from tests.conftest import Server, add_party


def _encode(truths, ids=None, numbers=None):
    return encode_records(
        ids or [t.icao24 for t in truths],
        np.array([t.t_s for t in truths]),
        np.array([t.lat_deg for t in truths]),
        np.array([t.lon_deg for t in truths]),
        np.array([t.fl * 100.0 for t in truths]),
        np.array([t.gs_kt for t in truths]),
        np.array([t.trk_deg for t in truths]),
        np.array([t.vs_fpm for t in truths]),
        sac=7,
        sic=9,
        track_numbers=numbers or TrackNumbers(),
    )


class TestEncoding:
    def test_every_field_through_libasterix(self) -> None:
        truths = scenario(4, 3)
        rows = decode_cat062(b"".join(datagrams(_encode(truths))))
        assert len(rows) == len(truths)
        for row, t in zip(rows, truths, strict=True):
            assert (row["sac"], row["sic"]) == (7, 9)
            assert row["tod_s"] == pytest.approx(t.tod_s, abs=1 / 128)
            assert row["lat"] == pytest.approx(t.lat_deg, abs=180 / 2**25)
            assert row["lon"] == pytest.approx(t.lon_deg, abs=180 / 2**25)
            speed = t.gs_kt * MPS_PER_KT
            assert row["vx"] == pytest.approx(
                speed * math.sin(math.radians(t.trk_deg)), abs=0.125
            )
            assert row["vy"] == pytest.approx(
                speed * math.cos(math.radians(t.trk_deg)), abs=0.125
            )
            assert row["fl"] == pytest.approx(t.fl, abs=0.125)
            assert row["vs_fpm"] == pytest.approx(t.vs_fpm, abs=3.125)
            assert row["icao24"] == t.icao24

    def test_track_numbers_are_stable_per_aircraft(self) -> None:
        numbers = TrackNumbers()
        truths = scenario(4, 3)
        first = decode_cat062(b"".join(datagrams(_encode(truths, numbers=numbers))))
        again = decode_cat062(b"".join(datagrams(_encode(truths, numbers=numbers))))
        by_id = {}
        for row in first + again:
            by_id.setdefault(row["icao24"], set()).add(row["track_number"])
        assert all(len(n) == 1 for n in by_id.values())
        assert len({next(iter(n)) for n in by_id.values()}) == 4

    def test_an_id_that_is_no_icao_address_goes_without_adr(self) -> None:
        truths = scenario(1, 1)
        rows = decode_cat062(b"".join(datagrams(_encode(truths, ids=["VIPER-11"]))))
        assert "icao24" not in rows[0]
        assert rows[0]["track_number"] == 1

    def test_values_beyond_the_items_are_clipped_not_wrapped(self) -> None:
        truths = scenario(1, 1)
        records = encode_records(
            ["4840D6"],
            np.array([truths[0].t_s]),
            np.array([35.0]),
            np.array([36.0]),
            np.array([200000.0]),  # FL 2000: beyond I062/136's -15 to 1500
            np.array([300.0]),
            np.array([90.0]),
            np.array([-500000.0]),
            sac=1,
            sic=1,
            track_numbers=TrackNumbers(),
        )
        (row,) = decode_cat062(datagrams(records)[0])
        assert row["fl"] == 1500.0
        assert row["vs_fpm"] < 0

    @pytest.mark.parametrize("limit", [64, 200, 1400])
    def test_datagrams_hold_whole_blocks_within_the_limit(self, limit: int) -> None:
        truths = scenario(10, 10)
        grams = datagrams(_encode(truths), limit)
        assert all(len(g) <= limit for g in grams)
        assert all(int.from_bytes(g[1:3], "big") == len(g) for g in grams)
        assert len(decode_cat062(b"".join(grams))) == len(truths)

    def test_our_reader_reads_it_back(self) -> None:
        truths = scenario(4, 3)
        decoder = AsterixDecoder("out", start_t_s=DAY_S)
        records = decoder.feed(b"".join(datagrams(_encode(truths)))) + decoder.finish()
        assert [r.id for r in records] == [t.icao24 for t in truths]
        assert [r.alt_ft for r in records] == [t.fl * 100 for t in truths]


def _app() -> typer.Typer:
    app = typer.Typer()
    bridge.register(app)
    return app


@pytest.mark.slow
def test_the_command_sends_the_partys_picture(server: Server) -> None:
    token = add_party(server.database_url, "coalition", "officer")
    now = time.time()
    positions = [
        {
            "id": f"{0x4840D6 + k:06X}",
            "time": now - 1.0,
            "lat": 35.0 + 0.1 * k,
            "lon": 38.0,
            "alt_ft": 20000.0 + 1000 * k,
            "gs_kt": 400.0,
            "trk_deg": 90.0,
            "vs_fpm": 0.0,
        }
        for k in range(3)
    ]
    with server.client(token) as client:
        answer = client.post(
            "/v1/tracks", json={"batch_id": "asterix-out-1", "positions": positions}
        )
        assert answer.status_code in (200, 201, 202), answer.text
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(15)
    port = receiver.getsockname()[1]
    received: list[bytes] = []

    def listen() -> None:
        try:
            while len(received) < 2:
                received.append(receiver.recv(65536))
        except OSError:
            pass

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    result = CliRunner().invoke(
        _app(),
        [
            "asterix",
            "--server",
            server.url,
            "--token",
            token,
            "--to",
            f"udp://127.0.0.1:{port}",
            "--interval-s",
            "0.5",
            "--max-seconds",
            "1.5",
            "--sac",
            "12",
            "--sic",
            "34",
        ],
    )
    thread.join(15)
    receiver.close()
    assert result.exit_code == 0, result.output
    assert "CAT062 records" in result.stderr
    rows = decode_cat062(received[0])
    assert sorted(r["icao24"] for r in rows) == [p["id"] for p in positions]
    assert {(r["sac"], r["sic"]) for r in rows} == {(12, 34)}
    assert sorted(r["fl"] for r in rows) == [200.0, 210.0, 220.0]


def test_bad_destination_exits_2() -> None:
    result = CliRunner().invoke(
        _app(),
        [
            "asterix",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "t",
            "--to",
            "tcp://x:1",
        ],
    )
    assert result.exit_code == 2
    assert "udp://HOST:PORT" in result.stderr
