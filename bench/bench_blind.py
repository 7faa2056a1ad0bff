"""Blind detection benchmark: two parties with N aircraft each, on loopback.

Run from the repository root::

    .venv/bin/python bench/bench_blind.py                 # N = 10, 50, 100
    .venv/bin/python bench/bench_blind.py --sizes 50 --profile
    .venv/bin/python bench/bench_blind.py --sizes 50 --tls    # links over TLS

Each size starts the three participants as separate processes
(``python -m deconfliction.cli.blind run``) on 127.0.0.1, as deployed, and reports:

* wall time from the start of the processes to the end of the last one, and the
  phases' wall and CPU time in each participant (offline: the random bits of
  phase 1, made before the inputs are shared; phase 1: every slot pair; phase 2:
  the figures of the reported conflicts);
* the secure comparisons and their total bit length, the messages each participant
  sent (one per peer and communication step: the rounds) and the bytes;
* the CPU time of the three processes together, start-up included, and that over
  the cores (``cpu/2`` on 2 cores): the wall time of an otherwise idle machine,
  since the participants are CPU-bound; the load average before the run says how
  busy the machine was;
* agreement with ``detect_conflicts`` on the same aircraft (pairs found by one
  side only must sit on a threshold within the precision).

``--profile`` runs party 0 under cProfile and splits its CPU time into MPyC's
random bits, multiplications (reshares), the rest of the comparisons, openings,
and the rest. ``--tls`` makes each participant's key (``blind keys``), pins the
three certificates and runs the links over TLS; without it they are plain TCP
(``--insecure-loopback``). Results go to stdout and to ``bench/out/bench_blind.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import pstats
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deconfliction.blind.config import parse_blind_config  # noqa: E402
from deconfliction.blind.parameters import BlindPlan, make_plan  # noqa: E402
from deconfliction.domain import geodesy  # noqa: E402
from deconfliction.domain.detect import detect_conflicts  # noqa: E402
from deconfliction.domain.model import (  # noqa: E402
    AircraftStates,
    DetectionSettings,
    SeparationMinima,
)
from deconfliction.units import M_PER_NM  # noqa: E402

SEED: int = 2015
SIZES: tuple[int, ...] = (10, 50, 100)
THEATRE_NM: float = (
    120.0  # aircraft within this of the reference (Syria is ~250 NM wide)
)
RUN_TIMEOUT_S: float = 900.0
HEADER = "id,lat,lon,alt_ft,gs_kt,trk_deg,vs_fpm"
PARTIES = ("blue", "red")
CORES: int = min(3, os.cpu_count() or 1)
"""The three processes' CPU time over this is the wall time of an idle machine (a
lower bound: it assumes the cores never wait for messages)."""

# Where MPyC spends party 0's CPU, by function (cProfile "tottime"); first match wins.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "multiplications: fresh randomness of reshares",
        (
            "thresha.py:47",
            "thresha.py:60",
            "randbelow",
            "getrandbits",
            "urandom",
        ),
    ),
    (
        "random bits: PRSS and square roots",
        (
            "np_random_bits",
            "_sqrt",
            "finfields.py:1444",  # the square root of each element
            "_vectorize_call",
            "thresha.py:1",
            "thresha.py:2",
            "powmod",
            "digest",
            "from_bytes",
        ),
    ),
    ("field arithmetic on arrays", ("finfields.py", "fromiter", "numpy")),
    ("messages: pickling and sending", ("pickle", "asyncoro.py:54", "data_received")),
    ("rest of MPyC (comparisons, reshares)", ("mpyc/",)),
    ("waiting for messages", ("select", "poll", "run_once", "acquire")),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def traffic(n: int, plan: BlindPlan, seed: int = SEED) -> AircraftStates:
    """N aircraft per party over a theatre, with planted encounters.

    Flight levels every 1,000 ft from FL200 to FL350 (200 ft of noise), a quarter
    climbing or descending, 300 to 500 kt; one aircraft in ten of each party flies
    head-on at a random aircraft of the other at its level.
    """
    rng = np.random.default_rng(seed + n)
    total = 2 * n
    lat, lon = geodesy.destination(
        np.full(total, plan.reference_lat_deg),
        np.full(total, plan.reference_lon_deg),
        rng.uniform(0, 360, total),
        THEATRE_NM * np.sqrt(rng.uniform(0, 1, total)),
    )
    alt = rng.integers(20, 36, total) * 1000.0 + rng.uniform(-200, 200, total)
    gs = rng.uniform(300, 500, total)
    trk = rng.uniform(0, 360, total)
    vs = np.where(rng.uniform(0, 1, total) < 0.25, rng.uniform(-3000, 3000, total), 0.0)
    for k in range(max(1, n // 10)):  # blue k meets red k head-on in about 2 min
        dest_lat, dest_lon = geodesy.destination(lat[k], lon[k], trk[k], 16.0)
        lat[n + k], lon[n + k] = float(dest_lat), float(dest_lon)
        trk[n + k] = (trk[k] + 180.0) % 360.0
        alt[n + k], vs[n + k] = alt[k] + rng.uniform(-500, 500), 0.0
    return AircraftStates.from_columns(
        [f"B{k}" for k in range(n)] + [f"R{k}" for k in range(n)],
        lat,
        lon,
        alt,
        gs,
        trk,
        vs,
        party=[PARTIES[0]] * n + [PARTIES[1]] * n,
    )


def config_text(n: int) -> str:
    ports = [free_port() for _ in range(3)]
    return (
        "[blind]\nreference = [35.0, 39.0]\n"
        f"max_aircraft = {n}\nconnect_timeout_s = 60\nidle_timeout_s = 300\n\n"
        f'[peers]\n{PARTIES[0]} = "127.0.0.1:{ports[0]}"\n'
        f'{PARTIES[1]} = "127.0.0.1:{ports[1]}"\nhelper = "127.0.0.1:{ports[2]}"\n'
    )


def write_states(path: Path, states: AircraftStates) -> None:
    rows = [HEADER]
    for k in range(len(states)):
        values = (
            states.lat_deg[k],
            states.lon_deg[k],
            states.alt_ft[k],
            states.gs_kt[k],
            states.trk_deg[k],
            states.vs_fpm[k],
        )
        rows.append(",".join([str(states.ids[k]), *(repr(float(v)) for v in values)]))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@dataclass
class Outcome:
    n: int
    wall_s: float
    cpu_s: float
    load_before: float
    reports: dict[str, dict[str, Any]]
    audits: dict[str, dict[str, Any]]
    profile: dict[str, float] | None


def _pins(workdir: Path) -> str:
    """Keys for the three in ``workdir``; the ``[pins]`` table naming them."""
    from deconfliction.blind.tls import make_keys

    lines = [
        f'{name} = "{make_keys(name, workdir, ["127.0.0.1"])}"'
        for name in (*PARTIES, "helper")
    ]
    return "\n[pins]\n" + "\n".join(lines) + "\n"


def run_once(
    n: int, workdir: Path, profile: bool, tls: bool = False
) -> tuple[Outcome, AircraftStates, BlindPlan]:
    text = config_text(n) + (_pins(workdir) if tls else "")
    plan = make_plan(parse_blind_config(text), None)
    states = traffic(n, plan)
    config = workdir / "blind.toml"
    config.write_text(text, encoding="utf-8")
    processes = {}
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for name in (*PARTIES, "helper"):
        args = [sys.executable]
        if profile and name == PARTIES[0]:
            args += ["-m", "cProfile", "-o", str(workdir / "party0.prof")]
        args += [
            "-m",
            "deconfliction.cli.blind",
            "run",
            "--party",
            name,
            "--config",
            str(config),
            "--audit",
            str(workdir / f"{name}.audit.json"),
            *(["--tls-dir", str(workdir)] if tls else ["--insecure-loopback"]),
        ]
        if name != "helper":
            own = workdir / f"{name}.csv"
            write_states(own, states.take(states.party == name))
            args += ["--states", str(own)]
        processes[name] = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    reports = {}
    for name, process in processes.items():
        out, err = process.communicate(timeout=RUN_TIMEOUT_S)
        if process.returncode != 0:
            raise RuntimeError(f"{name} failed ({process.returncode}):\n{err}")
        reports[name] = json.loads(out)
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    audits = {
        name: json.loads((workdir / f"{name}.audit.json").read_text(encoding="utf-8"))
        for name in processes
    }
    split = _profile_split(workdir / "party0.prof") if profile else None
    return Outcome(n, wall_s, cpu_s, load, reports, audits, split), states, plan


def _profile_split(path: Path) -> dict[str, float]:
    stats = pstats.Stats(str(path))
    split = {name: 0.0 for name, _ in CATEGORIES}
    split["other"] = 0.0
    for (file, line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime = row[2]
        where = f"{file}:{line} {function}"
        for name, keys in CATEGORIES:
            if any(k in where for k in keys):
                split[name] += tottime
                break
        else:
            split["other"] += tottime
    return {k: round(v, 2) for k, v in split.items()}


def agreement(
    outcome: Outcome, states: AircraftStates, plan: BlindPlan
) -> dict[str, int]:
    matrix = np.array(outcome.audits[PARTIES[0]]["conflict_matrix"])
    slots = [outcome.audits[p]["own_slots"] for p in PARTIES]
    blind = {
        (slots[0][str(i)], slots[1][str(j)])
        for i, j in zip(*np.nonzero(matrix), strict=True)
    }

    def ordinary(widen: float) -> set[tuple[str, str]]:
        q_nm = plan.horizontal_quantum_m / M_PER_NM
        minima = SeparationMinima(
            plan.horizontal_nm + widen * (2 * math.sqrt(2) * q_nm + 0.01),
            plan.vertical_ft + widen * 2 * plan.vertical_quantum_ft,
        )
        found = detect_conflicts(states, DetectionSettings(minima, plan.lookahead_s))
        pairs = set()
        for i, j in zip(found.a_index, found.b_index, strict=True):
            a, b = str(states.ids[i]), str(states.ids[j])
            pairs.add((a, b) if states.party[i] == PARTIES[0] else (b, a))
        return pairs

    exact, wide, narrow = ordinary(0.0), ordinary(1.0), ordinary(-1.0)
    differ = blind ^ exact
    return {
        "blind": len(blind),
        "detect": len(exact),
        "differ": len(differ),
        "differ_off_threshold": sum(
            1 for p in differ if not (p in wide and p not in narrow)
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--profile", action="store_true", help="profile party 0")
    parser.add_argument("--tls", action="store_true", help="links over pinned TLS")
    parser.add_argument(
        "--out", type=Path, default=BENCH_DIR / "out" / "bench_blind.json"
    )
    args = parser.parse_args(argv)

    rows = []
    print(
        f"{'N':>4} {'pairs':>6} {'wall s':>7} {'cpu/2':>6} {'off wall':>8} "
        f"{'off cpu':>7} {'p1 wall':>8} "
        f"{'p1 cpu':>7} {'p2 wall':>8} {'p2 cpu':>7} {'cmp':>7} {'cmp bits':>9} "
        f"{'msgs':>6} {'MB':>6} {'load':>5} {'agree':>6}"
    )
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-blind-") as tmp:
            outcome, states, plan = run_once(n, Path(tmp), args.profile, args.tls)
        agree = agreement(outcome, states, plan)
        run = outcome.reports[PARTIES[0]]["run"]
        timings = run["timings_s"]
        cpu = {name: r["run"]["timings_s"] for name, r in outcome.reports.items()}
        row = {
            "n": n,
            "tls": args.tls,
            "slot_pairs": run["slot_pairs"],
            "wall_s": round(outcome.wall_s, 2),
            "cpu_all_processes_s": round(outcome.cpu_s, 2),
            "idle_wall_estimate_s": round(outcome.cpu_s / CORES, 2),
            "offline_s": timings.get("offline", 0.0),
            "offline_cpu_s": {k: v.get("offline_cpu", 0.0) for k, v in cpu.items()},
            "phase1_s": timings["phase1"],
            "phase1_cpu_s": {k: v["phase1_cpu"] for k, v in cpu.items()},
            "phase2_s": timings.get("phase2", 0.0),
            "phase2_cpu_s": {k: v.get("phase2_cpu", 0.0) for k, v in cpu.items()},
            "comparisons": run["comparisons"],
            "comparison_bits": run["comparison_bits"],
            "messages_sent": {
                k: r["run"]["messages_sent"] for k, r in outcome.reports.items()
            },
            "bytes_sent": {
                k: r["run"]["bytes_sent"] for k, r in outcome.reports.items()
            },
            "sent_per_phase": {
                name: {k: v for k, v in r["run"].items() if k.endswith("_sent")}
                for name, r in outcome.reports.items()
            },
            "load_average_before": round(outcome.load_before, 2),
            "agreement": agree,
            "profile_party0_s": outcome.profile,
        }
        rows.append(row)
        print(
            f"{n:>4} {row['slot_pairs']:>6} {row['wall_s']:>7.1f} "
            f"{row['idle_wall_estimate_s']:>6.1f} "
            f"{row['offline_s']:>8.1f} {timings.get('offline_cpu', 0.0):>7.1f} "
            f"{row['phase1_s']:>8.1f} {timings['phase1_cpu']:>7.1f} "
            f"{row['phase2_s']:>8.1f} {timings.get('phase2_cpu', 0.0):>7.1f} "
            f"{row['comparisons']:>7} {row['comparison_bits']:>9} "
            f"{run['messages_sent']:>6} {run['bytes_sent'] / 1e6:>6.1f} "
            f"{outcome.load_before:>5.1f} "
            f"{agree['blind']}/{agree['detect']}"
        )
        phases = [
            (phase, run.get(f"{phase}_messages_sent"), run.get(f"{phase}_bytes_sent"))
            for phase in ("offline", "phase1", "phase2")
        ]
        if any(m is not None for _, m, _ in phases):
            print(
                "       party 0, messages (2 per round) / MB sent: "
                + ", ".join(
                    f"{phase} {m} / {b / 1e6:.1f}"
                    for phase, m, b in phases
                    if m is not None
                )
            )
        if outcome.profile:
            total = sum(outcome.profile.values())
            for name, seconds in outcome.profile.items():
                share = 100 * seconds / total
                print(f"       {name:<36} {seconds:>7.2f} s  {share:>4.0f} %")
    document = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "seed": SEED,
        "theatre_nm": THEATRE_NM,
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
