"""Track tables in and out: the demo's ``tracks.csv`` and Parquet with its columns.

One row per position, columns ``id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm``
(any order, other columns ignored). ``time`` is RFC 3339 with a zone
(``2017-12-13T10:00:00Z``, as the demo writes it), epoch seconds, or in Parquet a
timestamp column (one without a zone is taken as UTC). ``id`` names one aircraft and
is flown by one party.

Everything is read column by column with pyarrow and checked at once: every problem
is reported with its line (CSV) or row (Parquet), up to :data:`MAX_PROBLEMS`.
:func:`read_parquet_window` reads only the row groups of a Parquet file that overlap
a time window, one at a time, so that a worker never holds more than its window.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from deconfliction.adapters.input_files import parquet_errors
from deconfliction.adapters.tabular import PARQUET_MAGIC as PARQUET_MAGIC
from deconfliction.adapters.tabular import is_parquet as is_parquet
from deconfliction.adapters.track_tables import (  # noqa: F401 (re-exported)
    _NUMERIC_COLUMNS,
    _as_rows,
    _capped,
    _check_columns,
    _check_one_party,
    _check_ranges,
    _float_column,
    _text_column,
    _to_float,
    read_positions,
    tracks_from_arrow,
)
from deconfliction.adapters.track_tables import MAX_PROBLEMS as MAX_PROBLEMS
from deconfliction.adapters.track_tables import TRACK_COLUMNS as TRACK_COLUMNS
from deconfliction.adapters.track_tables import timens_to_s as timens_to_s
from deconfliction.domain.conformance import PositionStream
from deconfliction.domain.model import IntArray, StrArray
from deconfliction.domain.positions import (
    COLUMN_NAMES,
    Positions,
)
from deconfliction.errors import InputError, Problem

if TYPE_CHECKING:
    from deconfliction.scenario.traffic import Traffic

_NS_PER_S: float = 1e9


@dataclass(frozen=True, slots=True)
class TrackTable(Positions):
    """A track table: the :class:`~deconfliction.domain.positions.Positions` of any
    number of aircraft, one row per position, with the ways in of the simulated
    traffic and out to conformance.

    Raises:
        ValueError: if the columns differ in length.
    """

    @classmethod
    def from_traffic(cls, traffic: Traffic) -> TrackTable:
        """The positions of simulated traffic (the demo's ``tracks.csv``)."""
        return cls.from_mapping({name: getattr(traffic, name) for name in COLUMN_NAMES})

    def positions(self) -> PositionStream:
        """The rows as a conformance :class:`PositionStream`.

        Raises:
            InputError: as :class:`PositionStream`.
        """
        return PositionStream.of(self)


# --------------------------------------------------------------------------------------
# Reading: the adapters' strict reader (adapters/track_tables.py), as track tables


def read_tracks(path: str | os.PathLike[str]) -> TrackTable:
    """Every row of a track file, CSV or Parquet, as a :class:`TrackTable`: the
    adapters' reader with the ``refuse`` policy for bad rows
    (:func:`~deconfliction.adapters.track_tables.read_positions`, which raises
    InputError listing every bad row, up to :data:`MAX_PROBLEMS`, and OSError).
    """
    return read_positions(path, TrackTable)


# --------------------------------------------------------------------------------------
# Parquet: row groups and windows


@dataclass(frozen=True, slots=True)
class RowGroup:
    """One row group of a Parquet track file and the times it spans.

    Attributes:
        path: the file.
        index: the row group's index in the file.
        rows: number of rows.
        first_row: the file row of its first row (0-based), for problems.
        t_min_s: its earliest time (NaN when it has no valid time).
        t_max_s: its latest time.
        lat_min_deg: its southernmost latitude (NaN when not known).
        lat_max_deg: its northernmost latitude.
        lon_min_deg: its westernmost longitude (-180 to 180, as numbers: an area
            across the antimeridian spans them all).
        lon_max_deg: its easternmost longitude.
        gs_max_kt: its highest ground speed.
    """

    path: str
    index: int
    rows: int
    first_row: int
    t_min_s: float
    t_max_s: float
    lat_min_deg: float = math.nan
    lat_max_deg: float = math.nan
    lon_min_deg: float = math.nan
    lon_max_deg: float = math.nan
    gs_max_kt: float = math.nan


def row_groups(path: str | os.PathLike[str]) -> list[tuple[int, int, int]]:
    """``(index, rows, first_row)`` of each row group of a Parquet file.

    Raises:
        InputError: if the file is not Parquet or lacks a track column.
        OSError: if it cannot be read.
    """
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    source = os.fspath(path)
    if not is_parquet(source):
        raise InputError(
            [
                Problem(
                    source,
                    None,
                    "",
                    "not a Parquet file: analyze reads Parquet (convert a track file "
                    f"with: deconfliction tracks {source} --format parquet --out "
                    "TRACKS.parquet)",
                )
            ]
        )
    with parquet_errors(source):
        meta = pq.ParquetFile(source).metadata
        names = meta.schema.to_arrow_schema().names
    _check_columns(names, source)
    out = []
    first = 0
    for k in range(meta.num_row_groups):
        rows = meta.row_group(k).num_rows
        out.append((k, rows, first))
        first += rows
    return out


def row_group_time_span(path: str, index: int, rows: int, first_row: int) -> RowGroup:
    """Read one row group's time column and return its span in time, with where
    its positions are and how fast they go (from the file's statistics, or read).

    Raises:
        InputError: if a time in it is bad.
        OSError: if the file cannot be read.
    """
    import pyarrow.parquet as pq

    with parquet_errors(path):
        parquet = pq.ParquetFile(path)
        column = parquet.read_row_group(index, columns=["time"]).column(0)
    problems: list[Problem] = []
    t_s = timens_to_s(column, path, first_row + 1, problems)
    if problems:
        raise InputError(_capped(problems, "row"))
    if len(t_s) == 0:
        return RowGroup(path, index, rows, first_row, float("nan"), float("nan"))
    # Where: from the file's statistics when it has them (free), else read. Bad
    # values are told when the rows are read; here they only must not count.
    with parquet_errors(path):
        lat = _column_range(parquet, index, "lat", -90.0, 90.0)
        lon = _column_range(parquet, index, "lon", -180.0, 180.0)
        gs = _column_range(parquet, index, "gs_kt", 0.0, math.inf)
    return RowGroup(
        path,
        index,
        rows,
        first_row,
        float(np.min(t_s)),
        float(np.max(t_s)),
        lat_min_deg=lat[0],
        lat_max_deg=lat[1],
        lon_min_deg=lon[0],
        lon_max_deg=lon[1],
        gs_max_kt=gs[1],
    )


def _column_range(
    parquet: Any, index: int, name: str, lo: float, hi: float
) -> tuple[float, float]:
    """(min, max) of a row group's column: its statistics when they are there and
    within [lo, hi], else from its values (:func:`_finite_range`)."""
    meta = parquet.metadata.row_group(index)
    for k in range(meta.num_columns):
        chunk = meta.column(k)
        if chunk.path_in_schema != name:
            continue
        stats = chunk.statistics
        if stats is not None and stats.has_min_max:
            try:
                low, high = float(stats.min), float(stats.max)
            except (TypeError, ValueError):
                break
            if lo <= low <= high <= hi:
                return low, high
        break
    values = parquet.read_row_group(index, columns=[name]).column(0)
    return _finite_range(values, lo, hi)


def _finite_range(column: Any, lo: float, hi: float) -> tuple[float, float]:
    """(min, max) of a numeric column's values within [lo, hi]; NaN when none (or
    when the column is not numeric: reading the rows will say so)."""
    import pyarrow as pa

    try:
        values = np.asarray(
            column.to_numpy(zero_copy_only=False), dtype=np.float64
        ).ravel()
    except (ValueError, TypeError, pa.ArrowException):
        return math.nan, math.nan
    good = values[(values >= lo) & (values <= hi)]
    if good.size == 0:
        return math.nan, math.nan
    return float(good.min()), float(good.max())


def read_parquet_window(
    groups: Sequence[RowGroup], t_from_s: float, t_to_s: float
) -> TrackTable:
    """The rows with ``t_from_s <= time < t_to_s`` from the row groups that overlap it.

    Row groups are read one at a time and filtered at once, so memory holds the
    window plus one row group.

    Raises:
        InputError: if a row is bad.
        OSError: if a file cannot be read.
    """
    return read_parquet_window_coded(groups, t_from_s, t_to_s)[0]


def read_parquet_window_coded(
    groups: Sequence[RowGroup], t_from_s: float, t_to_s: float
) -> tuple[TrackTable, IntArray]:
    """:func:`read_parquet_window`, with each row's aircraft code: the codes of
    :func:`aircraft_codes` (the rank of its id among the distinct ids), taken from
    the files' dictionaries when the ids are dictionary-encoded (as recorders and
    :func:`write_tracks_parquet` write them), which is far cheaper than sorting the
    ids.

    Raises:
        InputError: if a row is bad.
        OSError: if a file cannot be read.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts: list[TrackTable] = []
    id_chunks: list[Any] = []
    files: dict[str, Any] = {}
    for g in groups:
        if not (g.t_max_s >= t_from_s and g.t_min_s < t_to_s):
            continue
        with parquet_errors(g.path):
            if g.path not in files:
                files[g.path] = pq.ParquetFile(g.path, read_dictionary=["id", "party"])
            table = files[g.path].read_row_group(g.index, columns=list(TRACK_COLUMNS))
        problems: list[Problem] = []
        t_s = timens_to_s(table.column("time"), g.path, g.first_row + 1, problems)
        if problems:
            raise InputError(_capped(problems, "row"))
        keep = np.flatnonzero((t_s >= t_from_s) & (t_s < t_to_s))
        if keep.size == 0:
            continue
        taken = table.take(keep)
        try:
            part = tracks_from_arrow(
                taken, g.path, first_line=0, t_s=t_s[keep], cls=TrackTable
            )
        except InputError as exc:
            # Name the rows of the file, not of the window's selection.
            file_row = g.first_row + 1 + keep
            raise InputError(
                _as_rows(
                    [
                        p if p.line is None else replace(p, line=int(file_row[p.line]))
                        for p in exc.problems
                    ]
                )
            ) from None
        parts.append(part)
        id_chunks.extend(taken.column("id").chunks)
    table_out = TrackTable.concat(parts)
    if not parts:
        return table_out, np.zeros(0, dtype=np.int64)
    ids = pa.chunked_array(id_chunks)
    if not pa.types.is_dictionary(ids.type):
        return table_out, aircraft_codes(table_out.ids)[1]
    column = ids.unify_dictionaries().combine_chunks()
    values = np.asarray(column.dictionary.cast(pa.string()).to_pylist(), dtype=np.str_)
    index = column.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # Dictionary entries may repeat or go unused: rank the distinct values used.
    used = np.unique(index)
    distinct, inverse = np.unique(values[used], return_inverse=True)
    rank = np.zeros(len(values), dtype=np.int64)
    rank[used] = inverse.ravel()
    del distinct
    return table_out, rank[index]


def tracks_arrow(table: TrackTable, dictionary: bool = True) -> Any:
    """A track table as Arrow, in the columns of a track file (``time`` as a UTC
    timestamp in microseconds; ``id`` and ``party`` dictionary-encoded unless
    ``dictionary`` is False)."""
    import pyarrow as pa

    def text(values: StrArray) -> Any:
        column = pa.array(values)
        return column.dictionary_encode() if dictionary else column

    micros = np.round(table.t_s * 1e6).astype(np.int64)
    return pa.table(
        {
            "id": text(table.ids),
            "party": text(table.party),
            "time": pa.array(micros, type=pa.timestamp("us", tz="UTC")),
            "lat": table.lat_deg,
            "lon": table.lon_deg,
            "alt_ft": table.alt_ft,
            "gs_kt": table.gs_kt,
            "trk_deg": table.trk_deg,
            "vs_fpm": table.vs_fpm,
        }
    )


def write_tracks_parquet(
    path: str | os.PathLike[str], table: TrackTable, row_group_rows: int = 1_000_000
) -> None:
    """Write a track table as Parquet (:func:`tracks_arrow`).

    Raises:
        OSError: if the file cannot be written.
    """
    import pyarrow.parquet as pq

    arrow = tracks_arrow(table)
    pq.write_table(arrow, os.fspath(path), row_group_size=row_group_rows)


def aircraft_codes(ids: StrArray) -> tuple[StrArray, IntArray]:
    """The distinct ids (sorted) and the code of each row into them."""
    unique, codes = np.unique(ids, return_inverse=True)
    return unique, codes.astype(np.int64)
