"""A clean stop is clean: SIGTERM in the middle of ingestion and detection exits
with status 0, and on SQLite leaves the database file complete on its own (the
write-ahead log checkpointed into it and emptied), so that a copy of the ``.db``
alone holds every acknowledged batch."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from deconfliction.store import engine as store_engine
from deconfliction.store.tables import ingest_batches
from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import put_in_effect

N_CLIENTS = 2
ROWS_PER_BATCH = 400
STOP_AFTER_ACKS = 30  # batches acknowledged before the SIGTERM
WAIT_S = 60.0


def _batch(client: int, k: int) -> dict[str, Any]:
    """Live positions of ``ROWS_PER_BATCH`` aircraft near the Euphrates line, so
    that every detection tick has work to do."""
    now_s = time.time()
    return {
        "batch_id": f"c{client}-{k:05d}",
        "positions": [
            {
                "id": f"C{client}A{a:03d}",
                "time": now_s - 1.0,
                "lat": 35.0 + a * 0.005,
                "lon": 38.5 + (k % 50) * 0.002,
                "alt_ft": 20000.0 + a * 10.0,
                "gs_kt": 400.0,
                "trk_deg": 90.0,
                "vs_fpm": 0.0,
            }
            for a in range(ROWS_PER_BATCH)
        ],
    }


@dataclass
class _Seen:
    acked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post_until_refused(
    server: Server, token: str, client: int, seen: _Seen, enough: threading.Event
) -> None:
    with server.client(token) as http:
        for k in range(100_000):
            body = _batch(client, k)
            try:
                r = http.post("/v1/tracks", json=body)
            except httpx.HTTPError:
                return
            if r.status_code != 201:
                return
            with seen.lock:
                seen.acked.add(body["batch_id"])
                if len(seen.acked) >= STOP_AFTER_ACKS:
                    enough.set()


def _stored(url: str) -> dict[str, int]:
    engine = store_engine.make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(ingest_batches.c.batch_id, ingest_batches.c.accepted)
            ).all()
    finally:
        engine.dispose()
    return {r.batch_id: r.accepted for r in rows}


def _stored_in_file_alone(db_path: Path, into: Path) -> dict[str, int]:
    """Copy the ``.db`` without its ``-wal`` and read the batches from the copy."""
    into.mkdir()
    copy = into / db_path.name
    shutil.copyfile(db_path, copy)
    conn = sqlite3.connect(copy)
    try:
        return dict(conn.execute("SELECT batch_id, accepted FROM ingest_batches"))
    finally:
        conn.close()


class TestSigterm:
    def test_sigterm_mid_ingestion_exits_0_with_everything_acknowledged(
        self, database_url: str, tmp_path: Path
    ) -> None:
        tokens = {
            p: add_party(database_url, p, "officer") for p in ("coalition", "russia")
        }
        server = start_server(
            database_url, tmp_path / "server.log", detection_interval_s=0.2
        )
        seen = _Seen()
        try:
            put_in_effect(server.url, tokens)
            enough = threading.Event()
            clients = [
                threading.Thread(
                    target=_post_until_refused,
                    args=(server, tokens["coalition"], c, seen, enough),
                    daemon=True,
                )
                for c in range(N_CLIENTS)
            ]
            for c in clients:
                c.start()
            assert enough.wait(WAIT_S), server.log()
            server.process.send_signal(signal.SIGTERM)
            returncode = server.process.wait(WAIT_S)
            for c in clients:
                c.join(WAIT_S)
        finally:
            server.stop(kill=True)
        assert returncode == 0, server.log()
        assert "Traceback" not in server.log()
        assert len(seen.acked) >= STOP_AFTER_ACKS
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            # Before anything opens the database again (which would checkpoint).
            db_path = Path(url.database or "")
            wal = db_path.with_name(db_path.name + "-wal")
            assert not wal.exists() or wal.stat().st_size == 0
            alone = _stored_in_file_alone(db_path, tmp_path / "copy")
            assert seen.acked <= set(alone)
            assert all(alone[b] == ROWS_PER_BATCH for b in seen.acked)
        stored = _stored(database_url)
        assert seen.acked <= set(stored)
        assert all(stored[b] == ROWS_PER_BATCH for b in seen.acked)
