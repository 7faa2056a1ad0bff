"""The ``deconfliction plan check`` command, called as users call it, on real files.

The protocol is the shipped ``euphrates-2017``: the coalition keeps east of the
Euphrates, Russia west, 10 NM buffer; al-Tanf (coalition) and Hmeimim (Russia) are
zones; minima 5 NM and 1,000 ft; sharing ``conflicts``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli import plan as plan_cli


def _app() -> typer.Typer:
    app = typer.Typer()
    plan_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps "plan" a group, as in the real app
        pass

    return app


def circle(
    lat: float,
    lng: float,
    radius_nm: float,
    start: str = "2017-12-13T10:00:00Z",
    end: str = "2017-12-13T12:00:00Z",
    lower_ft: float = 20_000,
    upper_ft: float = 26_000,
) -> dict[str, Any]:
    return {
        "volume": {
            "outline_circle": {
                "center": {"lat": lat, "lng": lng},
                "radius": {"value": radius_nm, "units": "NM"},
            },
            "altitude_lower": {"value": lower_ft, "reference": "W84", "units": "FT"},
            "altitude_upper": {"value": upper_ft, "reference": "W84", "units": "FT"},
        },
        "time_start": {"value": start},
        "time_end": {"value": end},
    }


def operation(op_id: str, party: str, *volumes: dict[str, Any]) -> dict[str, Any]:
    return {"id": op_id, "party": party, "kind": "air_patrol", "volumes": list(volumes)}


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


# East of the river near Deir ez-Zor, 30 NM from the line: clear for the coalition.
CLEAR_EAST = circle(35.0, 41.0, 10.0)
# West of the river at Raqqa: the coalition's wrong side.
WEST_OF_RAQQA = circle(35.75, 38.7, 8.0)
# Inside al-Tanf (the coalition's zone).
AL_TANF = circle(33.5, 38.6, 5.0)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "clear": write(
            tmp_path / "clear.json", operation("C1", "coalition", CLEAR_EAST)
        ),
        "busy": write(
            tmp_path / "busy.json",
            operation("C2", "coalition", CLEAR_EAST, WEST_OF_RAQQA),
        ),
        "russian": write(
            tmp_path / "russian.json",
            [
                # 3 NM from C2's first volume, during it, at a level in between.
                operation("R1", "russia", circle(35.0, 41.31, 3.0, lower_ft=25_500)),
                # Far away in time.
                operation(
                    "R2",
                    "russia",
                    circle(
                        35.0, 41.0, 10.0, "2017-12-14T10:00:00Z", "2017-12-14T11:00:00Z"
                    ),
                ),
                operation("R3", "russia", AL_TANF),
            ],
        ),
    }


def run(*args: str) -> Any:
    return CliRunner().invoke(_app(), ["plan", "check", *args])


class TestPlanCheck:
    def test_clear_exits_0(self, files: dict[str, Path]) -> None:
        result = run(str(files["clear"]), "--protocol", "euphrates-2017")
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer == {
            "operation": "C1",
            "party": "coalition",
            "version": 1,
            "clear": True,
            "conflicts": [],
            "sharing": "full",
        }

    def test_conflicts_exit_1_with_every_kind(self, files: dict[str, Path]) -> None:
        result = run(
            str(files["busy"]),
            "--protocol",
            "euphrates-2017",
            "--against",
            str(files["russian"]),
        )
        assert result.exit_code == 1, result.output
        answer = json.loads(result.stdout)
        assert answer["clear"] is False
        kinds = [(c["kind"], c["volume"]) for c in answer["conflicts"]]
        assert kinds == [("operation", 0), ("line", 1)]
        with_r1, line = answer["conflicts"]
        assert (with_r1["other_party"], with_r1["other_operation"]) == ("russia", "R1")
        assert with_r1["altitude_lower_ft"] == 25_000.0  # 25,500 - 500
        assert with_r1["time_start"] == "2017-12-13T10:00:00Z"
        assert 0.0 < with_r1["horizontal_distance_nm"] < 5.0
        assert with_r1["other_volume"]["volume"]["outline_circle"]["radius"] == {
            "value": 3.0,
            "units": "NM",
        }
        assert (line["boundary"], line["reaches_other_side"]) == ("euphrates", True)

    def test_zone_of_the_other_party(
        self, tmp_path: Path, files: dict[str, Path]
    ) -> None:
        russian = json.loads(files["russian"].read_text(encoding="utf-8"))[2]
        path = write(tmp_path / "r3.json", russian)
        result = run(str(path), "--protocol", "euphrates-2017", "--format", "json")
        assert result.exit_code == 1
        (zone,) = json.loads(result.stdout)["conflicts"]
        assert (zone["kind"], zone["boundary"], zone["other_party"]) == (
            "zone",
            "al-tanf",
            "coalition",
        )

    def test_redacted_to_the_sharing_level(self, files: dict[str, Path]) -> None:
        result = run(
            str(files["busy"]),
            "--protocol",
            "euphrates-2017",
            "--against",
            str(files["russian"]),
            "--redact",
        )
        assert result.exit_code == 1
        answer = json.loads(result.stdout)
        assert answer["sharing"] == "conflicts"
        with_r1 = answer["conflicts"][0]
        assert with_r1["other_party"] == "russia"
        assert "other_operation" not in with_r1 and "other_volume" not in with_r1
        assert {"place", "time_start", "altitude_lower_ft"} <= set(with_r1)

    def test_time_margin(self, tmp_path: Path, files: dict[str, Path]) -> None:
        later = write(
            tmp_path / "later.json",
            operation(
                "R9",
                "russia",
                circle(35.0, 41.0, 5.0, "2017-12-13T12:10:00Z", "2017-12-13T13:00:00Z"),
            ),
        )
        base = ["--protocol", "euphrates-2017", "--against", str(later)]
        assert run(str(files["clear"]), *base).exit_code == 0
        assert run(str(files["clear"]), *base, "--time-margin-s", "1201").exit_code == 1

    def test_table(self, files: dict[str, Path]) -> None:
        result = run(
            str(files["busy"]),
            "--protocol",
            "euphrates-2017",
            "--against",
            str(files["russian"]),
            "--format",
            "table",
        )
        assert result.exit_code == 1
        assert "2 conflicts" in result.stdout
        assert "euphrates" in result.stdout and "R1" in result.stdout
        clear = run(
            str(files["clear"]), "--protocol", "euphrates-2017", "--format", "table"
        )
        assert clear.exit_code == 0 and "clear" in clear.stdout


class TestBadInput:
    def test_every_problem_in_every_file_exit_2(
        self, tmp_path: Path, files: dict[str, Path]
    ) -> None:
        bad = operation("C3", "coalition", circle(95.0, 41.0, 10.0))
        bad_path = write(tmp_path / "bad.json", bad)
        other = write(tmp_path / "other.json", operation("X", "martians", CLEAR_EAST))
        result = run(
            str(bad_path),
            "--protocol",
            "euphrates-2017",
            "--against",
            str(other),
            "--against",
            str(files["russian"]),
            "--against",
            str(files["russian"]),
        )
        assert result.exit_code == 2
        assert "Traceback" not in result.output
        err = result.stderr
        lines = bad_path.read_text(encoding="utf-8").splitlines()
        lat_line = next(k + 1 for k, t in enumerate(lines) if '"lat": 95.0' in t)
        where = f"{bad_path}:{lat_line}: volumes[0].volume.outline_circle.center.lat:"
        assert f"{where} 95 is outside [-90, 90]" in err
        assert f"{other}: party: operation 'X': unknown party 'martians'" in err
        assert "operation 'R1' is also in" in err

    def test_missing_file_and_unknown_protocol(self, tmp_path: Path) -> None:
        result = run(str(tmp_path / "absent.json"), "--protocol", "euphrates-2017")
        assert result.exit_code == 2 and "absent.json" in result.stderr
        ok = write(tmp_path / "ok.json", operation("C1", "coalition", CLEAR_EAST))
        result = run(str(ok), "--protocol", "no-such-protocol")
        assert result.exit_code == 2 and "not a built-in protocol" in result.stderr

    def test_negative_time_margin(self, files: dict[str, Path]) -> None:
        result = run(
            str(files["clear"]), "--protocol", "euphrates-2017", "--time-margin-s", "-1"
        )
        assert result.exit_code == 2
        assert "--time-margin-s: must not be negative" in result.stderr
