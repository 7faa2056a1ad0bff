"""One participant's run: inputs, the two phases, what it learns.

Every participant executes the same sequence of MPyC operations on arrays of the
same public shapes; only the two parties put their own values in.

1. **Inputs.** Each party secret-shares its ``max_aircraft`` slots
   (:func:`~deconfliction.blind.encoding.fill_slots`); the helper shares nothing.
2. **Phase 1.** :func:`~deconfliction.blind.circuit.conflict_matrix` over every
   pair of slots, in blocks of rows, two blocks in flight. Each block's bits are
   opened to the two parties only: both learn the same ``max_aircraft`` x
   ``max_aircraft`` matrix of conflict bits, in the slot orders (random, fresh
   every run). The helper receives nothing.
3. **Phase 2.** Both parties list the conflicts in the same order (by slot
   indices) and keep the first ``max_conflicts``; each inputs a one-hot selection
   of its own slots per row (zero rows pad the list to ``max_conflicts``, so the
   helper learns no count). The selected rows come from the phase-1 shares by a
   secure matrix product; :func:`~deconfliction.blind.circuit.cpa_figures` gives
   the time to CPA and the relative position then, opened to the two parties.

Each party turns its figures into the distance and the true bearing from its own
aircraft to the other at the CPA (the inverse projection of both positions).
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.blind.circuit import CircuitCounts, conflict_matrix, cpa_figures
from deconfliction.blind.config import HELPER
from deconfliction.blind.encoding import EncodedStates, Slots, encode_states, fill_slots
from deconfliction.blind.parameters import TCPA_FRACTION_BITS, BlindPlan
from deconfliction.blind.session import Session, create_runtime
from deconfliction.blind.tls import load_tls
from deconfliction.domain import geodesy
from deconfliction.domain.model import AircraftStates
from deconfliction.units import M_PER_NM, MPS_PER_KT

PHASE1_COMPARISONS: int = 7
"""Secure comparisons per slot pair in phase 1 (each takes one random bit more than
its bit length: the sign of its mask)."""

BLOCK_PAIRS: int = 2500
"""Pairs per phase-1 block: a block's comparisons take about a second, which keeps
messages flowing (the idle watchdog) and memory flat whatever ``max_aircraft``."""


class BitPool:
    """Secret random bits made before the comparisons that use them (offline phase).

    MPyC's comparison of ``l`` bits consumes ``l + 1`` secret random bits, made
    then and there: pseudorandom shares squared, opened and square-rooted, most of
    the CPU time of a comparison. They do not depend on any input, so a run can
    make them all before the inputs are shared (:meth:`fill`), and between rounds
    in a live loop. :meth:`reserve` hands the next unused ones to the next
    comparison: each bit is used once, and every participant reserves in the same
    (program) order, so the shares agree. A comparison the pool cannot serve makes
    its own bits as before.
    """

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self._make = rt.np_random_bits
        self._chunks: deque[Any] = deque()
        self._used = 0  # of the first chunk
        self._queue: deque[Any] = deque()
        self.served = 0
        rt.np_random_bits = self._serve

    @property
    def available(self) -> int:
        """Bits made and not yet reserved."""
        return sum(len(chunk) for chunk in self._chunks) - self._used

    async def fill(self, field: Any, count: int) -> None:
        """Make ``count`` more bits (one opening, ``count`` square roots)."""
        if count > 0:
            self._chunks.append(await self._make(field, count))

    def reserve(self, count: int) -> None:
        """Set the next ``count`` bits aside for the next ``np_random_bits`` call."""
        if not self._chunks or len(self._chunks[0]) - self._used < count:
            return  # that comparison makes its own
        chunk = self._chunks[0]
        self._queue.append(chunk[self._used : self._used + count])
        self._used += count
        if self._used == len(chunk):
            self._chunks.popleft()
            self._used = 0

    def _serve(self, sftype: Any, n: int, signed: bool = False) -> Any:
        if self._queue and not signed and len(self._queue[0]) == n:
            bits = self._queue.popleft()
            if bits.field is sftype:
                self.served += n
                return _ready(bits)
            self._queue.appendleft(bits)
        return self._make(sftype, n, signed)


async def _ready(value: Any) -> Any:
    return value


class SecureArithmetic:
    """The circuit's comparisons and rounding with MPyC.

    Operands of the same bit length and shape go into one ``np_sgn`` call; with a
    :class:`BitPool`, each call's random bits come from it.
    """

    def __init__(self, rt: Any, pool: BitPool | None = None) -> None:
        self.rt = rt
        self.pool = pool

    def _sgn(self, value: Any, bits: int) -> Any:
        if self.pool is not None:
            self.pool.reserve((bits + 1) * value.size)
        return self.rt.np_sgn(value, l=bits, LT=True)

    def less_than_zero(self, operands: Sequence[tuple[Any, int]]) -> list[Any]:
        """``[v < 0]`` for each ``(v, bits)``, batched by bit length."""
        results: list[Any] = [None] * len(operands)
        groups: dict[tuple[int, tuple[int, ...]], list[int]] = {}
        for k, (value, bits) in enumerate(operands):
            groups.setdefault((bits, tuple(value.shape)), []).append(k)
        for (bits, _), members in groups.items():
            if len(members) == 1:
                (k,) = members
                results[k] = self._sgn(operands[k][0], bits)
                continue
            stacked = self.rt.np_stack([operands[k][0] for k in members])
            signs = self._sgn(stacked, bits)
            for position, k in enumerate(members):
                results[k] = signs[position]
        return results

    def round_shift(self, values: Any, shift: int, bits: int) -> Any:
        """MPyC's probabilistic rounding: ``floor`` or ``ceil`` of ``v / 2^shift``."""
        return self.rt.np_trunc(values, f=shift, l=bits)


