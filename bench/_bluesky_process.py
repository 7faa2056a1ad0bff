"""A BlueSky process doing what ``deconfliction detect --all-pairs`` does.

Reads a states CSV (``id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm``), runs BlueSky's
compiled state-based detection on it and writes each conflict once (``a < b``) as
CSV to stdout: ``a,b,dcpa_nm,tcpa_s,tin_s``. The benchmark times this script as a
whole process, start-up included, against the ``deconfliction`` command.

    python bench/_bluesky_process.py STATES.csv --horizontal-nm 5 \
        --vertical-ft 1000 --lookahead-s 300 > pairs.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from _bluesky import detect_compiled, stand_in_traffic


def main(argv: list[str] | None = None) -> int:
    """Run the detection; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("states_csv", type=Path)
    parser.add_argument("--horizontal-nm", type=float, default=5.0)
    parser.add_argument("--vertical-ft", type=float, default=1000.0)
    parser.add_argument("--lookahead-s", type=float, default=300.0)
    args = parser.parse_args(argv)

    with args.states_csv.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    traffic = stand_in_traffic(
        [r["id"] for r in rows],
        [float(r["lat"]) for r in rows],
        [float(r["lon"]) for r in rows],
        [float(r["alt_ft"]) for r in rows],
        [float(r["gs_kt"]) for r in rows],
        [float(r["trk_deg"]) for r in rows],
        [float(r["vs_fpm"]) for r in rows],
    )
    run = detect_compiled(
        traffic, args.horizontal_nm, args.vertical_ft, args.lookahead_s
    )
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("a", "b", "dcpa_nm", "tcpa_s", "tin_s"))
    writer.writerows(
        (a, b, round(float(d), 4), round(float(t), 3), round(float(tin), 3))
        for (a, b), d, t, tin in zip(
            run.pairs, run.dcpa_nm, run.tcpa_s, run.tin_s, strict=True
        )
        if a < b
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
