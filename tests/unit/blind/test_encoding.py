"""Encoding a party's aircraft in quanta, and its slots."""

from __future__ import annotations

import random

import numpy as np
import pytest

from deconfliction.blind.encoding import (
    COLUMNS,
    REAL,
    VX,
    VY,
    X,
    Y,
    dummy_row,
    encode_states,
    fill_slots,
)
from deconfliction.blind.parameters import BlindPlan
from deconfliction.domain import geodesy
from deconfliction.domain.model import AircraftStates
from deconfliction.errors import StatesError
from deconfliction.units import M_PER_NM, MPS_PER_KT


def _states(n: int, seed: int = 0, radius_nm: float = 250.0) -> AircraftStates:
    rng = np.random.default_rng(seed)
    lat, lon = geodesy.destination(
        np.full(n, 35.0),
        np.full(n, 39.0),
        rng.uniform(0, 360, n),
        rng.uniform(0, radius_nm, n),
    )
    return AircraftStates.from_columns(
        [f"A{k}" for k in range(n)],
        lat,
        lon,
        rng.uniform(0, 60000, n),
        rng.uniform(0, 990, n),
        rng.uniform(0, 360, n),
        rng.uniform(-9000, 9000, n),
    )


class TestEncodeStates:
    def test_positions_round_to_the_quantum(self, plan: BlindPlan) -> None:
        states = _states(8)
        encoded = encode_states(states, plan)
        x_m, y_m = plan.projection.to_xy_m(states.lat_deg, states.lon_deg)
        q_m = plan.horizontal_quantum_m
        assert np.all(np.abs(encoded.values[:, X] * q_m - x_m) <= q_m / 2)
        assert np.all(np.abs(encoded.values[:, Y] * q_m - y_m) <= q_m / 2)
        assert np.all(
            np.abs(encoded.values[:, 4] * plan.vertical_quantum_ft - states.alt_ft)
            <= plan.vertical_quantum_ft / 2
        )

    def test_velocity_is_the_displacement_over_the_lookahead(
        self, plan: BlindPlan
    ) -> None:
        states = _states(8, seed=1)
        encoded = encode_states(states, plan)
        speed_m = np.hypot(encoded.values[:, VX], encoded.values[:, VY]) * (
            plan.horizontal_quantum_m
        )
        expected_m = states.gs_kt * MPS_PER_KT * plan.lookahead_s
        # Rounding (under a quantum) and the frame's scale (under 0.2 % here).
        assert np.all(
            np.abs(speed_m - expected_m)
            <= plan.horizontal_quantum_m + 0.002 * expected_m
        )

    def test_every_bound_is_checked(self, plan: BlindPlan) -> None:
        far_lat, far_lon = geodesy.destination(35.0, 39.0, 45.0, 320.0)
        states = AircraftStates.from_columns(
            ["FAR", "FAST", "HIGH", "STEEP", "OK"],
            [float(far_lat), 35.0, 35.0, 35.0, 35.0],
            [float(far_lon), 39.0, 39.0, 39.0, 39.0],
            [20000, 20000, 70000, 20000, 20000],
            [400, 1200, 400, 400, 400],
            [0, 0, 0, 0, 0],
            [0, 0, 0, -12000, 0],
        )
        with pytest.raises(StatesError) as info:
            encode_states(states, plan, "mine.csv")
        text = str(info.value)
        for ident in ("FAR", "FAST", "HIGH", "STEEP"):
            assert f"aircraft {ident}:" in text
        assert "aircraft OK" not in text
        assert "mine.csv" in text

    def test_too_many_aircraft(self, plan: BlindPlan) -> None:
        with pytest.raises(StatesError, match="more than max_aircraft = 8"):
            encode_states(_states(9), plan)


class TestFillSlots:
    def test_aircraft_among_dummies_in_random_slots(self, plan: BlindPlan) -> None:
        encoded = encode_states(_states(3), plan)
        slots = fill_slots(encoded, plan, random.Random(1))
        assert slots.matrix.shape == (plan.max_aircraft, len(COLUMNS))
        real = [s for s in range(plan.max_aircraft) if slots.aircraft[s] >= 0]
        assert sorted(slots.aircraft[real].tolist()) == [0, 1, 2]
        for s in range(plan.max_aircraft):
            row = slots.matrix[s].tolist()
            if slots.aircraft[s] < 0:
                assert row == dummy_row(plan)
            else:
                assert row[:6] == encoded.values[slots.aircraft[s]].tolist()
                assert row[REAL] == 1
        assert all(isinstance(v, int) for v in slots.matrix.ravel())

    def test_order_changes_with_the_source(self, plan: BlindPlan) -> None:
        encoded = encode_states(_states(3), plan)
        orders = {
            tuple(fill_slots(encoded, plan, random.Random(seed)).aircraft.tolist())
            for seed in range(6)
        }
        assert len(orders) > 1
        assert fill_slots(encoded, plan).aircraft.shape == (plan.max_aircraft,)

    def test_no_aircraft(self, plan: BlindPlan) -> None:
        empty = AircraftStates.from_columns([], [], [], [], [], [], [])
        slots = fill_slots(encode_states(empty, plan), plan)
        assert (slots.aircraft == -1).all()
        assert not any(slots.matrix[:, REAL])


def test_quantum_in_words(plan: BlindPlan) -> None:
    assert plan.horizontal_quantum_m / M_PER_NM == pytest.approx(5 / 256)
