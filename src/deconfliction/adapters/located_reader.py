"""One validating reader for the files people write by hand: every problem located.

Protocol files (TOML, :mod:`~deconfliction.adapters.protocol_file`) and operation
files (JSON, :mod:`~deconfliction.adapters.operation_file`) are read the same way:
the parsed document is walked once, each value is checked where it is used, and
every problem is collected as a :class:`~deconfliction.errors.Problem` with the
file, the 1-based line where the offending key is written and its field path
(``lines[0].sides.russia``), so whoever edits the file fixes it in one pass.

The parsers keep no positions, so each format brings a :class:`Locator` that maps a
field path to its line (:class:`~deconfliction.adapters.toml_locator.TomlLocator`,
:class:`~deconfliction.adapters.json_locator.JsonLocator`). Each format also names
its values in its own words (``a table`` in TOML, ``an object`` in JSON): a
:class:`Words` holds them, so one :class:`LocatedReader` speaks both.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from deconfliction.errors import Problem

__all__ = [
    "JSON_WORDS",
    "TOML_WORDS",
    "LocatedReader",
    "Locator",
    "Path",
    "Words",
    "describe",
    "did_you_mean",
    "format_path",
    "sorted_problems",
    "unknown",
]

Path = tuple[str | int, ...]
"""A field path: keys and array indices, ``("lines", 0, "points", 3)``."""

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


class Locator(Protocol):
    """Maps a field path to the line where it is written."""

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, else of its nearest written ancestor, else None."""
        ...


@dataclass(frozen=True, slots=True)
class Words:
    """How a file format names its values in problem messages.

    Attributes:
        null: the word for a null value, or None when the format has none.
        float_noun: ``a number`` (JSON) or ``a float`` (TOML).
        list_noun: ``a list`` or ``an array``.
        table_noun: ``an object`` or ``a table``.
        expected: a wrong type, with ``{noun}`` and ``{value}`` (described).
        finite: a NaN or infinity, with ``{number}`` and ``{value}``.
        above: a number not above its bound, with ``{above}`` and ``{number}``.
        quote_keys: field paths quote keys that are not bare words.
        escape_words: unknown words are shown JSON-escaped.
        anagrams: suggestions try the same letters in another order first.
    """

    null: str | None
    float_noun: str
    list_noun: str
    table_noun: str
    expected: str
    finite: str
    above: str
    quote_keys: bool
    escape_words: bool
    anagrams: bool


JSON_WORDS = Words(
    null="null",
    float_noun="a number",
    list_noun="a list",
    table_noun="an object",
    expected="must be {noun}, got {value}",
    finite="must be finite, got {number}",
    above="must be above {above:g}, got {number:g}",
    quote_keys=False,
    escape_words=False,
    anagrams=False,
)
"""Operation files' words (JSON)."""

TOML_WORDS = Words(
    null=None,
    float_noun="a float",
    list_noun="an array",
    table_noun="a table",
    expected="expected {noun}, got {value}",
    finite="must be a finite number, got {value}",
    above="must be greater than {above:g}, got {number:g}",
    quote_keys=True,
    escape_words=True,
    anagrams=True,
)
"""Protocol files' words (TOML)."""


