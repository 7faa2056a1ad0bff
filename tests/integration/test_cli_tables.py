"""``--format table`` at 80 columns: nothing a duty officer reads is cut (ids,
parties, levels, times), and no line is wider than the terminal."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deconfliction.cli.app import build_app
from tests.integration.test_cli_plan import (
    CLEAR_EAST,
    WEST_OF_RAQQA,
    circle,
    operation,
    write,
)

NARROW = {"COLUMNS": "80"}
STATES = """id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm,party
FALCON11,35.0,38.0,30000,450,90,0,coalition
RUS062,35.0,38.5,30000,450,270,0,russia
VIPER21,35.2,38.0,31000,450,90,0,coalition
RFF4412,35.2,38.4,31500,450,270,-500,russia
"""


def _fits(output: str) -> None:
    assert "…" not in output, output
    widest = max(len(line) for line in output.splitlines())
    assert widest <= 80, output


def test_detect_table_fits_80_columns(tmp_path: Path) -> None:
    states = tmp_path / "states.csv"
    states.write_text(STATES, encoding="utf-8")
    app = build_app()
    result = CliRunner().invoke(
        app, ["detect", str(states), "--format", "table"], env=NARROW
    )
    assert result.exit_code == 0, result.output
    _fits(result.output)
    for word in ("FALCON11", "RUS062", "VIPER21", "RFF4412", "coalition", "russia"):
        assert word in result.output
    assert result.output.count("conflict ") == 2  # the level, whole, on each row
    wide = CliRunner().invoke(app, ["detect", str(states)])
    for rec in json.loads(wide.output):
        assert f"{rec['tcpa_s']:.1f}" in result.output
        assert f"{rec['tin_s']:.1f}" in result.output
        assert f"{rec['tout_s']:.1f}" in result.output


def test_plan_check_table_fits_80_columns(tmp_path: Path) -> None:
    night = circle(35.0, 41.0, 10.0, "2017-12-13T22:00:00Z", "2017-12-14T02:00:00Z")
    op = write(
        tmp_path / "busy.json",
        operation("C2", "coalition", CLEAR_EAST, WEST_OF_RAQQA, night),
    )
    late = circle(35.0, 41.2, 3.0, "2017-12-13T23:00:00Z", "2017-12-14T01:00:00Z")
    others = write(
        tmp_path / "russian.json",
        [
            operation("R1", "russia", circle(35.0, 41.31, 3.0, lower_ft=25_500)),
            operation("R4", "russia", late),
        ],
    )
    _relabel(op)
    _relabel(others)
    result = CliRunner().invoke(
        build_app(),
        [
            *("plan", "check", str(op), "--protocol", "euphrates-2017"),
            *("--against", str(others), "--format", "table"),
        ],
        env=NARROW,
    )
    assert result.exit_code == 1, result.output
    _fits(result.output)
    for text in ("russia R1", "russia R4", "euphrates", "10:00-12:00"):
        assert text in result.output
    assert "2017-12-13 23:00" in result.output and "2017-12-14 01:00" in result.output
    assert "25000-26500" in result.output and "2017-12-13" in result.output


def _relabel(path: Path) -> None:
    """Operations of a kind the shipped protocol knows."""
    text = path.read_text(encoding="utf-8").replace(
        '"kind": "cap"', '"kind": "air_patrol"'
    )
    path.write_text(text, encoding="utf-8")
