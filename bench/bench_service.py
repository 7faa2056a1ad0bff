"""Service benchmarks: sustained ingestion through the HTTP API, and the time from a
posted position to its alert on the party's stream.

Run from the repository root (the ``postgresql`` backend needs the server on
127.0.0.1:5432, or ``DECONFLICTION_TEST_PG`` pointing at its admin database)::

    .venv/bin/python bench/bench_service.py                    # both backends, ~15 min
    .venv/bin/python bench/bench_service.py --quick            # short runs, ~4 min
    .venv/bin/python bench/bench_service.py --backend sqlite --only ingest

Every run starts a real ``deconfliction serve`` process on loopback on a fresh
database, registers the parties ``coalition`` and ``russia`` and puts the shipped
protocol euphrates-2017 in effect through the API, as an operator would. Results go
to stdout as tables and to ``bench/out/service.json`` (``service_quick.json`` with
``--quick``).

1. ``ingest``: clients post batches of positions as fast as the server answers, for
   ``--duration-s`` seconds, over 1 to 4 connections. A fleet of 1,000 live aircraft
   flies; a 1,000-row batch is one position per aircraft at one time step, a
   5,000-row batch five steps. Live detection runs at the protocol's interval (5 s);
   one configuration is repeated with ``--no-detection`` for comparison. Reports
   accepted positions per second, request latency and the server's CPU use.
2. ``latency``: 1,000 aircraft of two parties fly (each posted once a second, timed
   now); then, ten times, a pair of aircraft in conflict is posted and the time from
   the POST returning to ``alert.raised`` on the coalition's WebSocket stream is
   measured, with a detection interval of 1 s and the protocol's 5 s. The goal is an
   alert within one detection interval.
3. ``alerts``: live detection at a 1 s interval with ``--alerts`` (10,000) alerts
   updated at every tick (head-on pairs closing, each its own conflict), while a
   client posts 1,000-row batches one after the other: tick duration, the longest
   time between two ticks' ends (the tick's age at worst), and the batches' time
   and failures ("database is locked"). In this process on the service layer (a
   tick thread and a posting thread, each with its own connections): it measures
   the store's write lock, not HTTP.
4. ``--profile``: cProfile, inside the benchmark process, of
   ``service.ingest.ingest_batch`` on 1,000-row batches (with the time to parse
   and validate each row) and of one live detection tick that reads 150,000 new
   positions (five seconds of ingestion at 30,000/s).

The fleets never conflict among themselves (each party's aircraft fly in formation:
one heading and speed, at least 6 NM apart on each of five levels), so every alert
in the latency benchmark is one of the posted pairs.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.sync.client import connect

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
PG_ADMIN_URL = os.environ.get(
    "DECONFLICTION_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PROTOCOL_ID = "euphrates-2017"
START_TIMEOUT_S = 60.0
FLEET_SIZE = 1000
LEVELS_FT = (20000.0, 22000.0, 24000.0, 26000.0, 28000.0)  # 2,000 ft apart
FLEET_SPACING_NM = 6.0  # above the 5 NM minimum: a formation never conflicts
FLEET_GS_KT = 420.0
NM_PER_DEG_LAT = 60.0
# Each party's fleet flies on its own side of the Euphrates line, clear of the zones
# (south-west corner of its box, in degrees), so that it raises no incident either.
FLEET_ORIGIN_DEG = {"coalition": (36.0, 39.8), "russia": (34.2, 36.7)}
FLEET_TRACK_DEG = {"coalition": 45.0, "russia": 225.0}  # away from the line
PAIR_ALT_FT = 35000.0  # above every fleet level
PAIR_GAP_NM = 8.0  # head-on at 840 kt closing: in conflict from the first detection
PAIR_SPACING_DEG = 0.3  # 18 NM between successive pairs: no cross-pair conflict


# -- machine and database ------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        # Other work on the machine skews every figure: note how busy it was.
        "loadavg_1min_at_start": round(os.getloadavg()[0], 2),
    }


def _pg_admin_dsn() -> str:
    return PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")


def pg_version() -> str | None:
    """The PostgreSQL server version, or None when it does not answer."""
    try:
        import psycopg

        with psycopg.connect(_pg_admin_dsn(), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except Exception:
        return None


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    """A new empty database on ``backend``; dropped afterwards."""
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = f"dcf_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the server ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class ServerProcess:
    """A ``deconfliction serve`` process on loopback."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(
        cls,
        database_url: str,
        workdir: Path,
        detection: bool = True,
        interval_s: float | None = None,
    ) -> ServerProcess:
        """Start a server and wait until it answers /healthz."""
        port = _free_port()
        exe = Path(sys.executable).parent / "deconfliction"
        args = [
            str(exe),
            "serve",
            "--database",
            database_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        if interval_s is not None:
            args += ["--detection-interval-s", str(interval_s)]
        if not detection:
            args.append("--no-detection")
        log_path = workdir / f"server-{port}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
            )
        server = cls(f"http://127.0.0.1:{port}", process, log_path)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log_path.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code in (
                    200,
                    503,
                ):
                    return server
            time.sleep(0.1)
        server.stop()
        raise RuntimeError(f"server did not start:\n{log_path.read_text()}")

    def cpu_s(self) -> float:
        """CPU seconds the server has used so far."""
        return _cpu_s(self.process.pid)

    def health(self) -> dict[str, Any]:
        """The /healthz document."""
        body: dict[str, Any] = httpx.get(f"{self.url}/healthz", timeout=10).json()
        return body

    def stop(self) -> None:
        """Terminate, then kill if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def register_parties(database_url: str) -> dict[str, str]:
    """An officer token for each party of the protocol."""
    from deconfliction.service import auth
    from deconfliction.store import engine as store_engine

    engine = store_engine.make_engine(database_url)
    try:
        store_engine.upgrade(engine)
        tokens = {}
        with engine.begin() as conn:
            for party, language in (("coalition", "en"), ("russia", "ru")):
                auth.ensure_party(conn, party, party.title(), language, time.time())
                tokens[party] = auth.issue_token(
                    conn, party, auth.Role.OFFICER, time.time()
                )
        return tokens
    finally:
        engine.dispose()


def put_protocol_in_effect(url: str, tokens: dict[str, str]) -> None:
    """The coalition proposes the shipped protocol, Russia accepts it."""
    from deconfliction.adapters.protocol_file import builtin_protocol_path

    text = builtin_protocol_path(PROTOCOL_ID).read_bytes()
    r = httpx.post(
        f"{url}/v1/protocols",
        content=text,
        headers={
            "Authorization": f"Bearer {tokens['coalition']}",
            "content-type": "application/toml",
        },
    )
    r.raise_for_status()
    version = r.json()["version"]
    r = httpx.post(
        f"{url}/v1/protocols/{PROTOCOL_ID}/versions/{version}/accept",
        headers={"Authorization": f"Bearer {tokens['russia']}"},
    )
    r.raise_for_status()
    if r.json()["status"] != "in_effect":
        raise RuntimeError(f"protocol not in effect: {r.text}")


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    """Poll ``condition()`` until it holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- traffic -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fleet:
    """Aircraft of one party flying in formation: one track and speed, a grid per
    level, so that they never conflict with each other."""

    party: str
    ids: tuple[str, ...]
    lat0_deg: np.ndarray
    lon0_deg: np.ndarray
    alt_ft: np.ndarray
    trk_deg: float
    t0_s: float

    @classmethod
    def make(cls, party: str, n: int, prefix: str, t0_s: float) -> Fleet:
        """``n`` aircraft in the party's box, ``FLEET_SPACING_NM`` apart."""
        per_level = -(-n // len(LEVELS_FT))
        side = int(np.ceil(np.sqrt(per_level)))
        k = np.arange(n)
        level, slot = np.divmod(k, per_level)
        row, col = np.divmod(slot, side)
        lat_origin, lon_origin = FLEET_ORIGIN_DEG[party]
        lat0 = lat_origin + row * FLEET_SPACING_NM / NM_PER_DEG_LAT
        nm_per_deg_lon = NM_PER_DEG_LAT * np.cos(np.radians(lat0))
        lon0 = lon_origin + col * FLEET_SPACING_NM / nm_per_deg_lon
        return cls(
            party,
            tuple(f"{prefix}{i:04d}" for i in range(n)),
            lat0,
            lon0,
            np.asarray(LEVELS_FT)[level],
            FLEET_TRACK_DEG[party],
            t0_s,
        )

    def rows(self, t_s: float) -> list[dict[str, Any]]:
        """One position per aircraft at ``t_s`` (flat-earth dead reckoning)."""
        dist_nm = FLEET_GS_KT * (t_s - self.t0_s) / 3600.0
        trk = np.radians(self.trk_deg)
        lat = self.lat0_deg + dist_nm * np.cos(trk) / NM_PER_DEG_LAT
        lon = self.lon0_deg + dist_nm * np.sin(trk) / (
            NM_PER_DEG_LAT * np.cos(np.radians(lat))
        )
        return [
            {
                "id": ident,
                "time": round(t_s, 3),
                "lat": round(float(la), 6),
                "lon": round(float(lo), 6),
                "alt_ft": float(alt),
                "gs_kt": FLEET_GS_KT,
                "trk_deg": self.trk_deg,
                "vs_fpm": 0.0,
            }
            for ident, la, lo, alt in zip(self.ids, lat, lon, self.alt_ft, strict=True)
        ]

    def body(self, batch_id: str, times_s: list[float]) -> bytes:
        """A JSON batch: every aircraft at each of ``times_s``."""
        rows = [row for t in times_s for row in self.rows(t)]
        return json.dumps({"batch_id": batch_id, "positions": rows}).encode()


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# -- 1. sustained ingestion ------------------------------------------------------


@dataclass
class IngestResult:
    """One ingestion run."""

    backend: str
    detection: bool
    batch_rows: int
    clients: int
    duration_s: float
    batches: int
    positions: int
    positions_per_s: float
    request_p50_ms: float
    request_p99_ms: float
    server_cpu_pct: float
    client_cpu_pct: float
    positions_per_server_cpu_s: float
    loadavg_1min_after: float
    errors: int
    detection_max_age_s: float | None
    detection_health: dict[str, Any] = field(default_factory=dict)


def _ingest_client(
    url: str,
    token: str,
    fleet: Fleet,
    steps: int,
    name: str,
    start: threading.Barrier,
    stop_at: list[float],
    out: list[tuple[float, int]],
    errors: list[str],
) -> None:
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=60.0) as client:
        start.wait()
        seq = 0
        while time.monotonic() < stop_at[0]:
            now = time.time()
            body = fleet.body(f"{name}-{seq}", [now - k for k in range(steps)])
            seq += 1
            sent = time.monotonic()
            try:
                r = client.post("/v1/tracks", content=body)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            took = time.monotonic() - sent
            if r.status_code == 201:
                out.append((took, int(r.json()["accepted"])))
            else:
                errors.append(f"{r.status_code}: {r.text[:200]}")


