"""SQLite's write-ahead log: kept bounded while the server runs, folded into the
database file when it stops.

In WAL mode a commit appends to ``FILE.db-wal``; SQLite copies the log back into
the database (a checkpoint) every 1,000 pages, but a checkpoint cannot pass a
reader's snapshot, so under steady ingestion with long detection ticks the log
only grows (640 MB was seen, larger than the database), and a copy of the ``.db``
alone lacks what is still in the log. Hence:

* ``journal_size_limit`` (set on every connection by ``store.engine``): when a
  checkpoint has emptied the log, it is cut back to this size instead of staying
  at its largest;
* :func:`keep_bounded`, run every ``CHECKPOINT_EVERY_S`` by the server: a passive
  checkpoint (never waits), and when the log is over the limit a truncating one
  that waits at most ``TRUNCATE_BUSY_TIMEOUT_MS`` for readers and writers;
* :func:`checkpoint` with ``TRUNCATE`` at shutdown: the database file is then
  complete on its own and the log empty.

PostgreSQL manages its own log: these do nothing there.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from sqlalchemy import Engine

from deconfliction.store.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_JOURNAL_SIZE_LIMIT_BYTES,
    sqlite_file,
)

CHECKPOINT_EVERY_S: float = 30.0  # often enough to keep the log near the limit
TRUNCATE_BUSY_TIMEOUT_MS: int = 1_000  # ingestion waits at most this for a truncation


class CheckpointMode(enum.Enum):
    """SQLite's checkpoint modes used here."""

    PASSIVE = "PASSIVE"  # copy what it can without waiting for anyone
    TRUNCATE = "TRUNCATE"  # wait for readers and writers, copy all, empty the log


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint did.

    Attributes:
        complete: every frame of the log is in the database file now.
        log_frames: frames in the log before (0 after a truncation).
        copied_frames: frames copied into the database file.
    """

    complete: bool
    log_frames: int
    copied_frames: int


def wal_path(engine: Engine) -> str | None:
    """The log file of a SQLite file database, or None."""
    database = sqlite_file(engine)
    return None if database is None else database + "-wal"


def checkpoint(
    engine: Engine,
    mode: CheckpointMode,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> Checkpoint | None:
    """Run a checkpoint; None on a database that is not a SQLite file."""
    if wal_path(engine) is None:
        return None
    with engine.connect() as conn:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_timeout_ms}")
        try:
            row = conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode.value})").one()
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    busy, log_frames, copied_frames = (int(v) for v in row)
    return Checkpoint(
        complete=not busy and copied_frames == log_frames,
        log_frames=log_frames,
        copied_frames=copied_frames,
    )


def keep_bounded(
    engine: Engine, limit_bytes: int = SQLITE_JOURNAL_SIZE_LIMIT_BYTES
) -> Checkpoint | None:
    """A passive checkpoint, and a truncating one when the log is over
    ``limit_bytes``; None on a database that is not a SQLite file."""
    path = wal_path(engine)
    if path is None:
        return None
    done = checkpoint(engine, CheckpointMode.PASSIVE)
    try:
        size_bytes = os.path.getsize(path)
    except FileNotFoundError:
        return done
    if size_bytes <= limit_bytes:
        return done
    return checkpoint(engine, CheckpointMode.TRUNCATE, TRUNCATE_BUSY_TIMEOUT_MS)
