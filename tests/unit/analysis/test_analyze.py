"""Tests of deconfliction.analysis.analyze (planning and the conformance chain; the
run on a Dask cluster is in tests/integration/test_analyze.py)."""

from __future__ import annotations

import itertools
import math

import pytest

from deconfliction.analysis.analyze import (
    ConformanceState,
    WindowResult,
    conformance_step,
    finish_violations,
    plan_windows,
)
from deconfliction.analysis.engine import (
    conformance_rows,
    find_violations,
    instant_range,
)
from deconfliction.analysis.tracks import RowGroup, TrackTable
from tests.unit.analysis.helpers import T0_S, euphrates, reference_traffic


def _groups(t_first_s: float, t_last_s: float, rows: int, n: int = 4) -> list[RowGroup]:
    step = (t_last_s - t_first_s) / n
    return [
        RowGroup(
            "f.parquet",
            k,
            rows // n,
            k * rows // n,
            t_first_s + k * step,
            t_first_s + (k + 1) * step,
        )
        for k in range(n)
    ]


class TestPlanWindows:
    def test_windows_tile_time_and_instants(self) -> None:
        protocol = euphrates()
        t_first, t_last = T0_S + 17.0, T0_S + 7300.0
        windows = plan_windows(_groups(t_first, t_last, 10_000), protocol, 600.0)
        assert [w.index for w in windows] == list(range(len(windows)))
        for w in windows:
            assert w.t_from_s % protocol.conformance.max_gap_s == 0.0
        for a, b in itertools.pairwise(windows):
            assert a.t_to_s == b.t_from_s
            assert a.k_to == b.k_from
        assert windows[0].t_from_s <= t_first < windows[0].t_to_s
        assert windows[-1].t_to_s > t_last
        k0, k1 = instant_range(t_first, t_last, 5.0, protocol.stale_after_s)
        assert (windows[0].k_from, windows[-1].k_to) == (k0, k1)

    def test_length_rounds_up_to_the_gap(self) -> None:
        windows = plan_windows(_groups(T0_S, T0_S + 3600.0, 100), euphrates(), 400.0)
        assert windows[1].t_from_s - windows[0].t_from_s == 600.0

    def test_default_length_from_the_density(self) -> None:
        windows = plan_windows(
            _groups(T0_S, T0_S + 36_000.0, 1_000_000), euphrates(), target_rows=100_000
        )
        assert len(windows) == pytest.approx(10, abs=1)

    def test_each_window_reads_only_overlapping_row_groups(self) -> None:
        groups = _groups(T0_S, T0_S + 4 * 3600.0, 4000)
        windows = plan_windows(groups, euphrates(), 3600.0)
        assert [len(w.groups) for w in windows][1:3] == [2, 2]  # its own, the lead
        assert windows[0].groups == (groups[0],)

    def test_nothing_to_plan(self) -> None:
        empty = RowGroup("f", 0, 0, 0, math.nan, math.nan)
        assert plan_windows([empty], euphrates()) == []


class TestConformanceChain:
    def test_the_chain_gives_the_batch_violations(self) -> None:
        table = reference_traffic()
        state: ConformanceState | None = None
        start = math.floor(table.t_s.min() / 300.0) * 300.0
        for k in range(int((table.t_s.max() - start) // 900.0) + 1):
            lo = start + k * 900.0
            part = table.take((table.t_s >= lo) & (table.t_s < lo + 900.0))
            result = WindowResult(
                k,
                len(part),
                {},
                frozenset(),
                0,
                frozenset(),
                None,
                None,
                conformance_rows(euphrates(), part),
                0.0,
            )
            state = conformance_step(state, result, euphrates())
        assert finish_violations(state) == find_violations(euphrates(), table)

    def test_no_windows(self) -> None:
        assert finish_violations(None) == []
        empty = WindowResult(
            0, 0, {}, frozenset(), 0, frozenset(), None, None, TrackTable.empty(), 0.0
        )
        assert finish_violations(conformance_step(None, empty, euphrates())) == []