def _watch_detection(
    server: ServerProcess, ages: list[float], stop: threading.Event
) -> None:
    """Note how old the last detection tick is, twice a second: a tick that falls
    behind the ingestion shows as an age well above the interval."""
    while not stop.wait(0.5):
        with contextlib.suppress(httpx.HTTPError):
            age = server.health()["detection"]["age_s"]
            if age is not None:
                ages.append(float(age))


def bench_ingest(
    backend: str,
    workdir: Path,
    batch_rows: int,
    clients: int,
    duration_s: float,
    detection: bool,
) -> IngestResult:
    """Post batches from ``clients`` connections for ``duration_s``."""
    steps = batch_rows // FLEET_SIZE
    with fresh_database(backend, workdir) as db:
        tokens = register_parties(db)
        server = ServerProcess.start(db, workdir, detection=detection)
        try:
            put_protocol_in_effect(server.url, tokens)
            fleet = Fleet.make("coalition", FLEET_SIZE, "CO", time.time())
            # Warm up: connections, first inserts, first detection with the fleet.
            with httpx.Client(
                base_url=server.url,
                headers={"Authorization": f"Bearer {tokens['coalition']}"},
                timeout=60.0,
            ) as client:
                for k in range(3):
                    client.post(
                        "/v1/tracks",
                        content=fleet.body(f"warm-{k}", [time.time()]),
                        headers={"content-type": "application/json"},
                    ).raise_for_status()
            if detection:
                wait_for(
                    lambda: server.health()["detection"]["aircraft"] >= FLEET_SIZE,
                    60,
                    "detection to see the fleet",
                )
            start = threading.Barrier(clients + 1)
            stop_at = [float("inf")]
            out: list[tuple[float, int]] = []
            errors: list[str] = []
            threads = [
                threading.Thread(
                    target=_ingest_client,
                    args=(
                        server.url,
                        tokens["coalition"],
                        fleet,
                        steps,
                        f"c{i}",
                        start,
                        stop_at,
                        out,
                        errors,
                    ),
                    daemon=True,
                )
                for i in range(clients)
            ]
            for t in threads:
                t.start()
            ages: list[float] = []
            watch_stop = threading.Event()
            watcher = threading.Thread(
                target=_watch_detection, args=(server, ages, watch_stop), daemon=True
            )
            cpu0, client_cpu0 = server.cpu_s(), time.process_time()
            t0 = time.monotonic()
            stop_at[0] = t0 + duration_s
            start.wait()
            watcher.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t0
            cpu = server.cpu_s() - cpu0
            client_cpu = time.process_time() - client_cpu0
            watch_stop.set()
            watcher.join()
            health = server.health()["detection"]
        finally:
            server.stop()
    latencies_ms = [took * 1000 for took, _ in out]
    positions = sum(n for _, n in out)
    return IngestResult(
        backend=backend,
        detection=detection,
        batch_rows=batch_rows,
        clients=clients,
        duration_s=round(elapsed, 2),
        batches=len(out),
        positions=positions,
        positions_per_s=round(positions / elapsed, 1),
        request_p50_ms=round(_percentile(latencies_ms, 50), 1),
        request_p99_ms=round(_percentile(latencies_ms, 99), 1),
        server_cpu_pct=round(100 * cpu / elapsed, 1),
        client_cpu_pct=round(100 * client_cpu / elapsed, 1),
        # Less sensitive to other work on the machine than positions per second.
        positions_per_server_cpu_s=round(positions / cpu, 1) if cpu else 0.0,
        loadavg_1min_after=round(os.getloadavg()[0], 2),
        errors=len(errors),
        detection_max_age_s=round(max(ages), 2) if ages else None,
        detection_health={
            k: health.get(k)
            for k in ("ok", "interval_s", "age_s", "aircraft", "last_error")
        },
    )


