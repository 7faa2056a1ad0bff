"""``deconfliction daa``: outputs on a hand-made scenario, bad input located, exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from deconfliction.adapters.daa_files import ALERTING_COLUMNS
from deconfliction.cli.app import build_app

HEADER = (
    "NAME, lat, lon, alt, trk, gs, vs, time\n"
    "[none], [deg], [deg], [ft], [deg], [knot], [fpm], [s]\n"
)


def _head_on(steps: int) -> str:
    # Ownship north at 200 kt from 35N 38E, intruder 8 NM north flying south at 200 kt.
    rows = []
    for t in range(steps):
        d_deg = 200 * t / 3600 / 60
        rows.append(f"own, {35 + d_deg:.8f}, 38.0, 15000, 0, 200, 0, {t}\n")
        rows.append(f"tfc, {35 + 8 / 60 - d_deg:.8f}, 38.0, 15000, 180, 200, 0, {t}\n")
    return HEADER + "".join(rows)


def _run(tmp_path: Path, text: str, *extra: str):
    scenario = tmp_path / "s.daa"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        build_app(), ["daa", str(scenario), "--out", str(out), *extra]
    )
    return result, out


def test_writes_alerting_and_bands(tmp_path: Path) -> None:
    result, out = _run(tmp_path, _head_on(5))
    assert result.exit_code == 0, result.output
    with (out / "alerting.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == ALERTING_COLUMNS
    assert len(rows) == 5
    # 8 NM at 400 kt: corrective volume in about 36 s, raised at the 2nd step (2 of 4).
    assert [r["alert_level"] for r in rows] == ["0", "2", "2", "2", "2"]
    assert 30 < float(rows[0]["time_to_volume_2_s"]) < 40
    lines = (out / "bands.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[1])
    assert first["ownship"] == "own"
    assert first["direction_deg"][0][0] == 0 and first["direction_deg"][-1][1] == 360
    assert first["resolution"]["direction_deg"]["preferred"] in ("left", "right")
    assert {r for _, _, r in first["direction_deg"]} >= {"NONE", "MID"}


def test_ownship_option_takes_each_named_aircraft(tmp_path: Path) -> None:
    result, out = _run(tmp_path, _head_on(2), "--ownship", "own", "--ownship", "tfc")
    assert result.exit_code == 0, result.output
    lines = (out / "bands.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["ownship"] for x in lines] == ["own", "tfc", "own", "tfc"]


def test_bad_rows_are_located_and_exit_2(tmp_path: Path) -> None:
    text = _head_on(2).splitlines(keepends=True)
    text[3] = text[3].replace("15000", "high")  # line 4: alt
    text[4] = text[4].replace(", 1\n", "\n")  # line 5: a field short
    result, out = _run(tmp_path, "".join(text))
    assert result.exit_code == 2
    assert "s.daa:4: alt: not a number: 'high'" in result.output
    assert "s.daa:5: 7 fields, the header has 8" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_units_and_config_exit_2(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, _head_on(1).replace("[ft]", "[furlong]"))
    assert result.exit_code == 2
    assert "s.daa:2: alt: unit [furlong] not understood" in result.output
    result, _ = _run(tmp_path, _head_on(1), "--config", "do-999")
    assert result.exit_code == 2
    assert "do-999: --config: no such file" in result.output
    conf = tmp_path / "bad.conf"
    conf.write_text("lookahead_time = -5 [s]\n", encoding="utf-8")
    result, _ = _run(tmp_path, _head_on(1), "--config", str(conf))
    assert result.exit_code == 2
    assert "bad.conf:1: lookahead_time: must be positive" in result.output
