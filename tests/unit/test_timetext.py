"""Time text (deconfliction.timetext): the one place times become text and back."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.timetext import (
    MAX_T_S,
    MIN_T_S,
    parse_rfc3339_s,
    parse_time_s,
    rfc3339,
    rfc3339_array,
    rfc3339_ms,
)

T0_S = 1513123200.0  # 2017-12-13T00:00:00Z


class TestRfc3339:
    def test_whole_seconds_and_milliseconds(self) -> None:
        assert rfc3339(T0_S) == "2017-12-13T00:00:00Z"
        assert rfc3339(T0_S + 0.5) == "2017-12-13T00:00:00.500Z"

    def test_not_a_time_is_refused(self) -> None:
        with pytest.raises(ValueError):
            rfc3339(math.nan)


class TestRfc3339Array:
    @given(st.lists(st.integers(0, 4_000_000_000_000), max_size=20))
    def test_agrees_with_rfc3339(self, ms: list[int]) -> None:
        t_s = np.array(ms, dtype=np.float64) / 1000.0
        assert rfc3339_array(t_s) == [rfc3339(float(t)) for t in t_s]

    def test_parses_back_as_utc(self) -> None:
        [text] = rfc3339_array(np.array([T0_S + 3605.0]))
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        assert parsed == datetime(2017, 12, 13, 1, 0, 5, tzinfo=UTC)


class TestRfc3339Ms:
    @given(st.integers(0, 253_402_300_799_000))
    def test_reads_back_to_the_millisecond(self, ms: int) -> None:
        # Within the millisecond (it is truncated, and ms / 1000 may fall just short).
        text = rfc3339_ms(ms / 1000.0 + 0.0004)
        assert len(text) == 24 and text.endswith("Z")
        assert round(parse_time_s(text) * 1000.0) == ms
        assert round(parse_rfc3339_s(text) * 1000.0) == ms

    def test_truncates_below_the_millisecond(self) -> None:
        assert rfc3339_ms(T0_S + 0.0019) == "2017-12-13T00:00:00.001Z"


class TestParseTime:
    def test_the_bounds_are_times_and_beyond_them_not(self) -> None:
        assert parse_time_s(MIN_T_S) == MIN_T_S
        assert parse_time_s(MAX_T_S) == MAX_T_S
        assert parse_time_s("9999-12-31T23:59:59Z") == MAX_T_S
        for bad in (-0.001, MAX_T_S + 1.0, math.inf, math.nan):
            with pytest.raises(ValueError, match="between 1970 and 9999"):
                parse_time_s(bad)

    def test_a_zone_is_required(self) -> None:
        with pytest.raises(ValueError, match="without a zone"):
            parse_time_s("2017-12-13T00:00:00")
        with pytest.raises(ValueError, match="without a zone"):
            parse_rfc3339_s("2017-12-13T00:00:00")
