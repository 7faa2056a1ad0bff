"""Tests of deconfliction.adapters.states_csv."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconfliction.adapters.states_csv import parse_states, read_states
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
