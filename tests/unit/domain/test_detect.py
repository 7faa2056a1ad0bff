"""Tests of deconfliction.domain.detect."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.domain.alerting import default_alert_levels
from deconfliction.domain.detect import PairConflicts, detect_conflicts, evaluate_pairs
from deconfliction.domain.model import (
    AircraftStates,
    AlertLevel,
    Conflicts,
    DetectionSettings,
    SeparationMinima,
)
from deconfliction.errors import GeometryError, PolarRegionError
from tests.scenarios import AT_THE_MINIMA, CATALOGUE, Encounter, Plane, place

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


PLACES = [(35.0, 39.0), (-10.0, 180.0), (89.0, -120.0)]
"""Where the encounters at the minima are placed: mid-latitude, across the
antimeridian, near a pole."""


def _abeam(offset_nm: float, b_alt_ft: float = 25000.0) -> AircraftStates:
    """Two aircraft passing abeam now, ``offset_nm`` apart: the closest point of
    approach is now, at that distance."""
    return place(
        [
            Plane("A", 0, 0, 25000, 0, 450),
            Plane("B", offset_nm, 0, b_alt_ft, 0, -450),
        ]
    )


def _levels(states: AircraftStates) -> list[AlertLevel]:
    settings_ = DetectionSettings(STANDARD.minima, 300.0, default_alert_levels())
    return [AlertLevel(int(v)) for v in detect_conflicts(states, settings_).level]


class TestAtTheThreshold:
    """Exactly at a minimum or threshold is separated; just inside is not."""

    @pytest.mark.parametrize("where", PLACES, ids=str)
    @pytest.mark.parametrize("enc", AT_THE_MINIMA, ids=lambda e: e.name)
    def test_at_the_minima_is_no_conflict(
        self, enc: Encounter, where: tuple[float, float]
    ) -> None:
        states = place(enc.planes, *where)
        assert len(detect_conflicts(states, STANDARD)) == 0
        s = DetectionSettings(STANDARD.minima, 300.0, default_alert_levels())
        assert len(evaluate_pairs(states, s, np.array([0]), np.array([1]))) == 0

    def test_fl360_fl370_head_on(self) -> None:
        # The report of issue 13: dalt_ft_at_cpa 1000.0 was a conflict.
        states = AircraftStates.from_columns(
            ["A", "B"], [35.0, 35.0], [38.0, 38.5], [36000, 37000], [450] * 2,
            [90, 270], [0, 0],
        )  # fmt: skip
        assert len(detect_conflicts(states, STANDARD)) == 0

    @pytest.mark.parametrize(
        ("a_alt_ft", "b_alt_ft", "apart_nm"),
        [(36000.0, 36999.9, 0.0), (25000.0, 25000.0, 4.9999)],
    )
    def test_just_inside_is_a_conflict(
        self, a_alt_ft: float, b_alt_ft: float, apart_nm: float
    ) -> None:
        states = place(
            [
                Plane("A", 0, 0, a_alt_ft, 0, 450),
                Plane("B", apart_nm, 0, b_alt_ft, 0, 450),
            ]
        )
        found = detect_conflicts(states, STANDARD)
        assert len(found) == 1 and float(found.tin_s[0]) == 0.0

    def test_dcpa_is_geodesic(self) -> None:
        # The pair's distance is measured as a chord (0.8 mm shorter at 5 NM) and
        # reported as the geodesic.
        found = detect_conflicts(_abeam(4.9), STANDARD)
        assert float(found.dcpa_nm[0]) == pytest.approx(4.9, abs=1e-7)

    @pytest.mark.parametrize("minimum_nm", [5.0, 20.0, 50.0])
    def test_at_larger_minima(self, minimum_nm: float) -> None:
        # Chords fall short of the geodesic by s^3 / 24 R^2 (52 mm at 20 NM): the
        # minimum is compared as a chord too.
        s = DetectionSettings(SeparationMinima(minimum_nm, 1000.0), 300.0)
        at = place(
            [Plane("A", 0, 0, 25000, 0, 450), Plane("B", minimum_nm, 0, 25000, 0, 450)]
        )
        assert len(detect_conflicts(at, s)) == 0
        inside = place(
            [
                Plane("A", 0, 0, 25000, 0, 450),
                Plane("B", minimum_nm - 1e-4, 0, 25000, 0, 450),
            ]
        )
        assert len(detect_conflicts(inside, s)) == 1

    def test_dmod_exactly(self) -> None:
        # FL250 band: advisory DMOD 1.30 NM, warning DMOD 1.10 NM; 5 NM is lost now.
        assert _levels(_abeam(1.3)) == [AlertLevel.CONFLICT]
        assert _levels(_abeam(1.2999)) == [AlertLevel.ADVISORY]
        assert _levels(_abeam(1.1)) == [AlertLevel.ADVISORY]
        assert _levels(_abeam(1.0999)) == [AlertLevel.WARNING]

    def test_zthr_exactly(self) -> None:
        # FL250 band: advisory ZTHR 850 ft, warning ZTHR 700 ft.
        assert _levels(_abeam(0.5, 25850.0)) == [AlertLevel.CONFLICT]
        assert _levels(_abeam(0.5, 25849.0)) == [AlertLevel.ADVISORY]
        assert _levels(_abeam(0.5, 25700.0)) == [AlertLevel.ADVISORY]
        assert _levels(_abeam(0.5, 25699.0)) == [AlertLevel.WARNING]

    @pytest.mark.parametrize(("b_alt_ft", "level"), [
        (9250.0, AlertLevel.CONFLICT), (9240.0, AlertLevel.ADVISORY),
    ])  # fmt: skip
    def test_tau_exactly(self, b_alt_ft: float, level: AlertLevel) -> None:
        # Band 5,000-10,000 ft: advisory tau 40 s, ZTHR 850 ft. Together
        # horizontally; B descends at 600 fpm from 1,250 ft above A: 850 ft apart
        # exactly at 40 s (1,000 ft at 25 s: a conflict). From 1,240 ft, at 39 s.
        states = place(
            [
                Plane("A", 0, 0, 8000, 0, 300),
                Plane("B", 0, 0, b_alt_ft, 0, 300, vs_fpm=-600),
            ]
        )
        assert _levels(states) == [level]

    def test_band_floor_is_inclusive(self) -> None:
        # The band is chosen by the higher aircraft: at exactly 10,000 ft the
        # 10,000-20,000 ft band applies (advisory DMOD 1.0 NM, below: 0.75 NM).
        def abeam_at(b_alt_ft: float) -> AircraftStates:
            return place(
                [
                    Plane("A", 0, 0, 9500, 0, 300),
                    Plane("B", 0.9, 0, b_alt_ft, 0, -300),
                ]
            )

        assert _levels(abeam_at(10000.0)) == [AlertLevel.ADVISORY]
        assert _levels(abeam_at(9999.0)) == [AlertLevel.CONFLICT]


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


def _kd_tree_conflicts(states: AircraftStates, s: DetectionSettings) -> PairConflicts:
    """The conflicts as found before #20.2: scipy's KD-tree per time slice (the
    4-D ball of sqrt(2) times the reach) as the broad phase, then the exact test."""
    from scipy.spatial import cKDTree

    from deconfliction.domain import broadphase
    from deconfliction.domain.detect import _kinematics

    kin = _kinematics(states)
    h_m = s.minima.horizontal_nm * 1852.0
    v_m = s.minima.vertical_ft * 0.3048
    dt_s = s.lookahead_s / 10
    reach_h = (
        h_m + float(np.max(np.linalg.norm(kin.vel_mps, axis=1))) * dt_s
    ) * broadphase.TANGENT_MARGIN
    reach_v = v_m + float(np.max(np.abs(kin.vs_mps))) * dt_s
    keys: set[tuple[int, int]] = set()
    for k in range(10):
        t = (k + 0.5) * dt_s
        pts = np.column_stack(
            [
                kin.pos_m + kin.vel_mps * t,
                (kin.alt_m + kin.vs_mps * t) * reach_h / reach_v,
            ]
        )
        keys |= set(cKDTree(pts).query_pairs(reach_h * np.sqrt(2.0)))
    i, j = (np.array(v, dtype=np.int64) for v in zip(*sorted(keys), strict=True))
    if s.cross_party_only:
        other = states.party[i] != states.party[j]
        i, j = i[other], j[other]
    return evaluate_pairs(states, s, i, j)


class TestSameAsTheKdTree:
    """The numpy grid broad phase (#20.2) finds the same conflicts, with the same
    figures to the last bit, as the KD-tree it replaced."""

    @pytest.mark.parametrize(("seed", "cross_party_only"), [(4, False), (5, True)])
    def test_same_conflicts_and_figures(
        self, seed: int, cross_party_only: bool
    ) -> None:
        states = _random_states(seed, 3000, box_deg=2.0)
        s = DetectionSettings(
            SeparationMinima(5.0, 1000.0),
            300.0,
            default_alert_levels(),
            cross_party_only,
        )
        ours = detect_conflicts(states, s)
        ref = _kd_tree_conflicts(states, s)
        assert len(ours) > 100
        got = {
            (int(a), int(b)): k
            for k, (a, b) in enumerate(zip(ours.a_index, ours.b_index, strict=True))
        }
        want = {
            (int(min(a, b)), int(max(a, b))): k
            for k, (a, b) in enumerate(zip(ref.i, ref.j, strict=True))
        }
        assert {tuple(sorted(p)) for p in got} == set(want)
        for pair, k in got.items():
            r = want[tuple(sorted(pair))]
            for name in ("tcpa_s", "dcpa_nm", "dalt_ft_at_cpa", "tin_s", "tout_s"):
                assert getattr(ours, name)[k] == getattr(ref, name)[r], (pair, name)
            assert ours.level[k] == ref.level[r]


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
