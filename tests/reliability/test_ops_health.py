"""Liveness and readiness without a token: ok or not and why in generic words, and
nothing about anyone's aircraft (the health check used to give any caller the
number of live aircraft and conflicts)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import Server, add_party
from tests.integration.helpers import encounter, put_in_effect

WAIT_S = 30.0


def _numbers(value: Any) -> list[Any]:
    """Every number in a JSON value."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


class TestHealthWithoutToken:
    def test_says_ready_and_reveals_no_counts(self, server: Server) -> None:
        tokens = {
            p: add_party(server.database_url, p, "officer")
            for p in ("coalition", "russia")
        }
        put_in_effect(server.url, tokens)
        viper, rf = encounter(time.time())
        for party, rows in (("coalition", viper), ("russia", rf)):
            with server.client(tokens[party]) as client:
                body = {"batch_id": "b1", "positions": rows}
                assert client.post("/v1/tracks", json=body).status_code == 201
        deadline = time.monotonic() + WAIT_S
        with server.client(tokens["coalition"]) as client:
            while not client.get("/v1/alerts").json():
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.1)
        for path in ("/healthz", "/readyz", "/livez"):
            r = httpx.get(f"{server.url}{path}")
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["status"] == "ok"
            assert _numbers(body) == [], f"{path}: {body}"
        ready = httpx.get(f"{server.url}/readyz").json()
        assert ready == {"status": "ok", "store": "ok", "detection": "ok"}
