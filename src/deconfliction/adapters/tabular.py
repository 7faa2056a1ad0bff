"""Tracks and events as CSV and Parquet, in and out, vectorised with pyarrow.

The track table has one row per position:

``id,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm`` then ``party,callsign,icao24,squawk,
source``. ``time`` is RFC 3339 UTC in CSV (``2017-12-13T10:00:00.250Z``) and a UTC
timestamp in Parquet; an unknown value is an empty cell (CSV) or null (Parquet). The
demo's ``tracks.csv`` and ``deconfliction tracks`` output read back as they are.

Reading needs ``id``, ``time``, ``lat`` and ``lon``; the other columns are optional,
in any order, and unknown columns are ignored. ``time`` may be RFC 3339 with a zone,
epoch seconds, or (Parquet) a timestamp column (a timestamp without a zone is taken
as UTC). Each bad row is counted by reason with its line (CSV) or row (Parquet)
number; the good rows around it are kept.

The event table (alerts and violations as they change) has ``event,time`` and then
the fields of ``result_files.conflict_record`` or ``violation_record``.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from deconfliction.adapters.input_files import check_text_file, parquet_errors
from deconfliction.adapters.result_files import (
    COORD_DECIMALS,
    conflict_record,
    violation_record,
)
from deconfliction.adapters.track_stream import (
    ALT_RANGE_FT,
    GS_RANGE_KT,
    LAT_RANGE_DEG,
    LON_RANGE_DEG,
    TRK_RANGE_DEG,
    VS_RANGE_FPM,
    PartyRules,
    ReadStats,
    TrackBatch,
)
from deconfliction.domain.alert_tracker import AlertEvent
from deconfliction.domain.conformance import ViolationEvent
from deconfliction.domain.model import BoolArray, FloatArray
from deconfliction.domain.positions import KINEMATIC_HEADERS
from deconfliction.errors import InputError, Problem
from deconfliction.timetext import parse_rfc3339_s, rfc3339, rfc3339_array

TRACK_COLUMNS: tuple[str, ...] = (
    *KINEMATIC_HEADERS,  # id,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm
    "party",
    "callsign",
    "icao24",
    "squawk",
    "source",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "time", "lat", "lon")
PARQUET_MAGIC: bytes = b"PAR1"
MAX_MS_EPOCH_S: float = 1e11  # epoch numbers above this are milliseconds
_DECIMALS: dict[str, int] = {
    "lat": COORD_DECIMALS,
    "lon": COORD_DECIMALS,
    "alt_ft": 1,
    "gs_kt": 1,
    "trk_deg": 2,
    "vs_fpm": 1,
}


# --------------------------------------------------------------------------------------
# Loading a table


@dataclass(frozen=True, slots=True)
class LoadedTable:
    """A table read from a file, with how to find the file line of a row."""

    table: Any  # pyarrow.Table
    is_csv: bool
    skipped_lines: tuple[int, ...]  # CSV lines dropped for a wrong field count

    def line_of(self, row: int) -> int:
        """The file line of a row (CSV: 1-based, after the header; Parquet: row+1)."""
        if not self.is_csv:
            return row + 1
        line = row + 2
        # Each dropped line before this one pushes it one further down.
        while True:
            shifted = row + 2 + bisect.bisect_right(self.skipped_lines, line)
            if shifted == line:
                return line
            line = shifted


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with Parquet's magic bytes."""
    with Path(path).open("rb") as f:
        return f.read(4) == PARQUET_MAGIC


