"""Track ingestion: batches of positions, idempotent by the client's batch id.

Rules (documented in the README):

* A batch is identified by ``(party, batch_id)``. Posting the same batch id again
  stores nothing and returns the first result, so a client that lost a response may
  simply retry.
* A 2xx means the batch and its valid rows are committed (one transaction).
* Invalid rows are rejected one by one, with row number, field and reason; the valid
  rows of the batch are kept. A row's optional ``party`` must be the poster's party:
  a party posts its own aircraft only, and a row naming another is rejected. A
  batch with no valid row is refused as a whole and not recorded, so it can be
  corrected and sent again under the same id.
* Positions timed more than ``future_tolerance_s`` after the server's clock are
  rejected (a feed with a wrong clock must not create conflicts in the future).
* Positions closer to a pole than ``geodesy.MAX_ABS_LAT_DEG`` are rejected: detection
  cannot use a track angle there (the live loop sets aside any such aircraft it
  finds anyway, but never stores new ones).
* A position is stored once per (party, aircraft, time): one sent again, under
  another batch id or twice in one batch, is accepted but not stored again (the
  first copy is kept) and counted in ``duplicate_positions``.
* Positions more than the protocol's ``stale_after_s`` old on arrival never enter
  the live picture (live detection drops aircraft not heard from for that long):
  they are stored as history, and the answer says so (``history_positions``, a
  ``notice``), so that a late feed is never silently ignored.
* Positions older than the aircraft's latest are stored as history (evidence,
  reports) but never move the live picture backwards: live detection uses each
  aircraft's newest position only, and conformance sees positions in time order as
  they arrive (a late position is not re-evaluated).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from deconfliction.adapters.position_fields import NUMERIC_FIELDS, check_number
from deconfliction.domain.geodesy import MAX_ABS_LAT_DEG
from deconfliction.domain.positions import NUMBER_NAMES
from deconfliction.errors import ConflictError, ForbiddenError, InputError, Problem
from deconfliction.service import protocols
from deconfliction.service.auth import Principal
from deconfliction.store.tables import ingest_batches, positions
from deconfliction.timetext import parse_time_s

MAX_BATCH_ROWS: int = 50_000  # a larger batch should be split; it holds one transaction
MAX_ID_LENGTH: int = 100  # matches positions.aircraft_id
LOOKUP_CHUNK: int = 500  # aircraft per look for positions already stored
# Characters no id may hold: control characters (NUL cannot be stored in PostgreSQL
# text at all) and lone surrogates (not encodable as UTF-8).
NOT_TEXT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class RowRejection:
    """Why one row of a batch was rejected (row numbers start at 1)."""

    row: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What happened to a batch."""

    batch_id: str
    accepted: int
    rejected: tuple[RowRejection, ...] = field(default=())
    duplicate: bool = False
    duplicate_positions: int = 0
    history_positions: int = 0
    stale_after_s: float | None = None

    @property
    def notice(self) -> str | None:
        """What the sender must know of the batch's history positions, if any."""
        if not self.history_positions or self.stale_after_s is None:
            return None
        return (
            f"{self.history_positions} of {self.accepted} positions were more than "
            f"{self.stale_after_s:g} s old on arrival (the protocol's stale_after_s): "
            "stored as history, they do not enter the live picture and raise no "
            "alert; check the feed's delay and clock"
        )

    def as_json(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "batch_id": self.batch_id,
            "accepted": self.accepted,
            "rejected": [
                {"row": r.row, "field": r.field, "message": r.message}
                for r in self.rejected
            ],
            "duplicate": self.duplicate,
            "duplicate_positions": self.duplicate_positions,
            "live_positions": self.accepted - self.history_positions,
            "history_positions": self.history_positions,
            "stale_after_s": self.stale_after_s,
            "notice": self.notice,
        }


