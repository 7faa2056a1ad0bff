"""History at any scale: conflicts, losses of separation and violations in recorded
tracks of any length, on a Dask cluster, with the result of the single-machine
engine.

The input is one or more Parquet track files (:mod:`deconfliction.analysis.tracks`).
Nothing is ever loaded whole: the time span of each row group is read first (its
``time`` column only, one task per row group), then time is cut into windows
``[T_k, T_k+1)`` on multiples of the protocol's ``max_gap_s``, each holding about
:data:`TARGET_ROWS` positions, and one task per window reads only the row groups that
overlap it, one at a time.

Each window's task owns the detection instants in it and the positions in it:

* **Conflicts and losses of separation** at its instants (engine:
  :func:`~deconfliction.analysis.engine.find_conflicts`). An instant's states need the
  positions up to ``stale_after_s`` before it, so the task also reads that much of the
  window before (the overlap); the lookahead needs no later data, since a prediction
  extrapolates the states of its instant. Every instant belongs to one window, so a
  conflict that goes on across a boundary has its instants on both sides, each
  counted once. The task writes its rows to ``conflicts/part-K.parquet`` and
  ``losses/part-K.parquet`` itself: they never pass through the client.
* **Violations**: an excursion can last longer than any window, so windows cannot be
  judged alone. Each task reduces its positions to the rows that decide the
  violations (:func:`~deconfliction.analysis.engine.conformance_rows`, a few per
  aircraft and ``max_gap_s``), and a chain of small tasks feeds them, window after
  window, to one :class:`ConformanceMonitor`, which gives the violations of the whole
  history. Its state is the open excursions and each aircraft's last time.

Regions (``region_deg``): each window can also be cut by region, into cells of a
latitude-longitude grid (:mod:`deconfliction.analysis.regions`). The window's first
task reads it once, reduces its positions to the conformance rows, and cuts its
states by cell, each cell with its halo (the minimum plus what the two fastest
aircraft close over the lookahead); one task per cell then finds the conflicts
whose first aircraft is in the cell, so that the cells together give every conflict
once. It pays when one instant holds more aircraft than a worker should take at
once; otherwise whole windows are faster (no halo).

The result is the engine's on the whole data: the same conflict and loss rows, the
same violations (a test compares them on a local cluster of two workers, with a
conflict across a window boundary).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deconfliction.analysis.engine import (
    CellStates,
    ConflictRows,
    cell_conflicts,
    conformance_rows,
    find_conflicts,
    find_violations,
    instant_range,
    split_by_cell,
    violation_order,
)
from deconfliction.analysis.regions import Cell, RegionGrid, cells_around
from deconfliction.analysis.tracks import (
    RowGroup,
    TrackTable,
    read_parquet_window_coded,
    read_tracks,
    row_group_time_span,
    row_groups,
)
from deconfliction.domain.conformance import (
    ConformanceMonitor,
    Violation,
    ViolationEventKind,
)
from deconfliction.domain.model import AlertLevel, BoolArray, IntArray
from deconfliction.domain.protocol import Protocol
from deconfliction.errors import InputError, Problem

if TYPE_CHECKING:
    from distributed import Client

TARGET_ROWS: int = 250_000
"""Positions per window: a few hundred MB of work in a worker at most, and enough
windows to keep every worker busy and the progress moving. On the benchmark (10
million positions, two workers) 250,000 was the fastest of 125,000 to 1 million
(8.0 s against 9.0 s at 125,000 and 9.2 s at a million) and the lightest after
125,000 (peak 500 MiB per worker against 1,070 MiB at a million)."""

WORKER_MALLOC_ENVIRON: dict[str, str] = {
    "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20),
    "MALLOC_MMAP_THRESHOLD_": str(64 * 2**20),
}
"""glibc settings of the local cluster's workers. Dask's nanny sets
``MALLOC_TRIM_THRESHOLD_=65536`` (hand memory back to the system at once), which also
freezes glibc's mmap threshold at 128 KiB: every array of a window is then a fresh
mapping, touched page by page, and the workers spend a third of their time in page
faults (measured: 271,000 against 447,000 positions/s on one core). Arrays up to
64 MiB come from the heap instead, and the heap is trimmed past 256 MiB free: memory
stays bounded by the window. A running cluster (``--scheduler``) keeps its own
settings: start its workers with these variables for the same speed."""

CONFLICTS_DIR: str = "conflicts"
LOSSES_DIR: str = "losses"
VIOLATIONS_FILE: str = "violations.parquet"
SUMMARY_FILE: str = "summary.json"

ProgressCallback = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages ``plan``, ``windows``, ``violations``."""


