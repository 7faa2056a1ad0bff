"""The one positions table: its columns, building without copies, views."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from deconfliction.domain.model import AircraftStates
from deconfliction.domain.positions import (
    COLUMN_NAMES,
    HEADERS,
    KINEMATIC_HEADERS,
    POSITION_COLUMNS,
    RANGES,
    SNAPSHOT_NAMES,
    Positions,
)


def _table(n: int = 3) -> Positions:
    k = np.arange(n, dtype=np.float64)
    return Positions.from_columns(
        [f"A{i}" for i in range(n)],
        ["red"] * n,
        1000.0 + k,
        35.0 + k,
        38.0 + k,
        20000.0 + k,
        400.0 + k,
        90.0 + k,
        k,
    )


class TestColumns:
    def test_the_schema_is_the_fields(self) -> None:
        """The column list and the dataclasses say the same, in the same order."""
        assert tuple(f.name for f in dataclasses.fields(Positions)) == COLUMN_NAMES
        assert (
            tuple(f.name for f in dataclasses.fields(AircraftStates)) == SNAPSHOT_NAMES
        )

    def test_headers_are_the_file_columns(self) -> None:
        assert HEADERS == (
            "id",
            "party",
            "time",
            "lat",
            "lon",
            "alt_ft",
            "gs_kt",
            "trk_deg",
            "vs_fpm",
        )
        assert tuple(h for h in HEADERS if h != "party") == KINEMATIC_HEADERS

    def test_units_are_in_the_names(self) -> None:
        for column in POSITION_COLUMNS:
            if not column.is_text:
                assert column.name.endswith("_" + column.unit)

    def test_ranges(self) -> None:
        assert RANGES["lat"] == (-90.0, 90.0)
        assert RANGES["gs_kt"] == (0.0, 2500.0)
        assert "time" not in RANGES
        assert "id" not in RANGES


class TestBuilding:
    def test_numpy_columns_are_not_copied(self) -> None:
        table = _table()
        again = Positions.from_mapping({n: getattr(table, n) for n in COLUMN_NAMES})
        for name in COLUMN_NAMES:
            assert getattr(again, name) is getattr(table, name)

    def test_arrow_number_columns_are_shared(self) -> None:
        table = _table()
        arrow = pa.table({n: getattr(table, n) for n in COLUMN_NAMES})
        read = Positions.from_arrow(arrow)
        for name in COLUMN_NAMES:
            assert getattr(read, name).tolist() == getattr(table, name).tolist()
        buffer = arrow.column("lat_deg").chunk(0).buffers()[1]
        assert read.lat_deg.ctypes.data == buffer.address  # the same memory

    def test_arrow_by_header(self) -> None:
        table = _table()
        arrow = pa.table({c.header: getattr(table, c.name) for c in POSITION_COLUMNS})
        assert Positions.from_arrow(arrow, by_header=True).ids.tolist() == [
            "A0",
            "A1",
            "A2",
        ]
        with pytest.raises(KeyError, match="ids"):
            Positions.from_arrow(arrow)

    def test_columns_must_agree(self) -> None:
        table = _table()
        columns = {n: getattr(table, n) for n in COLUMN_NAMES}
        columns["vs_fpm"] = np.zeros(2)
        with pytest.raises(ValueError, match=r"Positions.vs_fpm has 2 rows, ids has 3"):
            Positions(**columns)

    def test_a_snapshot_checks_its_lengths(self) -> None:
        with pytest.raises(ValueError, match=r"AircraftStates\.alt_ft has 2 entries"):
            AircraftStates.from_columns(["A"], [1], [2], [3, 4], [5], [6], [7])


class TestViews:
    def test_take_and_concat(self) -> None:
        table = _table()
        assert table.take(np.array([2, 0])).ids.tolist() == ["A2", "A0"]
        assert len(Positions.concat([table, table])) == 6
        assert len(Positions.concat([])) == 0

    def test_a_slice_shares_memory(self) -> None:
        table = _table()
        part = table.take(slice(1, 3))
        assert np.shares_memory(part.lat_deg, table.lat_deg)

    def test_states_is_a_view_without_time(self) -> None:
        table = _table()
        states = table.states(slice(0, 2))
        assert isinstance(states, AircraftStates)
        assert states.ids.tolist() == ["A0", "A1"]
        assert np.shares_memory(states.alt_ft, table.alt_ft)
        assert not hasattr(states, "t_s")

    def test_in_time_order(self) -> None:
        table = _table().take(np.array([2, 0, 1]))
        assert table.in_time_order().t_s.tolist() == [1000.0, 1001.0, 1002.0]
