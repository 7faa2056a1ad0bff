"""History at scale: ``analyze`` over a generated day of dense traffic on a local
Dask cluster.

Run from the repository root::

    .venv/bin/python bench/bench_analyze.py                       # 10 million positions
    .venv/bin/python bench/bench_analyze.py --positions 100e6 --days 10  # 10 days
    .venv/bin/python bench/bench_analyze.py --positions 100e6     # in one day
    .venv/bin/python bench/bench_analyze.py --positions 1e6       # a quick look

The traffic: sorties of four parties over Syria and Iraq (starting in 30-40 N,
34-48 E), 1 to 4 hours each, on racetracks (half an hour out along a great circle,
half an hour back), cruising at flight levels 150 to 390, one in five climbing or
descending at 1,500 fpm, at 350 to 480 kt. Half of them are the coalition's and
Russia's, each starting on its own side of the Euphrates line and flying along it
(so that crossings are the exception), the rest Turkish and Syrian, anywhere. Every
position is on the 5 s detection grid (the detection interval: every position is
also a state at a detection instant, so positions per second is also aircraft
states per second).
Enough sorties are drawn for the wanted number of positions over 24 hours: 10
million is about 580 aircraft in the air at once. Written as Parquet (row groups of
a quarter of a million rows, in time order) under ``bench/out/``, reused when
present.

Measured: wall-clock time of ``analyze`` (planning, windows, violations, files),
positions per second overall and per core, the CPU time of the workers (positions
per CPU second does not depend on what else runs on the machine; the load average
at the end is reported with it), and the peak resident memory of each
worker process (``ru_maxrss``), against the euphrates-2017 protocol (a line and two
zones). The result goes to stdout and ``bench/out/bench_analyze-<N>M.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from deconfliction.adapters.protocol_file import resolve_protocol
from deconfliction.analysis import analyze
from deconfliction.domain import geodesy

OUT = Path(__file__).resolve().parent / "out"
T0_S = 1513123200.0  # 2017-12-13T00:00:00Z
DAY_S = 86_400.0
STEP_S = 5.0
ROW_GROUP_ROWS = 250_000  # a window reads a few; small groups, little waste
CHUNK_S = 1800.0  # generated half an hour at a time: bounded memory at any size
RACETRACK_S = 3600.0  # out and back along one leg each hour: they stay in theatre


# The Euphrates line of euphrates-2017, from its first point to its last, roughly.
_LINE = ((36.82, 38.01), (34.39, 41.04))


def _side_east(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True east (left) of the line from Jarabulus to the Iraqi border, in degrees:
    good enough to put each party's sorties on its own side."""
    (la0, lo0), (la1, lo1) = _LINE
    return (lo1 - lo0) * (lat - la0) - (la1 - la0) * (lon - lo0) > 0.0


