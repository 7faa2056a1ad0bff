"""Tests of deconfliction.adapters.input_files: every reader's way in."""

from __future__ import annotations

import pickle
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.adapters.input_files import (
    check_text_file,
    decode_text,
    parquet_errors,
    read_text,
)
from deconfliction.errors import InputError, Problem, ProtocolError, StatesError

EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _problem(data: bytes) -> Problem | None:
    try:
        decode_text(data, "f.txt")
    except InputError as exc:
        (problem,) = exc.problems
        return problem
    return None


class TestDecodeText:
    def test_utf8_with_or_without_bom(self) -> None:
        assert decode_text("Хмеймим\n".encode(), "f") == "Хмеймим\n"
        assert decode_text(b"\xef\xbb\xbfid\n", "f") == "id\n"

    def test_latin1_names_line_byte_and_offset(self) -> None:
        data = "id,lat\nA,1\nCAFÉ,2\n".encode("latin-1")
        assert _problem(data) == Problem(
            "f.txt",
            3,
            "",
            "not valid UTF-8 (byte 0xc9 at offset 14); save the file as UTF-8",
        )

    def test_empty_and_blank(self) -> None:
        assert _problem(b"") == Problem("f.txt", None, "", "the file is empty")
        assert _problem(b" \r\n\n") == Problem(
            "f.txt", None, "", "the file is empty (only white space)"
        )

    def test_binary(self) -> None:
        assert _problem(b"id\nA\x00B") == Problem(
            "f.txt", 2, "", "a binary file, not text (a NUL byte at offset 4)"
        )
        assert _problem(b"PAR1\x15\x00") == Problem(
            "f.txt", None, "", "a Parquet file, not text"
        )

    def test_truncated_inside_a_character(self) -> None:
        data = "id\nХ".encode()[:-1]
        problem = _problem(data)
        assert problem is not None and problem.line == 2
        assert "ends inside a UTF-8 character (offset 3)" in problem.message

    def test_the_first_fault_wins(self) -> None:
        assert _problem(b"a\xff\x00") is not None
        assert "0xff" in str(_problem(b"a\xff\x00"))
        assert "NUL" in str(_problem(b"a\x00\xff"))

    def test_raises_the_readers_own_error(self) -> None:
        with pytest.raises(ProtocolError):
            decode_text(b"\xff", "p.toml", ProtocolError)
        with pytest.raises(StatesError):
            decode_text(b"", "s.csv", StatesError)

    @given(st.binary(max_size=200))
    def test_text_or_a_located_problem(self, data: bytes) -> None:
        problem = _problem(data)
        if problem is None:
            assert decode_text(data, "f") == data.decode("utf-8-sig")
            assert b"\x00" not in data and data.strip()
            return
        assert problem.source == "f.txt"
        if problem.line is not None:
            assert 1 <= problem.line <= data.count(b"\n") + 1


class TestCheckTextFile:
    @EXAMPLES
    @given(
        st.one_of(
            st.binary(max_size=64),
            st.text(max_size=40).map(str.encode),
            st.lists(
                st.sampled_from(
                    [b"ab", b"\n", "Х".encode(), b"\xd0", b"\xff", b"\x00", b" "]
                ),
                max_size=30,
            ).map(b"".join),
        ),
        st.integers(1, 9),
    )
    def test_finds_what_decode_text_finds_across_chunks(
        self, tmp_path: Path, data: bytes, chunk_bytes: int
    ) -> None:
        path = tmp_path / "f.txt"
        path.write_bytes(data)
        expected = _problem(data)
        expected = expected and Problem(
            str(path), expected.line, expected.field, expected.message
        )
        if expected is None:
            check_text_file(path, chunk_bytes=chunk_bytes)
            assert read_text(path) == data.decode("utf-8-sig")
            return
        with pytest.raises(InputError) as err:
            check_text_file(path, chunk_bytes=chunk_bytes)
        assert err.value.problems == (expected,)


class TestParquetErrors:
    @pytest.mark.parametrize("cut", [4, 100, -9, -4, -1])
    def test_truncated_file_is_named(self, tmp_path: Path, cut: int) -> None:
        whole = tmp_path / "whole.parquet"
        pq.write_table(pa.table({"id": ["A", "B"], "lat": [1.0, 2.0]}), whole)
        data = whole.read_bytes()
        bad = tmp_path / "bad.parquet"
        bad.write_bytes(data[:cut])
        with pytest.raises(InputError) as err, parquet_errors(str(bad)):
            pq.read_table(bad)
        (problem,) = err.value.problems
        assert problem.source == str(bad)
        assert problem.message.startswith("not a readable Parquet file")

    def test_a_missing_file_stays_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError), parquet_errors("x"):
            pq.read_table(tmp_path / "none.parquet")

    def test_our_own_errors_pass_through(self) -> None:
        error = InputError([Problem("f", 3, "time", "bad")])
        with pytest.raises(InputError) as err, parquet_errors("x"):
            raise error
        assert err.value is error


class TestInputErrorPickles:
    def test_a_worker_error_arrives_whole(self) -> None:
        """Dask sends a worker's exception by pickle."""
        error = StatesError([Problem("f.csv", 2, "lat", "95 is outside [-90, 90]")])
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is StatesError
        assert back.problems == error.problems and str(back) == str(error)
