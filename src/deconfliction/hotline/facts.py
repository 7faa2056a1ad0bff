"""Checks of the facts a hotline message is rendered from: each returns the value
(cleaned) or raises :class:`BadFact` saying what is wrong; the renderer names the
field and the message kind."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from deconfliction.errors import DeconflictionError

MAX_ID_CHARS: Final = 64  # identifiers and callsigns; longer is a mistake, not an id
MAX_NAME_CHARS: Final = 200  # party, line and zone names
MAX_TEXT_CHARS: Final = 4000  # free text, the same bound as incident remarks
MAX_T_S: Final = 253402300799.0  # 9999-12-31T23:59:59Z, the last time datetime shows
MAX_ABS_ALT_FT: Final = 200_000.0  # well above any aircraft; beyond is a unit mistake
MAX_DISTANCE_NM: Final = 10_800.0  # half the Earth's circumference
MAX_DURATION_S: Final = 366 * 86_400.0  # a violation or a notice lasts under a year
MAX_COUNT: Final = 1_000_000
MAX_SPEED_KT: Final = 2_000.0  # above any aircraft's ground speed: a unit mistake
DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadFact(DeconflictionError, ValueError):
    """One fact that is missing, of the wrong type or out of range (the renderer
    turns it into an :class:`InputError` naming the field)."""


Check = Callable[[Any], Any]


def reject_controls(text: str, *, allow: str = "") -> None:
    for ch in text:
        if ch not in allow and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise BadFact(f"contains the control character U+{ord(ch):04X}")


def check_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadFact(f"must be text or an integer, not {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise BadFact("must not be empty")
    if len(text) > MAX_ID_CHARS:
        raise BadFact(f"longer than {MAX_ID_CHARS} characters")
    reject_controls(text)
    return text


def check_name(value: Any) -> str:
    if not isinstance(value, str):
        raise BadFact(f"must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise BadFact("must not be empty")
    if len(text) > MAX_NAME_CHARS:
        raise BadFact(f"longer than {MAX_NAME_CHARS} characters")
    reject_controls(text)
    return text


def check_text(value: Any) -> str:
    # Free text stays as written; only characters that would act on a terminal
    # (escape sequences, carriage control) are refused rather than altered.
    if not isinstance(value, str):
        raise BadFact(f"must be text, not {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise BadFact(f"longer than {MAX_TEXT_CHARS} characters")
    # A carriage return counts only as part of a CRLF line end: alone it would let
    # a line be overwritten on a terminal ("received\rdisputed").
    for ch in value.replace("\r\n", "\n"):
        if ch not in "\n\t" and unicodedata.category(ch) == "Cc":
            raise BadFact(f"contains the control character U+{ord(ch):04X}")
    return value


def real(low: float, high: float) -> Check:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadFact(f"must be a number, not {type(value).__name__}")
        number = float(value)
        if not math.isfinite(number):
            raise BadFact(f"must be finite, not {number}")
        if not low <= number <= high:
            raise BadFact(f"{number:g} is outside [{low:g}, {high:g}]")
        return number

    return check


def count(low: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadFact(f"must be an integer, not {type(value).__name__}")
        if not low <= value <= MAX_COUNT:
            raise BadFact(f"{value} is outside [{low}, {MAX_COUNT}]")
        return value

    return check


def code(choices: Sequence[str] | Mapping[str, Any]) -> Check:
    known = tuple(choices)

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in known:
            raise BadFact(f"{value!r} is not one of: {', '.join(known)}")
        return value

    return check


def check_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise BadFact("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and DATE_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise BadFact(f"{value!r} is not a date (YYYY-MM-DD)")


TIME = real(0.0, MAX_T_S)
LAT = real(-90.0, 90.0)
LON = real(-180.0, 180.0)
ALT = real(-MAX_ABS_ALT_FT, MAX_ABS_ALT_FT)
DISTANCE = real(0.0, MAX_DISTANCE_NM)
DURATION = real(0.0, MAX_DURATION_S)
HEADING = real(0.0, 360.0)  # degrees clockwise from north; 360 is north too
SPEED = real(0.0, MAX_SPEED_KT)