def _sorties(positions: float, seed: int, days: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    mean_duration_s = 2.5 * 3600.0
    # Sorties start from 4 hours before the day (the sky is full at midnight).
    span_s = days * DAY_S
    n = int(positions * STEP_S / mean_duration_s * (span_s + 4 * 3600.0) / span_s)
    duration = rng.uniform(3600.0, 4 * 3600.0, n)
    start = STEP_S * np.ceil(rng.uniform(-4 * 3600.0, span_s, n) / STEP_S)
    lat = rng.uniform(30.0, 40.0, n)
    lon = rng.uniform(34.0, 48.0, n)
    # Half the sorties are the coalition's and Russia's, each starting on its own
    # side of the line and flying along it (up or down, within 25 degrees), as
    # the 2017 arrangement had them; the other half fly anywhere, any way.
    bound = rng.random(n) < 0.5
    east = _side_east(lat, lon)
    party = np.where(
        bound,
        np.where(east, "coalition", "russia"),
        np.array(("turkey", "syria"))[rng.integers(0, 2, n)],
    )
    along = 128.0 + rng.choice([0.0, 180.0], n) + rng.uniform(-25.0, 25.0, n)
    az = np.where(bound, along % 360.0, rng.uniform(0.0, 360.0, n))
    return {
        "start": T0_S + start,
        "end": T0_S + start + duration,
        "lat": lat,
        "lon": lon,
        "az": az,
        "gs": rng.uniform(350.0, 480.0, n),
        "alt": rng.integers(15, 40, n) * 1000.0,
        "vs": np.where(rng.random(n) < 0.2, rng.choice([-1500.0, 1500.0], n), 0.0),
        "party": party,
        "ids": np.char.add("AC", np.char.zfill(np.arange(n).astype(str), 6)),
    }


def generate(path: Path, positions: float, days: int = 1, seed: int = 2017) -> int:
    """Write ``days`` of dense traffic to ``path``; returns the number of rows."""
    s = _sorties(positions, seed, days)
    writer: pq.ParquetWriter | None = None
    rows = 0
    pending: list[pa.Table] = []
    pending_rows = 0
    for c0 in np.arange(T0_S, T0_S + days * DAY_S, CHUNK_S):
        c1 = c0 + CHUNK_S
        active = np.flatnonzero((s["end"] >= c0) & (s["start"] < c1))
        k0 = np.ceil(np.maximum(s["start"][active], c0) / STEP_S)
        k1 = np.ceil(np.minimum(s["end"][active], c1) / STEP_S)  # exclusive
        count = np.maximum(k1 - k0, 0).astype(np.int64)
        src = np.repeat(active, count)
        first = np.repeat(np.cumsum(count) - count, count)
        k = np.repeat(k0, count) + (np.arange(int(count.sum())) - first)
        t = k * STEP_S
        order = np.lexsort((src, t))
        src, t = src[order], t[order]
        elapsed = t - s["start"][src]
        # A racetrack: out along the great circle for half a period, then back.
        phase = np.mod(elapsed, RACETRACK_S)
        outbound = phase < RACETRACK_S / 2
        out_s = np.where(outbound, phase, RACETRACK_S - phase)
        start_lat, start_lon, az, gs = (s[k][src] for k in ("lat", "lon", "az", "gs"))
        lat, lon = geodesy.destination(start_lat, start_lon, az, gs * out_s / 3600.0)
        # The track along a great circle turns: the local azimuth, a second further.
        lat2, lon2 = geodesy.destination(
            start_lat, start_lon, az, gs * (out_s + 1.0) / 3600.0
        )
        trk = geodesy.geodesic_azimuth_deg(lat, lon, lat2, lon2)
        trk = np.where(outbound, trk, (trk + 180.0) % 360.0)
        alt = np.clip(s["alt"][src] + s["vs"][src] * elapsed / 60.0, 1000.0, 45_000.0)
        table = pa.table(
            {
                "id": pa.array(s["ids"][src]).dictionary_encode(),
                "party": pa.array(s["party"][src]).dictionary_encode(),
                "time": pa.array(
                    np.round(t * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")
                ),
                "lat": lat,
                "lon": (np.asarray(lon) + 180.0) % 360.0 - 180.0,
                "alt_ft": alt,
                "gs_kt": s["gs"][src],
                "trk_deg": trk,
                "vs_fpm": np.where(alt > 1000.0, s["vs"][src], 0.0),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        pending.append(table)
        pending_rows += table.num_rows
        rows += table.num_rows
        if pending_rows >= ROW_GROUP_ROWS:
            writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
            pending, pending_rows = [], 0
    if writer is not None:
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
        writer.close()
    return rows


def _label(positions: float, days: int) -> str:
    return f"{positions / 1e6:g}M" + (f"-{days}d" if days > 1 else "")


def _peak_rss_bytes() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(
    positions: float,
    workers: int,
    memory_limit: str,
    days: int = 1,
    region_deg: float | None = None,
) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    label = _label(positions, days)
    data = OUT / f"dense-{label}.parquet"
    if not data.exists():
        started = time.perf_counter()
        rows = generate(data, positions, days)
        print(f"generated {rows:,} positions in {time.perf_counter() - started:.0f} s")
    rows = pq.ParquetFile(data).metadata.num_rows
    protocol = resolve_protocol("euphrates-2017")
    client, cluster = analyze.start_cluster(None, workers, memory_limit)
    try:
        link = analyze.dashboard_link(client, local=True)
        print(f"dashboard: {link or 'none (no bokeh)'}")

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "windows" and (done % 10 == 0 or done == total):
                print(f"  windows {done}/{total}", flush=True)

        cpu_before = client.run(_cpu_s)
        summary = analyze.analyze(
            [data],
            protocol,
            OUT / f"analyze-{label}",
            client,
            progress=progress,
            region_deg=region_deg,
        )
        cpu_after = client.run(_cpu_s)
        peaks = client.run(_peak_rss_bytes)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    cores = workers
    cpu_s = sum(cpu_after[w] - cpu_before[w] for w in cpu_after)
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "positions": rows,
        "days": days,
        "aircraft_airborne_mean": round(rows * STEP_S / (days * DAY_S)),
        "workers": workers,
        "memory_limit": memory_limit,
        "windows": summary.windows,
        "region_deg": region_deg,
        "tasks": summary.extra.get("tasks", summary.windows),
        "seconds": round(summary.seconds, 1),
        "positions_per_s": round(rows / summary.seconds),
        "positions_per_s_per_core": round(rows / summary.seconds / cores),
        # CPU time of the workers: what the work costs, however busy the machine.
        "worker_cpu_s": round(cpu_s, 1),
        "positions_per_cpu_s": round(rows / cpu_s),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "peak_rss_per_worker_mib": sorted(round(v / 2**20) for v in peaks.values()),
        "conflict_rows": sum(summary.conflicts_by_level.values()),
        "conflict_pairs": summary.conflict_pairs,
        "loss_rows": summary.losses,
        "violations": summary.violations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=float, default=10e6)
    parser.add_argument(
        "--days", type=int, default=1, help="spread over this many days (same density)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--memory-limit", default="6GiB", help="per worker")
    parser.add_argument(
        "--region-deg", type=float, default=None, help="also cut by region (cells)"
    )
    args = parser.parse_args()
    result = run(
        args.positions, args.workers, args.memory_limit, args.days, args.region_deg
    )
    for key, value in result.items():
        print(f"{key:28s} {value}")
    suffix = f"-r{args.region_deg:g}" if args.region_deg else ""
    path = OUT / f"bench_analyze-{_label(args.positions, args.days)}{suffix}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
