"""The validating reader of protocol files: TOML's words, and the shapes they use.

:class:`ProtocolReader` is the shared
:class:`~deconfliction.adapters.located_reader.LocatedReader` speaking TOML (a
table, an array, a float), with what a protocol adds: arrays of tables, RFC 3339
times, ids usable as bare TOML keys, and ``[lat_deg, lon_deg]`` pairs.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from typing import Any

from deconfliction.adapters.located_reader import (
    TOML_WORDS,
    LocatedReader,
    Locator,
)
from deconfliction.adapters.located_reader import Path as _Path
from deconfliction.adapters.located_reader import describe as _describe
from deconfliction.adapters.located_reader import format_path as _format_path
from deconfliction.timetext import parse_time_s

__all__ = ["Coords", "ProtocolReader"]

Coords = tuple[tuple[float, ...], tuple[float, ...]]
"""Latitudes and longitudes in degrees, in two tuples of the same length."""

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # a bare TOML key: usable unquoted


class ProtocolReader(LocatedReader):
    """The shared reader with TOML's words, and the shapes protocol files use.

    Every getter returns None when the value is absent or wrong; absence of a
    required key is reported once, by :meth:`table`.
    """

    def __init__(self, source: str, locator: Locator) -> None:
        super().__init__(source, locator, TOML_WORDS)

    def table(
        self,
        value: Any,
        path: _Path,
        *,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        what: str = "key",
    ) -> dict[str, Any] | None:
        """A table (None when absent) with these keys."""
        if value is None:
            return None
        return super().table(
            value, path, required=required, optional=optional, what=what
        )

    def array_of_tables(self, value: Any, path: _Path) -> list[tuple[_Path, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            header = _format_path(path)
            self.report(
                path,
                f"expected an array of tables ([[{header}]]), got {_describe(value)}",
            )
            return []
        return [((*path, index), item) for index, item in enumerate(value)]

    def time_s(self, table: dict[str, Any], path: _Path, key: str) -> float | None:
        """An RFC 3339 time with its zone (TOML date-time or string) as epoch
        seconds; None (reported) when it is not one."""
        value = table[key]
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                self.report((*path, key), "the time needs its zone (e.g. Z)")
                return None
            return value.timestamp()
        if isinstance(value, str):
            try:
                return parse_time_s(value)
            except ValueError as exc:
                self.report((*path, key), str(exc))
                return None
        self.report((*path, key), f"expected an RFC 3339 time, got {_describe(value)}")
        return None

    def ident(self, table: dict[str, Any], path: _Path, key: str) -> str | None:
        value = self.string(table, path, key)
        if value is not None and not _ID_RE.fullmatch(value):
            self.report(
                (*path, key),
                f"{json.dumps(value, ensure_ascii=False)} is not a valid id: use "
                "letters, digits, '-' and '_', starting with a letter or digit",
            )
            return None
        return value

    def lat_lon(self, value: Any, path: _Path) -> tuple[float, float] | None:
        if not isinstance(value, list) or len(value) != 2:
            self.report(
                path, f"expected a [lat_deg, lon_deg] pair, got {_describe(value)}"
            )
            return None
        lat = self.number_value(value[0], (*path, 0))
        lon = self.number_value(value[1], (*path, 1))
        if lat is not None and not -90.0 <= lat <= 90.0:
            self.report((*path, 0), f"latitude {lat:g} deg is outside [-90, 90]")
            lat = None
        if lon is not None and not -180.0 <= lon <= 180.0:
            self.report((*path, 1), f"longitude {lon:g} deg is outside [-180, 180]")
            lon = None
        return None if lat is None or lon is None else (lat, lon)

    def lat_lon_list(self, value: Any, path: _Path) -> Coords | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.report(
                path,
                "expected an array of [lat_deg, lon_deg] pairs, "
                f"got {_describe(value)}",
            )
            return None
        pairs = [self.lat_lon(item, (*path, index)) for index, item in enumerate(value)]
        good = [pair for pair in pairs if pair is not None]
        if len(good) != len(pairs):
            return None
        return tuple(p[0] for p in good), tuple(p[1] for p in good)
