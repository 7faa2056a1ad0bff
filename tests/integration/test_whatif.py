"""``deconfliction whatif`` end to end: two protocols whose difference is known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from deconfliction.adapters.protocol_file import builtin_protocol_path
from deconfliction.adapters.result_files import write_tracks_csv
from deconfliction.analysis.tracks import TrackTable, write_tracks_parquet
from deconfliction.cli import whatif as whatif_cli
from deconfliction.domain import geodesy
from tests.unit.analysis.helpers import T0_S, flight, head_on

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _app() -> typer.Typer:
    app = typer.Typer()
    whatif_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps "whatif" a subcommand, as in the real app
        pass

    return app


def _run(*args: str) -> Result:
    return CliRunner().invoke(_app(), ["whatif", *args])


def _traffic() -> TrackTable:
    """A head-on encounter over Iraq, far from the line and the zones, and a Russian
    aircraft flying along the Euphrates on its own side, 20 NM from the line: inside
    a 30 NM buffer, outside a 10 NM one."""
    raqqa, maadan = (35.94, 39.02), (35.74, 39.66)
    along = float(geodesy.geodesic_azimuth_deg(*raqqa, *maadan))
    mid_lat, mid_lon = (raqqa[0] + maadan[0]) / 2, (raqqa[1] + maadan[1]) / 2
    lat, lon = geodesy.destination(mid_lat, mid_lon, (along + 90.0) % 360.0, 20.0)
    back_lat, back_lon = geodesy.destination(float(lat), float(lon), along + 180.0, 6.0)
    parallel = flight(
        "RUS7", "russia", float(back_lat), float(back_lon), along, T0_S, 36, gs_kt=360.0
    )
    return TrackTable.concat([head_on(T0_S + 900.0, 33.0, 44.0), parallel])


def _buffer_30(tmp_path: Path) -> Path:
    text = builtin_protocol_path("euphrates-2017").read_text(encoding="utf-8")
    assert "buffer_nm = 10" in text
    path = tmp_path / "wide.toml"
    path.write_text(text.replace("buffer_nm = 10", "buffer_nm = 30"), encoding="utf-8")
    return path


def _doc(out: Path) -> Any:
    return json.loads((out / "whatif.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tracks_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    table = _traffic()
    path = tmp_path_factory.mktemp("tracks") / "tracks.csv"
    write_tracks_csv(path, table.t_s, table.states())
    return path


class TestWhatIf:
    def test_a_wider_buffer_catches_the_parallel_flight(
        self, tracks_csv: Path, tmp_path: Path
    ) -> None:
        out = tmp_path / "out"
        result = _run(
            str(tracks_csv),
            "--protocol",
            "euphrates-2017",
            "--protocol",
            str(_buffer_30(tmp_path)),
            "--out",
            str(out),
        )
        assert result.exit_code == 0, result.output
        narrow, wide = _doc(out)["protocols"]
        assert (narrow["label"], wide["label"]) == ("euphrates-2017", "wide")
        assert narrow["violations"] == {"coalition": 0, "russia": 0}
        assert wide["violations"] == {"coalition": 0, "russia": 1}
        # Same traffic, same minima: the same conflict, a warning, and one loss.
        for doc in (narrow, wide):
            assert doc["conflicts"] == {"conflict": 0, "advisory": 0, "warning": 1}
            assert doc["losses_of_separation"] == 1
        assert (out / "whatif.png").read_bytes()[:8] == PNG_MAGIC
        assert "violations: russia" in result.output
        assert "wide" in result.output

    def test_parquet_gives_the_same(self, tracks_csv: Path, tmp_path: Path) -> None:
        parquet = tmp_path / "tracks.parquet"
        write_tracks_parquet(parquet, _traffic())
        docs = []
        for path in (tracks_csv, parquet):
            out = tmp_path / path.suffix[1:]
            result = _run(str(path), "--protocol", "euphrates-2017", "--out", str(out))
            assert result.exit_code == 0, result.output
            docs.append(_doc(out)["protocols"])
        # CSV rounds positions to 1e-6 deg: the counts are the same, figures close.
        for csv_doc, parquet_doc in zip(*docs, strict=True):
            for key in ("conflicts", "violations", "losses_of_separation", "instants"):
                assert csv_doc[key] == parquet_doc[key]
            assert csv_doc["smallest_predicted_miss_nm"] == pytest.approx(
                parquet_doc["smallest_predicted_miss_nm"], abs=1e-3
            )

    def test_bad_tracks_exit_2_with_the_line(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.csv"
        bad.write_text(
            "id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"
            "A,russia,2017-12-13T00:00:00Z,95,38,1,1,1,1\n",
            encoding="utf-8",
        )
        result = _run(str(bad), "--protocol", "euphrates-2017", "--out", str(tmp_path))
        assert result.exit_code == 2
        assert "bad.csv:2: lat" in result.output

    def test_unknown_protocol_exit_2(self, tracks_csv: Path, tmp_path: Path) -> None:
        result = _run(
            str(tracks_csv), "--protocol", "nowhere-1999", "--out", str(tmp_path)
        )
        assert result.exit_code == 2
        assert "not a built-in protocol" in result.output

    def test_missing_file_exit_2(self, tmp_path: Path) -> None:
        result = _run(str(tmp_path / "none.csv"), "--protocol", "euphrates-2017")
        assert result.exit_code == 2