@dataclass(frozen=True, slots=True)
class BlindConflict:
    """One conflict of one of our aircraft, as a party learns it.

    Attributes:
        id: our aircraft.
        other: the other party's slot, ``russia#17``: a label drawn afresh each
            run, equal for two of our aircraft in conflict with the same one.
        tcpa_s: time to the horizontal CPA, within ``[0, lookahead]``; None when
            beyond ``max_conflicts`` (not computed).
        dcpa_nm: horizontal distance at the CPA; None as ``tcpa_s``.
        bearing_deg: true bearing from our aircraft to the other at the CPA; None
            also when they coincide.
    """

    id: str
    other: str
    tcpa_s: float | None
    dcpa_nm: float | None
    bearing_deg: float | None


@dataclass(frozen=True, slots=True)
class View:
    """Everything opened to this participant by the computation, as received.

    Attributes:
        conflict_matrix: the phase-1 bits, ``(max_aircraft, max_aircraft)`` (rows:
            party 0's slots), or None for the helper.
        figures: the phase-2 rows, ``(max_conflicts, 3)``: time to CPA (units of
            ``lookahead / 2^16``), east and north offset of party 1's aircraft
            from party 0's (quanta); None for the helper.
    """

    conflict_matrix: np.ndarray[Any, np.dtype[np.int64]] | None
    figures: np.ndarray[Any, np.dtype[np.int64]] | None


