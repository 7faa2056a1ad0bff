"""The one track-table reader and its two policies for bad rows (#15.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconfliction.adapters.track_files import read_track_file
from deconfliction.adapters.track_tables import read_positions, read_track_table
from deconfliction.analysis.tracks import TrackTable, read_tracks
from deconfliction.domain.positions import Positions
from deconfliction.errors import InputError

HEADER = "id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"
GOOD = "A1,red,2017-12-13T10:00:00Z,35.0,38.0,20000,400,90,0\n"
BAD_LAT = "B2,blue,2017-12-13T10:00:05Z,95.5,38.1,21000,410,270,0\n"


def _file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "tracks.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def test_refuse_reads_every_row_as_positions(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, GOOD.replace("10:00:00", "10:00:05"))
    table = read_track_table(path, "refuse")
    assert type(table) is Positions
    assert table.ids.tolist() == ["A1", "A1"]
    assert table.t_s.tolist() == [1513159200.0, 1513159205.0]
    # The analysis layer reads through it, as its own table.
    tracks = read_tracks(path)
    assert type(tracks) is TrackTable
    assert tracks.lat_deg.tolist() == table.lat_deg.tolist()
    assert type(read_positions(path, TrackTable)) is TrackTable


def test_refuse_fails_the_read_on_a_bad_row_with_its_line(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, BAD_LAT)
    with pytest.raises(InputError) as info:
        read_track_table(path, "refuse")
    assert str(info.value) == (
        f"1 problem:\n  {path}:3: lat: 95.5 is outside [-90, 90]"
    )


def test_count_keeps_the_good_rows_and_counts_the_bad(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, BAD_LAT)
    batch, stats = read_track_table(path, "count")
    assert batch.ids.tolist() == ["A1"]
    assert stats.read == 2
    assert stats.accepted == 1
    assert dict(stats.rejected) == {"impossible value": 1}
    # The feeds' reader of CSV and Parquet track tables is the same one.
    batch2, stats2 = read_track_file(path, "csv")
    assert batch2.ids.tolist() == ["A1"]
    assert dict(stats2.rejected) == dict(stats.rejected)


def test_count_needs_fewer_columns_than_refuse(tmp_path: Path) -> None:
    path = _file(
        tmp_path, "A1,2017-12-13T10:00:00Z,35.0,38.0\n", header="id,time,lat,lon\n"
    )
    batch, _ = read_track_table(path, "count")
    assert len(batch) == 1
    with pytest.raises(InputError, match="party: missing column"):
        read_track_table(path, "refuse")


def test_unknown_policy_and_rules_with_refuse_are_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD)
    with pytest.raises(InputError, match=r"unknown policy 'skip' \(refuse\|count\)"):
        read_track_table(path, "skip")  # type: ignore[call-overload]
    from deconfliction.adapters.track_stream import PartyRules

    with pytest.raises(InputError, match="party rules apply to the counting reader"):
        read_track_table(path, "refuse", PartyRules())  # type: ignore[call-overload]
