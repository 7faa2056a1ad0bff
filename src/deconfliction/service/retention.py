"""Retention: positions, stream events and idempotency records are kept for a
time, then pruned; pruned positions go to a Parquet archive first.

What is kept, and for how long after it was received (settings, 0: forever):

* positions: ``positions_retention_days`` (30), archived by UTC day under
  ``archive_dir`` (:mod:`deconfliction.adapters.position_archive`) unless it is
  None;
* stream events: ``events_retention_days`` (365), except the hotline's, which show
  the signed record and are kept with it;
* idempotency records (``ingest_batches``): ``batches_retention_days`` (30); a batch
  sent again after its record is gone is stored again;
* never pruned: the hotline's record and tables, incidents with their evidence and
  remarks, alerts, protocols, parties, operations.

Pruning works in small transactions (``DELETE_ROWS`` rows, a few milliseconds of the
write lock each) with a pause between them, so ingestion goes on. Only one process
prunes at a time (a PostgreSQL advisory lock, or a lock file next to the SQLite
file). Archiving is exact across crashes: a pass writes its day files whole, notes
its row range in ``positions/_pending.json``, deletes exactly that range, then drops
the note; a pass that finds the note first finishes the deletion.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, delete, select, text, tuple_

from deconfliction.adapters.position_archive import (
    POSITIONS_DIR,
    ArchivedPositions,
    DayFiles,
    remove_staged,
)
from deconfliction.store.engine import sqlite_file
from deconfliction.store.tables import events, ingest_batches, positions
from deconfliction.units import S_PER_DAY

log = logging.getLogger(__name__)

DELETE_ROWS: int = 5_000  # per transaction: the write lock is held for milliseconds
ARCHIVE_CHUNK_ROWS: int = 50_000  # positions read at once while archiving
ARCHIVE_PASS_ROWS: int = 1_000_000  # per archive file set: bounded files per day
PAUSE_S: float = 0.05  # between transactions, so that writers go first
PRUNE_EVERY_S: float = 60.0  # how often the server prunes
PG_LOCK_KEY: int = 0x44434650  # "DCFP": the advisory lock of the pruning process
PENDING: str = "_pending.json"
KEPT_EVENT_PREFIX: str = "hotline."  # events that show the signed record


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind is kept after it was received (0: forever), and where
    pruned positions are archived (None: they are not)."""

    positions_days: float = 30.0
    events_days: float = 365.0
    batches_days: float = 30.0
    archive_dir: Path | None = None

    @property
    def prunes(self) -> bool:
        """Whether anything is ever pruned."""
        return any(
            d > 0 for d in (self.positions_days, self.events_days, self.batches_days)
        )


@dataclass(slots=True)
class PruneReport:
    """What one pruning run did."""

    positions_archived: int = 0
    positions_deleted: int = 0
    events_deleted: int = 0
    batches_deleted: int = 0
    files: list[Path] = field(default_factory=list)
    skipped: bool = False  # another process holds the pruning lock


Pause = Callable[[], bool]  # sleeps between transactions; True: stop now


@dataclass(frozen=True, slots=True)
class _Deleted:
    rows: int
    complete: bool  # False: stopped before the end


def pause_for(seconds: float, stop: Callable[[], bool] = lambda: False) -> Pause:
    """A pause of ``seconds`` that says to stop when ``stop()`` does."""

    def pause() -> bool:
        time.sleep(seconds)
        return stop()

    return pause


def prune(
    engine: Engine,
    policy: RetentionPolicy,
    now_t_s: float,
    pause: Pause | None = None,
) -> PruneReport:
    """Prune (and archive) what ``policy`` no longer keeps, as of ``now_t_s``."""
    pause = pause or pause_for(PAUSE_S)
    report = PruneReport()
    with _pruning_lock(engine) as held:
        if not held:
            report.skipped = True
            return report
        if policy.positions_days > 0:
            cutoff_t_s = now_t_s - policy.positions_days * S_PER_DAY
            if policy.archive_dir is None:
                report.positions_deleted += _delete_positions(
                    engine, cutoff_t_s, 0, None, pause
                ).rows
            else:
                _archive_positions(
                    engine, policy.archive_dir, cutoff_t_s, report, pause
                )
        if policy.events_days > 0:
            report.events_deleted = _delete_events(
                engine, now_t_s - policy.events_days * S_PER_DAY, pause
            )
        if policy.batches_days > 0:
            report.batches_deleted = _delete_batches(
                engine, now_t_s - policy.batches_days * S_PER_DAY, pause
            )
    return report


@contextlib.contextmanager
def _pruning_lock(engine: Engine) -> Iterator[bool]:
    """Held by one process at a time; yields whether this one holds it."""
    path = sqlite_file(engine)
    if path is not None:
        fd = os.open(path + ".prune-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock
        return
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as conn:
        held = bool(
            conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}
            ).scalar()
        )
        conn.commit()
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()


# -- positions ---------------------------------------------------------------------


