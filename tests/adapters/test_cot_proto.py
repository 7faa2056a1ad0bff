"""CoT in TAK protobuf (issue 19, item 5): our events to protobuf (mesh and stream)
and back to XML read by CotDecoder with every field; bad bytes give None."""

from __future__ import annotations

import random

import pytest

from deconfliction.adapters.cot import CotDecoder, CotOptions, to_bytes, track_event
from deconfliction.adapters.cot_proto import MESH_HEADER, from_proto, to_proto
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
