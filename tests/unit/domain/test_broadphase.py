"""Tests of deconfliction.domain.broadphase."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from deconfliction.domain.broadphase import _grid_pairs, candidate_pairs


def _cloud(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pos = np.column_stack(
        [rng.uniform(0, 200_000, n), rng.uniform(0, 200_000, n), np.zeros(n)]
    )
    speed = rng.uniform(0, 280, n)
    ang = rng.uniform(0, 2 * np.pi, n)
    vel = np.column_stack([speed * np.sin(ang), speed * np.cos(ang), np.zeros(n)])
    return pos, vel, rng.uniform(5000, 8000, n), rng.uniform(-15, 15, n)


def _exact(pos, vel, alt, vs, h, v, t_max) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Pairs within both minima at some sampled instant (1 s steps)."""
    out = set()
    times = np.arange(0, t_max + 1, 1.0)
    for i, j in itertools.combinations(range(len(pos)), 2):
        d = (pos[j] - pos[i])[None, :] + (vel[j] - vel[i])[None, :] * times[:, None]
        dz = (alt[j] - alt[i]) + (vs[j] - vs[i]) * times
        if np.any((np.linalg.norm(d, axis=1) < h) & (np.abs(dz) < v)):
            out.add((i, j))
    return out


class TestCandidatePairs:
    @pytest.mark.parametrize("seed", [0, 1])
    def test_superset_of_every_true_pair(self, seed: int) -> None:
        pos, vel, alt, vs = _cloud(seed, 150)
        cand = candidate_pairs(pos, vel, alt, vs, 9260.0, 304.8, 300.0)
        got = set(zip(cand.i.tolist(), cand.j.tolist(), strict=True))
        truth = _exact(pos, vel, alt, vs, 9260.0, 304.8, 300.0)
        assert truth, "the cloud should hold some conflicts"
        assert truth <= got
        assert len(got) < 150 * 149 / 2 / 3, "the broadphase should prune most pairs"

    def test_pairs_ordered_and_unique(self) -> None:
        cand = candidate_pairs(*_cloud(3, 100), 9260.0, 304.8, 300.0)
        assert np.all(cand.i < cand.j)
        keys = cand.i * 100 + cand.j
        assert len(np.unique(keys)) == len(keys)
        assert np.all(np.diff(keys) > 0)

    def test_zero_lookahead_checks_the_present(self) -> None:
        pos = np.array([[0.0, 0, 0], [5000.0, 0, 0], [50_000.0, 0, 0]])
        vel = np.array([[0.0, 0, 0], [0.0, 0, 0], [-300.0, 0, 0]])
        cand = candidate_pairs(pos, vel, np.zeros(3), np.zeros(3), 9260.0, 304.8, 0.0)
        assert list(zip(cand.i, cand.j, strict=True)) == [(0, 1)]

    def test_fewer_than_two(self) -> None:
        one = np.zeros((1, 3))
        assert (
            len(candidate_pairs(one, one, np.zeros(1), np.zeros(1), 1.0, 1.0, 10)) == 0
        )

    @pytest.mark.parametrize(
        ("h", "v", "t", "s"), [(0, 1, 1, 1), (1, -1, 1, 1), (1, 1, -1, 1), (1, 1, 1, 0)]
    )
    def test_rejects_bad_arguments(
        self, h: float, v: float, t: float, s: float
    ) -> None:
        z = np.zeros((2, 3))
        with pytest.raises(ValueError, match="candidate_pairs needs"):
            candidate_pairs(z, z, np.zeros(2), np.zeros(2), h, v, t, s)


def _within(points: np.ndarray, reach: float) -> set[tuple[int, int]]:
    """Brute force: pairs within ``reach`` in x, y, z (Euclidean) and in w."""
    d = points[None, :, :] - points[:, None, :]
    near = (np.sum(np.square(d[..., :3]), axis=2) <= reach * reach) & (
        np.abs(d[..., 3]) <= reach
    )
    i, j = np.nonzero(np.triu(near, 1))
    return set(zip(i.tolist(), j.tolist(), strict=True))


def _as_set(i: np.ndarray, j: np.ndarray) -> set[tuple[int, int]]:
    pairs = list(zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "each pair once"
    return set(pairs)


class TestGridPairs:
    """The numpy grid that replaced scipy's KD-tree (#20.2) keeps exactly the pairs
    within reach in x, y, z and in w (the KD-tree's ball held these and more)."""

    @pytest.mark.parametrize(("seed", "spread"), [(0, 5.0), (1, 10.0), (2, 14.0)])
    def test_exactly_the_pairs_within_reach(self, seed: int, spread: float) -> None:
        rng = np.random.default_rng(seed)
        points = rng.uniform(-spread, spread, (500, 4)) * 1000.0 + 6.3e6
        got = _as_set(*_grid_pairs(points, 3000.0))
        want = _within(points, 3000.0)
        assert want, "the cloud should hold pairs"
        assert got == want

    def test_a_tiny_reach_over_the_whole_earth(self) -> None:
        """Cells widen so that their numbers fit 64 bits: same pairs."""
        rng = np.random.default_rng(9)
        points = rng.uniform(-6.4e6, 6.4e6, (300, 4))
        points[1::2] = points[::2] + rng.uniform(-1.0, 1.0, (150, 4))
        got = _as_set(*_grid_pairs(points, 1.0))
        want = _within(points, 1.0)
        assert len(want) > 30
        assert got == want

    def test_at_exactly_the_reach_kept_just_beyond_dropped(self) -> None:
        reach = 1000.0
        beyond = np.nextafter(reach, np.inf)
        points = np.array(
            [
                [0.0, 0.0, 0.0, 0.0],
                [reach, 0.0, 0.0, 0.0],  # 0-1: exactly the reach in x
                [0.0, 0.0, 0.0, reach],  # 0-2: exactly the reach in w
                [-beyond, 0.0, 0.0, 0.0],  # 0-3: just beyond in x
                [0.0, 0.0, 0.0, -beyond],  # 0-4: just beyond in w
                [0.0, 600.0, 800.0, reach],  # 0-5: 3-4-5 triangle, reach in w
            ]
        )
        got = _as_set(*_grid_pairs(points, reach))
        assert got == _within(points, reach)
        assert {(0, 1), (0, 2), (0, 5)} <= got
        assert not {(0, 3), (0, 4)} & got

    def test_same_candidates_as_within_reach_of_each_slice(self) -> None:
        """candidate_pairs over the lookahead: a subset of what the KD-tree's
        4-D ball of sqrt(2) R gave (scipy as the reference), holding every pair
        that is within R and R at some slice's middle."""
        from scipy.spatial import cKDTree

        pos, vel, alt, vs = _cloud(5, 600)
        cand = candidate_pairs(pos, vel, alt, vs, 9260.0, 304.8, 300.0, slice_s=30.0)
        got = set(zip(cand.i.tolist(), cand.j.tolist(), strict=True))
        reach_h = (9260.0 + float(np.max(np.linalg.norm(vel, axis=1))) * 30.0) * 1.01
        reach_v = 304.8 + float(np.max(np.abs(vs))) * 30.0
        kd: set[tuple[int, int]] = set()
        within: set[tuple[int, int]] = set()
        for k in range(10):
            t = (k + 0.5) * 30.0
            pts = np.column_stack([pos + vel * t, (alt + vs * t) * reach_h / reach_v])
            kd |= set(
                map(tuple, cKDTree(pts).query_pairs(reach_h * np.sqrt(2)).__iter__())
            )
            within |= _within(pts, reach_h)
        assert got == within
        assert got <= kd
