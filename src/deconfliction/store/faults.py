"""Store faults: which errors of the database mean "the store cannot serve now",
and the outcome of writes as the engine sees them.

A store fault is not a bug: the PostgreSQL server is down or restarting, the network
dropped, the disk is full or failing, SQLite's write lock is held for too long, or
the database has become read-only (a standby after a fail-over). The API answers it
with 503 and ``Retry-After``; everything else stays a 500.

Both drivers are recognised by what their errors carry, not by importing them:
``sqlite3`` errors by ``sqlite_errorname`` (Python 3.11+), psycopg errors by their
SQLSTATE (``sqlstate``; none for a connection that failed or was lost).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy import exc as sa_exc

from deconfliction.store.engine import SQLITE_BUSY_TIMEOUT_MS, sqlite_file

SQLITE_MIN_FREE_BYTES: int = 32 * 1024 * 1024  # a few of the largest batches
# (50,000 rows, about 8 MB each with their index entries): below this, the next
# large batch would fail, so the store is reported as not writable.
PROBE_BUSY_TIMEOUT_MS: int = 1_000  # a probe does not wait behind a long tick


class StoreFaultKind(enum.Enum):
    """Why the store cannot serve; the value is the word used in answers, logs
    and metrics."""

    UNREACHABLE = "unreachable"  # no connection: server down, network, restart
    FULL = "full"  # no space left for the database
    IO_ERROR = "io_error"  # the disk failed a read or a write
    BUSY = "busy"  # a lock, a pool or a serialisation conflict: retry soon
    READ_ONLY = "read_only"  # the database accepts no writes

    @property
    def retry_after_s(self) -> int:
        """What ``Retry-After`` tells a client: soon for contention, longer for a
        fault an operator must mend."""
        return _RETRY_AFTER_S[self]

    @property
    def description(self) -> str:
        """In generic words, for answers that anyone may read."""
        return _DESCRIPTION[self]


_RETRY_AFTER_S: dict[StoreFaultKind, int] = {
    StoreFaultKind.UNREACHABLE: 5,  # a restarting server is back in seconds
    StoreFaultKind.FULL: 30,  # needs an operator
    StoreFaultKind.IO_ERROR: 30,
    StoreFaultKind.BUSY: 1,  # contention clears within a tick
    StoreFaultKind.READ_ONLY: 30,
}

_DESCRIPTION: dict[StoreFaultKind, str] = {
    StoreFaultKind.UNREACHABLE: "the store is unreachable",
    StoreFaultKind.FULL: "the store has no space left",
    StoreFaultKind.IO_ERROR: "the store failed to read or write",
    StoreFaultKind.BUSY: "the store is busy",
    StoreFaultKind.READ_ONLY: "the store accepts no writes",
}

_SQLITE_KINDS: tuple[tuple[str, StoreFaultKind], ...] = (
    ("SQLITE_FULL", StoreFaultKind.FULL),
    ("SQLITE_IOERR", StoreFaultKind.IO_ERROR),
    ("SQLITE_BUSY", StoreFaultKind.BUSY),
    ("SQLITE_LOCKED", StoreFaultKind.BUSY),
    ("SQLITE_READONLY", StoreFaultKind.READ_ONLY),
    ("SQLITE_CANTOPEN", StoreFaultKind.UNREACHABLE),
)
_SQLITE_MESSAGES: tuple[tuple[str, StoreFaultKind], ...] = (
    ("database or disk is full", StoreFaultKind.FULL),
    ("disk i/o error", StoreFaultKind.IO_ERROR),
    ("database is locked", StoreFaultKind.BUSY),
    ("database table is locked", StoreFaultKind.BUSY),
    ("readonly database", StoreFaultKind.READ_ONLY),
    ("unable to open database file", StoreFaultKind.UNREACHABLE),
)
# SQLSTATE classes and codes (PostgreSQL, appendix A).
_PG_STATES: tuple[tuple[str, StoreFaultKind], ...] = (
    ("08", StoreFaultKind.UNREACHABLE),  # connection exception
    ("57P01", StoreFaultKind.UNREACHABLE),  # admin shutdown
    ("57P02", StoreFaultKind.UNREACHABLE),  # crash shutdown
    ("57P03", StoreFaultKind.UNREACHABLE),  # cannot connect now (starting up)
    ("57014", StoreFaultKind.BUSY),  # query cancelled (statement timeout)
    ("53100", StoreFaultKind.FULL),  # disk full
    ("53", StoreFaultKind.BUSY),  # insufficient resources: memory, connections
    ("40", StoreFaultKind.BUSY),  # serialisation failure, deadlock
    ("58", StoreFaultKind.IO_ERROR),  # system error (I/O)
    ("25006", StoreFaultKind.READ_ONLY),  # read-only SQL transaction
)


def fault_kind(exc: BaseException) -> StoreFaultKind | None:
    """The store fault ``exc`` stands for, or None when it is not one (a bug, a
    constraint violated: those stay errors).

    Accepts SQLAlchemy's wrapped errors and the drivers' own.

    >>> import sqlite3
    >>> fault_kind(sqlite3.OperationalError("database or disk is full"))
    <StoreFaultKind.FULL: 'full'>
    >>> fault_kind(ValueError("no")) is None
    True
    """
    if isinstance(exc, sa_exc.TimeoutError):  # the pool is exhausted
        return StoreFaultKind.BUSY
    orig: BaseException = exc
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return StoreFaultKind.UNREACHABLE
        if exc.orig is not None:
            orig = exc.orig
    module = type(orig).__module__
    if module == "sqlite3":
        return _sqlite_kind(orig)
    if module.startswith("psycopg"):
        return _pg_kind(orig)
    if isinstance(exc, sa_exc.OperationalError):
        return StoreFaultKind.UNREACHABLE
    return None


def _sqlite_kind(orig: BaseException) -> StoreFaultKind | None:
    name = str(getattr(orig, "sqlite_errorname", ""))
    for prefix, kind in _SQLITE_KINDS:
        if name.startswith(prefix):
            return kind
    message = str(orig).lower()
    for fragment, kind in _SQLITE_MESSAGES:
        if fragment in message:
            return kind
    return None


def _pg_kind(orig: BaseException) -> StoreFaultKind | None:
    state = getattr(orig, "sqlstate", None)
    if state is None:
        # No SQLSTATE: the connection failed, was lost or was closed.
        names = {c.__name__ for c in type(orig).__mro__}
        if names & {"OperationalError", "InterfaceError"}:
            return StoreFaultKind.UNREACHABLE
        return None
    for prefix, kind in _PG_STATES:
        if state.startswith(prefix):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class StoreFault:
    """A store fault: its kind, and the driver's error in one line (for the
    operator's log only: it may name hosts and files)."""

    kind: StoreFaultKind
    detail: str


