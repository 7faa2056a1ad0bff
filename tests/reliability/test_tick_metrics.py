"""Tick duration and tick lag for the operator, on a real server on both backends
(#21.8): separate metrics on /metrics, the newest tick on /healthz for the
operator's token only, and ``detection.tick_late`` in the log when a tick takes
longer than the interval. No duration is asserted: a tick of a real server always
takes more than the 1 ms interval of the second test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import put_in_effect

OPERATOR_TOKEN = "operator-token-for-the-tests-0123456789"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
WAIT_S = 60.0
TICK_FIELDS = {"duration_s", "age_s", "lag_s", "interval_s", "late", "late_total"}


def _samples(text: str) -> dict[str, float]:
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.labels
    }


def _server(database_url: str, tmp_path: Path, interval_s: float) -> Server:
    return start_server(
        database_url,
        tmp_path / "server.log",
        detection_interval_s=interval_s,
        env={"DECONFLICTION_OPERATOR_TOKEN": OPERATOR_TOKEN},
    )


def _wait_for(server: Server, condition: Any) -> dict[str, float]:
    deadline = time.monotonic() + WAIT_S
    while True:
        text = httpx.get(f"{server.url}/metrics", headers=OPERATOR).text
        samples = _samples(text)
        if condition(samples):
            return samples
        assert time.monotonic() < deadline, text
        time.sleep(0.2)


@pytest.fixture
def ticking(database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = _server(database_url, tmp_path, 0.5)
    yield server
    server.stop()


@pytest.fixture
def overrunning(database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = _server(database_url, tmp_path, 0.001)
    yield server
    server.stop()


class TestTickFigures:
    def test_metrics_give_duration_and_lag_apart(self, ticking: Server) -> None:
        tokens = {
            p: add_party(ticking.database_url, p, "officer")
            for p in ("coalition", "russia")
        }
        put_in_effect(ticking.url, tokens)
        samples = _wait_for(
            ticking,
            lambda s: (
                s.get("deconfliction_detection_tick_duration_seconds_count", 0) >= 2
            ),
        )
        assert samples["deconfliction_detection_tick_last_duration_seconds"] > 0
        assert samples["deconfliction_detection_tick_lag_seconds"] >= 0
        assert samples["deconfliction_detection_tick_age_seconds"] >= 0
        assert samples["deconfliction_detection_interval_seconds"] == 0.5
        assert "deconfliction_detection_ticks_late_total" in samples

    def test_healthz_shows_the_tick_to_the_operator_only(self, ticking: Server) -> None:
        party = add_party(ticking.database_url, "coalition", "admin")
        _wait_for(
            ticking,
            lambda s: "deconfliction_detection_tick_last_duration_seconds" in s,
        )
        operator = httpx.get(f"{ticking.url}/healthz", headers=OPERATOR).json()
        assert set(operator["detection_tick"]) == TICK_FIELDS
        assert operator["detection_tick"]["interval_s"] == 0.5
        assert operator["detection_tick"]["lag_s"] >= 0
        for headers in ({}, {"Authorization": f"Bearer {party}"}):
            body = httpx.get(f"{ticking.url}/healthz", headers=headers).json()
            assert "detection_tick" not in body


class TestLateTicks:
    def test_a_tick_over_the_interval_is_counted_and_logged(
        self, overrunning: Server
    ) -> None:
        samples = _wait_for(
            overrunning,
            lambda s: s.get("deconfliction_detection_ticks_late_total", 0) >= 1,
        )
        assert samples["deconfliction_detection_tick_lag_seconds"] >= 0
        tick = httpx.get(f"{overrunning.url}/healthz", headers=OPERATOR).json()[
            "detection_tick"
        ]
        assert tick["late"] is True and tick["late_total"] >= 1
        overrunning.stop()
        log = overrunning.log()
        assert "detection.tick_late: a detection tick took" in log
        assert "over the 0.001 s interval" in log
