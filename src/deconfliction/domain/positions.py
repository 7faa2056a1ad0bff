"""Aircraft positions as one table: the columns, defined once, and the types on them.

Every struct-of-arrays batch of positions in the project is a :class:`Positions`
(one row per position of any number of aircraft), an extension of it that adds
columns (the track stream's ``TrackBatch``), or a view of it: an
:class:`AircraftStates` snapshot is the rows of one instant without their time
(:meth:`Positions.states`). The columns, their units, their names in track files
and APIs and their plausible ranges are :data:`POSITION_COLUMNS`; every reader,
writer and checker takes the names from there.

Building never copies an array that already has the column's dtype: a table read
with pyarrow (:meth:`Positions.from_arrow`) or made of numpy arrays
(:meth:`Positions.from_columns`) shares their memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

from deconfliction.domain.arrays import FloatArray, StrArray


@dataclass(frozen=True, slots=True)
class PositionColumn:
    """One column of the positions table.

    Attributes:
        name: the attribute of :class:`Positions` (with its unit).
        header: the column's name in track files (CSV, Parquet) and APIs.
        unit: the unit, ``""`` for text.
        plausible: the lowest and highest plausible value of a number column (in
            its unit), or None.
        description: what the value is.
    """

    name: str
    header: str
    unit: str
    plausible: tuple[float, float] | None
    description: str

    @property
    def is_text(self) -> bool:
        """True for a text column (numpy ``str_``), False for a float64 one."""
        return self.unit == ""


# Plausible ranges: outside them a value is a unit or sign mistake, not an aircraft.
POSITION_COLUMNS: tuple[PositionColumn, ...] = (
    PositionColumn("ids", "id", "", None, "aircraft identifier"),
    PositionColumn("party", "party", "", None, "party flying the aircraft"),
    PositionColumn("t_s", "time", "s", None, "time, UTC epoch seconds"),
    PositionColumn("lat_deg", "lat", "deg", (-90.0, 90.0), "WGS-84 latitude"),
    PositionColumn("lon_deg", "lon", "deg", (-180.0, 180.0), "WGS-84 longitude"),
    PositionColumn("alt_ft", "alt_ft", "ft", (-2000.0, 100000.0), "pressure altitude"),
    PositionColumn("gs_kt", "gs_kt", "kt", (0.0, 2500.0), "ground speed"),
    PositionColumn(
        "trk_deg", "trk_deg", "deg", (0.0, 360.0), "track over the ground, from north"
    ),
    PositionColumn(
        "vs_fpm", "vs_fpm", "fpm", (-30000.0, 30000.0), "vertical rate, climbing > 0"
    ),
)
"""The columns of :class:`Positions`, in its order."""

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in POSITION_COLUMNS)
"""The attributes of :class:`Positions`, in order."""

HEADERS: tuple[str, ...] = tuple(c.header for c in POSITION_COLUMNS)
"""The columns of a track table file: ``id,party,time,lat,lon,alt_ft,...``."""

KINEMATIC_HEADERS: tuple[str, ...] = tuple(h for h in HEADERS if h != "party")
"""One aircraft's position in files and APIs, without its party:
``id,time,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm``."""

NUMBER_NAMES: tuple[str, ...] = tuple(c.name for c in POSITION_COLUMNS if not c.is_text)
"""The number columns, in order: ``t_s, lat_deg, lon_deg, alt_ft, gs_kt, trk_deg,
vs_fpm``."""

SNAPSHOT_NAMES: tuple[str, ...] = tuple(n for n in COLUMN_NAMES if n != "t_s")
"""The attributes of an :class:`AircraftStates` snapshot: the columns but time."""

RANGES: dict[str, tuple[float, float]] = {
    c.header: c.plausible for c in POSITION_COLUMNS if c.plausible is not None
}
"""The plausible range of each number column with one, by header."""


def _column(values: Any, is_text: bool) -> Any:
    """``values`` as a numpy column: no copy when it already has the dtype."""
    if is_text:
        if isinstance(values, np.ndarray) and values.dtype.kind == "U":
            return values
        return np.asarray(values, dtype=np.str_)
    return np.asarray(values, dtype=np.float64)


_HEADER_OF: dict[str, str] = {c.name: c.header for c in POSITION_COLUMNS}


class Columns:
    """Base of a frozen struct-of-arrays dataclass: one length for every field
    (checked when built), ``len`` and ``take``, over all its fields (a subclass's
    extra columns included). :class:`Positions`, :class:`AircraftStates`, the
    conformance ``PositionStream`` and the analysis' ``InstantStates`` are ones."""

    __slots__ = ()
    ROW_WORD: ClassVar[str] = "entries"  # what the length error calls a row

    def __post_init__(self) -> None:
        names = _names(type(self))
        n = len(getattr(self, names[0]))
        for name in names[1:]:
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"{type(self).__name__}.{name} has {len(getattr(self, name))} "
                    f"{self.ROW_WORD}, {names[0]} has {n}"
                )

    def __len__(self) -> int:
        return len(getattr(self, _names(type(self))[0]))

    def take(self, index: Any) -> Self:
        """The rows selected by ``index`` (a slice, boolean mask or integer indices);
        a slice shares the arrays."""
        cls = type(self)
        return cls(*[getattr(self, name)[index] for name in _names(cls)])