@dataclass(frozen=True, slots=True)
class Window:
    """One window of the history and what its task reads.

    Attributes:
        index: its number, in time order.
        t_from_s: start (a multiple of ``max_gap_s``).
        t_to_s: end (exclusive).
        k_from: first detection instant it owns.
        k_to: instant after the last it owns.
        groups: the row groups that overlap what it reads.
    """

    index: int
    t_from_s: float
    t_to_s: float
    k_from: int
    k_to: int
    groups: tuple[RowGroup, ...]


@dataclass(frozen=True, slots=True)
class WindowResult:
    """What one window's task found (small: the rows went to files).

    Attributes:
        index: the window.
        positions: positions it owns.
        conflicts_by_level: conflict rows (instant and pair) by level.
        conflict_pairs: the distinct pairs in conflict, ``a b``.
        losses: loss-of-separation rows.
        loss_pairs: the distinct pairs that lost separation.
        closest_predicted_nm: the smallest predicted miss distance, or None.
        closest_loss_nm: the smallest distance in a loss of separation, or None.
        conformance: the rows that decide its violations.
        seconds: how long the task took.
    """

    index: int
    positions: int
    conflicts_by_level: dict[str, int]
    conflict_pairs: frozenset[str]
    losses: int
    loss_pairs: frozenset[str]
    closest_predicted_nm: float | None
    closest_loss_nm: float | None
    conformance: TrackTable
    seconds: float


