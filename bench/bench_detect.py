"""Detection benchmarks: against BlueSky, as whole processes, and scaling.

Run from the repository root (BlueSky comes with the ``bench`` extra)::

    .venv/bin/python bench/bench_detect.py           # full run, about 5 minutes
    .venv/bin/python bench/bench_detect.py --quick   # small N, under a minute

Every benchmark uses minima of 5 NM and 1,000 ft, a lookahead of 300 s and all
pairs (``cross_party_only=False``), as BlueSky checks all pairs. Results go to
stdout as tables and to ``bench/out/bench_detect.json`` (``..._quick.json`` with
``--quick``). See ``bench/README.md`` for what each benchmark measures.

1. ``compare``: ``detect_conflicts`` against BlueSky's compiled and numpy
   state-based detection on the same uniform snapshot, with times and pair
   agreement; every pair found by one side only is checked for how far it sits
   from a threshold.
2. ``process``: ``deconfliction detect`` against a BlueSky process doing the same,
   start-up, CSV reading and writing included.
3. ``scaling``: busy-airspace density, region growing with N; time and peak RSS of
   a fresh process per N.
4. ``profile``: where ``detect_conflicts`` spends its time.

The numpy BlueSky builds n x n matrices: it runs in a child process with an
address-space limit, and only where an estimate from a smaller run says it fits in
:data:`MEMORY_BUDGET_BYTES`.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import math
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:  # when imported from the tests
    sys.path.insert(0, str(BENCH_DIR))

import _bluesky  # noqa: E402
import _states  # noqa: E402
from deconfliction.domain import geodesy  # noqa: E402
from deconfliction.domain.alerting import default_alert_levels  # noqa: E402
from deconfliction.domain.detect import detect_conflicts  # noqa: E402
from deconfliction.domain.model import (  # noqa: E402
    AircraftStates,
    Conflicts,
    DetectionSettings,
    IntArray,
    SeparationMinima,
)
from deconfliction.units import S_PER_H, S_PER_MIN  # noqa: E402

T = TypeVar("T")

HORIZONTAL_NM: float = 5.0
VERTICAL_FT: float = 1000.0
LOOKAHEAD_S: float = 300.0
SEED: int = 20240501

GIB: int = 1 << 30
MIB: int = 1 << 20
MEMORY_BUDGET_BYTES: int = 16 * GIB
"""The machine has 24 GiB; nothing here may come near it. The numpy BlueSky child
runs only when its estimate is below this, and under an address-space limit of it."""
NUMPY_BYTES_PER_PAIR_PRIOR: float = 64 * 8.0
"""Before any measurement, assume 64 live n x n float64 matrices (StateBased.detect
holds about 30 at its peak): only used to decide whether the first, smallest
numpy run is safe."""
ESTIMATE_SAFETY: float = 1.25
BUSY_LOAD_PER_CORE: float = 0.25  # above this, warn that other work skews the times

MARGIN_SEARCH: float = 0.10
"""Disagreeing pairs are examined for a threshold change of up to +-10 %: a pair
that flips within that is a threshold case; one that does not is a real
disagreement."""
MARGIN_BISECTIONS: int = 24  # 0.1 / 2^24: resolves a margin to 6e-9 (relative)
MAX_EXAMINED_PAIRS: int = 200  # per comparison; each takes about 20 ms

OUT_DIR: Path = BENCH_DIR / "out"


@dataclass(frozen=True, slots=True)
class Plan:
    """Sizes and repeats of one benchmark run."""

    compare_n: tuple[int, ...]
    numpy_n: tuple[int, ...]
    process_n: int
    scaling_n: tuple[int, ...]
    profile_n: int
    repeats: int


FULL_PLAN = Plan(
    compare_n=(1_000, 5_000, 10_000, 20_000),
    numpy_n=(1_000, 5_000, 10_000),
    process_n=20_000,
    scaling_n=(10_000, 100_000),
    profile_n=10_000,
    repeats=3,
)
QUICK_PLAN = Plan(
    compare_n=(500, 2_000),
    numpy_n=(500, 2_000),
    process_n=2_000,
    scaling_n=(2_000, 10_000),
    profile_n=2_000,
    repeats=2,
)


# --------------------------------------------------------------------------- utils


def detection_settings(
    alert_levels: bool = False,
    horizontal_nm: float = HORIZONTAL_NM,
    vertical_ft: float = VERTICAL_FT,
    lookahead_s: float = LOOKAHEAD_S,
) -> DetectionSettings:
    """All-pairs settings; with ``alert_levels`` also the TCAS-like levels."""
    return DetectionSettings(
        minima=SeparationMinima(horizontal_nm, vertical_ft),
        lookahead_s=lookahead_s,
        alert_levels=default_alert_levels() if alert_levels else (),
        cross_party_only=False,
    )


def timed(fn: Callable[[], T], repeats: int) -> tuple[list[float], T]:
    """Wall times of ``repeats`` calls (seconds, at least one) and the last result."""
    times: list[float] = []
    while True:
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if len(times) >= repeats:
            return times, result


def timed_interleaved(
    fns: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, tuple[list[float], Any]]:
    """Like :func:`timed` for several functions, taking turns.

    One round runs each function once; a slow spell of a shared machine then
    slows every contender alike instead of one of them.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(max(1, repeats)):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (times[name], results[name]) for name in fns}


def machine_info() -> dict[str, Any]:
    """CPU, core count, memory and library versions of this machine."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) * 1024 / GIB, 1)
    except OSError:
        pass
    import numpy
    import pyproj
    import scipy

    try:
        from importlib.metadata import version

        bluesky_version = version("bluesky-simulator")
    except Exception:  # not installed: the comparison will say so
        bluesky_version = None
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "load_average_at_start": _load_average(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pyproj": pyproj.__version__,
        "bluesky": bluesky_version,
    }


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table, columns padded to line up in a terminal.

    >>> print(format_table(["n", "ms"], [[1000, 5.2]]))
    |    n |  ms |
    |-----:|----:|
    | 1000 | 5.2 |
    """
    cells = [
        [str(h) for h in headers],
        *[["" if c is None else str(c) for c in r] for r in rows],
    ]
    widths = [max(len(row[k]) for row in cells) for k in range(len(headers))]
    lines = [
        "| "
        + " | ".join(c.rjust(w) for c, w in zip(cells[0], widths, strict=True))
        + " |"
    ]
    lines.append("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    lines.extend(
        "| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells[1:]
    )
    return "\n".join(lines)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


