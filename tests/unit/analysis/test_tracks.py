"""Tests of deconfliction.analysis.tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deconfliction.adapters.result_files import write_tracks_csv
from deconfliction.analysis.tracks import (
    MAX_PROBLEMS,
    TrackTable,
    aircraft_codes,
    read_parquet_window,
    read_parquet_window_coded,
    read_tracks,
    row_group_time_span,
    row_groups,
    tracks_arrow,
    write_tracks_parquet,
)
from deconfliction.errors import InputError
from tests.unit.analysis.helpers import T0_S, reference_traffic

HEADER = "id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "tracks.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _same(a: TrackTable, b: TrackTable) -> None:
    for name in TrackTable.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


class TestReadTracks:
    def test_reads_the_demo_tracks_csv(self, tmp_path: Path) -> None:
        table = reference_traffic(0.5)
        path = tmp_path / "tracks.csv"
        write_tracks_csv(path, table.t_s, table.states())
        back = read_tracks(path)
        assert len(back) == len(table)
        np.testing.assert_array_equal(back.ids, table.ids)
        np.testing.assert_array_equal(back.t_s, table.t_s)
        np.testing.assert_allclose(back.lat_deg, table.lat_deg, atol=1e-6)
        np.testing.assert_allclose(back.vs_fpm, table.vs_fpm, atol=0.05)

    def test_reads_parquet_as_written(self, tmp_path: Path) -> None:
        table = reference_traffic(0.5)
        path = tmp_path / "tracks.parquet"
        write_tracks_parquet(path, table, row_group_rows=1000)
        _same(read_tracks(path), table)

    def test_times_in_every_form(self, tmp_path: Path) -> None:
        body = (
            "A,red,2017-12-13T00:00:00Z,35,38,1,1,1,1\n"
            "A,red,2017-12-13T00:00:00.250Z,35,38,1,1,1,1\n"
            "A,red,2017-12-13T03:00:05+03:00,35,38,1,1,1,1\n"
            "A,red,1513123210.5,35,38,1,1,1,1\n"
        )
        table = read_tracks(_csv(tmp_path, body))
        assert table.t_s.tolist() == [T0_S, T0_S + 0.25, T0_S + 5.0, T0_S + 10.5]

    def test_columns_in_any_order_and_others_ignored(self, tmp_path: Path) -> None:
        header = "vs_fpm,trk_deg,gs_kt,alt_ft,lon,lat,time,party,id,callsign\n"
        path = _csv(tmp_path, "0,90,400,20000,38,35,1513123200,red,A,X1\n", header)
        table = read_tracks(path)
        assert (table.ids[0], table.party[0], table.gs_kt[0]) == ("A", "red", 400.0)

    def test_every_bad_row_with_its_line(self, tmp_path: Path) -> None:
        body = (
            "A,red,2017-12-13T00:00:00Z,35,38,1,1,1,1\n"
            "B,red,yesterday,35,38,1,1,1,1\n"
            "C,red,2017-12-13T00:00:00Z,95,38,1,1,1,1\n"
            ",red,2017-12-13T00:00:00Z,35,38,1,1,1,1\n"
            "E,red,2017-12-13T00:00:00Z,35,38,x,1,1,1\n"
        )
        with pytest.raises(InputError) as err:
            read_tracks(_csv(tmp_path, body))
        where = {(p.line, p.field) for p in err.value.problems}
        assert where == {(3, "time"), (4, "lat"), (5, "id"), (6, "alt_ft")}

    def test_a_latitude_out_of_range(self, tmp_path: Path) -> None:
        with pytest.raises(InputError) as err:
            read_tracks(_csv(tmp_path, "C,red,1513123200,95,38,1,1,1,1\n"))
        assert [(p.line, p.field) for p in err.value.problems] == [(2, "lat")]

    def test_a_missing_column(self, tmp_path: Path) -> None:
        with pytest.raises(InputError) as err:
            read_tracks(_csv(tmp_path, "A,1513123200\n", header="id,time\n"))
        assert "party" in {p.field for p in err.value.problems}

    def test_an_aircraft_of_two_parties(self, tmp_path: Path) -> None:
        body = "A,red,1513123200,35,38,1,1,1,1\nA,blue,1513123205,35,38,1,1,1,1\n"
        with pytest.raises(InputError, match="several parties: blue, red"):
            read_tracks(_csv(tmp_path, body))

    def test_problems_are_capped(self, tmp_path: Path) -> None:
        body = "".join(f"A{k},red,never,35,38,1,1,1,1\n" for k in range(50))
        with pytest.raises(InputError) as err:
            read_tracks(_csv(tmp_path, body))
        assert len(err.value.problems) == MAX_PROBLEMS + 1
        assert "more problems" in err.value.problems[-1].message

    def test_parquet_problems_name_the_row(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.parquet"
        pq.write_table(
            pa.table(
                {
                    "id": ["A", "B"],
                    "party": ["red", "red"],
                    "time": [T0_S, float("nan")],
                    **{
                        c: [1.0, 1.0]
                        for c in ("lat", "lon", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")
                    },
                }
            ),
            path,
        )
        with pytest.raises(InputError, match="row 2"):
            read_tracks(path)


class TestRowGroups:
    def test_spans_and_windows(self, tmp_path: Path) -> None:
        table = reference_traffic(0.5)
        path = tmp_path / "tracks.parquet"
        write_tracks_parquet(path, table, row_group_rows=2000)
        layout = row_groups(path)
        assert sum(n for _, n, _ in layout) == len(table)
        groups = [row_group_time_span(str(path), *g) for g in layout]
        assert groups[0].t_min_s == table.t_s.min()
        window = read_parquet_window(groups, T0_S + 600.0, T0_S + 900.0)
        expected = table.take((table.t_s >= T0_S + 600.0) & (table.t_s < T0_S + 900.0))
        _same(window, expected)

    @pytest.mark.parametrize("dictionary", [True, False])
    def test_window_codes_are_the_ranks_of_the_ids(
        self, tmp_path: Path, dictionary: bool
    ) -> None:
        """Codes from the files' dictionaries (different in each row group, ids
        coming and going), or from the ids of a file written without dictionaries:
        either way those of aircraft_codes."""
        table = reference_traffic(0.5)
        path = tmp_path / "tracks.parquet"
        if dictionary:
            write_tracks_parquet(path, table, row_group_rows=1500)
        else:
            pq.write_table(
                tracks_arrow(table, dictionary=False),
                path,
                row_group_size=1500,
                use_dictionary=False,
            )
        groups = [row_group_time_span(str(path), *g) for g in row_groups(path)]
        for t_from, t_to in ((600.0, 1500.0), (0.0, 1e9), (1e8, 2e8)):
            window, codes = read_parquet_window_coded(
                groups, T0_S + t_from, T0_S + t_to
            )
            _same(window, read_parquet_window(groups, T0_S + t_from, T0_S + t_to))
            np.testing.assert_array_equal(codes, aircraft_codes(window.ids)[1])

    def test_a_bad_row_is_named_by_its_row_in_the_file(self, tmp_path: Path) -> None:
        """A window that starts inside a row group: the problem names the row of the
        file (1-based, as row_group_time_span counts), not of the window."""
        table = reference_traffic(0.5)
        n = len(table)
        bad = 2 * n // 3  # in the second row group, after the window's start
        lat = table.lat_deg.copy()
        lat[bad] = 123.0
        table = TrackTable(
            table.ids,
            table.party,
            table.t_s,
            lat,
            table.lon_deg,
            table.alt_ft,
            table.gs_kt,
            table.trk_deg,
            table.vs_fpm,
        )
        path = tmp_path / "tracks.parquet"
        write_tracks_parquet(path, table, row_group_rows=n // 2 + 1)
        groups = [row_group_time_span(str(path), *g) for g in row_groups(path)]
        t_from = float(table.t_s[bad]) - 60.0
        with pytest.raises(InputError, match=f"row {bad + 1}: ") as caught:
            read_parquet_window_coded(groups, t_from, t_from + 600.0)
        assert "lat" in str(caught.value)

    @pytest.mark.parametrize("statistics", [True, False])
    def test_spans_in_space(self, tmp_path: Path, statistics: bool) -> None:
        """Where each row group's positions are and its highest speed: from the
        statistics when the file has them, else from the values; a bad value (out
        of range) does not count."""
        table = reference_traffic(0.5)
        lat = table.lat_deg.copy()
        lat[5] = 123.0  # bad: told when read, not counted here
        table = TrackTable(
            table.ids,
            table.party,
            table.t_s,
            lat,
            *(
                getattr(table, n)
                for n in ("lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")
            ),
        )
        path = tmp_path / "tracks.parquet"
        pq.write_table(
            tracks_arrow(table, dictionary=False),
            path,
            row_group_size=2000,
            write_statistics=statistics,
        )
        for index, rows, first in row_groups(path):
            g = row_group_time_span(str(path), index, rows, first)
            part = slice(first, first + rows)
            good = table.lat_deg[part][np.abs(table.lat_deg[part]) <= 90.0]
            assert (g.lat_min_deg, g.lat_max_deg) == (good.min(), good.max())
            assert g.lon_min_deg == table.lon_deg[part].min()
            assert g.lon_max_deg == table.lon_deg[part].max()
            assert g.gs_max_kt == table.gs_kt[part].max()

    def test_refuses_csv(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="not a Parquet file"):
            row_groups(_csv(tmp_path, ""))
