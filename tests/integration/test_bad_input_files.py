"""Every command that reads a file, fed bytes that are no such file: random bytes,
Latin-1 text, an empty or blank file, a binary file, UTF-8 cut inside a character
and a Parquet file cut short. Each must end with exit status 2 and a message naming
the file, never a traceback, and create nothing.

The commands run in this process through Typer's runner, on the whole command line
(``deconfliction.cli.app.build_app``), as a user calls them.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from deconfliction.cli import _record_client as record_client
from deconfliction.cli.app import build_app
from deconfliction.errors import InputError

STATES = (
    "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm,party\nA,35,38,20000,400,90,0,coalition\n"
)
TRACKS = (
    "id,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm,party\n"
    "A,2017-12-13T10:00:00Z,35,41,20000,400,90,0,coalition\n"
)
OPERATION = {
    "id": "C1",
    "party": "coalition",
    "kind": "cap",
    "volumes": [
        {
            "volume": {
                "outline_circle": {
                    "center": {"lat": 35.0, "lng": 41.0},
                    "radius": {"value": 10, "units": "NM"},
                },
                "altitude_lower": {"value": 20000, "reference": "W84", "units": "FT"},
                "altitude_upper": {"value": 26000, "reference": "W84", "units": "FT"},
            },
            "time_start": {"value": "2017-12-13T10:00:00Z"},
            "time_end": {"value": "2017-12-13T12:00:00Z"},
        }
    ],
}
BLIND = """[blind]
reference = [35.5, 39.5]
[peers]
coalition = "127.0.0.1:9"
russia = "127.0.0.1:10"
helper = "127.0.0.1:11"
"""


def _parquet_bytes() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": ["A", "B"], "time": [1.0, 2.0]}), sink)
    return bytes(sink.getvalue().to_pybytes())


PARQUET = _parquet_bytes()

_ascii = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
BAD_BYTES = st.one_of(
    # random bytes that are not UTF-8 text (almost all are)
    st.binary(min_size=1, max_size=400).filter(
        lambda b: b"\x00" in b or not _is_utf8(b)
    ),
    # Latin-1 (or Windows-1252) text: a byte of 0xC0 and up never followed by a
    # continuation byte
    st.builds(
        lambda a, c, b: a.encode() + bytes([c]) + b.encode(),
        _ascii,
        st.integers(0xC0, 0xFF),
        _ascii,
    ),
    st.sampled_from([b"", b"\n", b" \r\n\t"]),  # empty or blank
    st.builds(lambda a, b: a.encode() + b"\x00" + b, _ascii, st.binary(max_size=40)),
    st.builds(lambda a: (a + "Хмеймим").encode()[:-1], _ascii),  # cut in a character
    st.integers(0, len(PARQUET) - 1).map(lambda n: PARQUET[:n]),  # Parquet cut short
)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Files:
    """Good files beside the bad one, so each case fails on the bad one only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bad = root / "bad-input"
        self.out = root / "out"
        self.states = self._write("states.csv", STATES)
        self.tracks = self._write("tracks.csv", TRACKS)
        self.operation = self._write("op.json", json.dumps(OPERATION))
        self.blind = self._write("blind.toml", BLIND)
        self.parquet = root / "tracks.parquet"
        names = TRACKS.splitlines()[0].split(",")
        options = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
        pq.write_table(
            pcsv.read_csv(self.tracks, convert_options=options), self.parquet
        )

    def _write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path


Case = Callable[[Files], list[str]]
DEAD_SERVER = "http://127.0.0.1:9"  # discard port: nothing listens; never reached
DAY = "2017-12-13"