def _rss_peak_bytes() -> int:
    """Peak resident set size of this process so far.

    Linux's VmHWM belongs to the process image and starts afresh at exec;
    ``ru_maxrss`` does not: a child inherits its parent's value across fork and
    exec, so a small child of a large benchmark process would report the parent's
    size. ``ru_maxrss`` (KiB on Linux) is only the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


# ---------------------------------------------------------------- pair agreement


def ours_pair_keys(conflicts: Conflicts, n: int) -> IntArray:
    """Each conflict as ``lo * n + hi`` (aircraft indices), sorted."""
    lo = np.minimum(conflicts.a_index, conflicts.b_index)
    hi = np.maximum(conflicts.a_index, conflicts.b_index)
    return np.sort(lo * n + hi)


@dataclass(frozen=True, slots=True)
class TheirPairs:
    """BlueSky's ordered pairs reduced to unordered pair keys.

    Attributes:
        keys: ``lo * n + hi``, sorted, each pair once.
        ordered: how many ordered pairs BlueSky reported (each conflict twice).
        one_way: ordered pairs whose reverse BlueSky did not report.
        dcpa_nm, tin_s: BlueSky's figures for each key (first report).
    """

    keys: IntArray
    ordered: int
    one_way: int
    dcpa_nm: np.ndarray
    tin_s: np.ndarray


def bluesky_pair_keys(run: _bluesky.BlueSkyRun, ids: np.ndarray) -> TheirPairs:
    """Map BlueSky's ``(id, id)`` pairs to keys over the indices of ``ids``."""
    n = len(ids)
    if not run.pairs:
        empty = np.empty(0, dtype=np.int64)
        return TheirPairs(empty, 0, 0, np.empty(0), np.empty(0))
    order = np.argsort(ids)
    sorted_ids = ids[order]
    named = np.asarray(run.pairs, dtype=np.str_)
    index = order[np.searchsorted(sorted_ids, named)].astype(np.int64)
    own, other = index[:, 0], index[:, 1]
    ordered_keys = own * n + other
    reverse_keys = other * n + own
    one_way = int(np.count_nonzero(~np.isin(reverse_keys, ordered_keys)))
    keys = np.minimum(own, other) * n + np.maximum(own, other)
    unique, first = np.unique(keys, return_index=True)
    return TheirPairs(
        keys=unique,
        ordered=len(run.pairs),
        one_way=one_way,
        dcpa_nm=run.dcpa_nm[first],
        tin_s=run.tin_s[first],
    )


@dataclass(frozen=True, slots=True)
class Agreement:
    """How two sets of pair keys compare."""

    ours: int
    theirs: int
    both: int
    only_ours: IntArray
    only_theirs: IntArray


def compare_pairs(ours_keys: IntArray, their_keys: IntArray) -> Agreement:
    """Pairs in both, only in ours and only in theirs.

    >>> a = compare_pairs(np.array([1, 2, 3]), np.array([2, 3, 4]))
    >>> a.both, a.only_ours.tolist(), a.only_theirs.tolist()
    (2, [1], [4])
    """
    ours_u = np.unique(ours_keys)
    theirs_u = np.unique(their_keys)
    return Agreement(
        ours=len(ours_u),
        theirs=len(theirs_u),
        both=len(np.intersect1d(ours_u, theirs_u, assume_unique=True)),
        only_ours=np.setdiff1d(ours_u, theirs_u, assume_unique=True),
        only_theirs=np.setdiff1d(theirs_u, ours_u, assume_unique=True),
    )


def _flags(states: AircraftStates, settings: DetectionSettings) -> bool:
    return len(detect_conflicts(states, settings)) > 0


def _scaled(
    settings: DetectionSettings, which: str, factor: float
) -> DetectionSettings:
    h = settings.minima.horizontal_nm * (factor if which == "horizontal" else 1.0)
    v = settings.minima.vertical_ft * (factor if which == "vertical" else 1.0)
    la = settings.lookahead_s * (factor if which == "lookahead" else 1.0)
    return detection_settings(False, h, v, la)


def threshold_margins(
    pair: AircraftStates, settings: DetectionSettings
) -> dict[str, float | None]:
    """For each threshold, the relative change (%) that flips our verdict on a pair.

    Our detection is monotone in each of the horizontal minimum, the vertical
    minimum and the lookahead, so each flip point is found by bisection within
    +-:data:`MARGIN_SEARCH`. A pair we flag flips when a threshold shrinks
    (negative margin); a pair we miss flips when one grows (positive). ``None``:
    no flip within the search range.

    >>> s = AircraftStates.from_columns(
    ...     ["A", "B"], [35.0, 35.0], [38.0, 38.5], [20000, 20000],
    ...     [400, 400], [90, 270], [0, 0])
    >>> m = threshold_margins(s, detection_settings(lookahead_s=85.0))
    >>> round(m["lookahead"], 2), m["horizontal"]  # loss begins at 88.4 s
    (4.01, None)
    >>> m = threshold_margins(s, detection_settings(lookahead_s=90.0))
    >>> round(m["lookahead"], 2), round(m["horizontal"], 2)
    (-1.77, -7.08)
    """
    flagged = _flags(pair, settings)
    out: dict[str, float | None] = {}
    for which in ("horizontal", "vertical", "lookahead"):
        # Find the factor where the verdict flips, between 'same' and 'flipped'.
        same = 1.0
        flipped = 1.0 - MARGIN_SEARCH if flagged else 1.0 + MARGIN_SEARCH
        if _flags(pair, _scaled(settings, which, flipped)) == flagged:
            out[which] = None
            continue
        for _ in range(MARGIN_BISECTIONS):
            mid = 0.5 * (same + flipped)
            if _flags(pair, _scaled(settings, which, mid)) == flagged:
                same = mid
            else:
                flipped = mid
        out[which] = round((flipped - 1.0) * 100.0, 6)
    return out


