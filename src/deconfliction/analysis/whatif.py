"""What-if: the same traffic replayed under several protocols, side by side.

Negotiators ask what a different agreement would have changed: a wider buffer, other
minima, zones instead of a line, another sharing level. :func:`replay` runs the
engine (:mod:`deconfliction.analysis.engine`) over recorded or simulated tracks as the
live server would have: detection at the protocol's interval with alerts kept by an
:class:`AlertTracker` (cleared after two intervals out of conflict, as on the
server), losses of separation, and conformance with ``detect_violations``.
:func:`compare` does it for each protocol and :func:`plot_whatif` draws the
comparison: conflict alerts by highest level, violations by party, and the closest
approaches predicted by the alerts.

:func:`run_options_whatif` is the demo's what-if of the three options the Pentagon
studied in 2015 (zones of responsibility, regular coordination, full partnership),
shipped as ``data/protocols/options-2015/``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deconfliction.analysis.engine import (
    ConflictRows,
    find_conflicts,
    find_violations,
    instant_range,
)
from deconfliction.analysis.tracks import TrackTable
from deconfliction.domain.alert_tracker import Alert, AlertEventKind, AlertTracker
from deconfliction.domain.conformance import Violation
from deconfliction.domain.model import AircraftStates, AlertLevel, Conflicts
from deconfliction.domain.protocol import Protocol

if TYPE_CHECKING:
    from deconfliction.scenario.traffic import Traffic

CLEAR_AFTER_INTERVALS: float = 2.0
"""As the live server: an alert survives one detection that misses its pair."""

OPTIONS_2015: tuple[str, ...] = ("zones", "coordination", "partnership")
"""The three options of 2015, in the order they were listed."""

CLOSEST_BIN_NM: float = 0.25  # histogram bins of predicted miss distances

ProgressCallback = Callable[[str, int, int], None]
"""``progress(label, done, total)``."""


@dataclass(frozen=True, slots=True)
class LossEpisode:
    """An actual loss of separation: consecutive instants with both minima breached.

    Attributes:
        a: first aircraft (``a < b``).
        b: second aircraft.
        party_a: party of ``a``.
        party_b: party of ``b``.
        start_t_s: first instant.
        end_t_s: last instant.
        min_horizontal_nm: smallest horizontal distance at an instant.
    """

    a: str
    b: str
    party_a: str
    party_b: str
    start_t_s: float
    end_t_s: float
    min_horizontal_nm: float


@dataclass(frozen=True, slots=True)
class ProtocolOutcome:
    """What one protocol would have produced on the traffic.

    Attributes:
        label: how the comparison names it (a file name or a shipped name).
        protocol: the protocol.
        instants: detection instants run.
        conflict_rows: conflicts at every instant.
        alerts: alert episodes, sorted by (first seen, id).
        losses: losses of separation, sorted by start.
        violations: conformance violations.
    """

    label: str
    protocol: Protocol
    instants: int
    conflict_rows: ConflictRows
    alerts: tuple[Alert, ...]
    losses: tuple[LossEpisode, ...]
    violations: tuple[Violation, ...]

    def conflicts_by_level(self) -> dict[str, int]:
        """Alert episodes counted once each, at the highest level they reached."""
        counts = {level.label: 0 for level in AlertLevel}
        for a in self.alerts:
            counts[a.max_level.label] += 1
        return counts

    def violations_by_party(self, parties: Sequence[str] = ()) -> dict[str, int]:
        """Violations per party at fault (every party in ``parties`` listed)."""
        counts = dict.fromkeys(parties, 0)
        for v in self.violations:
            counts[v.party] = counts.get(v.party, 0) + 1
        return counts

    def closest_nm(self) -> tuple[float, ...]:
        """The smallest predicted miss distance of each alert episode, sorted."""
        return tuple(sorted(a.min_dcpa_nm for a in self.alerts))

    def summary(self, parties: Sequence[str] = ()) -> dict[str, Any]:
        """The outcome as a JSON-ready mapping."""
        p = self.protocol
        closest = self.closest_nm()
        return {
            "label": self.label,
            "protocol": {"id": p.id, "version": p.version, "title": p.title},
            "sharing": p.sharing.value,
            "minima": {
                "horizontal_nm": p.minima.horizontal_nm,
                "vertical_ft": p.minima.vertical_ft,
                "lookahead_s": p.lookahead_s,
                "detection_interval_s": p.detection_interval_s,
            },
            "lines": [{"id": ln.id, "buffer_nm": ln.buffer_nm} for ln in p.lines],
            "zones": [{"id": z.id, "owner": z.owner} for z in p.zones],
            "instants": self.instants,
            "conflicts": self.conflicts_by_level(),
            "conflict_instants": len(self.conflict_rows),
            "losses_of_separation": len(self.losses),
            "closest_actual_in_loss_nm": (
                round(min(e.min_horizontal_nm for e in self.losses), 4)
                if self.losses
                else None
            ),
            "violations": self.violations_by_party(parties),
            "smallest_predicted_miss_nm": round(closest[0], 4) if closest else None,
            "median_predicted_miss_nm": (
                round(float(np.median(closest)), 4) if closest else None
            ),
        }


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Several protocols on the same traffic.

    Attributes:
        positions: number of positions replayed.
        parties: the parties in the traffic and the protocols, sorted.
        t_first_s: the first position's time.
        t_last_s: the last position's time.
        outcomes: one per protocol, in the order given.
    """

    positions: int
    parties: tuple[str, ...]
    t_first_s: float
    t_last_s: float
    outcomes: tuple[ProtocolOutcome, ...]

    def document(self) -> dict[str, Any]:
        """The comparison as a JSON-ready mapping."""
        from deconfliction.timetext import rfc3339

        return {
            "positions": self.positions,
            "start": rfc3339(self.t_first_s) if self.positions else None,
            "end": rfc3339(self.t_last_s) if self.positions else None,
            "parties": list(self.parties),
            "protocols": [o.summary(self.parties) for o in self.outcomes],
        }


