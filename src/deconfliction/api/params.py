"""Path and query parameters shared by the routes, bounded to what the store holds,
so that a value no object can have answers 4xx (``/v1/incidents/99999999999999999999``
is not found, never an integer overflow in the database)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from deconfliction.errors import InputError, Problem
from deconfliction.timetext import parse_time_s

MAX_ID: int = 2**63 - 1  # BIGINT, the widest id column
MAX_VERSION: int = 2**31 - 1  # INTEGER, protocol and operation versions

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionPath = Annotated[int, Path(ge=1, le=MAX_VERSION)]


def time_param(name: str, value: str | None) -> float | None:
    """A time query parameter (RFC 3339 or epoch seconds), None when absent.

    Raises:
        InputError: for a value that is not a time, naming the parameter.
    """
    if value is None or value == "":
        return None
    try:
        return parse_time_s(value)
    except ValueError as exc:
        raise InputError([Problem("request", None, name, str(exc))]) from None