CASES: dict[str, Case] = {
    "detect": lambda f: ["detect", str(f.bad)],
    "detect --protocol": lambda f: ["detect", str(f.states), "--protocol", str(f.bad)],
    "tracks": lambda f: ["tracks", str(f.bad)],
    **{
        f"tracks --input-format {fmt}": (
            lambda f, fmt=fmt: ["tracks", str(f.bad), "--input-format", fmt]
        )
        for fmt in ("sbs", "avr", "beast", "cot", "opensky", "csv", "parquet")
    },
    "tracks --party-rules": lambda f: [
        *("tracks", str(f.tracks), "--party-rules", str(f.bad))
    ],
    "replay": lambda f: ["replay", str(f.bad), "--token", "T", "--to", DEAD_SERVER],
    "replay --party-rules": lambda f: [
        *("replay", str(f.tracks), "--party-rules", str(f.bad)),
        *("--token", "T", "--to", DEAD_SERVER),
    ],
    "feed --party-rules": lambda f: [
        *("feed", "sbs://127.0.0.1:9", "--party-rules", str(f.bad)),
        *("--token", "T", "--to", DEAD_SERVER),
    ],
    "whatif": lambda f: [
        *("whatif", str(f.bad), "--protocol", "euphrates-2017", "--out", str(f.out))
    ],
    "whatif --protocol": lambda f: [
        *("whatif", str(f.tracks), "--protocol", str(f.bad), "--out", str(f.out))
    ],
    "analyze": lambda f: ["analyze", str(f.bad), "--out", str(f.out)],
    "analyze --protocol": lambda f: [
        *("analyze", str(f.parquet), "--protocol", str(f.bad), "--out", str(f.out))
    ],
    "plan check": lambda f: ["plan", "check", str(f.bad), "--protocol", "syria-2015"],
    "plan check --against": lambda f: [
        *("plan", "check", str(f.operation), "--protocol", "euphrates-2017"),
        *("--against", str(f.bad)),
    ],
    "plan check --protocol": lambda f: [
        *("plan", "check", str(f.operation), "--protocol", str(f.bad))
    ],
    "demo --protocol": lambda f: [
        *("demo", "--protocol", str(f.bad), "--hours", "0.1", "--out", str(f.out))
    ],
    "blind plan --config": lambda f: ["blind", "plan", "--config", str(f.bad)],
    "blind plan --protocol": lambda f: ["blind", "plan", "--protocol", str(f.bad)],
    "blind run --config": lambda f: [
        *("blind", "run", "--party", "coalition", "--config", str(f.bad)),
        *("--states", str(f.states)),
    ],
    "blind run --states": lambda f: [
        *("blind", "run", "--party", "coalition", "--config", str(f.blind)),
        *("--states", str(f.bad)),
    ],
    "hotline verify-transcript": lambda f: [
        *("hotline", "verify-transcript", str(f.bad))
    ],
    "hotline verify-transcript --keys": lambda f: [
        *("hotline", "verify-transcript", str(f.states), "--keys", str(f.bad))
    ],
    "restore": lambda f: [
        *("restore", str(f.bad), "--database", f"sqlite:///{f.out}"),
        *("--keys-dir", str(f.out)),
    ],
    "report --database": lambda f: [
        *("report", "--day", DAY, "--out", str(f.out)),
        *("--database", f"sqlite:///{f.bad}"),
    ],
    "hotline verify --database": lambda f: [
        *("hotline", "verify", "--database", f"sqlite:///{f.bad}")
    ],
    "hotline export --database": lambda f: [
        *("hotline", "export", "--day", DAY, "--out", str(f.out)),
        *("--database", f"sqlite:///{f.bad}"),
    ],
}
# These two make a new database in an empty file, as they should: only bytes that
# are there and are no database must be refused.
CREATING: dict[str, Case] = {
    "db upgrade --database": lambda f: [
        *("db", "upgrade", "--database", f"sqlite:///{f.bad}")
    ],
    "party add --database": lambda f: [
        *("party", "add", "coalition", "--database", f"sqlite:///{f.bad}")
    ],
}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return build_app()


def _refused(app: typer.Typer, files: Files, args: list[str], data: bytes) -> None:
    files.bad.write_bytes(data)
    result = CliRunner().invoke(app, args)
    output = result.output
    assert "Traceback" not in output, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, (data, output)
    assert str(files.bad) in output, output
    assert not files.out.exists(), "a refused command created its output"
    assert files.bad.read_bytes() == data, "a refused command changed its input"
    assert not any(files.root.glob("bad-input-*")), "a database was begun"


