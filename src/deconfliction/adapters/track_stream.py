"""The normalised track stream every reader produces, its counters and party rules.

Every input format (SBS-1, raw Mode-S, Cursor-on-Target, OpenSky, the project's own
CSV and Parquet) becomes the same thing: positions as :class:`TrackRecord` values, or
many at once as a :class:`TrackBatch` (struct of arrays, for the vectorised readers
and the writers).

Conventions:

* ``t_s`` is UTC epoch seconds. Latitude and longitude are WGS-84 degrees and always
  present. ``alt_ft``, ``gs_kt``, ``trk_deg`` and ``vs_fpm`` are NaN when the source
  has not said (an SBS position before the first velocity message, a CoT event
  without ``track``): a missing value is never invented.
* Optional text fields are ``None`` in a record and ``""`` in a batch.
* Each reader keeps a :class:`ReadStats`: messages read, accepted, ignored (well
  formed but carrying nothing a track needs, for example an SBS ``STA`` line) and
  rejected by reason, with the first few problems of each reason (file, line,
  field). Always ``read == accepted + ignored + rejected``.

Party rules (:class:`PartyRules`) map a record to a party by ICAO address range,
callsign prefix, CoT affiliation, id prefix or source, first matching rule wins,
from a small TOML file (format in ``docs/interop.md``) or a mapping.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from deconfliction.adapters.input_files import read_text
from deconfliction.domain.model import StrArray
from deconfliction.domain.positions import (
    NUMBER_NAMES,
    RANGES,
    Positions,
    concat_columns,
)
from deconfliction.errors import InputError, Problem

MAX_EXAMPLES_PER_REASON: int = 3  # enough to find the fault, short enough to read

# Plausible ranges, as every reader uses them (domain/positions.py): outside them a
# value is a unit or sign mistake, not an aircraft.
LAT_RANGE_DEG: tuple[float, float] = RANGES["lat"]
LON_RANGE_DEG: tuple[float, float] = RANGES["lon"]
ALT_RANGE_FT: tuple[float, float] = RANGES["alt_ft"]
GS_RANGE_KT: tuple[float, float] = RANGES["gs_kt"]
TRK_RANGE_DEG: tuple[float, float] = RANGES["trk_deg"]
VS_RANGE_FPM: tuple[float, float] = RANGES["vs_fpm"]

COT_AFFILIATIONS: frozenset[str] = frozenset("pfnuhaskjo")  # MIL-STD-2525 letters


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """One position of one aircraft.

    Attributes:
        id: the aircraft's identifier in its source (ICAO address, CoT uid, ...).
        t_s: time of the position, UTC epoch seconds.
        lat_deg: WGS-84 latitude.
        lon_deg: WGS-84 longitude.
        alt_ft: altitude (pressure altitude where the source gives one; CoT gives
            height above the ellipsoid), NaN when unknown.
        gs_kt: ground speed, NaN when unknown.
        trk_deg: track over the ground, degrees from true north, NaN when unknown.
        vs_fpm: vertical rate, positive climbing, NaN when unknown.
        callsign: the flight's callsign, if known.
        icao24: the 24-bit ICAO address as 6 upper-case hex digits, if known.
        squawk: the Mode A code as a 4-digit string (leading zeros kept).
        source: the input format (``sbs``, ``modes``, ``cot``, ``opensky``, ...).
        party: the party the rules gave it, or None.
        cot_type: the CoT event type, for CoT sources (``a-f-A-M-F``).
    """

    id: str
    t_s: float
    lat_deg: float
    lon_deg: float
    alt_ft: float = math.nan
    gs_kt: float = math.nan
    trk_deg: float = math.nan
    vs_fpm: float = math.nan
    callsign: str | None = None
    icao24: str | None = None
    squawk: str | None = None
    source: str | None = None
    party: str | None = None
    cot_type: str | None = None

    @property
    def is_complete(self) -> bool:
        """True when every kinematic field is known (what the server requires)."""
        return not (
            math.isnan(self.alt_ft)
            or math.isnan(self.gs_kt)
            or math.isnan(self.trk_deg)
            or math.isnan(self.vs_fpm)
        )


_TEXT_FIELDS: tuple[str, ...] = (
    "callsign",
    "icao24",
    "squawk",
    "source",
    "party",
    "cot_type",
)
_FLOAT_FIELDS: tuple[str, ...] = NUMBER_NAMES


@dataclass(frozen=True, slots=True)
class TrackBatch(Positions):
    """Many positions as a struct of arrays (shape ``(n,)`` each): the
    :class:`~deconfliction.domain.positions.Positions` columns and the text fields
    of a :class:`TrackRecord` that are not among them.

    Text fields hold ``""`` where a record has ``None``.
    """

    ROW_WORD: ClassVar[str] = "entries"

    callsign: StrArray
    icao24: StrArray
    squawk: StrArray
    source: StrArray
    cot_type: StrArray

    @classmethod
    def empty(cls) -> Self:
        """A batch of no positions."""
        return cls.from_records(())

    @classmethod
    def from_columns(cls, **columns: Any) -> Self:  # type: ignore[override]
        """A batch from columns; absent optional columns are NaN or ``""``.

        ``ids``, ``t_s``, ``lat_deg`` and ``lon_deg`` are required (a reader's
        record may lack anything else, unlike a row of a track table).

        >>> b = TrackBatch.from_columns(ids=["A"], t_s=[0.0], lat_deg=[1.0],
        ...                             lon_deg=[2.0], party=["x"])
        >>> len(b), bool(np.isnan(b.gs_kt[0])), b.party.tolist(), b.callsign.tolist()
        (1, True, ['x'], [''])
        """
        ids = np.asarray(columns["ids"], dtype=np.str_)
        n = len(ids)
        values: dict[str, Any] = {"ids": ids}
        for name in _FLOAT_FIELDS:
            col = columns.get(name)
            values[name] = (
                np.full(n, np.nan) if col is None else np.asarray(col, dtype=np.float64)
            )
        for name in _TEXT_FIELDS:
            col = columns.get(name)
            values[name] = (
                np.full(n, "", dtype=np.str_)
                if col is None
                else np.asarray(col, dtype=np.str_)
            )
        return cls(**values)

    @classmethod
    def from_records(cls, records: Iterable[TrackRecord]) -> Self:
        """A batch of the given records, in order."""
        recs = list(records)
        columns: dict[str, Any] = {"ids": [r.id for r in recs]}
        for name in _FLOAT_FIELDS:
            columns[name] = np.fromiter(
                (getattr(r, name) for r in recs), dtype=np.float64, count=len(recs)
            )
        for name in _TEXT_FIELDS:
            columns[name] = [getattr(r, name) or "" for r in recs]
        return cls.from_columns(**columns)

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self:
        """One batch of all the given ones, in order (one is returned as it is)."""
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return concat_columns(cls, parts)

    def sorted_by_time(self) -> TrackBatch:
        """The batch in time order (stable: equal times keep their order)."""
        return self.take(np.argsort(self.t_s, kind="stable"))

    def with_party(self, party: StrArray) -> TrackBatch:
        """The same positions with other parties."""
        return replace(self, party=np.asarray(party, dtype=np.str_))

    def records(self) -> Iterator[TrackRecord]:
        """The positions one by one."""
        floats = [getattr(self, name).tolist() for name in _FLOAT_FIELDS]
        texts = [getattr(self, name).tolist() for name in _TEXT_FIELDS]
        for k, ident in enumerate(self.ids.tolist()):
            t, lat, lon, alt, gs, trk, vs = (col[k] for col in floats)
            callsign, icao24, squawk, source, party, cot_type = (
                col[k] or None for col in texts
            )
            yield TrackRecord(
                ident,
                t,
                lat,
                lon,
                alt,
                gs,
                trk,
                vs,
                callsign,
                icao24,
                squawk,
                source,
                party,
                cot_type,
            )


@dataclass(slots=True)
class ReadStats:
    """What a reader made of its input (a running count, so mutable).

    Attributes:
        source: the file or feed name.
        read: messages (lines, events, rows, frames) seen.
        accepted: messages understood and used.
        positions: positions produced (a message may give none, or a held one later).
        ignored: well-formed messages carrying nothing a track needs, by reason.
        rejected: bad messages, by reason.
        examples: the first :data:`MAX_EXAMPLES_PER_REASON` problems of each reason.
    """

    source: str = ""
    read: int = 0
    accepted: int = 0
    positions: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    examples: list[Problem] = field(default_factory=list)

    @property
    def rejected_total(self) -> int:
        """All rejected messages."""
        return sum(self.rejected.values())

    @property
    def ignored_total(self) -> int:
        """All ignored messages."""
        return sum(self.ignored.values())

    def reject(
        self, reason: str, line: int | None, field_name: str, message: str
    ) -> None:
        """Count one rejected message (``read`` is counted by the caller)."""
        self.rejected[reason] += 1
        if self.rejected[reason] <= MAX_EXAMPLES_PER_REASON:
            self.examples.append(
                Problem(self.source, line, field_name, f"{reason}: {message}")
            )

    def reject_many(
        self, reason: str, count: int, lines: Sequence[int], field_name: str, what: str
    ) -> None:
        """Count ``count`` rejected messages at once (vectorised readers)."""
        if count <= 0:
            return
        before = self.rejected[reason]
        self.rejected[reason] += count
        room = max(0, MAX_EXAMPLES_PER_REASON - before)
        for line in list(lines)[:room]:
            self.examples.append(
                Problem(self.source, line, field_name, f"{reason}: {what}")
            )

    def ignore(self, reason: str, count: int = 1) -> None:
        """Count ignored messages."""
        if count > 0:
            self.ignored[reason] += count

    def merge(self, other: ReadStats) -> None:
        """Add another reader's counts to these."""
        self.read += other.read
        self.accepted += other.accepted
        self.positions += other.positions
        self.ignored.update(other.ignored)
        for reason, count in other.rejected.items():
            before = self.rejected[reason]
            self.rejected[reason] += count
            room = max(0, MAX_EXAMPLES_PER_REASON - before)
            self.examples.extend(
                [p for p in other.examples if p.message.startswith(reason + ":")][:room]
            )

    def as_json(self) -> dict[str, Any]:
        """The counts as a plain mapping."""
        return {
            "source": self.source,
            "read": self.read,
            "accepted": self.accepted,
            "positions": self.positions,
            "ignored": dict(sorted(self.ignored.items())),
            "rejected": dict(sorted(self.rejected.items())),
        }

    def summary(self) -> str:
        """One line, for people: ``read 10: 8 accepted (5 positions), ...``."""
        text = (
            f"{self.source}: read {self.read}, accepted {self.accepted} "
            f"({self.positions} positions), ignored {self.ignored_total}, "
            f"rejected {self.rejected_total}"
        )
        if self.rejected:
            reasons = ", ".join(f"{n} {r}" for r, n in self.rejected.most_common())
            text += f" ({reasons})"
        return text


