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
from collections.abc import Iterable

import numpy as np

from deconfliction.adapters.input_files import read_text
from deconfliction.adapters.position_fields import check_number
from deconfliction.domain.model import AircraftStates
from deconfliction.errors import Problem, StatesError

REQUIRED_COLUMNS: tuple[str, ...] = (
    "id",
    "lat",
    "lon",
    "alt_ft",
    "gs_kt",
    "trk_deg",
    "vs_fpm",
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
    problems: list[Problem] = []
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
    has_party = "party" in index
    parties = None if known_parties is None else set(known_parties)

    columns: dict[str, list[float]] = {c: [] for c in REQUIRED_COLUMNS[1:]}
    ids: list[str] = []
    party: list[str] = []
    first_line_of: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                Problem(
                    source, line, "", f"{len(row)} fields, the header has {len(header)}"
                )
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
