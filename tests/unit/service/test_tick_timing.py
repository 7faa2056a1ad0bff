"""The figures of the detection ticks and what the log says of late ones (pure:
times are passed in)."""

from __future__ import annotations

import logging

import pytest

from deconfliction.service.tick_timing import (
    LATE_LOG_EVERY_S,
    TickFigures,
    TickTiming,
    is_late,
)

LOGGER = "deconfliction.service.tick_timing"


class TestIsLate:
    def test_exactly_the_interval_is_on_time(self) -> None:
        assert not is_late(1.0, 1.0)

    def test_just_over_the_interval_is_late(self) -> None:
        assert is_late(1.0 + 1e-9, 1.0)


class TestTickFigures:
    def test_lag_is_the_age_beyond_one_interval(self) -> None:
        figures = TickFigures(0.4, 100.0, 1.0, False, 0)
        assert figures.age_s(102.5) == 2.5
        assert figures.lag_s(102.5) == 1.5

    def test_no_lag_at_exactly_one_interval(self) -> None:
        assert TickFigures(0.4, 100.0, 1.0, False, 0).lag_s(101.0) == 0.0

    def test_as_json(self) -> None:
        assert TickFigures(1.25, 100.0, 1.0, True, 3).as_json(102.0) == {
            "duration_s": 1.25,
            "age_s": 2.0,
            "lag_s": 1.0,
            "interval_s": 1.0,
            "late": True,
            "late_total": 3,
        }


class TestTickTiming:
    def test_nothing_before_the_first_tick(self) -> None:
        assert TickTiming().newest is None

    def test_counts_late_ticks(self) -> None:
        timing = TickTiming()
        timing.done(100.0, 0.5, 1.0, 100.5)
        timing.done(101.0, 1.0, 1.0, 102.0)  # exactly the interval: on time
        figures = timing.done(102.0, 1.5, 1.0, 103.5)
        assert figures.late and figures.late_total == 1
        assert timing.newest == figures

    def test_logs_late_ticks_once_a_minute_and_the_return(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger=LOGGER)
        timing = TickTiming()

        def said() -> list[str]:
            lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
            caplog.clear()
            return lines

        timing.done(100.0, 0.5, 1.0, 100.5)
        assert said() == []
        timing.done(101.0, 2.0, 1.0, 103.0)
        [first] = said()
        assert first.startswith("detection.tick_late: a detection tick took 2.00 s")
        assert "over the 1 s interval (1 late" in first
        timing.done(103.0, 2.0, 1.0, 105.0)
        timing.done(105.0, 2.0, 1.0, 103.0 + LATE_LOG_EVERY_S - 0.001)
        assert said() == []  # within a minute of the last line
        timing.done(105.0, 2.0, 1.0, 103.0 + LATE_LOG_EVERY_S)
        [again] = said()
        assert "(3 late since the last such line)" in again
        timing.done(200.0, 0.5, 1.0, 200.5)
        [back] = said()
        assert back.startswith("detection.tick_on_time")
        timing.done(201.0, 0.5, 1.0, 201.5)
        assert said() == []