@dataclass(frozen=True, slots=True)
class PartyResult:
    """The outcome of a run for one participant.

    Attributes:
        participant: our party id, or ``helper``.
        aircraft: our aircraft ids (empty for the helper).
        conflicts: our aircraft's conflicts, sorted by (id, tcpa).
        unreported: conflicts beyond ``max_conflicts`` (listed without figures).
        view: what the computation opened to us.
        counts: the secure operations performed.
        timings_s: wall and CPU time of the phases (``phase1``, ``phase1_cpu``...).
        traffic: ``messages_sent`` (one per peer and communication step) and
            ``bytes_sent`` to the other two participants, in all and per phase
            (``offline_messages_sent``, ``phase1_bytes_sent``...; the inputs
            count in phase 1); ``offline_bits``: the
            random bits phase 1 took from the offline phase.
        slot_aircraft: for each of our slots, the index in ``aircraft`` of the
            aircraft in it, or -1 (our own secret; empty for the helper).
    """

    participant: str
    aircraft: tuple[str, ...]
    conflicts: tuple[BlindConflict, ...]
    unreported: int
    view: View
    counts: CircuitCounts
    timings_s: dict[str, float] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    slot_aircraft: tuple[int, ...] = ()

    @property
    def in_conflict(self) -> tuple[str, ...]:
        """Our aircraft with at least one conflict, sorted."""
        return tuple(sorted({c.id for c in self.conflicts}))


def run_party(
    plan: BlindPlan,
    participant: str,
    states: AircraftStates | None,
    *,
    source: str = "<states>",
    listen_host: str | None = None,
    rng: random.Random | None = None,
    progress: Callable[[str], None] | None = None,
    tls_dir: Path | None = None,
) -> PartyResult:
    """Take part in a blind run.

    Args:
        plan: the public parameters (the same for all three).
        participant: our party id, or ``helper``.
        states: our aircraft (None for the helper).
        source: the states file, for messages.
        listen_host: interface to accept connections on (default: ours in the
            plan).
        rng: the source of our slot order (tests seed it).
        progress: called with a line of text at each stage.
        tls_dir: our key and the three pinned certificates (None: plain TCP).

    Returns:
        What we learnt.

    Raises:
        StatesError: our aircraft are outside the declared bounds.
        BlindConfigError: ``participant`` is not one of the plan's.
        PeerError: another participant did not connect, disconnected or fell
            silent.
        ParameterMismatchError: the participants' public parameters differ.
    """
    index = plan.index(participant)
    is_party = participant != HELPER
    encoded: EncodedStates | None = None
    slots: Slots | None = None
    if is_party:
        if states is None:
            states = AircraftStates.from_columns([], [], [], [], [], [], [])
        encoded = encode_states(states, plan, source)
        slots = fill_slots(encoded, plan, rng)
    tls = None if tls_dir is None else load_tls(plan, index, tls_dir)
    rt = create_runtime(plan, index)
    timings: dict[str, float] = {}
    report = progress or (lambda _message: None)
    computation = _Computation(rt, plan, index, slots, timings, report)
    session = Session(rt, plan, listen_host, report, tls)
    computation.sent = lambda: (session.messages_sent, session.bytes_sent)
    view = session.run(computation.run)
    traffic = {
        "messages_sent": session.messages_sent,
        "bytes_sent": session.bytes_sent,
        "offline_bits": computation.offline_bits,
        **computation.phase_traffic,
    }
    counts = CircuitCounts.of(
        plan.max_aircraft, plan.max_aircraft, plan.max_conflicts, plan.bounds
    )
    if states is None or encoded is None or slots is None:
        return PartyResult(participant, (), (), 0, view, counts, timings, traffic)
    conflicts, unreported = _interpret(plan, index, states, slots, view)
    return PartyResult(
        participant=participant,
        aircraft=tuple(str(i) for i in encoded.ids),
        conflicts=conflicts,
        unreported=unreported,
        view=view,
        counts=counts,
        timings_s=timings,
        traffic=traffic,
        slot_aircraft=tuple(int(k) for k in slots.aircraft),
    )