@dataclass(frozen=True, slots=True)
class AnalyzeSummary:
    """The outcome of a run.

    Attributes:
        protocol: ``id vN`` of the protocol.
        files: the input files.
        positions: positions read.
        start_t_s: the first position's time.
        end_t_s: the last position's time.
        windows: number of windows.
        instants: detection instants.
        conflicts_by_level: conflict rows by level.
        conflict_pairs: distinct pairs in conflict.
        losses: loss-of-separation rows.
        loss_pairs: distinct pairs that lost separation.
        violations_by_party: violations per party at fault.
        violations: total violations.
        closest_predicted_nm: smallest predicted miss distance.
        closest_loss_nm: smallest distance in a loss of separation.
        workers: Dask workers (0: in process).
        seconds: wall-clock time.
        out_dir: where the files are.
    """

    protocol: str
    files: tuple[str, ...]
    positions: int
    start_t_s: float | None
    end_t_s: float | None
    windows: int
    instants: int
    conflicts_by_level: dict[str, int]
    conflict_pairs: int
    losses: int
    loss_pairs: int
    violations_by_party: dict[str, int]
    violations: int
    closest_predicted_nm: float | None
    closest_loss_nm: float | None
    workers: int
    seconds: float
    out_dir: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def positions_per_s(self) -> float:
        """Positions analysed per second of wall-clock time."""
        return self.positions / self.seconds if self.seconds > 0 else 0.0

    def document(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        from deconfliction.timetext import rfc3339

        return {
            "protocol": self.protocol,
            "files": list(self.files),
            "positions": self.positions,
            "start": None if self.start_t_s is None else rfc3339(self.start_t_s),
            "end": None if self.end_t_s is None else rfc3339(self.end_t_s),
            "windows": self.windows,
            "detection_instants": self.instants,
            "conflicts": {
                "rows_by_level": self.conflicts_by_level,
                "rows": sum(self.conflicts_by_level.values()),
                "pairs": self.conflict_pairs,
            },
            "losses_of_separation": {"rows": self.losses, "pairs": self.loss_pairs},
            "violations": {
                "total": self.violations,
                "by_party": self.violations_by_party,
            },
            "closest_predicted_nm": _round(self.closest_predicted_nm),
            "closest_loss_nm": _round(self.closest_loss_nm),
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "positions_per_s": round(self.positions_per_s),
            **self.extra,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# --------------------------------------------------------------------------------------
# Output files


def conflict_arrow(rows: ConflictRows) -> Any:
    """Conflict rows as an Arrow table (``time`` a UTC timestamp, levels by name)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    labels = np.array([level.label for level in AlertLevel])
    micros = np.round(rows.t_s * 1e6).astype(np.int64)
    return pa.table(
        {
            "time": pa.array(micros, type=pa.timestamp("us", tz="UTC")),
            "t_s": rows.t_s,
            "a": pa.array(rows.a, type=pa.string()),
            "b": pa.array(rows.b, type=pa.string()),
            "party_a": pa.array(rows.party_a, type=pa.string()),
            "party_b": pa.array(rows.party_b, type=pa.string()),
            "level": pa.array(
                labels[rows.level - 1] if len(rows) else [], type=pa.string()
            ),
            "tcpa_s": rows.tcpa_s,
            "dcpa_nm": rows.dcpa_nm,
            "dalt_ft_at_cpa": rows.dalt_ft_at_cpa,
            "tin_s": rows.tin_s,
            "tout_s": rows.tout_s,
            "a_lat_deg": rows.a_lat_deg,
            "a_lon_deg": rows.a_lon_deg,
            "a_alt_ft": rows.a_alt_ft,
            "b_lat_deg": rows.b_lat_deg,
            "b_lon_deg": rows.b_lon_deg,
            "b_alt_ft": rows.b_alt_ft,
        }
    )


def loss_arrow(rows: ConflictRows) -> Any:
    """Loss-of-separation rows: the pair, and how far apart it is at the instant."""
    import pyarrow as pa

    table = conflict_arrow(rows)
    horizontal = rows.horizontal_nm()
    vertical = np.abs(rows.a_alt_ft - rows.b_alt_ft)
    return table.append_column(
        "horizontal_nm", pa.array(horizontal, pa.float64())
    ).append_column("vertical_ft", pa.array(vertical, pa.float64()))


def violation_arrow(violations: Sequence[Violation]) -> Any:
    """Violations as an Arrow table, one row each."""
    import pyarrow as pa

    def col(name: str) -> list[Any]:
        return [getattr(v, name) for v in violations]

    def times(name: str) -> Any:
        micros = [round(getattr(v, name) * 1e6) for v in violations]
        return pa.array(micros, type=pa.timestamp("us", tz="UTC"))

    return pa.table(
        {
            "kind": pa.array([v.kind.value for v in violations], pa.string()),
            "aircraft_id": pa.array(col("aircraft_id"), pa.string()),
            "party": pa.array(col("party"), pa.string()),
            "boundary_id": pa.array(col("boundary_id"), pa.string()),
            "entry_time": times("entry_t_s"),
            "exit_time": times("exit_t_s"),
            "entry_t_s": pa.array(col("entry_t_s"), pa.float64()),
            "exit_t_s": pa.array(col("exit_t_s"), pa.float64()),
            "duration_s": pa.array(col("duration_s"), pa.float64()),
            "deepest_t_s": pa.array(col("deepest_t_s"), pa.float64()),
            "deepest_lat_deg": pa.array(col("deepest_lat_deg"), pa.float64()),
            "deepest_lon_deg": pa.array(col("deepest_lon_deg"), pa.float64()),
            "deepest_alt_ft": pa.array(col("deepest_alt_ft"), pa.float64()),
            "depth_across_line_nm": pa.array(col("depth_across_line_nm"), pa.float64()),
            "depth_from_buffer_edge_nm": pa.array(
                col("depth_from_buffer_edge_nm"), pa.float64()
            ),
            "depth_inside_zone_nm": pa.array(col("depth_inside_zone_nm"), pa.float64()),
            "samples": pa.array(col("samples"), pa.int64()),
            "is_open": pa.array(col("is_open"), pa.bool_()),
        }
    )


def _write_part(out_dir: Path, sub: str, name: str, table: Any) -> None:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    folder = out_dir / sub
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"part-{name}.parquet")


def _clean_outputs(out_dir: Path) -> None:
    """Remove the parts of an earlier run, so that the folders hold this run only."""
    for sub in (CONFLICTS_DIR, LOSSES_DIR):
        folder = out_dir / sub
        if folder.is_dir():
            for part in folder.glob("part-*.parquet"):
                part.unlink()
    for name in (VIOLATIONS_FILE, SUMMARY_FILE):
        (out_dir / name).unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# Windows (tasks: module-level functions, sent to the workers by reference)


def _pair_keys(rows: ConflictRows) -> frozenset[str]:
    if len(rows) == 0:
        return frozenset()
    return frozenset(
        np.unique(np.char.add(np.char.add(rows.a, "\x1f"), rows.b)).tolist()
    )


def run_window(
    window: Window, protocol: Protocol, lead_s: float, out_dir: str
) -> WindowResult:
    """The task of one window (see the module docstring).

    Raises:
        InputError: if a row it reads is bad.
        OSError: if a file cannot be read or written.
    """
    started = time.perf_counter()
    table, codes, owned = _read(window, lead_s)
    rows = find_conflicts(table, protocol, window.k_from, window.k_to, codes=codes)
    losses = _write_conflicts(Path(out_dir), f"{window.index:06d}", rows)
    decisive = conformance_rows(protocol, table.take(owned), codes=codes[owned])
    positions = int(np.count_nonzero(owned))
    return _result(window.index, positions, rows, losses, decisive, started)


def split_window(
    window: Window, protocol: Protocol, lead_s: float, cells: list[Cell]
) -> tuple[list[CellStates], WindowResult]:
    """The first task of a window cut by region: read it once, cut its states by
    cell (each with its halo) for the cells' tasks, and reduce its positions to the
    rows that decide its violations.

    Raises:
        InputError: if a row it reads is bad.
        OSError: if a file cannot be read.
    """
    started = time.perf_counter()
    table, codes, owned = _read(window, lead_s)
    pieces = split_by_cell(table, protocol, window.k_from, window.k_to, cells, codes)
    decisive = conformance_rows(protocol, table.take(owned), codes=codes[owned])
    positions = int(np.count_nonzero(owned))
    none = ConflictRows.concat([])
    return pieces, _result(window.index, positions, none, none, decisive, started)


def run_cell(
    split: tuple[list[CellStates], WindowResult],
    k: int,
    protocol: Protocol,
    out_dir: str,
) -> WindowResult:
    """The task of one cell of a window: its conflicts (``split`` is the window's
    :func:`split_window`; the task runs where that lies and keeps its cell only)."""
    started = time.perf_counter()
    piece = split[0][k]
    rows = cell_conflicts(piece, protocol)
    index = split[1].index
    losses = _write_conflicts(Path(out_dir), f"{index:06d}-{piece.cell.name}", rows)
    return _result(index, 0, rows, losses, TrackTable.empty(), started)


def _window_part(split: tuple[list[CellStates], WindowResult]) -> WindowResult:
    """The window's own result of :func:`split_window` (a task)."""
    return split[1]


def _read(window: Window, lead_s: float) -> tuple[TrackTable, IntArray, BoolArray]:
    """A window's rows (from ``lead_s`` before it), their aircraft codes, and which
    rows it owns."""
    table, codes = read_parquet_window_coded(
        window.groups, window.t_from_s - lead_s, window.t_to_s
    )
    owned = (table.t_s >= window.t_from_s) & (table.t_s < window.t_to_s)
    return table, codes, owned


def _write_conflicts(out: Path, name: str, rows: ConflictRows) -> ConflictRows:
    """Write the conflict and loss parts; return the losses."""
    losses = rows.losses()
    _write_part(out, CONFLICTS_DIR, name, conflict_arrow(rows))
    _write_part(out, LOSSES_DIR, name, loss_arrow(losses))
    return losses


def _result(
    index: int,
    positions: int,
    rows: ConflictRows,
    losses: ConflictRows,
    decisive: TrackTable,
    started: float,
) -> WindowResult:
    labels = [level.label for level in AlertLevel]
    return WindowResult(
        index=index,
        positions=positions,
        conflicts_by_level={
            label: int(np.sum(rows.level == k + 1)) for k, label in enumerate(labels)
        },
        conflict_pairs=_pair_keys(rows),
        losses=len(losses),
        loss_pairs=_pair_keys(losses),
        closest_predicted_nm=float(rows.dcpa_nm.min()) if len(rows) else None,
        closest_loss_nm=float(losses.horizontal_nm().min()) if len(losses) else None,
        conformance=decisive,
        seconds=time.perf_counter() - started,
    )


def window_cells(grid: RegionGrid, window: Window, protocol: Protocol) -> list[Cell]:
    """The cells where a window's states may be: round the positions of its row
    groups, as far as the fastest of them flies in the stale time (a state is
    carried along that long). Empty when the row groups do not tell where they are
    (the window then runs whole)."""
    groups = window.groups
    if not groups:
        return []
    values = np.array(
        [
            (g.lat_min_deg, g.lat_max_deg, g.lon_min_deg, g.lon_max_deg, g.gs_max_kt)
            for g in groups
        ],
        dtype=np.float64,
    )
    if not np.all(np.isfinite(values)):
        return []
    reach_nm = float(values[:, 4].max()) * protocol.stale_after_s / 3600.0 + 1.0
    return cells_around(
        grid,
        float(values[:, 0].min()),
        float(values[:, 1].max()),
        float(values[:, 2].min()),
        float(values[:, 3].max()),
        reach_nm,
    )


@dataclass(frozen=True, slots=True)
class ConformanceState:
    """The chain's state between windows: the monitor and the violations closed."""

    monitor: ConformanceMonitor
    closed: tuple[Violation, ...]


def conformance_step(
    state: ConformanceState | None, result: WindowResult, protocol: Protocol
) -> ConformanceState:
    """Feed one window's decisive rows to the monitor (windows in time order)."""
    if state is None:
        state = ConformanceState(ConformanceMonitor(protocol), ())
    rows = result.conformance
    if len(rows) == 0:
        return state
    events = state.monitor.update(rows.positions())
    closed = tuple(e.violation for e in events if e.kind is ViolationEventKind.CLOSED)
    return ConformanceState(state.monitor, state.closed + closed)


def finish_violations(state: ConformanceState | None) -> list[Violation]:
    """Every violation: the closed ones and those still open at the end."""
    if state is None:
        return []
    out = [*state.closed, *state.monitor.open_violations()]
    out.sort(key=violation_order)
    return out


# --------------------------------------------------------------------------------------
# Planning


def plan_windows(
    groups: Sequence[RowGroup],
    protocol: Protocol,
    partition_s: float | None = None,
    target_rows: int = TARGET_ROWS,
) -> list[Window]:
    """Cut the history into windows.

    Args:
        groups: every row group with its time span.
        protocol: gives ``max_gap_s`` (windows start on its multiples), the detection
            interval and the stale time.
        partition_s: window length (rounded up to a multiple of ``max_gap_s``);
            default: about ``target_rows`` positions per window.
        target_rows: positions per window when ``partition_s`` is not given.

    Returns:
        The windows, in time order (none for an empty input).
    """
    spans = [g for g in groups if g.rows > 0 and math.isfinite(g.t_min_s)]
    if not spans:
        return []
    gap_s = protocol.conformance.max_gap_s
    dt_s = protocol.detection_interval_s
    t_first = min(g.t_min_s for g in spans)
    t_last = max(g.t_max_s for g in spans)
    rows = sum(g.rows for g in spans)
    if partition_s is None:
        per_s = rows / max(t_last - t_first, 1.0)
        partition_s = target_rows / per_s
    step_s = max(gap_s, math.ceil(partition_s / gap_s) * gap_s)
    start = math.floor(t_first / gap_s) * gap_s
    k_first, k_end = instant_range(t_first, t_last, dt_s, protocol.stale_after_s)
    lead_s = protocol.stale_after_s + dt_s
    out: list[Window] = []
    t = start
    index = 0
    while True:
        t_to = t + step_s
        last = t_to > t_last
        k_from = max(k_first, math.ceil(t / dt_s - 1e-9))
        k_to = k_end if last else max(k_from, math.ceil(t_to / dt_s - 1e-9))
        # The last window also owns the instants after the last position.
        read_to = t_to if not last else max(t_to, t_last + 1.0)
        chosen = tuple(
            g for g in spans if g.t_max_s >= t - lead_s and g.t_min_s < read_to
        )
        out.append(Window(index, t, read_to, k_from, k_to, chosen))
        if last:
            return out
        t = t_to
        index += 1


# --------------------------------------------------------------------------------------
# Running


def analyze(
    paths: Sequence[str | os.PathLike[str]],
    protocol: Protocol,
    out_dir: str | os.PathLike[str],
    client: Client,
    partition_s: float | None = None,
    progress: ProgressCallback | None = None,
    region_deg: float | None = None,
) -> AnalyzeSummary:
    """Find every conflict, loss of separation and violation on a Dask cluster.

    Args:
        paths: Parquet track files (every worker must be able to read them).
        protocol: the protocol.
        out_dir: where to write (every worker must be able to write there).
        client: a connected Dask client.
        partition_s: window length; default about :data:`TARGET_ROWS` positions.
        progress: called as ``progress(stage, done, total)``.
        region_deg: also cut each window by region, in cells of this many degrees
            of latitude and longitude (:mod:`deconfliction.analysis.regions`): one
            conflict task per window and cell, one conformance task per window.

    Returns:
        The summary (also written to ``summary.json``).

    Raises:
        InputError: for a file that is not a Parquet track file, or bad rows.
        OSError: if a file cannot be read or written.
    """
    from distributed import as_completed

    report = progress or _noop
    started = time.perf_counter()
    files = [os.fspath(Path(p).resolve()) for p in paths]
    layout = [(f, k, n, first) for f in files for k, n, first in row_groups(f)]
    out = Path(out_dir).resolve()  # made only once every input is known to be good
    out.mkdir(parents=True, exist_ok=True)
    _clean_outputs(out)
    report("plan", 0, len(layout))
    span_futures = client.map(
        row_group_time_span,
        [x[0] for x in layout],
        [x[1] for x in layout],
        [x[2] for x in layout],
        [x[3] for x in layout],
        pure=False,
    )
    groups: list[RowGroup] = []
    for done, future in enumerate(as_completed(span_futures), start=1):  # type: ignore[no-untyped-call]
        groups.append(future.result())
        report("plan", done, len(layout))
    del span_futures
    groups.sort(key=lambda g: (g.path, g.index))
    windows = plan_windows(groups, protocol, partition_s)
    lead_s = protocol.stale_after_s + protocol.detection_interval_s
    [protocol_future] = client.scatter([protocol], broadcast=True)  # type: ignore[no-untyped-call]
    grid = RegionGrid(region_deg) if region_deg else None
    futures: list[Any] = []  # every task
    chain: list[Any] = []  # the task of each window that reduces its positions
    for w in windows:
        cells = window_cells(grid, w, protocol) if grid is not None else []
        if not cells:
            futures.append(
                client.submit(
                    run_window, w, protocol_future, lead_s, os.fspath(out), pure=False
                )
            )
            chain.append(futures[-1])
            continue
        split = client.submit(
            split_window, w, protocol_future, lead_s, cells, pure=False
        )
        for k in range(len(cells)):
            futures.append(
                client.submit(
                    run_cell, split, k, protocol_future, os.fspath(out), pure=False
                )
            )
        chain.append(client.submit(_window_part, split, pure=False))
        futures.append(chain[-1])
    # The conformance chain: each step waits for its window and the step before.
    state: Any = None
    for f in chain:
        state = client.submit(conformance_step, state, f, protocol_future, pure=False)
    final = client.submit(finish_violations, state, pure=False) if futures else None
    # The client gets each window's counts only; its decisive rows stay with the chain.
    lights = [client.submit(_light, f, pure=False) for f in futures]
    del futures, chain, state
    results: list[WindowResult] = []
    report("windows", 0, len(lights))
    for done, future in enumerate(as_completed(lights), start=1):  # type: ignore[no-untyped-call]
        results.append(future.result())
        report("windows", done, len(lights))
    del lights
    report("violations", 0, 1)
    violations = final.result() if final is not None else []
    report("violations", 1, 1)
    workers = len(client.scheduler_info().get("workers", {}))
    return _finish(
        protocol,
        files,
        groups,
        windows,
        results,
        violations,
        out,
        workers,
        started,
        {"region_deg": region_deg, "tasks": len(results)},
    )


def _light(result: WindowResult) -> WindowResult:
    """A window's result without its decisive rows (a task: runs on a worker)."""
    return WindowResult(
        result.index,
        result.positions,
        result.conflicts_by_level,
        result.conflict_pairs,
        result.losses,
        result.loss_pairs,
        result.closest_predicted_nm,
        result.closest_loss_nm,
        TrackTable.empty(),
        result.seconds,
    )


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _finish(
    protocol: Protocol,
    files: Sequence[str],
    groups: Sequence[RowGroup],
    windows: Sequence[Window],
    results: Sequence[WindowResult],
    violations: Sequence[Violation],
    out: Path,
    workers: int,
    started: float,
    extra: dict[str, Any] | None = None,
) -> AnalyzeSummary:
    import pyarrow.parquet as pq

    pq.write_table(violation_arrow(violations), out / VIOLATIONS_FILE)
    labels = [level.label for level in AlertLevel]
    by_level = {
        label: sum(r.conflicts_by_level[label] for r in results) for label in labels
    }
    by_party: dict[str, int] = dict.fromkeys(protocol.parties, 0)
    for v in violations:
        by_party[v.party] = by_party.get(v.party, 0) + 1
    spans = [g for g in groups if g.rows > 0 and math.isfinite(g.t_min_s)]
    predicted = [
        r.closest_predicted_nm for r in results if r.closest_predicted_nm is not None
    ]
    lost = [r.closest_loss_nm for r in results if r.closest_loss_nm is not None]
    instants = sum(w.k_to - w.k_from for w in windows)
    summary = AnalyzeSummary(
        protocol=f"{protocol.id} v{protocol.version}",
        files=tuple(files),
        positions=sum(r.positions for r in results),
        start_t_s=min(g.t_min_s for g in spans) if spans else None,
        end_t_s=max(g.t_max_s for g in spans) if spans else None,
        windows=len(windows),
        instants=instants,
        conflicts_by_level=by_level,
        conflict_pairs=len(frozenset().union(*(r.conflict_pairs for r in results))),
        losses=sum(r.losses for r in results),
        loss_pairs=len(frozenset().union(*(r.loss_pairs for r in results))),
        violations_by_party=by_party,
        violations=len(violations),
        closest_predicted_nm=min(predicted) if predicted else None,
        closest_loss_nm=min(lost) if lost else None,
        workers=workers,
        seconds=time.perf_counter() - started,
        out_dir=os.fspath(out),
        extra=dict(extra or {}),
    )
    text = json.dumps(summary.document(), indent=2, allow_nan=False)
    (out / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")
    return summary


def analyze_in_process(
    paths: Sequence[str | os.PathLike[str]],
    protocol: Protocol,
    out_dir: str | os.PathLike[str],
) -> AnalyzeSummary:
    """The single-machine engine on the whole data at once, writing the same files
    (one part each): what :func:`analyze` must reproduce.

    Raises:
        InputError: for bad rows.
        OSError: if a file cannot be read or written.
    """
    started = time.perf_counter()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    _clean_outputs(out)
    files = [os.fspath(p) for p in paths]
    table = TrackTable.concat([read_tracks(p) for p in files])
    if len(table) == 0:
        raise InputError([Problem(",".join(files), None, "", "no positions")])
    rows = find_conflicts(table, protocol)
    losses = _write_conflicts(out, f"{0:06d}", rows)
    violations = find_violations(protocol, table)
    k0, k1 = instant_range(
        float(table.t_s.min()),
        float(table.t_s.max()),
        protocol.detection_interval_s,
        protocol.stale_after_s,
    )
    result = _result(0, len(table), rows, losses, TrackTable.empty(), started)
    span = RowGroup(
        files[0], 0, len(table), 0, float(table.t_s.min()), float(table.t_s.max())
    )
    window = Window(0, span.t_min_s, span.t_max_s, k0, k1, (span,))
    return _finish(
        protocol, files, [span], [window], [result], violations, out, 0, started
    )


def start_cluster(
    scheduler: str | None, workers: int | None = None, memory_limit: str = "auto"
) -> tuple[Client, Any]:
    """A client: of the cluster at ``scheduler``, or of a new local cluster.

    The local cluster has one single-threaded worker process per core (``workers``
    to choose), so that numpy's work is not fought over by threads.

    Returns:
        ``(client, cluster)``; ``cluster`` is None for a running cluster. Close both.

    Raises:
        OSError: if the scheduler cannot be reached.
    """
    from distributed import Client

    if scheduler:
        return Client(scheduler, timeout="20s"), None  # type: ignore[no-untyped-call]
    import dask

    # Without bokeh there is no dashboard, but the scheduler still serves HTTP
    # (health, metrics): on any free port then, not on the dashboard's.
    dashboard = ":8787" if has_dashboard_support() else ":0"
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.update(WORKER_MALLOC_ENVIRON)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        try:
            cluster = _local_cluster(workers, memory_limit, dashboard)
        except RuntimeError as exc:
            if dashboard == ":0" or "already in use" not in str(exc):
                raise
            # Another cluster (or anything) has the dashboard's usual port.
            cluster = _local_cluster(workers, memory_limit, ":0")
    return Client(cluster), cluster  # type: ignore[no-untyped-call]


def _local_cluster(
    workers: int | None, memory_limit: str, dashboard: str | None
) -> Any:
    from distributed import LocalCluster

    return LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=dashboard,
    )


def has_dashboard_support() -> bool:
    """Whether Dask can serve its dashboard here (it needs bokeh)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def dashboard_link(client: Client, local: bool) -> str | None:
    """The dashboard's address, when there is one: a local cluster serves it only
    where bokeh is installed; a running cluster's scheduler says whether it does."""
    if local and not has_dashboard_support():
        return None
    services = client.scheduler_info().get("services", {})
    if "dashboard" not in services:
        return None
    return str(client.dashboard_link)
