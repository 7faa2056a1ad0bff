"""Engines for the two supported backends, and schema migrations.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``: a commit
that returned has reached the disk, so a 2xx from the API survives a crash or a
power cut. PostgreSQL is used as configured (its defaults are durable).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from deconfliction.errors import InputError, Problem

SQLITE_HEADER: bytes = b"SQLite format 3\x00"  # the first 16 bytes of every database
SQLITE_BUSY_TIMEOUT_MS: int = 10_000  # writers wait for each other instead of failing
PG_CONNECT_TIMEOUT_S: int = 10  # an unreachable server fails requests, not hangs them
# The write-ahead log is cut back to this once checkpointed (see store/wal.py).
SQLITE_JOURNAL_SIZE_LIMIT_BYTES: int = 64 * 1024 * 1024

_MIGRATIONS = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(engine: Engine) -> str | None:
    """The absolute path of a SQLite database file, or None (PostgreSQL, or a
    database in memory)."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # a URI filename (``?uri=true``)
        database = database.removeprefix("file:").partition("?")[0]
    return os.path.abspath(database)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings this project relies on.

    Raises:
        InputError: for a SQLite URL naming a file that is there and is not a SQLite
            database (SQLite would otherwise take a short one for a new database
            and write over it).
    """
    if is_sqlite(url):
        _check_sqlite_file(make_url(url).database or "")
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            },
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute(f"PRAGMA journal_size_limit={SQLITE_JOURNAL_SIZE_LIMIT_BYTES}")
            cur.close()

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
    )


def _check_sqlite_file(path: str) -> None:
    if path in ("", ":memory:") or path.startswith("file:"):
        return
    try:
        with Path(path).open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except (FileNotFoundError, IsADirectoryError):
        return  # a new database, or SQLite's own message
    if head and head != SQLITE_HEADER:
        raise InputError(
            [
                Problem(
                    path, None, "", "not a SQLite database: pass the right --database"
                )
            ]
        )


def open_existing(url: str) -> Engine:
    """An engine for a database that must already exist and hold the schema: for
    the commands that only read it (``report``, ``hotline verify``, ``hotline
    export``). A mistyped path, or a folder without a database, is an error; it
    never leaves a new empty database file behind.

    Raises:
        InputError: no SQLite file at the path, a file that is not a database, a
            server that refuses, or a database without the schema.
    """
    shown = make_url(url).render_as_string(hide_password=True)
    if is_sqlite(url):
        path = make_url(url).database or ""
        if path not in ("", ":memory:") and (
            not Path(path).is_file() or Path(path).stat().st_size == 0
        ):
            raise InputError(
                [
                    Problem(
                        path,
                        None,
                        "",
                        "no database here: pass --database (or set "
                        "DECONFLICTION_DATABASE_URL), or run deconfliction serve "
                        "or db upgrade to create one",
                    )
                ]
            )
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    except DatabaseError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise InputError(
            [
                Problem(
                    shown,
                    None,
                    "",
                    f"cannot read the database: {reason[0] if reason else exc}",
                )
            ]
        ) from None
    if revision is None:
        engine.dispose()
        raise InputError(
            [
                Problem(
                    shown,
                    None,
                    "",
                    "not a Deconfliction database (no schema): run deconfliction "
                    "db upgrade on it, or pass the right --database",
                )
            ]
        )
    return engine


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False)
    )
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (default: the newest)."""
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(create_engine("sqlite://"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise LookupError("no migrations shipped")
    return head


def inserted_pk(result: Any) -> int:
    """The integer primary key of the row an ``insert`` just wrote."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - only for inserts without a primary key
        raise LookupError("the insert returned no primary key")
    return int(key[0])


MAX_RANDOM_ID: int = 2**53 - 1  # an exact number in JavaScript too (the console)
RANDOM_ID_CHUNK: int = 500  # ids looked up per statement by random_ids


def random_id(conn: Connection, table: Table) -> int:
    """A new random id for a row of ``table`` (its integer ``id`` column).

    The ids the API shows of incidents, messages, suspensions and tokens are drawn
    at random rather than counted: a sequence shared by every party would show each
    of them, in its own ids' gaps, how many objects others made that it may not
    see, and when.
    """
    while True:
        candidate = secrets.randbelow(MAX_RANDOM_ID) + 1
        taken = conn.execute(select(table.c.id).where(table.c.id == candidate)).first()
        if taken is None:
            return candidate


def random_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """``n`` new random ids for rows of ``table``, all different, as
    :func:`random_id` draws them, looked up a chunk at a time.

    Raises:
        ValueError: for a negative ``n``.
    """
    if n < 0:
        raise ValueError(f"cannot draw {n} ids")
    ids: list[int] = []
    drawn: set[int] = set()
    while len(ids) < n:
        candidates: set[int] = set()
        while len(candidates) < min(n - len(ids), RANDOM_ID_CHUNK):
            candidate = secrets.randbelow(MAX_RANDOM_ID) + 1
            if candidate not in drawn:
                candidates.add(candidate)
        taken = set(
            conn.execute(select(table.c.id).where(table.c.id.in_(candidates))).scalars()
        )
        drawn.update(candidates)
        ids.extend(c for c in candidates if c not in taken)
    return ids