def validate_rows(
    rows: Sequence[Mapping[str, Any]],
    now_t_s: float,
    future_tolerance_s: float,
    party_id: str | None = None,
) -> tuple[list[dict[str, Any]], list[RowRejection]]:
    """Split rows into clean positions and rejections.

    With ``party_id`` (the poster's party), a row whose optional ``party`` names
    another party is rejected: a party posts its own aircraft only.
    """
    clean: list[dict[str, Any]] = []
    rejected: list[RowRejection] = []
    for k, row in enumerate(rows, start=1):
        problems: list[RowRejection] = []
        if party_id is not None:
            problems += _party_problem(k, row.get("party"), party_id)
        ident = row.get("id")
        if (
            not isinstance(ident, str | int)
            or isinstance(ident, bool)
            or not str(ident).strip()
        ):
            problems.append(RowRejection(k, "id", "missing or empty id"))
        elif len(str(ident)) > MAX_ID_LENGTH:
            problems.append(
                RowRejection(k, "id", f"longer than {MAX_ID_LENGTH} characters")
            )
        elif NOT_TEXT.search(str(ident)):
            problems.append(
                RowRejection(k, "id", "holds a control character or a lone surrogate")
            )
        t_s: float | None = None
        raw_time = row.get("time")
        try:
            if raw_time is None:
                raise ValueError("missing time")
            t_s = parse_time_s(raw_time)
        except ValueError as exc:
            problems.append(RowRejection(k, "time", str(exc)))
        if t_s is not None and t_s > now_t_s + future_tolerance_s:
            problems.append(
                RowRejection(
                    k,
                    "time",
                    f"{t_s - now_t_s:.1f} s in the future "
                    f"(tolerance {future_tolerance_s:g} s)",
                )
            )
        values: dict[str, float] = {}
        for name in NUMERIC_FIELDS:
            if name not in row or row[name] is None or row[name] == "":
                problems.append(RowRejection(k, name, "missing"))
                continue
            value, problem = check_number(name, row[name])
            if problem is not None:
                problems.append(RowRejection(k, name, problem))
            elif value is not None:
                values[name] = value
        if abs(values.get("lat", 0.0)) > MAX_ABS_LAT_DEG:
            problems.append(
                RowRejection(
                    k,
                    "lat",
                    f"{values['lat']:g} is within {90 - MAX_ABS_LAT_DEG:g} deg of a "
                    "pole, where a track angle has no stable meaning",
                )
            )
        if problems:
            rejected.extend(problems)
            continue
        clean.append(
            {
                "aircraft_id": str(ident).strip(),
                "t_s": t_s,
                "lat_deg": values["lat"],
                "lon_deg": values["lon"],
                "alt_ft": values["alt_ft"],
                "gs_kt": values["gs_kt"],
                "trk_deg": values["trk_deg"] % 360.0,
                "vs_fpm": values["vs_fpm"],
            }
        )
    return clean, rejected


def _party_problem(k: int, claimed: Any, party_id: str) -> list[RowRejection]:
    """The rejection of a row that names another party than its poster's.

    >>> _party_problem(1, "coalition", "coalition"), _party_problem(1, "", "x")
    ([], [])
    >>> _party_problem(2, "russia", "coalition")[0].message
    "names party 'russia': a coalition token posts coalition's aircraft only"
    """
    if claimed is None or (isinstance(claimed, str) and not claimed.strip()):
        return []  # no party given: the poster's
    if isinstance(claimed, str) and claimed.strip() == party_id:
        return []
    shown = repr(claimed.strip()) if isinstance(claimed, str) else "a non-text value"
    if len(shown) > MAX_ID_LENGTH:
        shown = shown[:MAX_ID_LENGTH] + "…"
    return [
        RowRejection(
            k,
            "party",
            f"names party {shown}: a {party_id} token posts {party_id}'s aircraft only",
        )
    ]


