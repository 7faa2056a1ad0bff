"""The secure circuit equals its plaintext reference, run by MPyC in one process.

MPyC's one-party runtime executes the same protocols (without other parties), so
these tests check the secure formulas, batching and rounding quickly; three real
processes are in tests/integration/test_blind.py.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from deconfliction.blind.circuit import CircuitCounts, conflict_matrix, cpa_figures
from deconfliction.blind.encoding import COLUMNS, encode_states, fill_slots
from deconfliction.blind.parameters import BlindPlan
from deconfliction.blind.party import (
    PHASE1_COMPARISONS,
    BitPool,
    SecureArithmetic,
    chosen_conflicts,
)
from deconfliction.blind.reference import PlainArithmetic
from deconfliction.blind.session import create_runtime
from tests.unit.blind.test_reference import random_traffic


@pytest.fixture
def runtime() -> Iterator[Any]:
    rt = create_runtime(None, 0)
    yield rt
    rt._loop.close()
    asyncio.set_event_loop(None)


def _slot_matrices(plan: BlindPlan, seed: int) -> tuple[np.ndarray, np.ndarray]:
    states = random_traffic(seed, plan.max_aircraft - 2, plan, spread_nm=10.0)
    matrices = []
    for party in plan.parties:
        encoded = encode_states(states.take(states.party == party), plan)
        matrices.append(fill_slots(encoded, plan, random.Random(seed)).matrix)
    return matrices[0], matrices[1]


def _secure(
    rt: Any,
    plan: BlindPlan,
    a: np.ndarray,
    b: np.ndarray,
    rows: list[tuple[int, int]],
    pooled: list[int] | None = None,
) -> tuple[Any, Any]:
    """The secure run; with ``pooled`` (a list), phase 1's random bits come from
    an offline pool and ``pooled`` receives [bits made, bits served, bits left]."""

    async def main() -> tuple[Any, Any]:
        await rt.start()
        secint = rt.SecInt(plan.bounds.secure_bits)
        pool = None
        if pooled is not None:
            pool = BitPool(rt)
            per_pair = plan.bounds.comparison_bits_per_pair + PHASE1_COMPARISONS
            made = len(a) * len(b) * per_pair
            await pool.fill(secint.field, made)
            pooled.append(made)
        # Copies: MPyC reduces an object array modulo its prime in place.
        slots_a = rt.input(secint.array(a.copy()), senders=0)
        slots_b = rt.input(secint.array(b.copy()), senders=0)
        ops = SecureArithmetic(rt, pool)
        matrix = await rt.output(conflict_matrix(ops, slots_a, slots_b, plan.bounds))
        if pool is not None:
            pooled.extend([pool.served, pool.available])
            ops.pool = None
        i = [r[0] for r in rows]
        j = [r[1] for r in rows]
        figures = cpa_figures(ops, slots_a[i], slots_b[j], plan.bounds)
        opened = await rt.output(
            rt.np_stack([figures.tcpa, figures.dx, figures.dy], axis=1)
        )
        await rt.shutdown()
        return matrix, opened

    return rt.run(main())


class TestSecureCircuit:
    @pytest.mark.parametrize("seed", [1, 2])
    def test_equals_the_plaintext_reference(
        self, runtime: Any, plan: BlindPlan, seed: int
    ) -> None:
        a, b = _slot_matrices(plan, seed)
        plain_matrix = np.asarray(
            conflict_matrix(PlainArithmetic(), a, b, plan.bounds), dtype=np.int64
        )
        assert plain_matrix.sum() > 0
        rows = chosen_conflicts(plain_matrix, plan.max_conflicts)
        rows += [(0, 0)] * (plan.max_conflicts - len(rows))  # padding rows, as in a run
        matrix, opened = _secure(runtime, plan, a, b, rows)
        assert np.array_equal(np.asarray(matrix, dtype=np.int64), plain_matrix)
        i = [r[0] for r in rows]
        j = [r[1] for r in rows]
        plain = cpa_figures(PlainArithmetic(), a[i], b[j], plan.bounds)
        opened = np.asarray(opened, dtype=np.int64)
        assert opened[:, 0].tolist() == [int(v) for v in plain.tcpa]
        # MPyC rounds at random: floor or ceiling, the plaintext rounds half up.
        assert np.abs(opened[:, 1] - np.asarray(plain.dx, dtype=np.int64)).max() <= 1
        assert np.abs(opened[:, 2] - np.asarray(plain.dy, dtype=np.int64)).max() <= 1


class TestCircuitCounts:
    def test_counts(self, plan: BlindPlan) -> None:
        counts = CircuitCounts.of(8, 8, 8, plan.bounds)
        assert counts.pairs == 64
        assert counts.comparisons == 7 * 64
        assert counts.comparison_bits == 64 * plan.bounds.comparison_bits_per_pair
        assert counts.figure_comparisons == 8 * (2 + 8 * 3)  # 8 steps of 2 bits
        assert len(COLUMNS) == 7

    def test_offline_random_bits_serve_every_phase1_comparison(
        self, runtime: Any, plan: BlindPlan
    ) -> None:
        """Phase 1 with its random bits made beforehand (the offline phase) gives
        the plaintext reference's matrix and takes every bit made, none twice."""
        a, b = _slot_matrices(plan, 3)
        plain_matrix = np.asarray(
            conflict_matrix(PlainArithmetic(), a, b, plan.bounds), dtype=np.int64
        )
        assert plain_matrix.sum() > 0
        pooled: list[int] = []
        matrix, _ = _secure(runtime, plan, a, b, [(0, 0)], pooled)
        assert np.array_equal(np.asarray(matrix, dtype=np.int64), plain_matrix)
        made, served, left = pooled
        assert made > 0
        assert served == made
        assert left == 0
