"""The reference demo: fly simulated traffic under a protocol and report what happened.

Steps, in order: simulate the traffic (:mod:`deconfliction.scenario.traffic`); every
detection interval, run tactical detection on the aircraft airborne at that instant
and feed the result to an :class:`AlertTracker`; at every step, track the closest
approach between aircraft of different parties within the vertical minimum; run
conformance monitoring over all positions at the end; summarise. The files are
written by :func:`write_demo_outputs`.

Progress is reported through a callback ``(stage, done, total)`` so that a shell can
show it however it likes; nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.adapters import result_files
from deconfliction.analysis.whatif import alert_episodes
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import (
    PositionStream,
    Violation,
    detect_violations,
)
from deconfliction.domain.detect import detect_conflicts
from deconfliction.domain.geodesy import ecef_surface_m, geodesic_distance_nm
from deconfliction.domain.model import AircraftStates, AlertLevel, Conflicts
from deconfliction.domain.protocol import DeconflictionLine, Protocol
from deconfliction.errors import Problem, ProtocolError
from deconfliction.scenario.traffic import (
    EUPHRATES_PLANS,
    REFERENCE_START_T_S,
    PartyPlan,
    Traffic,
    TrafficConfig,
    simulate_traffic,
)
from deconfliction.timetext import rfc3339
from deconfliction.units import S_PER_H

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages are :data:`STAGES`."""

STAGES: tuple[str, ...] = ("simulate", "detect", "conformance", "write")

_PROGRESS_EVERY_STEPS: int = 240  # 20 simulated minutes at 5 s: smooth, and cheap

OUTPUT_FILES: tuple[str, ...] = (
    "summary.json",
    "conflicts.csv",
    "conflicts.geojson",
    "violations.csv",
    "violations.geojson",
    "tracks.csv",
    "map.png",
)


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """What to run.

    Attributes:
        hours: length of the simulated window.
        seed: seed of the traffic.
        excursions_per_day: mean excursions across the line per 24 hours.
        encounters_per_day: mean deliberate close encounters per 24 hours.
        step_s: time between samples.
        start_t_s: start of the window (epoch seconds, UTC).
        alert_clear_after_s: an alert is cleared after its pair has been out of
            conflict this long.

    Raises:
        ValueError: on a non-positive ``hours`` or ``step_s``, or negative rates.
    """

    hours: float = 24.0
    seed: int = 2017
    excursions_per_day: float = 5.0
    encounters_per_day: float = 2.0
    step_s: float = 5.0
    start_t_s: float = REFERENCE_START_T_S
    alert_clear_after_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.hours > 0:
            raise ValueError(f"hours must be positive, got {self.hours}")
        if self.alert_clear_after_s < 0:
            raise ValueError("alert_clear_after_s must not be negative")

    def traffic_config(self) -> TrafficConfig:
        """The simulator's configuration for this run.

        Raises:
            ValueError: as :class:`TrafficConfig`.
        """
        return TrafficConfig(
            seed=self.seed,
            duration_s=self.hours * S_PER_H,
            start_t_s=self.start_t_s,
            step_s=self.step_s,
            excursions_per_day=self.excursions_per_day,
            encounters_per_day=self.encounters_per_day,
        )


@dataclass(frozen=True, slots=True)
class ClosestApproach:
    """The smallest horizontal distance seen between aircraft of different parties
    while they were within the vertical minimum (at a sampling instant).

    Attributes:
        horizontal_nm: geodesic distance between the two.
        vertical_ft: their altitude difference.
        t_s: when.
        a_id: one aircraft (the smaller id).
        b_id: the other.
        party_a: party of ``a_id``.
        party_b: party of ``b_id``.
        a_lat_deg: where ``a_id`` was.
        a_lon_deg: its longitude.
        b_lat_deg: where ``b_id`` was.
        b_lon_deg: its longitude.
    """

    horizontal_nm: float
    vertical_ft: float
    t_s: float
    a_id: str
    b_id: str
    party_a: str
    party_b: str
    a_lat_deg: float
    a_lon_deg: float
    b_lat_deg: float
    b_lon_deg: float


