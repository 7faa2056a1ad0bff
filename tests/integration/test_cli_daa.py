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


STATES = (
    "id,party,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"
    "VIPER1,coalition,35.0,38.0,20000,200,0,0\n"
    "VIPER2,coalition,35.0,38.5,20000,200,0,0\n"
    "SU30,russia,35.1333333,38.0,20000,200,180,0\n"
)


def test_states_csv_with_a_party_as_ownships(tmp_path: Path) -> None:
    path = tmp_path / "states.csv"
    path.write_text(STATES, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        build_app(), ["daa", str(path), "--party", "coalition", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with (out / "alerting.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # Each coalition aircraft against everyone else; 8 NM head-on VIPER1/SU30.
    assert {(r["ownship"], r["traffic"]) for r in rows} == {
        ("VIPER1", "VIPER2"),
        ("VIPER1", "SU30"),
        ("VIPER2", "VIPER1"),
        ("VIPER2", "SU30"),
    }
    head_on = next(
        r for r in rows if (r["ownship"], r["traffic"]) == ("VIPER1", "SU30")
    )
    assert head_on["time_to_volume_2_s"] != ""
    owners = [
        json.loads(x)["ownship"] for x in (out / "bands.jsonl").read_text().splitlines()
    ]
    assert owners == ["VIPER1", "VIPER2"]


def test_track_table_steps_by_time(tmp_path: Path) -> None:
    lines = ["id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"]
    for t in range(3):
        d = 200 * t / 3600 / 60
        lines.append(f"A,blue,{1_700_000_000 + t},{35 + d:.8f},38,15000,200,0,0")
        lines.append(
            f"B,red,{1_700_000_000 + t},{35 + 8 / 60 - d:.8f},38,15000,200,180,0"
        )
    path = tmp_path / "tracks.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        build_app(), ["daa", str(path), "--ownship", "B", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with (out / "alerting.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["time_s"], r["ownship"], r["alert_level"]) for r in rows] == [
        ("1700000000", "B", "0"),
        ("1700000001", "B", "2"),
        ("1700000002", "B", "2"),
    ]


def test_tables_need_an_ownship_that_exists(tmp_path: Path) -> None:
    path = tmp_path / "states.csv"
    path.write_text(STATES, encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["daa", str(path)])
    assert result.exit_code == 2
    assert (
        "--ownship: a states or track table needs --ownship or --party" in result.output
    )
    result = CliRunner().invoke(build_app(), ["daa", str(path), "--ownship", "F16"])
    assert result.exit_code == 2
    assert "--ownship: no aircraft 'F16'" in result.output
    result = CliRunner().invoke(build_app(), ["daa", str(path), "--party", "nato"])
    assert result.exit_code == 2
    assert "--party: no aircraft of nato" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(STATES.replace("38.5", "east"), encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["daa", str(bad), "--party", "coalition"])
    assert result.exit_code == 2
    assert "bad.csv:3: lon" in result.output
