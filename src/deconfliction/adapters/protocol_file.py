"""Protocol files: a versioned TOML agreement in, a validated :class:`Protocol` out.

The format is documented in ``docs/protocol.md``. Validation reports every problem
at once, each as a :class:`~deconfliction.errors.Problem` with the 1-based line of
the offending key in the file and its field path (``lines[0].sides.russia``), so
whoever edits an agreement fixes it in one pass instead of one error per run.

:mod:`tomllib` keeps no positions, so
:class:`~deconfliction.adapters.toml_locator.TomlLocator` scans the text once for
table headers, keys and array elements and maps a field path to the line where it
is written; a key that is absent maps to the header of the table that lacks it.
Values are checked by the reader shared with operation files
(:mod:`~deconfliction.adapters.located_reader`).

Assumptions:

* Compass sides of a line (``east``) are resolved to left or right of the point
  order from the line's overall direction, first point to last, in a
  :class:`~deconfliction.domain.geodesy.LocalProjection` around the line's points.
  A compass direction within :data:`COMPASS_SIDE_MIN_ANGLE_DEG` of that direction
  names no side and is refused.
* Polygons are checked for validity in a local projection around their vertices,
  never in degrees.
* Circles become polygons of :data:`CIRCLE_VERTICES` vertices lying on the circle
  (geodesic destinations from the centre).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import math
import os
import pathlib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

import numpy as np
import shapely

from deconfliction.adapters.input_files import read_text
from deconfliction.adapters.located_reader import (
    TOML_WORDS,
    LocatedReader,
    Locator,
)
from deconfliction.adapters.located_reader import Path as _Path
from deconfliction.adapters.located_reader import describe as _describe
from deconfliction.adapters.located_reader import did_you_mean as _did_you_mean
from deconfliction.adapters.located_reader import format_path as _format_path
from deconfliction.adapters.located_reader import unknown as _unknown
from deconfliction.adapters.toml_locator import TomlLocator as _Locator
from deconfliction.domain.alerting import default_alert_levels
from deconfliction.domain.geodesy import LocalProjection, destination
from deconfliction.domain.model import (
    AlertBand,
    AlertLevel,
    AlertLevelSpec,
    SeparationMinima,
)
from deconfliction.domain.operation_kinds import OPERATION_KINDS
from deconfliction.domain.protocol import (
    MAX_LINE_REACH_NM,
    NOTICE_DETAILS,
    ConformanceRules,
    DeconflictionLine,
    HotlineRules,
    LineSide,
    NodeAddress,
    NotamRules,
    Party,
    PlanningRules,
    Protocol,
    SharingLevel,
    TerminationRules,
    Zone,
)
from deconfliction.errors import Problem, ProtocolError
from deconfliction.timetext import parse_time_s, rfc3339

__all__ = [
    "CIRCLE_VERTICES",
    "COMPASS_SIDE_MIN_ANGLE_DEG",
    "LANGUAGES",
    "MAX_CIRCLE_RADIUS_NM",
    "PRIORITIES",
    "builtin_protocol_names",
    "builtin_protocol_path",
    "load_protocol",
    "parse_protocol",
    "resolve_protocol",
]

CIRCLE_VERTICES: int = 72
"""Vertices of the polygon a circle zone becomes: one every 5 deg, so the chords
cut inside the circle by under 0.1 % of the radius (0.03 NM at 30 NM)."""

COMPASS_SIDE_MIN_ANGLE_DEG: float = 30.0
"""A compass side must point at least this far from the line's own direction: closer
to it, "east" of a line that runs east names its end, not one of its sides."""

MAX_CIRCLE_RADIUS_NM: float = 1000.0
"""Largest circle zone: zones belong to one theatre, and beyond this a projection
centred on the theatre distorts distances at the zone's edge by over 1 %."""

LANGUAGES: tuple[str, ...] = ("en", "ru", "ar")
"""Languages duty officers read; the hotline has message templates for these."""

PRIORITIES: tuple[str, ...] = ("routine", "urgent", "flash")
"""Hotline message priorities, least urgent first."""

_SIDES: tuple[str, ...] = ("left", "right", "east", "west", "north", "south")
_COMPASS_BEARING_DEG: dict[str, float] = {
    "north": 0.0,
    "east": 90.0,
    "south": 180.0,
    "west": 270.0,
}
_MIN_LINE_LENGTH_M: float = 1.0  # first and last points closer than this: no direction
_SELF_INTERSECTION_TOL_M: float = 1.0  # an edge this close to the reported point has it
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # a bare TOML key: usable unquoted
FINGERPRINT_RE = re.compile(r"sha256:[0-9a-f]{64}")  # of a node's TLS certificate
_NODE_URL_RE = re.compile(
    r"https://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})/?"
)
_HHMM_RE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_TOML_POSITION_RE = re.compile(
    r"\s*\((at line (\d+), column (\d+)|at end of document)\)$"
)
_SHAPELY_POINT_RE = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\]")

_Coords = tuple[tuple[float, ...], tuple[float, ...]]


# ----------------------------------------------------------------------------- API


def load_protocol(path: str | os.PathLike[str]) -> Protocol:
    """Read and validate a protocol file (UTF-8 TOML).

    Args:
        path: the file to read.

    Returns:
        The validated protocol.

    Raises:
        ProtocolError: the file is empty, binary, not UTF-8, not TOML, or does not
            validate; every problem found is listed, each with its line and field.
        OSError: the file cannot be read (``FileNotFoundError`` and the like).
    """
    return parse_protocol(read_text(path, ProtocolError), os.fspath(path))


