"""Which process runs live detection: a lease kept in the store.

Any number of ``serve`` processes may share one database. All of them serve the API
and the streams (a stream reads its events from the store, whoever wrote them);
exactly one runs live detection and the hotline's and planning's timers, the one
that holds the lease. The lease is the ``detection_state`` row: the process it
names (``holder``) and when it ends unless renewed (``expires_t_s``).

* The holder renews the lease before each tick, for :data:`LEASE_INTERVALS`
  detection intervals, and once more in the tick's own transaction, which commits
  only if the row still names it (a fence: a process that lost the lease, say it
  was paused past the end of it, writes nothing).
* The others try to take the lease every :data:`POLL_INTERVALS` of an interval, and
  no later than when it ends; they get it once it has ended. The new holder then
  takes the state over from the store (``live_resume``): the same alert ids, the
  same incidents. A holder that dies is replaced within
  ``LEASE_INTERVALS + POLL_INTERVALS`` = 1.75 intervals of its last renewal.
* A process that stops cleanly (SIGTERM) gives the lease up, and another takes over
  at its next try.

It works the same on both backends: on PostgreSQL, row locks order a renewal and a
take-over of the one row (the later statement sees the earlier one's result); on
SQLite there is one writer at a time, and several processes on one host share the
file.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from sqlalchemy import Connection, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from deconfliction.errors import LeaseLostError
from deconfliction.service import live_resume
from deconfliction.store.tables import detection_state

LEASE_INTERVALS: float = 1.5
"""A lease lasts 1.5 detection intervals from its renewal: the holder renews it
every interval, so half an interval is left for a late tick, and a holder that
died is replaced within two intervals (with :data:`POLL_INTERVALS`)."""

POLL_INTERVALS: float = 0.25
"""The other processes try to take the lease four times an interval."""


def new_holder_id() -> str:
    """A name for this process as a holder: host, process id and a nonce (a
    restarted process with a reused pid is another holder).

    >>> new_holder_id().count(":")
    2
    """
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds live detection, as stored.

    Attributes:
        holder: the process (None: nobody, e.g. after a clean stop).
        acquired_t_s: when it took the lease.
        expires_t_s: when the lease ends unless renewed.
    """

    holder: str | None
    acquired_t_s: float | None
    expires_t_s: float | None

    def is_held(self, now_t_s: float) -> bool:
        """Whether some process holds the lease at ``now_t_s``."""
        return (
            self.holder is not None
            and self.expires_t_s is not None
            and now_t_s <= self.expires_t_s
        )


def current(conn: Connection) -> Lease:
    """The lease as stored now."""
    row = conn.execute(
        select(
            detection_state.c.holder,
            detection_state.c.acquired_t_s,
            detection_state.c.expires_t_s,
        ).where(detection_state.c.name == live_resume.STATE_NAME)
    ).first()
    if row is None:
        return Lease(None, None, None)
    return Lease(row.holder, row.acquired_t_s, row.expires_t_s)


def _ensure_row(conn: Connection, now_t_s: float) -> None:
    """The state row, created as a first run would start: reading on from the
    newest stored position."""
    dialect_insert = (
        postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    )
    conn.execute(
        dialect_insert(detection_state)
        .values(
            name=live_resume.STATE_NAME,
            last_row_id=live_resume.newest_row_id(conn),
            tick_t_s=now_t_s,
        )
        .on_conflict_do_nothing(index_elements=["name"])
    )


def hold(conn: Connection, holder: str, now_t_s: float, lease_s: float) -> Lease:
    """Take or renew the lease for ``holder`` until ``now_t_s + lease_s``, if it
    is free, has ended or is already its own.

    Returns:
        The lease as it stands after the attempt (held by ``holder`` or not).
    """
    _ensure_row(conn, now_t_s)
    row = detection_state.c
    conn.execute(
        update(detection_state)
        .where(
            row.name == live_resume.STATE_NAME,
            or_(
                row.holder == holder,
                row.holder.is_(None),
                row.expires_t_s.is_(None),
                row.expires_t_s < now_t_s,
            ),
        )
        .values(
            holder=holder,
            acquired_t_s=case((row.holder == holder, row.acquired_t_s), else_=now_t_s),
            expires_t_s=now_t_s + lease_s,
        )
    )
    return current(conn)


def fence(
    conn: Connection,
    holder: str,
    now_t_s: float,
    lease_s: float,
    last_row_id: int,
    tick_t_s: float,
) -> None:
    """In a tick's transaction: note where it read up to and renew the lease, if
    ``holder`` still holds it.

    Raises:
        LeaseLostError: if another process holds it, or nobody does (the tick's
            transaction must then roll back).
    """
    done = conn.execute(
        update(detection_state)
        .where(
            detection_state.c.name == live_resume.STATE_NAME,
            detection_state.c.holder == holder,
        )
        .values(
            last_row_id=last_row_id,
            tick_t_s=tick_t_s,
            expires_t_s=now_t_s + lease_s,
        )
    )
    if done.rowcount != 1:
        raise LeaseLostError(current(conn).holder)


def release(conn: Connection, holder: str) -> bool:
    """Give the lease up (a clean stop), if ``holder`` holds it."""
    done = conn.execute(
        update(detection_state)
        .where(
            detection_state.c.name == live_resume.STATE_NAME,
            detection_state.c.holder == holder,
        )
        .values(holder=None, expires_t_s=None)
    )
    return done.rowcount == 1
