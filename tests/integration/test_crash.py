"""Nothing lost: a server killed with SIGKILL in the middle of ingestion keeps every
batch it acknowledged, whole and once, and a client that retries everything after
the restart creates no duplicate; on SQLite and on PostgreSQL."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from deconfliction.service import auth, ingest
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import ingest_batches, positions
from tests.conftest import Server, add_party, start_server

pytestmark = pytest.mark.slow

PARTY = "coalition"
N_ROUNDS = 3  # kills; each lands in a different place of a request, at random
BATCHES_PER_ROUND = 160
N_BATCHES = N_ROUNDS * BATCHES_PER_ROUND
ROWS_PER_BATCH = 200  # one of them invalid, so accepted != posted
ACCEPTED_PER_BATCH = ROWS_PER_BATCH - 1
N_CLIENTS = 2  # concurrent connections, so that several requests are in flight
KILL_AFTER_ACKS = 50  # per round: about a third of the way in
WAIT_S = 30.0  # bound on every wait; the test takes ~10-20 s per backend


def _batch_id(k: int) -> str:
    return f"crash-{k:04d}"


def _batch(k: int, t0_s: float) -> dict[str, Any]:
    """Batch ``k``: one position per aircraft, the last row out of range.

    Deterministic in ``k`` so that a retry posts the very same batch. Times are an
    hour in the past: history only, no live picture to set up.
    """
    rows: list[dict[str, Any]] = [
        {
            "id": f"A{a:03d}",
            "time": t0_s + k,
            "lat": 35.0 + a * 0.01,
            "lon": 38.0 + k * 0.001,
            "alt_ft": 20000.0,
            "gs_kt": 400.0,
            "trk_deg": 90.0,
            "vs_fpm": 0.0,
        }
        for a in range(ACCEPTED_PER_BATCH)
    ]
    rows.append({**rows[0], "id": "BAD", "lat": 999.0})
    return {"batch_id": _batch_id(k), "positions": rows}


@dataclass
class Ingestion:
    """What the clients saw: acknowledged batches and requests that failed."""

    acked: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(
    server: Server,
    token: str,
    ks: range,
    t0_s: float,
    seen: Ingestion,
    enough: threading.Event,
) -> None:
    """Post batches ``ks`` back to back; stop at the first failed request."""
    acked_here = 0
    with server.client(token) as client:
        for k in ks:
            body = _batch(k, t0_s)
            try:
                r = client.post("/v1/tracks", json=body)
            except httpx.HTTPError:
                with seen.lock:
                    seen.failed.add(body["batch_id"])
                return
            with seen.lock:
                if r.status_code == 201 and r.json()["accepted"] == ACCEPTED_PER_BATCH:
                    seen.acked.add(body["batch_id"])
                    acked_here += 1
                else:
                    seen.unexpected.append(f"{body['batch_id']}: {r.status_code}")
            if acked_here * N_CLIENTS >= KILL_AFTER_ACKS:
                enough.set()


def _ingest_and_kill(
    server: Server, token: str, ks: range, t0_s: float, seen: Ingestion
) -> None:
    """Post ``ks`` from concurrent clients and SIGKILL the server mid-way."""
    enough = threading.Event()
    clients = [
        threading.Thread(
            target=_client,
            args=(server, token, ks[i::N_CLIENTS], t0_s, seen, enough),
            daemon=True,
        )
        for i in range(N_CLIENTS)
    ]
    failed_before = len(seen.failed)
    try:
        for c in clients:
            c.start()
        assert enough.wait(WAIT_S), server.log()
        server.stop(kill=True)
        for c in clients:
            c.join(WAIT_S)
        assert not any(c.is_alive() for c in clients)
    finally:
        server.stop(kill=True)
    assert server.process.returncode == -signal.SIGKILL  # no clean shutdown
    assert seen.unexpected == []
    # The kill landed mid-ingestion: requests were in flight and failed.
    assert len(seen.failed) > failed_before
    assert not set(map(_batch_id, ks)) <= seen.acked


def _stored(database_url: str) -> tuple[dict[str, int], Counter[str], set[str]]:
    """Per batch: accepted count recorded, rows stored; and duplicated rows."""
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            recorded = {
                r.batch_id: r.accepted
                for r in conn.execute(
                    select(ingest_batches.c.batch_id, ingest_batches.c.accepted).where(
                        ingest_batches.c.party_id == PARTY
                    )
                )
            }
            rows = conn.execute(
                select(
                    positions.c.batch_id, positions.c.aircraft_id, positions.c.t_s
                ).where(positions.c.party_id == PARTY)
            ).all()
    finally:
        engine.dispose()
    per_batch = Counter(r.batch_id for r in rows)
    keys = Counter((r.batch_id, r.aircraft_id, r.t_s) for r in rows)
    duplicated = {f"{b}/{a}@{t}" for (b, a, t), n in keys.items() if n > 1}
    return recorded, per_batch, duplicated


def _check_store(database_url: str, seen: Ingestion) -> dict[str, int]:
    """Every acknowledged batch whole and once; nothing partial, nothing else."""
    recorded, per_batch, duplicated = _stored(database_url)
    assert seen.acked <= set(recorded)
    assert all(recorded[b] == ACCEPTED_PER_BATCH for b in recorded)
    # Only batches whose request failed may also be there, and then complete.
    assert set(recorded) - seen.acked <= seen.failed
    # No batch without all its rows, no row without its batch.
    partial = {
        b: (per_batch.get(b, 0), n)
        for b, n in recorded.items()
        if per_batch.get(b, 0) != n
    }
    assert partial == {}, "batch: (rows stored, accepted)"
    assert set(per_batch) <= set(recorded)
    assert duplicated == set()
    return recorded


def _wait_healthy(server: Server) -> httpx.Response:
    deadline = time.monotonic() + WAIT_S
    r = httpx.get(f"{server.url}/healthz", timeout=5)
    while r.status_code != 200 and time.monotonic() < deadline:
        # The first detection tick runs right after start-up; poll until it has.
        threading.Event().wait(0.05)
        r = httpx.get(f"{server.url}/healthz", timeout=5)
    return r


class _Crash(Exception):
    """The process dies here: nothing after this point is committed."""


class TestIngestBatchIsOneTransaction:
    def test_a_batch_not_committed_leaves_nothing(self, database_url: str) -> None:
        # What a kill between ingest_batch and the commit leaves, deterministically:
        # the transaction is rolled back, so neither the batch nor a row may stay.
        add_party(database_url, PARTY, "officer")
        who = auth.Principal(PARTY, auth.Role.OFFICER)
        body = _batch(0, time.time() - 3600.0)
        engine = store_engine.make_engine(database_url)
        try:
            with pytest.raises(_Crash), engine.begin() as conn:
                result = ingest.ingest_batch(
                    conn, who, body["batch_id"], body["positions"], time.time(), 5.0
                )
                assert result.accepted == ACCEPTED_PER_BATCH
                raise _Crash
            recorded, per_batch, _ = _stored(database_url)
            assert (recorded, dict(per_batch)) == ({}, {})

            # The client's retry then stores the batch whole.
            with engine.begin() as conn:
                retry = ingest.ingest_batch(
                    conn, who, body["batch_id"], body["positions"], time.time(), 5.0
                )
            assert (retry.accepted, retry.duplicate) == (ACCEPTED_PER_BATCH, False)
        finally:
            engine.dispose()
        recorded, per_batch, _ = _stored(database_url)
        expected = {body["batch_id"]: ACCEPTED_PER_BATCH}
        assert (recorded, dict(per_batch)) == (expected, expected)


class TestKilledServer:
    def test_nothing_acknowledged_is_lost_and_retries_do_not_duplicate(
        self, database_url: str, tmp_path: Path
    ) -> None:
        token = add_party(database_url, PARTY, "officer")
        t0_s = time.time() - 3600.0
        seen = Ingestion()
        for rnd in range(N_ROUNDS):
            server = start_server(database_url, tmp_path / f"server-{rnd}.log")
            try:
                health = _wait_healthy(server)
                assert health.status_code == 200, health.text
                if rnd > 0:
                    _check_store(database_url, seen)
                ks = range(rnd * BATCHES_PER_ROUND, (rnd + 1) * BATCHES_PER_ROUND)
                _ingest_and_kill(server, token, ks, t0_s, seen)
            finally:
                server.stop(kill=True)

        restarted = start_server(database_url, tmp_path / "server-last.log")
        try:
            health = _wait_healthy(restarted)
            assert health.status_code == 200, health.text
            assert health.json()["store"] == "ok"
            recorded = _check_store(database_url, seen)

            # The client retries every batch after the crashes.
            with restarted.client(token) as client:
                for k in range(N_BATCHES):
                    r = client.post("/v1/tracks", json=_batch(k, t0_s))
                    assert r.json()["accepted"] == ACCEPTED_PER_BATCH, r.text
                    was_stored = _batch_id(k) in recorded
                    assert r.status_code == (200 if was_stored else 201), r.text
                    assert r.json()["duplicate"] is was_stored
            assert _wait_healthy(restarted).status_code == 200
        finally:
            restarted.stop()

        recorded, per_batch, duplicated = _stored(database_url)
        every = {_batch_id(k): ACCEPTED_PER_BATCH for k in range(N_BATCHES)}
        assert recorded == every
        assert dict(per_batch) == every
        assert duplicated == set()
