"""Public parameters: the plan, its digest and the bit lengths of the comparisons."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.adapters.protocol_file import resolve_protocol
from deconfliction.blind.circuit import conflict_matrix, cpa_figures
from deconfliction.blind.config import BlindConfig, BlindConfigError, parse_blind_config
from deconfliction.blind.encoding import COLUMNS
from deconfliction.blind.parameters import BlindPlan, Bounds, make_plan
from deconfliction.blind.reference import OperandOutOfRangeError, PlainArithmetic
from tests.unit.blind.conftest import CONFIG_TEXT

PROTOCOL_PEERS = """\
[peers]
coalition = "127.0.0.1:11365"
russia = "127.0.0.1:11366"
helper = "127.0.0.1:11367"
"""


class TestMakePlan:
    def test_defaults_without_protocol(self, plan: BlindPlan) -> None:
        assert (plan.horizontal_nm, plan.vertical_ft, plan.lookahead_s) == (
            5.0,
            1000.0,
            300.0,
        )
        assert plan.participants == ("coalition", "russia", "helper")
        assert plan.index("helper") == 2
        assert plan.horizontal_quantum_m == pytest.approx(5 * 1852 / 256)
        assert plan.vertical_quantum_ft == 25.0

    def test_protocol_gives_minima_and_frame(self) -> None:
        config = parse_blind_config(PROTOCOL_PEERS)
        plan = make_plan(config, resolve_protocol("euphrates-2017"))
        assert plan.protocol == "euphrates-2017@1"
        # The centre of the Euphrates line and the zones: inside Syria.
        assert 33.0 < plan.reference_lat_deg < 37.0
        assert 36.0 < plan.reference_lon_deg < 41.0

    def test_protocol_without_shapes_needs_a_reference(self) -> None:
        config = parse_blind_config(PROTOCOL_PEERS.replace("coalition", "us"))
        with pytest.raises(BlindConfigError, match=r"blind\.reference"):
            make_plan(config, resolve_protocol("syria-2015"))

    def test_parties_must_be_the_protocols(self) -> None:
        config = parse_blind_config(CONFIG_TEXT.replace("coalition", "usa"))
        with pytest.raises(BlindConfigError, match="usa not a party of"):
            make_plan(config, resolve_protocol("euphrates-2017"))

    def test_minima_in_one_place_only(self) -> None:
        text = CONFIG_TEXT.replace(
            "max_aircraft = 8", "max_aircraft = 8\nlookahead_s = 120"
        )
        config = parse_blind_config(text)
        assert make_plan(config, None).lookahead_s == 120.0
        with pytest.raises(BlindConfigError, match="remove it here"):
            make_plan(config, resolve_protocol("euphrates-2017"))

    def test_unknown_participant(self, plan: BlindPlan) -> None:
        with pytest.raises(BlindConfigError, match="'usa' is not a participant"):
            plan.index("usa")


class TestDigest:
    def test_addresses_and_timeouts_do_not_count(self, config: BlindConfig) -> None:
        plan = make_plan(config, None)
        peers = tuple(dataclasses.replace(p, host="10.0.0.9") for p in config.peers)
        other = dataclasses.replace(
            config, peers=peers, connect_timeout_s=5.0, idle_timeout_s=5.0
        )
        assert make_plan(other, None).digest() == plan.digest()

    @pytest.mark.parametrize(
        "change",
        [
            {"max_aircraft": 9},
            {"max_conflicts": 3},
            {"horizontal_steps": 128},
            {"reference_lat_deg": 35.1},
            {"horizontal_nm": 3.0},
        ],
    )
    def test_public_values_count(
        self, config: BlindConfig, change: dict[str, object]
    ) -> None:
        plan = make_plan(config, None)
        other = dataclasses.replace(config, **change)  # type: ignore[arg-type]
        assert make_plan(other, None).digest() != plan.digest()


def _slots(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=object).reshape(-1, len(COLUMNS))


def _corner_rows(b: Bounds, draw: st.DrawFn) -> list[int]:
    def pick(limit: int) -> int:
        corners = st.sampled_from([-limit, -limit + 1, 0, limit - 1, limit])
        return draw(corners | st.integers(-limit, limit))

    def vector(norm: int) -> list[int]:
        first = pick(norm)
        return [first, pick(math.isqrt(norm * norm - first * first))]

    top, bottom = b.altitude_max, b.altitude_min
    return [
        *vector(b.position_max),
        *vector(b.velocity_max),
        draw(st.integers(bottom, top) | st.sampled_from([bottom, top])),
        pick(b.climb_max),
        draw(st.sampled_from([0, 1])),
    ]


class TestBoundsDerive:
    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def test_no_operand_exceeds_its_bits(self, data: st.DataObject) -> None:
        """Extreme slots of both parties: every comparison stays in range."""
        b = make_plan(parse_blind_config(CONFIG_TEXT), None).bounds
        a = _slots([_corner_rows(b, data.draw) for _ in range(3)])
        c = _slots([_corner_rows(b, data.draw) for _ in range(3)])
        ops = PlainArithmetic()
        conflict_matrix(ops, a, c, b)  # raises OperandOutOfRangeError if not
        cpa_figures(ops, a, c, b)

    def test_the_bounds_are_close_to_tight(self, plan: BlindPlan) -> None:
        """The worst corner reaches at least half of each phase-1 range."""
        b = plan.bounds
        p, u, w = b.position_max, b.velocity_max, b.climb_max
        top, bottom = b.altitude_max, b.altitude_min
        a = _slots(
            [
                [-p, 0, -u, 0, top, w, 1],  # the vertical extremes
                [-p, 0, -u, 0, top, -w, 1],  # climbing through the band
                [-p, 0, 1, 1 - u, 0, 0, 1],  # the CPA just ahead, far: the cross
            ]
        )
        c = _slots(
            [
                [p, 0, u, 0, bottom, -w, 1],
                [p, 0, u, 0, bottom, w, 1],
                [p, 0, -1, u - 1, 0, 0, 1],
            ]
        )
        ops = PlainArithmetic()
        conflict_matrix(ops, a, c, b)
        for bits in (b.start_bits, b.end_bits, b.motion_bits, b.separation_bits):
            assert ops.widest[bits] >= 1 << (bits - 3), bits

    def test_an_operand_too_wide_is_caught(self) -> None:
        ops = PlainArithmetic()
        with pytest.raises(OperandOutOfRangeError):
            ops.less_than_zero([(np.array([128], dtype=object), 8)])
        assert ops.less_than_zero([(np.array([-128, 127], dtype=object), 8)])[
            0
        ].tolist() == [1, 0]

    def test_costs_per_pair(self, plan: BlindPlan) -> None:
        b = plan.bounds
        assert (
            b.comparison_bits_per_pair
            == 2 * b.start_bits + 2 * b.end_bits + 2 * b.motion_bits + b.separation_bits
        )
        assert b.secure_bits == max(b.separation_bits, b.rounding_bits, b.clip_bits)
