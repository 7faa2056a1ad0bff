"""Interop benchmark: each track reader's throughput from a file.

Run from the repository root::

    .venv/bin/python bench/bench_interop.py           # full run, about a minute
    .venv/bin/python bench/bench_interop.py --quick   # small files, a few seconds

Each reader gets a file written here (the formats' samples from
``tests/adapters/interop_samples.py``: 50 aircraft flying straight, a position every
0.5 s, velocities and identifications in between) and reads it whole through
``read_track_file``, the path of ``deconfliction tracks``: file reading, framing,
decoding, validation and the struct-of-arrays batch. The time is the best of
``--repeat`` runs (the machine is shared: the best run is the least disturbed one).
Messages are what the format counts: lines (SBS, hex), events (CoT), rows (tables).

Goals (issue 6): 100,000 messages/s per reader, 20,000 for raw Mode-S decoding.
Results go to stdout as a table and to ``bench/out/interop.json``
(``interop_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:  # tests.adapters.interop_samples writes the samples
    sys.path.insert(0, str(ROOT))

from tests.adapters.interop_samples import (  # noqa: E402
    Sample,
    flight,
    modes_lines,
    sbs_lines,
)

from deconfliction.adapters.cot import CotOptions, to_bytes, track_event  # noqa: E402
from deconfliction.adapters.tabular import (  # noqa: E402
    write_tracks_csv,
    write_tracks_parquet,
)
from deconfliction.adapters.track_files import ReadOptions, read_track_file  # noqa: E402
from deconfliction.adapters.track_stream import TrackBatch  # noqa: E402

T0_S = 1513159200.0
AIRCRAFT = 50
GOAL_MSG_PER_S = 100_000
GOAL_MODES_MSG_PER_S = 20_000


@dataclass(frozen=True)
class Case:
    """One reader on one file."""

    name: str
    fmt: str
    path: Path
    goal_msg_per_s: int
    options: ReadOptions | None = None


def _traffic(samples_per_aircraft: int) -> list[Sample]:
    samples: list[Sample] = []
    for k in range(AIRCRAFT):
        samples += flight(
            f"{0x4CA000 + k:06X}",
            f"TST{k:03d}",
            33.0 + 0.05 * k,
            38.0,
            (7 * k) % 360,
            420.0,
            25000.0 + 100 * k,
            T0_S,
            samples_per_aircraft,
        )
    samples.sort(key=lambda s: s.t_s)
    return samples


def _opensky_csv(path: Path, samples: list[Sample]) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(
            "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,"
            "baroaltitude,geoaltitude,lastposupdate\n"
        )
        for s in samples:
            f.write(
                f"{s.t_s:.1f},{s.icao.lower()},{s.lat_deg:.6f},{s.lon_deg:.6f},216.07,"
                f"{s.trk_deg:.1f},0.0,{s.callsign},False,{s.alt_ft * 0.3048:.1f},,"
                f"{s.t_s:.1f}\n"
            )


def _opensky_parquet(path: Path, samples: list[Sample]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table(
            {
                "icao24": [s.icao.lower() for s in samples],
                "time_position": [s.t_s for s in samples],
                "latitude": [s.lat_deg for s in samples],
                "longitude": [s.lon_deg for s in samples],
                "baro_altitude": [s.alt_ft * 0.3048 for s in samples],
                "velocity": [216.07] * len(samples),
                "true_track": [s.trk_deg for s in samples],
                "vertical_rate": [0.0] * len(samples),
                "callsign": [s.callsign for s in samples],
            }
        ),
        path,
    )


def write_samples(directory: Path, scale: float) -> list[Case]:
    """Write one file per reader; ``scale`` 1.0 is the full run."""
    line_samples = _traffic(int(4000 * scale))  # ~270,000 SBS lines
    modes_samples = _traffic(int(800 * scale))  # ~54,000 hex lines
    table_samples = _traffic(int(20000 * scale))  # 1,000,000 rows
    cases: list[Case] = []

    sbs = directory / "feed.sbs"
    sbs.write_text("\n".join(sbs_lines(line_samples)) + "\n", encoding="utf-8")
    cases.append(Case("SBS-1 (BaseStation)", "sbs", sbs, GOAL_MSG_PER_S))

    hex_lines = directory / "feed.hex"
    hex_lines.write_text("\n".join(modes_lines(modes_samples)) + "\n", encoding="utf-8")
    cases.append(
        Case("raw Mode-S, CPR pairs", "beast", hex_lines, GOAL_MODES_MSG_PER_S)
    )
    cases.append(
        Case(
            "raw Mode-S, reference",
            "beast",
            hex_lines,
            GOAL_MODES_MSG_PER_S,
            ReadOptions(reference=(34.0, 38.5)),
        )
    )

    batch, _ = read_track_file(sbs, "sbs")
    cot = directory / "feed.cot"
    options = CotOptions()
    cot.write_bytes(
        b"".join(to_bytes(track_event(r, options)) for r in batch.records())
    )
    cases.append(Case("Cursor-on-Target XML", "cot", cot, GOAL_MSG_PER_S))

    opensky_csv = directory / "states.csv"
    _opensky_csv(opensky_csv, table_samples)
    cases.append(Case("OpenSky CSV", "opensky", opensky_csv, GOAL_MSG_PER_S))
    opensky_parquet = directory / "states.parquet"
    _opensky_parquet(opensky_parquet, table_samples)
    cases.append(Case("OpenSky Parquet", "opensky", opensky_parquet, GOAL_MSG_PER_S))

    table = TrackBatch.from_columns(
        ids=[s.icao for s in table_samples],
        t_s=[s.t_s for s in table_samples],
        lat_deg=[s.lat_deg for s in table_samples],
        lon_deg=[s.lon_deg for s in table_samples],
        alt_ft=[s.alt_ft for s in table_samples],
        gs_kt=[s.gs_kt for s in table_samples],
        trk_deg=[s.trk_deg for s in table_samples],
        vs_fpm=[s.vs_fpm for s in table_samples],
    )
    tracks_csv = directory / "tracks.csv"
    write_tracks_csv(tracks_csv, table)
    cases.append(Case("track table CSV", "csv", tracks_csv, GOAL_MSG_PER_S))
    tracks_parquet = directory / "tracks.parquet"
    write_tracks_parquet(tracks_parquet, table)
    cases.append(Case("track table Parquet", "parquet", tracks_parquet, GOAL_MSG_PER_S))
    return cases


def _best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(cases: Sequence[Case], repeat: int) -> list[dict[str, Any]]:
    """Time each case; one row per case."""
    rows = []
    for case in cases:
        elapsed_s, (batch, stats) = _best_of(
            repeat, lambda c=case: read_track_file(c.path, c.fmt, c.options)
        )
        rate = stats.read / elapsed_s
        rows.append(
            {
                "reader": case.name,
                "format": case.fmt,
                "file_bytes": case.path.stat().st_size,
                "messages": stats.read,
                "positions": len(batch),
                "rejected": stats.rejected_total,
                "best_s": round(elapsed_s, 4),
                "messages_per_s": round(rate),
                "positions_per_s": round(len(batch) / elapsed_s),
                "goal_messages_per_s": case.goal_msg_per_s,
                "meets_goal": rate >= case.goal_msg_per_s,
            }
        )
    return rows


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    """The results as a plain table."""
    head = ("reader", "messages", "positions", "best s", "msg/s", "goal", "")
    print(
        f"{head[0]:<24}{head[1]:>11}{head[2]:>11}{head[3]:>9}{head[4]:>12}{head[5]:>10}"
    )
    for r in rows:
        mark = "ok" if r["meets_goal"] else "BELOW"
        print(
            f"{r['reader']:<24}{r['messages']:>11,}{r['positions']:>11,}"
            f"{r['best_s']:>9.3f}{r['messages_per_s']:>12,}"
            f"{r['goal_messages_per_s']:>10,}  {mark}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Write the samples, time the readers, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader")
    parser.add_argument("--out", type=Path, help="JSON results file")
    args = parser.parse_args(argv)
    scale = 0.05 if args.quick else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        cases = write_samples(Path(tmp), scale)
        rows = measure(cases, args.repeat)
    print_table(rows)
    out = args.out or BENCH_DIR / "out" / (
        "interop_quick.json" if args.quick else "interop.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_1min": os.getloadavg()[0],
        },
        "repeat": args.repeat,
        "readers": rows,
    }
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
