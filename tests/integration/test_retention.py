"""Retention on both backends: what is older than its retention is pruned, in small
transactions, the hotline's events and everything else kept; pruned positions are
archived exactly once (also across an interrupted run) as Parquet by UTC day, which
``deconfliction analyze`` reads."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, insert, select

from deconfliction.adapters.position_archive import POSITIONS_DIR
from deconfliction.analysis.tracks import TrackTable
from deconfliction.service import auth, ingest, retention
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import events, ingest_batches, positions
from deconfliction.units import S_PER_DAY
from tests.conftest import add_party
from tests.unit.analysis.helpers import head_on

NOW_S = time.time()
# 00:05Z 40 days ago: the flights (15 minutes either side) span two UTC days.
MEET_S = ((NOW_S - 40 * S_PER_DAY) // S_PER_DAY) * S_PER_DAY + 300.0
OLD_S = MEET_S + 1800.0  # when they were received: past the 30 days kept
POLICY_DAYS = {"positions_days": 30.0, "events_days": 30.0, "batches_days": 30.0}


def _post(
    engine: Engine, party: str, batch_id: str, rows: list[dict[str, Any]], t_s: float
) -> None:
    who = auth.Principal(party, auth.Role.OFFICER)
    with engine.begin() as conn:
        result = ingest.ingest_batch(conn, who, batch_id, rows, t_s, 5.0)
    assert result.accepted == len(rows)


def _rows(table: TrackTable) -> dict[str, list[dict[str, Any]]]:
    """The rows of each party, as a batch posts them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for k in range(len(table)):
        out.setdefault(str(table.party[k]), []).append(
            {
                "id": str(table.ids[k]),
                "time": float(table.t_s[k]),
                "lat": float(table.lat_deg[k]),
                "lon": float(table.lon_deg[k]),
                "alt_ft": float(table.alt_ft[k]),
                "gs_kt": float(table.gs_kt[k]),
                "trk_deg": float(table.trk_deg[k]),
                "vs_fpm": float(table.vs_fpm[k]),
            }
        )
    return out


def _seed(database_url: str) -> tuple[Engine, int]:
    """An old head-on encounter and old events; a new batch and new events.
    Returns the engine and the number of old positions."""
    for party in ("coalition", "russia"):
        add_party(database_url, party, "officer")
    engine = store_engine.make_engine(database_url)
    old = _rows(head_on(MEET_S, lat_deg=34.0, lon_deg=44.0))
    for party, rows in old.items():
        _post(engine, party, f"old-{party}", rows, OLD_S)
    fresh = _rows(head_on(NOW_S - 3600.0, lat_deg=34.0, lon_deg=44.0))
    _post(engine, "coalition", "new-coalition", fresh["coalition"], NOW_S)
    with engine.begin() as conn:
        for n, (t_s, kind) in enumerate(
            (t, k) for t in (OLD_S, NOW_S) for k in ("alert.raised", "hotline.sent")
        ):
            conn.execute(
                insert(events).values(
                    party_id="coalition",
                    seq=n + 1,
                    type=kind,
                    payload_json="{}",
                    created_t_s=t_s,
                )
            )
    return engine, sum(len(r) for r in old.values())


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(*where)
            ).scalar_one()
        )


def _archived_row_ids(archive: Path) -> list[int]:
    files = sorted((archive / POSITIONS_DIR).glob("day=*/part-*.parquet"))
    return [
        i
        for f in files
        for i in pq.read_table(f, columns=["row_id"])["row_id"].to_pylist()
    ]


