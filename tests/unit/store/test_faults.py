"""Which errors are store faults, and the outcome of writes as the engine sees
them; with real SQLite files and a real (refused) PostgreSQL connection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, text
from sqlalchemy import exc as sa_exc

from deconfliction.store import engine as store_engine
from deconfliction.store.faults import (
    StoreFaultKind,
    describe,
    fault_kind,
    free_space_fault,
    probe_write,
    watch_writes,
)
from tests.conftest import free_port


def _locked_error(path: Path) -> sqlite3.OperationalError:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("INSERT INTO t VALUES (1)")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        other.close()
        holder.close()
    raise AssertionError("the write was not refused")


class TestFaultKind:
    def test_sqlite_lock_is_busy(self, tmp_path: Path) -> None:
        assert fault_kind(_locked_error(tmp_path / "a.db")) is StoreFaultKind.BUSY

    def test_sqlite_lock_wrapped_by_sqlalchemy(self, tmp_path: Path) -> None:
        path = tmp_path / "a.db"
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("CREATE TABLE t (x INTEGER)")
        holder.execute("BEGIN IMMEDIATE")
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
        try:
            with pytest.raises(sa_exc.OperationalError) as caught, engine.begin() as c:
                c.execute(text("INSERT INTO t VALUES (1)"))
        finally:
            engine.dispose()
            holder.close()
        assert fault_kind(caught.value) is StoreFaultKind.BUSY
        # The log line names the driver's error, not the SQL or its parameters.
        assert describe(caught.value) == "OperationalError: database is locked"

    def test_sqlite_read_only(self, tmp_path: Path) -> None:
        path = tmp_path / "a.db"
        sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER)").connection.close()
        ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        with pytest.raises(sqlite3.OperationalError) as caught:
            ro.execute("INSERT INTO t VALUES (1)")
        ro.close()
        assert fault_kind(caught.value) is StoreFaultKind.READ_ONLY

    def test_sqlite_messages_without_error_names(self) -> None:
        full = sqlite3.OperationalError("database or disk is full")
        io = sqlite3.OperationalError("disk I/O error")
        assert fault_kind(full) is StoreFaultKind.FULL
        assert fault_kind(io) is StoreFaultKind.IO_ERROR

    def test_a_constraint_is_a_bug_not_a_fault(self) -> None:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.IntegrityError) as caught:
            conn.execute("INSERT INTO t VALUES (1)")
        assert fault_kind(caught.value) is None
        assert fault_kind(ValueError("no")) is None

    def test_postgresql_refused_is_unreachable(self) -> None:
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
        with pytest.raises(psycopg.OperationalError) as caught:
            psycopg.connect(url, connect_timeout=3)
        assert fault_kind(caught.value) is StoreFaultKind.UNREACHABLE
        engine = store_engine.make_engine(
            url.replace("postgresql:", "postgresql+psycopg:")
        )
        try:
            with pytest.raises(sa_exc.OperationalError) as wrapped:
                engine.connect()
        finally:
            engine.dispose()
        assert fault_kind(wrapped.value) is StoreFaultKind.UNREACHABLE

    @pytest.mark.parametrize(
        ("error", "kind"),
        [
            (psycopg.errors.DiskFull, StoreFaultKind.FULL),
            (psycopg.errors.AdminShutdown, StoreFaultKind.UNREACHABLE),
            (psycopg.errors.CannotConnectNow, StoreFaultKind.UNREACHABLE),
            (psycopg.errors.TooManyConnections, StoreFaultKind.BUSY),
            (psycopg.errors.SerializationFailure, StoreFaultKind.BUSY),
            (psycopg.errors.ReadOnlySqlTransaction, StoreFaultKind.READ_ONLY),
            (psycopg.errors.UniqueViolation, None),
        ],
    )
    def test_postgresql_by_sqlstate(
        self, error: type[Exception], kind: StoreFaultKind | None
    ) -> None:
        assert fault_kind(error("x")) is kind

    def test_pool_exhausted_is_busy(self) -> None:
        assert fault_kind(sa_exc.TimeoutError("pool")) is StoreFaultKind.BUSY


class TestWatchWrites:
    def test_only_committed_writes_count(self, tmp_path: Path) -> None:
        engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
        table = Table("t", MetaData(), Column("x", Integer))
        table.metadata.create_all(engine)
        committed: list[int] = []
        watch_writes(engine, lambda: committed.append(1))
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT 1"))
            assert committed == []
            with pytest.raises(ZeroDivisionError), engine.begin() as conn:
                conn.execute(insert(table).values(x=1))
                raise ZeroDivisionError
            assert committed == []
            with engine.begin() as conn:
                conn.execute(insert(table).values(x=2))
            assert committed == [1]
        finally:
            engine.dispose()


class TestProbeWrite:
    def test_a_writable_store(self, tmp_path: Path) -> None:
        engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'a.db'}")
        try:
            store_engine.upgrade(engine)
            assert probe_write(engine) is None
            assert free_space_fault(engine) is None
        finally:
            engine.dispose()

    def test_a_read_only_store(self, tmp_path: Path) -> None:
        path = tmp_path / "a.db"
        engine = store_engine.make_engine(f"sqlite:///{path}")
        store_engine.upgrade(engine)
        engine.dispose()
        ro = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
        try:
            fault = probe_write(ro)
        finally:
            ro.dispose()
        assert fault is not None
        assert fault.kind is StoreFaultKind.READ_ONLY
