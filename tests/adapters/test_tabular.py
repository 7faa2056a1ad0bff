"""Track and event tables, CSV and Parquet: round trips and bad rows."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from deconfliction.adapters.tabular import (
    TRACK_COLUMNS,
    event_rows,
    read_tracks_table,
    write_events_csv,
    write_events_parquet,
    write_tracks,
    write_tracks_csv,
    write_tracks_parquet,
)
from deconfliction.adapters.track_stream import TrackBatch, TrackRecord
from deconfliction.domain.alert_tracker import AlertEvent, AlertEventKind
from deconfliction.domain.conformance import ViolationEvent, ViolationEventKind
from deconfliction.errors import InputError
from tests.adapters.interop_samples import sample_alert, sample_violation

T0 = 1513159200.0


def _batch() -> TrackBatch:
    return TrackBatch.from_records(
        [
            TrackRecord(
                "4CA2D6",
                T0,
                35.5,
                38.2,
                25000,
                420,
                45,
                0,
                "VIPER11",
                "4CA2D6",
                "0412",
                "sbs",
                "coalition",
            ),
            TrackRecord("4CA2D6", T0 + 0.25, 35.51, 38.21),  # velocity not known yet
            TrackRecord(
                "RF93", T0 + 1, 36.0, 38.6, 24000, 400, 180, -500, party="russia"
            ),
        ]
    )


class TestTrackCsv:
    def test_round_trip(self, tmp_path: Path) -> None:
        path = tmp_path / "t.csv"
        write_tracks_csv(path, _batch())
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert tuple(rows[0]) == TRACK_COLUMNS
        assert rows[0]["time"] == "2017-12-13T10:00:00Z"
        assert rows[1]["time"] == "2017-12-13T10:00:00.250Z" and rows[1]["gs_kt"] == ""
        assert rows[0]["squawk"] == "0412"
        back, stats = read_tracks_table(path)
        assert stats.read == stats.accepted == 3
        assert back.ids.tolist() == ["4CA2D6", "4CA2D6", "RF93"]
        assert back.t_s.tolist() == [T0, T0 + 0.25, T0 + 1]
        assert math.isnan(back.gs_kt[1]) and back.squawk[0] == "0412"
        assert back.party.tolist() == ["coalition", "", "russia"]

    def test_to_a_stream(self) -> None:
        buffer = io.StringIO()
        write_tracks_csv(buffer, _batch())
        assert buffer.getvalue().startswith(",".join(TRACK_COLUMNS) + "\n")

    def test_demo_tracks_read_back(self, tmp_path: Path) -> None:
        path = tmp_path / "tracks.csv"
        path.write_text(
            "id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"
            "RF1,russia,2017-12-13T10:00:00Z,35.0,38.0,20000.0,400.0,90.00,0.0\n",
            encoding="utf-8",
        )
        batch, _ = read_tracks_table(path)
        assert batch.party.tolist() == ["russia"] and batch.alt_ft.tolist() == [20000.0]

    def test_bad_rows(self, tmp_path: Path) -> None:
        path = tmp_path / "t.csv"
        path.write_text(
            "id,time,lat,lon,gs_kt\n"
            "A,2017-12-13T10:00:00Z,1,2,400\n"
            "B,yesterday,1,2,400\n"
            "C,2017-12-13T10:00:00Z,91,2,400\n"
            "D,2017-12-13T10:00:00Z,1\n"
            ",2017-12-13T10:00:00Z,1,2,400\n"
            "E,2017-12-13T10:00:00,1,2,400\n"
            "F,1513159200,1,2,fast\n"
            "G,1513159200,1,2,\n",
            encoding="utf-8",
        )
        batch, stats = read_tracks_table(path)
        assert batch.ids.tolist() == ["A", "G"]
        assert stats.rejected == {
            "bad time": 2,
            "impossible value": 1,
            "wrong field count": 1,
            "missing field": 1,
            "bad number": 1,
        }
        lines = {p.message.split(":")[0]: p.line for p in stats.examples}
        assert lines["impossible value"] == 4 and lines["wrong field count"] == 5

    def test_missing_columns(self, tmp_path: Path) -> None:
        path = tmp_path / "t.csv"
        path.write_text("id,lat,lon\nA,1,2\n", encoding="utf-8")
        with pytest.raises(InputError, match="missing column"):
            read_tracks_table(path)


class TestTrackParquet:
    def test_round_trip(self, tmp_path: Path) -> None:
        path = tmp_path / "t.parquet"
        write_tracks_parquet(path, _batch())
        schema = pq.read_schema(path)
        assert str(schema.field("time").type) == "timestamp[ms, tz=UTC]"
        back, stats = read_tracks_table(path)
        assert stats.accepted == 3
        assert back.t_s.tolist() == [T0, T0 + 0.25, T0 + 1]
        assert np.isnan(back.gs_kt[1]) and back.callsign[0] == "VIPER11"

    def test_needs_a_file(self) -> None:
        with pytest.raises(InputError, match="Parquet needs a file"):
            write_tracks(None, _batch(), "parquet")


class TestEvents:
    def _rows(self) -> list[dict[str, object]]:
        alert = sample_alert()
        return event_rows(
            [
                AlertEvent(AlertEventKind.RAISED, T0, alert),
                AlertEvent(AlertEventKind.CLEARED, T0 + 90, alert),
            ],
            [ViolationEvent(ViolationEventKind.OPENED, T0 + 10, sample_violation())],
        )

    def test_rows_in_time_order(self) -> None:
        rows = self._rows()
        assert [r["event"] for r in rows] == [
            "alert.raised",
            "violation.opened",
            "alert.cleared",
        ]
        assert rows[1]["time"] == "2017-12-13T10:00:10Z"

    def test_csv_and_parquet(self, tmp_path: Path) -> None:
        rows = self._rows()
        write_events_csv(tmp_path / "e.csv", rows)
        text = (tmp_path / "e.csv").read_text(encoding="utf-8")
        read = list(csv.DictReader(io.StringIO(text)))
        assert read[0]["level"] == "warning" and read[1]["boundary_id"] == "euphrates"
        assert read[0]["boundary_id"] == ""
        write_events_parquet(tmp_path / "e.parquet", rows)
        table = pq.read_table(tmp_path / "e.parquet")
        assert table.column("event").to_pylist() == [r["event"] for r in rows]

    def test_empty(self, tmp_path: Path) -> None:
        write_events_parquet(tmp_path / "e.parquet", [])
        assert pq.read_table(tmp_path / "e.parquet").num_rows == 0
