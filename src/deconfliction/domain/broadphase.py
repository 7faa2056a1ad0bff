"""Candidate pairs for tactical detection: time-sliced KD-tree pruning.

A pair can lose separation during a slice of the lookahead only if, at the middle of
that slice, the two aircraft are within the minima plus the distance they can close
in half a slice. Each slice therefore needs only a fixed-radius neighbour query around
every aircraft, which a KD-tree answers in about O(n log n) at realistic densities,
instead of looking at all n(n-1)/2 pairs.

Points live in 4-D: ECEF x, y, z of the extrapolated surface position (metres) and
altitude scaled so that the vertical radius equals the horizontal one. A true
candidate is then within the horizontal radius R in the first three coordinates and
within R in the fourth. The pairs that are come from a uniform grid of cells of
side R in the four coordinates, in numpy (:func:`_grid_pairs`): two such points lie
in the same or in adjacent cells. This used to be scipy's KD-tree asking for the
4-D ball of radius sqrt(2) R (a superset of these pairs); the grid keeps exactly
the pairs within R and R, so the exact test in ``detect`` finds the same conflicts,
and a ``deconfliction detect`` process no longer imports scipy (#20.2).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from deconfliction.domain.model import FloatArray, IntArray

_Index = npt.NDArray[np.signedinteger[Any]]
"""Indices of 32 or 64 bits."""

SLICE_S: float = 30.0
"""Default slice length. Shorter slices prune harder but query more often; at 10,000
aircraft (the BlueSky benchmark) with the KD-tree this replaced, 15 s took 162 ms,
20 s 132, 30 s 113, 50 s 125 and 75 s 284 ms."""

_HALF_NEIGHBOURS_3D: tuple[tuple[int, ...], ...] = tuple(
    d for d in itertools.product((-1, 0, 1), repeat=3) if d > (0, 0, 0)
)
"""The 13 neighbouring cells (in the first three coordinates) that come after a
cell: each pair of adjacent cells is visited once, from the first of the two."""

TANGENT_MARGIN: float = 1.01
"""Straight-line extrapolation leaves the sphere (about 0.5 km after 45 NM); a 1 %
larger radius keeps every true candidate inside the box despite it."""


@dataclass(frozen=True, slots=True)
class CandidatePairs:
    """Indices of candidate pairs with ``i < j``, each pair once."""

    i: IntArray
    j: IntArray

    def __len__(self) -> int:
        return len(self.i)


def candidate_pairs(
    pos_m: FloatArray,
    vel_mps: FloatArray,
    alt_m: FloatArray,
    vs_mps: FloatArray,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
    slice_s: float = SLICE_S,
) -> CandidatePairs:
    """Every pair that might lose separation within the lookahead (and some more).

    Args:
        pos_m: ECEF surface positions, shape (n, 3).
        vel_mps: ECEF velocities, shape (n, 3).
        alt_m: altitudes, shape (n,).
        vs_mps: vertical rates, shape (n,).
        horizontal_m: horizontal minimum.
        vertical_m: vertical minimum.
        lookahead_s: how far ahead to look (0 checks the present only).
        slice_s: length of one time slice.

    Returns:
        The candidate pairs, sorted by ``i`` then ``j``.

    Raises:
        ValueError: if a minimum, the lookahead or the slice length is not positive
            (the lookahead may be 0).
    """
    if horizontal_m <= 0 or vertical_m <= 0 or lookahead_s < 0 or slice_s <= 0:
        raise ValueError(
            "candidate_pairs needs positive minima and slice length and a "
            f"non-negative lookahead (got horizontal_m={horizontal_m}, "
            f"vertical_m={vertical_m}, lookahead_s={lookahead_s}, slice_s={slice_s})"
        )
    n = len(pos_m)
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return CandidatePairs(empty, empty)
    speed_max_mps = float(np.max(np.linalg.norm(vel_mps, axis=1)))
    vs_max_mps = float(np.max(np.abs(vs_mps)))
    n_slices = max(1, math.ceil(lookahead_s / slice_s))
    dt_s = lookahead_s / n_slices
    keys: list[IntArray] = []
    for k in range(n_slices):
        t_mid_s = (k + 0.5) * dt_s
        # Within half a slice either way, two aircraft close by at most twice the
        # fastest speed times dt/2.
        reach_h_m = (horizontal_m + speed_max_mps * dt_s) * TANGENT_MARGIN
        reach_v_m = vertical_m + vs_max_mps * dt_s
        points = np.empty((n, 4), dtype=np.float64)
        points[:, :3] = pos_m + vel_mps * t_mid_s
        points[:, 3] = (alt_m + vs_mps * t_mid_s) * (reach_h_m / reach_v_m)
        i, j = _grid_pairs(points, reach_h_m)
        if len(i):
            keys.append(np.minimum(i, j) * n + np.maximum(i, j))
    if not keys:
        empty = np.empty(0, dtype=np.int64)
        return CandidatePairs(empty, empty)
    # Sort and drop repeats: several times faster than np.unique (hash-based in
    # numpy 2.4) on the million keys of a dense snapshot.
    all_keys = np.concatenate(keys)
    all_keys.sort()
    first = np.empty(len(all_keys), dtype=np.bool_)
    first[:1] = True
    np.not_equal(all_keys[1:], all_keys[:-1], out=first[1:])
    unique = all_keys[first]
    return CandidatePairs(unique // n, unique % n)


def _grid_pairs(points: FloatArray, reach_m: float) -> tuple[IntArray, IntArray]:
    """Every pair of ``points`` (n, 4) within ``reach_m`` in the first three
    coordinates (Euclidean) and in the fourth, each once, in no particular order.

    The points go in cells of side ``reach_m``; such a pair lies in the same cell or
    in two adjacent ones. The points are sorted by cell, the fourth coordinate last,
    so that the three cells a cell's neighbours in the fourth coordinate make are
    one run of the sorted points: for each point, one run per neighbouring cell in
    the first three coordinates (its own and the 13 after it) is paired with it,
    and the pairs kept if within reach. All in numpy, a few passes per run.
    """
    n = len(points)
    # Cells at least the reach wide; wider when the points spread over more than
    # 2**14 reaches, so that the packed cell number fits 64 bits.
    cell_m = max(reach_m, float(np.max(np.ptp(points, axis=0))) / 2**14)
    cell = np.floor(points / cell_m).astype(np.int64)
    cell -= cell.min(axis=0) - 1  # a free cell on each side: neighbours stay in range
    size = cell.max(axis=0) + 2
    stride = np.array(
        [size[1] * size[2] * size[3], size[2] * size[3], size[3], 1], dtype=np.int64
    )
    key = cell @ stride
    order = np.argsort(key, kind="stable")
    key = key[order]
    coords = [np.ascontiguousarray(points[order, d]) for d in range(4)]
    # Positions in 32 bits while they fit: half the memory traffic of the pairs.
    index_type = np.int32 if n < 2**31 else np.int64
    position: _Index = np.arange(n, dtype=index_type)
    reach2 = reach_m * reach_m
    found_i: list[IntArray] = []
    found_j: list[IntArray] = []

    def keep(a: _Index, b: _Index) -> None:
        w = coords[3]
        ok = np.abs(w[b] - w[a]) <= reach_m
        a, b = a[ok], b[ok]
        d2 = np.zeros(len(a))
        for c in coords[:3]:
            d2 += np.square(c[b] - c[a])
        ok = d2 <= reach2
        found_i.append(order[a[ok]].astype(np.int64))
        found_j.append(order[b[ok]].astype(np.int64))

    # The own cell and the next in the fourth coordinate: the points after this one.
    stop = np.searchsorted(key, key + 1, side="right")
    keep(*_expand(position, position + 1, stop.astype(index_type)))
    for offset in _HALF_NEIGHBOURS_3D:
        centre = key + int(np.dot((*offset, 0), stride))
        start = np.searchsorted(key, centre - 1, side="left")
        stop = np.searchsorted(key, centre + 1, side="right")
        keep(*_expand(position, start.astype(index_type), stop.astype(index_type)))
    return np.concatenate(found_i), np.concatenate(found_j)


def _expand(owner: _Index, start: _Index, stop: _Index) -> tuple[_Index, _Index]:
    """``(owner[k], m)`` for every ``k`` and ``start[k] <= m < stop[k]``.

    >>> a, b = _expand(np.array([7, 8]), np.array([0, 5]), np.array([2, 6]))
    >>> a.tolist(), b.tolist()
    ([7, 7, 8], [0, 1, 5])
    """
    count = np.maximum(stop - start, 0)
    total = int(count.sum())
    which = np.repeat(np.arange(len(count), dtype=owner.dtype), count)
    # Each run's start less the number of pairs before it, so that adding the
    # pair's number gives its partner.
    shift = start - (np.cumsum(count, dtype=np.int64) - count).astype(start.dtype)
    step_type = start.dtype if total < 2**31 else np.int64
    return owner[which], shift[which] + np.arange(total, dtype=step_type)
