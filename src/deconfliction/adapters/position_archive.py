"""The archive of pruned positions: Parquet track files partitioned by UTC day,
readable by ``deconfliction analyze``.

Layout::

    ARCHIVE/positions/day=2017-12-13/part-000000001201-000000051200.parquet

Every file has the columns of a track file (``id, party, time, lat, lon, alt_ft,
gs_kt, trk_deg, vs_fpm``; :mod:`deconfliction.analysis.tracks`), where ``id`` is
``party:aircraft`` (aircraft ids are unique per party only, and a track file wants
one party per id), and also ``aircraft`` (the id as sent), ``batch_id``,
``received_time`` and ``row_id`` (the position's row in the store). A file is named
after the first and last row of the pruning pass that wrote it, so a pass run again
writes the same names; it is written under a temporary name and renamed whole.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.analysis.tracks import TrackTable, tracks_arrow
from deconfliction.domain.model import FloatArray, IntArray, StrArray
from deconfliction.units import S_PER_DAY

POSITIONS_DIR: str = "positions"
ID_SEPARATOR: str = ":"  # as the live picture's aircraft keys


@dataclass(frozen=True, slots=True)
class ArchivedPositions:
    """Positions leaving the store, as columns (one row per position)."""

    row_id: IntArray
    party: StrArray
    aircraft: StrArray
    t_s: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    gs_kt: FloatArray
    trk_deg: FloatArray
    vs_fpm: FloatArray
    batch_id: StrArray
    received_t_s: FloatArray

    @classmethod
    def from_rows(cls, rows: list[tuple[Any, ...]]) -> ArchivedPositions:
        """From rows in the order of the fields."""
        table = np.array(rows, dtype=object).reshape(len(rows), 12)
        text = [1, 2, 10]
        columns: list[Any] = []
        for k in range(12):
            column = table[:, k]
            if k == 0:
                columns.append(column.astype(np.int64))
            elif k in text:
                columns.append(column.astype(np.str_))
            else:
                columns.append(column.astype(np.float64))
        return cls(*columns)

    def __len__(self) -> int:
        return len(self.row_id)

    def day(self) -> IntArray:
        """The UTC day of each position, as days since the epoch."""
        day: IntArray = np.floor(self.t_s / S_PER_DAY).astype(np.int64)
        return day

    def take(self, index: Any) -> ArchivedPositions:
        """The rows at ``index``."""
        return ArchivedPositions(
            *(getattr(self, f)[index] for f in self.__dataclass_fields__)
        )

    def arrow(self) -> Any:
        """As an Arrow table with the track-file columns first."""
        import pyarrow as pa  # type: ignore[import-untyped]

        ids = np.char.add(np.char.add(self.party, ID_SEPARATOR), self.aircraft)
        tracks = TrackTable(
            ids,
            self.party,
            self.t_s,
            self.lat_deg,
            self.lon_deg,
            self.alt_ft,
            self.gs_kt,
            self.trk_deg,
            self.vs_fpm,
        )
        table = tracks_arrow(tracks, dictionary=False)
        received_us = np.round(self.received_t_s * 1e6).astype(np.int64)
        for name, column in (
            ("aircraft", pa.array(self.aircraft, type=pa.string())),
            ("batch_id", pa.array(self.batch_id, type=pa.string())),
            ("received_time", pa.array(received_us, type=pa.timestamp("us", tz="UTC"))),
            ("row_id", pa.array(self.row_id, type=pa.int64())),
        ):
            table = table.append_column(name, column)
        return table


def day_name(day: int) -> str:
    """``day=YYYY-MM-DD`` for a day since the epoch.

    >>> day_name(17513)
    'day=2017-12-13'
    """
    return "day=" + datetime.fromtimestamp(day * S_PER_DAY, UTC).strftime("%Y-%m-%d")


STAGED_SUFFIX: str = ".writing"  # a file not yet complete; removed if left over


@dataclass
class DayFiles:
    """One Parquet file per UTC day for a pruning pass, written chunk by chunk
    under temporary names; :meth:`close` gives them their final names."""

    archive_dir: Path
    _writers: dict[int, Any] = field(default_factory=dict)

    def staged(self, day: int) -> Path:
        """Where the file of ``day`` is written until it is complete."""
        return self.archive_dir / POSITIONS_DIR / day_name(day) / f"part{STAGED_SUFFIX}"

    def final(self, day: int, first_id: int, last_id: int) -> Path:
        """The name of the file of ``day`` for rows ``first_id..last_id``."""
        name = f"part-{first_id:012d}-{last_id:012d}.parquet"
        return self.archive_dir / POSITIONS_DIR / day_name(day) / name

    def write(self, chunk: ArchivedPositions) -> None:
        """Append ``chunk`` to the files of its days."""
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        days = chunk.day()
        for day in np.unique(days).tolist():
            part = chunk.take(days == day).arrow()
            writer = self._writers.get(day)
            if writer is None:
                staged = self.staged(day)
                staged.parent.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(os.fspath(staged), part.schema)
                self._writers[day] = writer
            writer.write_table(part)

    def close(self, first_id: int, last_id: int) -> list[Path]:
        """Close every file, make it durable and give it its final name."""
        done = []
        for day, writer in self._writers.items():
            writer.close()
            staged = self.staged(day)
            with staged.open("rb") as f:
                os.fsync(f.fileno())
            final = self.final(day, first_id, last_id)
            os.replace(staged, final)
            done.append(final)
        self._writers.clear()
        return done

    def abandon(self) -> None:
        """Close and remove what was written (the pass failed)."""
        for day, writer in self._writers.items():
            writer.close()
            self.staged(day).unlink(missing_ok=True)
        self._writers.clear()


def remove_staged(archive_dir: Path) -> None:
    """Remove files left incomplete by a pass that did not finish."""
    for path in (archive_dir / POSITIONS_DIR).glob(f"day=*/*{STAGED_SUFFIX}"):
        path.unlink(missing_ok=True)