def parse_protocol(text: str, source: str = "<protocol>") -> Protocol:
    """Validate the text of a protocol file.

    Args:
        text: the TOML text.
        source: the name to report problems under (usually the file's path).

    Returns:
        The validated protocol.

    Raises:
        ProtocolError: the text is not TOML or does not validate; every problem
            found is listed, each with its line and field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError([_syntax_problem(exc, text, source)]) from None
    except RecursionError:
        raise ProtocolError([_too_deep(source)]) from None
    try:
        return _Builder(_Reader(source, _Locator(text))).build(data)
    except RecursionError:
        raise ProtocolError([_too_deep(source)]) from None


def _too_deep(source: str) -> Problem:
    """Arrays or tables nested deeper than Python's parser goes (no protocol
    nests more than a few levels)."""
    return Problem(source, None, "", "TOML nested too deep")


def builtin_protocol_names() -> tuple[str, ...]:
    """Names of the protocols shipped with the package, sorted.

    >>> builtin_protocol_names()
    ('euphrates-2017', 'syria-2015')
    """
    return tuple(
        sorted(
            entry.name.removesuffix(".toml")
            for entry in _builtin_dir().iterdir()
            if entry.name.endswith(".toml")
        )
    )


def builtin_protocol_path(name: str) -> pathlib.Path:
    """The file of a protocol shipped with the package.

    Args:
        name: its name, for example ``"euphrates-2017"``.

    Returns:
        The path of its TOML file.

    Raises:
        ProtocolError: no shipped protocol has that name; the message lists the
            known ones.
    """
    names = builtin_protocol_names()
    if name not in names:
        raise ProtocolError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"not a built-in protocol{_did_you_mean(name, names)}; "
                    f"built-in protocols: {', '.join(names)}",
                )
            ]
        )
    return pathlib.Path(str(_builtin_dir().joinpath(f"{name}.toml")))


def resolve_protocol(arg: str) -> Protocol:
    """Load a protocol named on a command line: a file if it exists, else a built-in.

    Args:
        arg: a path (``protocols/euphrates-2017.toml``) or a built-in name
            (``euphrates-2017``).

    Returns:
        The validated protocol.

    Raises:
        ProtocolError: the file does not validate, or ``arg`` is neither an
            existing file nor a built-in name.
        OSError: the path exists but cannot be read (a directory, no permission).
    """
    if pathlib.Path(arg).exists():
        return load_protocol(arg)
    names = builtin_protocol_names()
    if arg in names:
        return load_protocol(builtin_protocol_path(arg))
    raise ProtocolError(
        [
            Problem(
                arg,
                None,
                "",
                f"no such file, and not a built-in protocol{_did_you_mean(arg, names)}"
                f"; built-in protocols: {', '.join(names)}",
            )
        ]
    )


def _builtin_dir() -> Traversable:
    return resources.files("deconfliction.data").joinpath("protocols")


def _syntax_problem(exc: tomllib.TOMLDecodeError, text: str, source: str) -> Problem:
    message = str(exc)
    match = _TOML_POSITION_RE.search(message)
    line: int | None = None
    if match is not None:
        message = message[: match.start()]
        if match.group(2) is not None:
            line = int(match.group(2))
            message += f" (column {match.group(3)})"
        else:
            line = text.count("\n") + (0 if text.endswith("\n") else 1)
            message += " (at end of file)"
    return Problem(source, line, "", f"TOML syntax error: {message}")


# -------------------------------------------------------------------------- reader


class _Reader(LocatedReader):
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

    def lat_lon_list(self, value: Any, path: _Path) -> _Coords | None:
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


# ------------------------------------------------------------------------- builder


@dataclass(frozen=True, slots=True)
class _Head:
    id: str
    version: int
    title: str
    sharing: SharingLevel
    lookahead_s: float
    detection_interval_s: float
    stale_after_s: float


class _Builder:
    """Checks each section of a parsed file and assembles the :class:`Protocol`."""

    def __init__(self, reader: _Reader) -> None:
        self.r = reader

    def build(self, root: dict[str, Any]) -> Protocol:
        self.r.keys(
            root,
            (),
            required=("protocol", "parties", "separation"),
            optional=(
                "alerts",
                "lines",
                "zones",
                "hotline",
                "conformance",
                "planning",
                "termination",
                "notam",
                # Blind detection's settings: checked by `deconfliction blind`.
                "blind",
                "peers",
                "nodes",
            ),
            what="top-level key",
        )
        head = self._head(root.get("protocol"))
        parties, party_ids = self._parties(root.get("parties"))
        minima = self._separation(root.get("separation"))
        alert_levels = self._alerts(root.get("alerts"))
        lines, line_ids = self._lines(root.get("lines"), party_ids)
        zones = self._zones(root.get("zones"), party_ids, line_ids)
        hotline = self._hotline(root.get("hotline"))
        conformance = self._conformance(root.get("conformance"))
        planning = self._planning(root.get("planning"))
        termination = self._termination(root.get("termination"))
        notam = self._notam(root.get("notam"))
        nodes = self._nodes(root.get("nodes"), party_ids)
        if self.r.problems or head is None or minima is None:
            problems = sorted(
                self.r.problems, key=lambda p: (p.line is None, p.line or 0)
            )
            raise ProtocolError(problems)
        return Protocol(
            id=head.id,
            version=head.version,
            title=head.title,
            sharing=head.sharing,
            parties=parties,
            minima=minima,
            lookahead_s=head.lookahead_s,
            alert_levels=alert_levels,
            lines=lines,
            zones=zones,
            hotline=hotline,
            conformance=conformance,
            planning=planning,
            termination=termination,
            notam=notam,
            detection_interval_s=head.detection_interval_s,
            stale_after_s=head.stale_after_s,
            nodes=nodes,
        )

    # [nodes.P] -------------------------------------------------------------------

    def _nodes(self, value: Any, party_ids: set[str] | None) -> dict[str, NodeAddress]:
        """Each party's node: every party needs one when any is named."""
        path: _Path = ("nodes",)
        # Keys are party ids, checked below against the parties.
        keys = tuple(value) if isinstance(value, dict) else ()
        table = self.r.table(value, path, optional=keys, what="node")
        if not table:
            if table is not None:
                self.r.report(
                    path, "name the node of every party, or leave [nodes] out"
                )
            return {}
        nodes: dict[str, NodeAddress] = {}
        urls: dict[str, str] = {}
        prints: dict[str, str] = {}
        for party, item in table.items():
            item_path = (*path, party)
            if not self._check_party(party, item_path, party_ids):
                continue
            node = self.r.table(item, item_path, required=("url", "fingerprint"))
            if node is None:
                continue
            url = self.r.string(node, item_path, "url")
            fingerprint = self.r.string(node, item_path, "fingerprint")
            if url is not None:
                match = _NODE_URL_RE.fullmatch(url)
                if match is None or not 1 <= int(match["port"]) <= 65535:
                    self.r.report(
                        (*item_path, "url"),
                        f"{json.dumps(url)} is not https://HOST:PORT",
                    )
                    url = None
                elif url.rstrip("/") in urls:
                    self.r.report(
                        (*item_path, "url"),
                        f"the same as the node of {urls[url.rstrip('/')]!r}",
                    )
                    url = None
                else:
                    url = url.rstrip("/")
                    urls[url] = party
            if fingerprint is not None:
                if not FINGERPRINT_RE.fullmatch(fingerprint):
                    self.r.report(
                        (*item_path, "fingerprint"),
                        f"{json.dumps(fingerprint)} is not sha256: and 64 lower-case "
                        "hex digits (deconfliction node init prints it)",
                    )
                    fingerprint = None
                elif fingerprint in prints:
                    self.r.report(
                        (*item_path, "fingerprint"),
                        f"the same as the node of {prints[fingerprint]!r}",
                    )
                    fingerprint = None
                else:
                    prints[fingerprint] = party
            if url is not None and fingerprint is not None:
                nodes[party] = NodeAddress(party, url, fingerprint)
        if party_ids is not None:
            for party in sorted(party_ids - set(table)):
                self.r.report(path, f"party {party!r} has no node: name one per party")
        return nodes

    # [protocol] ------------------------------------------------------------------

    def _head(self, value: Any) -> _Head | None:
        path: _Path = ("protocol",)
        table = self.r.table(
            value,
            path,
            required=("id", "version", "title", "sharing", "lookahead_s"),
            optional=("detection_interval_s", "stale_after_s"),
        )
        if table is None:
            return None
        protocol_id = self.r.ident(table, path, "id")
        version = self._version(table, path)
        title = self.r.string(table, path, "title")
        sharing = self.r.choice(
            table,
            path,
            "sharing",
            [level.value for level in SharingLevel],
            "sharing level",
        )
        lookahead_s = self.r.number(table, path, "lookahead_s", above=0.0)
        options: dict[str, float] = {}
        for key in ("detection_interval_s", "stale_after_s"):
            number = self.r.number(table, path, key, above=0.0)
            options[key] = _domain_default(key) if number is None else number
        if (
            protocol_id is None
            or version is None
            or title is None
            or sharing is None
            or lookahead_s is None
        ):
            return None
        return _Head(
            id=protocol_id,
            version=version,
            title=title,
            sharing=SharingLevel(sharing),
            lookahead_s=lookahead_s,
            detection_interval_s=options["detection_interval_s"],
            stale_after_s=options["stale_after_s"],
        )

    def _version(self, table: dict[str, Any], path: _Path) -> int | None:
        if "version" not in table:
            return None
        value = table["version"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.r.report(
                (*path, "version"),
                f"must be a positive integer, got {_describe(value)}",
            )
            return None
        return value

    # [[parties]] -----------------------------------------------------------------

    def _parties(self, value: Any) -> tuple[dict[str, Party], set[str] | None]:
        """The valid parties, and every id named (None: references go unchecked)."""
        path: _Path = ("parties",)
        items = self.r.array_of_tables(value, path)
        parties: dict[str, Party] = {}
        first_index: dict[str, int] = {}
        named: set[str] = set()
        complete = isinstance(value, list)  # every party has an id that is a string
        for item_path, item in items:
            table = self.r.table(item, item_path, required=("id", "name", "language"))
            if table is None:
                complete = False
                continue
            party_id = self.r.ident(table, item_path, "id")
            name = self.r.string(table, item_path, "name")
            language = self.r.choice(
                table, item_path, "language", LANGUAGES, "language"
            )
            if party_id is None:
                if isinstance(table.get("id"), str):
                    named.add(table["id"])  # no "unknown party" on top of a bad id
                else:  # missing or not a string
                    complete = False
                continue
            if party_id in first_index:
                self.r.report(
                    (*item_path, "id"),
                    f"duplicate party id '{party_id}' "
                    f"(also parties[{first_index[party_id]}])",
                )
                continue
            first_index[party_id] = int(item_path[-1])
            if name is not None and language is not None:
                parties[party_id] = Party(party_id, name, language)
        if isinstance(value, list) and len(value) < 2:
            self.r.report(
                path, f"a protocol needs at least two parties, got {len(value)}"
            )
        # References to a party without a readable id cannot be checked.
        return parties, (named | set(first_index) if complete else None)

    def _check_party(self, party: str, path: _Path, party_ids: set[str] | None) -> bool:
        if party_ids is None or party in party_ids:
            return True
        self.r.report(path, _unknown("party", party, sorted(party_ids)))
        return False

    # [separation] ----------------------------------------------------------------

    def _separation(self, value: Any) -> SeparationMinima | None:
        path: _Path = ("separation",)
        table = self.r.table(value, path, required=("horizontal_nm", "vertical_ft"))
        if table is None:
            return None
        horizontal_nm = self.r.number(table, path, "horizontal_nm", above=0.0)
        vertical_ft = self.r.number(table, path, "vertical_ft", above=0.0)
        if horizontal_nm is None or vertical_ft is None:
            return None
        return SeparationMinima(horizontal_nm=horizontal_nm, vertical_ft=vertical_ft)

    # [alerts] --------------------------------------------------------------------

    def _alerts(self, value: Any) -> tuple[AlertLevelSpec, ...]:
        defaults = {spec.level: spec for spec in default_alert_levels()}
        path: _Path = ("alerts",)
        levels = (AlertLevel.ADVISORY, AlertLevel.WARNING)
        table = self.r.table(value, path, optional=[level.label for level in levels])
        if table is None:
            return tuple(defaults.values())
        specs: list[AlertLevelSpec] = []
        for level in levels:
            if level.label not in table:
                specs.append(defaults[level])
                continue
            bands = self._bands(table[level.label], (*path, level.label))
            if bands:  # an empty array switches the level off
                specs.append(AlertLevelSpec(level=level, bands=bands))
        return tuple(specs)

    def _bands(self, value: Any, path: _Path) -> tuple[AlertBand, ...]:
        placed: list[tuple[AlertBand, _Path]] = []
        for item_path, item in self.r.array_of_tables(value, path):
            table = self.r.table(
                item,
                item_path,
                required=("tau_s", "dmod_nm", "zthr_ft"),
                optional=("floor_ft", "ceiling_ft"),
            )
            if table is None:
                continue
            floor_ft = self.r.number(table, item_path, "floor_ft")
            ceiling_ft = self.r.number(table, item_path, "ceiling_ft")
            tau_s = self.r.number(table, item_path, "tau_s", above=0.0)
            dmod_nm = self.r.number(table, item_path, "dmod_nm", above=0.0)
            zthr_ft = self.r.number(table, item_path, "zthr_ft", above=0.0)
            floor = -math.inf if floor_ft is None else floor_ft
            ceiling = math.inf if ceiling_ft is None else ceiling_ft
            if (floor_ft is None and "floor_ft" in table) or (
                ceiling_ft is None and "ceiling_ft" in table
            ):
                continue
            if floor >= ceiling:
                self.r.report(
                    (*item_path, "floor_ft"),
                    f"floor_ft {floor:g} is not below ceiling_ft {ceiling:g}",
                )
                continue
            if tau_s is None or dmod_nm is None or zthr_ft is None:
                continue
            band = AlertBand(
                floor, ceiling, tau_s=tau_s, dmod_nm=dmod_nm, zthr_ft=zthr_ft
            )
            placed.append((band, item_path))
        placed.sort(key=lambda entry: entry[0].floor_ft)
        for (lower, lower_path), (upper, upper_path) in itertools.pairwise(placed):
            if upper.floor_ft < lower.ceiling_ft:
                self.r.report(
                    (*upper_path, "floor_ft"),
                    f"band overlaps {_format_path(lower_path)}: its floor_ft "
                    f"{upper.floor_ft:g} is below that band's ceiling_ft "
                    f"{lower.ceiling_ft:g}",
                )
        return tuple(band for band, _ in placed)

    # [[lines]] -------------------------------------------------------------------

    def _lines(
        self, value: Any, party_ids: set[str] | None
    ) -> tuple[tuple[DeconflictionLine, ...], set[str]]:
        """The valid lines, and the ids of all lines, valid or not."""
        lines: list[DeconflictionLine] = []
        first_index: dict[str, int] = {}
        for item_path, item in self.r.array_of_tables(value, ("lines",)):
            table = self.r.table(
                item,
                item_path,
                required=("id", "points", "buffer_nm", "sides"),
                optional=("name", "reach_nm"),
            )
            if table is None:
                continue
            line_id = self._unique_id(table, item_path, "line", first_index)
            name = (
                self.r.string(table, item_path, "name") if "name" in table else line_id
            )
            points_path = (*item_path, "points")
            coords = self.r.lat_lon_list(table.get("points"), points_path)
            distinct = 0 if coords is None else len(set(zip(*coords, strict=True)))
            if coords is not None and distinct < 2:
                self.r.report(
                    points_path,
                    f"a line needs at least 2 distinct points, got {distinct}",
                )
                coords = None
            buffer_nm = self.r.number(table, item_path, "buffer_nm", above=0.0)
            reach_nm = self._reach(table, item_path, buffer_nm)
            sides = self._sides(
                table.get("sides"), (*item_path, "sides"), coords, party_ids
            )
            if (
                line_id is None
                or name is None
                or coords is None
                or buffer_nm is None
                or reach_nm is False
                or sides is None
            ):
                continue
            resolved, declared = sides
            lines.append(
                DeconflictionLine(
                    id=line_id,
                    name=name,
                    lat_deg=coords[0],
                    lon_deg=coords[1],
                    buffer_nm=buffer_nm,
                    sides=resolved,
                    declared_sides=declared,
                    reach_nm=reach_nm,
                )
            )
        return tuple(lines), set(first_index)

    def _reach(
        self, table: dict[str, Any], path: _Path, buffer_nm: float | None
    ) -> float | Literal[False] | None:
        """The line's ``reach_nm``: None when not given (the default), False when
        wrong (reported): it must be more than the buffer, at most
        ``MAX_LINE_REACH_NM``."""
        if "reach_nm" not in table:
            return None
        reach_nm = self.r.number(table, path, "reach_nm", above=0.0)
        if reach_nm is None:
            return False
        if reach_nm > MAX_LINE_REACH_NM:
            self.r.report(
                (*path, "reach_nm"),
                f"must be at most {MAX_LINE_REACH_NM:g} NM (one theatre), "
                f"got {reach_nm:g}",
            )
            return False
        if buffer_nm is not None and not reach_nm > buffer_nm:
            self.r.report(
                (*path, "reach_nm"),
                f"must be greater than the line's buffer_nm ({buffer_nm:g}), "
                f"got {reach_nm:g}",
            )
            return False
        return reach_nm

    def _sides(
        self,
        value: Any,
        path: _Path,
        coords: _Coords | None,
        party_ids: set[str] | None,
    ) -> tuple[dict[str, LineSide], dict[str, str]] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.r.report(
                path,
                'expected a table of party = side, like { coalition = "east" }, '
                f"got {_describe(value)}",
            )
            return None
        if not value:
            self.r.report(path, "names no party: give the side each party keeps")
            return None
        resolved: dict[str, LineSide] = {}
        declared: dict[str, str] = {}
        valid = True
        bearing_deg: float | None = None
        for party, side in value.items():
            where = (*path, party)
            valid &= self._check_party(party, where, party_ids)
            if not isinstance(side, str):
                self.r.report(
                    where, f"expected a side (a string), got {_describe(side)}"
                )
                valid = False
                continue
            if side not in _SIDES:
                self.r.report(where, _unknown("side", side, _SIDES))
                valid = False
                continue
            declared[party] = side
            if side in ("left", "right"):
                resolved[party] = LineSide(side)
                continue
            if coords is None:  # the points' problems are reported already
                valid = False
                continue
            if bearing_deg is None:
                bearing_deg = _line_bearing_deg(coords)
            resolved_side = self._compass_side(side, bearing_deg, where)
            if resolved_side is None:
                valid = False
            else:
                resolved[party] = resolved_side
        return (resolved, declared) if valid else None

    def _compass_side(
        self, side: str, bearing_deg: float, where: _Path
    ) -> LineSide | None:
        if math.isnan(bearing_deg):
            self.r.report(
                where,
                f"'{side}' names no side: the line's first and last points coincide, "
                "so it has no overall direction; use left or right",
            )
            return None
        # Angle from the line's direction clockwise to the compass direction.
        turn_deg = (_COMPASS_BEARING_DEG[side] - bearing_deg) % 360.0
        off_axis_deg = min(turn_deg % 180.0, 180.0 - turn_deg % 180.0)
        if off_axis_deg <= COMPASS_SIDE_MIN_ANGLE_DEG:
            self.r.report(
                where,
                f"'{side}' points along this line, not to one of its sides: the "
                f"line runs {round(bearing_deg) % 360} deg from north (first point "
                "to last) and a compass side must be more than "
                f"{COMPASS_SIDE_MIN_ANGLE_DEG:g} deg off that; use left or right",
            )
            return None
        return LineSide.LEFT if turn_deg > 180.0 else LineSide.RIGHT

    # [[zones]] -------------------------------------------------------------------

    def _zones(
        self, value: Any, party_ids: set[str] | None, line_ids: set[str]
    ) -> tuple[Zone, ...]:
        zones: list[Zone] = []
        first_index: dict[str, int] = {}
        for item_path, item in self.r.array_of_tables(value, ("zones",)):
            table = self.r.table(
                item,
                item_path,
                required=("id", "owner"),
                optional=(
                    *("name", "floor_ft", "ceiling_ft", "polygon", "circle"),
                    *("active_from", "active_until"),
                ),
            )
            if table is None:
                continue
            zone_id = self._unique_id(table, item_path, "zone", first_index)
            if zone_id is not None and zone_id in line_ids:
                self.r.report(
                    (*item_path, "id"),
                    f"zone id '{zone_id}' is also a line's id; lines and zones share "
                    "one set of ids because violations name them by id",
                )
                zone_id = None
            name = (
                self.r.string(table, item_path, "name") if "name" in table else zone_id
            )
            owner = self.r.ident(table, item_path, "owner")
            if owner is not None and not self._check_party(
                owner, (*item_path, "owner"), party_ids
            ):
                owner = None
            coords = self._zone_outline(table, item_path)
            floor_ft = self.r.number(table, item_path, "floor_ft")
            ceiling_ft = self.r.number(table, item_path, "ceiling_ft")
            floor = -math.inf if floor_ft is None else floor_ft
            ceiling = math.inf if ceiling_ft is None else ceiling_ft
            bounds_ok = not (
                (floor_ft is None and "floor_ft" in table)
                or (ceiling_ft is None and "ceiling_ft" in table)
            )
            if bounds_ok and floor >= ceiling:
                self.r.report(
                    (*item_path, "floor_ft"),
                    f"floor_ft {floor:g} is not below ceiling_ft {ceiling:g}",
                )
                bounds_ok = False
            active = self._zone_times(table, item_path)
            if zone_id is None or name is None or owner is None or coords is None:
                continue
            if bounds_ok and active is not None:
                zones.append(
                    Zone(
                        id=zone_id,
                        name=name,
                        owner=owner,
                        lat_deg=coords[0],
                        lon_deg=coords[1],
                        floor_ft=floor,
                        ceiling_ft=ceiling,
                        active_from_t_s=active[0],
                        active_until_t_s=active[1],
                    )
                )
        return tuple(zones)

    def _zone_times(
        self, table: dict[str, Any], path: _Path
    ) -> tuple[float, float] | None:
        """A zone's ``active_from`` (included) and ``active_until`` (excluded), each
        optional; None (reported) when one is not a time or they are not in order."""
        start = end = None
        if "active_from" in table:
            start = self.r.time_s(table, path, "active_from")
            if start is None:
                return None
        if "active_until" in table:
            end = self.r.time_s(table, path, "active_until")
            if end is None:
                return None
        if start is not None and end is not None and not start < end:
            self.r.report(
                (*path, "active_until"),
                f"active_until {rfc3339(end)} is not after "
                f"active_from {rfc3339(start)}",
            )
            return None
        return (
            -math.inf if start is None else start,
            math.inf if end is None else end,
        )

    def _zone_outline(self, table: dict[str, Any], path: _Path) -> _Coords | None:
        if "polygon" in table and "circle" in table:
            self.r.report((*path, "circle"), "give either polygon or circle, not both")
            return None
        if "circle" in table:
            return self._circle(table["circle"], (*path, "circle"))
        if "polygon" not in table:
            self.r.report(
                (*path, "polygon"), "missing required key 'polygon' (or 'circle')"
            )
            return None
        polygon_path = (*path, "polygon")
        coords = self.r.lat_lon_list(table["polygon"], polygon_path)
        if coords is None:
            return None
        lat_deg, lon_deg = coords
        if len(lat_deg) > 1 and (lat_deg[0], lon_deg[0]) == (lat_deg[-1], lon_deg[-1]):
            lat_deg, lon_deg = (
                lat_deg[:-1],
                lon_deg[:-1],
            )  # a closed ring: drop the repeat
        distinct = len(set(zip(lat_deg, lon_deg, strict=True)))
        if distinct < 3:
            self.r.report(
                polygon_path,
                f"a polygon needs at least 3 distinct vertices, got {distinct}",
            )
            return None
        problem = _polygon_problem(lat_deg, lon_deg, "polygon")
        if problem is not None:
            self.r.report(polygon_path, problem)
            return None
        return lat_deg, lon_deg

    def _circle(self, value: Any, path: _Path) -> _Coords | None:
        table = self.r.table(value, path, required=("center", "radius_nm"))
        if table is None:
            return None
        center = (
            self.r.lat_lon(table["center"], (*path, "center"))
            if "center" in table
            else None
        )
        radius_nm = self.r.number(table, path, "radius_nm", above=0.0)
        if radius_nm is not None and radius_nm > MAX_CIRCLE_RADIUS_NM:
            self.r.report(
                (*path, "radius_nm"),
                f"must be at most {MAX_CIRCLE_RADIUS_NM:g} NM (one theatre), "
                f"got {radius_nm:g}",
            )
            return None
        if center is None or radius_nm is None:
            return None
        azimuth_deg = np.arange(CIRCLE_VERTICES) * (360.0 / CIRCLE_VERTICES)
        lat_deg, lon_deg = destination(
            np.full(CIRCLE_VERTICES, center[0]),
            np.full(CIRCLE_VERTICES, center[1]),
            azimuth_deg,
            np.full(CIRCLE_VERTICES, radius_nm),
        )
        # Counter-clockwise, like the usual exterior ring.
        return tuple(lat_deg[::-1].tolist()), tuple(lon_deg[::-1].tolist())

    def _unique_id(
        self, table: dict[str, Any], path: _Path, noun: str, first_index: dict[str, int]
    ) -> str | None:
        item_id = self.r.ident(table, path, "id")
        if item_id is None:
            return None
        if item_id in first_index:
            self.r.report(
                (*path, "id"),
                f"duplicate {noun} id '{item_id}' "
                f"(also {_format_path((*path[:-1], first_index[item_id]))})",
            )
            return None
        first_index[item_id] = int(path[-1])
        return item_id

    # [hotline], [conformance] ----------------------------------------------------

    def _hotline(self, value: Any) -> HotlineRules:
        default: HotlineRules = _domain_default("hotline")
        path: _Path = ("hotline",)
        table = self.r.table(
            value, path, optional=("ack_deadline_s", "daily_checkin_utc")
        )
        if table is None:
            return default
        deadlines_s = dict(default.ack_deadline_s)
        deadline_path = (*path, "ack_deadline_s")
        given = self.r.table(
            table.get("ack_deadline_s"),
            deadline_path,
            optional=PRIORITIES,
            what="priority",
        )
        if given is not None:
            for priority in PRIORITIES:
                number = self.r.number(given, deadline_path, priority, above=0.0)
                if number is not None:
                    deadlines_s[priority] = number
            # A more urgent message must not be given longer to acknowledge.
            for lower, higher in itertools.pairwise(PRIORITIES):
                if deadlines_s[higher] > deadlines_s[lower]:
                    self.r.report(
                        (*deadline_path, higher),
                        f"the {higher} deadline ({deadlines_s[higher]:g} s) is longer "
                        f"than the {lower} one ({deadlines_s[lower]:g} s)",
                    )
        checkin = self.r.string(table, path, "daily_checkin_utc")
        if checkin is not None and not _HHMM_RE.fullmatch(checkin):
            self.r.report(
                (*path, "daily_checkin_utc"),
                'must be a UTC time written HH:MM, like "06:00", '
                f"got {json.dumps(checkin)}",
            )
            checkin = None
        return HotlineRules(ack_deadline_s=deadlines_s, daily_checkin_utc=checkin)

    def _conformance(self, value: Any) -> ConformanceRules:
        default = ConformanceRules()
        path: _Path = ("conformance",)
        table = self.r.table(value, path, optional=("exit_debounce_s", "max_gap_s"))
        if table is None:
            return default
        exit_debounce_s = self.r.number(table, path, "exit_debounce_s", at_least=0.0)
        max_gap_s = self.r.number(table, path, "max_gap_s", above=0.0)
        return ConformanceRules(
            exit_debounce_s=default.exit_debounce_s
            if exit_debounce_s is None
            else exit_debounce_s,
            max_gap_s=default.max_gap_s if max_gap_s is None else max_gap_s,
        )

    # [planning] ------------------------------------------------------------------

    def _planning(self, value: Any) -> PlanningRules:
        default = PlanningRules()
        path: _Path = ("planning",)
        table = self.r.table(
            value,
            path,
            optional=(
                "min_lead_time_s",
                "notice_priority",
                "accept_on_deadline",
                "allow_conflicted_activation",
                "notice_discloses",
            ),
        )
        if table is None:
            return default
        discloses = table.get("notice_discloses", [])
        if not isinstance(discloses, list) or not all(
            isinstance(d, str) and d in NOTICE_DETAILS for d in discloses
        ):
            self.r.report(
                (*path, "notice_discloses"),
                "must be a list of: " + ", ".join(NOTICE_DETAILS),
            )
            discloses = []
        lead_times = dict(default.min_lead_time_s)
        lead_path = (*path, "min_lead_time_s")
        given = table.get("min_lead_time_s")
        if given is not None:
            if not isinstance(given, dict):
                self.r.report(lead_path, "must be a table of operation kind = seconds")
            else:
                for kind in given:
                    if kind != "default" and kind not in OPERATION_KINDS:
                        self.r.report(
                            (*lead_path, kind),
                            _unknown(
                                "operation kind", kind, ("default", *OPERATION_KINDS)
                            ),
                        )
                        continue
                    number = self.r.number(given, lead_path, kind, at_least=0.0)
                    if number is not None:
                        lead_times[kind] = number
        priority = self.r.string(table, path, "notice_priority")
        if priority is not None and priority not in PRIORITIES:
            self.r.report(
                (*path, "notice_priority"), _unknown("priority", priority, PRIORITIES)
            )
            priority = None
        flags = {}
        for name in ("accept_on_deadline", "allow_conflicted_activation"):
            flag = table.get(name)
            if flag is not None and not isinstance(flag, bool):
                self.r.report((*path, name), "must be true or false")
                flag = None
            flags[name] = flag
        return PlanningRules(
            min_lead_time_s=lead_times,
            notice_priority=priority or default.notice_priority,
            accept_on_deadline=default.accept_on_deadline
            if flags["accept_on_deadline"] is None
            else bool(flags["accept_on_deadline"]),
            allow_conflicted_activation=default.allow_conflicted_activation
            if flags["allow_conflicted_activation"] is None
            else bool(flags["allow_conflicted_activation"]),
            notice_discloses=tuple(dict.fromkeys(discloses)),
        )

    # [termination] ---------------------------------------------------------------

    def _termination(self, value: Any) -> TerminationRules:
        path: _Path = ("termination",)
        table = self.r.table(value, path, optional=("notice_s",))
        if table is None:
            return TerminationRules()
        notice_s = self.r.number(table, path, "notice_s", at_least=0.0)
        if notice_s is not None and notice_s > MAX_NOTICE_S:
            self.r.report(
                (*path, "notice_s"),
                f"must be at most {MAX_NOTICE_S:g} (ten years), got {notice_s:g}",
            )
            notice_s = None
        return TerminationRules(notice_s=notice_s)

    def _notam(self, value: Any) -> NotamRules:
        path: _Path = ("notam",)
        table = self.r.table(
            value,
            path,
            required=("public", "fir"),
            optional=("location", "q_code", "series"),
        )
        if table is None:
            return NotamRules()
        kinds: list[str] = []
        raw = table.get("public")
        if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
            self.r.report((*path, "public"), "must be a list of operation kinds")
        else:
            for kind in raw:
                if kind not in OPERATION_KINDS:
                    self.r.report(
                        (*path, "public"),
                        _unknown("operation kind", kind, OPERATION_KINDS),
                    )
                else:
                    kinds.append(kind)
        fields: dict[str, str] = {}
        for key, pattern, what in (
            ("fir", r"[A-Z]{4}", "four capital letters (an ICAO designator)"),
            ("location", r"[A-Z]{4}( [A-Z]{4})*", "ICAO designators"),
            ("q_code", r"Q[A-Z]{4}", "Q and four capital letters (QRTCA)"),
            ("series", r"[A-Z]", "one capital letter"),
        ):
            text = self.r.string(table, path, key)
            if text is None:
                continue
            if not re.fullmatch(pattern, text):
                self.r.report((*path, key), f"must be {what}, got {json.dumps(text)}")
                continue
            fields[key] = text
        return NotamRules(public_kinds=tuple(kinds), **fields)


MAX_NOTICE_S: float = 10 * 365.25 * 86400.0  # a notice period of at most ten years

# ------------------------------------------------------------------------- helpers


def _line_bearing_deg(coords: _Coords) -> float:
    """Direction from the first point to the last, degrees clockwise from north.

    NaN when the two coincide. Measured in a projection centred on the line, where
    north is up at the centre.
    """
    lat_deg = np.asarray(coords[0], dtype=np.float64)
    lon_deg = np.asarray(coords[1], dtype=np.float64)
    x_m, y_m = LocalProjection.around(lat_deg, lon_deg).to_xy_m(lat_deg, lon_deg)
    dx_m, dy_m = float(x_m[-1] - x_m[0]), float(y_m[-1] - y_m[0])
    if math.hypot(dx_m, dy_m) < _MIN_LINE_LENGTH_M:
        return math.nan
    return math.degrees(math.atan2(dx_m, dy_m)) % 360.0


def _polygon_problem(
    lat_deg: Sequence[float], lon_deg: Sequence[float], name: str
) -> str | None:
    """Why the polygon is not valid (with where), or None when it is."""
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    projection = LocalProjection.around(lat, lon)
    x_m, y_m = projection.to_xy_m(lat, lon)
    polygon = shapely.Polygon(np.column_stack([x_m, y_m]))
    if shapely.is_valid(polygon):
        return None
    reason = shapely.is_valid_reason(polygon)
    match = _SHAPELY_POINT_RE.search(reason)
    if match is None:  # not seen for finite vertices without holes; kept for safety
        return f"{name} is not a valid polygon ({reason})"
    # With finite vertices and no holes, every reason is a kind of self-intersection.
    px_m, py_m = float(match.group(1)), float(match.group(2))
    at_lat, at_lon = projection.to_lat_lon_deg(px_m, py_m)
    where = _format_lat_lon(float(at_lat), float(at_lon))
    edges = _edges_near(x_m, y_m, px_m, py_m)
    edge_text = " and ".join(f"{name}[{a}]-{name}[{b}]" for a, b in edges)
    detail = f" where edges {edge_text} meet" if len(edges) >= 2 else ""
    return (
        f"{name} intersects itself at {where}{detail}; list the vertices in order "
        "around the boundary"
    )


def _edges_near(
    x_m: np.ndarray[Any, Any], y_m: np.ndarray[Any, Any], px_m: float, py_m: float
) -> list[tuple[int, int]]:
    """The edges (as vertex index pairs) that pass within tolerance of a point."""
    n = len(x_m)
    ax, ay = x_m, y_m
    bx, by = np.roll(x_m, -1), np.roll(y_m, -1)
    ex, ey = bx - ax, by - ay
    length2 = ex * ex + ey * ey
    safe2 = np.where(length2 > 0.0, length2, 1.0)  # a repeated vertex: zero-length edge
    t = np.clip(((px_m - ax) * ex + (py_m - ay) * ey) / safe2, 0.0, 1.0)
    dist_m = np.hypot(ax + t * ex - px_m, ay + t * ey - py_m)
    near = np.flatnonzero((dist_m <= _SELF_INTERSECTION_TOL_M) & (length2 > 0.0))
    return [(int(k), int((k + 1) % n)) for k in near]


def _domain_default(field_name: str) -> Any:
    """The default of a :class:`Protocol` field, so it is defined in one place."""
    (field,) = (f for f in dataclasses.fields(Protocol) if f.name == field_name)
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def _format_lat_lon(lat_deg: float, lon_deg: float) -> str:
    """Like ``35.1234 N, 38.5678 E``."""
    ns = "N" if lat_deg >= 0 else "S"
    ew = "E" if lon_deg >= 0 else "W"
    return f"{abs(lat_deg):.4f} {ns}, {abs(lon_deg):.4f} {ew}"
