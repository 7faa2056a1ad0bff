"""The conflict test as integer arithmetic, written once for two back ends.

The formulas take arrays that support ``+ - *`` (numpy object arrays of Python
integers in :mod:`deconfliction.blind.reference`, MPyC secure arrays in
:mod:`deconfliction.blind.session`) and an :class:`Arithmetic` for what the
operators cannot do: comparisons with a declared bit length, stacking and rounding.
The plaintext run is thereby the reference of the secure one, formula for formula.

Phase 1, every pair of slots (one of each party), without division or square root.
With ``d``, ``V`` the relative position and displacement over the lookahead,
``z0``, ``z1`` the relative altitude now and at the lookahead and ``t`` the time as
a fraction of the lookahead:

1. Four comparisons place ``z0`` and ``z1`` below, inside or above the vertical
   band ``(-Vm, Vm)``. Straight climbs make the time the band is held a window
   ``[lo, hi] = [Lnum/den, Rnum/den]`` with ``den > 0``, or empty (both below or
   both above): products of those bits select ``Lnum``, ``Rnum`` and ``den``.
2. The horizontal separation squared is convex in ``t``, so its minimum over the
   window is at ``lo`` if the CPA comes before it (``S_lo . V >= 0``, with
   ``S = den d + V num`` the relative position scaled by ``den``), at ``hi`` if
   after (``S_hi . V <= 0``), else at the CPA: two comparisons.
3. One comparison of the selected minimum with the horizontal minimum, each case
   cross-multiplied to a positive denominator: ``|S|^2 - H^2 den^2`` at a window
   end, ``(V x d)^2 - H^2 |V|^2`` at the CPA.

Seven comparisons per pair in all, of the bit lengths in
:class:`~deconfliction.blind.parameters.Bounds`; the result is multiplied by the
window's non-emptiness and both slots' ``real`` flags.

Phase 2, only the conflicts the parties have chosen (see
:mod:`deconfliction.blind.party`): the time to CPA ``q = clamp(-d.V / V.V, 0, 1)``
to :data:`~deconfliction.blind.parameters.TCPA_FRACTION_BITS` bits by long
division (two bits per step: three comparisons in one batch), and the relative
position there, rounded to a quantum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from deconfliction.blind.encoding import REAL, VX, VY, H, W, X, Y
from deconfliction.blind.parameters import (
    DIVISION_COMPARISONS,
    DIVISION_DIGIT_BITS,
    DIVISION_STEPS,
    TCPA_FRACTION_BITS,
    Bounds,
)


class Arithmetic(Protocol):
    """What a back end adds to the array operators."""

    def less_than_zero(self, operands: Sequence[tuple[Any, int]]) -> list[Any]:
        """``[v < 0]`` (0 or 1) for each ``(v, bits)``, with ``|v| < 2^(bits-1)``."""
        ...

    def round_shift(self, values: Any, shift: int, bits: int) -> Any:
        """``values / 2^shift`` rounded to an integer (``|values| < 2^(bits-1)``)."""
        ...


@dataclass(frozen=True, slots=True)
class CircuitCounts:
    """How many comparisons and bits a run performs (for reports and benches).

    Attributes:
        pairs: slot pairs checked in phase 1.
        comparisons: secure comparisons in phase 1.
        comparison_bits: their total bit length.
        figure_rows: conflicts with figures computed in phase 2.
        figure_comparisons: secure comparisons in phase 2.
        figure_comparison_bits: their total bit length.
    """

    pairs: int
    comparisons: int
    comparison_bits: int
    figure_rows: int
    figure_comparisons: int
    figure_comparison_bits: int

    @classmethod
    def of(
        cls, slots_a: int, slots_b: int, figure_rows: int, bounds: Bounds
    ) -> CircuitCounts:
        """The counts for the given sizes."""
        pairs = slots_a * slots_b
        per_row = 2 + DIVISION_COMPARISONS
        return cls(
            pairs=pairs,
            comparisons=7 * pairs,
            comparison_bits=pairs * bounds.comparison_bits_per_pair,
            figure_rows=figure_rows,
            figure_comparisons=per_row * figure_rows,
            figure_comparison_bits=figure_rows * bounds.comparison_bits_per_conflict,
        )


def conflict_matrix(ops: Arithmetic, slots_a: Any, slots_b: Any, bounds: Bounds) -> Any:
    """Phase 1: 1 where slot ``i`` of party 0 and slot ``j`` of party 1 conflict.

    Args:
        ops: the back end.
        slots_a: ``(n_a, 7)`` slot matrix of party 0 (columns of
            :data:`~deconfliction.blind.encoding.COLUMNS`).
        slots_b: ``(n_b, 7)`` slot matrix of party 1.
        bounds: bit lengths and minima in quanta.

    Returns:
        ``(n_a, n_b)`` array of 0 and 1.
    """

    def column(k: int) -> tuple[Any, Any]:
        return slots_a[:, k : k + 1], slots_b[:, k : k + 1].T

    (xa, xb), (ya, yb) = column(X), column(Y)
    (vxa, vxb), (vya, vyb) = column(VX), column(VY)
    (ha, hb), (wa, wb), (ra, rb) = column(H), column(W), column(REAL)
    dx, dy = xb - xa, yb - ya
    vx, vy = vxb - vxa, vyb - vya
    z0 = hb - ha
    vz = wb - wa
    z1 = z0 + vz
    vm = bounds.vertical
    h2 = bounds.horizontal * bounds.horizontal

    # 1. Vertical band at the start and at the end of the lookahead.
    below0, not_above0, below1, not_above1 = ops.less_than_zero(
        [
            (z0 + (vm - 1), bounds.start_bits),  # z0 <= -vm
            (z0 - vm, bounds.start_bits),  # z0 < vm
            (z1 + (vm - 1), bounds.end_bits),
            (z1 - vm, bounds.end_bits),
        ]
    )
    above0 = 1 - not_above0
    above1 = 1 - not_above1
    # Independent of the window: started now, they overlap the comparisons above.
    speed2 = vx * vx + vy * vy
    dot = dx * vx + dy * vy
    cross = vx * dy - vy * dx
    real = ra * rb

    rising = below0 + above1 - below0 * above1
    falling = above0 + below1 - above0 * below1
    nonempty = 1 - below0 * below1 - above0 * above1
    # den: the climb towards the band (positive), or 1 when inside throughout.
    den = (rising - falling) * vz + (1 - rising) * (1 - falling)
    lnum = below0 * (-vm - z0) + above0 * (z0 - vm)
    inside1 = 1 - below1 - above1
    rnum = inside1 * den + above1 * (vm - z0) + below1 * (z0 + vm)

    # 2. Where the CPA falls against the window [lnum/den, rnum/den].
    den_dot = den * dot
    motion_lo = den_dot + lnum * speed2
    motion_hi = den_dot + rnum * speed2
    approaching_lo, not_past_hi = ops.less_than_zero(
        [(motion_lo, bounds.motion_bits), (motion_hi - 1, bounds.motion_bits)]
    )
    before = 1 - approaching_lo  # the CPA is at or before lo: minimum at lo
    not_before = approaching_lo
    after = not_before * not_past_hi  # at or after hi (and not before): at hi
    within = not_before - after

    # 3. The minimum against the horizontal minimum, each case cross-multiplied.
    den2 = den * den
    den_dx, den_dy = den * dx, den * dy
    slo_x, slo_y = den_dx + vx * lnum, den_dy + vy * lnum
    shi_x, shi_y = den_dx + vx * rnum, den_dy + vy * rnum
    f_lo = slo_x * slo_x + slo_y * slo_y - h2 * den2
    f_hi = shi_x * shi_x + shi_y * shi_y - h2 * den2
    f_mid = cross * cross - h2 * speed2
    separation = before * f_lo + after * f_hi + within * f_mid
    (close,) = ops.less_than_zero([(separation, bounds.separation_bits)])
    return close * (nonempty * real)


@dataclass(frozen=True, slots=True)
class Figures:
    """Phase-2 results per chosen conflict, still in the circuit's units.

    Attributes:
        tcpa: time to CPA in units of ``lookahead / 2^TCPA_FRACTION_BITS``.
        dx: east component of party 1's aircraft minus party 0's at the CPA
            (quanta).
        dy: north component (quanta).
    """

    tcpa: Any
    dx: Any
    dy: Any


def cpa_figures(ops: Arithmetic, rows_a: Any, rows_b: Any, bounds: Bounds) -> Figures:
    """Phase 2: time to CPA and the relative position then, for chosen pairs.

    Args:
        ops: the back end.
        rows_a: ``(k, 7)`` slot rows of party 0, one per chosen conflict.
        rows_b: ``(k, 7)`` slot rows of party 1, in the same order.
        bounds: bit lengths.

    Returns:
        The figures, each of shape ``(k,)``.
    """
    one = 1 << TCPA_FRACTION_BITS
    dx = rows_b[:, X] - rows_a[:, X]
    dy = rows_b[:, Y] - rows_a[:, Y]
    vx = rows_b[:, VX] - rows_a[:, VX]
    vy = rows_b[:, VY] - rows_a[:, VY]
    speed2 = vx * vx + vy * vy
    dot = dx * vx + dy * vy
    approaching, beyond = ops.less_than_zero(
        [(dot, bounds.sign_bits), (speed2 + dot - 1, bounds.clip_bits)]
    )
    receding = 1 - approaching  # CPA now (also when not moving apart at all)
    # Restoring long division of -dot by speed2 on the pairs with 0 < tcpa < 1,
    # DIVISION_DIGIT_BITS bits per step: 0 <= remainder < divisor throughout.
    remainder = approaching * (1 - beyond) * (0 - dot)
    divisor = speed2 + receding  # >= 1: a pair still relative to the other is receding
    quotient: Any = 0
    radix = 1 << DIVISION_DIGIT_BITS
    for _ in range(DIVISION_STEPS):
        remainder = remainder * radix
        # One batch: which non-zero multiples of the divisor the remainder reaches.
        shorts = ops.less_than_zero(
            [(remainder - k * divisor, bounds.division_bits) for k in range(1, radix)]
        )
        digit = (radix - 1) - sum(shorts)
        remainder = remainder - digit * divisor
        quotient = quotient * radix + digit
    tcpa = approaching * (beyond * one + (1 - beyond) * quotient)
    scaled_x = dx * one + vx * tcpa
    scaled_y = dy * one + vy * tcpa
    return Figures(
        tcpa=tcpa,
        dx=ops.round_shift(scaled_x, TCPA_FRACTION_BITS, bounds.rounding_bits),
        dy=ops.round_shift(scaled_y, TCPA_FRACTION_BITS, bounds.rounding_bits),
    )
