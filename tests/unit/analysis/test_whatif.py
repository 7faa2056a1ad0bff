"""Tests of deconfliction.analysis.whatif."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from deconfliction.analysis.engine import find_violations
from deconfliction.analysis.tracks import TrackTable
from deconfliction.analysis.whatif import (
    OPTIONS_2015,
    compare,
    options_2015,
    plot_whatif,
    replay,
    run_options_whatif,
    table_rows,
)
from deconfliction.domain.alert_tracker import AlertEventKind, AlertTracker
from deconfliction.domain.detect import detect_conflicts
from deconfliction.domain.model import AlertLevel, SeparationMinima
from deconfliction.domain.protocol import SharingLevel
from tests.unit.analysis.helpers import T0_S, euphrates, head_on, reference_traffic

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _tracker_reference(table: TrackTable) -> list[tuple[str, str, float, str]]:
    """Alerts as the demo makes them: detect_conflicts on each snapshot, one tracker."""
    protocol = euphrates()
    tracker = AlertTracker(clear_after_s=2 * protocol.detection_interval_s)
    out = []
    for t in np.unique(table.t_s):
        snap = table.states(np.flatnonzero(table.t_s == t))
        found = detect_conflicts(snap, protocol.detection_settings())
        events = tracker.update(float(t), snap, found)
        out += [e.alert for e in events if e.kind is AlertEventKind.CLEARED]
    out += [e.alert for e in tracker.clear_all(float(table.t_s.max()))]
    return sorted((a.a_id, a.b_id, a.first_seen_t_s, a.max_level.label) for a in out)


class TestReplay:
    def test_alerts_are_those_of_a_tracker_on_each_snapshot(self) -> None:
        table = reference_traffic()
        outcome = replay(table, euphrates())
        got = sorted(
            (a.a_id, a.b_id, a.first_seen_t_s, a.max_level.label)
            for a in outcome.alerts
        )
        assert got == _tracker_reference(table)
        assert got

    def test_a_head_on_encounter_is_one_warning_and_one_loss(self) -> None:
        outcome = replay(head_on(T0_S + 900.0), euphrates())
        assert outcome.conflicts_by_level() == {
            "conflict": 0,
            "advisory": 0,
            "warning": 1,
        }
        assert len(outcome.losses) == 1
        loss = outcome.losses[0]
        assert (loss.a, loss.b) == ("COA1", "RUS1")
        assert loss.min_horizontal_nm < 0.1
        assert loss.start_t_s < T0_S + 900.0 < loss.end_t_s

    def test_violations_are_the_batch_ones(self) -> None:
        table = reference_traffic()
        outcome = replay(table, euphrates())
        assert list(outcome.violations) == find_violations(euphrates(), table)

    def test_empty_traffic(self) -> None:
        outcome = replay(TrackTable.empty(), euphrates())
        assert outcome.instants == 0 and outcome.alerts == ()


class TestCompare:
    def test_a_wider_buffer_catches_more(self) -> None:
        base = euphrates()
        line = base.lines[0]
        wide = replace(base, lines=(replace(line, buffer_nm=25.0),), zones=())
        narrow = replace(base, lines=(replace(line, buffer_nm=5.0),), zones=())
        whatif = compare(reference_traffic(), [("narrow", narrow), ("wide", wide)])
        counts = [len(o.violations) for o in whatif.outcomes]
        assert counts[1] > counts[0] > 0

    def test_larger_minima_more_conflicts(self) -> None:
        base = euphrates()
        big = replace(base, minima=SeparationMinima(20.0, 2000.0))
        whatif = compare(reference_traffic(), [("5 NM", base), ("20 NM", big)])
        assert len(whatif.outcomes[1].alerts) > len(whatif.outcomes[0].alerts)

    def test_document_and_table(self) -> None:
        whatif = compare(reference_traffic(), [("a", euphrates())])
        doc = whatif.document()
        json.dumps(doc, allow_nan=False)
        assert doc["parties"] == ["coalition", "russia"]
        (summary,) = doc["protocols"]
        assert summary["conflicts"] == whatif.outcomes[0].conflicts_by_level()
        rows = dict(table_rows(whatif))
        assert rows["conflict alerts: total"] == [str(len(whatif.outcomes[0].alerts))]
        assert "violations: russia" in rows


class TestPlotWhatif:
    def test_writes_a_png(self, tmp_path: Path) -> None:
        whatif = compare(
            reference_traffic(0.5), [("a", euphrates()), ("b", euphrates())]
        )
        path = tmp_path / "w.png"
        plot_whatif(path, whatif)
        assert path.read_bytes()[:8] == PNG_MAGIC


class TestOptions2015:
    def test_three_options_differ_as_designed(self) -> None:
        options = dict(options_2015())
        assert tuple(options) == OPTIONS_2015
        zones, coordination, partnership = (options[k] for k in OPTIONS_2015)
        assert zones.sharing is SharingLevel.ZONES and not zones.lines
        assert {z.owner for z in zones.zones} == {"coalition", "russia"}
        assert coordination.sharing is SharingLevel.CONFLICTS
        assert coordination.lines[0].buffer_nm == 5.0
        assert partnership.sharing is SharingLevel.FULL
        assert not partnership.lines and not partnership.zones

    def test_run_options_whatif(self, tmp_path: Path) -> None:
        whatif = run_options_whatif(reference_traffic(), tmp_path / "out")
        assert (tmp_path / "out" / "whatif-options-2015.png").read_bytes()[
            :8
        ] == PNG_MAGIC
        doc = json.loads((tmp_path / "out" / "whatif-options-2015.json").read_text())
        assert [p["label"] for p in doc["protocols"]] == list(OPTIONS_2015)
        by_label = {o.label: o for o in whatif.outcomes}
        # Excursions across the river enter the other side's zone, and cross the line.
        assert len(by_label["zones"].violations) > 0
        assert len(by_label["coordination"].violations) > 0
        assert by_label["partnership"].violations == ()
        levels = {
            o.label: o.conflicts_by_level()[AlertLevel.WARNING.label]
            for o in whatif.outcomes
        }
        assert levels["zones"] == levels["coordination"]