# --------------------------------------------------------------------------------------
# Values shared by the readers


def check_range(value: float, bounds: tuple[float, float]) -> bool:
    """True for a finite value within ``bounds`` (inclusive).

    >>> check_range(45.0, LAT_RANGE_DEG), check_range(math.nan, LAT_RANGE_DEG)
    (True, False)
    """
    return bounds[0] <= value <= bounds[1]


def icao24_of(text: str | None) -> str | None:
    """A 24-bit ICAO address as 6 upper-case hex digits, or None when not one.

    >>> icao24_of("4ca2d6"), icao24_of("~4CA2D6"), icao24_of("xyz")
    ('4CA2D6', None, None)
    """
    if text is None:
        return None
    value = text.strip().upper()
    if len(value) != 6:
        return None
    try:
        int(value, 16)
    except ValueError:
        return None
    return value


# --------------------------------------------------------------------------------------
# Party rules


@dataclass(frozen=True, slots=True)
class PartyRule:
    """One rule: every criterion given must hold (a list holds if any item does).

    Attributes:
        party: the party given to matching records.
        icao24_ranges: inclusive address ranges as integers.
        callsign_prefixes: callsign prefixes (upper case).
        cot_affiliations: CoT affiliation letters (``f``, ``n``, ``u``, ``h``...).
        id_prefixes: id (CoT uid) prefixes.
        sources: input formats (``sbs``, ``modes``, ``cot``, ``opensky``, ...).
    """

    party: str
    icao24_ranges: tuple[tuple[int, int], ...] = ()
    callsign_prefixes: tuple[str, ...] = ()
    cot_affiliations: tuple[str, ...] = ()
    id_prefixes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def matches(self, record: TrackRecord) -> bool:
        """True when every criterion of this rule holds for ``record``."""
        return self.matches_fields(
            record.id, record.icao24, record.callsign, record.cot_type, record.source
        )

    def matches_fields(
        self,
        ident: str,
        icao24: str | None,
        callsign: str | None,
        cot_type: str | None,
        source: str | None,
    ) -> bool:
        """:meth:`matches` on the fields the rules look at."""
        if self.icao24_ranges:
            address = int(icao24, 16) if icao24 and icao24_of(icao24) else None
            if address is None or not any(
                lo <= address <= hi for lo, hi in self.icao24_ranges
            ):
                return False
        if self.callsign_prefixes and not (
            callsign and callsign.upper().startswith(self.callsign_prefixes)
        ):
            return False
        if self.cot_affiliations and cot_affiliation(cot_type) not in (
            self.cot_affiliations
        ):
            return False
        if self.id_prefixes and not ident.startswith(self.id_prefixes):
            return False
        return not self.sources or source in self.sources