def _stored_result(
    conn: Connection, party_id: str, batch_id: str
) -> BatchResult | None:
    row = conn.execute(
        select(ingest_batches.c.result_json).where(
            ingest_batches.c.party_id == party_id, ingest_batches.c.batch_id == batch_id
        )
    ).first()
    if row is None:
        return None
    data = json.loads(row.result_json)
    return BatchResult(
        batch_id=batch_id,
        accepted=data["accepted"],
        rejected=tuple(RowRejection(**r) for r in data["rejected"]),
        duplicate=True,
        duplicate_positions=int(data.get("duplicate_positions", 0)),
        history_positions=int(data.get("history_positions", 0)),
        stale_after_s=data.get("stale_after_s"),
    )


def ingest_under_protocol(
    conn: Connection,
    who: Principal,
    batch_id: str,
    rows: Sequence[Mapping[str, Any]],
    now_t_s: float,
    future_tolerance_s: float,
) -> BatchResult:
    """:func:`ingest_batch` with the ``stale_after_s`` of the caller's agreements
    in effect (the longest, when it has several)."""
    stale_s = [
        v.protocol.stale_after_s for v in protocols.agreements_of(conn, who.party_id)
    ]
    return ingest_batch(
        conn,
        who,
        batch_id,
        rows,
        now_t_s,
        future_tolerance_s,
        max(stale_s) if stale_s else None,
    )


def ingest_batch(
    conn: Connection,
    who: Principal,
    batch_id: str,
    rows: Sequence[Mapping[str, Any]],
    now_t_s: float,
    future_tolerance_s: float,
    stale_after_s: float | None = None,
) -> BatchResult:
    """Store a batch once. The caller commits the transaction.

    With ``stale_after_s`` (the protocol in effect's), the positions more than
    that old on arrival are counted as history (stored, never live).

    Raises:
        ForbiddenError: for an observer.
        InputError: for an empty or oversized batch, a bad batch id, or a batch with
            no valid row (nothing is stored then).
    """
    if not who.can_write:
        raise ForbiddenError("observers cannot post tracks")
    if not batch_id or len(batch_id) > 200 or NOT_TEXT.search(batch_id):
        raise InputError(
            [
                Problem(
                    "batch",
                    None,
                    "batch_id",
                    "must be 1 to 200 characters, none a control character",
                )
            ]
        )
    previous = _stored_result(conn, who.party_id, batch_id)
    if previous is not None:
        return previous
    if len(rows) > MAX_BATCH_ROWS:
        raise InputError(
            [
                Problem(
                    "batch",
                    None,
                    "positions",
                    f"more than {MAX_BATCH_ROWS} rows; split it",
                )
            ]
        )
    clean, rejected = validate_rows(rows, now_t_s, future_tolerance_s, who.party_id)
    if not clean:
        problems = [Problem("batch", r.row, r.field, r.message) for r in rejected] or [
            Problem("batch", None, "positions", "the batch holds no position")
        ]
        raise InputError(problems)
    fresh = _first_of_each(clean)
    result = BatchResult(
        batch_id=batch_id,
        accepted=len(clean),
        rejected=tuple(rejected),
        duplicate_positions=len(clean) - len(fresh),
        history_positions=0
        if stale_after_s is None
        else sum(now_t_s - r["t_s"] > stale_after_s for r in clean),
        stale_after_s=stale_after_s,
    )
    # INSERT ... ON CONFLICT DO NOTHING, not a savepoint: on SQLite (pysqlite) a
    # SAVEPOINT opened before the first write starts the transaction and its
    # RELEASE commits it, so the batch record would commit without its positions.
    dialect_insert = (
        postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    )
    inserted = conn.execute(
        dialect_insert(ingest_batches)
        .values(
            party_id=who.party_id,
            batch_id=batch_id,
            received_t_s=now_t_s,
            accepted=result.accepted,
            rejected=len(rejected),
            result_json=json.dumps(result.as_json()),
        )
        .on_conflict_do_nothing(index_elements=["party_id", "batch_id"])
        .returning(ingest_batches.c.batch_id)
    ).first()
    if inserted is None:
        # The same batch raced in on another connection and won: report its result.
        stored = _stored_result(conn, who.party_id, batch_id)
        if stored is None:  # pragma: no cover - the winner committed before we read
            raise ConflictError(f"batch {batch_id!r} is being stored; retry")
        return stored
    for row in fresh:
        row["party_id"] = who.party_id
        row["batch_id"] = batch_id
        row["received_t_s"] = now_t_s
    if conn.dialect.name == "postgresql":
        # Inserts commit in id order, so live detection, reading new rows by id,
        # never skips a row that commits late (SQLite has one writer anyway). The
        # lock also keeps another batch from storing the same positions between
        # the look for them and the copy.
        conn.execute(text("LOCK TABLE positions IN SHARE ROW EXCLUSIVE MODE"))
    # On SQLite the batch record above took the write lock: the same holds.
    held = _already_stored(conn, who.party_id, fresh)
    if held:
        fresh = [r for r in fresh if (r["aircraft_id"], r["t_s"]) not in held]
        result = replace(result, duplicate_positions=result.accepted - len(fresh))
        conn.execute(
            update(ingest_batches)
            .where(
                ingest_batches.c.party_id == who.party_id,
                ingest_batches.c.batch_id == batch_id,
            )
            .values(result_json=json.dumps(result.as_json()))
        )
    if not fresh:
        return result
    if conn.dialect.name == "postgresql":
        _copy_positions(conn, fresh)
        return result
    conn.execute(insert(positions), fresh)
    return result