def load_table(
    path: str | os.PathLike[str], stats: ReadStats, string_columns: Iterable[str] = ()
) -> LoadedTable:
    """Read a CSV (with a header) or Parquet file; CSV rows with a wrong number of
    fields are counted as rejected and skipped.

    Raises:
        InputError: for a file that is neither (with the reason).
        FileNotFoundError: if the file does not exist.
    """
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    source = str(path)
    if is_parquet(path):
        with parquet_errors(source):
            table = pq.read_table(path)
        return LoadedTable(table, False, ())
    check_text_file(path)
    skipped: list[int] = []

    def on_bad_row(row: Any) -> str:
        line = int(row.number) if row.number is not None else None
        stats.read += 1
        stats.reject(
            "wrong field count",
            line,
            "",
            f"{row.actual_columns} fields, the header has {row.expected_columns}",
        )
        if line is not None:
            skipped.append(line)
        return "skip"

    with Path(path).open("rb") as f:
        head = f.read(4096)
    header = head.decode("utf-8-sig", "replace").splitlines()[0] if head else ""
    names = [h.strip() for h in header.split(",")]
    column_types = {name: pa.string() for name in names if name in set(string_columns)}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(
            [Problem(source, None, "", f"not a readable CSV file: {exc}")]
        ) from None
    renamed = [c.strip() for c in table.column_names]
    if renamed != table.column_names:
        table = table.rename_columns(renamed)
    return LoadedTable(table, True, tuple(sorted(skipped)))


# --------------------------------------------------------------------------------------
# Column conversion


@dataclass(frozen=True, slots=True)
class Column:
    """A converted column: values (NaN where missing or bad) and the masks."""

    values: FloatArray
    missing: BoolArray
    bad: BoolArray


