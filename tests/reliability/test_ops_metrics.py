"""The operator's metrics on a real server: /metrics answers the operator token only
(a party never reads the others' counts there), and counts what happened: positions
accepted and rejected by party and reason, batch handling, ticks, alerts and
incidents by kind, stream clients, feed lag. And the log as JSON lines."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import encounter, put_in_effect

OPERATOR_TOKEN = "operator-token-for-the-tests-0123456789"
WAIT_S = 60.0


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def operated(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    monkeypatch.setenv("DECONFLICTION_OPERATOR_TOKEN", OPERATOR_TOKEN)
    monkeypatch.setenv("DECONFLICTION_LOG_FORMAT", "json")
    server = start_server(database_url, tmp_path / "server.log")
    yield server
    server.stop()


class TestMetrics:
    def test_only_the_operator_reads_them(self, operated: Server) -> None:
        party = add_party(operated.database_url, "coalition", "admin")
        url = f"{operated.url}/metrics"
        missing = httpx.get(url)
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        wrong = httpx.get(url, headers={"Authorization": f"Bearer {party}"})
        assert wrong.status_code == 403
        assert "deconfliction_" not in wrong.text
        right = httpx.get(url, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
        assert right.status_code == 200
        assert right.headers["content-type"].startswith("text/plain")

    def test_counts_what_happened(self, operated: Server) -> None:
        tokens = {
            p: add_party(operated.database_url, p, "officer")
            for p in ("coalition", "russia")
        }
        put_in_effect(operated.url, tokens)
        viper, rf = encounter(time.time())
        bad = {**viper[0], "lat": 999.0}
        for party, rows in (("coalition", [*viper, bad]), ("russia", rf)):
            with operated.client(tokens[party]) as client:
                r = client.post(
                    "/v1/tracks", json={"batch_id": "b1", "positions": rows}
                )
                assert r.status_code == 201, r.text
                again = client.post(
                    "/v1/tracks", json={"batch_id": "b1", "positions": rows}
                )
                assert again.status_code == 200
        ws_url = operated.url.replace("http://", "ws://") + "/v1/stream"
        operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        with connect(
            ws_url, additional_headers={"Authorization": f"Bearer {tokens['russia']}"}
        ) as ws:
            ws.recv(timeout=WAIT_S)  # the stream is open and has sent an event
            deadline = time.monotonic() + WAIT_S
            while True:
                text = httpx.get(f"{operated.url}/metrics", headers=operator).text
                samples = _samples(text)
                alerts = sum(
                    v
                    for (name, _), v in samples.items()
                    if name == "deconfliction_alerts_active"
                )
                if alerts >= 1:
                    break
                assert time.monotonic() < deadline, text
                time.sleep(0.2)
        assert _value(
            samples, "deconfliction_positions_accepted_total", party="coalition"
        ) == len(viper)
        assert _value(
            samples, "deconfliction_positions_accepted_total", party="russia"
        ) == len(rf)
        assert (
            _value(
                samples,
                "deconfliction_positions_rejected_total",
                party="coalition",
                reason="lat",
            )
            == 1
        )
        assert (
            _value(
                samples,
                "deconfliction_batches_total",
                party="coalition",
                outcome="stored",
            )
            == 1
        )
        assert (
            _value(
                samples,
                "deconfliction_batches_total",
                party="coalition",
                outcome="duplicate",
            )
            == 1
        )
        assert (
            _value(
                samples, "deconfliction_batch_duration_seconds_count", party="russia"
            )
            == 2
        )
        assert (
            _value(samples, "deconfliction_detection_tick_duration_seconds_count") >= 1
        )
        assert _value(samples, "deconfliction_detection_tick_age_seconds") >= 0
        assert _value(samples, "deconfliction_stream_clients", party="russia") == 1
        assert (
            _value(samples, "deconfliction_stream_backlog_events", party="russia") >= 0
        )
        assert (
            _value(samples, "deconfliction_incidents_ongoing", kind="line_violation")
            >= 1
        )
        for party in ("coalition", "russia"):
            lag = _value(samples, "deconfliction_feed_lag_seconds", party=party)
            assert lag is not None and lag >= 0
        assert _value(samples, "deconfliction_store_up") == 1
        assert _value(samples, "deconfliction_store_writable") == 1
        # After the stream closed, it is no longer counted.
        deadline = time.monotonic() + WAIT_S
        while _value(
            _samples(httpx.get(f"{operated.url}/metrics", headers=operator).text),
            "deconfliction_stream_clients",
            party="russia",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.2)


class TestJsonLog:
    def test_every_line_is_json_and_secrets_stay_out(self, operated: Server) -> None:
        httpx.get(f"{operated.url}/livez?token=do-not-log-me")
        httpx.get(f"{operated.url}/metrics")
        operated.stop()
        lines = [ln for ln in operated.log().splitlines() if ln.strip()]
        assert lines
        records = [json.loads(ln) for ln in lines]
        for record in records:
            assert {"time", "level", "logger", "message"} <= set(record)
        access = [r for r in records if r["logger"] == "uvicorn.access"]
        assert {"method", "path", "status"} <= set(access[0])
        assert any(r["path"].startswith("/livez?token=[redacted]") for r in access)
        assert "do-not-log-me" not in operated.log()
