"""A restart is invisible to the parties: a server killed (SIGKILL) or stopped
(SIGTERM) in the middle of an encounter and started again continues the same alert
and the same incidents, sends no all-clear, and counts the encounter once; on SQLite
and on PostgreSQL, with real server processes on loopback."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import start_server
from tests.reliability._servers import (
    encounter_alerted,
    post_encounter,
    start_encounter,
    stored,
    ticked_after,
    tokens,
    wait_until,
)

pytestmark = pytest.mark.slow

INTERVAL_S = 0.5
TICKS_AFTER_RESTART = 6  # three times the alert's hysteresis (two intervals)


@pytest.mark.parametrize("kill", [True, False], ids=["SIGKILL", "SIGTERM"])
def test_an_encounter_goes_on_through_a_restart(
    database_url: str, tmp_path: Path, kill: bool
) -> None:
    tokens_ = tokens(database_url)
    first = start_server(database_url, tmp_path / "first.log", INTERVAL_S)
    try:
        t0_s = start_encounter(first, tokens_)
        wait_until(lambda: encounter_alerted(database_url), "alert", first)
        before = stored(database_url)
        first.stop(kill=kill)
    finally:
        first.stop(kill=True)
    if kill:
        assert first.process.returncode == -signal.SIGKILL

    second = start_server(database_url, tmp_path / "second.log", INTERVAL_S)
    try:
        t_s = time.time()
        post_encounter(second, tokens_, t0_s, t_s)  # the encounter goes on
        wait_until(
            lambda: ticked_after(database_url, t_s + TICKS_AFTER_RESTART * INTERVAL_S),
            "ticks after the restart",
            second,
        )
        with second.client(tokens_["coalition"]) as client:
            active = [a["id"] for a in client.get("/v1/alerts?active=true").json()]
            stats = client.get("/v1/incidents/stats").json()["by_party"]
    finally:
        second.stop()

    after = stored(database_url)
    [(alert_id, _)] = before["alerts"]
    assert after["alerts"] == [(alert_id, None)]  # the same alert, still active
    assert active == [alert_id]
    assert after["raised"] == [alert_id]
    assert after["events"]["alert.cleared"] == 0  # no false all-clear
    # One incident per encounter, still ongoing, with its id of before.
    assert [(kind, i) for kind, i, _ in after["incidents"]] == [
        (kind, i) for kind, i, _ in before["incidents"]
    ]
    assert [end for _, _, end in after["incidents"]] == [None, None]
    assert after["events"]["incident.opened"] == 2
    assert after["events"]["incident.closed"] == 0
    counted: Counter[str] = Counter()
    for day in stats["coalition"].values():
        counted.update(day)
    assert counted == {"line_violation": 1, "loss_of_separation": 1}