def replay(
    table: TrackTable,
    protocol: Protocol,
    label: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> ProtocolOutcome:
    """Replay the traffic under one protocol.

    Args:
        table: the positions.
        protocol: the protocol.
        label: its name in the comparison (default: ``id vN``).
        progress: called as ``progress(done, total)`` in detection instants.

    Returns:
        Alerts, losses of separation and violations.

    Raises:
        PolarRegionError: if a position is too close to a pole.
        GeometryError: if a line or zone of the protocol cannot be built.
    """
    name = label or f"{protocol.id} v{protocol.version}"
    if len(table) == 0:
        return ProtocolOutcome(name, protocol, 0, ConflictRows.concat([]), (), (), ())
    interval_s = protocol.detection_interval_s
    k0, k1 = instant_range(
        float(table.t_s.min()),
        float(table.t_s.max()),
        interval_s,
        protocol.stale_after_s,
    )
    rows = find_conflicts(table, protocol, k0, k1, progress=progress)
    alerts = _alerts(rows, k0, k1, interval_s)
    losses = _losses(rows.losses(), interval_s)
    violations = tuple(find_violations(protocol, table))
    return ProtocolOutcome(name, protocol, k1 - k0, rows, alerts, losses, violations)


def alert_episodes(
    detections: Iterable[tuple[float, AircraftStates, Conflicts]],
    clear_after_s: float,
    end_t_s: float,
) -> tuple[Alert, ...]:
    """The replay loop: detections, in time order, through one :class:`AlertTracker`
    into alert episodes (the demo and the what-if both replay through it).

    Args:
        detections: ``(t_s, states, conflicts)`` of each detection the tracker is
            told of.
        clear_after_s: an alert clears after its pair is out of conflict this long.
        end_t_s: when the replay ends: the alerts still open are closed then.

    Returns:
        Every episode, by first time seen then id.
    """
    tracker = AlertTracker(clear_after_s=clear_after_s)
    episodes: list[Alert] = []
    for t_s, states, conflicts in detections:
        events = tracker.update(t_s, states, conflicts)
        episodes.extend(e.alert for e in events if e.kind is AlertEventKind.CLEARED)
    episodes.extend(e.alert for e in tracker.clear_all(end_t_s))
    episodes.sort(key=lambda a: (a.first_seen_t_s, a.id))
    return tuple(episodes)


def _alerts(
    rows: ConflictRows, k0: int, k1: int, interval_s: float
) -> tuple[Alert, ...]:
    """Alert episodes: the rows of each instant through :func:`alert_episodes`."""
    return alert_episodes(
        _detections(rows, k0, k1, interval_s),
        CLEAR_AFTER_INTERVALS * interval_s,
        (k1 - 1) * interval_s,
    )


def _detections(
    rows: ConflictRows, k0: int, k1: int, interval_s: float
) -> Iterator[tuple[float, AircraftStates, Conflicts]]:
    """The detections of the instants ``k0..k1`` rebuilt from the conflict rows."""
    nobody = AircraftStates.from_columns([], [], [], [], [], [], [], party=[])
    none = _conflicts(
        np.zeros(0, np.int64), np.zeros(0, np.int64), rows, np.zeros(0, np.int64)
    )
    instant = np.round(rows.t_s / interval_s).astype(np.int64)
    cuts = np.searchsorted(instant, np.arange(k0, k1 + 1))
    # Between two instants with conflicts only clearing can happen; the tracker need
    # only be told at the instants where an alert may clear.
    active_until = -1
    for k in range(k0, k1):
        lo, hi = int(cuts[k - k0]), int(cuts[k - k0 + 1])
        t_s = k * interval_s
        if lo == hi:
            if k > active_until:
                continue
            yield t_s, nobody, none
        else:
            states, a_index, b_index = _mini_states(rows, lo, hi)
            yield t_s, states, _conflicts(a_index, b_index, rows, np.arange(lo, hi))
            active_until = k + int(np.ceil(CLEAR_AFTER_INTERVALS)) + 1


def _mini_states(
    rows: ConflictRows, lo: int, hi: int
) -> tuple[AircraftStates, np.ndarray, np.ndarray]:
    ids = np.concatenate([rows.a[lo:hi], rows.b[lo:hi]])
    party = np.concatenate([rows.party_a[lo:hi], rows.party_b[lo:hi]])
    lat = np.concatenate([rows.a_lat_deg[lo:hi], rows.b_lat_deg[lo:hi]])
    lon = np.concatenate([rows.a_lon_deg[lo:hi], rows.b_lon_deg[lo:hi]])
    alt = np.concatenate([rows.a_alt_ft[lo:hi], rows.b_alt_ft[lo:hi]])
    unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    zeros = np.zeros(len(unique))
    states = AircraftStates(
        ids=unique,
        party=party[first],
        lat_deg=lat[first],
        lon_deg=lon[first],
        alt_ft=alt[first],
        gs_kt=zeros,
        trk_deg=zeros,
        vs_fpm=zeros,
    )
    m = hi - lo
    return states, inverse[:m].astype(np.int64), inverse[m:].astype(np.int64)


def _conflicts(
    a_index: np.ndarray, b_index: np.ndarray, rows: ConflictRows, sel: np.ndarray
) -> Conflicts:
    return Conflicts(
        a_index=a_index,
        b_index=b_index,
        tcpa_s=rows.tcpa_s[sel],
        dcpa_nm=rows.dcpa_nm[sel],
        dalt_ft_at_cpa=rows.dalt_ft_at_cpa[sel],
        tin_s=rows.tin_s[sel],
        tout_s=rows.tout_s[sel],
        level=rows.level[sel],
    )


def _losses(rows: ConflictRows, interval_s: float) -> tuple[LossEpisode, ...]:
    """Runs of consecutive instants per pair with separation lost."""
    if len(rows) == 0:
        return ()
    instant = np.round(rows.t_s / interval_s).astype(np.int64)
    pair = np.char.add(np.char.add(rows.a, "\x1f"), rows.b)
    order = np.lexsort((instant, pair))
    p, k = pair[order], instant[order]
    new = np.r_[True, (p[1:] != p[:-1]) | (k[1:] != k[:-1] + 1)]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(order)]
    dist = rows.horizontal_nm()[order]
    out = [
        LossEpisode(
            a=str(rows.a[order[s]]),
            b=str(rows.b[order[s]]),
            party_a=str(rows.party_a[order[s]]),
            party_b=str(rows.party_b[order[s]]),
            start_t_s=float(rows.t_s[order[s]]),
            end_t_s=float(rows.t_s[order[e - 1]]),
            min_horizontal_nm=float(dist[s:e].min()),
        )
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    out.sort(key=lambda e: (e.start_t_s, e.a, e.b))
    return tuple(out)


def compare(
    table: TrackTable,
    protocols: Sequence[tuple[str, Protocol]],
    progress: ProgressCallback | None = None,
) -> WhatIf:
    """Replay the same traffic under each protocol.

    Args:
        table: the positions.
        protocols: ``(label, protocol)`` pairs, in the order to show them.
        progress: called as ``progress(label, done, total)``.

    Returns:
        The comparison.

    Raises:
        PolarRegionError: if a position is too close to a pole.
        GeometryError: if a line or zone of a protocol cannot be built.
    """
    outcomes = []
    for label, protocol in protocols:

        def report(done: int, total: int, label: str = label) -> None:
            if progress is not None:
                progress(label, done, total)

        outcomes.append(replay(table, protocol, label, report))
    parties = sorted(
        {*table.parties(), *(p for _, pr in protocols for p in pr.parties)}
    )
    return WhatIf(
        positions=len(table),
        parties=tuple(parties),
        t_first_s=float(table.t_s.min()) if len(table) else 0.0,
        t_last_s=float(table.t_s.max()) if len(table) else 0.0,
        outcomes=tuple(outcomes),
    )


# --------------------------------------------------------------------------------------
# Output


def table_rows(whatif: WhatIf) -> list[tuple[str, list[str]]]:
    """The side-by-side table: ``(what, [one cell per protocol])``."""

    def cells(fn: Callable[[ProtocolOutcome], str]) -> list[str]:
        return [fn(o) for o in whatif.outcomes]

    def nm(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    docs = [o.summary(whatif.parties) for o in whatif.outcomes]
    rows: list[tuple[str, list[str]]] = [
        ("protocol", cells(lambda o: f"{o.protocol.id} v{o.protocol.version}")),
        ("sharing", cells(lambda o: o.protocol.sharing.value)),
        (
            "minima",
            cells(
                lambda o: (
                    f"{o.protocol.minima.horizontal_nm:g} NM, "
                    f"{o.protocol.minima.vertical_ft:g} ft, "
                    f"{o.protocol.lookahead_s:g} s"
                )
            ),
        ),
        (
            "lines (buffer)",
            cells(
                lambda o: (
                    ", ".join(
                        f"{ln.id} ±{ln.buffer_nm:g} NM" for ln in o.protocol.lines
                    )
                    or "-"
                )
            ),
        ),
        (
            "zones",
            cells(
                lambda o: (
                    ", ".join(f"{z.id} ({z.owner})" for z in o.protocol.zones) or "-"
                )
            ),
        ),
        ("detection instants", cells(lambda o: f"{o.instants}")),
    ]
    for level in AlertLevel:
        rows.append(
            (
                f"conflict alerts: {level.label}",
                [str(d["conflicts"][level.label]) for d in docs],
            )
        )
    rows.append(("conflict alerts: total", cells(lambda o: str(len(o.alerts)))))
    rows.append(("losses of separation", cells(lambda o: str(len(o.losses)))))
    for party in whatif.parties:
        rows.append(
            (f"violations: {party}", [str(d["violations"].get(party, 0)) for d in docs])
        )
    rows.append(("violations: total", cells(lambda o: str(len(o.violations)))))
    rows.append(
        (
            "smallest predicted miss (NM)",
            [nm(d["smallest_predicted_miss_nm"]) for d in docs],
        )
    )
    rows.append(
        (
            "median predicted miss (NM)",
            [nm(d["median_predicted_miss_nm"]) for d in docs],
        )
    )
    rows.append(
        (
            "closest actual, in a loss (NM)",
            [nm(d["closest_actual_in_loss_nm"]) for d in docs],
        )
    )
    return rows


def write_whatif_json(path: str | os.PathLike[str], whatif: WhatIf) -> None:
    """Write :meth:`WhatIf.document` as indented JSON.

    Raises:
        OSError: if the file cannot be written.
    """
    text = json.dumps(whatif.document(), indent=2, ensure_ascii=False, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


_LEVEL_COLOURS: dict[AlertLevel, str] = {
    AlertLevel.CONFLICT: "#f2c200",
    AlertLevel.ADVISORY: "#f07f00",
    AlertLevel.WARNING: "#e00000",
}
_PROTOCOL_COLOURS: tuple[str, ...] = (
    "#1f4e9c",
    "#c0272d",
    "#2a9d8f",
    "#8e44ad",
    "#e67e22",
    "#7f8c8d",
)


def plot_whatif(path: str | os.PathLike[str], whatif: WhatIf, title: str = "") -> None:
    """Draw the comparison as a PNG: conflict alerts by level, violations by party,
    and the smallest predicted miss of each alert.

    Raises:
        OSError: if the file cannot be written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    outcomes = whatif.outcomes
    labels = [o.label for o in outcomes]
    x = np.arange(len(outcomes), dtype=np.float64)
    fig = Figure(figsize=(15.0, 5.2), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)

    ax = axes[0]
    bottom = np.zeros(len(outcomes))
    for level in AlertLevel:
        counts = np.array(
            [o.conflicts_by_level()[level.label] for o in outcomes], float
        )
        ax.bar(
            x,
            counts,
            0.6,
            bottom=bottom,
            color=_LEVEL_COLOURS[level],
            label=level.label,
            edgecolor="black",
            linewidth=0.5,
        )
        bottom += counts
    ax.set_title("Conflict alerts by highest level")
    ax.set_ylabel("alerts")
    ax.legend(fontsize=8)

    ax = axes[1]
    parties = list(whatif.parties) or ["-"]
    width = 0.8 / max(len(parties), 1)
    from deconfliction.adapters.map_plot import party_colours

    colours = party_colours(parties)
    for n, party in enumerate(parties):
        party_counts = [o.violations_by_party(parties).get(party, 0) for o in outcomes]
        ax.bar(
            x - 0.4 + width * (n + 0.5),
            party_counts,
            width,
            color=colours[party],
            label=party,
            edgecolor="black",
            linewidth=0.5,
        )
    ax.set_title("Violations by party at fault")
    ax.set_ylabel("violations")
    ax.legend(fontsize=8)

    ax = axes[2]
    closest = [np.asarray(o.closest_nm(), dtype=np.float64) for o in outcomes]
    top_nm = max([float(c.max()) for c in closest if c.size] + [1.0])
    bins = np.arange(0.0, top_nm + CLOSEST_BIN_NM, CLOSEST_BIN_NM)
    for n, (o, c) in enumerate(zip(outcomes, closest, strict=True)):
        if c.size:
            ax.hist(
                c,
                bins=bins,
                histtype="step",
                linewidth=1.6,
                color=_PROTOCOL_COLOURS[n % len(_PROTOCOL_COLOURS)],
                label=f"{o.label} ({c.size})",
            )
    ax.set_title("Smallest predicted miss per alert")
    ax.set_xlabel("NM")
    ax.set_ylabel("alerts")
    if any(c.size for c in closest):
        ax.legend(fontsize=8)

    for ax in axes[:2]:
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=15, ha="right", fontsize=8)
    fig.suptitle(title or "What-if: the same traffic under each protocol", fontsize=12)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.95))
    fig.savefig(os.fspath(path), format="png")


# --------------------------------------------------------------------------------------
# The 2015 options


def options_2015() -> list[tuple[str, Protocol]]:
    """The three shipped option protocols of 2015, in order.

    Raises:
        ProtocolError: if a shipped file does not validate (a packaging fault).
    """
    from deconfliction.adapters.protocol_file import parse_protocol

    folder = resources.files("deconfliction.data").joinpath("protocols", "options-2015")
    out = []
    for name in OPTIONS_2015:
        text = folder.joinpath(f"{name}.toml").read_text(encoding="utf-8")
        out.append((name, parse_protocol(text, f"options-2015/{name}.toml")))
    return out


def run_options_whatif(
    traffic: Traffic | TrackTable,
    out_dir: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
) -> WhatIf:
    """The demo's what-if: the reference traffic under the three options of 2015.

    Writes ``whatif-options-2015.png`` and ``whatif-options-2015.json`` into
    ``out_dir`` (created if missing).

    Args:
        traffic: the simulated traffic of the demo (or any track table).
        out_dir: where to write.
        progress: called as ``progress(label, done, total)``.

    Returns:
        The comparison.

    Raises:
        OSError: if the files cannot be written.
    """
    table = (
        traffic if isinstance(traffic, TrackTable) else TrackTable.from_traffic(traffic)
    )
    whatif = compare(table, options_2015(), progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_whatif(
        out / "whatif-options-2015.png",
        whatif,
        title="The 2015 options on the reference traffic: zones of responsibility, "
        "coordination, partnership",
    )
    write_whatif_json(out / "whatif-options-2015.json", whatif)
    return whatif
