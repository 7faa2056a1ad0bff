"""Two servers, one service: two ``serve`` processes on one database run one
detection loop between them (one alert and one incident of each kind per
encounter), both serve the API and the stream, and when the one detecting is
killed the other takes over with the same alert id and no all-clear; on SQLite and
on PostgreSQL, with real server processes on loopback."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.integration.helpers import StreamReader
from tests.reliability._servers import (
    detection_holder,
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
TICKS = 6  # three times the alert's hysteresis (two intervals)


def _pid_holds(server: Server, holder: str | None) -> bool:
    return holder is not None and f":{server.process.pid}:" in holder


def test_one_detection_loop_and_a_takeover(database_url: str, tmp_path: Path) -> None:
    tokens_ = tokens(database_url)
    servers = [
        start_server(database_url, tmp_path / f"server-{k}.log", INTERVAL_S)
        for k in range(2)
    ]
    try:
        a, b = servers
        t0_s = start_encounter(a, tokens_)  # through one server
        post_encounter(b, tokens_, t0_s, time.time())  # and the other
        wait_until(lambda: encounter_alerted(database_url), "alert", a)
        t_s = time.time()
        post_encounter(a, tokens_, t0_s, t_s)
        wait_until(
            lambda: ticked_after(database_url, t_s + TICKS * INTERVAL_S), "ticks", a
        )
        before = stored(database_url)
        # One detection loop: the alert raised once, each incident opened once.
        assert len(before["alerts"]) == 1
        assert before["events"]["alert.raised"] == 1, before["events"]
        assert before["events"]["incident.opened"] == 2
        assert [k for k, _, _ in before["incidents"]] == [
            "line_violation",
            "loss_of_separation",
        ]
        # Both serve the API and the stream, and both are ready.
        for server in servers:
            assert httpx.get(f"{server.url}/readyz").status_code == 200
            raised = StreamReader(server.url, tokens_["coalition"]).collect(
                lambda got: any(e["type"] == "alert.raised" for e in got)
            )
            assert [e["data"]["id"] for e in raised if e["type"] == "alert.raised"] == [
                before["raised"][0]
            ]

        holder = detection_holder(database_url)
        [leader] = [s for s in servers if _pid_holds(s, holder)]
        [other] = [s for s in servers if s is not leader]
        leader.stop(kill=True)
        assert leader.process.returncode == -signal.SIGKILL

        t_s = time.time()
        post_encounter(other, tokens_, t0_s, t_s)  # the encounter goes on
        wait_until(
            lambda: _pid_holds(other, detection_holder(database_url)), "takeover", other
        )
        wait_until(
            lambda: ticked_after(database_url, t_s + TICKS * INTERVAL_S), "ticks", other
        )
        with other.client(tokens_["coalition"]) as client:
            active = [x["id"] for x in client.get("/v1/alerts?active=true").json()]
            ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
    finally:
        for server in servers:
            server.stop()

    after = stored(database_url)
    [(alert_id, _)] = before["alerts"]
    assert after["alerts"] == [(alert_id, None)]
    assert active == [alert_id]
    assert after["raised"] == [alert_id]
    assert after["events"]["alert.cleared"] == 0
    assert [(k, i) for k, i, _ in after["incidents"]] == [
        (k, i) for k, i, _ in before["incidents"]
    ]
    assert [end for _, _, end in after["incidents"]] == [None, None]
    assert after["events"]["incident.opened"] == 2