@dataclass(frozen=True, slots=True)
class DemoResult:
    """Everything a run produced.

    Attributes:
        config: what was run.
        protocol: under which protocol.
        traffic: the simulated traffic.
        alerts: conflict alert episodes, sorted by (first seen, id).
        violations: conformance violations, sorted by (entry, aircraft, boundary).
        closest_approach: see :class:`ClosestApproach`; None when no two aircraft of
            different parties were ever within the vertical minimum.
        detections: number of detection runs.
        timings_s: wall-clock seconds per stage.
    """

    config: DemoConfig
    protocol: Protocol
    traffic: Traffic
    alerts: tuple[Alert, ...]
    violations: tuple[Violation, ...]
    closest_approach: ClosestApproach | None
    detections: int
    timings_s: dict[str, float] = field(default_factory=dict)

    def smallest_predicted_miss_nm(self) -> float | None:
        """The smallest horizontal miss any alert predicted (its ``min_dcpa_nm``),
        rounded as in ``conflicts.csv``; None without alerts."""
        misses = [a.min_dcpa_nm for a in self.alerts]
        return round(min(misses), 4) if misses else None

    def sorties_by_party(self) -> dict[str, int]:
        """Sorties flown in the window, for every party of the protocol."""
        counts = dict.fromkeys(self.protocol.parties, 0)
        counts.update(self.traffic.sorties_by_party())
        return counts

    def conflicts_by_level(self) -> dict[str, int]:
        """Alert episodes counted once each, at the highest level they reached."""
        counts = {level.label: 0 for level in AlertLevel}
        for a in self.alerts:
            counts[a.max_level.label] += 1
        return counts

    def violations_by_party(self) -> dict[str, dict[str, Any]]:
        """Per party: total, by hour of day of entry (UTC, ``"00"``..``"23"``) and by
        boundary."""
        out: dict[str, dict[str, Any]] = {}
        for party in dict.fromkeys(
            [*self.protocol.parties, *(v.party for v in self.violations)]
        ):
            out[party] = {
                "total": 0,
                "by_hour": {f"{h:02d}": 0 for h in range(24)},
                "by_boundary": {},
            }
        for v in self.violations:
            entry = out[v.party]
            entry["total"] += 1
            hour = datetime.fromtimestamp(v.entry_t_s, tz=UTC).hour
            entry["by_hour"][f"{hour:02d}"] += 1
            entry["by_boundary"][v.boundary_id] = (
                entry["by_boundary"].get(v.boundary_id, 0) + 1
            )
        return out

    def summary_document(self) -> dict[str, Any]:
        """The content of ``summary.json`` (no timings: the same seed gives the same
        document)."""
        tr = self.traffic
        ca = self.closest_approach
        return {
            "scenario": "euphrates-2017 reference traffic (simulated)",
            "hours": self.config.hours,
            "seed": self.config.seed,
            "start": rfc3339(float(tr.step_t_s[0])),
            "end": rfc3339(float(tr.step_t_s[-1])),
            "step_s": self.config.step_s,
            "protocol": {
                "id": self.protocol.id,
                "version": self.protocol.version,
                "title": self.protocol.title,
            },
            "minima": {
                "horizontal_nm": self.protocol.minima.horizontal_nm,
                "vertical_ft": self.protocol.minima.vertical_ft,
                "lookahead_s": self.protocol.lookahead_s,
                "detection_interval_s": self.protocol.detection_interval_s,
            },
            "sorties": self.sorties_by_party(),
            "positions": len(tr),
            "detections": self.detections,
            "planned": {
                "excursions": [
                    {
                        "aircraft_id": e.aircraft_id,
                        "party": e.party,
                        "apex_time": rfc3339(round(e.apex_t_s)),
                        "depth_across_line_nm": round(e.depth_nm, 2),
                    }
                    for e in tr.excursions
                ],
                "encounters": [
                    {
                        "kind": e.kind,
                        "intruder_id": e.intruder_id,
                        "target_id": e.target_id,
                        "time": rfc3339(e.t_s),
                        "miss_nm": round(e.miss_nm, 3),
                        "dalt_ft": round(e.dalt_ft, 1),
                    }
                    for e in tr.encounters
                ],
            },
            "conflicts": self.conflicts_by_level(),
            "violations": self.violations_by_party(),
            # Three different figures, each named for what it is: the closest two
            # aircraft actually came (positions flown), and the smallest miss an
            # alert predicted (straight lines ahead); no "closest approach" alone.
            "closest_actual_nm": None if ca is None else round(ca.horizontal_nm, 4),
            "smallest_predicted_miss_nm": self.smallest_predicted_miss_nm(),
            "closest_actual": None
            if ca is None
            else {
                "a": ca.a_id,
                "b": ca.b_id,
                "party_a": ca.party_a,
                "party_b": ca.party_b,
                "time": rfc3339(ca.t_s),
                "horizontal_nm": round(ca.horizontal_nm, 4),
                "vertical_ft": round(ca.vertical_ft, 1),
                "a_lat_deg": round(ca.a_lat_deg, 6),
                "a_lon_deg": round(ca.a_lon_deg, 6),
                "b_lat_deg": round(ca.b_lat_deg, 6),
                "b_lon_deg": round(ca.b_lon_deg, 6),
            },
        }


