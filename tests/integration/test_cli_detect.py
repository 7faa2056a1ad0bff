"""The ``deconfliction detect`` command, called as users call it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli import detect as detect_cli
from tests.scenarios import CATALOGUE, place

HEADER = "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"


def _app() -> typer.Typer:
    app = typer.Typer()
    detect_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps "detect" a subcommand, as in the real app
        pass

    return app


def _write_catalogue(path: Path, with_party: bool = False) -> None:
    rows = [HEADER + (",party" if with_party else "")]
    for k, enc in enumerate(CATALOGUE):
        s = place(enc.planes, center_lat_deg=20.0 + k * 2.0, center_lon_deg=39.0)
        for i in range(len(s)):
            vals = [
                f"{enc.name}-{s.ids[i]}",
                s.lat_deg[i],
                s.lon_deg[i],
                s.alt_ft[i],
                s.gs_kt[i],
                s.trk_deg[i],
                s.vs_fpm[i],
            ]
            if with_party:
                vals.append("coalition" if s.ids[i] == "A" else "russia")
            rows.append(",".join(str(v) for v in vals))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def states_file(tmp_path: Path) -> Path:
    path = tmp_path / "states.csv"
    _write_catalogue(path)
    return path


class TestDetectCommand:
    def test_json_contract(self, states_file: Path) -> None:
        result = CliRunner().invoke(_app(), ["detect", str(states_file)])
        assert result.exit_code == 0, result.output
        records = json.loads(result.stdout)
        expected = sorted(e.name for e in CATALOGUE if e.expected is not None)
        assert sorted(r["a"].rsplit("-", 1)[0] for r in records) == expected
        for r in records:
            assert r["a"] < r["b"]
            assert {
                "a",
                "b",
                "tcpa_s",
                "dcpa_nm",
                "dalt_ft_at_cpa",
                "tin_s",
                "tout_s",
                "level",
            } <= set(r)
        assert [(r["a"], r["b"]) for r in records] == sorted(
            (r["a"], r["b"]) for r in records
        )
        head_on = next(r for r in records if r["a"].startswith("head-on"))
        assert head_on["tcpa_s"] == pytest.approx(150.0, abs=0.2)
        parallel = next(r for r in records if r["a"].startswith("parallel-inside"))
        assert parallel["tin_s"] == 0

    def test_csv_and_table(self, states_file: Path) -> None:
        out = CliRunner().invoke(
            _app(), ["detect", str(states_file), "--format", "csv"]
        )
        assert out.exit_code == 0
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        assert rows and rows[0].keys() >= {"a", "b", "tcpa_s", "level"}
        table = CliRunner().invoke(
            _app(), ["detect", str(states_file), "--format", "table"]
        )
        assert table.exit_code == 0 and "conflicts" in table.stdout

    def test_minima_options(self, states_file: Path) -> None:
        runner = CliRunner()
        base = json.loads(runner.invoke(_app(), ["detect", str(states_file)]).stdout)
        wide = json.loads(
            runner.invoke(
                _app(),
                [
                    "detect",
                    str(states_file),
                    "--horizontal-nm",
                    "7",
                    "--vertical-ft",
                    "1500",
                    "--lookahead-s",
                    "600",
                ],
            ).stdout
        )
        assert len(wide) > len(base)

    def test_all_pairs(self, tmp_path: Path) -> None:
        path = tmp_path / "s.csv"
        path.write_text(
            f"{HEADER},party\nA,35,38,20000,400,90,0,x\nB,35,38.05,20000,400,270,0,x\n"
        )
        runner = CliRunner()
        assert json.loads(runner.invoke(_app(), ["detect", str(path)]).stdout) == []
        both = json.loads(
            runner.invoke(_app(), ["detect", str(path), "--all-pairs"]).stdout
        )
        assert len(both) == 1

    def test_bad_row_exit_2(self, tmp_path: Path) -> None:
        path = tmp_path / "s.csv"
        path.write_text(f"{HEADER}\nA,95,38,20000,400,90,0\nA,35,38,20000,400,90,0\n")
        result = CliRunner().invoke(_app(), ["detect", str(path)])
        assert result.exit_code == 2
        assert f"{path}:2: lat:" in result.stderr
        assert "Traceback" not in result.output

    def test_missing_file_exit_2(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(_app(), ["detect", str(tmp_path / "nope.csv")])
        assert result.exit_code == 2
        assert "nope.csv" in result.stderr

    def test_negative_minimum_exit_2(self, states_file: Path) -> None:
        result = CliRunner().invoke(
            _app(), ["detect", str(states_file), "--horizontal-nm", "-1"]
        )
        assert result.exit_code == 2
        assert "--horizontal-nm" in result.stderr


class TestDetectProcess:
    def test_console_script_end_to_end(self, tmp_path: Path) -> None:
        good = tmp_path / "s.csv"
        _write_catalogue(good, with_party=True)
        exe = Path(sys.executable).parent / "deconfliction"
        ok = subprocess.run(
            [str(exe), "detect", str(good), "--protocol", "euphrates-2017"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert ok.returncode == 0, ok.stderr
        assert len(json.loads(ok.stdout)) > 0

        bad = tmp_path / "bad.csv"
        bad.write_text(
            f"{HEADER},party\nA,35,38,20000,400,90,0,usa\n", encoding="utf-8"
        )
        err = subprocess.run(
            [str(exe), "detect", str(bad), "--protocol", "euphrates-2017"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert err.returncode == 2
        assert "unknown party 'usa'" in err.stderr
        assert "Traceback" not in err.stderr

    def test_detect_process_loads_no_database_library_nor_scipy(
        self, tmp_path: Path
    ) -> None:
        """The whole ``deconfliction detect`` process (its command line built as
        the console script builds it) imports neither SQLAlchemy nor
        pydantic-settings, nor scipy (the broad phase is a numpy grid): they cost a
        cold start a few tenths of a second (#20.2). (Typer itself imports
        pydantic.)"""
        good = tmp_path / "s.csv"
        _write_catalogue(good)
        probe = (
            "import sys\n"
            "from deconfliction.cli.app import main\n"
            "sys.argv = ['deconfliction', 'detect', sys.argv[1], '--format', 'csv']\n"
            "try:\n"
            "    main()\n"
            "except SystemExit as done:\n"
            "    assert not done.code, done.code\n"
            "loaded = sorted({m.split('.')[0] for m in sys.modules})\n"
            "sys.stderr.write('LOADED ' + ' '.join(loaded))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, str(good)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("a,b,")
        loaded = set(done.stderr.rsplit("LOADED ", 1)[1].split())
        assert "numpy" in loaded
        assert not loaded & {"sqlalchemy", "pydantic_settings", "scipy"}


class TestDetectWithProtocol:
    def test_protocol_errors_exit_2_with_their_line(
        self, states_file: Path, tmp_path: Path
    ) -> None:
        from deconfliction.adapters.protocol_file import builtin_protocol_path

        text = builtin_protocol_path("euphrates-2017").read_text(encoding="utf-8")
        bad = tmp_path / "bad.toml"
        bad.write_text(text.replace("horizontal_nm = 5.0", "horizontal_nm = -5.0"))
        result = CliRunner().invoke(
            _app(), ["detect", str(states_file), "--protocol", str(bad)]
        )
        assert result.exit_code == 2
        assert (
            f"{bad}:" in result.stderr and "separation.horizontal_nm" in result.stderr
        )
        assert "Traceback" not in result.output

    def test_protocol_minima_apply_and_options_override(self, tmp_path: Path) -> None:
        path = tmp_path / "parties.csv"
        _write_catalogue(path, with_party=True)
        runner = CliRunner()
        proto = json.loads(
            runner.invoke(
                _app(), ["detect", str(path), "--protocol", "euphrates-2017"]
            ).stdout
        )
        default = json.loads(runner.invoke(_app(), ["detect", str(path)]).stdout)
        assert proto and [(r["a"], r["b"]) for r in proto] == [
            (r["a"], r["b"]) for r in default
        ]
        narrow = json.loads(
            runner.invoke(
                _app(),
                [
                    "detect",
                    str(path),
                    "--protocol",
                    "euphrates-2017",
                    "--horizontal-nm",
                    "2",
                ],
            ).stdout
        )
        assert len(narrow) < len(proto)
