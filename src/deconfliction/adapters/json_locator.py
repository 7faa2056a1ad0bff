"""Where each key and array element of a JSON text is written.

:mod:`json` keeps no positions, so :class:`JsonLocator` scans the text once and maps
a field path to the line where it is written. Used by
:class:`~deconfliction.adapters.located_reader.LocatedReader` for operation files.
"""

from __future__ import annotations

import bisect
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from deconfliction.adapters.located_reader import Path

__all__ = ["JsonLocator"]


class JsonLocator:
    """The line of each key and array element of a valid JSON text.

    Paths are tuples of keys and indices, ``("volumes", 0, "time_end")``; a key
    maps to the line where the key is written, an array element to the line
    where it starts. Only run on text :mod:`json` has accepted.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._lines: dict[Path, int] = {}
        self._pos = 0
        self._value(())

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, else of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    def _line(self) -> int:
        return bisect.bisect_right(self._starts, self._pos)

    def _skip(self) -> None:
        while self._pos < len(self._text) and self._text[self._pos] in " \t\r\n":
            self._pos += 1

    def _value(self, path: Path) -> None:
        self._skip()
        self._lines.setdefault(path, self._line())
        char = self._text[self._pos]
        if char == "{":
            self._pos += 1
            self._skip()
            if self._text[self._pos] == "}":
                self._pos += 1
                return
            while True:
                self._skip()
                line = self._line()
                key, self._pos = scanstring(self._text, self._pos + 1)
                self._lines.setdefault((*path, key), line)
                self._skip()
                self._pos += 1  # the colon
                self._value((*path, key))
                self._skip()
                closing = self._text[self._pos] == "}"
                self._pos += 1
                if closing:
                    return
        elif char == "[":
            self._pos += 1
            self._skip()
            if self._text[self._pos] == "]":
                self._pos += 1
                return
            index = 0
            while True:
                self._value((*path, index))
                index += 1
                self._skip()
                closing = self._text[self._pos] == "]"
                self._pos += 1
                if closing:
                    return
        elif char == '"':
            _, self._pos = scanstring(self._text, self._pos + 1)
        else:  # number, true, false, null
            while (
                self._pos < len(self._text)
                and self._text[self._pos] not in ",]} \t\r\n"
            ):
                self._pos += 1
