"""OpenSky Network state vectors and historical tracks, CSV and Parquet.

Column names are those of the OpenSky REST API (``icao24, callsign, time_position,
last_contact, longitude, latitude, baro_altitude, on_ground, velocity, true_track,
vertical_rate, geo_altitude, squawk``) or of its historical database
(``time, icao24, lat, lon, velocity, heading, vertrate, callsign, onground, squawk,
baroaltitude, geoaltitude, lastposupdate, lastcontact``). Metres and metres per
second are converted here, once: altitudes to feet, speed to knots, vertical rate to
feet per minute.

The time of a position is ``time_position`` (or ``lastposupdate``) when present,
else ``time``, ``timestamp`` or ``last_contact``. The altitude is the barometric one,
or the geometric one where the barometric is missing. Rows without a position are
counted as ignored (state vectors of aircraft heard but not located), and so is a
row repeating an aircraft's position at the same time (state vectors repeat the last
position until a new one arrives).

Files written by the ``traffic`` library use aviation units already (``altitude``
in ft, ``groundspeed`` in kt, ``vertical_rate`` in ft/min, ``timestamp``): a file
with a ``groundspeed`` column and no ``velocity`` is read that way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from deconfliction.adapters.tabular import (
    Column,
    float_column,
    load_table,
    text_column,
    time_column,
    validate_rows,
)
from deconfliction.adapters.track_stream import PartyRules, ReadStats, TrackBatch
from deconfliction.errors import InputError, Problem
from deconfliction.units import M_PER_FT, MPS_PER_FPM, MPS_PER_KT

SOURCE_NAME: str = "opensky"

TIME_COLUMNS: tuple[str, ...] = (
    "time_position",
    "lastposupdate",
    "time",
    "timestamp",
    "last_contact",
    "lastcontact",
)
LAT_COLUMNS: tuple[str, ...] = ("latitude", "lat")
LON_COLUMNS: tuple[str, ...] = ("longitude", "lon")
BARO_ALT_M_COLUMNS: tuple[str, ...] = ("baro_altitude", "baroaltitude")
GEO_ALT_M_COLUMNS: tuple[str, ...] = ("geo_altitude", "geoaltitude")
TRACK_COLUMNS: tuple[str, ...] = ("true_track", "heading", "track")
VRATE_COLUMNS: tuple[str, ...] = ("vertical_rate", "vertrate")
TEXT_COLUMNS: tuple[str, ...] = ("icao24", "callsign", "squawk")
OPENSKY_MARKERS: frozenset[str] = frozenset(
    {
        "icao24",
        "time_position",
        "lastposupdate",
        "baro_altitude",
        "baroaltitude",
        "velocity",
        "true_track",
        "vertrate",
    }
)


def looks_like_opensky(column_names: Sequence[str]) -> bool:
    """True for a header with ``icao24`` and another OpenSky or traffic column.

    >>> looks_like_opensky(["time", "icao24", "lat", "lon", "velocity"])
    True
    >>> looks_like_opensky(["id", "time", "lat", "lon"])
    False
    """
    names = {c.strip().lower() for c in column_names}
    return ("icao24" in names and len(names & OPENSKY_MARKERS) >= 2) or (
        "icao24" in names and "groundspeed" in names
    )


def _first(have: set[str], names: Sequence[str]) -> str | None:
    return next((n for n in names if n in have), None)


def read_opensky(
    path: str | os.PathLike[str], rules: PartyRules | None = None
) -> tuple[TrackBatch, ReadStats]:
    """Read OpenSky state vectors or tracks (CSV or Parquet, by content).

    Raises:
        InputError: for an unreadable file or one without an ``icao24``, a time or
            a position column.
        FileNotFoundError: if the file does not exist.
    """
    source = str(path)
    stats = ReadStats(source=source)
    loaded = load_table(path, stats, string_columns=TEXT_COLUMNS)
    table = loaded.table
    lower = {c.lower(): c for c in table.column_names}
    have = set(lower)
    time_name, lat_name, lon_name = _position_columns(have, table.column_names, source)
    n = table.num_rows
    stats.read += n

    def col(name: str | None) -> Any:
        return table.column(lower[name]) if name is not None else None

    ids = text_column(col("icao24"), n, upper=True)
    lat = float_column(col(lat_name))
    lon = float_column(col(lon_name))
    # A row without a position is a state vector of an aircraft heard but not
    # located: normal, not an error.
    no_position = lat.missing | lon.missing
    t = time_column(col(time_name))
    t = _with_fallback_time(t, time_name, col, have)

    alt_name, gs_name, vs_name, alt, gs, vs = _vertical_and_speed(col, have)
    trk_name = _first(have, TRACK_COLUMNS)
    trk = _convert(col(trk_name), 1.0)

    stats.ignore("no position", int(no_position.sum()))
    positioned = ~no_position
    columns = {"time": t, "lat": lat, "lon": lon}
    names = {
        key: lower[name]
        for key, name in (
            ("time", time_name),
            ("lat", lat_name),
            ("lon", lon_name),
            ("alt_ft", alt_name),
            ("gs_kt", gs_name),
            ("trk_deg", trk_name),
            ("vs_fpm", vs_name),
        )
        if name is not None
    }
    for key, column in (
        ("alt_ft", alt),
        ("gs_kt", gs),
        ("trk_deg", trk),
        ("vs_fpm", vs),
    ):
        if column is not None:
            columns[key] = column
    subset = {k: _take(c, positioned) for k, c in columns.items()}
    sub_ids = ids[positioned]
    index = np.flatnonzero(positioned)

    keep_sub = validate_rows(
        stats,
        lambda row: loaded.line_of(int(index[row])),
        subset,
        ("time", "lat", "lon"),
        sub_ids,
        names,
    )
    keep = np.zeros(n, dtype=np.bool_)
    keep[index[keep_sub]] = True

    nan = np.full(n, np.nan)
    batch = TrackBatch.from_columns(
        ids=ids,
        t_s=t.values,
        lat_deg=lat.values,
        lon_deg=lon.values,
        alt_ft=alt.values if alt is not None else nan,
        gs_kt=gs.values if gs is not None else nan,
        trk_deg=np.mod(trk.values, 360.0) if trk is not None else nan,
        vs_fpm=vs.values if vs is not None else nan,
        callsign=text_column(col("callsign" if "callsign" in have else None), n),
        icao24=ids,
        squawk=text_column(col("squawk" if "squawk" in have else None), n),
        source=np.full(n, SOURCE_NAME),
    ).take(keep)
    batch = _without_repeats(batch, stats)
    stats.accepted += len(batch)
    stats.positions += len(batch)
    if rules is not None:
        batch = rules.apply_batch(batch)
    return batch, stats


def _position_columns(
    have: set[str], column_names: list[str], source: str
) -> tuple[str, str, str]:
    """The (lower-case) names of the time, latitude and longitude columns.

    Raises:
        InputError: when one of them, or ``icao24``, is missing: not OpenSky data.
    """
    time_name = _first(have, TIME_COLUMNS)
    lat_name = _first(have, LAT_COLUMNS)
    lon_name = _first(have, LON_COLUMNS)
    missing = [
        what
        for what, name in (
            ("icao24", "icao24" if "icao24" in have else None),
            ("a time (time_position, time, timestamp...)", time_name),
            ("latitude", lat_name),
            ("longitude", lon_name),
        )
        if name is None
    ]
    if missing:
        raise InputError(
            [
                Problem(
                    source,
                    1,
                    "",
                    f"not OpenSky data: no {', '.join(missing)} column "
                    f"(columns: {', '.join(column_names[:20])})",
                )
            ]
        )
    assert time_name is not None and lat_name is not None and lon_name is not None
    return time_name, lat_name, lon_name


def _with_fallback_time(
    t: Column, time_name: str, col: Callable[[str | None], Any], have: set[str]
) -> Column:
    """Before the first position, ``time_position`` is null: the vector's own time
    stands in, so that the row is judged on its position instead."""
    if time_name in ("time_position", "lastposupdate"):
        fallback = _first(have, ("time", "timestamp", "last_contact", "lastcontact"))
        if fallback is not None:
            t2 = time_column(col(fallback))
            use = t.missing & ~t2.missing
            t = Column(
                np.where(use, t2.values, t.values),
                t.missing & t2.missing,
                t.bad | (use & t2.bad),
            )
    return t


def _vertical_and_speed(
    col: Callable[[str | None], Any], have: set[str]
) -> tuple[
    str | None,
    str | None,
    str | None,
    Column | None,
    Column | None,
    Column | None,
]:
    """(altitude, ground speed, vertical rate) column names and values in ft, kt and
    ft/min: OpenSky's SI columns (m, m/s), or the aviation units of ``traffic``'s
    tables (``groundspeed`` without ``velocity``)."""
    aviation_units = "groundspeed" in have and "velocity" not in have
    if aviation_units:
        alt_name = _first(have, ("altitude", "baro_altitude"))
        gs_name: str | None = "groundspeed"
        vs_name = "vertical_rate" if "vertical_rate" in have else None
        alt = _convert(col(alt_name), 1.0)
        gs = _convert(col(gs_name), 1.0)
        vs = _convert(col(vs_name), 1.0)
    else:
        alt_name = _first(have, BARO_ALT_M_COLUMNS) or _first(have, GEO_ALT_M_COLUMNS)
        gs_name = "velocity" if "velocity" in have else None
        vs_name = _first(have, VRATE_COLUMNS)
        alt = _convert(col(_first(have, BARO_ALT_M_COLUMNS)), 1.0 / M_PER_FT)
        geo = _convert(col(_first(have, GEO_ALT_M_COLUMNS)), 1.0 / M_PER_FT)
        if alt is None:
            alt = geo
        elif geo is not None:
            use = alt.missing & ~geo.missing
            alt = Column(
                np.where(use, geo.values, alt.values),
                alt.missing & geo.missing,
                alt.bad | (use & geo.bad),
            )
        gs = _convert(col(gs_name), 1.0 / MPS_PER_KT)
        vs = _convert(col(vs_name), 1.0 / MPS_PER_FPM)
    return alt_name, gs_name, vs_name, alt, gs, vs


def _without_repeats(batch: TrackBatch, stats: ReadStats) -> TrackBatch:
    """State vectors repeat the last position until a new one comes: keep one."""
    if len(batch):
        order = np.lexsort((batch.t_s, batch.ids))
        ids_s, t_s_s = batch.ids[order], batch.t_s[order]
        repeat = np.zeros(len(batch), dtype=np.bool_)
        repeat[1:] = (ids_s[1:] == ids_s[:-1]) & (t_s_s[1:] == t_s_s[:-1])
        unique = np.ones(len(batch), dtype=np.bool_)
        unique[order[repeat]] = False
        stats.ignore("repeated position", int(repeat.sum()))
        batch = batch.take(unique)
    return batch


def _convert(array: Any, factor: float) -> Column | None:
    if array is None:
        return None
    column = float_column(array)
    # A value so large that the unit conversion overflows is as bad as any other
    # impossible value: count it, do not warn.
    with np.errstate(over="ignore", invalid="ignore"):
        values = column.values * factor
    overflow = ~np.isfinite(values) & ~column.missing
    return Column(values, column.missing, column.bad | overflow)


def _take(column: Column, mask: Any) -> Column:
    return Column(column.values[mask], column.missing[mask], column.bad[mask])
