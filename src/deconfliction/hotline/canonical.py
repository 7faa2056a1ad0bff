"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for the hotline record.

Object keys sorted by their UTF-16 code units, no whitespace, UTF-8, strings
escaped as ECMAScript's ``JSON.stringify`` does, numbers as ECMAScript prints a
double; NaN, infinities, integers beyond 2**53 and lone surrogates refused. See
:mod:`deconfliction.hotline.record` for why the record hashes this form.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from deconfliction.errors import InputError, Problem

__all__ = ["MAX_JSON_DEPTH", "MAX_SAFE_INTEGER", "canonical_json"]

MAX_SAFE_INTEGER: Final = 2**53 - 1  # every integer up to here is exactly a double
MAX_JSON_DEPTH: Final = 64  # hotline bodies are shallow; deeper is a mistake


def _bad(path: str, message: str) -> InputError:
    return InputError([Problem("canonical JSON", None, path, message)])


def _number_text(value: float) -> str:
    """A finite double as ECMAScript's Number.prototype.toString writes it.

    Python's ``float.__repr__`` gives the same shortest round-trip digits; only the
    placement of the point and the exponent differ (RFC 8785, section 3.2.2.3).

    >>> [_number_text(x) for x in (0.0, -0.0, 1.0, 1e21, 1e-7, 123.456, 1e20)]
    ['0', '0', '1', '1e+21', '1e-7', '123.456', '100000000000000000000']
    """
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = float.__repr__(abs(value))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    combined = whole + fraction
    stripped = combined.lstrip("0")
    # value = 0.<digits> x 10**point
    point = (
        len(whole)
        + (int(exponent) if exponent else 0)
        - (len(combined) - len(stripped))
    )
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    e = point - 1
    mark = "+" if e >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{head}e{mark}{abs(e)}"


def _integer_text(value: int, path: str) -> str:
    if abs(value) <= MAX_SAFE_INTEGER:
        return str(value)
    # Beyond 2**53 a JSON reader holds a double, so the integer is written as that
    # double is. Kept: integers a double holds exactly (10**16, 2**60), and those
    # whose digits are the double's own (24111621778087910, how the double
    # 2.411162177808791e16 is written and so reads back). Refused: the others
    # (2**53 + 1), which another reader would take for a different number.
    try:
        as_double = float(value)
    except OverflowError:
        raise _bad(path, f"integer {value} is beyond any double") from None
    text = _number_text(as_double)
    if as_double != value and text != str(value):
        raise _bad(path, f"integer {value} is not exactly a double; send it as text")
    return text


def _string_text(value: str, path: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad(path, "text with a lone surrogate is not valid Unicode") from None
    return json.dumps(value, ensure_ascii=False)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _canonical(value: Any, path: str, depth: int, out: list[str]) -> None:
    if depth > MAX_JSON_DEPTH:
        raise _bad(path, f"nested deeper than {MAX_JSON_DEPTH} levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(_integer_text(int(value), path))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(path, f"{value} is not allowed in JSON")
        out.append(_number_text(float(value)))
    elif isinstance(value, str):
        out.append(_string_text(value, path))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise _bad(path, f"object key {key!r} is not text")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_string_text(key, f"{path}.{key}"))
            out.append(":")
            _canonical(value[key], f"{path}.{key}", depth + 1, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _canonical(item, f"{path}[{i}]", depth + 1, out)
        out.append("]")
    else:
        raise _bad(path, f"a {type(value).__name__} is not a JSON value")


def canonical_json(obj: Any) -> bytes:
    """``obj`` as canonical JSON (RFC 8785), UTF-8 encoded.

    Raises:
        InputError: for NaN, infinities, integers no double holds, non-text keys,
            invalid Unicode, values JSON has no form for, or nesting deeper than
            ``MAX_JSON_DEPTH``; the problem names the path (``$.body.x``).

    >>> canonical_json({"b": [1.0, "é"], "a": None, "c": 1e-7})
    b'{"a":null,"b":[1,"\\xc3\\xa9"],"c":1e-7}'
    """
    out: list[str] = []
    _canonical(obj, "$", 0, out)
    return "".join(out).encode("utf-8")
