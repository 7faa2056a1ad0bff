"""The schema: migrations build exactly the declared tables, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from deconfliction.store import engine as store_engine
from deconfliction.store.tables import metadata


class TestMigrations:
    def test_upgrade_matches_the_tables(self, database_url: str) -> None:
        engine = store_engine.make_engine(database_url)
        try:
            assert store_engine.current_revision(engine) is None
            store_engine.upgrade(engine)
            store_engine.upgrade(engine)  # a second run changes nothing
            assert store_engine.current_revision(engine) == store_engine.head_revision()
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert diff == [], f"migrations and tables.py differ: {diff}"
        finally:
            engine.dispose()

    def test_sqlite_is_durable(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'd.db'}")
        try:
            with engine.connect() as conn:
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            assert mode == "wal"
            assert sync == 2  # FULL: a returned commit is on disk
        finally:
            engine.dispose()
