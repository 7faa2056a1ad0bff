"""``analyze`` on a local Dask cluster of two workers against the single-machine
engine, with a conflict across a window boundary and an excursion across several."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from deconfliction.analysis import analyze as engine
from deconfliction.analysis.tracks import TrackTable, write_tracks_parquet
from deconfliction.cli import analyze as analyze_cli
from tests.unit.analysis.helpers import (
    T0_S,
    euphrates,
    flight,
    head_on,
    reference_traffic,
)

WINDOW_S = 600.0
BOUNDARY_S = T0_S + 1200.0  # between the second and the third window


def _history() -> TrackTable:
    """Two hours of the reference traffic, plus: a head-on pair meeting just after a
    window boundary, its positions every 15 s off the instants (so instants after
    the boundary use positions before it), and an aircraft 40 minutes inside the
    Hmeimim zone (across four windows)."""
    meeting = head_on(BOUNDARY_S + 40.0, lat_deg=33.0, lon_deg=44.0, step_s=15.0)
    shifted = TrackTable(
        meeting.ids,
        meeting.party,
        meeting.t_s + 3.0,
        *(
            getattr(meeting, n)
            for n in ("lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")
        ),
    )
    loiter = flight(
        "COA9",
        "coalition",
        35.40,
        35.70,
        90.0,
        T0_S + 900.0,
        120,
        step_s=20.0,
        gs_kt=40.0,
    )
    return TrackTable.concat([reference_traffic(), shifted, loiter]).in_time_order()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "tracks.parquet"
    write_tracks_parquet(path, _history(), row_group_rows=3000)
    return path


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # never the dashboard port another test may hold
        memory_limit="2GiB",
    ) as local:
        yield local


@pytest.fixture(scope="module")
def reference(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    engine.analyze_in_process([history], euphrates(), out)
    return out


def _sorted(path: Path, keys: list[str]) -> Any:
    table = pq.read_table(path)
    return table.sort_by([(k, "ascending") for k in keys])


def _same_outputs(a: Path, b: Path) -> None:
    for sub in (engine.CONFLICTS_DIR, engine.LOSSES_DIR):
        left = _sorted(a / sub, ["t_s", "a", "b"])
        right = _sorted(b / sub, ["t_s", "a", "b"])
        assert left.num_rows > 0
        assert left.equals(right), sub
    left = pq.read_table(a / engine.VIOLATIONS_FILE)
    assert left.num_rows > 0
    assert left.equals(pq.read_table(b / engine.VIOLATIONS_FILE))


class TestAnalyzeOnDask:
    def test_same_as_the_single_machine_engine(
        self, history: Path, reference: Path, cluster: Any, tmp_path: Path
    ) -> None:
        from distributed import Client

        with Client(cluster) as client:
            summary = engine.analyze(
                [history], euphrates(), tmp_path, client, partition_s=WINDOW_S
            )
        assert summary.windows >= 12
        assert summary.workers == 2
        _same_outputs(reference, tmp_path)
        doc = summary.document()
        ref = (reference / engine.SUMMARY_FILE).read_text(encoding="utf-8")
        import json

        ref_doc = json.loads(ref)
        for key in ("positions", "conflicts", "losses_of_separation", "violations"):
            assert doc[key] == ref_doc[key], key

    def test_cut_by_region_too(
        self, history: Path, reference: Path, cluster: Any, tmp_path: Path
    ) -> None:
        """Windows and 1-degree cells: the head-on pair meets at 33 N, 44 E, on
        the corner of four cells, across a window boundary."""
        from distributed import Client

        with Client(cluster) as client:
            summary = engine.analyze(
                [history],
                euphrates(),
                tmp_path,
                client,
                partition_s=WINDOW_S,
                region_deg=1.0,
            )
        assert summary.extra["tasks"] > 3 * summary.windows
        parts = list((tmp_path / engine.CONFLICTS_DIR).glob("part-*-r*c*.parquet"))
        assert len(parts) == summary.extra["tasks"] - summary.windows
        _same_outputs(reference, tmp_path)

    def test_the_conflict_across_the_boundary_is_whole(
        self, history: Path, cluster: Any, tmp_path: Path
    ) -> None:
        from distributed import Client

        with Client(cluster) as client:
            engine.analyze(
                [history], euphrates(), tmp_path, client, partition_s=WINDOW_S
            )
        rows = pq.read_table(tmp_path / engine.CONFLICTS_DIR).to_pandas()
        pair = rows[(rows.a == "COA1") & (rows.b == "RUS1")]
        before = pair[pair.t_s < BOUNDARY_S]
        after = pair[pair.t_s >= BOUNDARY_S]
        assert len(before) > 0 and len(after) > 0
        # Every instant once, none missing: consecutive, 5 s apart.
        times = sorted(pair.t_s.tolist())
        assert len(times) == len(set(times))
        assert all(b - a == 5.0 for a, b in itertools.pairwise(times))
        # The first instant after the boundary uses a position from before it.
        assert BOUNDARY_S in times

    def test_the_long_excursion_is_one_violation(
        self, history: Path, reference: Path
    ) -> None:
        violations = pq.read_table(reference / engine.VIOLATIONS_FILE).to_pandas()
        loiter = violations[violations.aircraft_id == "COA9"]
        assert (loiter.duration_s > 3 * WINDOW_S).any()


def _app() -> typer.Typer:
    app = typer.Typer()
    analyze_cli.register(app)

    @app.callback()
    def _root() -> None:
        pass

    return app


class TestAnalyzeCommand:
    def test_on_a_running_cluster(
        self, history: Path, reference: Path, cluster: Any, tmp_path: Path
    ) -> None:
        result = CliRunner().invoke(
            _app(),
            [
                "analyze",
                str(history),
                "--scheduler",
                cluster.scheduler_address,
                "--out",
                str(tmp_path),
                "--partition-s",
                "900",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "2 workers" in result.output
        assert "Dashboard:" in result.output
        assert "positions/s" in result.output
        _same_outputs(reference, tmp_path)

    def test_csv_is_refused(self, tmp_path: Path, cluster: Any) -> None:
        bad = tmp_path / "tracks.csv"
        bad.write_text("id,party,time\n", encoding="utf-8")
        result = CliRunner().invoke(
            _app(),
            [
                "analyze",
                str(bad),
                "--scheduler",
                cluster.scheduler_address,
                "--out",
                str(tmp_path / "out"),
            ],
        )
        assert result.exit_code == 2
        assert "not a Parquet file" in result.output


class TestDashboard:
    def test_the_local_cluster_serves_its_dashboard_from_here(self) -> None:
        """The dashboard's address is printed, and the page loads its scripts and
        styles from the scheduler itself (an air-gapped network has no CDN)."""
        import re
        import urllib.request

        client, cluster = engine.start_cluster(None, 1, "1GiB")
        try:
            link = engine.dashboard_link(client, local=True)
            assert link is not None and link.startswith("http://")
            with urllib.request.urlopen(link, timeout=30) as response:
                html = response.read().decode("utf-8")
        finally:
            client.close()
            cluster.close()
        loaded = re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"([^\"]+)\"", html)
        assert any("bokeh" in u for u in loaded)
        assert not [u for u in loaded if re.match(r"^([a-z]+:)?//", u, re.I)]