_T = TypeVar("_T")
_NAMES_CACHE: dict[type, tuple[str, ...]] = {}
_TEXT_CACHE: dict[type, frozenset[str]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass, in order (cached: ``take`` is called often)."""
    names = _NAMES_CACHE.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        _NAMES_CACHE[cls] = names
    return names


def concat_columns(cls: type[_T], parts: Sequence[_T]) -> _T:
    """The rows of ``parts`` (at least one), instances of the dataclass of columns
    ``cls``, in order, in one new instance."""
    return cls(
        **{
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in _names(cls)
        }
    )


def _text_names(cls: type) -> frozenset[str]:
    """The text (``str_``) fields of a dataclass of columns, the others being floats."""
    names = _TEXT_CACHE.get(cls)
    if names is None:
        names = frozenset(
            f.name for f in dataclasses.fields(cls) if f.type in ("StrArray", StrArray)
        )
        _TEXT_CACHE[cls] = names
    return names


@dataclass(frozen=True, slots=True)
class Positions(Columns):
    """Positions of any number of aircraft, one row per position (struct of arrays).

    The columns are :data:`POSITION_COLUMNS`.

    Attributes:
        ids: aircraft identifier of each row.
        party: party of the aircraft.
        t_s: time of the position, epoch seconds (UTC).
        lat_deg: WGS-84 latitude.
        lon_deg: WGS-84 longitude.
        alt_ft: altitude.
        gs_kt: ground speed.
        trk_deg: track angle.
        vs_fpm: vertical rate.

    Raises:
        ValueError: if the columns differ in length.
    """

    ROW_WORD: ClassVar[str] = "rows"

    ids: StrArray
    party: StrArray
    t_s: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    gs_kt: FloatArray
    trk_deg: FloatArray
    vs_fpm: FloatArray

    @classmethod
    def empty(cls) -> Self:
        """A table with no rows."""
        f = np.zeros(0, dtype=np.float64)
        s = np.zeros(0, dtype=np.str_)
        return cls(s, s, f, f, f, f, f, f, f)

    @classmethod
    def from_columns(
        cls,
        ids: Any,
        party: Any,
        t_s: Any,
        lat_deg: Any,
        lon_deg: Any,
        alt_ft: Any,
        gs_kt: Any,
        trk_deg: Any,
        vs_fpm: Any,
    ) -> Self:
        """Build a table from sequences; numpy arrays of the column's dtype are used
        as they are (no copy).

        >>> t = Positions.from_columns(["A"], ["red"], [0], [35], [38], [9e3],
        ...                            [400], [90], [0])
        >>> len(t), t.t_s.dtype.name
        (1, 'float64')
        >>> lat = np.array([35.0])
        >>> Positions.from_columns(["A"], ["red"], [0], lat, [38], [9e3],
        ...                        [400], [90], [0]).lat_deg is lat
        True

        Raises:
            ValueError: if the columns differ in length.
        """
        return cls.from_mapping(
            {
                "ids": ids,
                "party": party,
                "t_s": t_s,
                "lat_deg": lat_deg,
                "lon_deg": lon_deg,
                "alt_ft": alt_ft,
                "gs_kt": gs_kt,
                "trk_deg": trk_deg,
                "vs_fpm": vs_fpm,
            }
        )

    @classmethod
    def from_mapping(cls, columns: Mapping[str, Any]) -> Self:
        """Build a table from a mapping of its attributes (:data:`COLUMN_NAMES`, and
        a subclass's own) to sequences.

        Raises:
            KeyError: if a column is missing.
            ValueError: if the columns differ in length.
        """
        return cls(
            **{
                name: _column(columns[name], name in _text_names(cls))
                for name in _names(cls)
            }
        )

    @classmethod
    def from_arrow(cls, table: Any, by_header: bool = False) -> Self:
        """A table from an Arrow table (or record batch) of the columns, named by
        attribute (``lat_deg``) or, with ``by_header``, by header (``lat``).

        Number columns of one chunk without nulls are shared with Arrow (no copy);
        text columns become numpy ``str_`` arrays. Nulls are not checked here: the
        readers (``analysis/tracks.py``, ``adapters/tabular.py``) report them first.

        Raises:
            KeyError: if a column is missing.
        """
        names = table.column_names
        columns = {}
        for name in _names(cls):
            key = _HEADER_OF.get(name, name) if by_header else name
            if key not in names:
                raise KeyError(key)
            column = table.column(key)
            if hasattr(column, "num_chunks"):  # a ChunkedArray: one chunk is shared
                column = (
                    column.chunk(0)
                    if column.num_chunks == 1
                    else column.combine_chunks()
                )
            columns[name] = column.to_numpy(zero_copy_only=False)
        return cls.from_mapping(columns)

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self:
        """The rows of several tables, in order (of none, an empty table)."""
        if not parts:
            return cls.empty()
        return concat_columns(cls, parts)

    def in_time_order(self) -> Self:
        """The rows sorted by time, then aircraft (ties keep their order)."""
        return self.take(np.lexsort((self.ids, self.t_s)))

    def states(self, index: Any = slice(None)) -> AircraftStates:
        """The rows selected by ``index`` as a detection snapshot (ids must be unique
        among them); with a slice, a view sharing this table's arrays.

        >>> t = Positions.from_columns(["A", "B"], ["red", "blue"], [0, 0], [35, 36],
        ...                            [38, 38], [9e3, 9e3], [400, 400], [90, 270],
        ...                            [0, 0])
        >>> s = t.states()
        >>> s.ids.tolist(), s.lat_deg.base is t.lat_deg or s.lat_deg is t.lat_deg
        (['A', 'B'], True)
        """
        return AircraftStates(*[getattr(self, name)[index] for name in SNAPSHOT_NAMES])

    def parties(self) -> tuple[str, ...]:
        """The parties present, sorted."""
        return tuple(str(p) for p in np.unique(self.party).tolist())


@dataclass(frozen=True, slots=True)
class AircraftStates(Columns):
    """A snapshot of aircraft states, one entry per aircraft: the columns of
    :class:`Positions` but time (:data:`SNAPSHOT_NAMES`), for one instant.

    Attributes:
        ids: aircraft identifiers, unique within the snapshot.
        party: the party each aircraft belongs to.
        lat_deg: WGS-84 latitude.
        lon_deg: WGS-84 longitude.
        alt_ft: altitude.
        gs_kt: ground speed.
        trk_deg: track angle over the ground, degrees clockwise from true north.
        vs_fpm: vertical rate, positive climbing.

    Raises:
        ValueError: if the columns differ in length.
    """

    ids: StrArray
    party: StrArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    gs_kt: FloatArray
    trk_deg: FloatArray
    vs_fpm: FloatArray

    @classmethod
    def from_columns(
        cls,
        ids: Any,
        lat_deg: Any,
        lon_deg: Any,
        alt_ft: Any,
        gs_kt: Any,
        trk_deg: Any,
        vs_fpm: Any,
        party: Any | None = None,
    ) -> AircraftStates:
        """Build a snapshot from sequences; without ``party`` each aircraft is its own.

        >>> s = AircraftStates.from_columns(
        ...     ["A"], [35.0], [38.0], [20000], [400], [90], [0])
        >>> s.party.tolist(), len(s)
        (['A'], 1)

        Raises:
            ValueError: if the columns differ in length.
        """
        ids_arr = np.asarray(ids, dtype=np.str_)
        party_arr = (
            ids_arr.copy() if party is None else np.asarray(party, dtype=np.str_)
        )
        return cls(
            ids=ids_arr,
            party=party_arr,
            lat_deg=np.asarray(lat_deg, dtype=np.float64),
            lon_deg=np.asarray(lon_deg, dtype=np.float64),
            alt_ft=np.asarray(alt_ft, dtype=np.float64),
            gs_kt=np.asarray(gs_kt, dtype=np.float64),
            trk_deg=np.asarray(trk_deg, dtype=np.float64),
            vs_fpm=np.asarray(vs_fpm, dtype=np.float64),
        )