class TestPrune:
    def test_prunes_and_archives_what_is_past_retention(
        self, database_url: str, tmp_path: Path
    ) -> None:
        engine, n_old = _seed(database_url)
        with engine.connect() as conn:
            old_ids = set(
                conn.execute(
                    select(positions.c.id).where(positions.c.received_t_s == OLD_S)
                ).scalars()
            )
        n_new = _count(engine, positions) - n_old
        policy = retention.RetentionPolicy(**POLICY_DAYS, archive_dir=tmp_path / "a")
        try:
            report = retention.prune(engine, policy, NOW_S)
            assert report.positions_archived == report.positions_deleted == n_old
            assert _count(engine, positions) == n_new
            assert _count(engine, positions, positions.c.received_t_s < NOW_S) == 0
            # Idempotency records: the old ones go, the new one stays.
            assert report.batches_deleted == 2
            assert _count(engine, ingest_batches) == 1
            # Events: the old alert goes; hotline events stay with the record.
            assert report.events_deleted == 1
            with engine.connect() as conn:
                kept = conn.execute(select(events.c.type, events.c.created_t_s)).all()
            assert sorted(kept) == sorted(
                [
                    ("hotline.sent", OLD_S),
                    ("alert.raised", NOW_S),
                    ("hotline.sent", NOW_S),
                ]
            )
            # Archived once each, by UTC day of the position.
            archived = _archived_row_ids(tmp_path / "a")
            assert sorted(archived) == sorted(old_ids)
            days = sorted(p.name for p in (tmp_path / "a" / POSITIONS_DIR).iterdir())
            assert len(days) == 2 and all(d.startswith("day=") for d in days)
            # Run again: nothing left to do.
            again = retention.prune(engine, policy, NOW_S)
            assert again.positions_deleted == again.events_deleted == 0
        finally:
            engine.dispose()

    def test_zero_keeps_forever_and_no_archive_still_prunes(
        self, database_url: str, tmp_path: Path
    ) -> None:
        engine, n_old = _seed(database_url)
        total = _count(engine, positions)
        try:
            forever = retention.RetentionPolicy(0.0, 0.0, 0.0, tmp_path / "a")
            assert not forever.prunes
            assert retention.prune(engine, forever, NOW_S).positions_deleted == 0
            assert _count(engine, positions) == total
            unarchived = retention.RetentionPolicy(**POLICY_DAYS, archive_dir=None)
            report = retention.prune(engine, unarchived, NOW_S)
            assert report.positions_deleted == n_old
            assert report.positions_archived == 0
            assert not (tmp_path / "a").exists()
        finally:
            engine.dispose()

    def test_an_interrupted_run_archives_each_position_once(
        self, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        engine, n_old = _seed(database_url)
        monkeypatch.setattr(retention, "DELETE_ROWS", 50)
        policy = retention.RetentionPolicy(**POLICY_DAYS, archive_dir=tmp_path / "a")
        try:
            # Stopped after the first delete transaction (as at shutdown).
            first = retention.prune(engine, policy, NOW_S, pause=lambda: True)
            assert first.positions_archived == n_old
            assert first.positions_deleted == 50
            assert (tmp_path / "a" / POSITIONS_DIR / retention.PENDING).exists()
            # Later, with more time gone by: the note is finished first.
            second = retention.prune(engine, policy, NOW_S + 60.0, pause=lambda: False)
            assert second.positions_archived == 0
            assert first.positions_deleted + second.positions_deleted == n_old
            archived = _archived_row_ids(tmp_path / "a")
            assert len(archived) == len(set(archived)) == n_old
            assert not (tmp_path / "a" / POSITIONS_DIR / retention.PENDING).exists()
        finally:
            engine.dispose()


class TestArchiveIsReadByAnalyze:
    def test_analyze_finds_the_archived_encounter(
        self, database_url: str, tmp_path: Path
    ) -> None:
        engine, _ = _seed(database_url)
        policy = retention.RetentionPolicy(**POLICY_DAYS, archive_dir=tmp_path / "a")
        try:
            retention.prune(engine, policy, NOW_S)
        finally:
            engine.dispose()
        files = sorted((tmp_path / "a" / POSITIONS_DIR).glob("day=*/part-*.parquet"))
        out = tmp_path / "analyze-out"
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "deconfliction"),
                "analyze",
                *map(str, files),
                "--workers",
                "1",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        conflicts = pq.read_table(out / "conflicts").to_pylist()
        pairs = {(c["a"], c["b"]) for c in conflicts}
        assert ("coalition:COA1", "russia:RUS1") in pairs
        times = [c["t_s"] for c in conflicts]
        assert min(times) < MEET_S < max(times) + 60.0