def _delete_positions(
    engine: Engine,
    cutoff_t_s: float,
    first_id: int,
    last_id: int | None,
    pause: Pause,
) -> _Deleted:
    """Delete the positions received before ``cutoff_t_s`` with ids in
    ``first_id..last_id`` (None: no upper bound), ``DELETE_ROWS`` at a time."""
    deleted = 0
    low = first_id
    while True:
        query = (
            select(positions.c.id)
            .where(positions.c.received_t_s < cutoff_t_s, positions.c.id >= low)
            .order_by(positions.c.id)
            .limit(DELETE_ROWS)
        )
        if last_id is not None:
            query = query.where(positions.c.id <= last_id)
        with engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        if not ids:
            return _Deleted(deleted, complete=True)
        with engine.begin() as conn:
            result = conn.execute(
                delete(positions).where(
                    positions.c.id >= ids[0],
                    positions.c.id <= ids[-1],
                    positions.c.received_t_s < cutoff_t_s,
                )
            )
        deleted += result.rowcount
        low = ids[-1] + 1
        if len(ids) < DELETE_ROWS:
            return _Deleted(deleted, complete=True)
        if pause():
            return _Deleted(deleted, complete=False)


_ARCHIVED_COLUMNS = (
    positions.c.id,
    positions.c.party_id,
    positions.c.aircraft_id,
    positions.c.t_s,
    positions.c.lat_deg,
    positions.c.lon_deg,
    positions.c.alt_ft,
    positions.c.gs_kt,
    positions.c.trk_deg,
    positions.c.vs_fpm,
    positions.c.batch_id,
    positions.c.received_t_s,
)


def _archive_positions(
    engine: Engine,
    archive_dir: Path,
    cutoff_t_s: float,
    report: PruneReport,
    pause: Pause,
) -> None:
    """Archive, then delete, positions received before ``cutoff_t_s``, one pass of
    at most ``ARCHIVE_PASS_ROWS`` at a time."""
    pending = archive_dir / POSITIONS_DIR / PENDING
    remove_staged(archive_dir)
    if pending.exists():  # a pass that did not finish deleting what it archived
        note = json.loads(pending.read_text(encoding="utf-8"))
        done = _delete_positions(
            engine, note["cutoff_t_s"], note["first_id"], note["last_id"], pause
        )
        report.positions_deleted += done.rows
        if not done.complete:
            return
        pending.unlink()
    while True:
        files = DayFiles(archive_dir)
        first_id = last_id = None
        n = 0
        try:
            while n < ARCHIVE_PASS_ROWS:
                with engine.connect() as conn:
                    rows = conn.execute(
                        select(*_ARCHIVED_COLUMNS)
                        .where(
                            positions.c.received_t_s < cutoff_t_s,
                            positions.c.id > (last_id if last_id is not None else 0),
                        )
                        .order_by(positions.c.id)
                        .limit(min(ARCHIVE_CHUNK_ROWS, ARCHIVE_PASS_ROWS - n))
                    ).all()
                if not rows:
                    break
                chunk = ArchivedPositions.from_rows([tuple(r) for r in rows])
                files.write(chunk)
                first_id = first_id if first_id is not None else int(chunk.row_id[0])
                last_id = int(chunk.row_id[-1])
                n += len(chunk)
            if first_id is None or last_id is None:
                files.abandon()
                return
            written = files.close(first_id, last_id)
        except BaseException:
            files.abandon()
            raise
        note = {"cutoff_t_s": cutoff_t_s, "first_id": first_id, "last_id": last_id}
        _write_durably(pending, json.dumps(note))
        report.files.extend(written)
        report.positions_archived += n
        done = _delete_positions(engine, cutoff_t_s, first_id, last_id, pause)
        report.positions_deleted += done.rows
        if not done.complete:
            return  # the note stays: the next run finishes the deletion
        pending.unlink()
        log.info(
            "archived %d positions (rows %d-%d) into %d files",
            n,
            first_id,
            last_id,
            len(written),
        )
        if n < ARCHIVE_PASS_ROWS or pause():
            return


def _write_durably(path: Path, content: str) -> None:
    staged = path.with_name(path.name + ".tmp")
    with staged.open("w", encoding="utf-8") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(staged, path)


# -- events and idempotency records --------------------------------------------------


def _delete_events(engine: Engine, cutoff_t_s: float, pause: Pause) -> int:
    """Delete stream events created before ``cutoff_t_s`` (not the hotline's)."""
    deleted = 0
    while True:
        with engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(events.c.id)
                    .where(
                        events.c.created_t_s < cutoff_t_s,
                        ~events.c.type.startswith(KEPT_EVENT_PREFIX),
                    )
                    .order_by(events.c.created_t_s)
                    .limit(DELETE_ROWS)
                ).scalars()
            )
        if not ids:
            return deleted
        with engine.begin() as conn:
            deleted += conn.execute(delete(events).where(events.c.id.in_(ids))).rowcount
        if len(ids) < DELETE_ROWS or pause():
            return deleted


def _delete_batches(engine: Engine, cutoff_t_s: float, pause: Pause) -> int:
    """Delete the idempotency records of batches received before ``cutoff_t_s``."""
    deleted = 0
    key = tuple_(ingest_batches.c.party_id, ingest_batches.c.batch_id)
    while True:
        with engine.connect() as conn:
            keys = [
                tuple(r)
                for r in conn.execute(
                    select(ingest_batches.c.party_id, ingest_batches.c.batch_id)
                    .where(ingest_batches.c.received_t_s < cutoff_t_s)
                    .order_by(ingest_batches.c.received_t_s)
                    .limit(DELETE_ROWS)
                )
            ]
        if not keys:
            return deleted
        with engine.begin() as conn:
            deleted += conn.execute(
                delete(ingest_batches).where(key.in_(keys))
            ).rowcount
        if len(keys) < DELETE_ROWS or pause():
            return deleted