def geodesic_reference(
    pair: AircraftStates, settings: DetectionSettings, step_s: float = 0.05
) -> tuple[bool, float]:
    """A third opinion on a pair: both aircraft flying geodesics, sampled in time.

    Each aircraft follows the WGS-84 geodesic that starts on its track at its ground
    speed (a great-circle flight, the path a straight line in space projects to);
    altitudes change linearly. The pair conflicts when at some sampled time within
    the lookahead the geodesic distance is below the horizontal minimum and the
    altitude difference below the vertical one.

    Returns:
        (conflict, smallest geodesic distance in NM within the lookahead).
    """
    t_s = np.arange(0.0, settings.lookahead_s + step_s / 2, step_s)
    lat = []
    lon = []
    for k in range(2):
        la, lo = geodesy.destination(
            np.full_like(t_s, pair.lat_deg[k]),
            np.full_like(t_s, pair.lon_deg[k]),
            np.full_like(t_s, pair.trk_deg[k]),
            pair.gs_kt[k] * t_s / S_PER_H,
        )
        lat.append(la)
        lon.append(lo)
    dist_nm = geodesy.geodesic_distance_nm(lat[0], lon[0], lat[1], lon[1])
    alt_ft = pair.alt_ft[:, None] + pair.vs_fpm[:, None] * (t_s / S_PER_MIN)[None, :]
    dz_ft = np.abs(alt_ft[1] - alt_ft[0])
    lost = (dist_nm < settings.minima.horizontal_nm) & (
        dz_ft < settings.minima.vertical_ft
    )
    return bool(lost.any()), float(dist_nm.min())


def examine_disagreements(
    states: AircraftStates,
    settings: DetectionSettings,
    agreement: Agreement,
    theirs: TheirPairs | None = None,
    limit: int = MAX_EXAMINED_PAIRS,
) -> list[dict[str, Any]]:
    """Each pair found by one side only, with our figures and threshold margins.

    ``nearest`` names the threshold whose smallest change flips our verdict and
    ``margin_pct`` that change. Margins of a few percent are expected from
    BlueSky's flat-earth geometry at long range: a sphere of 6,371 km where the
    WGS-84 radii at 35 N are 6,357-6,385 km (0.2 % of the initial separation, up to
    0.2 NM at 80 NM), and one north for both aircraft (meridian convergence of
    about 0.6 deg per 50 NM east-west at 35 N). :func:`geodesic_reference` gives a
    third opinion on each pair.
    """
    n = len(states)
    # Minima large enough that any pair near a conflict is reported: its CPA figures
    # do not depend on the minima.
    generous = detection_settings(False, 100.0, 100_000.0, settings.lookahead_s)
    rows: list[dict[str, Any]] = []
    keys = [(int(k), "ours") for k in agreement.only_ours] + [
        (int(k), "bluesky") for k in agreement.only_theirs
    ]
    for key, side in keys[:limit]:
        i, j = divmod(key, n)
        pair = states.take(np.array([i, j]))
        cpa = detect_conflicts(pair, generous)
        margins = threshold_margins(pair, settings)
        geo_conflict, geo_dcpa_nm = geodesic_reference(pair, settings)
        finite = {k: v for k, v in margins.items() if v is not None}
        nearest = min(finite, key=lambda k: abs(finite[k])) if finite else None
        row: dict[str, Any] = {
            "a": str(states.ids[i]),
            "b": str(states.ids[j]),
            "only_in": side,
            "ours_tcpa_s": round(float(cpa.tcpa_s[0]), 2) if len(cpa) else None,
            "ours_dcpa_nm": round(float(cpa.dcpa_nm[0]), 4) if len(cpa) else None,
            "ours_dalt_ft_at_cpa": (
                round(float(cpa.dalt_ft_at_cpa[0]), 1) if len(cpa) else None
            ),
            "geodesic_conflict": geo_conflict,
            "geodesic_dcpa_nm": round(geo_dcpa_nm, 4),
            "margins_pct": margins,
            "nearest": nearest,
            "margin_pct": finite[nearest] if nearest else None,
        }
        if theirs is not None and side == "bluesky":
            at = int(np.searchsorted(theirs.keys, key))
            row["bluesky_dcpa_nm"] = round(float(theirs.dcpa_nm[at]), 4)
            row["bluesky_tin_s"] = round(float(theirs.tin_s[at]), 2)
        rows.append(row)
    return rows


def _agreement_summary(
    agreement: Agreement, examined: list[dict[str, Any]]
) -> dict[str, Any]:
    margins = [abs(r["margin_pct"]) for r in examined if r["margin_pct"] is not None]
    return {
        "ours": agreement.ours,
        "theirs": agreement.theirs,
        "both": agreement.both,
        "only_ours": len(agreement.only_ours),
        "only_theirs": len(agreement.only_theirs),
        "examined": len(examined),
        "not_threshold_cases": sum(r["margin_pct"] is None for r in examined),
        "max_abs_margin_pct": round(max(margins), 4) if margins else None,
        # Which side the geodesic-flight reference agrees with, among the examined.
        "geodesic_sides_with_ours": sum(
            r["geodesic_conflict"] == (r["only_in"] == "ours") for r in examined
        ),
        "disagreements": examined,
    }


# ------------------------------------------------------------ 1. against BlueSky


