"""Faults answer as faults: with the store cut off (PostgreSQL) or its disk full
(SQLite), a real server answers 503 problem+json with ``Retry-After``, readiness
says so, the stream closes with 1013, the log has a line per kind of fault (not a
traceback per request), and everything comes back when the store does."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from deconfliction.store import engine as store_engine
from deconfliction.store.tables import ingest_batches
from tests.conftest import Server, add_party, start_server
from tests.reliability.ops_faults import faulty_store

WAIT_S = 60.0  # bound on every wait for the server to change its answer
N_FAILED_POSTS = 12
FAULT_KINDS = {"unreachable": {"unreachable"}, "full": {"full", "io_error"}}


def _batch(k: int) -> dict[str, Any]:
    return {
        "batch_id": f"b{k:03d}",
        "positions": [
            {
                "id": f"A{k:03d}",
                "time": time.time() - 120.0,
                "lat": 35.0,
                "lon": 38.0 + k * 0.01,
                "alt_ft": 20000.0,
                "gs_kt": 400.0,
                "trk_deg": 90.0,
                "vs_fpm": 0.0,
            }
        ],
    }


def _wait_for(check: Callable[[], bool], what: str, server: Server) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {WAIT_S} s:\n{server.log()}")
        time.sleep(0.1)


def _ready(server: Server) -> bool:
    return httpx.get(f"{server.url}/readyz", timeout=30).status_code == 200


def _stream_close_code(server: Server, token: str) -> int | None:
    ws_url = server.url.replace("http://", "ws://") + "/v1/stream"
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        try:
            ws.recv(timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
    return None


def _stored_batches(url: str) -> int:
    engine = store_engine.make_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(ingest_batches)
                ).scalar_one()
            )
    finally:
        engine.dispose()


class TestStoreFaults:
    def test_a_store_fault_is_a_503_and_passes(
        self, database_url: str, tmp_path: Path
    ) -> None:
        with faulty_store(database_url, tmp_path) as store:
            token = add_party(store.url, "coalition", "officer")
            server = start_server(store.url, tmp_path / "server.log")
            kinds = FAULT_KINDS[store.kind]
            try:
                with server.client(token) as client:
                    assert client.post("/v1/tracks", json=_batch(0)).status_code == 201
                    _wait_for(lambda: _ready(server), "ready", server)

                    store.cut()
                    failed = [
                        client.post("/v1/tracks", json=_batch(k))
                        for k in range(1, N_FAILED_POSTS + 1)
                    ]
                    for r in failed:
                        assert r.status_code == 503, r.text
                        assert r.headers["content-type"] == "application/problem+json"
                        assert int(r.headers["retry-after"]) >= 1
                        assert r.json()["reason"].removeprefix("store_") in kinds
                    ready = httpx.get(f"{server.url}/readyz", timeout=30)
                    assert ready.status_code == 503
                    assert int(ready.headers["retry-after"]) >= 1
                    assert ready.json()["status"] == "unavailable"
                    assert ready.json()["store"] != "ok"
                    assert httpx.get(f"{server.url}/healthz").status_code == 503
                    assert httpx.get(f"{server.url}/livez").status_code == 200
                    if store.kind == "unreachable":
                        # Reads fail too, and the stream's handshake: no 500.
                        alerts = client.get("/v1/alerts")
                        assert alerts.status_code == 503
                        assert "retry-after" in alerts.headers
                        assert _stream_close_code(server, token) == 1013

                    store.mend()
                    _wait_for(lambda: _ready(server), "ready again", server)
                    for k in range(1, N_FAILED_POSTS + 1):  # the client retries
                        r = client.post("/v1/tracks", json=_batch(k))
                        assert r.status_code == 201, r.text
            finally:
                server.stop()
            assert _stored_batches(store.url) == N_FAILED_POSTS + 1
        log = server.log()
        assert "Traceback" not in log
        faults = [line for line in log.splitlines() if "store fault:" in line]
        # One line per kind met (a kind may show again after LOG_EVERY_S), not
        # one per failed request, probe or detection tick.
        assert 1 <= len(faults) <= 2 * len(kinds), faults
        assert len(faults) < N_FAILED_POSTS