BAD_FILE_EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("case", sorted(CASES))
@BAD_FILE_EXAMPLES
@given(data=BAD_BYTES)
def test_every_reader_refuses_bad_bytes(
    app: typer.Typer, tmp_path: Path, case: str, data: bytes
) -> None:
    files = Files(tmp_path)
    _refused(app, files, CASES[case](files), data)


@pytest.mark.parametrize("case", sorted(CREATING))
@BAD_FILE_EXAMPLES
@given(data=BAD_BYTES.filter(lambda b: b.strip() != b"" or b == b"\n"))
def test_a_file_that_is_no_database_is_refused(
    app: typer.Typer, tmp_path: Path, case: str, data: bytes
) -> None:
    if not data.strip():
        data = b"\n\n"  # not empty: SQLite would take an empty file as a new database
    files = Files(tmp_path)
    _refused(app, files, CREATING[case](files), data)


@settings(max_examples=50, deadline=None)
@given(data=BAD_BYTES)
def test_the_kept_checkpoints_are_refused_too(data: bytes) -> None:
    """``hotline checkpoint`` and ``verify --against`` read the file only after the
    server answered: its reader, called directly."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kept.json"
        path.write_bytes(data)
        with pytest.raises(InputError) as err:
            record_client.read_kept(path, DEAD_SERVER, "coalition")
    assert all(p.source == str(path) for p in err.value.problems)


class TestNothingLeftBehind:
    def test_report_without_a_database_makes_none(
        self, app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("DECONFLICTION_DATABASE_URL", raising=False)
        result = CliRunner().invoke(app, ["report", "--day", DAY, "--out", "reports"])
        assert result.exit_code == 2, result.output
        assert "deconfliction.db: no database here" in result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        "args", [["hotline", "verify"], ["hotline", "export", "--day", DAY]]
    )
    def test_nor_does_the_hotline(
        self,
        app: typer.Typer,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        args: list[str],
    ) -> None:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("DECONFLICTION_DATABASE_URL", raising=False)
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "no database here" in result.output
        assert list(tmp_path.iterdir()) == []

    def test_a_database_without_the_schema_is_named(
        self, app: typer.Typer, tmp_path: Path
    ) -> None:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE t (x)")
        result = CliRunner().invoke(
            app,
            ["report", "--day", DAY, "--out", str(tmp_path / "r")],
            env={"DECONFLICTION_DATABASE_URL": f"sqlite:///{path}"},
        )
        assert result.exit_code == 2, result.output
        assert f"sqlite:///{path}: not a Deconfliction database" in result.output
        assert not (tmp_path / "r").exists()

    def test_analyze_refuses_csv_before_starting_anything(
        self, app: typer.Typer, tmp_path: Path
    ) -> None:
        files = Files(tmp_path)
        result = CliRunner().invoke(
            app, ["analyze", str(files.tracks), "--out", str(files.out)]
        )
        assert result.exit_code == 2, result.output
        assert "not a Parquet file: analyze reads Parquet" in result.output
        assert f"deconfliction tracks {files.tracks} --format parquet" in result.output
        assert "Dask" not in result.output  # no cluster was started
        assert not files.out.exists()


class TestMessagesAreNotMarkup:
    def test_brackets_in_a_file_reach_the_user(
        self, app: typer.Typer, tmp_path: Path
    ) -> None:
        """A message quoting the file (``[peers]``, ``[/]``) is printed as it is,
        never taken for Rich markup (which would drop it, or fail)."""
        states = tmp_path / "states.csv"
        row = "[/x],35,38,20000,400,90,0\n"
        header = "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm\n"
        states.write_text(header + row + row, encoding="utf-8")
        result = CliRunner().invoke(app, ["detect", str(states)])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert f"{states}:3: id: duplicate id '[/x]' (first on line 2)" in result.output
