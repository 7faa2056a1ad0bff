"""StoreHealth: the last write outcome, probes, and one log line per fault kind
per LOG_EVERY_S; on a real SQLite file, with the time injected."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from deconfliction.service.store_health import LOG_EVERY_S, StoreHealth
from deconfliction.store import engine as store_engine
from deconfliction.store.faults import StoreFaultKind

FULL = sqlite3.OperationalError("database or disk is full")
LOCKED = sqlite3.OperationalError("database is locked")


@dataclass
class Ticker:
    t_s: float = 1000.0

    def __call__(self) -> float:
        return self.t_s


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "store fault" in r.getMessage()]


@pytest.fixture
def health(tmp_path: Path) -> StoreHealth:
    engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    store_engine.upgrade(engine)
    return StoreHealth(engine, Ticker())


class TestRecord:
    def test_one_line_per_kind_per_period(
        self, health: StoreHealth, caplog: pytest.LogCaptureFixture
    ) -> None:
        ticker = health._monotonic
        assert isinstance(ticker, Ticker)
        caplog.set_level(logging.WARNING)
        for _ in range(50):
            assert health.record(FULL) is not None
        health.record(LOCKED)
        assert len(_lines(caplog)) == 2  # one for "full", one for "busy"
        ticker.t_s += LOG_EVERY_S - 0.001
        health.record(FULL)
        assert len(_lines(caplog)) == 2
        ticker.t_s += 0.001  # exactly LOG_EVERY_S after the first line
        health.record(FULL)
        lines = _lines(caplog)
        assert len(lines) == 3
        assert "50 more" in lines[-1]
        assert health.faults_total[StoreFaultKind.FULL] == 52
        assert not any(r.exc_info for r in caplog.records)

    def test_not_a_fault(self, health: StoreHealth) -> None:
        assert health.record(KeyError("x")) is None
        assert sum(health.faults_total.values()) == 0


class TestWriteFault:
    def test_a_fault_then_a_probe_that_succeeds(self, health: StoreHealth) -> None:
        health.watch()
        health.record(FULL)
        # The store is fine in fact: the probe's write says so.
        assert health.write_fault() is None
        assert health.write_fault() is None

    def test_a_fault_the_probe_confirms(self, tmp_path: Path) -> None:
        path = tmp_path / "a.db"
        engine = store_engine.make_engine(f"sqlite:///{path}")
        store_engine.upgrade(engine)
        engine.dispose()
        ticker = Ticker()
        health = StoreHealth(
            create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"), ticker
        )
        health.watch()
        fault = health.write_fault()
        assert fault is not None
        assert fault.kind is StoreFaultKind.READ_ONLY
        # No new probe within PROBE_EVERY_S: the last answer stands.
        assert health.write_fault() == fault
        assert sum(health.faults_total.values()) == 0  # probes are not counted