def _first_of_each(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the first of each (aircraft, time) only.

    >>> rows = [{"aircraft_id": "A", "t_s": 1.0, "n": k} for k in range(2)]
    >>> [r["n"] for r in _first_of_each(rows)]
    [0]
    """
    seen: set[tuple[str, float]] = set()
    out: list[dict[str, Any]] = []
    for row in rows:
        key = (row["aircraft_id"], row["t_s"])
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _already_stored(
    conn: Connection, party_id: str, rows: list[dict[str, Any]]
) -> set[tuple[str, float]]:
    """The (aircraft, time) of ``rows`` the store already holds for ``party_id``:
    per chunk of aircraft, their positions between the batch's first and last
    time (a range of the unique index)."""
    if not rows:
        return set()
    times = [r["t_s"] for r in rows]
    wanted = {(r["aircraft_id"], r["t_s"]) for r in rows}
    aircraft = sorted({r["aircraft_id"] for r in rows})
    found: set[tuple[str, float]] = set()
    for k in range(0, len(aircraft), LOOKUP_CHUNK):
        chunk = aircraft[k : k + LOOKUP_CHUNK]
        for ident, t_s in conn.execute(
            select(positions.c.aircraft_id, positions.c.t_s).where(
                positions.c.party_id == party_id,
                positions.c.aircraft_id.in_(chunk),
                positions.c.t_s >= min(times),
                positions.c.t_s <= max(times),
            )
        ):
            if (ident, t_s) in wanted:
                found.add((ident, t_s))
    return found


def stored_row(r: Any) -> dict[str, Any]:
    """A stored position (a row of ``positions``) as a row of a batch, without its
    party: what a node passes on of its own aircraft."""
    return {
        "id": r.aircraft_id,
        "time": r.t_s,
        "lat": r.lat_deg,
        "lon": r.lon_deg,
        "alt_ft": r.alt_ft,
        "gs_kt": r.gs_kt,
        "trk_deg": r.trk_deg,
        "vs_fpm": r.vs_fpm,
    }


_COPY_COLUMNS: tuple[str, ...] = (
    "party_id",
    "aircraft_id",
    *NUMBER_NAMES,
    "batch_id",
    "received_t_s",
)


def _copy_positions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY: one round trip instead of one INSERT per row (about twice
    as fast per row in ``bench/bench_service.py``)."""
    dbapi = conn.connection.driver_connection
    sql = f"COPY positions ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    with dbapi.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(tuple(row[c] for c in _COPY_COLUMNS))
