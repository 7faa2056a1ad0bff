"""Tests of deconfliction.domain.broadphase."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from deconfliction.domain.broadphase import candidate_pairs


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
