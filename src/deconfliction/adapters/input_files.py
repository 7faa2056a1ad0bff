"""Files from outside, read one way: text strictly as UTF-8, Parquet with its errors
located.

Every reader of a user's file comes through here, so that an empty, binary,
undecodable or truncated file is refused the same way everywhere: an
:class:`~deconfliction.errors.InputError` (or the reader's own subclass of it)
naming the file, and the line where there is one, never a ``UnicodeDecodeError`` or
a pyarrow traceback.

Text is UTF-8, with or without the byte order mark some editors write. Nothing is
guessed: a Latin-1 or Windows-1252 file is refused with the line and byte of the
first character that is not UTF-8, and the user saves it as UTF-8. A NUL byte never
occurs in text, so a file holding one is called binary (a Parquet or zip file given
where text is expected, or a damaged disk).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deconfliction.errors import InputError, Problem

UTF8_BOM: bytes = codecs.BOM_UTF8
CHUNK_BYTES: int = 1 << 20  # the streaming check holds one chunk at a time
PARQUET_MAGIC: bytes = b"PAR1"  # the first and last bytes of every Parquet file
MAX_REASON_CHARS: int = 200  # of a library's message: enough to act on, not a dump


def decode_text(data: bytes, source: str, error: type[InputError] = InputError) -> str:
    """The text of a file's bytes, refusing what is not UTF-8 text.

    Args:
        data: the whole file.
        source: the file's name, for the error.
        error: the :class:`InputError` subclass to raise.

    Returns:
        The text, without a byte order mark.

    Raises:
        InputError: (``error``) for an empty or binary file, or bytes that are not
            UTF-8, with the line.

    >>> decode_text(b"\\xef\\xbb\\xbfid,lat\\n", "a.csv")
    'id,lat\\n'
    >>> decode_text(b"id\\nCAF\\xc9\\n", "a.csv")
    Traceback (most recent call last):
    ...
    deconfliction.errors.InputError: 1 problem:
      a.csv:2: not valid UTF-8 (byte 0xc9 at offset 6); save the file as UTF-8
    >>> decode_text(b"", "a.csv")
    Traceback (most recent call last):
    ...
    deconfliction.errors.InputError: 1 problem:
      a.csv: the file is empty
    """
    problem = _empty(data, source) or _first_fault(data, 0, 1, source, final=True)
    if problem is not None:
        raise error([problem])
    return data.decode("utf-8-sig")


def read_text(
    path: str | os.PathLike[str], error: type[InputError] = InputError
) -> str:
    """Read a whole text file; see :func:`decode_text`.

    Raises:
        InputError: (``error``) for an empty, binary or non-UTF-8 file.
        OSError: the file cannot be read (``FileNotFoundError`` and the like).
    """
    return decode_text(Path(path).read_bytes(), os.fspath(path), error)


def check_text_file(
    path: str | os.PathLike[str],
    error: type[InputError] = InputError,
    chunk_bytes: int = CHUNK_BYTES,
) -> None:
    """Check that a file of any size is UTF-8 text, one chunk at a time, before a
    library that would stop on it without saying where reads it. The problem found
    is the one :func:`decode_text` would find in the whole file.

    Raises:
        InputError: (``error``) for an empty, binary or non-UTF-8 file, with the
            line.
        OSError: the file cannot be read.
    """
    source = os.fspath(path)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0  # of the chunk in the file
    line = 1  # at the start of the chunk
    seen = False
    with Path(path).open("rb") as f:
        while True:
            chunk = f.read(chunk_bytes)
            final = not chunk
            seen = seen or bool(chunk.strip())
            if final and not seen:
                raise error([_blank(source) if offset else _empty_file(source)])
            pending = len(decoder.getstate()[0])
            problem = _nul(chunk, offset, line, source)
            try:
                decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start
                if problem is None or at < offset + chunk.index(b"\x00"):
                    problem = _not_utf8(exc, at, line, chunk, offset, source)
            if problem is not None:
                raise error([problem])
            if final:
                return
            line += chunk.count(b"\n")
            offset += len(chunk)


@contextmanager
def parquet_errors(source: str, error: type[InputError] = InputError) -> Iterator[None]:
    """Turn what pyarrow raises on a damaged or truncated Parquet file into a
    located error.

    Raises:
        InputError: (``error``) naming the file, with pyarrow's reason.
    """
    import pyarrow as pa  # type: ignore[import-untyped]

    try:
        yield
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise  # the file itself is missing: the caller's usual message says so
    except (pa.ArrowException, OSError) as exc:
        raise error(
            [
                Problem(
                    source,
                    None,
                    "",
                    f"not a readable Parquet file (damaged or truncated?): "
                    f"{_reason(exc)}",
                )
            ]
        ) from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1] + "…"
    return text or type(exc).__name__


def _empty_file(source: str) -> Problem:
    return Problem(source, None, "", "the file is empty")


def _empty(data: bytes, source: str) -> Problem | None:
    if not data:
        return _empty_file(source)
    if not data.strip():
        return _blank(source)
    return None


def _blank(source: str) -> Problem:
    return Problem(source, None, "", "the file is empty (only white space)")


def _first_fault(
    data: bytes, offset: int, line: int, source: str, *, final: bool
) -> Problem | None:
    """The first NUL byte or non-UTF-8 byte of ``data``, whichever comes first."""
    nul = _nul(data, offset, line, source)
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(data, final)
    except UnicodeDecodeError as exc:
        if nul is None or exc.start < data.index(b"\x00"):
            return _not_utf8(exc, offset + exc.start, line, data, offset, source)
    return nul


def _nul(data: bytes, offset: int, line: int, source: str) -> Problem | None:
    at = data.find(b"\x00")
    if at < 0:
        return None
    if offset == 0 and data.startswith(PARQUET_MAGIC):
        return Problem(source, None, "", "a Parquet file, not text")
    return Problem(
        source,
        line + data.count(b"\n", 0, at),
        "",
        f"a binary file, not text (a NUL byte at offset {offset + at})",
    )


def _not_utf8(
    exc: UnicodeDecodeError,
    at: int,
    line: int,
    chunk: bytes,
    chunk_offset: int,
    source: str,
) -> Problem:
    """``at`` is the bad byte's offset in the file; it may lie in the chunk before
    (an incomplete character carried over), whose newlines are already counted."""
    here = max(0, at - chunk_offset)
    where = line + chunk.count(b"\n", 0, here)
    if exc.reason == "unexpected end of data":
        return Problem(
            source,
            where,
            "",
            f"the file ends inside a UTF-8 character (offset {at}): truncated?",
        )
    bad = exc.object[exc.start]
    return Problem(
        source,
        where,
        "",
        f"not valid UTF-8 (byte 0x{bad:02x} at offset {at}); save the file as UTF-8",
    )
