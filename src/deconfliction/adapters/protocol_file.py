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

The sections are checked by :class:`_Builder`; the places (``[[lines]]``,
``[[zones]]``) by :mod:`~deconfliction.adapters.protocol_places`, whose assumptions
(compass sides, polygons, circles) are written there.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import pathlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from deconfliction.adapters.input_files import read_text
from deconfliction.adapters.located_reader import Path as _Path
from deconfliction.adapters.located_reader import describe as _describe
from deconfliction.adapters.located_reader import did_you_mean as _did_you_mean
from deconfliction.adapters.located_reader import format_path as _format_path
from deconfliction.adapters.located_reader import unknown as _unknown
from deconfliction.adapters.protocol_places import (
    CIRCLE_VERTICES,
    COMPASS_SIDE_MIN_ANGLE_DEG,
    MAX_CIRCLE_RADIUS_NM,
    ProtocolPlaces,
)
from deconfliction.adapters.protocol_reader import ProtocolReader as _Reader
from deconfliction.adapters.toml_locator import TomlLocator as _Locator
from deconfliction.domain.alerting import default_alert_levels
from deconfliction.domain.model import (
    AlertBand,
    AlertLevel,
    AlertLevelSpec,
    SeparationMinima,
)
from deconfliction.domain.operation_kinds import OPERATION_KINDS
from deconfliction.domain.protocol import (
    GUIDANCE_CONFIGS,
    NOTICE_DETAILS,
    REFEREE,
    REFEREE_WINDOW_S,
    ConformanceRules,
    GuidanceRules,
    HotlineRules,
    NodeAddress,
    NotamRules,
    Party,
    PlanningRules,
    Protocol,
    RefereeNode,
    SharingLevel,
    TerminationRules,
)
from deconfliction.errors import Problem, ProtocolError

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

LANGUAGES: tuple[str, ...] = ("en", "ru", "ar")
"""Languages duty officers read; the hotline has message templates for these."""

PRIORITIES: tuple[str, ...] = ("routine", "urgent", "flash")
"""Hotline message priorities, least urgent first."""

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # a bare TOML key: usable unquoted
FINGERPRINT_RE = re.compile(r"sha256:[0-9a-f]{64}")  # of a node's TLS certificate
_NODE_URL_RE = re.compile(
    r"https://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})/?"
)
_HHMM_RE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_TOML_POSITION_RE = re.compile(
    r"\s*\((at line (\d+), column (\d+)|at end of document)\)$"
)


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


class _Builder(ProtocolPlaces):
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
                "guidance",
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
        guidance = self._guidance(root.get("guidance"))
        nodes, referee = self._nodes(root.get("nodes"), party_ids)
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
            guidance=guidance,
            detection_interval_s=head.detection_interval_s,
            stale_after_s=head.stale_after_s,
            nodes=nodes,
            referee=referee,
        )

    # [nodes.P] -------------------------------------------------------------------

    def _nodes(
        self, value: Any, party_ids: set[str] | None
    ) -> tuple[dict[str, NodeAddress], RefereeNode | None]:
        """Each party's node: every party needs one when any is named; and the
        referee's (``[nodes.referee]``, unless a party is called so)."""
        path: _Path = ("nodes",)
        referee: RefereeNode | None = None
        # Keys are party ids, checked below against the parties.
        keys = tuple(value) if isinstance(value, dict) else ()
        table = self.r.table(value, path, optional=keys, what="node")
        if not table:
            if table is not None:
                self.r.report(
                    path, "name the node of every party, or leave [nodes] out"
                )
            return {}, None
        nodes: dict[str, NodeAddress] = {}
        urls: dict[str, str] = {}
        prints: dict[str, str] = {}
        for party, item in table.items():
            item_path = (*path, party)
            is_referee = party == REFEREE and REFEREE not in (party_ids or ())
            if not is_referee and not self._check_party(party, item_path, party_ids):
                continue
            node = self.r.table(
                item,
                item_path,
                required=("url", "fingerprint"),
                optional=("window_s",) if is_referee else (),
            )
            if node is None:
                continue
            window_s = (
                self.r.number(node, item_path, "window_s", above=0.0)
                if is_referee
                else None
            )
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
            if url is None or fingerprint is None:
                continue
            if is_referee:
                referee = RefereeNode(
                    NodeAddress(party, url, fingerprint),
                    REFEREE_WINDOW_S if window_s is None else window_s,
                )
            else:
                nodes[party] = NodeAddress(party, url, fingerprint)
        if party_ids is not None:
            for party in sorted(party_ids - set(table)):
                self.r.report(path, f"party {party!r} has no node: name one per party")
        return nodes, referee

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

    # [guidance] ------------------------------------------------------------------

    def _guidance(self, value: Any) -> GuidanceRules:
        path: _Path = ("guidance",)
        table = self.r.table(value, path, optional=("config",))
        if table is None:
            return GuidanceRules()
        config = self.r.choice(
            table, path, "config", ("none", *GUIDANCE_CONFIGS), "guidance config"
        )
        return GuidanceRules(config=None if config in (None, "none") else config)


MAX_NOTICE_S: float = 10 * 365.25 * 86400.0  # a notice period of at most ten years

# ------------------------------------------------------------------------- helpers


def _domain_default(field_name: str) -> Any:
    """The default of a :class:`Protocol` field, so it is defined in one place."""
    (field,) = (f for f in dataclasses.fields(Protocol) if f.name == field_name)
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default
