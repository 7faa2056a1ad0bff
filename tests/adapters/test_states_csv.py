"""Tests of deconfliction.adapters.states_csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from deconfliction.adapters.position_fields import RANGES
from deconfliction.adapters.states_csv import (
    _parse_checked,
    _parse_clean,
    _plain_columns,
    parse_states,
    read_states,
)
from deconfliction.domain.model import AircraftStates
from deconfliction.errors import InputError, StatesError

HEADER = "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"


def _problems(
    text: str, known: list[str] | None = None
) -> list[tuple[int | None, str, str]]:
    with pytest.raises(StatesError) as err:
        parse_states(text, "s.csv", known)
    assert isinstance(err.value, InputError)
    return [(p.line, p.field, p.message) for p in err.value.problems]


class TestParseStates:
    def test_reads_columns_in_any_order_with_party(self) -> None:
        text = (
            "party,vs_fpm,trk_deg,gs_kt,alt_ft,lon,lat,id,extra\n"
            "red,-500,90,400,20000,38,35,A,x\n"
        )
        s = parse_states(text)
        assert s.ids.tolist() == ["A"]
        assert s.party.tolist() == ["red"]
        assert (s.lat_deg[0], s.lon_deg[0], s.vs_fpm[0]) == (35.0, 38.0, -500.0)

    def test_without_party_each_aircraft_is_its_own(self) -> None:
        s = parse_states(f"{HEADER}\nA,35,38,20000,400,90,0\nB,35,38,20000,400,90,0\n")
        assert s.party.tolist() == ["A", "B"]

    def test_blank_lines_are_skipped(self) -> None:
        s = parse_states(f"{HEADER}\n\nA,35,38,20000,400,90,0\n\n")
        assert len(s) == 1

    def test_missing_column(self) -> None:
        probs = _problems("id,lat,lon,alt_ft,gs_kt,trk_deg\nA,1,2,3,4,5\n")
        assert probs[0][0] == 1 and "vs_fpm" in probs[0][2]

    def test_empty_file(self) -> None:
        assert _problems("")[0][2].startswith("the file is empty")

    @pytest.mark.parametrize(
        ("row", "field", "words"),
        [
            ("A,35,38,20000,400,90", "", "6 fields"),
            ("A,abc,38,20000,400,90,0", "lat", "not a number"),
            ("A,nan,38,20000,400,90,0", "lat", "not a finite number"),
            ("A,91,38,20000,400,90,0", "lat", "outside [-90, 90]"),
            ("A,35,181,20000,400,90,0", "lon", "outside [-180, 180]"),
            ("A,35,38,20000,-4,90,0", "gs_kt", "outside"),
            ("A,35,38,20000,400,90,inf", "vs_fpm", "not a finite number"),
            (",35,38,20000,400,90,0", "id", "empty id"),
        ],
    )
    def test_bad_rows_name_line_and_field(
        self, row: str, field: str, words: str
    ) -> None:
        probs = _problems(f"{HEADER}\nOK,35,38,20000,400,90,0\n{row}\n")
        assert len(probs) == 1
        line, got_field, message = probs[0]
        assert (line, got_field) == (3, field)
        assert words in message

    def test_duplicate_ids(self) -> None:
        probs = _problems(
            f"{HEADER}\nA,35,38,1,1,1,1\nB,35,38,1,1,1,1\nA,35,38,1,1,1,1\n"
        )
        assert probs == [(4, "id", "duplicate id 'A' (first on line 2)")]

    def test_unknown_party(self) -> None:
        text = f"{HEADER},party\nA,35,38,1,1,1,1,usa\n"
        probs = _problems(text, known=["coalition", "russia"])
        assert probs[0][:2] == (2, "party")
        assert "unknown party 'usa'" in probs[0][2]
        assert "coalition, russia" in probs[0][2]

    def test_every_problem_reported(self) -> None:
        text = f"{HEADER}\nA,x,38,1,1,1,1\nB,35,y,1,1,1,1\nC,35,38,1,1,1,1\n"
        assert [p[:2] for p in _problems(text)] == [(2, "lat"), (3, "lon")]

    def test_many_problems_are_capped(self) -> None:
        rows = "\n".join(f"A{k},x,38,1,1,1,1" for k in range(80))
        probs = _problems(f"{HEADER}\n{rows}\n")
        assert len(probs) == 51
        assert probs[-1][2] == "... and 30 more problems"


def _both_paths(
    text: str, known: list[str] | None = None
) -> tuple[AircraftStates | None, AircraftStates]:
    """What the column-by-column reader and the row-by-row checker make of the
    rows of ``text`` (the checker raises StatesError on a problem)."""
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    index = {n: header.index(n) for n in (*HEADER.split(","), "party") if n in header}
    parties = None if known is None else set(known)
    body = rows[1:]
    lines = list(range(2, len(body) + 2))
    plain = _plain_columns(text, len(header))
    assert plain == [list(col) for col in zip(*body, strict=True)]
    clean = _parse_clean(plain, index, parties)
    return clean, _parse_checked(body, lines, len(header), index, parties, "s.csv")


def _assert_same(a: AircraftStates, b: AircraftStates) -> None:
    for name in ("ids", "party", "lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name, strict=True)
    np.testing.assert_array_equal(a.vs_fpm, b.vs_fpm, strict=True)


class TestColumnReaderMatchesTheChecker:
    """The fast reader of clean files (#20.2) gives exactly what the row-by-row
    checker gives, and hands every file with a problem to the checker."""

    def test_random_file_same_states(self) -> None:
        rng = np.random.default_rng(7)
        n = 3000
        cols = [
            rng.uniform(-89.9, 89.9, n),
            rng.uniform(-180, 180, n),
            rng.uniform(-2000, 100000, n),
            rng.uniform(0, 2500, n),
            rng.uniform(0, 360, n),
            rng.uniform(-30000, 30000, n),
        ]
        fmt = [repr, lambda v: f"{v:.8f}", lambda v: f"{v:.3e}", lambda v: f" {v:g} "]
        lines = [f"{HEADER},party"]
        for k in range(n):
            cells = [fmt[(k + c) % 4](float(col[k])) for c, col in enumerate(cols)]
            lines.append(",".join([f" AC{k:05d}", *cells, f"p{k % 3} "]))
        text = "\n".join(lines) + "\n"
        clean, checked = _both_paths(text, ["p0", "p1", "p2"])
        assert clean is not None
        _assert_same(clean, checked)
        _assert_same(parse_states(text, "s.csv", ["p0", "p1", "p2"]), checked)

    def test_ranges_exactly_at_their_limits_are_read(self) -> None:
        low = ",".join(f"{RANGES[c][0]:g}" for c in RANGES)
        high = ",".join(f"{RANGES[c][1]:g}" for c in RANGES)
        text = f"{HEADER}\nA,{low}\nB,{high}\nC,+1_0.5,1e1,-0,0.0,360,-0.0\n"
        clean, checked = _both_paths(text)
        assert clean is not None
        _assert_same(clean, checked)

    @pytest.mark.parametrize("column", list(RANGES))
    @pytest.mark.parametrize("side", [0, 1])
    def test_just_outside_a_range_goes_to_the_checker(
        self, column: str, side: int
    ) -> None:
        limit = RANGES[column][side]
        value = np.nextafter(limit, -np.inf if side == 0 else np.inf)
        cells = {"lat": "35", "lon": "38", "alt_ft": "20000"}
        cells |= {"gs_kt": "400", "trk_deg": "90", "vs_fpm": "0", column: repr(value)}
        row = ",".join(cells[c] for c in RANGES)
        text = f"{HEADER}\nA,35,38,20000,400,90,0\nB,{row}\n"
        index = {n: k for k, n in enumerate(HEADER.split(","))}
        assert _parse_clean(_plain_columns(text, 7) or [], index, None) is None
        assert [(p[0], p[1]) for p in _problems(text)] == [(3, column)]

    @pytest.mark.parametrize(
        "bad_row",
        [
            "B,nan,38,20000,400,90,0",
            "B,35,inf,20000,400,90,0",
            "B,35,38,,400,90,0",
            "B,35,38,20000,fast,90,0",
            " ,35,38,20000,400,90,0",
            "A,35,38,20000,400,90,0",
            "B,35,38,20000,400,90",
            "",
        ],
    )
    def test_a_problem_or_blank_line_goes_to_the_checker(self, bad_row: str) -> None:
        text = f"{HEADER}\nA,35,38,20000,400,90,0\n{bad_row}\nC,35,38,1,400,90,0\n"
        index = {n: k for k, n in enumerate(HEADER.split(","))}
        plain = _plain_columns(text, 7)
        assert plain is None or _parse_clean(plain, index, None) is None
        if bad_row:
            with pytest.raises(StatesError):
                parse_states(text)
        else:  # a blank line is skipped
            assert parse_states(text).ids.tolist() == ["A", "C"]

    @pytest.mark.parametrize("party", ["", "usa"])
    def test_party_problems_go_to_the_checker(self, party: str) -> None:
        text = f"{HEADER},party\nA,35,38,20000,400,90,0,red\nB,35,38,1,4,9,0,{party}\n"
        index = {n: k for k, n in enumerate([*HEADER.split(","), "party"])}
        plain = _plain_columns(text, 8)
        assert plain is not None
        assert _parse_clean(plain, index, {"red", "blue"}) is None
        assert [p[1] for p in _problems(text, ["red", "blue"])] == ["party"]

    @pytest.mark.parametrize(
        "text",
        [
            f'{HEADER}\n"A,1",35,38,20000,400,90,0\n',
            f"{HEADER}\r\nA,35,38,20000,400,90,0\r\n",
            f"{HEADER}\nA,35,38,20000,400,90,0",
            f"{HEADER}\nA,35,38,20000,400,90,0\n\n",
        ],
    )
    def test_quotes_crlf_no_final_newline_blank_line_same_as_csv(
        self, text: str
    ) -> None:
        """Text with quotes or CRLF is not split by hand; the rows then go
        through ``csv.reader`` and the column reader or the checker."""
        plain = _plain_columns(text, 7)
        rows = list(csv.reader(io.StringIO(text)))[1:]
        if plain is not None:
            assert plain == [list(col) for col in zip(*rows, strict=True)]
        else:
            assert '"' in text or "\r" in text or [] in rows
        s = parse_states(text)
        assert s.ids.tolist() == [rows[0][0]]
        assert s.vs_fpm.tolist() == [0.0]


class TestReadStates:
    def test_reads_a_file_with_bom(self, tmp_path: Path) -> None:
        path = tmp_path / "s.csv"
        path.write_text(f"\ufeff{HEADER}\nA,35,38,20000,400,90,0\n", encoding="utf-8")
        assert read_states(path).ids.tolist() == ["A"]

    def test_names_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.csv"
        path.write_text(f"{HEADER}\nA,35,38,20000,400,90\n", encoding="utf-8")
        with pytest.raises(StatesError) as err:
            read_states(path)
        assert str(path) + ":2" in str(err.value)
