"""A line's reach is the protocol's business (#21.10): aircraft about 1,000 km from
the Euphrates line opened line-violation incidents (every line reached 2,000 km).
A line's sides reach its buffer plus 150 NM unless the protocol's ``reach_nm`` says
otherwise; live detection on both backends, each run a ``LiveDetection`` as a
server process has one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deconfliction.adapters.protocol_file import parse_protocol
from deconfliction.domain import geodesy
from deconfliction.domain.conformance import PositionStream, detect_violations
from deconfliction.domain.protocol import DeconflictionLine, LineSide
from deconfliction.errors import ProtocolError
from deconfliction.service import protocols
from tests.integration.helpers import protocol_text
from tests.reliability._store import COALITION, HAMA, INTERVAL_S, RUSSIA, Store, at

# Hama is about 80 NM west of the line (across it for the coalition, which keeps
# east): within the default reach (10 NM buffer + 150 NM). Further on, due west
# of Hama, is the Mediterranean, about 540 NM (1,000 km) from the line.
FAR_WEST_NM = 460.0
FAR_WEST = tuple(float(v) for v in geodesy.destination(*HAMA, 200.0, FAR_WEST_NM))


def _with_reach(version: int, reach_nm: float) -> str:
    text = protocol_text(version)
    assert "buffer_nm = 10\n" in text
    return text.replace("buffer_nm = 10\n", f"buffer_nm = 10\nreach_nm = {reach_nm}\n")


def _line_violations(store: Store) -> list[str]:
    return sorted(i.aircraft_id for i in store.incidents_of("line_violation"))


def _distance_to_line_nm() -> float:
    """How far FAR_WEST is across the line: the depth the domain reports when the
    line reaches that far."""
    protocol = parse_protocol(_with_reach(1, 1000.0))
    t = 0.0
    stream = PositionStream.from_columns(
        ["X"], ["coalition"], [t], [FAR_WEST[0]], [FAR_WEST[1]], [20000.0]
    )
    [violation] = detect_violations(protocol, stream)
    return float(violation.depth_across_line_nm)


def test_a_line_reaches_its_buffer_plus_150_nm_unless_the_protocol_says(
    store: Store,
) -> None:
    depth_nm = _distance_to_line_nm()
    assert 500.0 < depth_nm < 600.0  # about 1,000 km across, alongside the line
    live = store.run()
    live.tick()
    t = store.clock.t_s
    store.post(at("coalition", "NEAR1", t, HAMA), at("coalition", "FAR1", t, FAR_WEST))
    store.clock.advance(INTERVAL_S)
    live.tick()
    assert _line_violations(store) == ["NEAR1"]  # FAR1 is out of the line's reach

    # The parties agree the line reaches 600 NM: FAR1 is across it now.
    with store.engine.begin() as conn:
        protocols.propose(conn, COALITION, _with_reach(2, 600.0), store.clock.t_s)
        protocols.accept(conn, RUSSIA, "euphrates-2017", 2, store.clock.t_s)
    t = store.clock.t_s
    store.post(at("coalition", "FAR2", t, FAR_WEST))
    store.clock.advance(INTERVAL_S)
    live.tick()
    assert "FAR2" in _line_violations(store)


def test_exactly_at_the_reach_is_within_it() -> None:
    # A line along a meridian: the projection centred on it measures distances
    # due east of its middle exactly.
    line = DeconflictionLine(
        "l",
        "l",
        (34.0, 36.0),
        (40.0, 40.0),
        10.0,
        {"coalition": LineSide.LEFT},
        {},
        reach_nm=50.0,
    )
    protocol = replace(parse_protocol(protocol_text(1)), lines=(line,), zones=())
    middle = geodesy.LocalProjection.around((34.0, 36.0), (40.0, 40.0))
    places = {
        name: geodesy.destination(middle.center_lat_deg, 40.0, 90.0, nm)
        for name, nm in (("at", 50.0), ("in", 49.99), ("out", 50.0 + 0.1 / 1852))
    }
    stream = PositionStream.from_columns(
        list(places),
        ["coalition"] * 3,
        [0.0] * 3,
        [float(p[0]) for p in places.values()],
        [float(p[1]) for p in places.values()],
        [20000.0] * 3,
    )
    assert sorted(v.aircraft_id for v in detect_violations(protocol, stream)) == [
        "at",
        "in",
    ]


@pytest.mark.parametrize(
    ("reach", "message"),
    [
        ("10", "must be greater than the line's buffer_nm (10), got 10"),
        ("1000.5", "must be at most 1000 NM (one theatre), got 1000.5"),
        ('"far"', "expected a number"),
    ],
)
def test_a_reach_out_of_bounds_is_a_located_error(reach: str, message: str) -> None:
    text = protocol_text(1).replace(
        "buffer_nm = 10\n", f"buffer_nm = 10\nreach_nm = {reach}\n"
    )
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "p.toml")
    assert "lines[0].reach_nm" in str(caught.value)
    assert message in str(caught.value)
