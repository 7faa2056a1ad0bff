"""SQLite's write-ahead log stays bounded while a reader holds it back, and a
truncating checkpoint leaves the database file complete on its own; real files."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from deconfliction.store import engine as store_engine
from deconfliction.store import wal

ROW_BYTES = 4000
LIMIT_BYTES = 1024 * 1024


def _grow_log_behind_a_reader(url: str, path: Path, rows: int) -> sqlite3.Connection:
    """Write ``rows`` rows while another connection holds an old snapshot, so that
    no checkpoint can empty the log; returns the reader (still reading)."""
    engine = store_engine.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)"))
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()
    for k in range(rows):
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO t VALUES (:k, randomblob(:n))"),
                {"k": k, "n": ROW_BYTES},
            )
    engine.dispose()
    return reader


class TestPragmas:
    def test_journal_size_limit_on_every_connection(self, tmp_path: Path) -> None:
        engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'a.db'}")
        try:
            with engine.connect() as conn:
                limit = conn.execute(text("PRAGMA journal_size_limit")).scalar()
        finally:
            engine.dispose()
        assert limit == store_engine.SQLITE_JOURNAL_SIZE_LIMIT_BYTES


class TestKeepBounded:
    def test_a_log_over_the_limit_is_truncated(self, tmp_path: Path) -> None:
        path = tmp_path / "a.db"
        url = f"sqlite:///{path}"
        reader = _grow_log_behind_a_reader(url, path, rows=1000)
        log_path = Path(f"{path}-wal")
        assert log_path.stat().st_size > 3 * LIMIT_BYTES
        reader.rollback()  # the reader is done; the log stays as large
        engine = store_engine.make_engine(url)
        try:
            # A connection stays open (as in a server), so closing one does not
            # checkpoint by itself.
            with engine.connect() as held:
                held.execute(text("SELECT 1"))
                done = wal.keep_bounded(engine, limit_bytes=LIMIT_BYTES)
                assert done is not None and done.complete
                assert log_path.stat().st_size <= LIMIT_BYTES
        finally:
            engine.dispose()
            reader.close()

    def test_a_log_under_the_limit_is_left_to_sqlite(self, tmp_path: Path) -> None:
        path = tmp_path / "a.db"
        reader = _grow_log_behind_a_reader(f"sqlite:///{path}", path, rows=10)
        reader.close()
        engine = store_engine.make_engine(f"sqlite:///{path}")
        try:
            done = wal.keep_bounded(engine, limit_bytes=LIMIT_BYTES)
        finally:
            engine.dispose()
        assert done is not None and done.log_frames == done.copied_frames

    def test_nothing_to_do_on_postgresql_urls(self) -> None:
        engine = store_engine.make_engine("postgresql+psycopg://u@127.0.0.1:1/x")
        assert wal.keep_bounded(engine) is None
        assert wal.checkpoint(engine, wal.CheckpointMode.TRUNCATE) is None


class TestTruncatingCheckpoint:
    def test_the_database_file_alone_is_complete(self, tmp_path: Path) -> None:
        path = tmp_path / "a.db"
        url = f"sqlite:///{path}"
        reader = _grow_log_behind_a_reader(url, path, rows=200)
        reader.close()
        engine = store_engine.make_engine(url)
        try:
            with engine.connect() as held:
                held.execute(text("SELECT 1"))
                done = wal.checkpoint(engine, wal.CheckpointMode.TRUNCATE)
                assert done is not None and done.complete
                assert os.path.getsize(f"{path}-wal") == 0
                copy = tmp_path / "copy.db"
                shutil.copyfile(path, copy)  # without its -wal
        finally:
            engine.dispose()
        conn = sqlite3.connect(copy)
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (200,)
        conn.close()
