"""Retention in a running server: positions past their retention are archived and
pruned in the background while clients keep posting, every post answered 201."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from deconfliction.adapters.position_archive import POSITIONS_DIR
from deconfliction.service import auth, ingest
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import positions
from deconfliction.units import S_PER_DAY
from tests.conftest import Server, add_party, start_server

N_OLD_BATCHES = 12
ROWS_PER_BATCH = 1000  # 12,000 old positions: several delete transactions
WAIT_S = 120.0


def _rows(k: int, t_s: float) -> list[dict[str, Any]]:
    return [
        {
            "id": f"A{a:04d}",
            "time": t_s - 100.0 + k % 50,
            "lat": 36.0 + a * 0.0005,
            "lon": 41.5,
            "alt_ft": 20000.0,
            "gs_kt": 400.0,
            "trk_deg": 90.0,
            "vs_fpm": 0.0,
        }
        for a in range(ROWS_PER_BATCH)
    ]


def _seed_old(database_url: str) -> set[int]:
    """Batches received 40 days ago; their position ids."""
    add_party(database_url, "coalition", "officer")
    engine = store_engine.make_engine(database_url)
    old_s = time.time() - 40 * S_PER_DAY
    who = auth.Principal("coalition", auth.Role.OFFICER)
    try:
        for k in range(N_OLD_BATCHES):
            with engine.begin() as conn:
                ingest.ingest_batch(conn, who, f"old-{k}", _rows(k, old_s), old_s, 5.0)
        with engine.connect() as conn:
            return set(conn.execute(select(positions.c.id)).scalars())
    finally:
        engine.dispose()


def _left(database_url: str, ids: set[int]) -> int:
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(positions)
                    .where(positions.c.id <= max(ids))
                ).scalar_one()
            )
    finally:
        engine.dispose()


class TestPruningInTheBackground:
    def test_old_positions_archived_while_clients_post(
        self, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        old_ids = _seed_old(database_url)
        token = add_party(database_url, "coalition", "officer")
        archive = tmp_path / "archive"
        monkeypatch.setenv("DECONFLICTION_PRUNE_INTERVAL_S", "1")
        monkeypatch.setenv("DECONFLICTION_ARCHIVE_DIR", str(archive))
        server: Server = start_server(database_url, tmp_path / "server.log")
        answers: list[int] = []
        stop = threading.Event()

        def post() -> None:
            with server.client(token) as client:
                k = 0
                while not stop.is_set():
                    body = {"batch_id": f"new-{k}", "positions": _rows(k, time.time())}
                    answers.append(client.post("/v1/tracks", json=body).status_code)
                    k += 1

        poster = threading.Thread(target=post, daemon=True)
        try:
            poster.start()
            deadline = time.monotonic() + WAIT_S
            while _left(database_url, old_ids) > 0:
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
            while len(answers) < 3:  # and ingestion went on
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
        finally:
            stop.set()
            poster.join(WAIT_S)
            server.stop()
        assert set(answers) == {201}
        files = sorted((archive / POSITIONS_DIR).glob("day=*/part-*.parquet"))
        archived = [
            i
            for f in files
            for i in pq.read_table(f, columns=["row_id"])["row_id"].to_pylist()
        ]
        assert sorted(archived) == sorted(old_ids)
        assert "Traceback" not in server.log()