def numpy_estimate_bytes(n: int, calibration: dict[str, Any] | None) -> float:
    """Peak RSS the numpy BlueSky would need for ``n`` aircraft.

    From a measured run (``calibration``: its n, RSS before detection and peak) the
    growth is scaled by n^2; before any run, :data:`NUMPY_BYTES_PER_PAIR_PRIOR`.
    """
    if calibration is None:
        return 1.0 * GIB + NUMPY_BYTES_PER_PAIR_PRIOR * n * n
    per_pair = max(
        calibration["rss_peak_bytes"] - calibration["rss_before_bytes"], 0
    ) / (calibration["n"] ** 2)
    return (calibration["rss_before_bytes"] + per_pair * n * n) * ESTIMATE_SAFETY


def _child_command(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", *args]


def run_child(args: Sequence[str], timeout_s: float = 1800.0) -> dict[str, Any]:
    """Run this script in child mode in a fresh process; its JSON result.

    Raises:
        RuntimeError: if the child fails (its stderr tail is in the message).
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "child.json"
        proc = subprocess.run(
            [*_child_command(*args), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if proc.returncode != 0 or not out.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise RuntimeError(f"child {list(args)} failed ({proc.returncode}): {tail}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def _child_numpy_bluesky(n: int, seed: int, repeats: int) -> dict[str, Any]:
    # Backstop for a bad estimate: a MemoryError here, not the machine's OOM killer.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BUDGET_BYTES, MEMORY_BUDGET_BYTES))
    states = _states.uniform_states(n, seed)
    traffic = _stand_in(states)
    _bluesky.import_bluesky_quietly()
    before = _rss_peak_bytes()
    times, run = timed(
        lambda: _bluesky.detect_numpy(traffic, HORIZONTAL_NM, VERTICAL_FT, LOOKAHEAD_S),
        repeats,
    )
    theirs = bluesky_pair_keys(run, states.ids)
    return {
        "n": n,
        "times_s": times,
        "rss_before_bytes": before,
        "rss_peak_bytes": _rss_peak_bytes(),
        "keys": theirs.keys.tolist(),
        "ordered": theirs.ordered,
        "one_way": theirs.one_way,
    }


def _stand_in(states: AircraftStates) -> _bluesky.StandInTraffic:
    return _bluesky.stand_in_traffic(
        states.ids.tolist(),
        states.lat_deg,
        states.lon_deg,
        states.alt_ft,
        states.gs_kt,
        states.trk_deg,
        states.vs_fpm,
    )


def compare_with_bluesky(
    n: int,
    seed: int,
    repeats: int,
    numpy_mode: str,
    calibration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ours against BlueSky on one uniform snapshot of ``n`` aircraft.

    Args:
        n: aircraft.
        seed: of the snapshot.
        repeats: timed runs of each (the best counts).
        numpy_mode: ``"skip"``, ``"inline"`` (numpy BlueSky in this process; only for
            small n) or ``"child"`` (a fresh process under the memory guard).
        calibration: a previous numpy child result, for the memory estimate.

    Returns:
        Times (s), pair agreement with each BlueSky and the disagreeing pairs.
    """
    states = _states.uniform_states(n, seed)
    plain = detection_settings(alert_levels=False)
    levels = detection_settings(alert_levels=True)
    traffic = _stand_in(states)
    runs = timed_interleaved(
        {
            "ours": lambda: detect_conflicts(states, plain),
            "levels": lambda: detect_conflicts(states, levels),
            "compiled": lambda: _bluesky.detect_compiled(
                traffic, HORIZONTAL_NM, VERTICAL_FT, LOOKAHEAD_S
            ),
        },
        repeats,
    )
    ours_times, ours = runs["ours"]
    levels_times, _ = runs["levels"]
    c_times, c_run = runs["compiled"]
    ours_keys = ours_pair_keys(ours, n)
    c_pairs = bluesky_pair_keys(c_run, states.ids)
    c_agree = compare_pairs(ours_keys, c_pairs.keys)
    c_examined = examine_disagreements(states, plain, c_agree, c_pairs)

    result: dict[str, Any] = {
        "n": n,
        "seed": seed,
        "conflicts": len(ours),
        "ours_s": min(ours_times),
        "ours_times_s": ours_times,
        "ours_with_alert_levels_s": min(levels_times),
        "bluesky_compiled_s": min(c_times),
        "bluesky_compiled_times_s": c_times,
        "speedup_vs_compiled": min(c_times) / min(ours_times),
        "compiled": {
            **_agreement_summary(c_agree, c_examined),
            "ordered_pairs_reported": c_pairs.ordered,
            "one_way_pairs": c_pairs.one_way,
        },
        "numpy": None,
    }

    numpy_result: dict[str, Any] | None = None
    if numpy_mode == "inline":
        _bluesky.import_bluesky_quietly()
        before = _rss_peak_bytes()
        times, run = timed(
            lambda: _bluesky.detect_numpy(
                traffic, HORIZONTAL_NM, VERTICAL_FT, LOOKAHEAD_S
            ),
            repeats,
        )
        theirs = bluesky_pair_keys(run, states.ids)
        numpy_result = {
            "times_s": times,
            "rss_before_bytes": before,
            "rss_peak_bytes": _rss_peak_bytes(),
            "keys": theirs.keys.tolist(),
            "ordered": theirs.ordered,
            "one_way": theirs.one_way,
        }
    elif numpy_mode == "child":
        estimate = numpy_estimate_bytes(n, calibration)
        if estimate > MEMORY_BUDGET_BYTES:
            result["numpy"] = {
                "skipped": True,
                "estimate_gib": round(estimate / GIB, 1),
                "reason": f"estimated {estimate / GIB:.1f} GiB > budget "
                f"{MEMORY_BUDGET_BYTES / GIB:.0f} GiB",
            }
            return result
        try:
            numpy_result = run_child(
                [
                    "numpy-bluesky",
                    "--n",
                    str(n),
                    "--seed",
                    str(seed),
                    "--repeats",
                    str(repeats),
                ]
            )
        except RuntimeError as exc:
            result["numpy"] = {"skipped": True, "reason": str(exc)}
            return result
        numpy_result["estimate_gib"] = round(estimate / GIB, 2)
    if numpy_result is not None:
        keys = np.asarray(numpy_result.pop("keys"), dtype=np.int64)
        agree = compare_pairs(ours_keys, keys)
        examined = examine_disagreements(states, plain, agree)
        result["bluesky_numpy_s"] = min(numpy_result["times_s"])
        result["numpy"] = {
            "skipped": False,
            "n": n,
            **numpy_result,
            "rss_peak_gib": round(numpy_result["rss_peak_bytes"] / GIB, 2),
            **_agreement_summary(agree, examined),
            "same_pairs_as_compiled": bool(np.array_equal(keys, c_pairs.keys)),
        }
    return result


# -------------------------------------------------------- 2. whole process


_DETECT_ONLY = (
    "import typer; from deconfliction.cli import detect; "
    "app = typer.Typer(add_completion=False); detect.register(app); "
    "app.command('noop')(lambda: None); app()"
)


def deconfliction_command() -> tuple[list[str], str]:
    """How to start ``deconfliction``, and a note when not the console script.

    The console script of this interpreter's environment is used when
    ``deconfliction --help`` works. While the command set is being built it may
    not (a command module missing): then ``detect`` alone is registered on a fresh
    Typer app, which starts the same way minus the other commands' imports.

    Raises:
        FileNotFoundError: if the package is not installed at all.
    """
    script = Path(sys.executable).parent / "deconfliction"
    found = str(script) if script.exists() else shutil.which("deconfliction")
    if found is None:
        raise FileNotFoundError("the deconfliction command is not installed")
    probe = subprocess.run([found, "--help"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [found], ""
    return [sys.executable, "-c", _DETECT_ONLY], (
        "`deconfliction --help` failed; timed `detect` registered alone on a Typer app"
    )


def _process_commands(states_csv: Path, ours: list[str]) -> dict[str, list[str]]:
    minima = [
        "--horizontal-nm",
        f"{HORIZONTAL_NM:g}",
        "--vertical-ft",
        f"{VERTICAL_FT:g}",
        "--lookahead-s",
        f"{LOOKAHEAD_S:g}",
    ]
    return {
        # The floor: what any numpy program reading the file costs.
        "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "import numpy and read the file": [
            sys.executable,
            "-c",
            "import sys, numpy; open(sys.argv[1], 'rb').read()",
            str(states_csv),
        ],
        "ours": [
            *ours,
            "detect",
            str(states_csv),
            "--all-pairs",
            "--format",
            "csv",
            *minima,
        ],
        "bluesky": [
            sys.executable,
            str(BENCH_DIR / "_bluesky_process.py"),
            str(states_csv),
            *minima,
        ],
    }


def _pairs_from_csv(text: str) -> set[tuple[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    return {(row["a"], row["b"]) for row in reader}


def process_benchmark(n: int, seed: int, repeats: int) -> dict[str, Any]:
    """Wall time of each whole process on the same states CSV (start-up included).

    Each is run once more with its output kept, to check that both processes
    found the same pairs.

    Raises:
        RuntimeError: if a process fails.
    """
    states = _states.uniform_states(n, seed)
    result: dict[str, Any] = {"n": n, "seed": seed}
    with tempfile.TemporaryDirectory() as tmp:
        states_csv = Path(tmp) / f"states_{n}.csv"
        _states.write_states_csv(states, states_csv)
        ours, note = deconfliction_command()
        commands = _process_commands(states_csv, ours)
        result["commands"] = {
            k: " ".join([Path(v[0]).name, *v[1:]]).replace(
                str(states_csv), "STATES.csv"
            )
            + " > /dev/null"
            for k, v in commands.items()
        }
        if note:
            result["commands"]["ours"] = (
                f"{Path(ours[0]).name} -c DETECT_ONLY "
                + " ".join(commands["ours"][len(ours) :]).replace(
                    str(states_csv), "STATES.csv"
                )
                + " > /dev/null"
            )
        result["note"] = note
        outputs: dict[str, str] = {}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(max(1, repeats)):  # taking turns, as timed_interleaved
            for name, cmd in commands.items():
                start = time.perf_counter()
                proc = subprocess.run(
                    cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
                )
                times[name].append(time.perf_counter() - start)
                if proc.returncode != 0:
                    tail = proc.stderr.decode(errors="replace").strip()[-500:]
                    raise RuntimeError(f"{name} process failed: {tail}")
        floors = {"python -c 'import numpy'", "import numpy and read the file"}
        result["floor_s"] = {name: min(times[name]) for name in floors}
        result["load_average"] = list(os.getloadavg())
        for name, cmd in commands.items():
            if name in floors:
                continue
            kept = subprocess.run(cmd, capture_output=True, text=True, check=True)
            outputs[name] = kept.stdout
            result[f"{name}_s"] = min(times[name])
            result[f"{name}_times_s"] = times[name]
        result["ours_breakdown_s"] = process_breakdown(states_csv)
    ours_pairs = _pairs_from_csv(outputs["ours"])
    their_pairs = _pairs_from_csv(outputs["bluesky"])
    result["pairs_ours"] = len(ours_pairs)
    result["pairs_bluesky"] = len(their_pairs)
    result["pairs_only_ours"] = len(ours_pairs - their_pairs)
    result["pairs_only_bluesky"] = len(their_pairs - ours_pairs)
    result["speedup"] = result["bluesky_s"] / result["ours_s"]
    return result


def process_breakdown(states_csv: Path) -> dict[str, float]:
    """Where a cold ``deconfliction detect`` process spends its time.

    ``_process_breakdown.py`` repeats the command's steps with timers in a fresh
    process; what its wall time has beyond them is the interpreter's start-up and
    exit, measured on its own with ``python -c pass``.

    Raises:
        subprocess.CalledProcessError: if the process fails.
    """
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(BENCH_DIR / "_process_breakdown.py"), str(states_csv)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall_s = time.perf_counter() - start
    parts: dict[str, float] = json.loads(proc.stdout)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare_s = time.perf_counter() - start
    parts["python start-up and exit (python -c pass)"] = bare_s
    parts["rest (exit with the libraries loaded, JSON output)"] = wall_s - sum(
        parts.values()
    )
    parts["whole process"] = wall_s
    return parts


# ------------------------------------------------------------------ 3. scaling


def _child_scaling(n: int, seed: int, repeats: int) -> dict[str, Any]:
    states = _states.busy_states(n, seed)
    settings = detection_settings(alert_levels=True)
    before = _rss_peak_bytes()
    times, conflicts = timed(lambda: detect_conflicts(states, settings), repeats)
    return {
        "n": n,
        "side_nm": round(_states.busy_side_nm(n), 1),
        "lat_range_deg": [float(states.lat_deg.min()), float(states.lat_deg.max())],
        "conflicts": len(conflicts),
        "times_s": times,
        "rss_before_bytes": before,
        "rss_peak_bytes": _rss_peak_bytes(),
    }


def scaling_benchmark(n: int, seed: int, repeats: int) -> dict[str, Any]:
    """Busy-airspace density, one fresh process for ``n``: time and peak RSS."""
    result = run_child(
        ["scaling", "--n", str(n), "--seed", str(seed), "--repeats", str(repeats)]
    )
    result["best_s"] = min(result["times_s"])
    result["median_s"] = statistics.median(result["times_s"])
    result["rss_peak_mib"] = round(result["rss_peak_bytes"] / MIB, 1)
    result["rss_before_mib"] = round(result["rss_before_bytes"] / MIB, 1)
    return result


# ------------------------------------------------------------------ 4. profile


def profile_detect(
    states: AircraftStates, settings: DetectionSettings, repeats: int
) -> dict[str, Any]:
    """Time each stage of ``detect_conflicts`` (best of ``repeats``).

    The stages are re-run here with the module's private helpers in the same order
    as ``detect_conflicts``; ``matches_detect_conflicts`` says whether that copy
    still returns the same pairs (if not, ``detect.py`` changed: update this).
    The broadphase is then split by a cProfile run into the KD-tree work and the
    de-duplication of pairs found in several slices (``np.unique``).
    """
    from deconfliction.domain import broadphase
    from deconfliction.domain import detect as d
    from deconfliction.units import M_PER_FT, M_PER_NM

    stages = ("kinematics", "broadphase", "narrowphase", "alert_levels", "sort")
    best = dict.fromkeys(stages, math.inf)
    total = math.inf
    h_m = settings.minima.horizontal_nm * M_PER_NM
    v_m = settings.minima.vertical_ft * M_PER_FT
    counts: dict[str, int] = {}
    a_index = b_index = np.empty(0, dtype=np.int64)
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        kin = d._kinematics(states)
        t1 = time.perf_counter()
        cand = broadphase.candidate_pairs(
            kin.pos_m,
            kin.vel_mps,
            kin.alt_m,
            kin.vs_mps,
            h_m,
            v_m,
            settings.lookahead_s,
        )
        t2 = time.perf_counter()
        i, j = cand.i, cand.j
        if settings.cross_party_only:
            other = states.party[i] != states.party[j]
            i, j = i[other], j[other]
        geo = d._pair_geometry(kin, i, j)
        t_in, t_out = d._loss_interval(geo, h_m, v_m, settings.lookahead_s)
        hit = t_in <= t_out
        counts = {"candidates": len(i), "conflicts": int(np.count_nonzero(hit))}
        i, j, t_in, t_out = i[hit], j[hit], t_in[hit], t_out[hit]
        geo = d._PairGeometry(
            geo.dh_m[hit], geo.vh_mps[hit], geo.dz_m[hit], geo.vz_mps[hit]
        )
        a2 = np.einsum("ij,ij->i", geo.vh_mps, geo.vh_mps)
        b = np.einsum("ij,ij->i", geo.dh_m, geo.vh_mps)
        tcpa_s = np.where(a2 > d.MIN_CLOSURE_MPS2, -b / np.where(a2 > 0, a2, 1.0), 0.0)
        tcpa_s = np.clip(tcpa_s, 0.0, settings.lookahead_s)
        dcpa_nm = (
            np.linalg.norm(geo.dh_m + geo.vh_mps * tcpa_s[:, None], axis=1) / M_PER_NM
        )
        dalt_ft = np.abs(geo.dz_m + geo.vz_mps * tcpa_s) / M_PER_FT
        t3 = time.perf_counter()
        pair_alt_ft = np.maximum(states.alt_ft[i], states.alt_ft[j])
        level = d._alert_levels(geo, pair_alt_ft, settings.alert_levels)
        t4 = time.perf_counter()
        ids_i, ids_j = states.ids[i], states.ids[j]
        swap = ids_j < ids_i
        a_index = np.where(swap, j, i)
        b_index = np.where(swap, i, j)
        order = np.lexsort((states.ids[b_index], states.ids[a_index]))
        a_index, b_index = a_index[order], b_index[order]
        # detect_conflicts reorders every column: part of the cost of the sort.
        reordered = [c[order] for c in (tcpa_s, dcpa_nm, dalt_ft, t_in, t_out, level)]
        del reordered  # only timed
        t5 = time.perf_counter()
        for stage, dt in zip(
            stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True
        ):
            best[stage] = min(best[stage], dt)
    reference_times, reference = timed(
        lambda: detect_conflicts(states, settings), repeats
    )
    total = min(reference_times)
    matches = bool(
        np.array_equal(reference.a_index, a_index)
        and np.array_equal(reference.b_index, b_index)
    )

    profiler = cProfile.Profile()
    profiler.enable()
    broadphase.candidate_pairs(
        kin.pos_m, kin.vel_mps, kin.alt_m, kin.vs_mps, h_m, v_m, settings.lookahead_s
    )
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    bp_total = unique_s = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        if name == "candidate_pairs":
            bp_total = cumulative
        if name == "unique" and filename.endswith("_arraysetops_impl.py"):
            unique_s += cumulative
    dedupe_fraction = unique_s / bp_total if bp_total > 0 else None
    n_slices = max(1, math.ceil(settings.lookahead_s / broadphase.SLICE_S))
    return {
        "n": len(states),
        "stages_s": best,
        "stage_sum_s": sum(best.values()),
        "detect_conflicts_s": total,
        "matches_detect_conflicts": matches,
        "broadphase_slices": n_slices,
        "broadphase_dedupe_fraction": dedupe_fraction,
        **counts,
    }


# ---------------------------------------------------------------------- report


def compare_table(results: Sequence[dict[str, Any]]) -> str:
    """Times and speed-ups of the comparison with BlueSky."""
    rows = []
    for r in results:
        npy = r.get("numpy")
        if npy is None:
            numpy_cell = "-"
        elif npy.get("skipped"):
            numpy_cell = f"skipped ({npy.get('estimate_gib', '?')} GiB est.)"
        else:
            numpy_cell = f"{_ms(r['bluesky_numpy_s'])} ({npy['rss_peak_gib']} GiB)"
        rows.append(
            [
                f"{r['n']:,}",
                f"{r['conflicts']:,}",
                _ms(r["ours_s"]),
                _ms(r["ours_with_alert_levels_s"]),
                _ms(r["bluesky_compiled_s"]),
                numpy_cell,
                f"{r['speedup_vs_compiled']:.1f}x",
            ]
        )
    return format_table(
        [
            "N",
            "conflicts",
            "ours ms",
            "ours+levels ms",
            "BlueSky C ms",
            "BlueSky numpy ms (peak RSS)",
            "C / ours",
        ],
        rows,
    )


def agreement_table(results: Sequence[dict[str, Any]]) -> str:
    """Pair agreement with each BlueSky and the worst threshold margin."""
    rows = []
    for r in results:
        for name in ("compiled", "numpy"):
            a = r.get(name)
            if not a or a.get("skipped"):
                continue
            rows.append(
                [
                    f"{r['n']:,}",
                    name,
                    a["ours"],
                    a["theirs"],
                    a["both"],
                    a["only_ours"],
                    a["only_theirs"],
                    "-"
                    if a["max_abs_margin_pct"] is None
                    else f"{a['max_abs_margin_pct']:.3f} %",
                    a["not_threshold_cases"],
                    f"{a['geodesic_sides_with_ours']} / {a['examined']}",
                ]
            )
    return format_table(
        [
            "N",
            "BlueSky",
            "ours",
            "theirs",
            "both",
            "only ours",
            "only theirs",
            "max margin",
            "beyond 10 %",
            "geodesic sides with ours",
        ],
        rows,
    )


def disagreement_table(results: Sequence[dict[str, Any]], limit: int = 12) -> str:
    """A sample of disagreeing pairs (compiled BlueSky) and how near a threshold."""
    rows = []
    for r in results:
        for d in r["compiled"]["disagreements"][:limit]:
            m = d["margins_pct"]

            def cell(v: float | None) -> str:
                return "-" if v is None else f"{v:+.3f}"

            rows.append(
                [
                    f"{r['n']:,}",
                    f"{d['a']}-{d['b']}",
                    d["only_in"],
                    d["ours_dcpa_nm"],
                    d["ours_dalt_ft_at_cpa"],
                    d["ours_tcpa_s"],
                    d.get("bluesky_dcpa_nm", ""),
                    d.get("bluesky_tin_s", ""),
                    d["geodesic_dcpa_nm"],
                    "yes" if d["geodesic_conflict"] else "no",
                    cell(m["horizontal"]),
                    cell(m["vertical"]),
                    cell(m["lookahead"]),
                ]
            )
    return format_table(
        [
            "N",
            "pair",
            "only in",
            "our dcpa NM",
            "our dalt ft",
            "our tcpa s",
            "BS dcpa NM",
            "BS tin s",
            "geo dmin NM",
            "geo conflict",
            "flip h %",
            "flip v %",
            "flip t %",
        ],
        rows,
    )


def process_table(r: dict[str, Any]) -> str:
    """Whole-process wall times."""
    return (
        format_table(
            [
                "N",
                "conflicts (ours / BlueSky)",
                "deconfliction s",
                "BlueSky process s",
                "speed-up",
            ],
            [
                [
                    f"{r['n']:,}",
                    f"{r['pairs_ours']:,} / {r['pairs_bluesky']:,}",
                    f"{r['ours_s']:.2f}",
                    f"{r['bluesky_s']:.2f}",
                    f"{r['speedup']:.1f}x",
                ]
            ],
        )
        + "\n\n"
        + format_table(
            ["floor (same run, best)", "s"],
            [[name, f"{v:.2f}"] for name, v in r.get("floor_s", {}).items()],
        )
    )


def breakdown_table(r: dict[str, Any]) -> str:
    """In-process breakdown of the ``deconfliction detect`` process."""
    b = r["ours_breakdown_s"]
    return format_table(["part", "ms"], [[k, _ms(v)] for k, v in b.items()])


def scaling_table(results: Sequence[dict[str, Any]]) -> str:
    """Time and peak memory at busy-airspace density."""
    return format_table(
        [
            "N",
            "square side NM",
            "conflicts",
            "best s",
            "median s",
            "RSS before MiB",
            "peak RSS MiB",
        ],
        [
            [
                f"{r['n']:,}",
                r["side_nm"],
                f"{r['conflicts']:,}",
                f"{r['best_s']:.3f}",
                f"{r['median_s']:.3f}",
                r["rss_before_mib"],
                r["rss_peak_mib"],
            ]
            for r in results
        ],
    )


def profile_table(p: dict[str, Any]) -> str:
    """Stage times of ``detect_conflicts``."""
    total = p["stage_sum_s"]
    rows = [[k, _ms(v), f"{100.0 * v / total:.0f} %"] for k, v in p["stages_s"].items()]
    rows.append(["sum", _ms(total), "100 %"])
    rows.append(["detect_conflicts", _ms(p["detect_conflicts_s"]), ""])
    return format_table(["stage", "ms", "share"], rows)


# ------------------------------------------------------------------------ main


def run(plan: Plan, seed: int, out_path: Path, parts: set[str]) -> dict[str, Any]:
    """Run the chosen benchmarks, print their tables and write the JSON."""
    report: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {
            "horizontal_nm": HORIZONTAL_NM,
            "vertical_ft": VERTICAL_FT,
            "lookahead_s": LOOKAHEAD_S,
            "all_pairs": True,
            "seed": seed,
            "repeats": plan.repeats,
            "memory_budget_gib": MEMORY_BUDGET_BYTES / GIB,
        },
    }
    m = report["machine"]
    print(
        f"machine: {m['cpu']}, {m['nproc']} cores, {m['memory_gib']} GiB; "
        f"numpy {m['numpy']}, scipy {m['scipy']}, BlueSky {m['bluesky']}"
    )
    print(f"best of {plan.repeats} runs; minima 5 NM / 1,000 ft, lookahead 300 s")
    load = m["load_average_at_start"]
    if load is not None and load[0] > BUSY_LOAD_PER_CORE * (m["nproc"] or 1):
        print(
            f"warning: load average {load[0]:.2f} on {m['nproc']} cores: other work is "
            "running, figures will be slow and noisy"
        )
    print()

    if "compare" in parts:
        results = []
        calibration: dict[str, Any] | None = None
        for n in plan.compare_n:
            mode = "child" if n in plan.numpy_n else "skip"
            r = compare_with_bluesky(n, seed, plan.repeats, mode, calibration)
            npy = r.get("numpy")
            if npy and not npy.get("skipped"):
                calibration = npy
            results.append(r)
            print(f"  compared N={n:,}", file=sys.stderr)
        for n in plan.numpy_n:
            if n not in plan.compare_n:
                print(f"  numpy N={n:,} not in compare sizes: ignored", file=sys.stderr)
        report["compare"] = results
        print("## 1. Detection against BlueSky (uniform, 33-37.5 N 36-42.5 E)\n")
        print(compare_table(results), "\n")
        print(agreement_table(results), "\n")
        print(
            "Disagreeing pairs (compiled BlueSky; flip = % change of a threshold "
            "that flips our verdict):\n"
        )
        print(disagreement_table(results), "\n")

    if "process" in parts:
        p = process_benchmark(plan.process_n, seed, plan.repeats)
        report["process"] = p
        print("## 2. Whole process\n")
        for cmd in p["commands"].values():
            print(f"    {cmd}")
        if p["note"]:
            print(f"\nnote: {p['note']}")
        print()
        print(process_table(p), "\n")
        print("Where a cold deconfliction process spends its time:\n")
        print(breakdown_table(p), "\n")

    if "scaling" in parts:
        s = [scaling_benchmark(n, seed, plan.repeats) for n in plan.scaling_n]
        report["scaling"] = s
        print("## 3. Scaling at busy-airspace density (1 aircraft / 100 NM^2)\n")
        print(scaling_table(s), "\n")

    if "profile" in parts:
        states = _states.uniform_states(plan.profile_n, seed)
        prof = profile_detect(
            states, detection_settings(alert_levels=True), plan.repeats
        )
        report["profile"] = prof
        print(
            f"## 4. Profile of detect_conflicts, N={plan.profile_n:,} uniform, "
            f"alert levels on\n"
        )
        print(profile_table(prof), "\n")
        frac = prof["broadphase_dedupe_fraction"]
        print(
            f"candidates {prof['candidates']:,}, conflicts {prof['conflicts']:,}, "
            f"{prof['broadphase_slices']} slices; de-duplication is "
            f"{'?' if frac is None else f'{100 * frac:.0f} %'} of the broadphase; "
            f"stages match detect_conflicts: {prof['matches_detect_conflicts']}\n"
        )

    report["load_average_at_end"] = _load_average()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written {out_path}")
    return report


def _parse_sizes(text: str) -> tuple[int, ...]:
    return tuple(int(x.replace("_", "").replace(",", "")) for x in text.split("/") if x)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        description="Detection benchmarks (see bench/README.md)."
    )
    parser.add_argument(
        "--quick", action="store_true", help="small N, a fast sanity run"
    )
    parser.add_argument(
        "--only",
        default="compare,process,scaling,profile",
        help="comma-separated parts to run (compare, process, scaling, profile)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--repeats", type=int, help="timed runs of each (best counts)")
    parser.add_argument("--compare-n", help="sizes, '/'-separated, e.g. 1000/5000")
    parser.add_argument("--numpy-n", help="sizes for the numpy BlueSky, '/'-separated")
    parser.add_argument("--process-n", type=int)
    parser.add_argument("--scaling-n", help="sizes, '/'-separated")
    parser.add_argument("--profile-n", type=int)
    parser.add_argument("--out", type=Path, help="JSON result file")
    parser.add_argument(
        "--child",
        choices=["numpy-bluesky", "scaling"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        repeats = args.repeats or 1
        if args.child == "numpy-bluesky":
            result = _child_numpy_bluesky(args.n, args.seed, repeats)
        else:
            result = _child_scaling(args.n, args.seed, repeats)
        args.out.write_text(json.dumps(result), encoding="utf-8")
        return 0

    base = QUICK_PLAN if args.quick else FULL_PLAN
    plan = Plan(
        compare_n=_parse_sizes(args.compare_n) if args.compare_n else base.compare_n,
        numpy_n=_parse_sizes(args.numpy_n)
        if args.numpy_n is not None
        else base.numpy_n,
        process_n=args.process_n or base.process_n,
        scaling_n=_parse_sizes(args.scaling_n) if args.scaling_n else base.scaling_n,
        profile_n=args.profile_n or base.profile_n,
        repeats=args.repeats or base.repeats,
    )
    default_name = "bench_detect_quick.json" if args.quick else "bench_detect.json"
    out_path = args.out or OUT_DIR / default_name
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = parts - {"compare", "process", "scaling", "profile"}
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    run(plan, args.seed, out_path, parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
