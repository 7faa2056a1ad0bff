"""The strict reader of track tables: every row or nothing.

One of the two policies for bad rows of the one track-table reader of the adapters
(CSV and Parquet; OpenSky state vectors go through ``adapters.opensky``):

* ``refuse`` (here, :func:`read_positions`): the file must have every column of the
  positions table (``id,party,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm``, any
  order, other columns ignored); any bad row fails the whole read with every
  problem, each with its line (CSV) or row (Parquet), up to :data:`MAX_PROBLEMS`.
  For ``analyze``, ``whatif`` and ``daa``: a result over part of a history would be
  wrong without saying so.
* ``count`` (:func:`deconfliction.adapters.tabular.read_tracks_table`): only
  ``id,time,lat,lon`` are needed; each bad row is counted by reason and the good
  rows around it are kept. For ``tracks``, ``replay`` and the feeds: live and
  recorded traffic is kept as it comes, its losses reported.

:func:`read_track_table` is the one entry with the policy named.
``time`` is RFC 3339 with a zone (``2017-12-13T10:00:00Z``, as the demo writes it),
epoch seconds, or in Parquet a timestamp column (one without a zone is taken as UTC).
``id`` names one aircraft and is flown by one party. Everything is read column by
column with pyarrow and checked at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import numpy as np

from deconfliction.adapters.input_files import check_text_file, parquet_errors
from deconfliction.adapters.tabular import is_parquet
from deconfliction.domain.model import FloatArray, IntArray, StrArray
from deconfliction.domain.positions import HEADERS, POSITION_COLUMNS, Positions
from deconfliction.errors import InputError, Problem
from deconfliction.timetext import arrow_text_times_s, ns_to_s

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from deconfliction.adapters.track_stream import PartyRules, ReadStats, TrackBatch

P = TypeVar("P", bound=Positions)
BadRows = Literal["refuse", "count"]
BAD_ROWS: tuple[str, ...] = ("refuse", "count")

TRACK_COLUMNS: tuple[str, ...] = HEADERS  # id,party,time,lat,lon,alt_ft,...
_NUMERIC_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (c.header, c.name) for c in POSITION_COLUMNS if not c.is_text and c.name != "t_s"
)  # (header, attribute): ("lat", "lat_deg"), ... ("vs_fpm", "vs_fpm")
MAX_PROBLEMS: int = 20  # more than this many bad rows: the file is wrong, not a row


@overload
def read_track_table(
    path: str | os.PathLike[str], bad_rows: Literal["refuse"]
) -> Positions: ...


@overload
def read_track_table(
    path: str | os.PathLike[str],
    bad_rows: Literal["count"],
    rules: PartyRules | None = None,
) -> tuple[TrackBatch, ReadStats]: ...


def read_track_table(
    path: str | os.PathLike[str],
    bad_rows: BadRows,
    rules: PartyRules | None = None,
) -> Positions | tuple[TrackBatch, ReadStats]:
    """Read a track table (CSV or Parquet, told apart by its first bytes) with the
    policy ``bad_rows`` for bad rows.

    Args:
        path: the file.
        bad_rows: ``refuse`` (:func:`read_positions`: every column needed, any bad
            row fails the read, every problem listed) or ``count``
            (:func:`~deconfliction.adapters.tabular.read_tracks_table`: bad rows
            counted by reason in the stats, the good rows kept).
        rules: with ``count``, the party rules applied to the rows.

    Raises:
        InputError: as the policy's reader; a ``rules`` with ``refuse``.
        OSError: if the file cannot be read.
    """
    if bad_rows == "count":
        from deconfliction.adapters.tabular import read_tracks_table

        return read_tracks_table(path, rules)
    if bad_rows != "refuse" or rules is not None:
        raise InputError(
            [
                Problem(
                    os.fspath(path),
                    None,
                    "bad_rows",
                    f"unknown policy {bad_rows!r} ({'|'.join(BAD_ROWS)})"
                    if bad_rows != "refuse"
                    else "party rules apply to the counting reader only",
                )
            ]
        )
    return read_positions(path)


def read_positions(
    path: str | os.PathLike[str],
    cls: type[P] = Positions,  # type: ignore[assignment]
) -> P:
    """Read a whole track file, CSV or Parquet (told apart by its first bytes), with
    the ``refuse`` policy: any bad row fails the read.

    Args:
        path: the file.
        cls: the table to build (:class:`Positions` or a subclass of it).

    Returns:
        Every row, in file order.

    Raises:
        InputError: if a column is missing or rows are bad (every problem, with its
            line or row, up to :data:`MAX_PROBLEMS`).
        OSError: if the file cannot be read.
    """
    source = os.fspath(path)
    if is_parquet(path):
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        with parquet_errors(source):
            schema = pq.read_schema(source)
        _check_columns(schema.names, source)
        with parquet_errors(source):
            table = pq.read_table(source, columns=list(TRACK_COLUMNS))
        return tracks_from_arrow(table, source, first_line=1, line_word="row", cls=cls)
    check_text_file(source)
    import pyarrow as pa
    import pyarrow.csv as pcsv  # type: ignore[import-untyped]

    try:
        table = pcsv.read_csv(
            source,
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in TRACK_COLUMNS},
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(
            [Problem(source, None, "", f"not a CSV table: {exc}")]
        ) from None
    _check_columns(table.column_names, source)
    return tracks_from_arrow(table, source, first_line=2, line_word="line", cls=cls)


def _check_columns(names: Sequence[str], source: str) -> None:
    missing = [c for c in TRACK_COLUMNS if c not in names]
    if missing:
        raise InputError(
            [
                Problem(
                    source,
                    None,
                    c,
                    "missing column (needed: " + ",".join(TRACK_COLUMNS) + ")",
                )
                for c in missing
            ]
        )


def tracks_from_arrow(
    table: pa.Table,
    source: str,
    first_line: int,
    line_word: str = "line",
    t_s: FloatArray | None = None,
    cls: type[P] = Positions,  # type: ignore[assignment]
) -> P:
    """Check and convert an Arrow table with the track columns.

    Args:
        table: the table (other columns are ignored).
        source: the file name, for problems.
        first_line: the line (or row) number of the table's first row.
        line_word: ``line`` (CSV) or ``row`` (Parquet), in messages.
        t_s: the rows' times when already converted and checked (from the same
            ``time`` column).

    Returns:
        The rows as a ``cls`` (a :class:`Positions` by default).

    Raises:
        InputError: listing every bad row, up to :data:`MAX_PROBLEMS`.
    """
    problems: list[Problem] = []
    ids, id_codes = _text_column(table, "id", source, first_line, problems)
    party, party_codes = _text_column(table, "party", source, first_line, problems)
    if t_s is None:
        t_s = timens_to_s(table.column("time"), source, first_line, problems)
    numbers = {
        field: _float_column(table, column, source, first_line, problems)
        for column, field in _NUMERIC_COLUMNS
    }
    _check_ranges(numbers, source, first_line, problems)
    if not problems:
        _check_one_party(ids, party, source, problems, id_codes, party_codes)
    if problems:
        raise InputError(_capped(problems, line_word))
    return cls(ids=ids, party=party, t_s=t_s, **numbers)


def _as_rows(problems: list[Problem]) -> list[Problem]:
    """Problems of a Parquet file: the row number in the message (a file has no
    lines)."""
    return [
        Problem(p.source, None, p.field, f"row {p.line}: {p.message}")
        if p.line is not None
        else p
        for p in problems
    ]


def _capped(problems: list[Problem], line_word: str) -> list[Problem]:
    if line_word != "line":
        problems = _as_rows(problems)
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return [
        *problems[:MAX_PROBLEMS],
        Problem(problems[0].source, None, "", f"and {more} more problems"),
    ]


def _text_column(
    table: pa.Table, name: str, source: str, first_line: int, problems: list[Problem]
) -> tuple[StrArray, IntArray | None]:
    """The column as strings, and its dictionary codes when it is dictionary-encoded
    (Parquet from recorders usually is: the codes make the checks fast)."""
    import pyarrow as pa

    chunked = table.column(name)
    codes: IntArray | None = None
    if pa.types.is_dictionary(chunked.type):
        column = chunked.unify_dictionaries().combine_chunks()
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        # Decode the (few) distinct values once, then index: fast for big files.
        values = np.asarray(
            column.dictionary.cast(pa.string()).to_pylist() or [""], dtype=np.str_
        )
        codes = (
            column.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        )
        out = values[codes]
    else:
        column = chunked.combine_chunks()
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        text = column.cast(pa.string()).fill_null("")
        out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=np.str_)
    out = np.asarray(out, dtype=np.str_)
    blank = nulls | (out == "")
    for row in np.flatnonzero(blank)[: MAX_PROBLEMS + 1].tolist():
        problems.append(Problem(source, first_line + row, name, "empty"))
    result: StrArray = out
    return result, codes


def _float_column(
    table: pa.Table, name: str, source: str, first_line: int, problems: list[Problem]
) -> FloatArray:
    import pyarrow as pa

    column = table.column(name).combine_chunks()
    try:
        numbers = column.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = pa.array(
            [_to_float(v) for v in column.to_pylist()], type=pa.float64()
        )
    values = numbers.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    bad = ~np.isfinite(values)
    raw = column.to_pylist() if bad.any() else []
    for row in np.flatnonzero(bad)[: MAX_PROBLEMS + 1].tolist():
        shown = raw[row]
        message = "empty" if shown in (None, "") else f"not a finite number: {shown!r}"
        problems.append(Problem(source, first_line + row, name, message))
    result: FloatArray = np.asarray(values, dtype=np.float64)
    return result


def _to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def timens_to_s(
    column: Any, source: str, first_line: int, problems: list[Problem]
) -> FloatArray:
    """Epoch seconds of a time column: timestamps, numbers or RFC 3339 text.

    Args:
        column: an Arrow array or chunked array.
        source: the file name, for problems.
        first_line: the line (or row) number of the first value.
        problems: where bad values are appended.

    Returns:
        The times (NaN where a value is bad).
    """
    import pyarrow as pa

    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if pa.types.is_timestamp(kind):
        ns = array.cast(pa.timestamp("ns", tz=kind.tz)).cast(pa.int64())
        values = ns_to_s(ns.fill_null(0).to_numpy(zero_copy_only=False))
        values = np.where(
            array.is_null().to_numpy(zero_copy_only=False), np.nan, values
        )
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        values = values.astype(np.float64, copy=True)
    else:
        values = arrow_text_times_s(array.cast(pa.string()))
    bad = ~np.isfinite(values)
    if bad.any():
        raw = array.to_pylist()
        for row in np.flatnonzero(bad)[: MAX_PROBLEMS + 1].tolist():
            shown = raw[row]
            message = (
                "empty"
                if shown in (None, "")
                else f"not an RFC 3339 time with a zone, nor epoch seconds: {shown!r}"
            )
            problems.append(Problem(source, first_line + row, "time", message))
    result: FloatArray = np.asarray(values, dtype=np.float64)
    return result


def _check_ranges(
    numbers: dict[str, FloatArray],
    source: str,
    first_line: int,
    problems: list[Problem],
) -> None:
    limits = {"lat_deg": ("lat", 90.0), "lon_deg": ("lon", 180.0)}
    for field, (column, limit) in limits.items():
        bad = np.flatnonzero(np.abs(numbers[field]) > limit)
        for row in bad[: MAX_PROBLEMS + 1].tolist():
            problems.append(
                Problem(
                    source,
                    first_line + row,
                    column,
                    f"{numbers[field][row]:g} is outside [-{limit:g}, {limit:g}]",
                )
            )
    bad = np.flatnonzero(numbers["gs_kt"] < 0.0)
    for row in bad[: MAX_PROBLEMS + 1].tolist():
        problems.append(
            Problem(source, first_line + row, "gs_kt", "a ground speed is not negative")
        )


def _check_one_party(
    ids: StrArray,
    party: StrArray,
    source: str,
    problems: list[Problem],
    id_codes: IntArray | None = None,
    party_codes: IntArray | None = None,
) -> None:
    if len(ids) == 0:
        return
    if id_codes is None or party_codes is None:
        _, id_codes = np.unique(ids, return_inverse=True)
        _, party_codes = np.unique(party, return_inverse=True)
    id_codes = id_codes.astype(np.int64)
    width = int(party_codes.max()) + 1
    pairs = np.unique(id_codes * width + party_codes)
    aircraft = pairs // width
    twice = np.unique(aircraft[np.r_[False, aircraft[1:] == aircraft[:-1]]])
    for code in twice[:MAX_PROBLEMS].tolist():
        rows = id_codes == code
        name = str(ids[np.argmax(rows)])
        flown_by = sorted(set(party[rows].tolist()))
        problems.append(
            Problem(
                source,
                None,
                "party",
                f"aircraft {name!r} is flown by several parties: "
                + ", ".join(flown_by),
            )
        )
