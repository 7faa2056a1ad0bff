"""The radars of an ASTERIX feed, by SAC/SIC: what CAT048's polar positions are
measured from. Read from a TOML file of ``[[radar]]`` tables (docs/interop.md)."""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deconfliction.errors import InputError, Problem

__all__ = ["RadarSite", "RadarSites"]


@dataclass(frozen=True, slots=True)
class RadarSite:
    """Where a radar is: what CAT048's polar positions are measured from.

    Attributes:
        sac: System Area Code.
        sic: System Identification Code.
        lat_deg: WGS-84 latitude of the antenna.
        lon_deg: WGS-84 longitude of the antenna.
        height_ft: the antenna's height above mean sea level.
        name: for people.
    """

    sac: int
    sic: int
    lat_deg: float
    lon_deg: float
    height_ft: float = 0.0
    name: str = ""


@dataclass(frozen=True, slots=True)
class RadarSites:
    """The feed's radars, by (SAC, SIC). A TOML file of ``[[radar]]`` tables::

    [[radar]]
    sac = 25
    sic = 10
    lat = 35.41
    lon = 35.95
    height_ft = 150      # optional
    name = "Latakia"     # optional
    """

    sites: Mapping[tuple[int, int], RadarSite] = field(default_factory=dict)

    def get(self, sac: int, sic: int) -> RadarSite | None:
        """The site of a radar, if configured."""
        return self.sites.get((sac, sic))

    @classmethod
    def of(cls, *sites: RadarSite) -> RadarSites:
        """Sites from values."""
        return cls({(s.sac, s.sic): s for s in sites})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RadarSites:
        """Read a radar-sites file.

        Raises:
            InputError: naming the file, table and field of every problem.
            FileNotFoundError: if the file does not exist.
        """
        source = str(path)
        text = Path(path).read_text("utf-8", errors="replace")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError([Problem(source, None, "", f"not TOML: {exc}")]) from None
        return cls.from_mapping(data, source)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "") -> RadarSites:
        """Sites from a parsed TOML document (see the class).

        Raises:
            InputError: for unknown keys, missing or bad values, duplicates.
        """
        problems: list[Problem] = []
        unknown = sorted(set(data) - {"radar"})
        for key in unknown:
            problems.append(
                Problem(source, None, key, "unknown key (expected [[radar]])")
            )
        tables = data.get("radar", [])
        if not isinstance(tables, list):
            tables = []
            problems.append(Problem(source, None, "radar", "must be [[radar]] tables"))
        sites: dict[tuple[int, int], RadarSite] = {}
        for k, raw in enumerate(tables):
            where = f"radar[{k}]"
            if not isinstance(raw, dict):
                problems.append(Problem(source, None, where, "must be a table"))
                continue
            extra = sorted(set(raw) - {"sac", "sic", "lat", "lon", "height_ft", "name"})
            for key in extra:
                problems.append(Problem(source, None, f"{where}.{key}", "unknown key"))
            values: dict[str, float] = {}
            for key, low, high, required in (
                ("sac", 0, 255, True),
                ("sic", 0, 255, True),
                ("lat", -90.0, 90.0, True),
                ("lon", -180.0, 180.0, True),
                ("height_ft", -2000.0, 30000.0, False),
            ):
                value = raw.get(key)
                if value is None:
                    if required:
                        problems.append(
                            Problem(source, None, f"{where}.{key}", "missing")
                        )
                    continue
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if ok and key in ("sac", "sic"):
                    ok = isinstance(value, int)
                if not ok or not math.isfinite(value) or not low <= value <= high:
                    problems.append(
                        Problem(
                            source,
                            None,
                            f"{where}.{key}",
                            f"{value!r} is not a number in [{low}, {high}]",
                        )
                    )
                    continue
                values[key] = value
            name = raw.get("name", "")
            if not isinstance(name, str):
                problems.append(Problem(source, None, f"{where}.name", "must be text"))
                name = ""
            if {"sac", "sic", "lat", "lon"} <= set(values):
                sac, sic = int(values["sac"]), int(values["sic"])
                if (sac, sic) in sites:
                    problems.append(
                        Problem(
                            source, None, where, f"SAC {sac} SIC {sic} is given twice"
                        )
                    )
                sites[(sac, sic)] = RadarSite(
                    sac,
                    sic,
                    float(values["lat"]),
                    float(values["lon"]),
                    float(values.get("height_ft", 0.0)),
                    name,
                )
        if problems:
            raise InputError(problems)
        return cls(sites)