class _Computation:
    """The MPyC operations of a run, the same on every participant."""

    def __init__(
        self,
        rt: Any,
        plan: BlindPlan,
        index: int,
        slots: Slots | None,
        timings: dict[str, float],
        progress: Callable[[str], None],
    ) -> None:
        self.progress = progress
        self.rt = rt
        self.plan = plan
        self.index = index
        self.slots = slots
        self.timings = timings
        self.secint = rt.SecInt(plan.bounds.secure_bits)
        self.offline_bits = 0
        self.sent: Callable[[], tuple[int, int]] = lambda: (0, 0)
        self.phase_traffic: dict[str, int] = {}

    def _count(self, phase: str, before: tuple[int, int]) -> tuple[int, int]:
        """Record the messages and bytes we sent since ``before``; the new mark."""
        now = self.sent()
        self.phase_traffic[f"{phase}_messages_sent"] = now[0] - before[0]
        self.phase_traffic[f"{phase}_bytes_sent"] = now[1] - before[1]
        return now

    def _input(self, matrix: Any, owner: int, shape: tuple[int, int]) -> Any:
        # A copy: MPyC reduces an object array modulo its prime in place.
        own = (
            np.array(matrix, dtype=object, copy=True)
            if self.index == owner
            else np.zeros(shape, dtype=object)
        )
        return self.rt.input(self.secint.array(own), senders=owner)

    async def run(self, rt: Any) -> View:
        plan, bounds = self.plan, self.plan.bounds
        n = plan.max_aircraft
        parties = [0, 1]
        is_party = self.index in parties
        own = None if self.slots is None else self.slots.matrix
        rows_per_block = max(1, BLOCK_PAIRS // n)
        pool = BitPool(rt)
        # Offline: the random bits of every phase-1 comparison, one opening per
        # block, before any input is shared (between rounds in a live loop).
        start = time.perf_counter()
        cpu_start = time.process_time()
        mark = self.sent()
        per_pair = bounds.comparison_bits_per_pair + PHASE1_COMPARISONS
        self.progress(f"offline: {n * n * per_pair} random bits")
        for first in range(0, n, rows_per_block):
            rows = min(rows_per_block, n - first)
            await pool.fill(self.secint.field, rows * n * per_pair)
        self.timings["offline"] = time.perf_counter() - start
        self.timings["offline_cpu"] = time.process_time() - cpu_start
        mark = self._count("offline", mark)
        start = time.perf_counter()
        cpu_start = time.process_time()
        slots_a = self._input(own, 0, (n, 7))
        slots_b = self._input(own, 1, (n, 7))
        ops = SecureArithmetic(rt, pool)

        matrix = np.zeros((n, n), dtype=np.int64)
        # Two blocks in flight: the next block's work overlaps the last's messages.
        pending: deque[tuple[int, int, Any]] = deque()
        self.progress(f"phase 1: {n * n} slot pairs")
        for first in range(0, n, rows_per_block):
            last = min(first + rows_per_block, n)
            bits = conflict_matrix(ops, slots_a[first:last], slots_b, bounds)
            pending.append((first, last, rt.output(bits, receivers=parties)))
            while len(pending) >= 2 or (last == n and pending):
                low, high, opened = pending.popleft()
                values = await opened
                if is_party:
                    matrix[low:high] = np.asarray(values, dtype=np.int64)
        self.timings["phase1"] = time.perf_counter() - start
        self.timings["phase1_cpu"] = time.process_time() - cpu_start
        ops.pool = None  # phase 2 makes its own (few) bits
        self.offline_bits = pool.served
        mark = self._count("phase1", mark)

        figures = None
        k = plan.max_conflicts
        if k:
            self.progress(f"phase 2: {k} conflict rows")
            start = time.perf_counter()
            cpu_start = time.process_time()
            chosen = chosen_conflicts(matrix, k) if is_party else []
            select_a = np.zeros((k, n), dtype=object)
            select_b = np.zeros((k, n), dtype=object)
            for row, (i, j) in enumerate(chosen):
                select_a[row, i] = 1
                select_b[row, j] = 1
            rows_a = self._input(select_a, 0, (k, n)) @ slots_a
            rows_b = self._input(select_b, 1, (k, n)) @ slots_b
            result = cpa_figures(ops, rows_a, rows_b, bounds)
            stacked = rt.np_stack([result.tcpa, result.dx, result.dy], axis=1)
            values = await rt.output(stacked, receivers=parties)
            if is_party:
                figures = np.asarray(values, dtype=np.int64).reshape(k, 3)
            self.timings["phase2"] = time.perf_counter() - start
            self.timings["phase2_cpu"] = time.process_time() - cpu_start
            self._count("phase2", mark)
        if not is_party:
            return View(None, None)
        return View(matrix, figures)


def chosen_conflicts(
    matrix: np.ndarray[Any, np.dtype[np.int64]], limit: int
) -> list[tuple[int, int]]:
    """The conflicts whose figures are computed: the first ``limit`` by slots.

    >>> chosen_conflicts(np.array([[0, 1], [1, 1]]), 2)
    [(0, 1), (1, 0)]
    """
    rows, cols = np.nonzero(matrix)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True)][:limit]


