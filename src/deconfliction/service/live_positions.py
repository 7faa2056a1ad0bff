"""Stored positions read as columns, for live detection.

A tick reads positions by the thousand; SQLAlchemy's ``Row`` objects and a Python
object per position would cost more than the detection itself, so rows are read as
the driver's tuples (:func:`fetch_all`) and kept as one float array per track column
(:class:`Positions`), the aircraft numbered once. It is a thin wrapper of
the one positions table (``domain/positions.Positions``): its columns are that
table's number columns (:data:`TRACK_NAMES`), kept as one (7, rows) matrix so that a
tick moves rows with one indexing, and :meth:`Positions.table` is the same rows as
that table (sharing the matrix's rows), which conformance takes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Select

from deconfliction.domain.detect import computable_values
from deconfliction.domain.model import BoolArray, FloatArray, IntArray, StrArray
from deconfliction.domain.positions import POSITION_COLUMNS
from deconfliction.domain.positions import Positions as PositionTable
from deconfliction.service.incidents import AircraftPoint
from deconfliction.store.tables import positions

KEY_SEPARATOR: str = ":"  # aircraft key "party:aircraft"; ids are unique per party


def aircraft_key(party: str, aircraft: str) -> str:
    """The key of an aircraft across parties.

    >>> aircraft_key("russia", "RF93")
    'russia:RF93'
    """
    return f"{party}{KEY_SEPARATOR}{aircraft}"


def split_key(key: str) -> tuple[str, str]:
    """Party and aircraft of a key (aircraft ids may hold the separator).

    >>> split_key("coalition:VIPER:11")
    ('coalition', 'VIPER:11')
    """
    party, _, aircraft = key.partition(KEY_SEPARATOR)
    return party, aircraft


# The number columns of the positions table (domain/positions.py), in its order:
# t_s, lat_deg, lon_deg, alt_ft, gs_kt, trk_deg, vs_fpm.
TRACK_NAMES: tuple[str, ...] = tuple(c.name for c in POSITION_COLUMNS if not c.is_text)

# What is read of a stored position: its aircraft key, built by the database, then
# the track, which ``Positions`` keeps as one float array in this order.
COLUMNS = (
    (positions.c.party_id + KEY_SEPARATOR + positions.c.aircraft_id).label("key"),
    *(positions.c[name] for name in TRACK_NAMES),
)


def fetch_all(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` as the driver's plain tuples, read through the
    DBAPI cursor of ``conn`` (in its transaction): SQLAlchemy's ``Row`` objects
    would cost about 1 us each, a third of reading a position."""
    compiled = statement.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:  # e.g. SQLite's "?"
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


@dataclass(frozen=True, slots=True)
class Positions:
    """Stored positions as columns, one row per position.

    Rows refer to their aircraft by number, so grouping them by aircraft needs no
    sort of strings: that is done once, when the rows are read.

    Attributes:
        aircraft: aircraft keys ("party:aircraft"), sorted and distinct.
        code: per row, the index of its aircraft in ``aircraft``.
        track: shape (7, rows): t_s, lat_deg, lon_deg, alt_ft, gs_kt, trk_deg,
            vs_fpm.
    """

    aircraft: StrArray
    code: IntArray
    track: FloatArray

    @classmethod
    def from_keys(cls, key: StrArray, track: FloatArray) -> Positions:
        """From each row's aircraft key and the track."""
        aircraft, code = np.unique(key, return_inverse=True)
        return cls(aircraft, code.astype(np.int64), track)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]]) -> Positions:
        """From rows that start with ``COLUMNS`` (further columns are ignored),
        converted a column at a time: no Python work per row."""
        if not rows:
            return cls.from_keys(
                np.zeros(0, dtype=np.str_), np.zeros((len(COLUMNS) - 1, 0))
            )
        table = np.array(rows, dtype=object)
        return cls.from_keys(
            table[:, 0].astype(np.str_),
            table[:, 1 : len(COLUMNS)].T.astype(np.float64, order="C"),
        )

    def __len__(self) -> int:
        return len(self.code)

    @property
    def key(self) -> StrArray:
        """The aircraft key of each row."""
        key: StrArray = self.aircraft[self.code]
        return key

    @property
    def t_s(self) -> FloatArray:
        column: FloatArray = self.track[0]
        return column

    @property
    def lat_deg(self) -> FloatArray:
        column: FloatArray = self.track[1]
        return column

    @property
    def lon_deg(self) -> FloatArray:
        column: FloatArray = self.track[2]
        return column

    @property
    def alt_ft(self) -> FloatArray:
        column: FloatArray = self.track[3]
        return column

    def table(self) -> PositionTable:
        """The rows as the positions table: ``ids`` the aircraft keys, ``party``
        each row's party, the number columns views of :attr:`track` (no copy).

        >>> p = Positions.from_keys(np.array(["red:A", "blue:B"]),
        ...                         np.arange(14.0).reshape(7, 2))
        >>> t = p.table()
        >>> t.ids.tolist(), t.party.tolist(), np.shares_memory(t.vs_fpm, p.track)
        (['red:A', 'blue:B'], ['red', 'blue'], True)
        """
        return PositionTable(self.key, self.parties()[self.code], *self.track)

    def computable(self) -> BoolArray:
        """Per row, whether detection and conformance can work with it (finite
        values, not at a pole: ``detect.computable_values``)."""
        return computable_values(self.lat_deg, *self.track)

    def parties(self) -> StrArray:
        """The party of each aircraft of ``aircraft``."""
        return np.array(
            [split_key(k)[0] for k in self.aircraft.tolist()], dtype=np.str_
        )

    def of_parties(self, parties: Collection[str]) -> BoolArray:
        """Per row, whether its aircraft belongs to one of ``parties``."""
        named: BoolArray = np.isin(self.parties(), list(parties))
        return named[self.code]

    def take(self, index: Any) -> Positions:
        """The rows at ``index`` (indices or a boolean mask), in its order."""
        return Positions(self.aircraft, self.code[index], self.track[:, index])

    def then(self, later: Positions) -> Positions:
        """These rows followed by ``later``'s."""
        return Positions.from_keys(
            np.concatenate([self.key, later.key]),
            np.concatenate([self.track, later.track], axis=1),
        )

    def point(self, row: int) -> AircraftPoint:
        """One row as an incident's point."""
        party, aircraft = split_key(str(self.aircraft[self.code[row]]))
        t_s, lat, lon, alt = self.track[:4, row].tolist()
        return AircraftPoint(party, aircraft, t_s, lat, lon, alt)

    def newest_per_aircraft(self) -> Positions:
        """Each aircraft's newest row: the latest time, of equal times the last row
        (a later row replaces an earlier one of the same time); aircraft in the
        order of their first row."""
        if len(self) == 0:
            return self
        order = np.lexsort((self.t_s, self.code))  # stable: ties keep row order
        code = self.code[order]
        newest = order[np.r_[code[1:] != code[:-1], True]]  # by aircraft code
        _, first_row = np.unique(self.code, return_index=True)  # by aircraft code
        return self.take(newest[np.argsort(first_row)])