def float_column(array: Any) -> Column:
    """A pyarrow column (numbers or text) as float64, with missing and bad masks."""
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    n = len(array)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        try:
            array = pc.cast(array, pa.float64())
        except pa.ArrowInvalid:
            return _column_slow(array.to_pylist(), float)
    elif pa.types.is_boolean(array.type) or not (
        pa.types.is_integer(array.type)
        or pa.types.is_floating(array.type)
        or pa.types.is_decimal(array.type)
        or pa.types.is_null(array.type)
    ):
        bad = np.ones(n, dtype=np.bool_)
        return Column(np.full(n, np.nan), np.zeros(n, dtype=np.bool_), bad)
    values = np.asarray(
        pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    missing = np.isnan(values)
    bad = np.isinf(values)
    values = np.where(bad, np.nan, values)
    return Column(values, missing, bad)


def _column_slow(items: list[Any], parse: Callable[[Any], float]) -> Column:
    """Each item through ``parse``, one by one: blank or NaN is missing, what it
    refuses (``ValueError``) or infinity is bad."""
    values = np.full(len(items), np.nan)
    missing = np.zeros(len(items), dtype=np.bool_)
    bad = np.zeros(len(items), dtype=np.bool_)
    for k, item in enumerate(items):
        if item is None or not str(item).strip():
            missing[k] = True
            continue
        try:
            value = parse(item)
        except ValueError:
            bad[k] = True
            continue
        if math.isfinite(value):
            values[k] = value
        elif math.isnan(value):
            missing[k] = True
        else:
            bad[k] = True
    return Column(values, missing, bad)


def time_column(array: Any) -> Column:
    """A time column (timestamps, epoch numbers or RFC 3339 text) as epoch seconds.

    Epoch numbers above :data:`MAX_MS_EPOCH_S` are taken as milliseconds.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if pa.types.is_timestamp(array.type):
        as_ns = pc.cast(array, pa.timestamp("ns", tz=array.type.tz))
        ns_array = pc.cast(as_ns, pa.int64())
        ns = np.asarray(pc.fill_null(ns_array, 0).to_numpy(zero_copy_only=False))
        missing = np.asarray(array.is_null().to_numpy(zero_copy_only=False))
        # Whole seconds and the fraction apart: ns / 1e9 in one go loses the
        # last digits of the fraction (0.25 s would read 0.2499998).
        seconds = (ns // 1_000_000_000).astype(np.float64)
        seconds += (ns % 1_000_000_000) / 1e9
        values = np.where(missing, np.nan, seconds)
        return Column(values, missing, np.zeros(len(values), dtype=np.bool_))
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        try:
            numeric = pc.cast(array, pa.float64())
        except pa.ArrowInvalid:
            try:
                stamps = pc.cast(array, pa.timestamp("ns", tz="UTC"))
            except pa.ArrowInvalid:
                return _epoch(_column_slow(array.to_pylist(), _rfc3339_s))
            return time_column(stamps)
        return _epoch(float_column(numeric))
    return _epoch(float_column(array))


def _epoch(col: Column) -> Column:
    values = col.values
    with np.errstate(invalid="ignore"):
        ms = values > MAX_MS_EPOCH_S
    values = np.where(ms, values / 1000.0, values)
    with np.errstate(invalid="ignore"):
        bad = col.bad | (values < 0.0)
    return Column(np.where(bad, np.nan, values), col.missing, bad)


def _rfc3339_s(item: Any) -> float:
    return parse_rfc3339_s(str(item))


def text_column(array: Any, n: int, upper: bool = False) -> npt.NDArray[np.str_]:
    """A text column with ``""`` for nulls (or all ``""`` when absent)."""
    if array is None:
        return np.full(n, "", dtype=np.str_)
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    array = pc.utf8_trim_whitespace(pc.fill_null(array, ""))
    if upper:
        array = pc.utf8_upper(array)
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.str_)


# --------------------------------------------------------------------------------------
# Validation shared by the table readers


RANGES: dict[str, tuple[float, float]] = {
    "lat": LAT_RANGE_DEG,
    "lon": LON_RANGE_DEG,
    "alt_ft": ALT_RANGE_FT,
    "gs_kt": GS_RANGE_KT,
    "trk_deg": TRK_RANGE_DEG,
    "vs_fpm": VS_RANGE_FPM,
}


def validate_rows(
    stats: ReadStats,
    line_of: Callable[[int], int],
    columns: Mapping[str, Column],
    required: Sequence[str],
    ids: npt.NDArray[np.str_],
    names: Mapping[str, str] | None = None,
) -> BoolArray:
    """The rows to keep; every other row is counted once, by its first problem.

    Args:
        stats: where rejections are counted.
        line_of: the file line (or row number) of a row, for messages.
        columns: converted columns by normalised name (``time``, ``lat``, ...).
        required: names that must be present in every row (besides the id).
        ids: the id of each row (``""`` is missing).
        names: the file's own column name for each normalised name (messages).
    """
    names = names or {}
    n = len(ids)
    alive = np.ones(n, dtype=np.bool_)

    def drop(mask: BoolArray, reason: str, field: str, what: str) -> None:
        hit = mask & alive
        count = int(hit.sum())
        if count:
            rows = np.flatnonzero(hit)[:3]
            stats.reject_many(
                reason,
                count,
                [line_of(int(r)) for r in rows],
                names.get(field, field),
                what,
            )
            alive[hit] = False

    drop(ids == "", "missing field", "id", "empty")
    for name in required:
        col = columns[name]
        drop(col.missing, "missing field", name, "empty")
    for name, col in columns.items():
        reason = "bad time" if name == "time" else "bad number"
        drop(col.bad, reason, name, "not a number or a time")
    for name, (low, high) in RANGES.items():
        ranged = columns.get(name)
        if ranged is None:
            continue
        with np.errstate(invalid="ignore"):
            out = ~ranged.missing & ~((ranged.values >= low) & (ranged.values <= high))
        drop(out, "impossible value", name, f"outside [{low:g}, {high:g}]")
    return alive


# --------------------------------------------------------------------------------------
# The normalised track table


def read_tracks_table(
    path: str | os.PathLike[str], rules: PartyRules | None = None
) -> tuple[TrackBatch, ReadStats]:
    """Read a track table (CSV or Parquet, told apart by content).

    Raises:
        InputError: for an unreadable file or missing required columns.
        FileNotFoundError: if the file does not exist.
    """
    source = str(path)
    stats = ReadStats(source=source)
    loaded = load_table(
        path,
        stats,
        string_columns=("id", "party", "callsign", "icao24", "squawk", "source"),
    )
    table = loaded.table
    have = set(table.column_names)
    missing = [c for c in REQUIRED_COLUMNS if c not in have]
    if missing:
        raise InputError(
            [
                Problem(
                    source,
                    1,
                    ",".join(missing),
                    f"missing column(s) {', '.join(missing)}; a track table needs "
                    f"{','.join(REQUIRED_COLUMNS)} (and optionally "
                    f"{','.join(TRACK_COLUMNS[4:])})",
                )
            ]
        )
    n = table.num_rows
    stats.read += n

    def col(name: str) -> Any:
        return table.column(name) if name in have else None

    ids = text_column(col("id"), n)
    columns: dict[str, Column] = {"time": time_column(col("time"))}
    for name in ("lat", "lon", "alt_ft", "gs_kt", "trk_deg", "vs_fpm"):
        if name in have:
            columns[name] = float_column(col(name))
    keep = validate_rows(stats, loaded.line_of, columns, ("time", "lat", "lon"), ids)
    nan = np.full(n, np.nan)
    batch = TrackBatch.from_columns(
        ids=ids,
        t_s=columns["time"].values,
        lat_deg=columns["lat"].values,
        lon_deg=columns["lon"].values,
        alt_ft=columns["alt_ft"].values if "alt_ft" in columns else nan,
        gs_kt=columns["gs_kt"].values if "gs_kt" in columns else nan,
        trk_deg=columns["trk_deg"].values if "trk_deg" in columns else nan,
        vs_fpm=columns["vs_fpm"].values if "vs_fpm" in columns else nan,
        party=text_column(col("party"), n),
        callsign=text_column(col("callsign"), n),
        icao24=text_column(col("icao24"), n, upper=True),
        squawk=text_column(col("squawk"), n),
        source=text_column(col("source"), n),
    ).take(keep)
    stats.accepted += len(batch)
    stats.positions += len(batch)
    if rules is not None:
        batch = rules.apply_batch(batch)
    return batch, stats


def _fmt(values: FloatArray, decimals: int) -> list[str]:
    return [
        "" if v != v else f"{v:.{decimals}f}"  # v != v: NaN, written empty
        for v in np.asarray(values, dtype=np.float64).tolist()
    ]


def write_tracks_csv(out: str | os.PathLike[str] | IO[str], batch: TrackBatch) -> None:
    """One row per position (see :data:`TRACK_COLUMNS`); ``out`` may be a stream.

    Raises:
        OSError: if the file cannot be written.
    """
    columns = (
        batch.ids.tolist(),
        rfc3339_array(batch.t_s) if len(batch) else [],
        *(
            _fmt(getattr(batch, attr), _DECIMALS[name])
            for name, attr in (
                ("lat", "lat_deg"),
                ("lon", "lon_deg"),
                ("alt_ft", "alt_ft"),
                ("gs_kt", "gs_kt"),
                ("trk_deg", "trk_deg"),
                ("vs_fpm", "vs_fpm"),
            )
        ),
        batch.party.tolist(),
        batch.callsign.tolist(),
        batch.icao24.tolist(),
        batch.squawk.tolist(),
        batch.source.tolist(),
    )
    _write_rows(out, TRACK_COLUMNS, zip(*columns, strict=True))


def _write_rows(
    out: str | os.PathLike[str] | IO[str],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    if isinstance(out, str | os.PathLike):
        with Path(out).open("w", newline="", encoding="utf-8") as f:
            _write_rows(f, header, rows)
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def tracks_arrow_table(batch: TrackBatch) -> Any:
    """The batch as a pyarrow table (``time`` a UTC timestamp in milliseconds)."""
    import pyarrow as pa

    def text(values: npt.NDArray[np.str_]) -> Any:
        items = values.tolist()
        return pa.array([v if v else None for v in items], type=pa.string())

    def num(values: FloatArray) -> Any:
        return pa.array(values, type=pa.float64(), from_pandas=True)

    ms = np.round(np.asarray(batch.t_s, dtype=np.float64) * 1000.0).astype(np.int64)
    return pa.table(
        {
            "id": pa.array(batch.ids.tolist(), type=pa.string()),
            "time": pa.array(ms, type=pa.timestamp("ms", tz="UTC")),
            "lat": num(batch.lat_deg),
            "lon": num(batch.lon_deg),
            "alt_ft": num(batch.alt_ft),
            "gs_kt": num(batch.gs_kt),
            "trk_deg": num(batch.trk_deg),
            "vs_fpm": num(batch.vs_fpm),
            "party": text(batch.party),
            "callsign": text(batch.callsign),
            "icao24": text(batch.icao24),
            "squawk": text(batch.squawk),
            "source": text(batch.source),
        }
    )


def write_tracks_parquet(path: str | os.PathLike[str], batch: TrackBatch) -> None:
    """The batch as a Parquet file (zstd-compressed).

    Raises:
        OSError: if the file cannot be written.
    """
    import pyarrow.parquet as pq

    pq.write_table(tracks_arrow_table(batch), path, compression="zstd")


# --------------------------------------------------------------------------------------
# Events


EVENT_HEAD: tuple[str, ...] = ("event", "time")


def event_rows(
    alert_events: Iterable[AlertEvent] = (),
    violation_events: Iterable[ViolationEvent] = (),
) -> list[dict[str, Any]]:
    """Alert and violation changes as flat rows, in time order.

    ``event`` is ``alert.raised|updated|cleared`` or
    ``violation.opened|updated|closed``; the rest are the fields of
    ``result_files.conflict_record`` and ``violation_record``.
    """
    keyed: list[tuple[float, int, dict[str, Any]]] = []
    for k, a in enumerate(alert_events):
        row = {"event": f"alert.{a.kind.value}", "time": rfc3339(a.t_s)}
        row.update(conflict_record(a.alert))
        keyed.append((a.t_s, k, row))
    base = len(keyed)
    for k, v in enumerate(violation_events):
        row = {"event": f"violation.{v.kind.value}", "time": rfc3339(v.t_s)}
        row.update(violation_record(v.violation))
        keyed.append((v.t_s, base + k, row))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in keyed]


def _event_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = list(EVENT_HEAD)
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def write_events_csv(
    out: str | os.PathLike[str] | IO[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Event rows as CSV, one column per field seen (empty where a row has none).

    Raises:
        OSError: if the file cannot be written.
    """
    columns = _event_columns(rows)
    _write_rows(
        out,
        columns,
        (["" if r.get(c) is None else r.get(c) for c in columns] for r in rows),
    )


def write_events_parquet(
    path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Event rows as Parquet (nulls where a row has no such field).

    Raises:
        OSError: if the file cannot be written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = _event_columns(rows)
    table = pa.Table.from_pylist(
        [{c: r.get(c) for c in columns} for r in rows],
        schema=None,
    )
    if not rows:
        table = pa.table({c: pa.array([], type=pa.string()) for c in columns})
    pq.write_table(table, path, compression="zstd")


def write_tracks(
    out: str | os.PathLike[str] | None, batch: TrackBatch, fmt: str
) -> None:
    """Write tracks as ``csv`` or ``parquet`` (CSV to standard output when ``out``
    is None).

    Raises:
        InputError: for Parquet without a file.
        OSError: if the file cannot be written.
    """
    if fmt == "parquet":
        if out is None:
            raise InputError(
                [Problem("tracks output", None, "out", "Parquet needs a file")]
            )
        write_tracks_parquet(out, batch)
    elif out is None:
        buffer = io.StringIO()
        write_tracks_csv(buffer, batch)
        sys.stdout.write(buffer.getvalue())
    else:
        write_tracks_csv(out, batch)
