"""Time as text, once: RFC 3339 out and in (the ground floor: every layer may use it).

Times inside the program are UTC epoch seconds (``t_s``). Text meets them only here:

* :func:`rfc3339_ms` always shows milliseconds (CoT, the hotline record, the API);
* :func:`rfc3339` shows whole seconds when the time is whole (result files);
* :func:`rfc3339_array` is :func:`rfc3339` for many times at once;
* :func:`parse_time_s` reads what a client sends (API and service), refusing times
  outside 1970..9999;
* :func:`parse_rfc3339_s` reads what a feed or file carries (CoT, GeoJSON, track
  streams), with up to nine fraction digits;
* :func:`parse_zoned_s` reads a time already known to be zoned RFC 3339 text;
* :func:`arrow_text_times_s` reads a column of text (track tables).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

MIN_T_S: float = 0.0  # 1970-01-01T00:00:00Z: no aircraft data is older
MAX_T_S: float = 253_402_300_799.0  # 9999-12-31T23:59:59Z: the last RFC 3339 second
_NS_PER_S: float = 1e9

_EPOCH_RE = re.compile(r"[+-]?\d+(\.\d*)?")
_ZONE_RE = re.compile(r"(Z|z|[+-]\d\d:?\d\d)$")
_FRACTION_RE = re.compile(r"\.(\d{7,})")


# --------------------------------------------------------------------------- out
def rfc3339_ms(t_s: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds (truncated) and ``Z``.

    >>> rfc3339_ms(0.0), rfc3339_ms(1513159200.0)
    ('1970-01-01T00:00:00.000Z', '2017-12-13T10:00:00.000Z')
    """
    return (
        datetime.fromtimestamp(t_s, tz=UTC).isoformat(timespec="milliseconds")[:-6]
        + "Z"
    )


def rfc3339(t_s: float) -> str:
    """An epoch time as an RFC 3339 UTC string, to the second or the millisecond.

    >>> rfc3339(1513123200.0)
    '2017-12-13T00:00:00Z'
    >>> rfc3339(1513123200.25)
    '2017-12-13T00:00:00.250Z'

    Raises:
        ValueError: if ``t_s`` is not finite.
    """
    if not math.isfinite(t_s):
        raise ValueError(f"not a time: {t_s}")
    spec = "seconds" if float(t_s).is_integer() else "milliseconds"
    return datetime.fromtimestamp(t_s, tz=UTC).isoformat(timespec=spec)[:-6] + "Z"


def rfc3339_array(t_s: npt.NDArray[np.float64]) -> list[str]:
    """Many epoch times (whole seconds or not) as RFC 3339 UTC strings, vectorised.

    >>> rfc3339_array(np.array([1513123200.0, 1513123200.25]))
    ['2017-12-13T00:00:00Z', '2017-12-13T00:00:00.250Z']
    """
    ms_int = np.round(np.asarray(t_s, dtype=np.float64) * 1000.0).astype(np.int64)
    ms = ms_int.astype("datetime64[ms]")
    whole = (ms_int % 1000) == 0
    as_s = np.datetime_as_string(ms.astype("datetime64[s]"), unit="s")
    as_ms = np.datetime_as_string(ms, unit="ms")
    return [s + "Z" for s in np.where(whole, as_s, as_ms).tolist()]


