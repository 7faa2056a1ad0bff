"""Read a snapshot of aircraft states from CSV.

Header: ``id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm`` in any order, plus an optional
``party``; other columns are ignored. Without a ``party`` column every aircraft
counts as its own party. Every problem in the file is reported at once, each with its
line and field.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence

import numpy as np

from deconfliction.adapters.input_files import read_text
from deconfliction.adapters.position_fields import RANGES, check_number
from deconfliction.domain.model import AircraftStates, FloatArray
from deconfliction.domain.positions import HEADERS
from deconfliction.errors import Problem, StatesError

REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    h for h in HEADERS if h not in ("party", "time")
)
MAX_REPORTED_PROBLEMS: int = (
    50  # beyond this a file is plainly wrong; say how many more
)


def read_states(
    path: str | os.PathLike[str], known_parties: Iterable[str] | None = None
) -> AircraftStates:
    """Read a states file.

    Args:
        path: the CSV file.
        known_parties: when given, every ``party`` value must be one of these.

    Returns:
        The snapshot.

    Raises:
        StatesError: listing every problem with its line and field (an empty,
            binary or non-UTF-8 file too).
        FileNotFoundError: if the file does not exist.
    """
    text = read_text(path, StatesError)
    return parse_states(text, str(path), known_parties)


def parse_states(
    text: str, source: str = "<states>", known_parties: Iterable[str] | None = None
) -> AircraftStates:
    """Parse states from CSV text; see :func:`read_states`.

    >>> text = "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\\nA,35,38,20000,400,90,0\\n"
    >>> s = parse_states(text)
    >>> s.ids.tolist(), s.party.tolist(), float(s.gs_kt[0])
    (['A'], ['A'], 400.0)
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise StatesError([Problem(source, 1, "", "the file is empty: no header")])
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise StatesError(
            [
                Problem(
                    source,
                    1,
                    ",".join(missing),
                    f"missing column(s) {', '.join(missing)}; the header must have "
                    f"{','.join(REQUIRED_COLUMNS)} (and optionally party)",
                )
            ]
        )
    index = {
        name: header.index(name)
        for name in (*REQUIRED_COLUMNS, "party")
        if name in header
    }
    parties = None if known_parties is None else set(known_parties)
    plain = _plain_columns(text, len(header))
    if plain is not None:
        fast = _parse_clean(plain, index, parties)
        if fast is not None:
            return fast
    rows: list[list[str]] = []
    lines: list[int] = []  # where each row ends (a quoted field may span lines)
    for row in reader:
        rows.append(row)
        lines.append(reader.line_num)
    if rows and all(len(row) == len(header) for row in rows):
        fast = _parse_clean(list(zip(*rows, strict=True)), index, parties)
        if fast is not None:
            return fast
    return _parse_checked(rows, lines, len(header), index, parties, source)


def _plain_columns(text: str, width: int) -> list[list[str]] | None:
    """The cells of the rows after the header, column by column, split without a
    Python step per row; None unless the text is plain: no quote, carriage return
    or NUL, at least one row, and ``width - 1`` commas on every line (so no blank
    line). Plain text splits exactly as ``csv.reader`` splits it."""
    if '"' in text or "\r" in text or "\x00" in text:
        return None
    start = text.find("\n")
    body = text[start + 1 :] if start >= 0 else ""
    if not body:
        return None
    if not body.endswith("\n"):
        body += "\n"
    # In UTF-8 the bytes of "," and "\n" stand only for themselves.
    data = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    newline = data == ord("\n")
    separators = newline | (data == ord(","))
    ends = newline[separators]  # for each separator, whether it ends a line
    if len(ends) % width:
        return None
    if not bool(np.all(ends.reshape(-1, width) == (np.arange(width) == width - 1))):
        return None
    cells = body[:-1].replace("\n", ",").split(",")
    return [cells[k::width] for k in range(width)]


