"""The blind formulas in the clear against ordinary detection.

Blind detection must find the pairs ``detect_conflicts`` finds, except pairs on a
threshold within the precision: a pair found by one side only must be found with
the minima widened by the tolerance and missed with them narrowed by it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.blind.config import parse_blind_config
from deconfliction.blind.parameters import BlindPlan, make_plan
from deconfliction.blind.reference import reference_conflicts
from deconfliction.domain import geodesy
from deconfliction.domain.detect import detect_conflicts
from deconfliction.domain.model import (
    AircraftStates,
    DetectionSettings,
    SeparationMinima,
)
from deconfliction.units import M_PER_NM
from tests.scenarios import AT_THE_MINIMA, CATALOGUE, Plane, place
from tests.unit.blind.conftest import CONFIG_TEXT

FLAT_ERROR_NM: float = 0.01
"""The common frame against detect's per-pair tangent plane, at the threshold and
up to 300 NM from the reference (measured in TestFlatFrame)."""


def tolerance(plan: BlindPlan) -> tuple[float, float]:
    """(NM, ft) within which blind and ordinary detection may disagree."""
    q_nm = plan.horizontal_quantum_m / M_PER_NM
    # Each coordinate of each aircraft's position and displacement rounds by half a
    # quantum: the relative position at any time is off by at most 2 sqrt(2) q.
    return 2 * math.sqrt(2) * q_nm + FLAT_ERROR_NM, 2 * plan.vertical_quantum_ft


def detect_pairs(
    states: AircraftStates, plan: BlindPlan, widen: float = 0.0
) -> set[tuple[str, str]]:
    dh_nm, dv_ft = tolerance(plan)
    settings_ = DetectionSettings(
        SeparationMinima(
            plan.horizontal_nm + widen * dh_nm, plan.vertical_ft + widen * dv_ft
        ),
        plan.lookahead_s,
    )
    found = detect_conflicts(states, settings_)
    return {
        (str(states.ids[i]), str(states.ids[j]))
        if states.party[i] == plan.parties[0]
        else (str(states.ids[j]), str(states.ids[i]))
        for i, j in zip(found.a_index, found.b_index, strict=True)
    }


def assert_same_answers(
    states: AircraftStates, plan: BlindPlan, blind: set[tuple[str, str]]
) -> None:
    ordinary = detect_pairs(states, plan)
    wide = detect_pairs(states, plan, +1.0)
    narrow = detect_pairs(states, plan, -1.0)
    for pair in blind ^ ordinary:
        assert pair in wide and pair not in narrow, (
            f"{pair}: blind {'finds' if pair in blind else 'misses'} it, "
            "and it is not on a threshold within the precision"
        )


def two_party(
    planes: tuple[Plane, ...], plan: BlindPlan, **where: float
) -> AircraftStates:
    parties = plan.parties
    named = [
        dataclasses.replace(p, party=parties[0] if p.id == "A" else parties[1])
        for p in planes
    ]
    return place(named, **where)


def random_traffic(
    seed: int,
    n: int,
    plan: BlindPlan,
    spread_nm: float = 25.0,
    centre_nm: float = 200.0,
) -> AircraftStates:
    rng = np.random.default_rng(seed)
    clat, clon = geodesy.destination(
        plan.reference_lat_deg,
        plan.reference_lon_deg,
        rng.uniform(0, 360),
        rng.uniform(0, centre_nm),
    )
    lat, lon = geodesy.destination(
        np.full(2 * n, float(clat)),
        np.full(2 * n, float(clon)),
        rng.uniform(0, 360, 2 * n),
        spread_nm * np.sqrt(rng.uniform(0, 1, 2 * n)),
    )
    return AircraftStates.from_columns(
        [f"A{k}" for k in range(n)] + [f"B{k}" for k in range(n)],
        lat,
        lon,
        rng.uniform(20000, 23000, 2 * n),
        rng.uniform(0, 600, 2 * n),
        rng.uniform(0, 360, 2 * n),
        rng.choice([0.0, 0.0, 1500.0, -2500.0, 400.0], 2 * n)
        * rng.uniform(0.5, 1.5, 2 * n),
        party=[plan.parties[0]] * n + [plan.parties[1]] * n,
    )


@pytest.fixture
def wide_plan() -> BlindPlan:
    return make_plan(
        parse_blind_config(
            CONFIG_TEXT.replace("max_aircraft = 8", "max_aircraft = 120")
        ),
        None,
    )


class TestReferenceConflicts:
    @pytest.mark.parametrize("encounter", CATALOGUE, ids=lambda e: e.name)
    @pytest.mark.parametrize(
        ("bearing_deg", "distance_nm", "rotation_deg"),
        [(0, 0, 0), (70, 250, 35), (200, 120, 290)],
    )
    def test_catalogue(
        self,
        plan: BlindPlan,
        encounter,
        bearing_deg: float,
        distance_nm: float,
        rotation_deg: float,
    ) -> None:  # type: ignore[no-untyped-def]
        lat, lon = geodesy.destination(
            plan.reference_lat_deg, plan.reference_lon_deg, bearing_deg, distance_nm
        )
        states = two_party(
            encounter.planes,
            plan,
            center_lat_deg=float(lat),
            center_lon_deg=float(lon),
            rotation_deg=rotation_deg,
        )
        found = reference_conflicts(states, plan)
        assert (len(found) == 1) == (encounter.expected is not None)
        assert_same_answers(states, plan, {(c.a, c.b) for c in found})
        if encounter.expected is not None:
            (conflict,) = found
            dh_nm, _ = tolerance(plan)
            q_nm = plan.horizontal_quantum_m / M_PER_NM  # the output's rounding
            assert conflict.dcpa_nm == pytest.approx(
                encounter.expected.dcpa_nm, abs=dh_nm + q_nm
            )
            assert conflict.tcpa_s == pytest.approx(encounter.expected.tcpa_s, abs=1.0)

    @pytest.mark.parametrize("encounter", AT_THE_MINIMA, ids=lambda e: e.name)
    def test_at_the_minima_at_the_reference(self, plan: BlindPlan, encounter) -> None:  # type: ignore[no-untyped-def]
        # On the frame's axes through the reference, 5 NM is exactly 256 quanta
        # and 1,000 ft exactly 40: the strict integer comparisons say separated,
        # as detect does.
        states = two_party(
            encounter.planes,
            plan,
            center_lat_deg=plan.reference_lat_deg,
            center_lon_deg=plan.reference_lon_deg,
        )
        assert reference_conflicts(states, plan) == []

    @pytest.mark.parametrize(
        ("bearing_deg", "distance_nm", "rotation_deg"),
        [(0, 0, 0), (70, 250, 35), (200, 120, 290)],
    )
    def test_adjacent_flight_levels_anywhere(
        self, plan: BlindPlan, bearing_deg: float, distance_nm: float,
        rotation_deg: float,
    ) -> None:  # fmt: skip
        # Flight levels are multiples of the 25 ft quantum: FL360 and FL370 head-on
        # are exactly 40 quanta apart, never a conflict.
        lat, lon = geodesy.destination(
            plan.reference_lat_deg, plan.reference_lon_deg, bearing_deg, distance_nm
        )
        states = two_party(
            AT_THE_MINIMA[0].planes,
            plan,
            center_lat_deg=float(lat),
            center_lon_deg=float(lon),
            rotation_deg=rotation_deg,
        )
        assert reference_conflicts(states, plan) == []

    @pytest.mark.parametrize("seed", range(4))
    def test_dense_random_traffic(self, wide_plan: BlindPlan, seed: int) -> None:
        states = random_traffic(seed, 100, wide_plan)
        found = reference_conflicts(states, wide_plan)
        blind = {(c.a, c.b) for c in found}
        assert len(blind) > 200  # dense enough to have pairs near every threshold
        assert_same_answers(states, wide_plan, blind)

    def test_figures_match_detect(self, wide_plan: BlindPlan) -> None:
        states = random_traffic(7, 60, wide_plan)
        found = {(c.a, c.b): c for c in reference_conflicts(states, wide_plan)}
        ordinary = detect_conflicts(
            states, DetectionSettings(wide_plan.minima, wide_plan.lookahead_s)
        )
        dh_nm, _ = tolerance(wide_plan)
        checked = 0
        for k in range(len(ordinary)):
            i, j = int(ordinary.a_index[k]), int(ordinary.b_index[k])
            if states.party[i] != wide_plan.parties[0]:
                i, j = j, i
            conflict = found.get((str(states.ids[i]), str(states.ids[j])))
            if conflict is None:
                continue
            checked += 1
            # The separation detect predicts at our time to CPA is its minimum.
            at_ours = _separation_nm(states, i, j, conflict.tcpa_s)
            assert at_ours == pytest.approx(float(ordinary.dcpa_nm[k]), abs=dh_nm)
            # The inputs' rounding, then the output's (half a unit each way).
            q_nm = wide_plan.horizontal_quantum_m / M_PER_NM
            assert conflict.dcpa_nm == pytest.approx(at_ours, abs=dh_nm + q_nm)
        assert checked > 20

    @settings(max_examples=40, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1))
    def test_parties_are_interchangeable(self, seed: int) -> None:
        plan = make_plan(parse_blind_config(CONFIG_TEXT), None)
        states = random_traffic(seed, 6, plan, spread_nm=8.0)
        swapped = dataclasses.replace(
            states,
            party=np.where(
                states.party == plan.parties[0], plan.parties[1], plan.parties[0]
            ),
        )
        forward = {(c.a, c.b) for c in reference_conflicts(states, plan)}
        backward = {(c.b, c.a) for c in reference_conflicts(swapped, plan)}
        assert forward == backward


def _separation_nm(states: AircraftStates, i: int, j: int, t_s: float) -> float:
    positions = []
    for k in (i, j):
        lat, lon = geodesy.destination(
            states.lat_deg[k],
            states.lon_deg[k],
            states.trk_deg[k],
            states.gs_kt[k] * t_s / 3600.0,
        )
        positions.append((float(lat), float(lon)))
    return float(geodesy.geodesic_distance_nm(*positions[0], *positions[1]))


class TestFlatFrame:
    @pytest.mark.parametrize("distance_nm", [0.0, 150.0, 300.0])
    def test_error_at_the_threshold(self, distance_nm: float) -> None:
        """The common frame alone (quanta of 1/4096 of the minimum) at the threshold."""
        text = CONFIG_TEXT.replace(
            "max_aircraft = 8",
            "max_aircraft = 1\nradius_nm = 400\n"
            "horizontal_steps = 4096\nhorizontal_nm = 5.05",
        )
        fine = make_plan(parse_blind_config(text), None)
        rng = np.random.default_rng(int(distance_nm))
        worst_nm = 0.0
        for _ in range(40):
            lat, lon = geodesy.destination(
                fine.reference_lat_deg,
                fine.reference_lon_deg,
                rng.uniform(0, 360),
                distance_nm,
            )
            miss_nm = rng.uniform(4.0, 5.0)
            planes = (
                Plane("A", -40, 0, 25000, 480, 0),
                Plane("B", 40, miss_nm, 25000, -480, 0),
            )
            states = two_party(
                planes,
                fine,
                center_lat_deg=float(lat),
                center_lon_deg=float(lon),
                rotation_deg=rng.uniform(0, 360),
            )
            (conflict,) = reference_conflicts(states, fine)
            ordinary = detect_conflicts(
                states, DetectionSettings(SeparationMinima(5.05, 1000), 300)
            )
            worst_nm = max(worst_nm, abs(conflict.dcpa_nm - float(ordinary.dcpa_nm[0])))
        assert worst_nm < FLAT_ERROR_NM
