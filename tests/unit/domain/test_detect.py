"""Tests of deconfliction.domain.detect."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.domain.alerting import default_alert_levels
from deconfliction.domain.detect import detect_conflicts, evaluate_pairs
from deconfliction.domain.model import (
    AircraftStates,
    AlertLevel,
    Conflicts,
    DetectionSettings,
    SeparationMinima,
)
from deconfliction.errors import GeometryError, PolarRegionError
from tests.scenarios import CATALOGUE, Encounter, Plane, place

STANDARD = DetectionSettings(SeparationMinima(5.0, 1000.0), 300.0)


def _only(conflicts: Conflicts) -> dict[str, float]:
    assert len(conflicts) == 1
    return {
        "tcpa_s": float(conflicts.tcpa_s[0]),
        "dcpa_nm": float(conflicts.dcpa_nm[0]),
        "dalt_ft_at_cpa": float(conflicts.dalt_ft_at_cpa[0]),
        "tin_s": float(conflicts.tin_s[0]),
        "tout_s": float(conflicts.tout_s[0]),
    }


def _check(enc: Encounter, states: AircraftStates) -> None:
    found = detect_conflicts(states, STANDARD)
    if enc.expected is None:
        assert len(found) == 0
        return
    got = _only(found)
    exp = enc.expected
    # Ellipsoid versus the flat local frame the catalogue is written in: agreement to
    # 0.2 s and 0.01 NM over encounters 40 NM across.
    assert got["tcpa_s"] == pytest.approx(exp.tcpa_s, abs=0.2)
    assert got["dcpa_nm"] == pytest.approx(exp.dcpa_nm, abs=0.01)
    assert got["dalt_ft_at_cpa"] == pytest.approx(exp.dalt_ft_at_cpa, abs=1.0)
    assert got["tin_s"] == pytest.approx(exp.tin_s, abs=0.2)
    assert got["tout_s"] == pytest.approx(exp.tout_s, abs=0.2)


class TestDetectConflicts:
    @pytest.mark.parametrize("enc", CATALOGUE, ids=lambda e: e.name)
    def test_catalogue(self, enc: Encounter) -> None:
        _check(enc, place(enc.planes))

    @pytest.mark.parametrize("enc", CATALOGUE, ids=lambda e: e.name)
    def test_catalogue_across_the_antimeridian(self, enc: Encounter) -> None:
        _check(enc, place(enc.planes, center_lat_deg=-10.0, center_lon_deg=180.0))

    @pytest.mark.parametrize("enc", CATALOGUE, ids=lambda e: e.name)
    def test_catalogue_near_a_pole(self, enc: Encounter) -> None:
        # 89.0 deg: 60 NM from the pole, the encounters stay below MAX_ABS_LAT_DEG.
        _check(enc, place(enc.planes, center_lat_deg=89.0, center_lon_deg=-120.0))

    def test_refuses_positions_at_a_pole(self) -> None:
        states = AircraftStates.from_columns(
            ["A", "B"], [89.95, 89.0], [0, 0], [1e4, 1e4], [400, 400], [0, 0], [0, 0]
        )
        with pytest.raises(PolarRegionError) as err:
            detect_conflicts(states, STANDARD)
        assert err.value.lat_deg == 89.95
        assert isinstance(err.value, GeometryError)
        assert isinstance(err.value, ValueError)

    def test_empty_and_single(self) -> None:
        empty = AircraftStates.from_columns([], [], [], [], [], [], [])
        assert len(detect_conflicts(empty, STANDARD)) == 0
        one = place([Plane("A", 0, 0, 20000, 400, 0)])
        assert len(detect_conflicts(one, STANDARD)) == 0

    def test_same_party_skipped_unless_all_pairs(self) -> None:
        planes = CATALOGUE[0].planes
        states = place(
            [
                Plane(
                    p.id,
                    p.east_nm,
                    p.north_nm,
                    p.alt_ft,
                    p.ve_kt,
                    p.vn_kt,
                    party="blue",
                )
                for p in planes
            ]
        )
        assert len(detect_conflicts(states, STANDARD)) == 0
        all_pairs = DetectionSettings(STANDARD.minima, 300.0, cross_party_only=False)
        assert len(detect_conflicts(states, all_pairs)) == 1

    def test_ids_ordered_and_sorted(self) -> None:
        planes = [
            Plane("Z", -20, 0, 25000, 480, 0),
            Plane("M", 20, 0, 25000, -480, 0),
            Plane("C", 20, 1, 25000, -480, 0),
        ]
        states = place(planes)
        found = detect_conflicts(states, STANDARD)
        pairs = [
            (states.ids[a], states.ids[b])
            for a, b in zip(found.a_index, found.b_index, strict=True)
        ]
        assert pairs == [("C", "M"), ("C", "Z"), ("M", "Z")]

    @pytest.mark.parametrize(
        ("tcpa_s", "level"),
        [
            (150.0, AlertLevel.CONFLICT),
            (50.0, AlertLevel.ADVISORY),
            (30.0, AlertLevel.WARNING),
        ],
    )
    def test_alert_levels_head_on_at_fl250(
        self, tcpa_s: float, level: AlertLevel
    ) -> None:
        # Closure 960 kt; band 20,000-42,000 ft: advisory tau 48 s, DMOD 1.3 NM (loss
        # begins 4.9 s before CPA), warning tau 35 s, DMOD 1.1 NM (4.1 s before).
        half_nm = 960 * tcpa_s / 3600 / 2
        states = place(
            [
                Plane("A", -half_nm, 0, 25000, 480, 0),
                Plane("B", half_nm, 0, 25000, -480, 0),
            ]
        )
        settings_ = DetectionSettings(STANDARD.minima, 300.0, default_alert_levels())
        found = detect_conflicts(states, settings_)
        assert [AlertLevel(int(v)) for v in found.level] == [level]

    def test_alert_vertical_threshold(self) -> None:
        # Same head-on at tcpa 30 s but 800 ft apart: within the advisory ZTHR
        # (850 ft), outside the warning ZTHR (700 ft).
        states = place(
            [
                Plane("A", -4, 0, 25000, 480, 0),
                Plane("B", 4, 0, 25800, -480, 0),
            ]
        )
        settings_ = DetectionSettings(STANDARD.minima, 300.0, default_alert_levels())
        assert AlertLevel(int(detect_conflicts(states, settings_).level[0])) is (
            AlertLevel.ADVISORY
        )


def _random_states(seed: int, n: int, box_deg: float = 1.0) -> AircraftStates:
    rng = np.random.default_rng(seed)
    return AircraftStates.from_columns(
        [f"AC{k:04d}" for k in range(n)],
        rng.uniform(35.0, 35.0 + box_deg, n),
        rng.uniform(38.0, 38.0 + box_deg, n),
        rng.uniform(20000, 26000, n),
        rng.uniform(0, 550, n),
        rng.uniform(0, 360, n),
        np.where(rng.random(n) < 0.6, 0.0, rng.uniform(-3000, 3000, n)),
        party=rng.choice(["x", "y", "z"], n),
    )


def _brute_force_pairs(
    states: AircraftStates, s: DetectionSettings
) -> set[tuple[str, str]]:
    """Every pair checked exactly, without the broadphase."""
    n = len(states)
    i, j = (
        np.array(v, dtype=np.int64)
        for v in zip(*itertools.combinations(range(n), 2), strict=True)
    )
    other = states.party[i] != states.party[j]
    found = evaluate_pairs(states, s, i[other], j[other])
    return {
        tuple(sorted((str(states.ids[a]), str(states.ids[b]))))
        for a, b in zip(found.i, found.j, strict=True)
    }


def _pairs(states: AircraftStates, found: Conflicts) -> set[tuple[str, str]]:
    return {
        (str(states.ids[a]), str(states.ids[b]))
        for a, b in zip(found.a_index, found.b_index, strict=True)
    }


class TestDetectProperties:
    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_broadphase_loses_no_pair(self, seed: int) -> None:
        states = _random_states(seed, 400)
        found = detect_conflicts(states, STANDARD)
        assert len(found) > 10
        assert _pairs(states, found) == _brute_force_pairs(states, STANDARD)

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
    def test_order_of_aircraft_does_not_matter(self, seed: int, perm_seed: int) -> None:
        states = _random_states(seed, 60, box_deg=0.5)
        perm = np.random.default_rng(perm_seed).permutation(len(states))
        a = detect_conflicts(states, STANDARD)
        shuffled = states.take(perm)
        b = detect_conflicts(shuffled, STANDARD)
        assert _pairs(states, a) == _pairs(shuffled, b)
        np.testing.assert_allclose(a.tcpa_s, b.tcpa_s, atol=1e-6)
        np.testing.assert_allclose(a.dcpa_nm, b.dcpa_nm, atol=1e-9)
        np.testing.assert_allclose(a.tin_s, b.tin_s, atol=1e-6)

    @settings(max_examples=40, deadline=None)
    @given(seed=st.integers(0, 10_000))
    def test_outputs_within_bounds(self, seed: int) -> None:
        states = _random_states(seed, 80, box_deg=0.5)
        found = detect_conflicts(states, STANDARD)
        assert np.all(found.tcpa_s >= 0) and np.all(found.tcpa_s <= 300)
        assert np.all(found.tin_s >= 0) and np.all(found.tin_s <= found.tout_s)
        assert np.all(found.tout_s <= 300)
        assert np.all(found.dcpa_nm >= 0)

    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 10_000))
    def test_monotonic_in_minima(self, seed: int) -> None:
        states = _random_states(seed, 80, box_deg=0.5)
        small = _pairs(states, detect_conflicts(states, STANDARD))
        bigger = DetectionSettings(SeparationMinima(7.0, 1500.0), 300.0)
        large = _pairs(states, detect_conflicts(states, bigger))
        longer = DetectionSettings(SeparationMinima(5.0, 1000.0), 400.0)
        assert small <= large
        assert small <= _pairs(states, detect_conflicts(states, longer))

    @settings(max_examples=25, deadline=None)
    @given(
        enc=st.sampled_from([e for e in CATALOGUE if e.expected is not None]),
        lat=st.floats(-60, 60),
        lon=st.floats(-180, 180),
        rotation=st.floats(0, 360),
    )
    def test_invariant_under_translation_and_rotation(
        self, enc: Encounter, lat: float, lon: float, rotation: float
    ) -> None:
        base = _only(detect_conflicts(place(enc.planes), STANDARD))
        moved = _only(
            detect_conflicts(
                place(enc.planes, lat, lon, rotation_deg=rotation), STANDARD
            )
        )
        for key in ("tcpa_s", "tin_s", "tout_s"):
            assert moved[key] == pytest.approx(base[key], abs=0.3)
        assert moved["dcpa_nm"] == pytest.approx(base["dcpa_nm"], abs=0.02)
        assert moved["dalt_ft_at_cpa"] == pytest.approx(base["dalt_ft_at_cpa"], abs=1)

    def test_swapping_a_pair_changes_nothing(self) -> None:
        enc = CATALOGUE[1]
        forward = place(enc.planes)
        backward = place(tuple(reversed(enc.planes)))
        assert _only(detect_conflicts(forward, STANDARD)) == pytest.approx(
            _only(detect_conflicts(backward, STANDARD))
        )


class TestEvaluatePairs:
    def test_same_figures_as_detect_conflicts(self) -> None:
        states = _random_states(7, 300)
        s = DetectionSettings(STANDARD.minima, 300.0, default_alert_levels())
        full = detect_conflicts(states, s)
        assert len(full) > 0
        # The found pairs in reverse order, mixed with pairs that are not conflicts.
        rng = np.random.default_rng(1)
        extra_i = rng.integers(0, 150, 200)
        extra_j = rng.integers(150, 300, 200)
        i = np.r_[full.b_index[::-1], extra_i]
        j = np.r_[full.a_index[::-1], extra_j]
        found = evaluate_pairs(states, s, i, j)
        by_pair = {
            (int(a), int(b)): k
            for k, (a, b) in enumerate(zip(found.i, found.j, strict=True))
        }
        for k, (a, b) in enumerate(zip(full.a_index, full.b_index, strict=True)):
            m = by_pair[(int(b), int(a))]
            assert found.tcpa_s[m] == full.tcpa_s[k]
            assert found.dcpa_nm[m] == full.dcpa_nm[k]
            assert found.dalt_ft_at_cpa[m] == full.dalt_ft_at_cpa[k]
            assert found.tin_s[m] == full.tin_s[k]
            assert found.tout_s[m] == full.tout_s[k]
            assert found.level[m] == full.level[k]
        # Order kept: the reversed conflicts come first, as given.
        assert list(found.i[: len(full)]) == list(full.b_index[::-1])
        found_pairs = {(int(a), int(b)) for a, b in zip(found.i, found.j, strict=True)}
        assert len(found_pairs) == len(found)

    def test_only_the_named_aircraft_are_converted(self) -> None:
        states = AircraftStates.from_columns(
            ["A", "B", "POLE"],
            [35.0, 35.0, 89.99],
            [38.0, 38.5, 0.0],
            [20000, 20000, 20000],
            [400, 400, 400],
            [90, 270, 0],
            [0, 0, 0],
        )
        s = DetectionSettings(STANDARD.minima, 300.0)
        found = evaluate_pairs(states, s, np.array([0]), np.array([1]))
        assert len(found) == 1 and round(float(found.tcpa_s[0]), 1) == 110.9
        with pytest.raises(PolarRegionError):
            evaluate_pairs(states, s, np.array([0]), np.array([2]))

    def test_no_pairs(self) -> None:
        states = _random_states(3, 5)
        s = DetectionSettings(STANDARD.minima, 300.0)
        empty = np.zeros(0, dtype=np.int64)
        assert len(evaluate_pairs(states, s, empty, empty)) == 0
