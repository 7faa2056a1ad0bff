"""Conformance monitoring: aircraft positions against the protocol's lines and zones.

A position is *non-conforming* with a :class:`DeconflictionLine` when its party is
named in the line's ``sides`` and it is on the other side of the line, or on its own
side but inside the line's buffer (strictly closer to the line than ``buffer_nm``).
It is non-conforming with a :class:`Zone` when it is strictly inside the zone's
polygon and strictly between its floor and ceiling, and its party is not the owner.
Exactly at a boundary is conforming (``thresholds``: within 1 cm of the buffer's edge
or the outline, 0.01 ft of the floor or ceiling, counts as on it), as a planned
volume that touches a zone or a buffer does not conflict with it. A violation is one
continuous excursion of one aircraft across one boundary, never one per sample.

Geometry is done in metres in a :class:`LocalProjection` (azimuthal equidistant):
shapely never sees degrees, and a line or zone across the antimeridian projects
without a seam. The side of a point is the sign of the cross product with the
nearest segment of the line. A line divides the airspace only along its own extent:
a position whose nearest point on the line (carried on straight past its ends by
:data:`LINE_EXTENSION_M`) lies beyond an end is on no side, and only the buffer
applies there, as a round cap of ``buffer_nm`` around the end point. (An agreement
that means the line to go on should give it more points.) Beyond
its reach (:attr:`DeconflictionLine.effective_reach_nm`: the protocol's
``reach_nm``, by default the buffer plus 150 NM) a line's sides say nothing about a
position (exactly at the reach, within 1 cm, is within it).

Excursions, for each (aircraft, boundary), over the aircraft's samples in time order:

* an excursion starts at the first non-conforming sample (``entry_t_s``); times are
  sample times, never interpolated to the crossing;
* it ends once the aircraft has conformed for ``exit_debounce_s``, measured from its
  first conforming sample to a later conforming sample; a non-conforming sample
  before that continues the same excursion, so jitter across a boundary makes one
  violation. ``exit_t_s`` is the last non-conforming sample;
* a gap longer than ``max_gap_s`` between two samples of the aircraft ends an open
  excursion at its last non-conforming sample;
* an excursion still running at the end of the data is ``is_open``.

:func:`detect_violations` does this for a whole stream at once, vectorised over the
samples; :class:`ConformanceMonitor` does the same incrementally, carrying at most
three summary rows per open excursion from one chunk to the next, and gives the
same violations as the batch function on the same data, whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from deconfliction.domain import thresholds
from deconfliction.domain.boundaries import LINE_EXTENSION_M as LINE_EXTENSION_M
from deconfliction.domain.boundaries import REFINE_TOLERANCE_M as REFINE_TOLERANCE_M
from deconfliction.domain.boundaries import (
    SHARED_PROJECTION_RADIUS_M as SHARED_PROJECTION_RADIUS_M,
)
from deconfliction.domain.boundaries import PreparedConformance as PreparedConformance
from deconfliction.domain.boundaries import (
    _as_prepared,
    _line_may_breach,
    _PreparedLine,
    _PreparedZone,
)
from deconfliction.domain.boundaries import may_be_nonconforming as may_be_nonconforming
from deconfliction.domain.boundaries import (
    point_segment_distance_m as point_segment_distance_m,
)
from deconfliction.domain.geodesy import LocalProjection
from deconfliction.domain.model import FloatArray, IntArray, StrArray
from deconfliction.domain.positions import Columns, Positions
from deconfliction.domain.protocol import (
    LineSide,
    Protocol,
)
from deconfliction.errors import InputError, Problem
from deconfliction.units import M_PER_NM

BoolArray = npt.NDArray[np.bool_]

_SOURCE = "positions"


class ViolationKind(StrEnum):
    """What was violated: a deconfliction line or a zone of responsibility."""

    LINE = "line"
    ZONE = "zone"


class ViolationEventKind(StrEnum):
    """What happened to a violation in one :meth:`ConformanceMonitor.update`."""

    OPENED = "opened"
    UPDATED = "updated"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PositionStream(Columns):
    """Time-ordered aircraft positions, any number of aircraft (struct of arrays).

    Rows should be sorted by ``t_s`` (ties in any order); the batch function sorts
    by (aircraft, time) itself, the monitor needs each aircraft's samples to arrive
    in time order across updates.

    Attributes:
        ids: aircraft identifier of each sample.
        party: party of the aircraft.
        t_s: sample time, epoch seconds.
        lat_deg: WGS-84 latitude.
        lon_deg: WGS-84 longitude.
        alt_ft: altitude.

    Raises:
        InputError: if the arrays are not one-dimensional and of one length, or a
            time, position or altitude is not finite, or a latitude is outside
            [-90, 90].
    """

    ids: StrArray
    party: StrArray
    t_s: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        n = len(self.ids)
        for name in ("ids", "party", "t_s", "lat_deg", "lon_deg", "alt_ft"):
            arr = getattr(self, name)
            if np.ndim(arr) != 1:
                problems.append(
                    Problem(_SOURCE, None, name, f"must be 1-D, got {np.ndim(arr)}-D")
                )
            elif len(arr) != n:
                problems.append(
                    Problem(_SOURCE, None, name, f"has {len(arr)} rows, ids has {n}")
                )
        if problems:
            raise InputError(problems)
        for name in ("t_s", "lat_deg", "lon_deg", "alt_ft"):
            bad = np.flatnonzero(~np.isfinite(getattr(self, name)))
            if bad.size:
                problems.append(
                    Problem(
                        _SOURCE,
                        None,
                        name,
                        f"{bad.size} non-finite values (first at row {int(bad[0])})",
                    )
                )
        bad = np.flatnonzero(np.abs(self.lat_deg) > 90.0)
        if bad.size:
            problems.append(
                Problem(
                    _SOURCE,
                    None,
                    "lat_deg",
                    f"{bad.size} values outside [-90, 90] (first at row {int(bad[0])})",
                )
            )
        if problems:
            raise InputError(problems)

    @classmethod
    def of(cls, table: Positions) -> PositionStream:
        """The stream of a positions table's rows (sharing its arrays).

        Raises:
            InputError: as the constructor.
        """
        return cls(
            table.ids,
            table.party,
            table.t_s,
            table.lat_deg,
            table.lon_deg,
            table.alt_ft,
        )

    @classmethod
    def from_columns(
        cls,
        ids: Any,
        party: Any,
        t_s: Any,
        lat_deg: Any,
        lon_deg: Any,
        alt_ft: Any,
    ) -> PositionStream:
        """Build a stream from sequences, converting to the expected dtypes.

        >>> s = PositionStream.from_columns(["A"], ["red"], [0], [35.0], [38.0], [9e3])
        >>> len(s), s.t_s.dtype.name
        (1, 'float64')

        Raises:
            InputError: as the constructor.
        """
        return cls(
            ids=np.asarray(ids, dtype=np.str_),
            party=np.asarray(party, dtype=np.str_),
            t_s=np.asarray(t_s, dtype=np.float64),
            lat_deg=np.asarray(lat_deg, dtype=np.float64),
            lon_deg=np.asarray(lon_deg, dtype=np.float64),
            alt_ft=np.asarray(alt_ft, dtype=np.float64),
        )


@dataclass(frozen=True, slots=True)
class Violation:
    """One continuous excursion of one aircraft across one line or zone.

    Attributes:
        kind: line or zone.
        aircraft_id: the aircraft.
        party: its party (at the first non-conforming sample).
        boundary_id: the line's or the zone's id.
        entry_t_s: time of the first non-conforming sample.
        exit_t_s: time of the last non-conforming sample so far.
        duration_s: ``exit_t_s - entry_t_s``.
        deepest_t_s: time of the deepest sample (the earliest, on a tie).
        deepest_lat_deg: its latitude.
        deepest_lon_deg: its longitude.
        deepest_alt_ft: its altitude.
        max_depth_nm: how far into the forbidden area at the deepest sample, from
            its edge; the deepest sample is the one where this is greatest. Line:
            from the edge of the buffer on the aircraft's own side
            (:attr:`depth_from_buffer_edge_nm`: ``buffer_nm`` plus the distance
            across the line, or ``buffer_nm`` less the distance from the line inside
            the buffer on its own side). Zone: from the outline
            (:attr:`depth_inside_zone_nm`).
        samples: number of non-conforming samples in the excursion.
        is_open: still in progress at the end of the data.
        depth_across_line_nm: line: how far the deepest sample is across the line,
            on the side the party must not be on (0 when it was inside the buffer
            on its own side). None for a zone.
    """

    kind: ViolationKind
    aircraft_id: str
    party: str
    boundary_id: str
    entry_t_s: float
    exit_t_s: float
    duration_s: float
    deepest_t_s: float
    deepest_lat_deg: float
    deepest_lon_deg: float
    deepest_alt_ft: float
    max_depth_nm: float
    samples: int
    is_open: bool
    depth_across_line_nm: float | None = None

    @property
    def depth_from_buffer_edge_nm(self) -> float | None:
        """Line: how far the deepest sample is from the edge of the buffer on the
        aircraft's own side, into the forbidden area (``buffer_nm`` plus
        :attr:`depth_across_line_nm`, or less than ``buffer_nm`` on its own side).
        None for a zone."""
        return self.max_depth_nm if self.kind is ViolationKind.LINE else None

    @property
    def depth_inside_zone_nm(self) -> float | None:
        """Zone: how far inside the outline the deepest sample is. None for a line."""
        return self.max_depth_nm if self.kind is ViolationKind.ZONE else None


@dataclass(frozen=True, slots=True)
class ViolationEvent:
    """A change in a violation, as reported by :class:`ConformanceMonitor`.

    An excursion that starts and ends within one update gives an ``opened`` and a
    ``closed`` event, both carrying the final violation.

    Attributes:
        kind: opened, updated (deeper than at the previous update) or closed.
        t_s: when it happened: the entry sample (opened), the new deepest sample
            (updated), the sample that completed the exit debounce or the first
            sample after the gap (closed), or ``now_t_s`` for
            :meth:`ConformanceMonitor.close_stale`.
        violation: the violation as it stands after the update.
    """

    kind: ViolationEventKind
    t_s: float
    violation: Violation


# --------------------------------------------------------------------------------------
# Per-sample assessment (vectorised)


PRESCREEN_LINES: bool = True
"""Whether the exact line test first clears, with :func:`_line_may_breach`, the
positions clearly clear of a line (same results, several times faster on traffic
that keeps its distance). Tests turn it off to compare."""


@dataclass(frozen=True, slots=True)
class _Boundary:
    """Non-conformance of every sample with one boundary."""

    kind: ViolationKind
    boundary_id: str
    nc: BoolArray
    depth_nm: FloatArray
    buffer_nm: float | None = None  # a line's: depth across it is depth - buffer


class _Samples:
    """Samples sorted by (aircraft, time), with projections cached per call."""

    def __init__(self, positions: PositionStream) -> None:
        self.aircraft, key = np.unique(positions.ids, return_inverse=True)
        order = np.lexsort((positions.t_s, key))
        self.key: IntArray = key[order].astype(np.int64)
        self.positions = positions.take(order)
        self.parties, party_code = np.unique(self.positions.party, return_inverse=True)
        self.party_code: IntArray = party_code.astype(np.int64)
        self._xy: dict[LocalProjection, tuple[FloatArray, FloatArray]] = {}

    def __len__(self) -> int:
        return len(self.key)

    def xy_m(self, projection: LocalProjection) -> tuple[FloatArray, FloatArray]:
        if projection not in self._xy:
            p = self.positions
            self._xy[projection] = projection.to_xy_m(p.lat_deg, p.lon_deg)
        return self._xy[projection]

    def party_lookup(self, values: dict[str, int], default: int) -> IntArray:
        """Per sample, ``values[party]`` (``default`` for a party not in it)."""
        table = np.array(
            [values.get(str(p), default) for p in self.parties], dtype=np.int64
        )
        return table[self.party_code] if len(self) else np.zeros(0, dtype=np.int64)


def _assess_line(pl: _PreparedLine, samples: _Samples) -> _Boundary:
    n = len(samples)
    buffer_nm = pl.line.buffer_nm
    nc = np.zeros(n, dtype=np.bool_)
    depth_nm = np.zeros(n, dtype=np.float64)
    # +1: the party keeps to the left of the line (in point order); -1: right.
    keeps = {p: 1 if s == LineSide.LEFT else -1 for p, s in pl.line.sides.items()}
    required = samples.party_lookup(keeps, 0)
    rows = np.flatnonzero(required != 0)
    if rows.size == 0:
        return _Boundary(ViolationKind.LINE, pl.line.id, nc, depth_nm, buffer_nm)
    x_all, y_all = samples.xy_m(pl.projection)
    if PRESCREEN_LINES:
        # Positions clearly clear of the line keep nc False and depth 0, as the
        # exact geometry below would give them; it runs on the rest only.
        rows = rows[
            _line_may_breach(
                pl, x_all[rows], y_all[rows], required[rows].astype(np.float64)
            )
        ]
    if rows.size:
        x, y = x_all[rows], y_all[rows]
        points = np.asarray(shapely.points(x, y))
        along_m = shapely.line_locate_point(pl.extended, points)
        dist_m = shapely.distance(pl.extended, points)
        seg = np.clip(
            np.searchsorted(pl.seg_s0_m, along_m, side="right") - 1,
            0,
            pl.seg_s0_m.size - 1,
        )
        # Positive left of the nearest segment (x east, y north), negative right.
        cross = pl.seg_dx_m[seg] * (y - pl.seg_y0_m[seg]) - pl.seg_dy_m[seg] * (
            x - pl.seg_x0_m[seg]
        )
        in_reach = np.isfinite(dist_m) & (dist_m <= pl.reach_limit_m)
        alongside = (along_m >= pl.extent_start_m) & (along_m <= pl.extent_end_m)
        wrong_side = in_reach & alongside & (required[rows] * cross < 0.0)
        # Alongside, the distance to the line; past an end, to the end point.
        own_dist_m = shapely.distance(pl.original, points)
        in_buffer = own_dist_m < pl.buffer_limit_m
        nc[rows] = wrong_side | in_buffer
        depth_nm[rows] = np.where(
            wrong_side,
            (pl.buffer_m + dist_m) / M_PER_NM,
            np.where(in_buffer, (pl.buffer_m - own_dist_m) / M_PER_NM, 0.0),
        )
    return _Boundary(ViolationKind.LINE, pl.line.id, nc, depth_nm, buffer_nm)


def _assess_zone(pz: _PreparedZone, samples: _Samples) -> _Boundary:
    n = len(samples)
    nc = np.zeros(n, dtype=np.bool_)
    depth_nm = np.zeros(n, dtype=np.float64)
    alt_ft = samples.positions.alt_ft
    not_owner = samples.party_lookup({pz.zone.owner: 0}, 1).astype(np.bool_)
    subject = (
        not_owner
        & (alt_ft > pz.zone.floor_ft + thresholds.VERTICAL_TOLERANCE_FT)
        & (alt_ft < pz.zone.ceiling_ft - thresholds.VERTICAL_TOLERANCE_FT)
    )
    if not pz.zone.always_active:
        # In force from its start (included) until its end (excluded).
        t_s = samples.positions.t_s
        subject &= (t_s >= pz.zone.active_from_t_s) & (t_s < pz.zone.active_until_t_s)
    rows = np.flatnonzero(subject)
    if rows.size:
        x_all, y_all = samples.xy_m(pz.projection)
        # Strictly inside: on the outline (within the tolerance) is outside, as at
        # the floor or the ceiling.
        inside = rows[shapely.intersects_xy(pz.polygon, x_all[rows], y_all[rows])]
        points = shapely.points(x_all[inside], y_all[inside])
        to_edge_m = np.asarray(shapely.distance(pz.ring, points), dtype=np.float64)
        deep = to_edge_m > thresholds.HORIZONTAL_TOLERANCE_M
        inside = inside[deep]
        nc[inside] = True
        depth_nm[inside] = to_edge_m[deep] / M_PER_NM
    return _Boundary(ViolationKind.ZONE, pz.zone.id, nc, depth_nm)


def _assess(prepared: PreparedConformance, samples: _Samples) -> list[_Boundary]:
    return [_assess_line(pl, samples) for pl in prepared.lines] + [
        _assess_zone(pz, samples) for pz in prepared.zones
    ]


# --------------------------------------------------------------------------------------
# Runs of non-conformance (vectorised)


@dataclass(frozen=True, slots=True)
class _Runs:
    """Excursions found in rows sorted by (aircraft, time): row indices per run."""

    first: IntArray  # first non-conforming row
    last: IntArray  # last non-conforming row
    deepest: IntArray  # first row of greatest depth
    count: IntArray  # non-conforming samples
    is_open: BoolArray
    closed_at: IntArray  # row whose arrival closed the run (-1: open, or not asked)


def _find_runs(
    key: IntArray,
    t_s: FloatArray,
    starts: BoolArray,
    nc: BoolArray,
    depth_nm: FloatArray,
    weight: IntArray,
    debounce_s: float,
    *,
    with_closing_rows: bool,
) -> _Runs:
    """Group non-conforming rows into excursions.

    Args:
        key: aircraft of each row; rows of an aircraft are contiguous.
        t_s: sample times, sorted within each aircraft.
        starts: True where a row starts a new tracked segment: the first row of an
            aircraft, or a row after a gap longer than ``max_gap_s``.
        nc: non-conforming rows.
        depth_nm: depth of each row (read only where ``nc``).
        weight: how many samples each row stands for (the monitor's carried row
            stands for the whole excursion so far).
        debounce_s: how long the aircraft must conform to end an excursion.
        with_closing_rows: also find the row that closed each closed run (a search
            per closed run: the monitor needs it for its events, the batch does not).
    """
    idx = np.flatnonzero(nc)
    n = t_s.size
    if idx.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Runs(empty, empty, empty, empty, np.zeros(0, dtype=np.bool_), empty)
    seg = np.cumsum(starts) - 1
    seg_starts = np.flatnonzero(starts)
    seg_end = np.r_[seg_starts[1:] - 1, n - 1]  # last row of each segment
    p, q = idx[:-1], idx[1:]
    # Between consecutive non-conforming rows p < q every row conforms; the aircraft
    # conformed from row p + 1 at least until row q - 1.
    debounced = (q > p + 1) & (t_s[q - 1] - t_s[np.minimum(p + 1, q)] >= debounce_s)
    new = np.r_[True, (seg[p] != seg[q]) | debounced]
    run_starts = np.flatnonzero(new)
    first = idx[run_starts]
    last = idx[np.r_[run_starts[1:] - 1, idx.size - 1]]
    count = np.add.reduceat(weight[idx], run_starts)
    run_id = np.cumsum(new) - 1
    depth = depth_nm[idx]
    max_depth = np.maximum.reduceat(depth, run_starts)
    at_max = np.flatnonzero(depth == max_depth[run_id])
    _, first_at_max = np.unique(run_id[at_max], return_index=True)
    deepest = idx[at_max[first_at_max]]

    # After the last non-conforming row: the run closes at the first row that
    # completes the debounce within the segment, or else at the next segment's
    # first row; with neither it is still open.
    end = seg_end[seg[last]]
    after = np.minimum(last + 1, end)
    due_s = t_s[after] + debounce_s
    debounce_done = (end > last) & (t_s[end] >= due_s)
    closed_by_gap = ~debounce_done & (end + 1 < n)
    closed_by_gap[closed_by_gap] = (
        key[end[closed_by_gap] + 1] == key[last[closed_by_gap]]
    )
    closed_at = np.full(first.size, -1, dtype=np.int64)
    closed_at[closed_by_gap] = end[closed_by_gap] + 1
    if with_closing_rows:
        # Rows are sorted by time within a segment, so a sorted search finds the row.
        for k in np.flatnonzero(debounce_done):
            lo, hi = int(after[k]), int(end[k]) + 1
            closed_at[k] = lo + int(np.searchsorted(t_s[lo:hi], due_s[k], side="left"))
    is_open = ~debounce_done & ~closed_by_gap
    return _Runs(first, last, deepest, count, is_open, closed_at)


# --------------------------------------------------------------------------------------
# Rows: samples, plus (in the monitor) the rows carried over from earlier updates


@dataclass(frozen=True, slots=True)
class _Rows:
    """Rows sorted by (aircraft, time) for one boundary, ready for :func:`_find_runs`.

    ``entry_t_s``, ``deepest_*`` and ``weight`` let a carried row stand for the part
    of an excursion seen in earlier updates; for a sample they are its own values.
    """

    aircraft_id: StrArray
    key: IntArray
    party: StrArray
    t_s: FloatArray
    entry_t_s: FloatArray
    deepest_t_s: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    nc: BoolArray
    depth_nm: FloatArray
    weight: IntArray
    starts: BoolArray
    is_carried: BoolArray


def _segment_starts(
    key: IntArray, t_s: FloatArray, max_gap_s: float, is_carried: BoolArray
) -> BoolArray:
    # Carried rows are summaries: the time between them is not a gap in the track.
    new_aircraft: BoolArray = np.r_[True, key[1:] != key[:-1]]
    gap: BoolArray = np.r_[False, np.diff(t_s) > max_gap_s] & ~is_carried
    return new_aircraft | gap


def _runs_of(rows: _Rows, debounce_s: float, *, with_closing_rows: bool) -> _Runs:
    """:func:`_find_runs` over the rows of one boundary."""
    return _find_runs(
        rows.key,
        rows.t_s,
        rows.starts,
        rows.nc,
        rows.depth_nm,
        rows.weight,
        debounce_s,
        with_closing_rows=with_closing_rows,
    )


def _sample_rows(samples: _Samples, b: _Boundary, max_gap_s: float) -> _Rows:
    p = samples.positions
    n = len(samples)
    not_carried = np.zeros(n, dtype=np.bool_)
    return _Rows(
        aircraft_id=p.ids,
        key=samples.key,
        party=p.party,
        t_s=p.t_s,
        entry_t_s=p.t_s,
        deepest_t_s=p.t_s,
        lat_deg=p.lat_deg,
        lon_deg=p.lon_deg,
        alt_ft=p.alt_ft,
        nc=b.nc,
        depth_nm=b.depth_nm,
        weight=np.ones(n, dtype=np.int64),
        starts=_segment_starts(samples.key, p.t_s, max_gap_s, not_carried),
        is_carried=not_carried,
    )


def _violations(b: _Boundary, rows: _Rows, runs: _Runs) -> list[Violation]:
    entry = rows.entry_t_s[runs.first]
    exit_ = rows.t_s[runs.last]
    d = runs.deepest
    depth_nm = rows.depth_nm[d]
    # On the wrong side of a line the depth is its buffer plus the distance across.
    across: list[float | None] = (
        [None] * len(d)
        if b.buffer_nm is None
        else np.maximum(depth_nm - b.buffer_nm, 0.0).tolist()
    )
    columns = zip(
        rows.aircraft_id[runs.first].tolist(),
        rows.party[runs.first].tolist(),
        entry.tolist(),
        exit_.tolist(),
        (exit_ - entry).tolist(),
        rows.deepest_t_s[d].tolist(),
        rows.lat_deg[d].tolist(),
        rows.lon_deg[d].tolist(),
        rows.alt_ft[d].tolist(),
        depth_nm.tolist(),
        runs.count.tolist(),
        runs.is_open.tolist(),
        across,
        strict=True,
    )
    return [
        Violation(b.kind, aid, party, b.boundary_id, *rest)
        for aid, party, *rest in columns
    ]


def _violation_order(v: Violation) -> tuple[float, str, str, str]:
    return (v.entry_t_s, v.aircraft_id, v.boundary_id, v.kind.value)


def detect_violations(
    protocol: Protocol | PreparedConformance, positions: PositionStream
) -> list[Violation]:
    """Every excursion of every aircraft across the protocol's lines and zones.

    Args:
        protocol: the protocol, or its :class:`PreparedConformance` to skip the
            projection of its lines and zones on repeated calls.
        positions: the samples, in any order (they are sorted by aircraft and time).

    Returns:
        One violation per excursion, sorted by (entry time, aircraft, boundary);
        ``is_open`` for excursions still running at the end of the data.

    Raises:
        GeometryError: if a line or zone of the protocol cannot be built (see
            :meth:`PreparedConformance.from_protocol`).
    """
    prepared = _as_prepared(protocol)
    if len(positions) == 0:
        return []
    samples = _Samples(positions)
    rules = prepared.rules
    out: list[Violation] = []
    for b in _assess(prepared, samples):
        rows = _sample_rows(samples, b, rules.max_gap_s)
        runs = _runs_of(rows, rules.exit_debounce_s, with_closing_rows=False)
        out.extend(_violations(b, rows, runs))
    out.sort(key=_violation_order)
    return out


# --------------------------------------------------------------------------------------
# Incremental monitor


@dataclass(frozen=True, slots=True)
class _OpenExcursion:
    violation: Violation
    conform_since_t_s: float | None  # first conforming sample after the last breach


_EVENT_RANK = {
    ViolationEventKind.OPENED: 0,
    ViolationEventKind.UPDATED: 1,
    ViolationEventKind.CLOSED: 2,
}


def _event_order(e: ViolationEvent) -> tuple[float, float, int, str, str, str]:
    # At one instant a violation closed by a gap comes before the one it makes way
    # for (earlier entry), and one violation's events come in their natural order.
    v = e.violation
    return (
        e.t_s,
        v.entry_t_s,
        _EVENT_RANK[e.kind],
        v.aircraft_id,
        v.kind.value,
        v.boundary_id,
    )


class ConformanceMonitor:
    """Conformance monitoring over a live stream, one chunk of positions at a time.

    Fed the same samples in chunks of any size, it finds the same violations as
    :func:`detect_violations`: the closed ones in its ``closed`` events, the rest in
    :meth:`open_violations`. Only the open excursions and each aircraft's last
    sample time are kept between updates.

    >>> from deconfliction.domain.model import SeparationMinima
    >>> from deconfliction.domain.protocol import Protocol, SharingLevel, Zone
    >>> zone = Zone("z", "Z", "blue", (0, 0, 1, 1), (0, 1, 1, 0), 0.0, 5e4)
    >>> protocol = Protocol("p", 1, "P", SharingLevel.ZONES, {},
    ...                     SeparationMinima(5.0, 1e3), 60.0, (), zones=(zone,))
    >>> monitor = ConformanceMonitor(protocol)
    >>> chunk = PositionStream.from_columns(["R1"], ["red"], [0.0], [0.5], [0.5], [1e4])
    >>> [(e.kind.value, e.violation.boundary_id) for e in monitor.update(chunk)]
    [('opened', 'z')]
    >>> [e.kind.value for e in monitor.close_stale(1000.0)], monitor.open_violations()
    (['closed'], [])
    """

    def __init__(self, protocol: Protocol | PreparedConformance) -> None:
        """Prepare the protocol's geometry once for all updates.

        Raises:
            GeometryError: if a line or zone cannot be built.
        """
        self._prepared = _as_prepared(protocol)
        self._last_t_s: dict[str, float] = {}
        self._open: dict[tuple[str, int], _OpenExcursion] = {}

    def update(self, positions: PositionStream) -> list[ViolationEvent]:
        """Take the next chunk of positions.

        Args:
            positions: new samples; for each aircraft none older than its last
                sample in earlier updates.

        Returns:
            What changed, sorted by event time (then entry time): violations
            opened, grown deeper than at the previous update, or closed.

        Raises:
            InputError: if a sample of an aircraft is older than a sample of that
                aircraft already taken (the chunk is then not taken at all).
        """
        if len(positions) == 0:
            return []
        samples = _Samples(positions)
        p = samples.positions
        key = samples.key
        aircraft = [str(a) for a in samples.aircraft.tolist()]
        first_rows = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
        last_rows = np.r_[first_rows[1:] - 1, len(key) - 1]
        self._check_order(aircraft, p.t_s[first_rows])

        rules = self._prepared.rules
        events: list[ViolationEvent] = []
        index_of = {aid: k for k, aid in enumerate(aircraft)}
        for bi, b in enumerate(_assess(self._prepared, samples)):
            carried = [
                (index_of[aid], oe)
                for (aid, obi), oe in self._open.items()
                if obi == bi and aid in index_of
            ]
            rows = _sample_rows(samples, b, rules.max_gap_s)
            if carried:
                rows = self._with_carried(rows, carried, rules.max_gap_s)
            runs = _runs_of(rows, rules.exit_debounce_s, with_closing_rows=True)
            events.extend(self._advance(bi, b, rows, runs))
        for aid, t_last in zip(aircraft, p.t_s[last_rows].tolist(), strict=True):
            self._last_t_s[aid] = t_last
        events.sort(key=_event_order)
        return events

    def close_stale(self, now_t_s: float) -> list[ViolationEvent]:
        """Close the excursions of aircraft silent for more than ``max_gap_s``.

        Such aircraft are forgotten: their next sample starts afresh, as after a
        gap. ``now_t_s`` is taken as the present; a later sample older than it would
        not reopen what was closed here.

        Returns:
            One ``closed`` event per excursion closed, at ``now_t_s``.
        """
        max_gap_s = self._prepared.rules.max_gap_s
        silent = {a for a, t in self._last_t_s.items() if now_t_s - t > max_gap_s}
        events: list[ViolationEvent] = []
        for k in [k for k in self._open if k[0] in silent]:
            v = replace(self._open.pop(k).violation, is_open=False)
            events.append(ViolationEvent(ViolationEventKind.CLOSED, now_t_s, v))
        for a in silent:
            del self._last_t_s[a]
        events.sort(key=_event_order)
        return events

    def open_violations(self) -> list[Violation]:
        """The violations in progress, sorted by (entry time, aircraft, boundary)."""
        return sorted(
            (oe.violation for oe in self._open.values()), key=_violation_order
        )

    def _check_order(self, aircraft: list[str], first_t_s: FloatArray) -> None:
        problems = [
            Problem(
                _SOURCE,
                None,
                "t_s",
                f"aircraft {aid!r}: sample at {t:.3f} s is older than its last sample "
                f"already taken ({self._last_t_s[aid]:.3f} s)",
            )
            for aid, t in zip(aircraft, first_t_s.tolist(), strict=True)
            if aid in self._last_t_s and t < self._last_t_s[aid]
        ]
        if problems:
            raise InputError(problems)

    def _with_carried(
        self,
        rows: _Rows,
        carried: list[tuple[int, _OpenExcursion]],
        max_gap_s: float,
    ) -> _Rows:
        # Each open excursion continues from up to three rows: its last breach
        # (standing for the whole excursion so far), the first conforming sample
        # after it and the aircraft's last sample. That is all the run logic reads:
        # the debounce runs from the first conforming sample, and a gap is measured
        # from the last sample.
        cols: dict[str, list[Any]] = {
            name: []
            for name in (
                "aircraft_id", "key", "party", "t_s", "entry_t_s", "deepest_t_s",
                "lat_deg", "lon_deg", "alt_ft", "nc", "depth_nm", "weight", "rank",
            )
        }  # fmt: skip

        def add(k: int, v: Violation, t_s: float, rank: int, *, breach: bool) -> None:
            values = (
                v.aircraft_id, k, v.party, t_s, v.entry_t_s, v.deepest_t_s,
                v.deepest_lat_deg, v.deepest_lon_deg, v.deepest_alt_ft, breach,
                v.max_depth_nm, v.samples if breach else 0, rank,
            )  # fmt: skip
            for name, value in zip(cols, values, strict=True):
                cols[name].append(value)

        for k, oe in carried:
            v = oe.violation
            add(k, v, v.exit_t_s, -3, breach=True)
            if oe.conform_since_t_s is not None:
                add(k, v, oe.conform_since_t_s, -2, breach=False)
                add(k, v, self._last_t_s[v.aircraft_id], -1, breach=False)
        n_carried = len(cols["key"])
        key = np.r_[np.asarray(cols["key"], dtype=np.int64), rows.key]
        rank = np.r_[np.asarray(cols["rank"], dtype=np.int64), np.arange(len(rows.key))]
        order = np.lexsort((rank, key))

        def merged(name: str, dtype: Any) -> Any:
            both = np.r_[np.asarray(cols[name], dtype=dtype), getattr(rows, name)]
            return both[order]

        is_carried = np.r_[np.ones(n_carried, np.bool_), rows.is_carried][order]
        t_s = merged("t_s", np.float64)
        return _Rows(
            aircraft_id=merged("aircraft_id", np.str_),
            key=key[order],
            party=merged("party", np.str_),
            t_s=t_s,
            entry_t_s=merged("entry_t_s", np.float64),
            deepest_t_s=merged("deepest_t_s", np.float64),
            lat_deg=merged("lat_deg", np.float64),
            lon_deg=merged("lon_deg", np.float64),
            alt_ft=merged("alt_ft", np.float64),
            nc=merged("nc", np.bool_),
            depth_nm=merged("depth_nm", np.float64),
            weight=merged("weight", np.int64),
            starts=_segment_starts(key[order], t_s, max_gap_s, is_carried),
            is_carried=is_carried,
        )

    def _advance(
        self, bi: int, b: _Boundary, rows: _Rows, runs: _Runs
    ) -> list[ViolationEvent]:
        events: list[ViolationEvent] = []
        n = len(rows.key)
        violations = _violations(b, rows, runs)
        for k, v in enumerate(violations):
            slot = (v.aircraft_id, bi)
            first, last = int(runs.first[k]), int(runs.last[k])
            before = self._open.get(slot) if rows.is_carried[first] else None
            if before is None:
                events.append(ViolationEvent(ViolationEventKind.OPENED, v.entry_t_s, v))
            elif v.max_depth_nm > before.violation.max_depth_nm:
                events.append(
                    ViolationEvent(ViolationEventKind.UPDATED, v.deepest_t_s, v)
                )
            if v.is_open:
                follows = last + 1 < n and rows.key[last + 1] == rows.key[last]
                since = float(rows.t_s[last + 1]) if follows else None
                self._open[slot] = _OpenExcursion(v, since)
            else:
                self._open.pop(slot, None)
                closed_t_s = float(rows.t_s[runs.closed_at[k]])
                events.append(ViolationEvent(ViolationEventKind.CLOSED, closed_t_s, v))
        return events
