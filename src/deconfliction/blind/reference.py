"""The blind computation in the clear: the reference the secure run must match.

:class:`PlainArithmetic` runs the formulas of :mod:`deconfliction.blind.circuit` on
numpy arrays of Python integers and checks every comparison operand against its
declared bit length, so a test over extreme inputs proves the bounds hold.
:func:`reference_conflicts` answers, for a snapshot with two parties, what blind
detection answers: use it to compare with ``detect_conflicts`` without starting
three processes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deconfliction.blind.circuit import conflict_matrix, cpa_figures
from deconfliction.blind.encoding import encode_states, fill_slots
from deconfliction.blind.parameters import TCPA_FRACTION_BITS, BlindPlan
from deconfliction.domain.model import AircraftStates
from deconfliction.errors import DeconflictionError
from deconfliction.units import M_PER_NM

ObjectArray = np.ndarray[Any, np.dtype[np.object_]]


class OperandOutOfRangeError(DeconflictionError, ValueError):
    """A comparison operand beyond its declared bit length: a bound is wrong."""


class PlainArithmetic:
    """The circuit's extra operations on integer arrays, with bound checks.

    Attributes:
        widest: for each bit length used, the largest ``|operand|`` seen.
    """

    def __init__(self) -> None:
        self.widest: dict[int, int] = {}

    def less_than_zero(self, operands: Sequence[tuple[Any, int]]) -> list[Any]:
        """``[v < 0]`` as 0/1 object arrays.

        Raises:
            OperandOutOfRangeError: an operand is outside ``[-2^(l-1), 2^(l-1))``.
        """
        out = []
        for values, bits in operands:
            array = np.asarray(values, dtype=object)
            low = -(1 << (bits - 1))
            if array.size:
                smallest, largest = int(array.min()), int(array.max())
                self.widest[bits] = max(self.widest.get(bits, 0), -smallest, largest)
                if smallest < low or largest >= -low:
                    raise OperandOutOfRangeError(
                        f"operand in [{smallest}, {largest}] exceeds {bits} bits"
                    )
            out.append((array < 0).astype(object) * 1)
        return out

    def round_shift(self, values: Any, shift: int, bits: int) -> Any:
        """Round half up of ``values / 2^shift`` (the secure run rounds at random).

        Raises:
            OperandOutOfRangeError: a value is outside ``[-2^(bits-1), 2^(bits-1))``.
        """
        array = np.asarray(values, dtype=object)
        if array.size and max(abs(int(array.min())), int(array.max())) >= 1 << (
            bits - 1
        ):
            raise OperandOutOfRangeError(f"value to round exceeds {bits} bits")
        return (array + (1 << (shift - 1))) // (1 << shift)


def plain_conflict_matrix(
    slots_a: ObjectArray, slots_b: ObjectArray, plan: BlindPlan
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Phase 1 in the clear: ``(n_a, n_b)`` booleans.

    Raises:
        OperandOutOfRangeError: an operand beyond its bit length.
    """
    result = conflict_matrix(PlainArithmetic(), slots_a, slots_b, plan.bounds)
    return np.asarray(result, dtype=object).astype(bool)


@dataclass(frozen=True, slots=True)
class PlainConflict:
    """A conflict as blind detection reports it, computed in the clear.

    Attributes:
        a: id of party 0's aircraft.
        b: id of party 1's aircraft.
        tcpa_s: time to CPA.
        dx_m: east offset of ``b`` from ``a`` at the CPA, in the common frame.
        dy_m: north offset.
    """

    a: str
    b: str
    tcpa_s: float
    dx_m: float
    dy_m: float

    @property
    def dcpa_nm(self) -> float:
        """Horizontal distance at the CPA."""
        return float(np.hypot(self.dx_m, self.dy_m)) / M_PER_NM


def reference_conflicts(states: AircraftStates, plan: BlindPlan) -> list[PlainConflict]:
    """What blind detection finds between the plan's two parties, in the clear.

    Args:
        states: aircraft of both parties (``party`` names them); at most
            ``plan.max_aircraft`` each.
        plan: the public parameters.

    Returns:
        The conflicts sorted by (a, b), with their figures.

    Raises:
        StatesError: an aircraft outside the declared bounds.
        OperandOutOfRangeError: a comparison operand beyond its bit length.
    """
    encoded = [
        encode_states(states.take(states.party == party), plan)
        for party in plan.parties
    ]
    slots = [fill_slots(e, plan, random.Random(0)) for e in encoded]
    matrix = plain_conflict_matrix(slots[0].matrix, slots[1].matrix, plan)
    rows_i, rows_j = np.nonzero(matrix)
    if not len(rows_i):
        return []
    figures = cpa_figures(
        PlainArithmetic(),
        slots[0].matrix[rows_i],
        slots[1].matrix[rows_j],
        plan.bounds,
    )
    q_m = plan.horizontal_quantum_m
    out = []
    for k, (i, j) in enumerate(zip(rows_i, rows_j, strict=True)):
        out.append(
            PlainConflict(
                a=str(encoded[0].ids[slots[0].aircraft[i]]),
                b=str(encoded[1].ids[slots[1].aircraft[j]]),
                tcpa_s=int(figures.tcpa[k])
                * plan.lookahead_s
                / (1 << TCPA_FRACTION_BITS),
                dx_m=int(figures.dx[k]) * q_m,
                dy_m=int(figures.dy[k]) * q_m,
            )
        )
    return sorted(out, key=lambda c: (c.a, c.b))
