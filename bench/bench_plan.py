"""Strategic check benchmark: one operation against 1,000 to 100,000 others.

Run from the repository root::

    .venv/bin/python bench/bench_plan.py           # N = 1,000, 10,000, 100,000
    .venv/bin/python bench/bench_plan.py --quick   # N = 1,000, 10,000

The other operations are random plans over the Syrian theatre (32.3-37.3 N,
35.7-42.3 E) during 7 days: each of 1 to 3 consecutive volumes, each volume 1 to 4 h,
a circle (radius 3-40 NM) or a polygon (4-8 vertices, 3-40 NM from its centre),
between a random floor (0-35,000 ft) and 2,000-10,000 ft above it; half are the
coalition's, half Russia's. The operation checked is a coalition CAP of two volumes
(3 h) in the middle of the theatre, in the middle of the week. Minima are 5 NM and
1,000 ft. Pure computation: no database.

Two ways, same answer (checked):

* ``full``: :func:`check_against_operations` over all N (time and altitude in
  arrays, then bounding circles, then exact geometry for the few left);
* ``indexed``: every stored volume is indexed once with :func:`index_cells`
  (margin 0), as a store would; the check looks up the keys of the operation's
  volumes (margin 5 NM) in a dict, and runs the exact check on the candidate
  operations only. Reported: keys per stored volume, the time to index all N, the
  candidates that survive the lookup and the time of lookup plus exact check.

Results go to stdout as a table and to ``bench/out/plan.json``
(``plan_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.adapters.protocol_file import resolve_protocol
from deconfliction.domain.geodesy import destination
from deconfliction.domain.model import SeparationMinima
from deconfliction.domain.planning import (
    Circle,
    Operation,
    Outline,
    PlanningBoundaries,
    Polygon,
    Volume3D,
    Volume4D,
    check_against_lines,
    check_against_operations,
    check_against_zones,
    index_cells,
)
from deconfliction.units import S_PER_H

OUT_DIR = Path(__file__).resolve().parent / "out"
SEED = 20171213
MINIMA = SeparationMinima(horizontal_nm=5.0, vertical_ft=1000.0)
T0_S = 1_513_123_200.0  # 2017-12-13T00:00:00Z
SPAN_S = 7 * 24 * S_PER_H
LAT_RANGE_DEG = (32.3, 37.3)
LON_RANGE_DEG = (35.7, 42.3)
FULL_N = (1_000, 10_000, 100_000)
QUICK_N = (1_000, 10_000)
REPEATS = 3


def random_outline(rng: np.random.Generator, lat: float, lon: float) -> Outline:
    size_nm = float(rng.uniform(3.0, 40.0))
    if rng.random() < 0.5:
        return Circle(lat, lon, size_nm)
    sides = int(rng.integers(4, 9))
    # Evenly spread directions, jittered: a simple, star-shaped polygon.
    azimuths = (np.arange(sides) + rng.uniform(0.1, 0.9, sides)) * 360.0 / sides
    dist = rng.uniform(0.5, 1.0, sides) * size_nm
    v_lat, v_lon = destination(np.full(sides, lat), np.full(sides, lon), azimuths, dist)
    return Polygon(tuple(v_lat.tolist()), tuple(v_lon.tolist()))


def random_operations(n: int, rng: np.random.Generator) -> list[Operation]:
    """``n`` random operations over the theatre and the week (see the docstring)."""
    ops: list[Operation] = []
    for k in range(n):
        start = T0_S + float(rng.uniform(0.0, SPAN_S - 12 * S_PER_H))
        volumes: list[Volume4D] = []
        for _ in range(int(rng.integers(1, 4))):
            lat = float(rng.uniform(*LAT_RANGE_DEG))
            lon = float(rng.uniform(*LON_RANGE_DEG))
            floor = float(rng.uniform(0.0, 35_000.0))
            end = start + float(rng.uniform(1.0, 4.0)) * S_PER_H
            volumes.append(
                Volume4D(
                    Volume3D(
                        random_outline(rng, lat, lon),
                        floor,
                        floor + float(rng.uniform(2_000.0, 10_000.0)),
                    ),
                    start,
                    end,
                )
            )
            start = end
        party = "coalition" if k % 2 else "russia"
        ops.append(Operation(f"OP{k:06d}", party, "air_patrol", tuple(volumes)))
    return ops


def query_operation() -> Operation:
    start = T0_S + 3.5 * 24 * S_PER_H
    return Operation(
        "QUERY",
        "coalition",
        "air_patrol",
        (
            Volume4D(
                Volume3D(Circle(34.8, 39.0, 25.0), 18_000.0, 26_000.0),
                start,
                start + 2 * S_PER_H,
            ),
            Volume4D(
                Volume3D(
                    Polygon((35.0, 35.4, 35.4, 35.0), (39.5, 39.5, 40.1, 40.1)),
                    20_000.0,
                    30_000.0,
                ),
                start + 2 * S_PER_H,
                start + 3 * S_PER_H,
            ),
        ),
    )


def build_index(ops: list[Operation]) -> tuple[dict[tuple[int, int], list[int]], int]:
    """Key -> operation indices (every volume with margin 0), and the key count."""
    index: dict[tuple[int, int], list[int]] = defaultdict(list)
    keys = 0
    for k, op in enumerate(ops):
        for v in op.volumes:
            for key in index_cells(v, 0.0):
                index[key].append(k)
                keys += 1
    return index, keys


def indexed_check(
    op: Operation, ops: list[Operation], index: dict[tuple[int, int], list[int]]
) -> tuple[int, list[Any]]:
    candidates: set[int] = set()
    for v in op.volumes:
        for key in index_cells(v, MINIMA.horizontal_nm):
            candidates.update(index.get(key, ()))
    found = check_against_operations(op, [ops[k] for k in sorted(candidates)], MINIMA)
    return len(candidates), found


def boundaries() -> dict[str, Any]:
    """Zones and lines of euphrates-2017: preparing them, and checking the query."""
    protocol = resolve_protocol("euphrates-2017")
    start = time.perf_counter()
    prepared = PlanningBoundaries.from_protocol(protocol)
    prepare_s = time.perf_counter() - start
    op = query_operation()
    check_s, found = median_s(
        lambda: check_against_zones(op, prepared) + check_against_lines(op, prepared),
        REPEATS,
    )
    print(
        f"euphrates-2017 zones and lines: prepared in {prepare_s:.3f} s, "
        f"checked in {check_s:.4f} s ({len(found)} conflicts)"
    )
    return {
        "prepare_s": round(prepare_s, 4),
        "check_s": round(check_s, 4),
        "conflicts": len(found),
    }


def median_s(fn: Any, repeats: int) -> tuple[float, Any]:
    times: list[float] = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    op = query_operation()
    rows: list[dict[str, Any]] = []
    for n in sizes:
        ops = random_operations(n, rng)
        volumes = sum(len(o.volumes) for o in ops)
        full_s, full = median_s(
            lambda ops=ops: check_against_operations(op, ops, MINIMA), REPEATS
        )
        start = time.perf_counter()
        index, keys = build_index(ops)
        index_s = time.perf_counter() - start
        indexed_s, (candidates, found) = median_s(
            lambda ops=ops, index=index: indexed_check(op, ops, index), REPEATS
        )
        if found != full:
            raise SystemExit(f"N={n}: the indexed check disagrees with the full one")
        rows.append(
            {
                "n_operations": n,
                "n_volumes": volumes,
                "keys_per_volume": round(keys / volumes, 1),
                "index_build_s": round(index_s, 3),
                "candidates": candidates,
                "conflicts": len(full),
                "full_check_s": round(full_s, 4),
                "indexed_check_s": round(indexed_s, 4),
            }
        )
        print_row(rows[-1])
    return rows


HEADER = (
    f"{'N':>8} {'volumes':>8} {'keys/vol':>8} {'index s':>8} "
    f"{'cands':>6} {'confl':>6} {'full s':>8} {'indexed s':>9}"
)


def print_row(r: dict[str, Any]) -> None:
    print(
        f"{r['n_operations']:>8,} {r['n_volumes']:>8,} {r['keys_per_volume']:>8} "
        f"{r['index_build_s']:>8.2f} {r['candidates']:>6,} {r['conflicts']:>6} "
        f"{r['full_check_s']:>8.3f} {r['indexed_check_s']:>9.4f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 10,000 only")
    args = parser.parse_args(argv)
    sizes = QUICK_N if args.quick else FULL_N
    print(HEADER)
    rows = run(sizes)
    lines_and_zones = boundaries()
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / ("plan_quick.json" if args.quick else "plan.json")
    out.write_text(
        json.dumps(
            {
                "seed": SEED,
                "minima": {"horizontal_nm": 5.0, "vertical_ft": 1000.0},
                "repeats": REPEATS,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": len(os.sched_getaffinity(0)),
                "results": rows,
                "zones_and_lines": lines_and_zones,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