# -- 2. position-to-alert latency ----------------------------------------------


@dataclass
class LatencyResult:
    """The alert latencies of one configuration."""

    backend: str
    interval_s: float
    interval_source: str
    live_aircraft: int
    samples_s: list[float]
    median_s: float
    worst_s: float
    within_interval: int
    missed: int


class AlertListener:
    """Reads one party's stream in a thread; notes when each pair's alert arrives."""

    def __init__(self, url: str, token: str) -> None:
        self._ws_url = url.replace("http://", "ws://") + "/v1/stream?after=0"
        self._token = token
        self._arrived: dict[str, float] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> AlertListener:
        self._thread.start()
        if not self._connected.wait(10):
            raise RuntimeError("stream did not connect")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        with connect(
            self._ws_url,
            additional_headers={"Authorization": f"Bearer {self._token}"},
        ) as ws:
            self._connected.set()
            while not self._stop.is_set():
                try:
                    raw = ws.recv(timeout=0.2)
                except TimeoutError:
                    continue
                arrived = time.monotonic()
                event = json.loads(raw)
                if event["type"] != "alert.raised":
                    continue
                with self._cond:
                    for side in event["data"]["aircraft"]:
                        if "id" in side:
                            self._arrived.setdefault(side["id"], arrived)
                    self._cond.notify_all()

    def wait(self, aircraft_id: str, timeout_s: float) -> float | None:
        """When the alert naming ``aircraft_id`` arrived (monotonic), or None."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while aircraft_id not in self._arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._arrived[aircraft_id]


def _pair_rows(k: int, t_s: float) -> dict[str, list[dict[str, Any]]]:
    """Pair ``k``: head-on, ``PAIR_GAP_NM`` apart, over an empty area."""
    lat = 34.0 + k * PAIR_SPACING_DEG
    half_deg = PAIR_GAP_NM / 2 / (NM_PER_DEG_LAT * np.cos(np.radians(lat)))
    base = {"time": t_s, "lat": lat, "alt_ft": PAIR_ALT_FT, "gs_kt": 420.0}
    base["vs_fpm"] = 0.0
    return {
        "coalition": [
            {**base, "id": f"PAIR{k}C", "lon": 33.0 - half_deg, "trk_deg": 90.0}
        ],
        "russia": [
            {**base, "id": f"PAIR{k}R", "lon": 33.0 + half_deg, "trk_deg": 270.0}
        ],
    }


def _fly_fleets(
    url: str, tokens: dict[str, str], fleets: list[Fleet], stop: threading.Event
) -> None:
    """Post every fleet once a second, timed now, until ``stop``."""
    clients = {
        f.party: httpx.Client(
            base_url=url,
            headers={
                "Authorization": f"Bearer {tokens[f.party]}",
                "content-type": "application/json",
            },
            timeout=60.0,
        )
        for f in fleets
    }
    try:
        seq = 0
        next_t = time.monotonic()
        while not stop.is_set():
            now = time.time()
            for f in fleets:
                clients[f.party].post(
                    "/v1/tracks", content=f.body(f"fleet-{seq}", [now])
                ).raise_for_status()
            seq += 1
            next_t += 1.0
            stop.wait(max(0.0, next_t - time.monotonic()))
    finally:
        for c in clients.values():
            c.close()


def bench_latency(
    backend: str, workdir: Path, interval_s: float | None, reps: int, seed: int = 1
) -> LatencyResult:
    """Alert latency with 1,000 live aircraft at a detection interval."""
    rng = random.Random(seed)
    with fresh_database(backend, workdir) as db:
        tokens = register_parties(db)
        server = ServerProcess.start(db, workdir, interval_s=interval_s)
        stop = threading.Event()
        flyer: threading.Thread | None = None
        try:
            put_protocol_in_effect(server.url, tokens)
            t0 = time.time()
            half = FLEET_SIZE // 2
            fleets = [
                Fleet.make("coalition", half, "CO", t0),
                Fleet.make("russia", FLEET_SIZE - half, "RU", t0),
            ]
            flyer = threading.Thread(
                target=_fly_fleets,
                args=(server.url, tokens, fleets, stop),
                daemon=True,
            )
            flyer.start()
            wait_for(
                lambda: server.health()["detection"]["aircraft"] >= FLEET_SIZE,
                60,
                "detection to see the fleets",
            )
            interval = float(server.health()["detection"]["interval_s"])
            samples: list[float] = []
            missed = 0
            with (
                AlertListener(server.url, tokens["coalition"]) as listener,
                httpx.Client(base_url=server.url, timeout=60.0) as client,
            ):
                for k in range(reps):
                    # A random phase against the detection ticks.
                    time.sleep(rng.uniform(0.0, interval))
                    pair = _pair_rows(k, time.time())
                    for party, rows in pair.items():
                        client.post(
                            "/v1/tracks",
                            json={"batch_id": f"pair-{k}", "positions": rows},
                            headers={"Authorization": f"Bearer {tokens[party]}"},
                        ).raise_for_status()
                    posted = time.monotonic()
                    arrived = listener.wait(f"PAIR{k}C", 3 * interval + 10)
                    if arrived is None:
                        missed += 1
                    else:
                        samples.append(round(arrived - posted, 4))
            live = int(server.health()["detection"]["aircraft"])
        finally:
            stop.set()
            if flyer is not None:
                flyer.join(10)
            server.stop()
    return LatencyResult(
        backend=backend,
        interval_s=interval,
        interval_source="override" if interval_s is not None else "protocol",
        live_aircraft=live,
        samples_s=samples,
        median_s=round(statistics.median(samples), 3) if samples else float("nan"),
        worst_s=round(max(samples), 3) if samples else float("nan"),
        within_interval=sum(s <= interval for s in samples),
        missed=missed,
    )


# -- 3. profile ----------------------------------------------------------------


def profile_ingest(backend: str, workdir: Path, batches: int = 20) -> dict[str, Any]:
    """Where a 1,000-row batch goes: timed phases without the profiler (parse the
    JSON, validate the rows, ``ingest_batch`` with its commit), then cProfile of
    ``ingest_batch`` on as many batches again."""
    from deconfliction.service import auth, ingest
    from deconfliction.store import engine as store_engine

    with fresh_database(backend, workdir) as db:
        register_parties(db)
        engine = store_engine.make_engine(db)
        who = auth.Principal("coalition", auth.Role.OFFICER)
        fleet = Fleet.make("coalition", FLEET_SIZE, "CO", time.time())
        bodies = [fleet.body(f"p-{k}", [time.time()]) for k in range(2 * batches)]
        profiler = cProfile.Profile()
        phases = {"json": 0.0, "validate": 0.0, "ingest_batch_and_commit": 0.0}
        try:
            for k, body in enumerate(bodies):
                t = time.perf_counter()
                parsed = json.loads(body)
                phases["json"] += time.perf_counter() - t
                t = time.perf_counter()
                ingest.validate_rows(parsed["positions"], time.time(), 5.0)
                phases["validate"] += time.perf_counter() - t
                profiled = k >= batches
                t = time.perf_counter()
                if profiled:
                    profiler.enable()
                with engine.begin() as conn:
                    ingest.ingest_batch(
                        conn,
                        who,
                        parsed["batch_id"],
                        parsed["positions"],
                        time.time(),
                        5.0,
                    )
                if profiled:
                    profiler.disable()
                else:
                    phases["ingest_batch_and_commit"] += time.perf_counter() - t
        finally:
            engine.dispose()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    rows = batches * FLEET_SIZE
    us_per_row = {k: round(v / rows * 1e6, 2) for k, v in phases.items()}
    # ingest_batch validates again: what is left is the store's share.
    us_per_row["store_and_commit"] = round(
        us_per_row["ingest_batch_and_commit"] - us_per_row["validate"], 2
    )
    return {
        "backend": backend,
        "batches": batches,
        "us_per_row": us_per_row,
        "top_cumulative": text.getvalue(),
    }


def profile_tick(backend: str, workdir: Path, rows: int = 150_000) -> dict[str, Any]:
    """cProfile of one live detection tick that reads ``rows`` new positions: five
    seconds of ingestion at 30,000 positions/s, at the protocol's interval."""
    from deconfliction.adapters.protocol_file import builtin_protocol_path
    from deconfliction.service import auth, ingest, protocols
    from deconfliction.service.clock import SystemClock
    from deconfliction.service.live import LiveDetection
    from deconfliction.store import engine as store_engine

    with fresh_database(backend, workdir) as db:
        register_parties(db)
        engine = store_engine.make_engine(db)
        try:
            coalition = auth.Principal("coalition", auth.Role.OFFICER)
            russia = auth.Principal("russia", auth.Role.OFFICER)
            text = builtin_protocol_path(PROTOCOL_ID).read_text(encoding="utf-8")
            with engine.begin() as conn:
                version = protocols.propose(conn, coalition, text, time.time())
                protocols.accept(
                    conn, russia, PROTOCOL_ID, version.protocol.version, time.time()
                )
            live = LiveDetection(engine, SystemClock())
            live.tick()  # the first tick settles and resumes from the newest row
            now = time.time()
            fleet = Fleet.make("coalition", FLEET_SIZE, "CO", now)
            n = rows // FLEET_SIZE
            for k in range(n):
                t_s = now - 5.0 + 5.0 * k / n
                with engine.begin() as conn:
                    ingest.ingest_batch(
                        conn, coalition, f"t-{k}", fleet.rows(t_s), time.time(), 5.0
                    )
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            report = live.tick()
            profiler.disable()
            took_s = time.perf_counter() - started
        finally:
            engine.dispose()
    text_out = io.StringIO()
    pstats.Stats(profiler, stream=text_out).sort_stats("tottime").print_stats(15)
    return {
        "backend": backend,
        "positions_read": report.positions_read,
        "aircraft": report.aircraft,
        "tick_s": round(took_s, 3),
        "us_per_position": round(took_s / max(1, report.positions_read) * 1e6, 2),
        "top_tottime": text_out.getvalue(),
    }


