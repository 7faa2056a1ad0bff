"""Where each table, key and array element of a TOML text is written.

:mod:`tomllib` keeps no positions, so :class:`TomlLocator` scans the text once for
table headers, keys and array elements and maps a field path to the line where it
is written; a key that is absent maps to the header of the table that lacks it.
Used by :class:`~deconfliction.adapters.located_reader.LocatedReader` for protocol
files.
"""

from __future__ import annotations

import bisect
import re
import tomllib

from deconfliction.adapters.located_reader import Path

__all__ = ["TomlLocator"]

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


class TomlLocator:
    """Where each table, key and array element of a valid TOML text is written.

    Paths are tuples of keys and array indices: ``("lines", 0, "points", 3)``.
    Only run on text :mod:`tomllib` has accepted, so the scanner can be simple.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._lines: dict[Path, int] = {}
        self._array_counts: dict[Path, int] = {}
        self._scan()

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, else of its nearest written ancestor, else None."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    # Scanning ---------------------------------------------------------------------

    def _scan(self) -> None:
        table: Path = ()
        while True:
            self._skip(newlines=True)
            start = self._pos
            if start >= len(self._text):
                return
            if self._text.startswith("[[", start):
                self._pos += 2
                name = self._resolve(self._key())
                index = self._array_counts.get(name, -1) + 1
                self._array_counts[name] = index
                table = (*name, index)
                self._mark(table, start)
                self._skip_to_eol()
            elif self._text[start] == "[":
                self._pos += 1
                table = self._resolve(self._key())
                self._mark(table, start)
                self._skip_to_eol()
            else:
                path = (*table, *self._key())
                self._mark(path, start)
                self._pos += 1  # the "="
                self._value(path)

    def _resolve(self, names: tuple[str, ...]) -> Path:
        # In a header, a name that is an array of tables means its latest element.
        path: Path = ()
        for name in names[:-1]:
            path = (*path, name)
            if path in self._array_counts:
                path = (*path, self._array_counts[path])
        return (*path, names[-1])

    def _value(self, path: Path) -> None:
        self._skip(newlines=False)
        char = self._peek()
        if char == "[":
            self._pos += 1
            index = 0
            while True:
                self._skip(newlines=True)
                if self._peek() in ("]", ""):
                    self._pos += 1
                    return
                self._mark((*path, index), self._pos)
                self._value((*path, index))
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._pos += 1
                    index += 1
        elif char == "{":
            self._pos += 1
            while True:
                self._skip(newlines=True)
                if self._peek() in ("}", ""):
                    self._pos += 1
                    return
                start = self._pos
                key_path = (*path, *self._key())
                self._mark(key_path, start)
                self._pos += 1  # the "="
                self._value(key_path)
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._pos += 1
        elif char in ('"', "'"):
            self._string()
        else:  # number, boolean, date or time: runs to a delimiter
            while self._peek() not in (",", "]", "}", "\n", "#", ""):
                self._pos += 1

    def _key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self._skip(newlines=False)
            if self._peek() in ('"', "'"):
                start = self._pos
                self._string()
                # Let tomllib decode the escapes of a quoted key.
                parts.append(
                    str(tomllib.loads(f"k = {self._text[start : self._pos]}")["k"])
                )
            else:
                match = _BARE_KEY_RE.match(self._text, self._pos)
                end = self._pos if match is None else match.end()
                parts.append(self._text[self._pos : end])
                self._pos = end
            self._skip(newlines=False)
            if self._peek() != ".":
                return tuple(parts)
            self._pos += 1

    def _string(self) -> None:
        text, quote = self._text, self._text[self._pos]
        escapes = quote == '"'
        if text.startswith(quote * 3, self._pos):
            self._pos += 3
            while not text.startswith(quote * 3, self._pos):
                self._pos += 2 if escapes and text[self._pos] == "\\" else 1
            # Up to two quotes may end the content just before the delimiter.
            end = self._pos + 3
            while end < len(text) and end - self._pos < 5 and text[end] == quote:
                end += 1
            self._pos = end
            return
        self._pos += 1
        while self._pos < len(text) and text[self._pos] != quote:
            self._pos += 2 if escapes and text[self._pos] == "\\" else 1
        self._pos += 1

    def _skip(self, *, newlines: bool) -> None:
        blanks = " \t\r\n" if newlines else " \t"
        while self._pos < len(self._text):
            char = self._text[self._pos]
            if char in blanks:
                self._pos += 1
            elif char == "#":
                end = self._text.find("\n", self._pos)
                self._pos = len(self._text) if end < 0 else end
            else:
                return

    def _skip_to_eol(self) -> None:
        end = self._text.find("\n", self._pos)
        self._pos = len(self._text) if end < 0 else end

    def _peek(self) -> str:
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _mark(self, path: Path, pos: int) -> None:
        line = bisect.bisect_right(self._line_starts, pos)
        for end in range(1, len(path) + 1):  # dotted keys also place their prefixes
            self._lines.setdefault(path[:end], line)