def _parse_clean(
    columns: Sequence[Sequence[str]],
    index: dict[str, int],
    parties: set[str] | None,
) -> AircraftStates | None:
    """The states of a file with no problem at all, from its cells column by
    column; None as soon as anything is off (then :func:`_parse_checked` reads it
    row by row and names every problem). What it returns is what
    ``_parse_checked`` would: the same ``float`` of each field, the same stripped
    ids and parties (#20.2)."""
    values: dict[str, FloatArray] = {}
    try:
        for name in REQUIRED_COLUMNS[1:]:
            values[name] = np.array(
                list(map(float, columns[index[name]])), dtype=np.float64
            )
    except ValueError:
        return None
    for name, column in values.items():
        low, high = RANGES[name]
        # NaN fails both comparisons, and the ranges are finite.
        if not bool(np.all((column >= low) & (column <= high))):
            return None
    ids = [cell.strip() for cell in columns[index["id"]]]
    if not all(ids) or len(set(ids)) != len(ids):
        return None
    if "party" in index:
        party = [cell.strip() for cell in columns[index["party"]]]
        if not all(party):
            return None
    else:
        party = ids
    if parties is not None and not set(party) <= parties:
        return None
    return AircraftStates(
        ids=np.asarray(ids, dtype=np.str_),
        party=np.asarray(party, dtype=np.str_),
        lat_deg=values["lat"],
        lon_deg=values["lon"],
        alt_ft=values["alt_ft"],
        gs_kt=values["gs_kt"],
        trk_deg=values["trk_deg"],
        vs_fpm=values["vs_fpm"],
    )


def _parse_checked(
    rows: list[list[str]],
    lines: list[int],
    width: int,
    index: dict[str, int],
    parties: set[str] | None,
    source: str,
) -> AircraftStates:
    """Row by row, every problem named by its line and field."""
    problems: list[Problem] = []
    has_party = "party" in index
    columns: dict[str, list[float]] = {c: [] for c in REQUIRED_COLUMNS[1:]}
    ids: list[str] = []
    party: list[str] = []
    first_line_of: dict[str, int] = {}
    for line, row in zip(lines, rows, strict=True):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != width:
            problems.append(
                Problem(source, line, "", f"{len(row)} fields, the header has {width}")
            )
            continue
        row_problems: list[Problem] = []
        values: dict[str, float] = {}
        for name in REQUIRED_COLUMNS[1:]:
            value, problem = check_number(name, row[index[name]])
            if problem is not None:
                row_problems.append(Problem(source, line, name, problem))
            elif value is not None:
                values[name] = value
        ident = row[index["id"]].strip()
        if not ident:
            row_problems.append(Problem(source, line, "id", "empty id"))
        elif ident in first_line_of:
            row_problems.append(
                Problem(
                    source,
                    line,
                    "id",
                    f"duplicate id {ident!r} (first on line {first_line_of[ident]})",
                )
            )
        who = row[index["party"]].strip() if has_party else ident
        if has_party and not who:
            row_problems.append(Problem(source, line, "party", "empty party"))
        elif parties is not None and who not in parties:
            row_problems.append(
                Problem(
                    source,
                    line,
                    "party",
                    f"unknown party {who!r}; the protocol names "
                    f"{', '.join(sorted(parties))}",
                )
            )
        if row_problems:
            problems.extend(row_problems)
            continue
        first_line_of[ident] = line
        ids.append(ident)
        party.append(who)
        for name in REQUIRED_COLUMNS[1:]:
            columns[name].append(values[name])
    if problems:
        if len(problems) > MAX_REPORTED_PROBLEMS:
            more = len(problems) - MAX_REPORTED_PROBLEMS
            problems = [
                *problems[:MAX_REPORTED_PROBLEMS],
                Problem(source, None, "", f"... and {more} more problems"),
            ]
        raise StatesError(problems)
    return AircraftStates(
        ids=np.asarray(ids, dtype=np.str_),
        party=np.asarray(party, dtype=np.str_),
        lat_deg=np.asarray(columns["lat"], dtype=np.float64),
        lon_deg=np.asarray(columns["lon"], dtype=np.float64),
        alt_ft=np.asarray(columns["alt_ft"], dtype=np.float64),
        gs_kt=np.asarray(columns["gs_kt"], dtype=np.float64),
        trk_deg=np.asarray(columns["trk_deg"], dtype=np.float64),
        vs_fpm=np.asarray(columns["vs_fpm"], dtype=np.float64),
    )
