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
Issue 19 adds ASTERIX: CAT021, CAT048 and CAT062 files (records encoded with
libasterix from the same traffic, blocks of 20 records, repeated to size) read at
100,000 records/s; the ASTERIX libraries compared on the same CAT062 data (decoding,
and encoding CAT062 at the same rate); where our reader's time goes; and the import of
a country's airspace (3,000 airspaces from OpenAir and AIXM 5.1, 3,000 NOTAMs) in
under 5 s each.
Results go to stdout as tables and to ``bench/out/interop.json``
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

from tests.adapters.asterix_samples import RADARS, Truth  # noqa: E402
from tests.adapters.asterix_samples import encode as asterix_encode  # noqa: E402
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

    truths = asterix_truths(_traffic(max(2, int(40 * scale))))
    repeats = max(1, int(20 * scale))
    for cat in (21, 48, 62):
        path = directory / f"cat{cat:03d}.ast"
        path.write_bytes(asterix_encode(cat, truths, per_block=20) * repeats)
        cases.append(
            Case(
                f"ASTERIX CAT{cat:03d}",
                "asterix",
                path,
                GOAL_MSG_PER_S,
                ReadOptions(radars=RADARS, start_t_s=T0_S),
            )
        )
    return cases


def asterix_truths(samples: Sequence[Sample]) -> list[Truth]:
    """The traffic as the ASTERIX samples' truths (within the radar's reach)."""
    return [
        Truth(
            s.icao,
            s.callsign or "TST",
            "1200",
            k % 4000 + 1,
            s.t_s,
            s.lat_deg,
            s.lon_deg,
            s.alt_ft / 100.0,
            s.gs_kt,
            s.trk_deg % 360.0,
            0.0,
        )
        for k, s in enumerate(samples)
    ]


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


def _rate(repeat: int, count: int, run: Callable[[], Any]) -> float:
    elapsed_s, _ = _best_of(repeat, run)
    return count / elapsed_s


