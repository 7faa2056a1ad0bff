"""Backups under load: ``deconfliction backup`` taken while a client posts batches
to a running server, restored with ``deconfliction restore`` into a new database,
holds every batch acknowledged before the backup began, whole, and the signing
keys; a damaged archive and an occupied target are refused (exit 2)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from deconfliction.store import engine as store_engine
from deconfliction.store.tables import ingest_batches, positions
from tests.conftest import PG_ADMIN_URL, Server, add_party, start_server
from tests.integration.helpers import put_in_effect

ROWS_PER_BATCH = 200
ACKS_BEFORE_BACKUP = 20
ACKS_DURING_BACKUP = 5  # at least this many while the backup runs
WAIT_S = 120.0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "deconfliction"
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=WAIT_S
    )


def _batch(k: int) -> dict[str, Any]:
    """History on the coalition's side of the Euphrates line, clear of it: the
    detection loop has nothing to write."""
    t0_s = time.time() - 600.0
    return {
        "batch_id": f"load-{k:05d}",
        "positions": [
            {
                "id": f"A{a:03d}",
                "time": t0_s + k,
                "lat": 36.0 + a * 0.002,
                "lon": 41.5,
                "alt_ft": 20000.0,
                "gs_kt": 400.0,
                "trk_deg": 90.0,
                "vs_fpm": 0.0,
            }
            for a in range(ROWS_PER_BATCH)
        ],
    }


@dataclass
class _Load:
    """A client posting batches back to back until told to stop."""

    server: Server
    token: str
    acked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with self.server.client(self.token) as client:
            k = 0
            while not self.stop.is_set():
                body = _batch(k)
                r = client.post("/v1/tracks", json=body)
                if r.status_code == 503:  # the store is busy: retry, as told
                    time.sleep(float(r.headers["retry-after"]))
                    continue
                assert r.status_code == 201, r.text
                with self.lock:
                    self.acked.append(body["batch_id"])
                k += 1

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def wait_for(self, n: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.count() < n:
            assert time.monotonic() < deadline, self.server.log()
            time.sleep(0.02)


@contextlib.contextmanager
def _empty_database_like(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Where to restore: a new SQLite file, or a new PostgreSQL database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'deconfliction.db'}"
        return
    import psycopg

    name = f"dcf_restore_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _batches(url: str) -> dict[str, int]:
    """Rows stored per batch id."""
    engine = store_engine.make_engine(url)
    try:
        with engine.connect() as conn:
            recorded = set(conn.execute(select(ingest_batches.c.batch_id)).scalars())
            rows = dict(
                conn.execute(
                    select(positions.c.batch_id, func.count()).group_by(
                        positions.c.batch_id
                    )
                ).all()
            )
    finally:
        engine.dispose()
    return {b: int(rows.get(b, 0)) for b in recorded}


def _tampered(archive: Path, into: Path) -> Path:
    """The archive with one byte of a key file changed, the manifest kept."""
    out = into / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name.startswith("keys/"):
                content = content[:-2] + (b"A" if content[-2:-1] != b"A" else b"B")
                content += b"\n"
            member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    return out


class TestBackupUnderLoad:
    def test_restore_holds_every_batch_acknowledged_before_the_backup(
        self, database_url: str, tmp_path: Path
    ) -> None:
        tokens = {
            p: add_party(database_url, p, "officer") for p in ("coalition", "russia")
        }
        server = start_server(database_url, tmp_path / "server.log")
        keys_dir = tmp_path / "keys"  # where start_server keeps them
        archive = tmp_path / "backups" / "dcf.tar.gz"
        load = _Load(server, tokens["coalition"])
        poster = threading.Thread(target=load.run, daemon=True)
        try:
            # A hotline message makes the signing keys.
            put_in_effect(server.url, tokens)
            r = httpx.post(
                f"{server.url}/v1/hotline/messages",
                json={"to": "russia", "kind": "free_text", "text": "radio check"},
                headers={"Authorization": f"Bearer {tokens['coalition']}"},
            )
            assert r.status_code == 201, r.text
            poster.start()
            load.wait_for(ACKS_BEFORE_BACKUP)
            with load.lock:
                before = set(load.acked)
            backup = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "deconfliction"),
                    "backup",
                    "--database",
                    database_url,
                    "--keys-dir",
                    str(keys_dir),
                    "--out",
                    str(archive),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            _, err = backup.communicate(timeout=WAIT_S)
            assert backup.returncode == 0, err
            load.wait_for(len(before) + ACKS_DURING_BACKUP)
        finally:
            load.stop.set()
            if poster.is_alive():
                poster.join(WAIT_S)
            server.stop()
        assert archive.stat().st_mode & 0o777 == 0o600
        assert len(load.acked) > len(before)  # the load went on during the backup

        with _empty_database_like(database_url, tmp_path) as target:
            restored_keys = tmp_path / "restored-keys"
            done = _cli(
                "restore",
                str(archive),
                "--database",
                target,
                "--keys-dir",
                str(restored_keys),
            )
            assert done.returncode == 0, done.stderr
            stored = _batches(target)
            missing = before - set(stored)
            assert missing == set()
            assert all(stored[b] == ROWS_PER_BATCH for b in before)
            assert all(n == ROWS_PER_BATCH for n in stored.values())  # none partial
            originals = sorted(keys_dir.glob("*.pem"))
            assert originals
            for key in originals:
                copy = restored_keys / key.name
                assert copy.read_bytes() == key.read_bytes()
                assert copy.stat().st_mode & 0o777 == 0o600

            # A restored database serves: the server upgrades and answers.
            again = start_server(target, tmp_path / "restored.log")
            try:
                with again.client(tokens["coalition"]) as client:
                    history = client.get("/v1/tracks/coalition/A000")
                    assert history.status_code == 200, history.text
            finally:
                again.stop()

            occupied = _cli(
                "restore",
                str(archive),
                "--database",
                target,
                "--keys-dir",
                str(restored_keys),
            )
            assert occupied.returncode == 2
            assert "--replace" in occupied.stderr
            assert "Traceback" not in occupied.stderr

        with _empty_database_like(database_url, tmp_path / "t2") as target:
            bad = _cli(
                "restore",
                str(_tampered(archive, tmp_path)),
                "--database",
                target,
                "--keys-dir",
                str(tmp_path / "keys-t2"),
            )
            assert bad.returncode == 2
            assert "SHA-256" in bad.stderr
            assert "Traceback" not in bad.stderr
            assert not (tmp_path / "keys-t2").exists()  # nothing restored