def format_path(path: Path, words: Words = TOML_WORDS) -> str:
    """A field path as written in messages.

    >>> format_path(("lines", 0, "sides", "russia"))
    'lines[0].sides.russia'
    >>> format_path(("zones", 1, "polygon", 2, 0))
    'zones[1].polygon[2][0]'
    >>> format_path(("nodes", "a b"))
    'nodes."a b"'
    >>> format_path(("volumes", 0, "outline_polygon", "vertices", 2, "lat"), JSON_WORDS)
    'volumes[0].outline_polygon.vertices[2].lat'
    >>> format_path((1, "id"), JSON_WORDS)
    '[1].id'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = (
                part
                if not words.quote_keys or _BARE_KEY_RE.fullmatch(part)
                else json.dumps(part, ensure_ascii=False)
            )
            out += f".{key}" if out else key
    return out


def describe(value: Any, words: Words = TOML_WORDS) -> str:
    """A parsed value in words, for messages: ``a string ("abc")``.

    >>> describe(True), describe([1, 2], JSON_WORDS), describe(None, JSON_WORDS)
    ('a boolean (true)', 'a list of 2 items', 'null')
    >>> describe(1.5), describe({}), describe({}, JSON_WORDS)
    ('a float (1.5)', 'a table', 'an object')
    """
    if value is None and words.null is not None:
        return words.null
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"{words.float_noun} ({value:g})"
    if isinstance(value, str):
        return f"a string ({json.dumps(value, ensure_ascii=False)})"
    if isinstance(value, list):
        return f"{words.list_noun} of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return words.table_noun
    return f"a {type(value).__name__} ({value})"  # dates and times


def did_you_mean(word: str, choices: Iterable[str], *, anagrams: bool = True) -> str:
    """A suggestion for a misspelt word, or "".

    >>> did_you_mean("esat", ["west", "east"])
    " (did you mean 'east'?)"
    >>> did_you_mean("esat", ["west", "east"], anagrams=False)
    " (did you mean 'west'?)"
    >>> did_you_mean("zzz", ["west", "east"])
    ''
    """
    options = list(choices)
    # Swapped letters first: difflib ranks "west" above "east" for "esat".
    close = (
        [option for option in options if sorted(option) == sorted(word)]
        if anagrams
        else []
    )
    close += difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown(
    what: str, word: str, choices: Sequence[str], words: Words = TOML_WORDS
) -> str:
    """The message for a word that is not one of ``choices``.

    >>> unknown("side", "esat", ["east", "west"], TOML_WORDS)
    "unknown side 'esat' (did you mean 'east'?)"
    >>> unknown("units", "XX", ["NM", "M"], JSON_WORDS)
    "unknown units 'XX'; expected one of: NM, M"
    """
    shown = json.dumps(word, ensure_ascii=False)[1:-1] if words.escape_words else word
    hint = did_you_mean(word, choices, anagrams=words.anagrams)
    if hint:
        return f"unknown {what} '{shown}'{hint}"
    expected = ", ".join(choices) if choices else "none"
    return f"unknown {what} '{shown}'; expected one of: {expected}"


def sorted_problems(
    problems: Sequence[Problem], source: str, most: int | None = None
) -> list[Problem]:
    """Problems in the order of the file (unlocated last), at most ``most`` of them.

    A stable sort keeps each line's own order; beyond ``most`` one last problem
    says how many more there are.
    """
    ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
    if most is not None and len(ordered) > most:
        more = len(ordered) - most
        ordered = [
            *ordered[:most],
            Problem(source, None, "", f"... and {more} more problems"),
        ]
    return ordered


class LocatedReader:
    """Typed access to a parsed document that records a problem instead of failing.

    Every getter returns None when the value is absent or wrong (reported when it
    is wrong); absence of a required key is reported once, by :meth:`keys`.

    Args:
        source: the name to report problems under (usually the file's path).
        locator: where each field is written, or None when the document came
            without its text (problems then carry no line).
        words: how the format names its values.
    """

    def __init__(self, source: str, locator: Locator | None, words: Words) -> None:
        self.source = source
        self.locator = locator
        self.words = words
        self.problems: list[Problem] = []

    def report(self, path: Path, message: str) -> None:
        """Record a problem at ``path``."""
        line = None if self.locator is None else self.locator.line_of(path)
        self.problems.append(
            Problem(self.source, line, format_path(path, self.words), message)
        )

    def wrong_type(self, path: Path, noun: str, value: Any) -> None:
        """Report that the value at ``path`` is not ``noun`` (``a string``)."""
        self.report(
            path,
            self.words.expected.format(noun=noun, value=describe(value, self.words)),
        )

    def table(
        self,
        value: Any,
        path: Path,
        *,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        what: str = "key",
    ) -> dict[str, Any] | None:
        """``value`` as a table with these keys, or None (reported)."""
        if not isinstance(value, dict):
            self.wrong_type(path, self.words.table_noun, value)
            return None
        self.keys(value, path, required=required, optional=optional, what=what)
        return value

    def keys(
        self,
        table: dict[str, Any],
        path: Path,
        *,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        what: str = "key",
    ) -> None:
        """Report every key of ``table`` not allowed, and every required one absent."""
        allowed = (*required, *optional)
        for key in table:
            if key not in allowed:
                self.report((*path, key), unknown(what, key, allowed, self.words))
        for key in required:
            if key not in table:
                self.report((*path, key), f"missing required key '{key}'")

    def string(self, table: dict[str, Any], path: Path, key: str) -> str | None:
        """A string that is not blank, or None."""
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, str):
            self.wrong_type((*path, key), "a string", value)
            return None
        if not value.strip():
            self.report((*path, key), "must not be empty")
            return None
        return value

    def choice(
        self,
        table: dict[str, Any],
        path: Path,
        key: str,
        choices: Sequence[str],
        what: str | None = None,
    ) -> str | None:
        """One of ``choices`` (a misspelling gets a suggestion), or None."""
        value = self.string(table, path, key)
        if value is not None and value not in choices:
            self.report((*path, key), unknown(what or key, value, choices, self.words))
            return None
        return value

    def number(
        self,
        table: dict[str, Any],
        path: Path,
        key: str,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        above: float | None = None,
        at_least: float | None = None,
    ) -> float | None:
        """A finite number within its bounds, or None; see :meth:`number_value`."""
        if key not in table:
            return None
        return self.number_value(
            table[key], (*path, key), low=low, high=high, above=above, at_least=at_least
        )

    def number_value(
        self,
        value: Any,
        path: Path,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        above: float | None = None,
        at_least: float | None = None,
    ) -> float | None:
        """``value`` as a finite float in ``[low, high]``, above ``above`` and at
        least ``at_least``; None (reported) otherwise. Booleans are not numbers."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong_type(path, "a number", value)
            return None
        number = float(value)
        if not math.isfinite(number):
            self.report(
                path,
                self.words.finite.format(
                    number=number, value=describe(value, self.words)
                ),
            )
            return None
        if not low <= number <= high:
            self.report(path, f"{number:g} is outside [{low:g}, {high:g}]")
            return None
        if above is not None and not number > above:
            self.report(path, self.words.above.format(above=above, number=number))
            return None
        if at_least is not None and number < at_least:
            self.report(path, f"must be at least {at_least:g}, got {number:g}")
            return None
        return number