def _interpret(
    plan: BlindPlan,
    index: int,
    states: AircraftStates,
    slots: Slots,
    view: View,
) -> tuple[tuple[BlindConflict, ...], int]:
    """Our conflicts with distances and bearings, from what was opened to us."""
    if view.conflict_matrix is None:
        return (), 0
    matrix = view.conflict_matrix if index == 0 else view.conflict_matrix.T
    other = plan.parties[1 - index]
    figures_of: dict[tuple[int, int], np.ndarray[Any, np.dtype[np.int64]]] = {}
    if view.figures is not None:
        chosen = chosen_conflicts(view.conflict_matrix, plan.max_conflicts)
        for position, (i, j) in enumerate(chosen):
            figures_of[(i, j) if index == 0 else (j, i)] = view.figures[position]
    sign = 1 if index == 0 else -1  # figures give party 1's aircraft minus party 0's
    out: list[BlindConflict] = []
    unreported = 0
    for own_slot, other_slot in zip(*np.nonzero(matrix), strict=True):
        k = int(slots.aircraft[own_slot])
        if k < 0:
            continue  # a dummy never conflicts; kept as a guard
        ident = str(states.ids[k])
        label = f"{other}#{int(other_slot)}"
        figure = figures_of.get((int(own_slot), int(other_slot)))
        if figure is None:
            unreported += 1
            out.append(BlindConflict(ident, label, None, None, None))
            continue
        tcpa_s = int(figure[0]) * plan.lookahead_s / (1 << TCPA_FRACTION_BITS)
        dx_m = sign * int(figure[1]) * plan.horizontal_quantum_m
        dy_m = sign * int(figure[2]) * plan.horizontal_quantum_m
        out.append(
            BlindConflict(
                id=ident,
                other=label,
                tcpa_s=tcpa_s,
                dcpa_nm=math.hypot(dx_m, dy_m) / M_PER_NM,
                bearing_deg=_bearing_deg(plan, states, k, tcpa_s, dx_m, dy_m),
            )
        )
    out.sort(key=lambda c: (c.id, math.inf if c.tcpa_s is None else c.tcpa_s, c.other))
    return tuple(out), unreported


def _bearing_deg(
    plan: BlindPlan,
    states: AircraftStates,
    k: int,
    tcpa_s: float,
    dx_m: float,
    dy_m: float,
) -> float | None:
    """True bearing from our aircraft ``k`` to the other at the CPA, or None."""
    if dx_m == 0 and dy_m == 0:
        return None
    # Our own position at the CPA, then the other's by the opened offset, both
    # taken back from the common frame so the bearing is a true one.
    lat_deg, lon_deg = geodesy.destination(
        states.lat_deg[k],
        states.lon_deg[k],
        states.trk_deg[k],
        states.gs_kt[k] * MPS_PER_KT * tcpa_s / M_PER_NM,
    )
    projection = plan.projection
    x_m, y_m = projection.to_xy_m(lat_deg, lon_deg)
    other_lat, other_lon = projection.to_lat_lon_deg(x_m + dx_m, y_m + dy_m)
    return float(geodesy.geodesic_azimuth_deg(lat_deg, lon_deg, other_lat, other_lon))