def fault_of(exc: BaseException) -> StoreFault | None:
    """``exc`` as a :class:`StoreFault`, or None when it is not one."""
    kind = fault_kind(exc)
    return None if kind is None else StoreFault(kind, describe(exc))


def describe(exc: BaseException) -> str:
    """The driver's error in one line, without SQL or parameters (which may hold
    positions): for the log.

    >>> import sqlite3
    >>> describe(sqlite3.OperationalError("disk I/O error"))
    'OperationalError: disk I/O error'
    """
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0] if lines else ''}".rstrip(": ")


_WROTE = "deconfliction_wrote"  # the transaction on this connection wrote
_COMMITTING = "deconfliction_committing"  # and its commit was issued
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")


def watch_writes(engine: Engine, on_committed: Callable[[], None]) -> None:
    """Call ``on_committed()`` each time a transaction that wrote has committed.

    A failed commit raises (the caller sees the error and records the fault); a
    rolled-back transaction calls nothing.
    """

    @event.listens_for(engine, "after_cursor_execute")
    def _wrote(
        conn: Any, _c: Any, statement: str, _p: Any, _ctx: Any, _m: bool
    ) -> None:
        if statement.lstrip()[:6].upper() in _WRITE_VERBS:
            conn.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        if conn.info.pop(_WROTE, False):
            conn.info[_COMMITTING] = True

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        conn.info.pop(_WROTE, None)
        conn.info.pop(_COMMITTING, None)

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None:
            context.connection.info.pop(_COMMITTING, None)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi: Any, record: Any) -> None:
        # The connection is back in the pool: a commit issued on it went through.
        if record.info.pop(_COMMITTING, False):
            on_committed()


def free_space_fault(engine: Engine) -> StoreFault | None:
    """On SQLite, a fault when the disk holding the database has less than
    ``SQLITE_MIN_FREE_BYTES`` free: a small write may still fit in the old space of
    the write-ahead log on a full disk when a batch no longer does. None otherwise
    (PostgreSQL's disk is the server's business)."""
    database = sqlite_file(engine)
    if database is None:
        return None
    folder = os.path.dirname(database)
    try:
        stats = os.statvfs(folder)
    except OSError as exc:
        return StoreFault(StoreFaultKind.UNREACHABLE, f"{folder}: {exc.strerror}")
    free_bytes = stats.f_bavail * stats.f_frsize
    if free_bytes < SQLITE_MIN_FREE_BYTES:
        return StoreFault(StoreFaultKind.FULL, f"{folder}: {free_bytes} bytes free")
    return None


def probe_write(engine: Engine) -> StoreFault | None:
    """Whether the store takes writes now: None when it does, else the fault.

    Checks the free space (:func:`free_space_fault`), then writes and commits one
    row that changes nothing: the schema's own revision (``alembic_version``), set
    to itself.

    Raises:
        Exception: what the engine raises that is not a store fault (a bug).
    """
    space = free_space_fault(engine)
    if space is not None:
        return space
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as conn:
            if sqlite:
                conn.execute(text(f"PRAGMA busy_timeout={PROBE_BUSY_TIMEOUT_MS}"))
            try:
                conn.execute(
                    text("UPDATE alembic_version SET version_num = version_num")
                )
            finally:
                if sqlite:
                    conn.execute(text(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"))
    except Exception as exc:
        fault = fault_of(exc)
        if fault is None:
            raise
        return fault
    return None