def scenario_line(
    protocol: Protocol, plans: tuple[PartyPlan, ...] = EUPHRATES_PLANS
) -> DeconflictionLine:
    """The protocol's line the reference traffic flies along: the first that gives a
    side to every party of the scenario.

    Raises:
        ProtocolError: if no line of the protocol does.
    """
    needed = {p.party for p in plans}
    for line in protocol.lines:
        if needed <= set(line.sides):
            return line
    raise ProtocolError(
        [
            Problem(
                protocol.id,
                None,
                "lines",
                "the reference scenario needs a line with a side for each of "
                f"{', '.join(sorted(needed))}; this protocol has none",
            )
        ]
    )


def _noop(stage: str, done: int, total: int) -> None:
    return None


def run_demo(
    protocol: Protocol,
    config: DemoConfig,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    """Simulate, detect, track alerts, check conformance.

    Args:
        protocol: the protocol in force (the traffic flies along its line).
        config: the run.
        progress: called as the run advances.

    Returns:
        The result; write it with :func:`write_demo_outputs`.

    Raises:
        ProtocolError: if the protocol has no line for the reference scenario.
        ValueError: on an invalid configuration.
    """
    report = progress or _noop
    timings: dict[str, float] = {}
    line = scenario_line(protocol)

    report("simulate", 0, 1)
    started = time.perf_counter()
    traffic = simulate_traffic(line, config.traffic_config())
    timings["simulate"] = time.perf_counter() - started
    report("simulate", 1, 1)

    started = time.perf_counter()
    alerts, closest, detections = _detect(protocol, config, traffic, report)
    timings["detect"] = time.perf_counter() - started

    report("conformance", 0, 1)
    started = time.perf_counter()
    stream = PositionStream.of(traffic.positions())
    violations = tuple(detect_violations(protocol, stream))
    timings["conformance"] = time.perf_counter() - started
    report("conformance", 1, 1)

    return DemoResult(
        config=config,
        protocol=protocol,
        traffic=traffic,
        alerts=alerts,
        violations=violations,
        closest_approach=closest,
        detections=detections,
        timings_s=timings,
    )


def _detect(
    protocol: Protocol,
    config: DemoConfig,
    traffic: Traffic,
    report: ProgressCallback,
) -> tuple[tuple[Alert, ...], ClosestApproach | None, int]:
    """Detection and alert tracking at every detection interval; closest approach
    at every step."""
    found = _Found()
    episodes = alert_episodes(
        _detections(protocol, traffic, report, found),
        config.alert_clear_after_s,
        float(traffic.step_t_s[-1]),
    )
    return episodes, _closest(traffic, found.best), found.detections


@dataclass(slots=True)
class _Found:
    """What :func:`_detections` finds on the way (it grows as the replay runs)."""

    best: tuple[int, int] | None = None  # the closest pair so far, as sample rows
    detections: int = 0


def _detections(
    protocol: Protocol,
    traffic: Traffic,
    report: ProgressCallback,
    found: _Found,
) -> Iterator[tuple[float, AircraftStates, Conflicts]]:
    """Detection at every detection interval, for the alert tracker; on the way,
    the closest pair at every step and the number of detections into ``found``."""
    settings = protocol.detection_settings()
    vertical_ft = protocol.minima.vertical_ft
    # ECEF surface points once for all samples: a chord differs from the geodesic by
    # under 1 m at 100 km, and the closest pair is measured on the ellipsoid after.
    pos_m = ecef_surface_m(traffic.lat_deg, traffic.lon_deg)
    party_codes = np.unique(traffic.party, return_inverse=True)[1].astype(np.int64)
    best_d2_m2 = np.inf
    interval_s = protocol.detection_interval_s
    next_detection_t_s = -np.inf
    n_steps = traffic.n_steps
    report("detect", 0, n_steps)
    for k in range(n_steps):
        lo, hi = int(traffic.step_offsets[k]), int(traffic.step_offsets[k + 1])
        t_s = float(traffic.step_t_s[k])
        if hi - lo >= 2:
            p = pos_m[lo:hi]
            d2 = np.sum((p[:, None, :] - p[None, :, :]) ** 2, axis=-1)
            alt = traffic.alt_ft[lo:hi]
            codes = party_codes[lo:hi]
            eligible = (codes[:, None] != codes[None, :]) & (
                np.abs(alt[:, None] - alt[None, :]) < vertical_ft
            )
            if eligible.any():
                d2 = np.where(eligible, d2, np.inf)
                flat = int(np.argmin(d2))
                if d2.flat[flat] < best_d2_m2:
                    best_d2_m2 = float(d2.flat[flat])
                    i, j = divmod(flat, hi - lo)
                    found.best = (lo + i, lo + j)
        if t_s >= next_detection_t_s - 1e-6:
            next_detection_t_s = t_s + interval_s
            found.detections += 1
            states: AircraftStates = traffic.states_at(k)
            yield t_s, states, detect_conflicts(states, settings)
        if k % _PROGRESS_EVERY_STEPS == 0 or k == n_steps - 1:
            report("detect", k + 1, n_steps)


def _closest(traffic: Traffic, pair: tuple[int, int] | None) -> ClosestApproach | None:
    if pair is None:
        return None
    i, j = sorted(pair, key=lambda r: str(traffic.ids[r]))
    return ClosestApproach(
        horizontal_nm=float(
            geodesic_distance_nm(
                traffic.lat_deg[i],
                traffic.lon_deg[i],
                traffic.lat_deg[j],
                traffic.lon_deg[j],
            )
        ),
        vertical_ft=float(abs(traffic.alt_ft[i] - traffic.alt_ft[j])),
        t_s=float(traffic.t_s[i]),
        a_id=str(traffic.ids[i]),
        b_id=str(traffic.ids[j]),
        party_a=str(traffic.party[i]),
        party_b=str(traffic.party[j]),
        a_lat_deg=float(traffic.lat_deg[i]),
        a_lon_deg=float(traffic.lon_deg[i]),
        b_lat_deg=float(traffic.lat_deg[j]),
        b_lon_deg=float(traffic.lon_deg[j]),
    )


def write_demo_outputs(
    result: DemoResult,
    out_dir: str | Path,
    progress: ProgressCallback | None = None,
) -> dict[str, Path]:
    """Write the result files and the map into ``out_dir`` (created if missing).

    Returns:
        The path of each file of :data:`OUTPUT_FILES`, by name.

    Raises:
        OSError: if the directory or a file cannot be written.
    """
    from deconfliction.adapters.map_plot import Place, plot_map  # matplotlib: slow

    report = progress or _noop
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in OUTPUT_FILES}
    tr = result.traffic
    everything = tr.positions().states()
    total = len(OUTPUT_FILES)
    report("write", 0, total)
    result_files.write_summary_json(paths["summary.json"], result.summary_document())
    result_files.write_conflicts_csv(paths["conflicts.csv"], result.alerts)
    result_files.write_conflicts_geojson(paths["conflicts.geojson"], result.alerts)
    result_files.write_violations_csv(paths["violations.csv"], result.violations)
    result_files.write_violations_geojson(
        paths["violations.geojson"], result.violations
    )
    report("write", 5, total)
    result_files.write_tracks_csv(paths["tracks.csv"], tr.t_s, everything)
    report("write", 6, total)
    sorties = result.sorties_by_party()
    conflicts = result.conflicts_by_level()
    subtitle = (
        f"{rfc3339(float(tr.step_t_s[0]))} to {rfc3339(float(tr.step_t_s[-1]))}"
        f" · seed {result.config.seed} · "
        + ", ".join(f"{n} {p} sorties" for p, n in sorties.items())
        + f" · {len(result.violations)} violations · conflict alerts: "
        + ", ".join(f"{n} {lvl}" for lvl, n in conflicts.items())
    )
    plot_map(
        paths["map.png"],
        protocol=result.protocol,
        t_s=tr.t_s,
        tracks=everything,
        alerts=result.alerts,
        violations=result.violations,
        places=[
            Place(b.name, b.lat_deg, b.lon_deg)
            for plan in EUPHRATES_PLANS
            for b in plan.bases
        ],
        title=(
            f"{result.protocol.title}: {result.config.hours:g} h of simulated traffic"
        ),
        subtitle=subtitle,
    )
    report("write", total, total)
    return paths