def cot_affiliation(cot_type: str | None) -> str | None:
    """The affiliation letter of a CoT atom type (``a-f-A`` gives ``f``).

    >>> cot_affiliation("a-f-A-M-F"), cot_affiliation("b-m-p"), cot_affiliation(None)
    ('f', None, None)
    """
    if not cot_type or not cot_type.startswith("a-") or len(cot_type) < 3:
        return None
    return cot_type[2]


@dataclass(frozen=True, slots=True)
class PartyRules:
    """Ordered rules mapping records to parties; the first matching rule wins.

    Attributes:
        rules: the rules, in order.
        default: the party of records no rule matches (None: no party).
        cot_other_affiliation: the CoT affiliation letter shown for another party's
            aircraft (``u`` unknown by default; never hostile unless set so).
    """

    rules: tuple[PartyRule, ...] = ()
    default: str | None = None
    cot_other_affiliation: str = "u"

    def party_of(self, record: TrackRecord) -> str | None:
        """The party of one record (its own ``party`` when it already has one)."""
        if record.party:
            return record.party
        for rule in self.rules:
            if rule.matches(record):
                return rule.party
        return self.default

    def apply(self, record: TrackRecord) -> TrackRecord:
        """The record with its party set (unchanged when it has one or none found)."""
        if record.party or (not self.rules and self.default is None):
            return record
        party = self.party_of(record)
        if party is None:
            return record
        return _with_party(record, party)

    def apply_batch(self, batch: TrackBatch) -> TrackBatch:
        """The batch with parties set where the rules give one."""
        if not self.rules and self.default is None:
            return batch
        # Rows of one aircraft share their fields: decide once per combination.
        decided: dict[tuple[str, str, str, str, str, str], str] = {}
        parties: list[str] = []
        for key in zip(
            batch.ids.tolist(),
            batch.icao24.tolist(),
            batch.callsign.tolist(),
            batch.cot_type.tolist(),
            batch.source.tolist(),
            batch.party.tolist(),
            strict=True,
        ):
            party = decided.get(key)
            if party is None:
                party = decided[key] = key[5] or self._party_of_fields(*key[:5])
            parties.append(party)
        return batch.with_party(np.asarray(parties, dtype=np.str_))

    def _party_of_fields(
        self, ident: str, icao24: str, callsign: str, cot_type: str, source: str
    ) -> str:
        for rule in self.rules:
            if rule.matches_fields(
                ident,
                icao24 or None,
                callsign or None,
                cot_type or None,
                source or None,
            ):
                return rule.party
        return self.default or ""

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], source: str = "<rules>"
    ) -> PartyRules:
        """Rules from a mapping shaped like the TOML file (see ``docs/interop.md``).

        Raises:
            InputError: listing every problem, each with its field path.
        """
        return _RulesBuilder(source, None).build(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PartyRules:
        """Rules from a TOML file.

        Raises:
            InputError: for a file that is empty, binary, not UTF-8 or not TOML, or
                a rule that is wrong, with the line and the field.
            FileNotFoundError: if the file does not exist.
        """
        source = str(path)
        text = read_text(path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise InputError(
                [
                    Problem(
                        source,
                        int(match.group(1)) if match else None,
                        "",
                        f"not valid TOML: {exc}",
                    )
                ]
            ) from None
        except RecursionError:
            raise InputError(
                [Problem(source, None, "", "TOML nested too deep")]
            ) from None
        return _RulesBuilder(source, text).build(data)


def _with_party(record: TrackRecord, party: str) -> TrackRecord:
    return TrackRecord(
        record.id,
        record.t_s,
        record.lat_deg,
        record.lon_deg,
        record.alt_ft,
        record.gs_kt,
        record.trk_deg,
        record.vs_fpm,
        record.callsign,
        record.icao24,
        record.squawk,
        record.source,
        party,
        record.cot_type,
    )


_PARTY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_RULE_KEYS: frozenset[str] = frozenset(
    {"party", "icao24", "callsign_prefix", "cot_affiliation", "id_prefix", "source"}
)
_AFFILIATION_WORDS: dict[str, str] = {
    "friend": "f",
    "hostile": "h",
    "neutral": "n",
    "unknown": "u",
    "pending": "p",
    "assumed-friend": "a",
    "suspect": "s",
    "joker": "j",
    "faker": "k",
    "none": "o",
}


class _RulesBuilder:
    """Validates a rules mapping and reports every problem with line and field."""

    def __init__(self, source: str, text: str | None) -> None:
        self.source = source
        self.lines = text.splitlines() if text is not None else None
        self.problems: list[Problem] = []

    def _line(self, rule_index: int | None, key: str) -> int | None:
        if self.lines is None:
            return None
        seen = -1
        start = 0
        if rule_index is not None:
            for k, line in enumerate(self.lines):
                if line.strip().startswith("[[rules]]"):
                    seen += 1
                    if seen == rule_index:
                        start = k
                        break
            else:
                return None
        for k in range(start, len(self.lines)):
            stripped = self.lines[k].strip()
            if k > start and rule_index is not None and stripped.startswith("["):
                break
            if rule_index is None and stripped.startswith("["):
                break
            if re.match(rf"{re.escape(key)}\s*=", stripped):
                return k + 1
        return start + 1 if rule_index is not None else None

    def report(self, rule_index: int | None, key: str, message: str) -> None:
        where = key if rule_index is None else f"rules[{rule_index}].{key}"
        self.problems.append(
            Problem(self.source, self._line(rule_index, key), where, message)
        )

    def build(self, data: Mapping[str, Any]) -> PartyRules:
        unknown = set(data) - {"default", "rules", "cot"}
        for key in sorted(unknown):
            self.report(None, key, "unknown key (expected default, rules, cot)")
        default = data.get("default")
        if default is not None and not self._party_ok(default):
            self.report(None, "default", f"not a party id: {default!r}")
            default = None
        other = "u"
        cot = data.get("cot", {})
        if not isinstance(cot, Mapping):
            self.report(None, "cot", "expected a table")
        else:
            for key in sorted(set(cot) - {"other_affiliation"}):
                self.report(None, f"cot.{key}", "unknown key")
            if "other_affiliation" in cot:
                letter = self._affiliation(cot["other_affiliation"])
                if letter is None:
                    self.report(
                        None,
                        "other_affiliation",
                        f"not an affiliation: {cot['other_affiliation']!r} "
                        "(neutral, unknown, friend, hostile, ...)",
                    )
                else:
                    other = letter
        rules: list[PartyRule] = []
        raw_rules = data.get("rules", [])
        if not isinstance(raw_rules, list):
            self.report(None, "rules", "expected an array of tables ([[rules]])")
            raw_rules = []
        for k, raw in enumerate(raw_rules):
            rule = self._rule(k, raw)
            if rule is not None:
                rules.append(rule)
        if self.problems:
            raise InputError(self.problems)
        return PartyRules(tuple(rules), default, other)

    @staticmethod
    def _party_ok(value: Any) -> bool:
        return isinstance(value, str) and _PARTY_RE.fullmatch(value) is not None

    @staticmethod
    def _affiliation(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        word = value.strip().lower()
        if word in COT_AFFILIATIONS:
            return word
        return _AFFILIATION_WORDS.get(word)

    def _strings(self, k: int, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(
            isinstance(v, str) and v for v in items
        ):
            self.report(k, key, "expected a string or a list of non-empty strings")
            return ()
        return tuple(items)

    def _rule(self, k: int, raw: Any) -> PartyRule | None:
        if not isinstance(raw, Mapping):
            self.report(k, "party", "expected a table")
            return None
        before = len(self.problems)
        for key in sorted(set(raw) - _RULE_KEYS):
            self.report(
                k, key, f"unknown key (expected {', '.join(sorted(_RULE_KEYS))})"
            )
        party = raw.get("party")
        if not self._party_ok(party):
            self.report(k, "party", f"missing or not a party id: {party!r}")
        ranges: list[tuple[int, int]] = []
        for item in self._strings(k, raw, "icao24"):
            bounds = _icao_range(item)
            if bounds is None:
                self.report(
                    k,
                    "icao24",
                    f"not an address or range: {item!r} (like 4CA2D6 or 140000-157FFF)",
                )
            else:
                ranges.append(bounds)
        affiliations: list[str] = []
        for item in self._strings(k, raw, "cot_affiliation"):
            letter = self._affiliation(item)
            if letter is None:
                self.report(k, "cot_affiliation", f"not an affiliation: {item!r}")
            else:
                affiliations.append(letter)
        callsigns = tuple(s.upper() for s in self._strings(k, raw, "callsign_prefix"))
        ids = self._strings(k, raw, "id_prefix")
        sources = self._strings(k, raw, "source")
        if not (ranges or callsigns or affiliations or ids or sources) and (
            len(self.problems) == before
        ):
            self.report(
                k,
                "party",
                "a rule needs at least one of icao24, callsign_prefix, "
                "cot_affiliation, id_prefix, source (use `default` for the rest)",
            )
        if len(self.problems) > before:
            return None
        return PartyRule(
            party=str(party),
            icao24_ranges=tuple(ranges),
            callsign_prefixes=callsigns,
            cot_affiliations=tuple(affiliations),
            id_prefixes=ids,
            sources=sources,
        )


def _icao_range(text: str) -> tuple[int, int] | None:
    """``4CA2D6`` or ``140000-157FFF`` as an inclusive integer range.

    >>> _icao_range("140000-157fff"), _icao_range("000001"), _icao_range("9-1")
    ((1310720, 1409023), (1, 1), None)
    """
    parts = text.split("-")
    if len(parts) not in (1, 2):
        return None
    values = [icao24_of(p) for p in parts]
    if any(v is None for v in values):
        return None
    lo = int(values[0], 16)  # type: ignore[arg-type]
    hi = int(values[-1], 16)  # type: ignore[arg-type]
    return (lo, hi) if lo <= hi else None


# --------------------------------------------------------------------------------------
# Decoders: bytes in (from a file or a socket), records out


MAX_LINE_BYTES: int = 4096  # an SBS line is ~120 bytes, an AVR line ~30: far above


class LineDecoder:
    """Base of the line-based decoders (SBS, AVR, Beast-hex): framing and counting.

    Subclasses implement :meth:`feed_line`. Bytes may arrive in any pieces; a line
    longer than :data:`MAX_LINE_BYTES` is rejected (and skipped to its end), and so
    is a partial line left when a connection drops (:meth:`reset_stream`).
    """

    def __init__(self, source: str) -> None:
        self.stats = ReadStats(source=source)
        self.line_no = 0
        self._rest = b""
        self._skipping = False

    def feed_line(self, line: str, line_no: int) -> list[TrackRecord]:
        """Decode one line (without its end of line)."""
        raise NotImplementedError

    def feed(self, data: bytes) -> list[TrackRecord]:
        """Decode whatever complete lines ``data`` (with what came before) holds."""
        head, newline, tail = data.rpartition(b"\n")
        if not newline:
            self._rest += data
            if len(self._rest) > MAX_LINE_BYTES:
                self._too_long()
            return []
        block = self._rest + head
        self._rest = tail
        out: list[TrackRecord] = []
        for line in block.decode("utf-8", "replace").split("\n"):
            self.line_no += 1
            if self._skipping:
                self._skipping = False
                continue
            if len(line) > MAX_LINE_BYTES:
                self.stats.read += 1
                self.stats.reject(
                    "line too long", self.line_no, "", f"{len(line)} characters"
                )
                continue
            out.extend(self.feed_line(line, self.line_no))
        if len(self._rest) > MAX_LINE_BYTES:
            self._too_long()
        return out

    def _too_long(self) -> None:
        if not self._skipping:
            self.stats.read += 1
            self.stats.reject(
                "line too long",
                self.line_no + 1,
                "",
                f"more than {MAX_LINE_BYTES} bytes without an end of line",
            )
        self._skipping = True
        self._rest = b""

    def reset_stream(self) -> None:
        """The connection dropped: a partial line is lost (and counted)."""
        if self._rest.strip() and not self._skipping:
            self.line_no += 1
            self.stats.read += 1
            self.stats.reject(
                "truncated line", self.line_no, "", "the connection closed mid-line"
            )
        self._rest = b""
        self._skipping = False

    def finish(self) -> list[TrackRecord]:
        """End of input: decode a last line without an end of line."""
        rest, self._rest = self._rest, b""
        if self._skipping or not rest.strip():
            self._skipping = False
            return []
        self.line_no += 1
        return self.feed_line(rest.decode("utf-8", "replace"), self.line_no)


READ_CHUNK_BYTES: int = 1 << 20


def decode_file(
    path: str | os.PathLike[str], decoder: LineDecoder | Any
) -> Iterator[list[TrackRecord]]:
    """Feed a file to a decoder in chunks; yields the records of each chunk.

    Raises:
        FileNotFoundError: if the file does not exist.
    """
    with Path(path).open("rb") as f:
        while chunk := f.read(READ_CHUNK_BYTES):
            records = decoder.feed(chunk)
            if records:
                yield records
    records = decoder.finish()
    if records:
        yield records