# -- report --------------------------------------------------------------------


# -- alert load: detection must not starve ingestion ---------------------------------

ALERT_PAIRS = 10_000
ALERT_LEVELS_FT = tuple(10_000.0 + 2_000.0 * k for k in range(20))  # 2,000 ft apart


@dataclass
class AlertLoadResult:
    backend: str
    pairs: int
    interval_s: float
    duration_s: float
    ticks: int
    ticks_failed: int
    alert_events: int
    tick_s_median: float
    tick_s_max: float
    tick_age_s_max: float
    batches: int
    batches_failed: int
    failures: list[str]
    batch_ms_p50: float
    batch_ms_p99: float
    batch_ms_max: float


def _alert_pairs(pairs: int, t_s: float) -> list[dict[str, Any]]:
    """``pairs`` head-on pairs (coalition eastbound, russia westbound 8 NM to its
    east, same level): each a conflict, none with another pair (places 1 deg apart,
    levels 2,000 ft apart), far from the protocol's lines and zones."""
    from deconfliction.domain import geodesy

    k = np.arange(pairs)
    place = k // len(ALERT_LEVELS_FT)
    lat = 10.0 + (place // 25).astype(float)
    lon = -30.0 + (place % 25).astype(float)
    alt = np.array(ALERT_LEVELS_FT)[k % len(ALERT_LEVELS_FT)]
    b_lat, b_lon = geodesy.destination(
        lat, lon, np.full(pairs, 90.0), np.full(pairs, 8.0)
    )
    rows = []
    for i in range(pairs):
        for party, ident, la, lo, trk in (
            ("coalition", f"CA{i}", lat[i], lon[i], 90.0),
            ("russia", f"RA{i}", b_lat[i], b_lon[i], 270.0),
        ):
            rows.append(
                {
                    "party_id": party,
                    "aircraft_id": ident,
                    "t_s": t_s,
                    "lat_deg": float(la),
                    "lon_deg": float(lo),
                    "alt_ft": float(alt[i]),
                    "gs_kt": 300.0,
                    "trk_deg": trk,
                    "vs_fpm": 0.0,
                    "batch_id": "pairs",
                    "received_t_s": t_s,
                }
            )
    return rows


def bench_alert_load(
    backend: str,
    workdir: Path,
    pairs: int = ALERT_PAIRS,
    duration_s: float = 30.0,
    interval_s: float = 1.0,
    batch_rows: int = 1000,
) -> AlertLoadResult:
    """Live detection at ``interval_s`` with ``pairs`` alerts updated at every
    tick (the pairs close on each other: each tick's dead reckoning changes their
    figures), while a client posts ``batch_rows``-row batches of a fleet that
    conflicts with nobody, one after the other, as fast as they are answered.

    In this process, on the service layer (``LiveDetection.tick`` in a thread as
    the server runs it, ``ingest.ingest_batch`` in another, each with its own
    connections): what is measured is the store's write lock, not HTTP.
    """
    from sqlalchemy import insert

    from deconfliction.adapters.protocol_file import builtin_protocol_path
    from deconfliction.service import auth, ingest, protocols
    from deconfliction.service.auth import Principal, Role
    from deconfliction.service.clock import SystemClock
    from deconfliction.service.live import LiveDetection
    from deconfliction.store import engine as store_engine
    from deconfliction.store.tables import positions

    with fresh_database(backend, workdir) as url:
        engine = store_engine.make_engine(url)
        store_engine.upgrade(engine)
        now = time.time()
        coalition = Principal("coalition", Role.OFFICER)
        with engine.begin() as conn:
            for party, lang in (("coalition", "en"), ("russia", "ru")):
                auth.ensure_party(conn, party, party.title(), lang, now)
            text = builtin_protocol_path(PROTOCOL_ID).read_text(encoding="utf-8")
            protocols.propose(conn, coalition, text, now)
            protocols.accept(
                conn, Principal("russia", Role.OFFICER), PROTOCOL_ID, 1, now
            )
            conn.execute(insert(positions), _alert_pairs(pairs, now))
        live = LiveDetection(engine, SystemClock(), interval_s)
        fleet = Fleet.make("coalition", batch_rows, "F", now)
        stop = threading.Event()
        tick_s: list[float] = []
        tick_done: list[float] = []
        events_: list[int] = []
        batch_s: list[float] = []
        failures: list[str] = []
        tick_failures: list[str] = []

        def detect() -> None:  # as the server's loop: a failed tick is counted
            while not stop.is_set():
                start = time.monotonic()
                try:
                    report = live.tick()
                except Exception as exc:
                    tick_failures.append(
                        f"tick: {type(exc).__name__}: {str(exc).splitlines()[0]}"
                    )
                else:
                    tick_s.append(time.monotonic() - start)
                    tick_done.append(time.monotonic())
                    events_.append(report.alert_events)
                stop.wait(max(0.0, interval_s - (time.monotonic() - start)))

        def post() -> None:
            k = 0
            while not stop.is_set():
                t = time.time()
                rows = fleet.rows(t)
                start = time.monotonic()
                try:
                    with engine.begin() as conn:
                        ingest.ingest_batch(conn, coalition, f"b{k}", rows, t, 5.0)
                    batch_s.append(time.monotonic() - start)
                except Exception as exc:  # "database is locked" is what we look for
                    failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
                k += 1

        live.tick()  # the alerts raised: the run measures their updates
        threads = [threading.Thread(target=detect), threading.Thread(target=post)]
        started = time.monotonic()
        for th in threads:
            th.start()
        stop.wait(duration_s)
        stop.set()
        for th in threads:
            th.join()
        engine.dispose()
    gaps = np.diff([started, *tick_done]) if tick_done else np.array([duration_s])
    ms = sorted(1000.0 * s for s in batch_s) or [float("nan")]
    return AlertLoadResult(
        backend=backend,
        pairs=pairs,
        interval_s=interval_s,
        duration_s=duration_s,
        ticks=len(tick_s),
        ticks_failed=len(tick_failures),
        alert_events=int(sum(events_)),
        tick_s_median=float(statistics.median(tick_s)) if tick_s else float("nan"),
        tick_s_max=float(max(tick_s)) if tick_s else float("nan"),
        tick_age_s_max=float(gaps.max()),
        batches=len(batch_s) + len(failures),
        batches_failed=len(failures),
        failures=sorted(set(failures + tick_failures))[:5],
        batch_ms_p50=_percentile(ms, 50),
        batch_ms_p99=_percentile(ms, 99),
        batch_ms_max=ms[-1],
    )


def print_alert_load(results: list[AlertLoadResult]) -> None:
    print(
        _table(
            [
                "backend",
                "alerts",
                "interval s",
                "ticks",
                "failed",
                "alert events",
                "tick s median",
                "tick s max",
                "tick age s max",
                "batches",
                "failed",
                "batch ms p50",
                "p99",
                "max",
            ],
            [
                [
                    r.backend,
                    r.pairs,
                    r.interval_s,
                    r.ticks,
                    r.ticks_failed,
                    r.alert_events,
                    f"{r.tick_s_median:.2f}",
                    f"{r.tick_s_max:.2f}",
                    f"{r.tick_age_s_max:.2f}",
                    r.batches,
                    r.batches_failed,
                    f"{r.batch_ms_p50:.0f}",
                    f"{r.batch_ms_p99:.0f}",
                    f"{r.batch_ms_max:.0f}",
                ]
                for r in results
            ],
        )
    )
    for r in results:
        for failure in r.failures:
            print(f"  {r.backend}: {failure}")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_ingest(results: list[IngestResult]) -> None:
    """The ingestion table."""
    print(
        _table(
            [
                "backend",
                "detection",
                "rows/batch",
                "clients",
                "positions/s",
                "p50 ms",
                "p99 ms",
                "server CPU %",
                "per server CPU s",
                "client CPU %",
                "max tick age s",
                "load",
                "errors",
            ],
            [
                [
                    r.backend,
                    "on" if r.detection else "off",
                    r.batch_rows,
                    r.clients,
                    f"{r.positions_per_s:,.0f}",
                    r.request_p50_ms,
                    r.request_p99_ms,
                    r.server_cpu_pct,
                    f"{r.positions_per_server_cpu_s:,.0f}",
                    r.client_cpu_pct,
                    r.detection_max_age_s if r.detection else "-",
                    r.loadavg_1min_after,
                    r.errors,
                ]
                for r in results
            ],
        )
    )


def print_latency(results: list[LatencyResult]) -> None:
    """The latency table."""
    print(
        _table(
            [
                "backend",
                "interval s",
                "aircraft",
                "median s",
                "worst s",
                "within interval",
                "missed",
            ],
            [
                [
                    r.backend,
                    f"{r.interval_s:g} ({r.interval_source})",
                    r.live_aircraft,
                    r.median_s,
                    r.worst_s,
                    f"{r.within_interval}/{len(r.samples_s)}",
                    r.missed,
                ]
                for r in results
            ],
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks selected on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--quick", action="store_true", help="short runs")
    parser.add_argument(
        "--only",
        choices=["ingest", "latency", "alerts"],
        help="run one benchmark only",
    )
    parser.add_argument(
        "--alerts",
        type=int,
        default=ALERT_PAIRS,
        help="alerts updated at every tick in the alerts benchmark",
    )
    parser.add_argument(
        "--duration-s", type=float, help="seconds per ingestion run (default 20)"
    )
    parser.add_argument(
        "--no-detection",
        action="store_true",
        help="run every ingestion configuration without live detection",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile ingest_batch"
    )
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    pg = pg_version()
    if "postgresql" in backends and pg is None:
        print(f"PostgreSQL at {PG_ADMIN_URL} does not answer", file=sys.stderr)
        return 2
    duration_s = args.duration_s or (5.0 if args.quick else 20.0)
    reps = 5 if args.quick else 10
    configs = (
        [(1000, 1), (1000, 2), (5000, 2)]
        if args.quick
        else [(1000, 1), (1000, 2), (1000, 4), (5000, 1), (5000, 2), (5000, 4)]
    )
    info = machine() | {"postgresql": pg}
    print(
        f"machine: {info['nproc']} CPUs, {info['cpu']}; Python {info['python']}, "
        f"SQLite {info['sqlite']}, PostgreSQL {pg}"
    )
    report: dict[str, Any] = {
        "machine": info,
        "settings": {
            "quick": args.quick,
            "duration_s": duration_s,
            "fleet_size": FLEET_SIZE,
            "latency_reps": reps,
        },
    }
    with tempfile.TemporaryDirectory(prefix="dcf-bench-") as tmp:
        workdir = Path(tmp)
        if args.only in (None, "ingest"):
            ingest_results: list[IngestResult] = []
            for backend in backends:
                for batch_rows, clients in configs:
                    ingest_results.append(
                        bench_ingest(
                            backend,
                            workdir,
                            batch_rows,
                            clients,
                            duration_s,
                            detection=not args.no_detection,
                        )
                    )
                    print_ingest(ingest_results[-1:])
                if not args.no_detection:
                    ingest_results.append(
                        bench_ingest(
                            backend, workdir, 1000, 2, duration_s, detection=False
                        )
                    )
            print("\nSustained ingestion (positions accepted per second)")
            print_ingest(ingest_results)
            report["ingest"] = [asdict(r) for r in ingest_results]
        if args.only in (None, "latency"):
            latency_results: list[LatencyResult] = []
            for backend in backends:
                for interval_s in (1.0, None):
                    latency_results.append(
                        bench_latency(backend, workdir, interval_s, reps)
                    )
                    print_latency(latency_results[-1:])
            print("\nPosted position to alert.raised on the stream")
            print_latency(latency_results)
            report["latency"] = [asdict(r) for r in latency_results]
        if args.only in (None, "alerts"):
            alert_results = []
            for backend in backends:
                alert_results.append(
                    bench_alert_load(
                        backend, workdir, args.alerts, args.duration_s or 30.0
                    )
                )
                print_alert_load(alert_results[-1:])
            print("\nAlerts updated at every 1 s tick while a client posts batches")
            print_alert_load(alert_results)
            report["alert_load"] = [asdict(r) for r in alert_results]
            info["loadavg_1min_after_alerts"] = round(os.getloadavg()[0], 2)
        if args.profile:
            report["profile_ingest"] = [profile_ingest(b, workdir) for b in backends]
            for p in report["profile_ingest"]:
                print(f"\ningest_batch on {p['backend']}, us/row: {p['us_per_row']}")
                print(p["top_cumulative"])
            report["profile_tick"] = [profile_tick(b, workdir) for b in backends]
            for p in report["profile_tick"]:
                print(
                    f"\ndetection tick on {p['backend']}: {p['tick_s']} s for "
                    f"{p['positions_read']} new positions "
                    f"({p['us_per_position']} us each)"
                )
                print(p["top_tottime"])
    info["loadavg_1min_at_end"] = round(os.getloadavg()[0], 2)
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / ("service_quick.json" if args.quick else "service.json")
    if args.only or args.backend != "both":
        # A partial run keeps what an earlier run measured and it did not.
        with contextlib.suppress(OSError, ValueError):
            report = json.loads(out.read_text(encoding="utf-8")) | report
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
