"""Beast binary (issue 19, item 5's last part): frames made from the Beast-style hex
lines the Mode-S tests use read to the same positions; 0x1A escaping; garbage and
broken frames counted, the stream resynchronised; a file detected; a live feed."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from pathlib import Path

from deconfliction.adapters.live import Backoff, beast_source
from deconfliction.adapters.modes import (
    BeastBinaryDecoder,
    ModeSDecoder,
    beast_binary_frame,
)
from deconfliction.adapters.track_files import (
    ReadOptions,
    detect_format,
    read_track_file,
)
from tests.adapters.interop_samples import flight, modes_lines

T0 = 1513159200.0
REF = (34.0, 38.5)


def _lines() -> list[str]:
    samples = []
    for k in range(3):
        samples += flight(
            f"4CA2D{k}", f"RCH{k}", 35.0 + 0.2 * k, 38.2, 45.0, 420.0, 25000.0, T0, 30
        )
    samples.sort(key=lambda s: s.t_s)
    return modes_lines(samples, "mlat")


def _from_text(lines: list[str]):
    decoder = ModeSDecoder("hex", reference=REF, start_t_s=T0)
    records = []
    for k, line in enumerate(lines, 1):
        records += decoder.feed_line(line, k)
    return records + decoder.finish()


def _from_binary(data: bytes, chunk: int = 1 << 16):
    decoder = BeastBinaryDecoder("bin", reference=REF, start_t_s=T0)
    records = []
    for k in range(0, len(data), chunk):
        records += decoder.feed(data[k : k + chunk])
    return records + decoder.finish(), decoder


def test_the_same_positions_as_the_hex_lines() -> None:
    lines = _lines()
    binary = b"".join(beast_binary_frame(line) for line in lines)
    expected = _from_text(lines)
    got, decoder = _from_binary(binary, chunk=5)  # frames split across reads
    assert len(expected) > 50
    assert [(r.id, r.t_s, r.lat_deg, r.lon_deg) for r in got] == [
        (r.id, r.t_s, r.lat_deg, r.lon_deg) for r in expected
    ]
    assert decoder.stats.rejected_total == 0


def test_escaped_0x1a_in_counter_and_message() -> None:
    line = "@1A1A1A1A1A1A8D4840D6202CC371C32CE0576098;"
    frame = beast_binary_frame(line)
    assert frame.count(b"\x1a\x1a") == 6
    _, decoder = _from_binary(frame)
    assert decoder.stats.read == 1 and decoder.stats.rejected_total == 0


def test_garbage_and_broken_frames_are_counted_and_skipped() -> None:
    lines = _lines()
    frames = [beast_binary_frame(line) for line in lines]
    junk = bytes(b for b in random.Random(3).randbytes(300) if b != 0x1A)
    broken = frames[0][:8]  # cut short by the next frame
    data = b"".join(frames[:10]) + junk + broken + b"".join(frames[10:])
    got, decoder = _from_binary(data)
    assert len(got) == len(_from_text(lines))
    assert decoder.stats.rejected["bad frame"] == 2


def test_random_bytes_never_crash() -> None:
    for seed in range(5):
        _, decoder = _from_binary(random.Random(seed).randbytes(64 * 1024))
        s = decoder.stats
        assert s.read == s.accepted + s.ignored_total + s.rejected_total


def test_mode_ac_frames_are_ignored() -> None:
    frame = bytes([0x1A, 0x31]) + bytes(6) + b"\x40" + b"\x12\x34"
    _, decoder = _from_binary(frame)
    assert decoder.stats.ignored["Mode A/C frame"] == 1


def test_a_file_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "feed.bin"
    path.write_bytes(b"".join(beast_binary_frame(line) for line in _lines()))
    assert detect_format(path) == "beast-binary"
    batch, _ = read_track_file(path, None, ReadOptions(reference=REF, start_t_s=T0))
    assert len(batch) == len(_from_text(_lines()))


def test_live_on_port_30005_style() -> None:
    data = b"".join(beast_binary_frame(line) for line in _lines())
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    want = len(_from_text(_lines()))

    async def run() -> int:
        source = beast_source(
            "127.0.0.1", port, reference=REF, backoff=Backoff(0.1, 0.2)
        )
        got = 0
        async for _ in source.records():
            got += 1
            if got >= want:
                break
        return got

    try:
        assert asyncio.run(asyncio.wait_for(run(), 20)) == want
    finally:
        server.close()
