"""CoT in TAK protobuf (issue 19, item 5): our events to protobuf (mesh and stream)
and back to XML read by CotDecoder with every field; bad bytes give None."""

from __future__ import annotations

import random

import pytest

from deconfliction.adapters.cot import CotDecoder, CotOptions, to_bytes, track_event
from deconfliction.adapters.cot_proto import (
    MESH_HEADER,
    TakDecoder,
    from_proto,
    to_proto,
)
from deconfliction.adapters.track_stream import TrackRecord

RECORD = TrackRecord(
    "4CA2D6",
    1513159200.0,
    35.5,
    38.2,
    25000.0,
    420.0,
    45.0,
    -500.0,
    "VIPER11",
    "4CA2D6",
    None,
    "sbs",
    "coalition",
)


@pytest.mark.parametrize("stream", [False, True])
def test_round_trip_through_protobuf(stream: bool) -> None:
    xml = to_bytes(track_event(RECORD, CotOptions(own_party="coalition")))
    proto = to_proto(xml, stream=stream)
    assert proto.startswith(MESH_HEADER) != stream
    back = from_proto(proto)
    assert back is not None
    decoder = CotDecoder("proto")
    (record,) = decoder.feed(back) + decoder.finish()
    assert record.id == RECORD.id and record.party == "coalition"
    assert (record.lat_deg, record.lon_deg) == pytest.approx((35.5, 38.2))
    assert record.alt_ft == pytest.approx(25000.0, abs=0.5)
    assert record.gs_kt == pytest.approx(420.0, abs=0.01)
    assert record.trk_deg == pytest.approx(45.0)
    assert record.vs_fpm == pytest.approx(-500.0)
    assert record.callsign == "VIPER11" and record.icao24 == "4CA2D6"
    assert record.t_s == RECORD.t_s


def test_bad_bytes_give_nothing() -> None:
    rng = random.Random(5)
    for _ in range(200):
        junk = MESH_HEADER + rng.randbytes(rng.randrange(0, 300))
        out = from_proto(junk)
        assert out is None or out.startswith(b"<?xml")
    assert from_proto(b"") is None


# ------------------------------------------------------------------ TakDecoder


def _xml(ident: str, k: int, callsign: str = "VIPER11") -> bytes:
    record = TrackRecord(
        ident,
        1513159200.0 + k,
        35.0 + 0.01 * k,
        38.0,
        25000.0,
        400.0,
        90.0,
        0.0,
        callsign,
        ident,
        None,
        "sbs",
        "coalition",
    )
    return to_bytes(track_event(record, CotOptions(own_party="coalition")))


def test_tak_decoder_reads_a_protobuf_stream_split_anywhere() -> None:
    frames = b"".join(to_proto(_xml("4CA2D6", k), stream=True) for k in range(6))
    decoder = TakDecoder("tcp")
    got = []
    for k in range(0, len(frames), 7):  # frames and varints split across reads
        got += decoder.feed(frames[k : k + 7])
    decoder.reset_stream()
    assert [r.t_s for r in got] == [1513159200.0 + k for k in range(6)]
    assert decoder.stats.accepted == 6 and decoder.stats.rejected_total == 0


def test_tak_decoder_xml_stream_with_0xbf_in_text_stays_xml() -> None:
    # Cyrillic "п" is D0 BF in UTF-8: an XML stream holds 0xBF bytes, yet its first
    # byte is "<", so the connection is XML throughout.
    data = _xml("4CA2D7", 0, "пилот1") + _xml("4CA2D7", 1, "пилот1")
    assert b"\xbf" in data
    decoder = TakDecoder("tcp")
    got = decoder.feed(data)
    decoder.reset_stream()
    assert len(got) == 2 and got[0].callsign == "пилот1"
    assert decoder.stats.rejected_total == 0


def test_tak_decoder_skips_garbage_between_frames_and_refuses_huge_lengths() -> None:
    good = to_proto(_xml("4CA2D6", 0), stream=True)
    later = to_proto(_xml("4CA2D6", 1), stream=True)
    huge = b"\xbf\xff\xff\xff\x7f"  # a 268 MB frame: refused, never buffered
    bad = b"\xbf\x05hello"  # a frame that is not a TAK message
    decoder = TakDecoder("tcp")
    got = decoder.feed(good + b"garbage" + huge + bad + later)
    decoder.reset_stream()
    assert [r.t_s for r in got] == [1513159200.0, 1513159201.0]
    assert decoder.stats.accepted == 2
    assert decoder.stats.rejected_total >= 3
    assert set(decoder.stats.rejected) == {"malformed protobuf"}


def test_tak_decoder_counts_a_frame_cut_by_the_end_of_the_stream() -> None:
    frame = to_proto(_xml("4CA2D6", 0), stream=True)
    decoder = TakDecoder("tcp")
    assert decoder.feed(frame[:-3]) == []
    decoder.reset_stream()
    assert decoder.stats.rejected_total == 1


def test_tak_decoder_datagrams_mesh_and_xml() -> None:
    decoder = TakDecoder("udp")
    mesh = to_proto(_xml("4CA2D6", 0))
    assert mesh.startswith(MESH_HEADER)
    got = decoder.feed_datagram(mesh) + decoder.feed_datagram(_xml("4CA2D6", 1))
    got += decoder.feed_datagram(MESH_HEADER + bytes(random.Random(5).randbytes(200)))
    assert [r.t_s for r in got] == [1513159200.0, 1513159201.0]
    assert decoder.stats.rejected_total == 1
