"""``deconfliction demo`` end to end, through the command line, on 3 hours."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from deconfliction.cli import demo as demo_cli

# Enough excursions and encounters that 3 hours hold some of each.
BUSY = ["--hours", "3", "--excursions-per-day", "40", "--encounters-per-day", "16"]
FILES = (
    "summary.json",
    "conflicts.csv",
    "conflicts.geojson",
    "violations.csv",
    "violations.geojson",
    "tracks.csv",
    "map.png",
)


def _app() -> typer.Typer:
    app = typer.Typer()
    demo_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps "demo" a subcommand, as in the real app
        pass

    return app


def _run(*args: str) -> Result:
    return CliRunner().invoke(_app(), ["demo", *args])


@pytest.fixture(scope="module")
def busy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("demo") / "out"
    return _run(*BUSY, "--seed", "7", "--out", str(out)), out


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _check_geojson(doc: dict[str, Any]) -> None:
    assert doc["type"] == "FeatureCollection"
    for f in doc["features"]:
        assert f["type"] == "Feature" and isinstance(f["properties"], dict)
        coords = f["geometry"]["coordinates"]
        for lon, lat in [coords] if f["geometry"]["type"] == "Point" else coords:
            # the Syrian theatre: longitude first
            assert 30.0 < lon < 50.0 and 28.0 < lat < 40.0


class TestDemoCommand:
    def test_runs_and_prints_a_summary(self, busy_run: tuple[Result, Path]) -> None:
        result, out = busy_run
        assert result.exit_code == 0, result.output
        for word in (
            "sorties",
            "conflict alerts",
            "violations",
            "smallest predicted miss",
            "closest actual approach",
        ):
            assert word in result.output
        assert sorted(p.name for p in out.iterdir()) == sorted(FILES)

    def test_summary_has_the_promised_keys(self, busy_run: tuple[Result, Path]) -> None:
        _, out = busy_run
        s = _json(out / "summary.json")
        assert s["hours"] == 3.0 and s["seed"] == 7
        assert s["protocol"] == {
            "id": "euphrates-2017",
            "version": 1,
            "title": "Euphrates deconfliction line and zones (2017)",
        }
        assert set(s["sorties"]) == {"coalition", "russia"}
        assert all(n > 0 for n in s["sorties"].values())
        assert set(s["conflicts"]) == {"conflict", "advisory", "warning"}
        for party in ("coalition", "russia"):
            v = s["violations"][party]
            assert list(v["by_hour"]) == [f"{h:02d}" for h in range(24)]
            assert sum(v["by_hour"].values()) == v["total"]
        assert s["start"] == "2017-12-13T00:00:00Z"
        assert s["end"] == "2017-12-13T03:00:00Z"

    def test_planned_encounters_raise_warning_and_advisory(
        self, busy_run: tuple[Result, Path]
    ) -> None:
        _, out = busy_run
        s = _json(out / "summary.json")
        kinds = {e["kind"] for e in s["planned"]["encounters"]}
        assert kinds == {"near-collision", "close-pass"}
        assert s["conflicts"]["warning"] >= 1
        assert s["conflicts"]["advisory"] + s["conflicts"]["warning"] >= 2
        # the near-collision is the closest actual approach, within the warning
        # thresholds; named apart from the smallest miss an alert predicted
        assert "closest_approach_nm" not in s and "closest_approach" not in s
        assert s["closest_actual_nm"] < 0.5
        conflicts = _rows(out / "conflicts.csv")
        assert s["smallest_predicted_miss_nm"] == min(
            float(r["min_dcpa_nm"]) for r in conflicts
        )
        ca = s["closest_actual"]
        assert {ca["party_a"], ca["party_b"]} == {"coalition", "russia"}
        assert ca["vertical_ft"] < 1000.0
        pairs = {(r["a"], r["b"]): r["max_level"] for r in conflicts}
        for e in s["planned"]["encounters"]:
            pair = tuple(sorted((e["intruder_id"], e["target_id"])))
            wanted = "warning" if e["kind"] == "near-collision" else "advisory"
            assert pairs.get(pair) == wanted, (e, pairs)

    def test_every_planned_excursion_is_a_violation(
        self, busy_run: tuple[Result, Path]
    ) -> None:
        _, out = busy_run
        s = _json(out / "summary.json")
        assert s["planned"]["excursions"]
        violations = _rows(out / "violations.csv")
        on_line = {(r["aircraft_id"], r["boundary_id"]) for r in violations}
        for e in s["planned"]["excursions"]:
            assert (e["aircraft_id"], "euphrates") in on_line

    def test_geojson_files_are_valid(self, busy_run: tuple[Result, Path]) -> None:
        _, out = busy_run
        conflicts = _json(out / "conflicts.geojson")
        violations = _json(out / "violations.geojson")
        _check_geojson(conflicts)
        _check_geojson(violations)
        assert len(conflicts["features"]) == len(_rows(out / "conflicts.csv"))
        assert len(violations["features"]) == len(_rows(out / "violations.csv"))

    def test_tracks_cover_every_sortie(self, busy_run: tuple[Result, Path]) -> None:
        _, out = busy_run
        s = _json(out / "summary.json")
        rows = _rows(out / "tracks.csv")
        assert list(rows[0]) == [
            "id",
            "party",
            "time",
            "lat",
            "lon",
            "alt_ft",
            "gs_kt",
            "trk_deg",
            "vs_fpm",
        ]
        assert len(rows) == s["positions"]
        assert len({r["id"] for r in rows}) == sum(s["sorties"].values())
        assert rows[0]["time"].endswith("Z")

    def test_map_is_a_real_png(self, busy_run: tuple[Result, Path]) -> None:
        _, out = busy_run
        data = (out / "map.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 1000 and height >= 800
        assert len(data) > 100_000  # borders, tracks and labels, not a blank canvas

    def test_same_seed_same_results(self, tmp_path: Path) -> None:
        args = ["--hours", "1", "--seed", "3"]
        assert _run(*args, "--out", str(tmp_path / "a")).exit_code == 0
        assert _run(*args, "--out", str(tmp_path / "b")).exit_code == 0
        for name in ("summary.json", "conflicts.csv", "violations.csv", "tracks.csv"):
            a = (tmp_path / "a" / name).read_bytes()
            assert a == (tmp_path / "b" / name).read_bytes(), name

    def test_an_unknown_protocol_is_an_error_not_a_traceback(
        self, tmp_path: Path
    ) -> None:
        result = _run(
            "--hours", "1", "--protocol", "nowhere-1999", "--out", str(tmp_path)
        )
        assert result.exit_code == 2
        assert "error" in result.output and "Traceback" not in result.output

    def test_a_protocol_without_a_line_for_the_scenario_is_an_error(
        self, tmp_path: Path
    ) -> None:
        result = _run(
            "--hours", "1", "--protocol", "syria-2015", "--out", str(tmp_path)
        )
        assert result.exit_code == 2
        assert "needs a line" in result.output

    @pytest.mark.parametrize("bad", [["--hours", "0"], ["--excursions-per-day", "-1"]])
    def test_bad_options_are_usage_errors(self, bad: list[str], tmp_path: Path) -> None:
        assert _run(*bad, "--out", str(tmp_path)).exit_code == 2