# ---------------------------------------------------------------------------- in
def parse_time_s(value: str | float | int) -> float:
    """RFC 3339 text (a zone is required) or epoch seconds, to epoch seconds.

    Raises:
        ValueError: for text without a time zone or that is not a time, and for a
            time that cannot be one (not finite, before 1970 or after 9999).

    >>> parse_time_s("2017-12-13T10:00:00Z")
    1513159200.0
    >>> parse_time_s(5), parse_time_s("1513159200.5")
    (5.0, 1513159200.5)
    >>> parse_time_s(float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: not a time between 1970 and 9999: nan
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _plausible(value)
    if not isinstance(value, str):
        raise ValueError(f"not a time: {_short(value)}")
    text = value.strip()
    if _EPOCH_RE.fullmatch(text):
        return _plausible(text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an RFC 3339 time: {_short(value)}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"time without a zone: {_short(value)} (add Z for UTC)")
    return _plausible(parsed.timestamp())


def parse_rfc3339_s(text: str) -> float:
    """RFC 3339 text with a zone (``Z`` or an offset), or epoch seconds, to epoch s.

    Raises:
        ValueError: for anything else, a time without a zone included.

    >>> parse_rfc3339_s("2017-12-13T10:00:00Z"), parse_rfc3339_s("1513159200.5")
    (1513159200.0, 1513159200.5)
    >>> parse_rfc3339_s("2017-12-13T10:00:00.123456789Z")
    1513159200.123456
    """
    value = text.strip()
    if len(value) >= 20 and value[-1] in "Zz" and value[10] in "Tt":
        # The common CoT and RFC 3339 form, straight to the parser.
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise ValueError(f"not a time: {text!r}")
        return number
    if not _ZONE_RE.search(value):
        raise ValueError(f"time without a zone: {text!r} (add Z for UTC)")
    # Python takes at most 6 fraction digits; CoT and Parquet writers use up to 9.
    value = _FRACTION_RE.sub(lambda m: "." + m.group(1)[:6], value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an RFC 3339 time: {text!r}") from None
    if parsed.tzinfo is None:  # pragma: no cover - the regex above requires a zone
        raise ValueError(f"time without a zone: {text!r}")
    return parsed.timestamp()


def parse_zoned_s(text: str) -> float:
    """Text already checked to be zoned RFC 3339 (``Z``, ``z`` or an offset) to epoch
    seconds.

    Raises:
        ValueError: with Python's reason, for a date or time that does not exist.

    >>> parse_zoned_s("2017-12-13t10:00:00z")
    1513159200.0
    >>> parse_zoned_s("2017-02-30T10:00:00Z")
    Traceback (most recent call last):
    ...
    ValueError: day is out of range for month
    """
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).timestamp()


def ns_to_s(ns: Any) -> npt.NDArray[np.float64]:
    """Epoch nanoseconds to seconds, whole seconds first: a 19-digit count of
    nanoseconds does not fit a float exactly, its seconds and fraction do.

    >>> ns_to_s(np.array([1513123200250000000])).tolist()
    [1513123200.25]
    """
    ns = np.asarray(ns, dtype=np.int64)
    whole = ns // 1_000_000_000
    fraction = (ns - whole * 1_000_000_000).astype(np.float64) / _NS_PER_S
    result: npt.NDArray[np.float64] = whole.astype(np.float64) + fraction
    return result


def arrow_text_times_s(array: Any) -> npt.NDArray[np.float64]:
    """An Arrow array of text (RFC 3339 or epoch seconds) to epoch seconds, NaN
    where a value is missing or not a time."""
    import pyarrow as pa  # type: ignore[import-untyped]

    try:
        ns = array.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
        out = ns_to_s(ns.fill_null(0).to_numpy(zero_copy_only=False))
        result: npt.NDArray[np.float64] = np.where(
            array.is_null().to_numpy(zero_copy_only=False), np.nan, out
        )
        return result
    except pa.ArrowInvalid:
        pass
    # Some values are epoch seconds, or bad: one by one (only files with such rows).
    result = np.full(len(array), np.nan)
    for row, text in enumerate(array.to_pylist()):
        result[row] = _arrow_one_time_s(text)
    return result


def _arrow_one_time_s(text: str | None) -> float:
    import pyarrow as pa

    if text is None:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        pass
    try:
        scalar = pa.scalar(text.strip()).cast(pa.timestamp("ns", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return float("nan")
    value = scalar.cast(pa.int64()).as_py()
    return float("nan") if value is None else float(ns_to_s(np.array([value]))[0])


def _plausible(value: str | float) -> float:
    """A number of epoch seconds, if it is a time: finite and between
    :data:`MIN_T_S` and :data:`MAX_T_S` (NaN, infinities, -1e308 or year 1 would be
    stored and then served as null, or not at all).

    Raises:
        ValueError: otherwise.
    """
    try:
        t_s = float(value)
    except (OverflowError, ValueError):
        raise ValueError(f"not a time: {_short(value)}") from None
    if not MIN_T_S <= t_s <= MAX_T_S:  # NaN fails too
        raise ValueError(f"not a time between 1970 and 9999: {_short(value)}")
    return t_s


def _short(value: object) -> str:
    """``repr(value)``, cut to a length a message can carry."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
