"""Checks shared by every reader of aircraft positions: numbers and plausible ranges."""

from __future__ import annotations

import math

# Plausible ranges (domain/positions.py): outside them a value is a unit or sign
# mistake, not an aircraft. Keyed by the column's header (``lat``, ``alt_ft``).
from deconfliction.domain.positions import RANGES as RANGES

NUMERIC_FIELDS: tuple[str, ...] = tuple(RANGES)


def check_number(name: str, raw: object) -> tuple[float | None, str | None]:
    """Parse and range-check one field; returns (value, None) or (None, problem).

    >>> check_number("lat", "35.5")
    (35.5, None)
    >>> check_number("lat", "95")
    (None, '95 is outside [-90, 90]')
    >>> check_number("gs_kt", "nan")
    (None, "not a finite number: 'nan'")
    """
    if isinstance(raw, bool):
        return None, f"not a number: {raw!r}"
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        text = repr(raw)
        return None, f"not a number: {text if len(text) <= 40 else text[:37] + '...'}"
    if not math.isfinite(value):
        text = repr(raw)
        return (
            None,
            f"not a finite number: {text if len(text) <= 40 else text[:37] + '...'}",
        )
    low, high = RANGES[name]
    if not low <= value <= high:
        return None, f"{value:g} is outside [{low:g}, {high:g}]"
    return value, None