def compare_asterix(
    directory: Path, repeat: int, gpl_dir: Path | None
) -> list[dict[str, Any]]:
    """The ASTERIX libraries on the same CAT062 file: decoding and encoding."""
    import numpy as np
    from asterix.base import Bits, RawDatablock
    from aviconv_asterix import iter_records
    from aviconv_asterix.cat062 import UAP_062
    from aviconv_asterix.fspec import decode_record
    from tests.adapters.asterix_samples import Cat062, cat062_record

    from deconfliction.adapters.asterix_out import TrackNumbers, datagrams
    from deconfliction.adapters.asterix_out import encode_records as ours_encode

    data = (directory / "cat062.ast").read_bytes()
    n = len(list(iter_records(data)))
    cut = 0
    while cut < max(1, len(data) // 10):  # whole blocks, about a tenth
        cut += int.from_bytes(data[cut + 1 : cut + 3], "big")
    small = data[:cut]
    n_small = len(list(iter_records(small)))
    rows: list[dict[str, Any]] = []

    def decode_record_only() -> None:
        at = 0
        while at < len(data):
            end = at + int.from_bytes(data[at + 1 : at + 3], "big")
            body, offset = data[at + 3 : end], 0
            while offset < len(body):
                _, _, offset = decode_record(body, offset, UAP_062, category=62)
            at = end

    def libasterix_decode() -> None:
        for block in RawDatablock.parse(Bits.from_bytes(small)):  # type: ignore[union-attr]
            for rec in Cat062.cv_uap.parse(block.get_raw_records()):  # type: ignore[union-attr]
                pos = rec.get_item("105").variation
                pos.get_item("LAT").variation.content.as_quantity("°")

    rows.append(
        {
            "library": "aviconv-asterix decode_record (the library's walk)",
            "operation": "decode",
            "records_per_s": round(_rate(repeat, n, decode_record_only)),
        }
    )
    rows.append(
        {
            "library": "aviconv-asterix iter_records (its pydantic records)",
            "operation": "decode",
            "records_per_s": round(_rate(repeat, n, lambda: list(iter_records(data)))),
        }
    )
    rows.append(
        {
            "library": "libasterix 0.36 (parse, read the position)",
            "operation": "decode",
            "records_per_s": round(_rate(repeat, n_small, libasterix_decode)),
        }
    )
    if gpl_dir is not None:
        rows.append(_asterix_decoder(gpl_dir, directory / "cat062.ast", n))

    samples = _traffic(max(2, n // AIRCRAFT))[:n]
    truths = asterix_truths(samples)
    columns = {
        name: np.array([getattr(t, attr) for t in truths])
        for name, attr in (
            ("t_s", "t_s"),
            ("lat_deg", "lat_deg"),
            ("lon_deg", "lon_deg"),
            ("gs_kt", "gs_kt"),
            ("trk_deg", "trk_deg"),
            ("vs_fpm", "vs_fpm"),
        )
    }
    alt_ft = np.array([t.fl * 100.0 for t in truths])
    ids = [t.icao24 for t in truths]

    def ours() -> None:
        datagrams(
            ours_encode(
                ids,
                columns["t_s"],
                columns["lat_deg"],
                columns["lon_deg"],
                alt_ft,
                columns["gs_kt"],
                columns["trk_deg"],
                columns["vs_fpm"],
                sac=1,
                sic=1,
                track_numbers=TrackNumbers(),
            )
        )

    few = truths[: max(1, len(truths) // 20)]

    def libasterix_encode() -> None:
        for k in range(0, len(few), 20):
            Cat062.create([cat062_record(t) for t in few[k : k + 20]]).unparse()

    rows.append(
        {
            "library": "ours (asterix_out, aviconv-asterix layout)",
            "operation": "encode CAT062",
            "records_per_s": round(_rate(repeat, len(truths), ours)),
        }
    )
    rows.append(
        {
            "library": "libasterix 0.36 (create, unparse)",
            "operation": "encode CAT062",
            "records_per_s": round(_rate(repeat, len(few), libasterix_encode)),
        }
    )
    rows.append(_aviconv_typed_encode(few, repeat))
    return rows


def _aviconv_typed_encode(truths: Sequence[Truth], repeat: int) -> dict[str, Any]:
    import math

    from aviconv_asterix import Cat062Record, encode_records

    def run() -> None:
        encode_records(
            Cat062Record(
                sac=1,
                sic=1,
                time_of_track_s=t.t_s % 86400.0,
                lat=t.lat_deg,
                lon=t.lon_deg,
                vx_ms=t.gs_kt * 0.5144 * math.sin(math.radians(t.trk_deg)),
                vy_ms=t.gs_kt * 0.5144 * math.cos(math.radians(t.trk_deg)),
                measured_flight_level=t.fl,
                target_address=t.icao24,
            )
            for t in truths
        )

    return {
        "library": "aviconv-asterix typed encode (no track number/status)",
        "operation": "encode CAT062",
        "records_per_s": round(_rate(repeat, len(truths), run)),
    }


def _asterix_decoder(gpl_dir: Path, path: Path, n: int) -> dict[str, Any]:
    """asterix-decoder (GPL, C++) in a child process: its package is also named
    ``asterix``, as libasterix's is, so the two cannot share one process."""
    import subprocess

    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); import asterix; "
        "data = open(sys.argv[2], 'rb').read(); best = 1e9\n"
        "for _ in range(3):\n"
        "    t = time.perf_counter(); asterix.parse(data); "
        "best = min(best, time.perf_counter() - t)\n"
        "print(best)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(gpl_dir), str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    return {
        "library": "asterix-decoder 0.7 (GPL, C++; asterix.parse)",
        "operation": "decode",
        "records_per_s": round(n / float(out.stdout.strip().splitlines()[-1])),
    }


def asterix_profile(path: Path) -> dict[str, Any]:
    """Where our reader's time goes on a file: the library's functions, ours."""
    import cProfile
    import pstats

    options = ReadOptions(radars=RADARS, start_t_s=T0_S)
    profiler = cProfile.Profile()
    profiler.enable()
    read_track_file(path, "asterix", options)
    profiler.disable()
    stats = pstats.Stats(profiler)
    shares: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "aviconv_asterix" in filename:
            key = "aviconv-asterix (its items' parse callables)"
        elif "adapters/asterix.py" in filename:
            key = "ours: framing, record walk, checks, fields, records"
        elif "track_stream.py" in filename:
            key = "ours: party rules, the batch"
        else:
            key = "Python built-ins, pyproj, numpy"
        shares[key] = shares.get(key, 0.0) + tottime
    total = sum(shares.values())
    return {k: round(100.0 * v / total, 1) for k, v in sorted(shares.items())}


def measure_imports(directory: Path, scale: float, repeat: int) -> list[dict[str, Any]]:
    """A country's airspace: OpenAir, AIXM 5.1 and NOTAM files of thousands."""
    from tests.adapters.airspace_samples import country_aixm, country_openair

    from deconfliction.adapters.airspace_files import read_airspace, zones_toml
    from deconfliction.adapters.notam import NotamSettings, operation_notam

    n = max(30, int(3000 * scale))
    files = {
        "openair": directory / "country.txt",
        "aixm": directory / "country.xml",
        "notam": directory / "notams.txt",
    }
    files["openair"].write_text(country_openair(n), encoding="utf-8")
    files["aixm"].write_text(country_aixm(n), encoding="utf-8")
    notams = [
        operation_notam(
            {
                "operation_kind": "air_refuelling",
                "floor_ft": 1000.0 * (k % 20),
                "ceiling_ft": 30000.0,
                "start_t_s": T0_S + 60.0 * k,
                "end_t_s": T0_S + 60.0 * k + 7200.0,
                "lat_deg": 30.0 + (k // 100) * 0.2,
                "lon_deg": 30.0 + (k % 100) * 0.2,
                "radius_nm": 5.0 + k % 30,
            },
            NotamSettings("OSTT"),
            number=k + 1,
            party_name="Coalition",
        )
        for k in range(n)
    ]
    files["notam"].write_text("\n".join(notams), encoding="utf-8")
    rows = []
    for fmt, path in files.items():
        elapsed_s, text = _best_of(
            repeat,
            lambda f=fmt, p=path: zones_toml(read_airspace(p, f).zones, "x", "bench"),
        )
        rows.append(
            {
                "format": fmt,
                "airspaces": n,
                "zones": text.count("[[zones]]"),
                "file_bytes": path.stat().st_size,
                "best_s": round(elapsed_s, 3),
                "goal_s": 5.0,
                "meets_goal": elapsed_s < 5.0,
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
    parser.add_argument(
        "--asterix-decoder",
        type=Path,
        help="a directory where asterix-decoder (GPL) is installed (pip --target): "
        "compared too",
    )
    args = parser.parse_args(argv)
    scale = 0.05 if args.quick else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        cases = write_samples(Path(tmp), scale)
        rows = measure(cases, args.repeat)
        libraries = compare_asterix(Path(tmp), args.repeat, args.asterix_decoder)
        profile = asterix_profile(Path(tmp) / "cat062.ast")
        imports = measure_imports(Path(tmp), scale, args.repeat)
    print_table(rows)
    print()
    print(f"{'ASTERIX library':<58}{'operation':<16}{'records/s':>12}")
    for r in libraries:
        print(f"{r['library']:<58}{r['operation']:<16}{r['records_per_s']:>12,}")
    print()
    print("where the CAT062 reader's time goes (% of its profile):")
    for name, share in profile.items():
        print(f"  {name:<56}{share:>6.1f} %")
    print()
    print(f"{'import':<10}{'airspaces':>10}{'zones':>8}{'best s':>9}  goal 5 s")
    for r in imports:
        mark = "ok" if r["meets_goal"] else "ABOVE"
        print(
            f"{r['format']:<10}{r['airspaces']:>10,}{r['zones']:>8,}"
            f"{r['best_s']:>9.3f}  {mark}"
        )
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
        "asterix_libraries": libraries,
        "asterix_profile_percent": profile,
        "imports": imports,
    }
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
