"""Agreement of ``deconfliction daa`` with NASA DAIDALUS v2.0.4 on its own scenarios.

Run from the repository root::

    .venv/bin/python bench/daa_agreement.py \\
        --daidalus /work/.mirror/nasa+daidalus/repo [--runs DIR] [--config do-365b]

DAIDALUS is NASA Open Source Agreement 1.3 software; its scenarios and gold files are
*read* from a copy of its repository (a bare git directory, or a work tree), never
copied into ours. Two sources of reference output:

* the published gold, ``Regression/gold/DaidalusqAlerting-no_sum.csv`` and
  ``DaidalusBatch-no_sum.out`` (scenario ``H1.daa``, configuration DO_365B_no_SUM);
* with ``--runs DIR``, the output of DAIDALUS's own ``DaidalusAlerting`` and
  ``DaidalusBatch`` (built from the same repository with its Makefile and g++) on
  ``H0_0_120``, ``C0_0_120``, ``C1_0_120`` and ``H1``, as files
  ``alert-<scenario>-<A|B>.csv`` and ``batch-<scenario>-<A|B>.out``.

Measured, per scenario and over all:

* alert levels: share of (time, ownship, traffic) rows with the same level;
* times to each alert volume: share of rows where both are never reached, or both are
  reached within 0.5 s of each other;
* bands: DAIDALUS's band of each dimension is sampled every 1 deg, 5 kt, 100 fpm and
  100 ft over its range; at the points where DAIDALUS shows something to avoid (a
  region other than NONE) the share where our region is the same. A point exactly on
  one of DAIDALUS's band edges agrees with either side.

Results go to stdout and to ``bench/out/daa_agreement.json``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from deconfliction.adapters.daa_files import dimension_range, load_config, read_daa
from deconfliction.analysis.daa import run
from deconfliction.domain.daa.bands import DIMENSIONS, region_at
from deconfliction.domain.daa.config import Region

SCENARIOS = ("H0_0_120", "C0_0_120", "C1_0_120", "H1")
_BAND_HEADERS = {
    "Horizontal Direction Bands:": "direction_deg",
    "Horizontal Speed Bands:": "horizontal_speed_kt",
    "Vertical Speed Bands:": "vertical_speed_fpm",
    "Altitude Bands:": "altitude_ft",
}
_INTERVAL = re.compile(r"^\s*\[(\S+) \[[^\]]*\], (\S+) \[[^\]]*\]\]\s+(\w+)")
_STEPS = {
    "direction_deg": 1.0,
    "horizontal_speed_kt": 5.0,
    "vertical_speed_fpm": 100.0,
    "altitude_ft": 100.0,
}


def _reader(root: Path):
    """A function reading a repository path as text from a bare git dir or a tree."""
    if (root / "HEAD").exists() and not (root / "Scenarios").exists():

        def read(path: str) -> str:
            return subprocess.run(
                ["git", "--git-dir", str(root), "show", f"HEAD:{path}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout

        return read
    return lambda path: (root / path).read_text(encoding="utf-8")


def parse_alerting(text: str) -> dict[tuple[float, str, str], tuple[int, list[float]]]:
    """DaidalusAlerting CSV: (time, ownship, traffic) -> (level, times to volumes)."""
    rows = list(csv.reader(io.StringIO(text)))
    out = {}
    for r in rows[2:]:
        if len(r) < 8:
            continue
        cells = [c.strip() for c in r]
        t2v = [float(c) if c and "inf" not in c else math.inf for c in cells[5:8]]
        out[(float(cells[0]), cells[1], cells[2])] = (int(cells[4]), t2v)
    return out


def parse_batch(text: str) -> dict[float, dict[str, list[tuple[float, float, str]]]]:
    """DaidalusBatch output: time -> dimension -> [(from, to, region)]."""
    out: dict[float, dict[str, list[tuple[float, float, str]]]] = {}
    cur: dict[str, list[tuple[float, float, str]]] | None = None
    dim: str | None = None
    for line in text.splitlines():
        if line.startswith("Time: "):
            cur = out.setdefault(float(line.split()[1]), {})
            dim = None
        elif line.strip() in _BAND_HEADERS and cur is not None:
            dim = _BAND_HEADERS[line.strip()]
            cur[dim] = []
        elif dim is not None and cur is not None:
            m = _INTERVAL.match(line)
            if m:
                cur[dim].append((float(m.group(1)), float(m.group(2)), m.group(3)))
            else:
                dim = None
    return out


def _daidalus_regions(
    bands: list[tuple[float, float, str]], points: np.ndarray
) -> list[set[str]]:
    """The region(s) DAIDALUS gives each point (two on an edge)."""
    found: list[set[str]] = [set() for _ in points]
    for lo, hi, region in bands:
        inside = (points >= lo - 1e-6) & (points <= hi + 1e-6)
        for i in np.flatnonzero(inside):
            found[i].add(region)
    return found


def compare(
    scenario_text: str,
    alerting: str,
    batch: str,
    config_name: str,
    name: str,
) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.daa"
        path.write_text(scenario_text, encoding="utf-8")
        steps = read_daa(path)
    cfg = load_config(config_name)
    ref_alerts = parse_alerting(alerting)
    ref_bands = parse_batch(batch)
    level_same = level_rows = 0
    t2v_ok = t2v_rows = 0
    t2v_worst = 0.0
    band_same = dict.fromkeys(DIMENSIONS, 0)
    band_points = dict.fromkeys(DIMENSIONS, 0)
    disagreements: list[str] = []
    for res in run(cfg, steps):
        t, names = res.step.time_s, res.step.names
        a = res.result.alerts
        for k in range(res.result.own.shape[0]):
            key = (t, names[int(res.result.own[k])], names[int(res.result.traffic[k])])
            if key not in ref_alerts:
                continue
            ref_level, ref_t2v = ref_alerts[key]
            level_rows += 1
            if int(res.levels[k]) == ref_level:
                level_same += 1
            elif len(disagreements) < 20:
                disagreements.append(
                    f"{name} t={t}: level {int(res.levels[k])} vs {ref_level}"
                )
            t2v_rows += 1
            ours = [
                float(a.time_to_volume_s[k, i])
                if i < a.time_to_volume_s.shape[1]
                else math.inf
                for i in range(3)
            ]
            good = True
            for mine, theirs in zip(ours, ref_t2v, strict=True):
                if math.isinf(mine) and math.isinf(theirs):
                    continue
                if math.isinf(mine) or math.isinf(theirs):
                    good = False
                    continue
                t2v_worst = max(t2v_worst, abs(mine - theirs))
                good &= abs(mine - theirs) <= 0.5
            t2v_ok += good
        ref = ref_bands.get(t)
        if ref is None:
            continue
        for dim in DIMENSIONS:
            if dim not in ref:
                continue
            lo, hi = dimension_range(cfg, dim)
            step = _STEPS[dim]
            points = np.arange(lo, hi + 1e-9, step)
            if dim == "direction_deg":
                points = points[points < 360.0]
            theirs = _daidalus_regions(ref[dim], points)
            b = res.result.bands[dim]
            mine = region_at(b.values_deg_kt_fpm_or_ft[0], b.region[0], points)
            for i, regions in enumerate(theirs):
                if not regions or regions == {"NONE"}:
                    continue
                band_points[dim] += 1
                if Region(int(mine[i])).label in regions:
                    band_same[dim] += 1
    return {
        "scenario": name,
        "config": config_name,
        "alert_rows": level_rows,
        "alert_level_same": level_same,
        "t2v_rows": t2v_rows,
        "t2v_within_0_5_s": t2v_ok,
        "t2v_worst_s": t2v_worst,
        "band_points": band_points,
        "band_same": band_same,
        "disagreements": disagreements,
    }


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f} %" if b else "n/a"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--daidalus", type=Path, required=True, help="DAIDALUS repository")
    p.add_argument("--runs", type=Path, help="outputs of DAIDALUS's own programs")
    p.add_argument("--config", default="do-365b", choices=("do-365a", "do-365b"))
    args = p.parse_args()
    read = _reader(args.daidalus)
    letter = args.config[-1].upper()
    results = [
        compare(
            read("Scenarios/H1.daa"),
            read("Regression/gold/DaidalusqAlerting-no_sum.csv"),
            read("Regression/gold/DaidalusBatch-no_sum.out"),
            "do-365b",
            "H1 (published gold)",
        )
    ]
    if args.runs:
        for sc in SCENARIOS:
            alert = args.runs / f"alert-{sc}-{letter}.csv"
            batch = args.runs / f"batch-{sc}-{letter}.out"
            if alert.exists() and batch.exists():
                results.append(
                    compare(
                        read(f"Scenarios/{sc}.daa"),
                        alert.read_text(encoding="utf-8"),
                        batch.read_text(encoding="utf-8"),
                        args.config,
                        sc,
                    )
                )
    print(
        "| scenario | config | alert levels same | times to volume within 0.5 s "
        "| worst | " + " | ".join(f"{d} regions same" for d in DIMENSIONS) + " |"
    )
    print("|---" * (5 + len(DIMENSIONS)) + "|")
    tot = {"l": [0, 0], "t": [0, 0], **{d: [0, 0] for d in DIMENSIONS}}
    for r in results:
        cells = [
            str(r["scenario"]),
            str(r["config"]),
            _pct(r["alert_level_same"], r["alert_rows"]),  # type: ignore[arg-type]
            _pct(r["t2v_within_0_5_s"], r["t2v_rows"]),  # type: ignore[arg-type]
            f"{r['t2v_worst_s']:.3f} s",
        ]
        if not str(r["scenario"]).startswith("H1 (pub") or not args.runs:
            tot["l"][0] += r["alert_level_same"]  # type: ignore[operator]
            tot["l"][1] += r["alert_rows"]  # type: ignore[operator]
            tot["t"][0] += r["t2v_within_0_5_s"]  # type: ignore[operator]
            tot["t"][1] += r["t2v_rows"]  # type: ignore[operator]
        for d in DIMENSIONS:
            same = r["band_same"][d]  # type: ignore[index]
            pts = r["band_points"][d]  # type: ignore[index]
            cells.append(f"{_pct(same, pts)} of {pts}")
            if not str(r["scenario"]).startswith("H1 (pub") or not args.runs:
                tot[d][0] += same
                tot[d][1] += pts
        print("| " + " | ".join(cells) + " |")
    all_same = sum(tot[d][0] for d in DIMENSIONS)
    all_pts = sum(tot[d][1] for d in DIMENSIONS)
    print(
        f"\nOverall: alert levels {_pct(*tot['l'])}, "
        f"times to volume {_pct(*tot['t'])}, "
        f"band regions {_pct(all_same, all_pts)} of {all_pts} points"
    )
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "daa_agreement.json").write_text(
        json.dumps(results, indent=1), encoding="utf-8"
    )
    for r in results:
        for d in r["disagreements"]:  # type: ignore[attr-defined]
            print("  ", d, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
